/**
 * The scheduling contract between the capacity layer (NodePools, PriorityClasses) and tenant pod
 * templates. Everything that places a Spark pod refers to these names; nothing spells them out.
 *
 * | pool                     | capacity           | node class | weight | consolidation            | taint (NoSchedule) / label            | who lands there                  |
 * |--------------------------|--------------------|------------|--------|--------------------------|---------------------------------------|----------------------------------|
 * | spark-driver             | on-demand (+spot*) | general    | 50     | WhenEmpty                | spark-platform.io/spark-role=driver   | Spark drivers                    |
 * | spark-executor           | spot (if enabled)  | spark-nvme | 50     | WhenEmptyOrUnderutilized | spark-platform.io/spark-role=executor | executors of Spot tenants        |
 * | spark-executor-on-demand | on-demand          | spark-nvme | 10     | WhenEmptyOrUnderutilized | spark-platform.io/spark-role=executor | executors that forbid Spot, and the fallback when Spot is short |
 * | general                  | on-demand only     | general    | -      | WhenEmptyOrUnderutilized | none                                  | everything else, incl. the EMR job submitter (placed on-demand, in the tenant's zone, by the published `emr-job-submitter` classification) |
 * | tenant-<name>-driver/-executor | as above     | as above   |        |                          | + spark-platform.io/tenant=<name>     | one tenant's Spark pods only     |
 *
 * Every pool: arm64 and amd64 (Graviton preferred: cheaper offerings win, plus `PREFER_GRAVITON` in
 * pod templates), Nitro instances of `compute.instanceCategories`/`instanceFamilies`, node labels
 * `spark-platform.io/pool=<pool>` (+ `spark-role`), CPU/memory limits, `expireAfter`, budgets.
 * Executor pools require local NVMe (`instance-local-nvme` > 0) and use the RAID0 class.
 *
 * *spot only with `compute.spotEnabled` and only for drivers that select `karpenter.sh/capacity-type:
 * spot` explicitly: tenant pod templates always select a capacity type (Karpenter would otherwise
 * prefer Spot in a pool that allows both). `general` allows no Spot at all, so a pod that selects
 * nothing never lands on Spot.
 */
import { LABEL_DOMAIN, POOL_LABEL, type Toleration } from './system-nodes.js';

export { LABEL_DOMAIN, POOL_LABEL };

export const POOLS = {
  sparkDriver: 'spark-driver',
  sparkExecutor: 'spark-executor',
  sparkExecutorOnDemand: 'spark-executor-on-demand',
  general: 'general',
} as const;

/** Node label and taint key saying which Spark role a node serves: `driver` or `executor`. */
export const SPARK_ROLE_KEY = `${LABEL_DOMAIN}/spark-role`;
export type SparkRole = 'driver' | 'executor';

/** Node label and taint key of tenant-dedicated nodes; the value is the tenant name. */
export const TENANT_KEY = `${LABEL_DOMAIN}/tenant`;

/** Namespace label marking tenant namespaces (value: tenant name); monitors and policies select it. */
export const TENANT_NAMESPACE_LABEL = `${LABEL_DOMAIN}/tenant`;

/** Label on objects the platform owns inside tenant namespaces; tenants cannot change them. */
export const MANAGED_BY_LABEL = `${LABEL_DOMAIN}/managed-by`;
export const MANAGED_BY_PLATFORM = 'platform';

/** EC2NodeClass names. */
export const NODE_CLASSES = {
  /** gp3 root volume only. */
  general: 'general',
  /** Instance-store NVMe striped as RAID0 for kubelet and containerd: emptyDir lands on NVMe. */
  sparkNvme: 'spark-nvme',
} as const;

/** PriorityClasses tenants may use; every other class is forbidden in tenant namespaces. */
export const PRIORITY_CLASSES = {
  sparkDriver: 'spark-driver-high',
  sparkExecutor: 'spark-executor-low',
} as const;

/** Well-known labels set by Kubernetes and Karpenter. */
export const WELL_KNOWN = {
  capacityType: 'karpenter.sh/capacity-type',
  arch: 'kubernetes.io/arch',
  zone: 'topology.kubernetes.io/zone',
  instanceLocalNvme: 'karpenter.k8s.aws/instance-local-nvme',
  doNotDisrupt: 'karpenter.sh/do-not-disrupt',
  /** Node label Karpenter sets to the EC2NodeClass name (selects e.g. the RAID0 NVMe class). */
  nodeClass: 'karpenter.k8s.aws/ec2nodeclass',
  /** Karpenter instance labels the NodePools constrain (values: `c`, `m7gd`, `7`, `nitro`, vCPUs). */
  instanceCategory: 'karpenter.k8s.aws/instance-category',
  instanceFamily: 'karpenter.k8s.aws/instance-family',
  instanceGeneration: 'karpenter.k8s.aws/instance-generation',
  instanceHypervisor: 'karpenter.k8s.aws/instance-hypervisor',
  instanceCpu: 'karpenter.k8s.aws/instance-cpu',
} as const;

/** Values of `karpenter.sh/capacity-type`. */
export const CAPACITY_TYPES = { onDemand: 'on-demand', spot: 'spot' } as const;

/** Values of `kubernetes.io/arch`: Graviton first. */
export const ARCHITECTURES = { graviton: 'arm64', x86: 'amd64' } as const;

/**
 * Preferred node affinity term that makes Karpenter try Graviton first for a pod whose image is
 * multi-arch, and relax to x86 when no arm64 capacity can be had (the Spark pools allow both
 * architectures). Pod templates add it under
 * `affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
 */
export const PREFER_GRAVITON = {
  weight: 100,
  preference: { matchExpressions: [{ key: WELL_KNOWN.arch, operator: 'In' as const, values: [ARCHITECTURES.graviton] }] },
};

export function sparkRoleTaint(role: SparkRole) {
  return { key: SPARK_ROLE_KEY, value: role, effect: 'NoSchedule' as const };
}

export function sparkRoleToleration(role: SparkRole): Toleration {
  return { key: SPARK_ROLE_KEY, operator: 'Equal', value: role, effect: 'NoSchedule' };
}

export function tenantTaint(tenant: string) {
  return { key: TENANT_KEY, value: tenant, effect: 'NoSchedule' as const };
}

export function tenantToleration(tenant: string): Toleration {
  return { key: TENANT_KEY, operator: 'Equal', value: tenant, effect: 'NoSchedule' };
}
