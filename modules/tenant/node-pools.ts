/**
 * Tenant-only Karpenter NodePools (`dedicatedNodes: true`): a driver pool and an executor pool
 * tainted for one tenant on top of the usual Spark role taint. The cluster-wide admission policy of
 * the `tenancy` stack lets only pods of that tenant's namespace tolerate or select the tenant key,
 * so nothing else can land there. Karpenter tags each instance with `karpenter.sh/nodepool`, which
 * makes the nodes' cost attributable to the tenant.
 */
import { NodePool } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodePool';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_PLATFORM,
  NODE_CLASSES,
  POOL_LABEL,
  SPARK_ROLE_KEY,
  type SparkRole,
  sparkRoleTaint,
  TENANT_KEY,
  tenantTaint,
  WELL_KNOWN,
} from '../scheduling/spark-pools.js';
import { tenantPoolName } from './naming.js';
import type { Architecture, DriverCapacity, ExecutorCapacity, LocalStorage } from './pod-templates.js';

export interface TenantNodePoolOptions {
  readonly tenant: string;
  readonly architecture: Architecture;
  readonly driverCapacity: DriverCapacity;
  readonly executorCapacity: ExecutorCapacity;
  readonly localStorage: LocalStorage;
  /** Restrict nodes to this zone. @default every zone of the node class's subnets */
  readonly zone?: string;
  /** CPU and memory limits of each pool (the namespace quota: pods cannot use more). */
  readonly limits: { readonly cpu: string; readonly memory: string };
  /**
   * Instance categories to launch.
   * @default ['c', 'm', 'r']
   */
  readonly instanceCategories?: readonly string[];
  /**
   * Instance generations above this one.
   * @default 5
   */
  readonly minimumGenerationExclusive?: number;
  /**
   * Node lifetime before replacement (drivers' nodes wait for `do-not-disrupt` pods to finish).
   * @default '720h'
   */
  readonly expireAfter?: string;
}

const EC2_NODE_CLASS = { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass' } as const;

function capacityTypes(role: SparkRole, options: TenantNodePoolOptions): string[] {
  if (role === 'driver') return [options.driverCapacity];
  return options.executorCapacity === 'any' ? ['spot', 'on-demand'] : [options.executorCapacity];
}

function tenantNodePool(role: SparkRole, options: TenantNodePoolOptions): NodePool {
  const name = tenantPoolName(options.tenant, role);
  const nvme = role === 'executor' && options.localStorage === 'nvme';
  const requirements = [
    { key: WELL_KNOWN.capacityType, operator: 'In' as const, values: capacityTypes(role, options) },
    { key: WELL_KNOWN.arch, operator: 'In' as const, values: options.architecture === 'any' ? ['arm64', 'amd64'] : [options.architecture] },
    { key: WELL_KNOWN.instanceCategory, operator: 'In' as const, values: [...(options.instanceCategories ?? ['c', 'm', 'r'])] },
    { key: WELL_KNOWN.instanceGeneration, operator: 'Gt' as const, values: [String(options.minimumGenerationExclusive ?? 5)] },
    // Nitro only: ENA, NVMe EBS and the pod density prefix delegation needs.
    { key: WELL_KNOWN.instanceHypervisor, operator: 'In' as const, values: ['nitro'] },
    ...(nvme ? [{ key: WELL_KNOWN.instanceLocalNvme, operator: 'Gt' as const, values: ['0'] }] : []),
    ...(options.zone ? [{ key: WELL_KNOWN.zone, operator: 'In' as const, values: [options.zone] }] : []),
  ];
  return new NodePool({
    metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM, [TENANT_KEY]: options.tenant } },
    spec: {
      template: {
        metadata: { labels: { [POOL_LABEL]: name, [SPARK_ROLE_KEY]: role, [TENANT_KEY]: options.tenant } },
        spec: {
          nodeClassRef: { ...EC2_NODE_CLASS, name: nvme ? NODE_CLASSES.sparkNvme : NODE_CLASSES.general },
          requirements,
          taints: [tenantTaint(options.tenant), sparkRoleTaint(role)],
          expireAfter: options.expireAfter ?? '720h',
        },
      },
      disruption:
        role === 'driver'
          ? // Drivers are `do-not-disrupt`; empty nodes go quickly.
            { consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] }
          : { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] },
      limits: { cpu: options.limits.cpu, memory: options.limits.memory },
    },
  });
}

/** The tenant's driver and executor NodePools. */
export function tenantNodePools(options: TenantNodePoolOptions): NodePool[] {
  return [tenantNodePool('driver', options), tenantNodePool('executor', options)];
}
