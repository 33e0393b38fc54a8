/**
 * Karpenter in the cluster: its namespace (Pod Security `restricted`), the `karpenter-crd` chart
 * and the `karpenter` chart, both pinned to one version.
 *
 * CRDs come from `karpenter-crd`, whose CRDs are ordinary templates, so `helm upgrade` (and so a
 * version bump here) updates them. The main chart is installed with `skip_crds`: Helm never
 * upgrades what sits in a chart's `crds/` folder, which would leave old CRDs behind a new
 * controller. Custom resources (NodePools, EC2NodeClasses) live in a later state that is planned
 * only once these CRDs exist.
 */
import { Construct } from 'constructs';
import { Release } from '@cdktf/provider-helm/lib/release/index.js';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { KubernetesObject } from '../k8s/manifest.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { type KarpenterChartValues } from './helm-values.js';
import { KARPENTER_CHART_REPOSITORY, KARPENTER_NAMESPACE } from './names.js';

export interface KarpenterReleaseProps {
  /** Chart version of both charts (exact, e.g. `1.14.1`). */
  readonly version: string;
  /** Values of the `karpenter` chart. */
  readonly values: KarpenterChartValues;
  /**
   * Namespace of both releases (created here).
   * @default 'karpenter'
   */
  readonly namespace?: string;
  /**
   * Chart repository.
   * @default 'oci://public.ecr.aws/karpenter'
   */
  readonly repository?: string;
  /**
   * Seconds Helm waits for the controller to become ready.
   * @default 600
   */
  readonly timeoutSeconds?: number;
}

export class KarpenterRelease extends Construct {
  readonly namespace: KubernetesObject;
  readonly crds: Release;
  readonly controller: Release;

  constructor(scope: Construct, id: string, props: KarpenterReleaseProps) {
    super(scope, id);
    if (!/^\d+\.\d+\.\d+$/.test(props.version)) throw new Error(`Karpenter chart version must be exact (x.y.z), found ${JSON.stringify(props.version)}`);
    const namespace = props.namespace ?? KARPENTER_NAMESPACE;
    const repository = props.repository ?? KARPENTER_CHART_REPOSITORY;
    const timeout = props.timeoutSeconds ?? 600;

    this.namespace = new KubernetesObject(this, 'namespace', {
      object: new Namespace({
        metadata: {
          name: namespace,
          labels: {
            [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM,
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      }),
    });

    this.crds = new Release(this, 'crds', {
      name: 'karpenter-crd',
      namespace,
      repository,
      chart: 'karpenter-crd',
      version: props.version,
      wait: true,
      timeout,
      cleanupOnFail: true,
      maxHistory: 10,
      dependsOn: [this.namespace.manifest],
    });

    this.controller = new Release(this, 'controller', {
      name: 'karpenter',
      namespace,
      repository,
      chart: 'karpenter',
      version: props.version,
      // CRDs are owned by the karpenter-crd release above; Helm never upgrades a chart's crds/ folder.
      skipCrds: true,
      values: [JSON.stringify(props.values)],
      wait: true,
      timeout,
      cleanupOnFail: true,
      maxHistory: 10,
      dependsOn: [this.crds],
    });
  }
}
