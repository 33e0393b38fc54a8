/**
 * Placement of a tenant's Spark pods, as EMR on EKS pod templates. One pure module: the tenant
 * stack writes its output to S3 and tests exercise it for every option combination; the Spark
 * configuration jobs run with is built in job-defaults.ts.
 *
 * | option                      | driver                                           | executors                                        |
 * |-----------------------------|--------------------------------------------------|--------------------------------------------------|
 * | always                      | driver taint toleration, `spark-role: driver`,   | executor taint toleration, `spark-role: executor`, |
 * |                             | high PriorityClass, `do-not-disrupt`             | low PriorityClass, 300 s termination grace       |
 * | driverCapacity              | `capacity-type` = on-demand / spot               | -                                                |
 * | executorCapacity            | -                                                | `capacity-type` = spot / on-demand (any: none)   |
 * | architecture arm64/amd64    | `kubernetes.io/arch` selector                    | same                                             |
 * | architecture any            | preferred arm64 node affinity                    | same                                             |
 * | zone set                    | `topology.kubernetes.io/zone` selector           | same                                             |
 * | zone unset                  | Karpenter picks                                  | required pod affinity to the driver's zone       |
 * | localStorage nvme           | -                                                | node class `spark-nvme` (RAID0 instance store)   |
 * | localStorage ebs            | -                                                | no node class selector; PVC local dirs (Spark conf) |
 * | dedicatedNodes              | tenant toleration + `tenant` selector            | same                                             |
 * | emr.verticalAutoscaling     | `dynamic.sizing` label + mode annotation         | -                                                |
 */
import { Pod } from 'kubernetes-models/v1/Pod';
import { stringify } from 'yaml';
import { validatedJson } from '../k8s/manifest.js';
import {
  NODE_CLASSES,
  PREFER_GRAVITON,
  PRIORITY_CLASSES,
  SPARK_ROLE_KEY,
  type SparkRole,
  sparkRoleToleration,
  TENANT_KEY,
  tenantToleration,
  WELL_KNOWN,
} from '../scheduling/spark-pools.js';

export type Architecture = 'arm64' | 'amd64' | 'any';
export type DriverCapacity = 'on-demand' | 'spot';
export type ExecutorCapacity = 'spot' | 'on-demand' | 'any';
export type LocalStorage = 'nvme' | 'ebs';

export interface PlacementOptions {
  readonly tenant: string;
  /** Pin every pod to this availability zone. @default executors follow their driver's zone */
  readonly zone?: string;
  readonly architecture: Architecture;
  readonly driverCapacity: DriverCapacity;
  readonly executorCapacity: ExecutorCapacity;
  readonly localStorage: LocalStorage;
  /** Place pods on the tenant's own NodePools. */
  readonly dedicatedNodes: boolean;
  /** EMR vertical autoscaling of executors. */
  readonly verticalAutoscaling: boolean;
}

/** Main container names EMR on EKS recognises in pod templates. */
export const SPARK_CONTAINERS: Readonly<Record<SparkRole, string>> = {
  driver: 'spark-kubernetes-driver',
  executor: 'spark-kubernetes-executor',
};

/** Labels Spark puts on its own pods. */
export const SPARK_POD_LABELS = {
  /** `driver` or `executor`. */
  role: 'spark-role',
  /** The application id, shared by the driver and its executors. */
  appSelector: 'spark-app-selector',
} as const;

/** EMR vertical autoscaling keys (label on the driver turns it on; the rest are annotations). */
export const VERTICAL_AUTOSCALING = {
  label: 'emr-containers.amazonaws.com/dynamic.sizing',
  signature: 'emr-containers.amazonaws.com/dynamic.sizing.signature',
  mode: 'emr-containers.amazonaws.com/dynamic.sizing.mode',
} as const;

/**
 * VPA mode of vertically autoscaled jobs: `Initial` sizes each new executor pod from the
 * recommendation and never evicts running pods (a Spark executor cannot be resized in place).
 */
export const VERTICAL_AUTOSCALING_MODE = 'Initial';

/** Volume mount paths EMR reserves for itself; pod templates may not mount there. */
export const EMR_RESERVED_MOUNT_PATHS = ['/mnt', '/tmp', '/home/hadoop', '/var/log/spark', '/var/log/fluentd'] as const;

/**
 * `terminationGracePeriodSeconds` of executor pods: how long a deleted executor has to
 * decommission (job-defaults.ts) before the kubelet kills it. Kubernetes' default, 30 s, is too
 * short to migrate shuffle blocks. 300 s covers the whole EC2 Spot interruption notice (2 minutes,
 * which Karpenter's interruption queue turns into an immediate drain) and leaves consolidation,
 * expiry and drift (which have no hard deadline) time for larger migrations. It stays far below
 * the executor pools' `terminationGracePeriod` (2h by default): Karpenter v1 deletes a pod at
 * "node timeout - pod terminationGracePeriodSeconds" (NodePool CRD, `terminationGracePeriod`), so
 * the node deadline never cuts the pod's grace short.
 */
export const EXECUTOR_TERMINATION_GRACE_SECONDS = 300;

interface Toleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

function tolerations(role: SparkRole, options: PlacementOptions): Toleration[] {
  return [{ ...sparkRoleToleration(role) }, ...(options.dedicatedNodes ? [{ ...tenantToleration(options.tenant) }] : [])];
}

/** Node labels the pods of one Spark role must have. */
export function nodeSelectorFor(role: SparkRole, options: PlacementOptions): Record<string, string> {
  const selector: Record<string, string> = { [SPARK_ROLE_KEY]: role };
  if (role === 'driver') selector[WELL_KNOWN.capacityType] = options.driverCapacity;
  else if (options.executorCapacity !== 'any') selector[WELL_KNOWN.capacityType] = options.executorCapacity;
  if (options.architecture !== 'any') selector[WELL_KNOWN.arch] = options.architecture;
  if (options.zone) selector[WELL_KNOWN.zone] = options.zone;
  if (role === 'executor' && options.localStorage === 'nvme') selector[WELL_KNOWN.nodeClass] = NODE_CLASSES.sparkNvme;
  if (options.dedicatedNodes) selector[TENANT_KEY] = options.tenant;
  return selector;
}

type Affinity = NonNullable<NonNullable<ConstructorParameters<typeof Pod>[0]>['spec']>['affinity'];

function affinityFor(role: SparkRole, options: PlacementOptions): Affinity | undefined {
  const affinity: NonNullable<Affinity> = {};
  if (options.architecture === 'any') {
    // Graviton first: Karpenter treats preferences as requirements until they cannot be met.
    affinity.nodeAffinity = {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: PREFER_GRAVITON.weight, preference: { matchExpressions: PREFER_GRAVITON.preference.matchExpressions.map((e) => ({ ...e, values: [...e.values] })) } },
      ],
    };
  }
  if (role === 'executor' && !options.zone) {
    // One AZ per job without pinning the tenant: each executor must run in the zone of its own
    // driver (same spark-app-selector value, through matchLabelKeys), so shuffle never crosses AZs.
    affinity.podAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { [SPARK_POD_LABELS.role]: 'driver' } },
          matchLabelKeys: [SPARK_POD_LABELS.appSelector],
          topologyKey: WELL_KNOWN.zone,
        },
      ],
    };
  }
  return Object.keys(affinity).length > 0 ? affinity : undefined;
}

function sparkPod(role: SparkRole, options: PlacementOptions): Pod {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  if (role === 'driver') {
    // A disrupted driver fails the whole job: Karpenter must not consolidate or expire its node.
    annotations[WELL_KNOWN.doNotDisrupt] = 'true';
    if (options.verticalAutoscaling) {
      labels[VERTICAL_AUTOSCALING.label] = 'true';
      annotations[VERTICAL_AUTOSCALING.mode] = VERTICAL_AUTOSCALING_MODE;
    }
  }
  const affinity = affinityFor(role, options);
  const metadata = {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  return new Pod({
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    spec: {
      priorityClassName: role === 'driver' ? PRIORITY_CLASSES.sparkDriver : PRIORITY_CLASSES.sparkExecutor,
      ...(role === 'executor' ? { terminationGracePeriodSeconds: EXECUTOR_TERMINATION_GRACE_SECONDS } : {}),
      nodeSelector: nodeSelectorFor(role, options),
      tolerations: tolerations(role, options),
      ...(affinity ? { affinity } : {}),
      containers: [{ name: SPARK_CONTAINERS[role] }],
    },
  });
}

export function driverPodTemplate(options: PlacementOptions): Pod {
  return sparkPod('driver', options);
}

export function executorPodTemplate(options: PlacementOptions): Pod {
  return sparkPod('executor', options);
}

/** What EMR on EKS would reject in a pod template (empty when the template is acceptable). */
export function emrPodTemplateViolations(pod: Record<string, unknown>, role: SparkRole): string[] {
  const problems: string[] = [];
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  for (const field of ['securityContext', 'serviceAccountName', 'serviceAccount', 'hostNetwork', 'hostPID', 'hostIPC', 'nodeName']) {
    if (spec[field] !== undefined) problems.push(`spec.${field} is not allowed in EMR pod templates`);
  }
  const volumes = (spec.volumes ?? []) as Record<string, unknown>[];
  volumes.forEach((volume, i) => {
    if (volume.hostPath !== undefined) problems.push(`spec.volumes[${i}] is a hostPath volume (the namespace enforces the baseline Pod Security Standard)`);
  });
  const containers = (spec.containers ?? []) as Record<string, unknown>[];
  if (containers[0]?.name !== SPARK_CONTAINERS[role]) {
    problems.push(`spec.containers[0].name must be ${SPARK_CONTAINERS[role]} (the ${role} container EMR fills in)`);
  }
  const all = [...containers.map((c, i) => [`containers[${i}]`, c] as const), ...((spec.initContainers ?? []) as Record<string, unknown>[]).map((c, i) => [`initContainers[${i}]`, c] as const)];
  for (const [path, container] of all) {
    if (container.securityContext !== undefined) problems.push(`spec.${path}.securityContext is not allowed in EMR pod templates`);
    if (container.name === SPARK_CONTAINERS[role]) {
      for (const field of ['command', 'args']) {
        if (container[field] !== undefined) problems.push(`spec.${path}.${field} is set by EMR and not allowed in pod templates`);
      }
    }
    for (const [j, mount] of ((container.volumeMounts ?? []) as Record<string, unknown>[]).entries()) {
      const mountPath = String(mount.mountPath ?? '').replace(/\/+$/, '') || '/';
      const reserved = EMR_RESERVED_MOUNT_PATHS.find((p) => mountPath === p || mountPath.startsWith(`${p}/`));
      if (reserved) problems.push(`spec.${path}.volumeMounts[${j}].mountPath ${mountPath} is under ${reserved}, which EMR reserves`);
    }
  }
  return problems;
}

/** Thrown when a generated pod template breaks the Kubernetes schema or EMR's rules. */
export class InvalidPodTemplateError extends Error {
  override name = 'InvalidPodTemplateError';
}

/** Validates a pod template (Kubernetes schema, then EMR's rules) and returns it as YAML. */
export function podTemplateYaml(pod: Pod, role: SparkRole, header?: string): string {
  const json = validatedJson(pod);
  const problems = emrPodTemplateViolations(json, role);
  if (problems.length > 0) throw new InvalidPodTemplateError(`${role} pod template: ${problems.join('; ')}`);
  const comment = header ? `${header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n')}\n` : '';
  return `${comment}${stringify(json, { lineWidth: 0 })}`;
}

/** Spark settings for shuffle and spill on gp3 volumes created per executor (localStorage: ebs). */
export const EBS_LOCAL_DIR = {
  /** Volume names starting with `spark-local-dir-` become Spark local dirs. */
  volume: 'spark-local-dir-1',
  mountPath: '/data/spark-local',
  /** @default size of each executor's volume */
  size: '100Gi',
} as const;

/**
 * Spark configuration for the local storage choice. `nvme`: nothing (Spark's default emptyDir
 * local dirs land on the RAID0 instance store of the `spark-nvme` nodes). `ebs`: one on-demand
 * PersistentVolumeClaim per executor from the cluster's default (gp3, WaitForFirstConsumer)
 * StorageClass, owned and reused by the driver.
 */
export function localStorageSparkConf(localStorage: LocalStorage, size: string = EBS_LOCAL_DIR.size): Record<string, string> {
  if (localStorage === 'nvme') return {};
  const prefix = `spark.kubernetes.executor.volumes.persistentVolumeClaim.${EBS_LOCAL_DIR.volume}`;
  return {
    [`${prefix}.options.claimName`]: 'OnDemand',
    [`${prefix}.options.sizeLimit`]: size,
    [`${prefix}.mount.path`]: EBS_LOCAL_DIR.mountPath,
    [`${prefix}.mount.readOnly`]: 'false',
    'spark.kubernetes.driver.ownPersistentVolumeClaim': 'true',
    'spark.kubernetes.driver.reusePersistentVolumeClaim': 'true',
  };
}

/** The per-job Spark setting that names a job for vertical autoscaling recommendations. */
export function verticalAutoscalingSignatureConf(signature: string): Record<string, string> {
  return { [`spark.kubernetes.driver.annotation.${VERTICAL_AUTOSCALING.signature}`]: signature };
}
