/**
 * Tenant-only Karpenter NodePools (`dedicatedNodes: true`): a driver pool and an executor pool
 * tainted for one tenant on top of the usual Spark role taint. The cluster-wide admission policy of
 * the `tenancy` stack lets only pods of that tenant's namespace tolerate or select the tenant key,
 * so nothing else can land there. Karpenter tags each instance with `karpenter.sh/nodepool`, which
 * makes the nodes' cost attributable to the tenant.
 *
 * They follow the environment's capacity model exactly like the platform pools
 * (modules/karpenter/node-pools.ts): instance choice and size bounds, Spot (and its
 * diversification), lifetimes, termination grace periods, consolidation delays, the disruption
 * budget and the executor freeze window. Only capacity type, architecture, zone and limits come
 * from the tenant.
 */
import { NodePool } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodePool';
import {
  assertNodePoolRules,
  disruptionBudgets,
  instanceRequirements,
  type PoolKey,
  requirement,
  resolve,
  type SparkNodePoolsProps,
  spotDiversification,
} from '../karpenter/node-pools.js';
import {
  CAPACITY_TYPES,
  MANAGED_BY_LABEL,
  MANAGED_BY_PLATFORM,
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
   * The environment's capacity settings, as the platform pools get them (`compute` of the
   * environment file): instance choice, Spot, pool lifetimes and grace periods, budget, freeze.
   * The driver pool follows `pools.sparkDriver`; the executor pool `pools.sparkExecutor`, or
   * `pools.sparkExecutorOnDemand` for on-demand executors.
   * @default the platform defaults
   */
  readonly compute?: SparkNodePoolsProps;
}

const EC2_NODE_CLASS = { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass' } as const;

/** Capacity types a tenant pool may launch; Spot only where the environment allows it. */
export function tenantCapacityTypes(role: SparkRole, options: Pick<TenantNodePoolOptions, 'driverCapacity' | 'executorCapacity'>, spotEnabled: boolean): string[] {
  const wanted = role === 'driver' ? [options.driverCapacity] : options.executorCapacity === 'any' ? [CAPACITY_TYPES.spot, CAPACITY_TYPES.onDemand] : [options.executorCapacity];
  const allowed = wanted.filter((type) => spotEnabled || type !== CAPACITY_TYPES.spot);
  if (allowed.length === 0) throw new Error(`tenant ${role} pool: capacity ${wanted.join(', ')} needs Spot, which the environment disables (compute.spotEnabled: false)`);
  return allowed;
}

function tenantNodePool(role: SparkRole, options: TenantNodePoolOptions): NodePool {
  const p = resolve(options.compute ?? {});
  const name = tenantPoolName(options.tenant, role);
  const nvme = role === 'executor' && options.localStorage === 'nvme';
  const capacityTypes = tenantCapacityTypes(role, options, p.spotEnabled);
  const settingsKey: PoolKey = role === 'driver' ? 'sparkDriver' : capacityTypes.includes(CAPACITY_TYPES.spot) ? 'sparkExecutor' : 'sparkExecutorOnDemand';
  const settings = p.pools[settingsKey];
  const requirements = [
    requirement(WELL_KNOWN.capacityType, 'In', capacityTypes),
    requirement(WELL_KNOWN.arch, 'In', options.architecture === 'any' ? ['arm64', 'amd64'] : [options.architecture]),
    ...instanceRequirements(p),
    ...(nvme ? [requirement(WELL_KNOWN.instanceLocalNvme, 'Gt', ['0'])] : []),
    ...(role === 'executor' && capacityTypes.includes(CAPACITY_TYPES.spot) ? spotDiversification(p) : []),
    ...(options.zone ? [requirement(WELL_KNOWN.zone, 'In', [options.zone])] : []),
  ];
  const pool = new NodePool({
    metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM, [TENANT_KEY]: options.tenant } },
    spec: {
      template: {
        metadata: { labels: { [POOL_LABEL]: name, [SPARK_ROLE_KEY]: role, [TENANT_KEY]: options.tenant } },
        spec: {
          nodeClassRef: { ...EC2_NODE_CLASS, name: nvme ? p.nodeClasses.sparkNvme : p.nodeClasses.general },
          requirements,
          taints: [tenantTaint(options.tenant), sparkRoleTaint(role)],
          expireAfter: settings.expireAfter,
          terminationGracePeriod: settings.terminationGracePeriod,
        },
      },
      // Drivers are `do-not-disrupt` and their pool only drops empty nodes; executor nodes are
      // consolidated, within the environment's budget and outside its freeze window.
      disruption: {
        consolidationPolicy: role === 'driver' ? 'WhenEmpty' : 'WhenEmptyOrUnderutilized',
        consolidateAfter: settings.consolidateAfter,
        budgets: disruptionBudgets(p, role === 'executor'),
      },
      limits: { cpu: options.limits.cpu, memory: options.limits.memory },
    },
  });
  assertNodePoolRules(pool);
  return pool;
}

/** The tenant's driver and executor NodePools. */
export function tenantNodePools(options: TenantNodePoolOptions): NodePool[] {
  return [tenantNodePool('driver', options), tenantNodePool('executor', options)];
}

