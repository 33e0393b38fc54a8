/**
 * Values of the `karpenter` Helm chart (oci://public.ecr.aws/karpenter/karpenter), as a typed
 * subset of the chart's values.yaml: every key set here exists in the chart at the pinned version.
 */
import { SYSTEM_PLACEMENT, type Toleration } from '../scheduling/system-nodes.js';
import { KARPENTER_SERVICE_ACCOUNT } from './names.js';

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface ResourceList {
  readonly cpu?: string;
  readonly memory?: string;
}

/** The chart values this platform sets (the chart's defaults hold for everything else). */
export interface KarpenterChartValues {
  readonly serviceAccount: { readonly create: boolean; readonly name: string };
  readonly replicas: number;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly controller: {
    /** Image tag = chart version; the published chart pins the image by digest for that tag. */
    readonly image: { readonly tag: string };
    readonly env: readonly EnvVar[];
    readonly resources: { readonly requests: ResourceList; readonly limits: ResourceList };
  };
  readonly logLevel: 'debug' | 'info' | 'error';
  readonly settings: {
    readonly clusterName: string;
    readonly clusterEndpoint?: string;
    readonly interruptionQueue: string;
    /** A string in the chart ("1"): ENIs Karpenter leaves out of max-pods (custom networking reserves the primary ENI). */
    readonly reservedENIs: string;
    readonly minValuesPolicy: 'Strict' | 'BestEffort';
  };
}

export interface KarpenterChartValuesProps {
  readonly clusterName: string;
  /** Kubernetes API endpoint; when set, Karpenter needs no DescribeCluster call at start-up. */
  readonly clusterEndpoint?: string;
  /** Name (not URL or ARN) of the interruption queue. */
  readonly interruptionQueueName: string;
  /**
   * Region of the cluster: the controller cannot discover it from IMDS, which the hop limit of 1
   * keeps out of pods' reach.
   */
  readonly region: string;
  /** Karpenter version (chart version = controller image tag). */
  readonly version: string;
  /**
   * VPC CNI custom networking: the primary ENI carries no pods, so Karpenter must not count it.
   * @default true
   */
  readonly customNetworking?: boolean;
  /**
   * Controller replicas (spread across zones and hosts by the chart's defaults).
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Controller requests and limits. Memory limit = request, so the controller is never OOM-killed
   * for a neighbour's burst on the small system nodes.
   * @default { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } }
   */
  readonly resources?: { readonly requests: ResourceList; readonly limits: ResourceList };
  /**
   * How `minValues` in NodePools is treated when fewer values fit (`BestEffort` relaxes it rather
   * than leaving pods pending, e.g. when a tenant narrows instance families).
   * @default 'BestEffort'
   */
  readonly minValuesPolicy?: 'Strict' | 'BestEffort';
  /** @default 'info' */
  readonly logLevel?: 'debug' | 'info' | 'error';
}

export function karpenterChartValues(props: KarpenterChartValuesProps): KarpenterChartValues {
  return {
    serviceAccount: { create: true, name: KARPENTER_SERVICE_ACCOUNT },
    replicas: props.replicas ?? 2,
    // Platform controllers run on the managed system node group, never on nodes they manage.
    nodeSelector: { 'kubernetes.io/os': 'linux', ...SYSTEM_PLACEMENT.nodeSelector },
    tolerations: [...SYSTEM_PLACEMENT.tolerations],
    controller: {
      image: { tag: props.version },
      env: [{ name: 'AWS_REGION', value: props.region }],
      resources: props.resources ?? { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
    },
    logLevel: props.logLevel ?? 'info',
    settings: {
      clusterName: props.clusterName,
      ...(props.clusterEndpoint !== undefined ? { clusterEndpoint: props.clusterEndpoint } : {}),
      interruptionQueue: props.interruptionQueueName,
      reservedENIs: (props.customNetworking ?? true) ? '1' : '0',
      minValuesPolicy: props.minValuesPolicy ?? 'BestEffort',
    },
  };
}
