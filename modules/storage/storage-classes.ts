/**
 * The cluster's default StorageClass: encrypted gp3 through the EBS CSI driver, bound when the
 * first pod is scheduled (`WaitForFirstConsumer`) so the volume is created in that pod's zone,
 * which matters for single-AZ Spark jobs and for zonal Karpenter nodes.
 */
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';

/** Name of the default StorageClass. */
export const DEFAULT_STORAGE_CLASS = 'gp3';

export interface Gp3StorageClassProps {
  /** @default 'gp3' */
  readonly name?: string;
  /**
   * KMS key (ARN) for the volumes.
   * @default the account's EBS default key (aws/ebs)
   */
  readonly kmsKeyId?: string;
  /**
   * Whether this is the cluster default (annotation `storageclass.kubernetes.io/is-default-class`).
   * @default true
   */
  readonly isDefault?: boolean;
  /**
   * Filesystem of new volumes.
   * @default 'ext4'
   */
  readonly fsType?: 'ext4' | 'xfs';
}

export function gp3StorageClass(props: Gp3StorageClassProps = {}): StorageClass {
  return new StorageClass({
    metadata: {
      name: props.name ?? DEFAULT_STORAGE_CLASS,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM },
      annotations: { 'storageclass.kubernetes.io/is-default-class': String(props.isDefault ?? true) },
    },
    provisioner: 'ebs.csi.aws.com',
    parameters: {
      type: 'gp3',
      encrypted: 'true',
      'csi.storage.k8s.io/fstype': props.fsType ?? 'ext4',
      ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
    },
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: true,
  });
}
