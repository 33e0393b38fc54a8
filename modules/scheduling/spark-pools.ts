/**
 * The scheduling contract between the capacity layer (NodePools, PriorityClasses) and tenant pod
 * templates. Everything that places a Spark pod refers to these names; nothing spells them out.
 *
 * | pool                      | capacity           | taint (NoSchedule)                   | who lands there                  |
 * |---------------------------|--------------------|--------------------------------------|----------------------------------|
 * | spark-driver              | on-demand (+spot*) | spark-platform.io/spark-role=driver  | Spark drivers, EMR job submitter |
 * | spark-executor            | spot               | spark-platform.io/spark-role=executor| executors of Spot tenants        |
 * | spark-executor-on-demand  | on-demand          | spark-platform.io/spark-role=executor| executors that forbid Spot       |
 * | general                   | on-demand + spot   | none                                 | everything else                  |
 * | tenant-<name>-driver/-executor | as above      | + spark-platform.io/tenant=<name>    | one tenant's Spark pods only     |
 *
 * *spot drivers only for pods that select `karpenter.sh/capacity-type: spot` explicitly.
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
} as const;

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
