/**
 * The Spark capacity model as Karpenter v1 NodePools (typed with `@kubernetes-models/karpenter`):
 *
 * - `spark-driver`: on-demand (plus Spot only for pods that select it), drivers only (taint and
 *   label), both architectures, consolidation `WhenEmpty` so a running driver is never moved.
 * - `spark-executor`: Spot, diversified across many families and sizes with local NVMe (RAID0 node
 *   class), both architectures, `WhenEmptyOrUnderutilized`, the higher weight.
 * - `spark-executor-on-demand`: the same shape on on-demand, lower weight: the fallback when Spot
 *   cannot be had, and the only pool for executors that select on-demand (tenants that forbid Spot).
 * - `general`: everything else that is not a platform controller (EMR's job submitter, add-ons
 *   outside the system node group), on-demand only: a pod that selects no capacity type would
 *   otherwise get Spot (Karpenter launches the cheapest capacity a pool allows), and Spot is only
 *   for Spark executors, whose pools are built for interruptions.
 *
 * Graviton preference: each Spark pool allows arm64 and amd64 rather than being split into weighted
 * per-architecture pools (which would double the pools, their limits and budgets, and the names
 * tenants see). Karpenter launches the cheapest offering that fits (Graviton is cheaper for the
 * same generation and size), and pod templates add `PREFER_GRAVITON` (a preferred node affinity
 * Karpenter honours and relaxes when arm64 capacity is short); pods with x86-only images require
 * amd64 and get x86 nodes from the same pool.
 *
 * Every pool has CPU and memory limits, `expireAfter`, `terminationGracePeriod` and disruption
 * budgets; executor pools can also get a schedule-based budget that freezes voluntary disruption.
 */
import { NodePool } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodePool';
import type { IBudget } from '@kubernetes-models/karpenter/karpenter.sh/v1/Budget';
import type { INodeSelectorRequirementWithMinValues } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodeSelectorRequirementWithMinValues';
import {
  ARCHITECTURES,
  CAPACITY_TYPES,
  MANAGED_BY_LABEL,
  MANAGED_BY_PLATFORM,
  NODE_CLASSES,
  POOL_LABEL,
  POOLS,
  SPARK_ROLE_KEY,
  type SparkRole,
  sparkRoleTaint,
  WELL_KNOWN,
} from '../scheduling/spark-pools.js';
import { BUDGET_DURATION, BUDGET_NODES, DISRUPTION_REASONS, type DisruptionReason, DURATION, DURATION_OR_NEVER, durationSeconds, isCronSchedule } from './schedule.js';

export type PoolKey = keyof typeof POOLS;

export interface PoolLimits {
  /** Total vCPUs of all nodes of the pool. */
  readonly cpu: number;
  /** Total memory of all nodes of the pool, as a Kubernetes quantity (`4000Gi`). */
  readonly memory: string;
}

export interface PoolSettings {
  /** Ceiling of what the pool may launch: a runaway job cannot buy the region. */
  readonly limits: PoolLimits;
  /** Node lifetime; expiry replaces nodes (forcefully, after `terminationGracePeriod`). `Never` disables it. */
  readonly expireAfter: string;
  /** How long a draining node waits for its pods (including `do-not-disrupt` ones) before it is terminated. */
  readonly terminationGracePeriod: string;
  /** How long a node must be empty (or underutilized) before consolidation acts on it. */
  readonly consolidateAfter: string;
}

/** Defaults per pool: sized for a development cluster; raise them per environment. */
export const DEFAULT_POOL_SETTINGS: Readonly<Record<PoolKey, PoolSettings>> = {
  sparkDriver: { limits: { cpu: 100, memory: '400Gi' }, expireAfter: '720h', terminationGracePeriod: '24h', consolidateAfter: '1m' },
  sparkExecutor: { limits: { cpu: 1000, memory: '4000Gi' }, expireAfter: '720h', terminationGracePeriod: '2h', consolidateAfter: '2m' },
  sparkExecutorOnDemand: { limits: { cpu: 500, memory: '2000Gi' }, expireAfter: '720h', terminationGracePeriod: '2h', consolidateAfter: '2m' },
  general: { limits: { cpu: 100, memory: '400Gi' }, expireAfter: '720h', terminationGracePeriod: '1h', consolidateAfter: '5m' },
};

/**
 * NodePool weights: among the pools a pod fits, Karpenter tries the highest weight first. Spot
 * executors outrank the on-demand executor fallback; `general` (no weight, 0) comes last for pods
 * that would also fit a Spark pool.
 */
export const POOL_WEIGHTS: Readonly<Record<PoolKey, number | undefined>> = {
  sparkDriver: 50,
  sparkExecutor: 50,
  sparkExecutorOnDemand: 10,
  general: undefined,
};

/** A recurring window in which executor nodes are not voluntarily disrupted. */
export interface DisruptionFreeze {
  /** Start of the window: five-field cron, UTC (`0 8 * * 1-5`). */
  readonly schedule: string;
  /** Length of the window in hours/minutes (`10h`, `1h30m`). */
  readonly duration: string;
  /**
   * Disruption reasons frozen. Empty nodes hold no executors, so removing them stays allowed.
   * @default ['Underutilized', 'Drifted']
   */
  readonly reasons?: readonly DisruptionReason[];
}

export interface SparkNodePoolsProps {
  /**
   * Whether Spot capacity may be launched: the `spark-executor` pool exists, and the driver pool
   * also allows Spot (used only by drivers that select it). `general` is on-demand either way.
   * @default true
   */
  readonly spotEnabled?: boolean;
  /**
   * EC2 instance categories the Spark and general pools may use (`c`, `m`, `r`, ...). Ignored when
   * `instanceFamilies` is not empty.
   * @default ['c', 'm', 'r']
   */
  readonly instanceCategories?: readonly string[];
  /**
   * Exact instance families (`m7gd`, `c6id`, ...) instead of categories and generations.
   * @default []
   */
  readonly instanceFamilies?: readonly string[];
  /**
   * Oldest instance generation allowed (with `instanceCategories`).
   * @default 6
   */
  readonly minInstanceGeneration?: number;
  /**
   * Smallest and largest instance sizes, in vCPUs.
   * @default { min: 4, max: 96 }
   */
  readonly instanceCpu?: { readonly min: number; readonly max: number };
  /**
   * Minimum number of instance families in every Spot executor launch request (diversification
   * for Spot capacity; relaxed by Karpenter's `minValuesPolicy: BestEffort` when fewer fit).
   * @default 5
   */
  readonly spotMinFamilies?: number;
  /**
   * Per-pool limits, lifetimes and consolidation delays; missing pools get the defaults.
   * @default DEFAULT_POOL_SETTINGS
   */
  readonly pools?: Partial<Record<PoolKey, PoolSettings>>;
  /**
   * Most nodes of a pool that may be voluntarily disrupted at once (count or percentage).
   * @default '10%'
   */
  readonly disruptionBudget?: string;
  /**
   * Window in which executor nodes are not voluntarily disrupted (budget `nodes: "0"`).
   * @default no freeze
   */
  readonly executorDisruptionFreeze?: DisruptionFreeze;
  /**
   * EC2NodeClass names: `general` for drivers and general, `sparkNvme` (RAID0) for executors.
   * @default NODE_CLASSES
   */
  readonly nodeClasses?: { readonly general: string; readonly sparkNvme: string };
  /**
   * Labels added to every NodePool object (not to nodes).
   * @default { 'spark-platform.io/managed-by': 'platform' }
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A NodePool value that breaks a rule the CRD enforces with CEL or patterns (not checked by the models). */
export class InvalidNodePoolError extends Error {
  override name = 'InvalidNodePoolError';
}

export type Requirement = INodeSelectorRequirementWithMinValues;

export function requirement(key: string, operator: Requirement['operator'], values?: readonly string[], minValues?: number): Requirement {
  return { key, operator, ...(values ? { values: [...values] } : {}), ...(minValues !== undefined ? { minValues } : {}) };
}

/** The props with every default applied (shared with tenant-dedicated NodePools). */
export interface ResolvedProps {
  readonly spotEnabled: boolean;
  readonly instanceCategories: readonly string[];
  readonly instanceFamilies: readonly string[];
  readonly minInstanceGeneration: number;
  readonly instanceCpu: { readonly min: number; readonly max: number };
  readonly spotMinFamilies: number;
  readonly pools: Readonly<Record<PoolKey, PoolSettings>>;
  readonly disruptionBudget: string;
  readonly executorDisruptionFreeze: DisruptionFreeze | undefined;
  readonly nodeClasses: { readonly general: string; readonly sparkNvme: string };
  readonly labels: Readonly<Record<string, string>>;
}

export function resolve(props: SparkNodePoolsProps): ResolvedProps {
  return {
    spotEnabled: props.spotEnabled ?? true,
    instanceCategories: props.instanceCategories ?? ['c', 'm', 'r'],
    instanceFamilies: props.instanceFamilies ?? [],
    minInstanceGeneration: props.minInstanceGeneration ?? 6,
    instanceCpu: props.instanceCpu ?? { min: 4, max: 96 },
    spotMinFamilies: props.spotMinFamilies ?? 5,
    pools: { ...DEFAULT_POOL_SETTINGS, ...props.pools },
    disruptionBudget: props.disruptionBudget ?? '10%',
    executorDisruptionFreeze: props.executorDisruptionFreeze,
    nodeClasses: props.nodeClasses ?? NODE_CLASSES,
    labels: props.labels ?? { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM },
  };
}

/** Instance shape shared by every pool: Nitro (prefix delegation; also excludes bare metal, slow to boot), sizes, families. */
export function instanceRequirements(p: ResolvedProps): Requirement[] {
  const shape =
    p.instanceFamilies.length > 0
      ? [requirement(WELL_KNOWN.instanceFamily, 'In', p.instanceFamilies)]
      : [
          requirement(WELL_KNOWN.instanceCategory, 'In', p.instanceCategories),
          requirement(WELL_KNOWN.instanceGeneration, 'Gt', [String(p.minInstanceGeneration - 1)]),
        ];
  return [
    ...shape,
    requirement(WELL_KNOWN.instanceHypervisor, 'In', ['nitro']),
    requirement(WELL_KNOWN.instanceCpu, 'Gt', [String(p.instanceCpu.min - 1)]),
    requirement(WELL_KNOWN.instanceCpu, 'Lt', [String(p.instanceCpu.max + 1)]),
  ];
}

const BOTH_ARCHITECTURES = [ARCHITECTURES.graviton, ARCHITECTURES.x86];

interface PoolShape {
  readonly key: PoolKey;
  readonly role?: SparkRole;
  readonly capacityTypes: readonly string[];
  readonly nodeClass: string;
  readonly consolidationPolicy: 'WhenEmpty' | 'WhenEmptyOrUnderutilized';
  readonly extraRequirements: Requirement[];
  readonly freeze: boolean;
}

/** Disruption budgets: the environment's budget, plus the executor freeze window where asked. */
export function disruptionBudgets(p: ResolvedProps, freeze: boolean): IBudget[] {
  const budgets: IBudget[] = [{ nodes: p.disruptionBudget }];
  if (freeze && p.executorDisruptionFreeze) {
    const window = p.executorDisruptionFreeze;
    budgets.push({
      nodes: '0',
      schedule: window.schedule,
      duration: window.duration,
      reasons: [...(window.reasons ?? ['Underutilized', 'Drifted'])],
    });
  }
  return budgets;
}

/** Spot diversification of executor pools: launch requests span at least `spotMinFamilies` families. */
export function spotDiversification(p: ResolvedProps): Requirement[] {
  // With explicit families, the family list itself is the diversification; minValues would exceed a short list.
  return p.instanceFamilies.length > 0 ? [] : [requirement(WELL_KNOWN.instanceFamily, 'Exists', undefined, p.spotMinFamilies)];
}

function nodePool(p: ResolvedProps, shape: PoolShape): NodePool {
  const settings = p.pools[shape.key];
  const name = POOLS[shape.key];
  const budgets = disruptionBudgets(p, shape.freeze);
  const weight = POOL_WEIGHTS[shape.key];
  const pool = new NodePool({
    metadata: { name, labels: { ...p.labels } },
    spec: {
      ...(weight !== undefined ? { weight } : {}),
      limits: { cpu: String(settings.limits.cpu), memory: settings.limits.memory },
      disruption: { consolidationPolicy: shape.consolidationPolicy, consolidateAfter: settings.consolidateAfter, budgets },
      template: {
        metadata: { labels: { [POOL_LABEL]: name, ...(shape.role ? { [SPARK_ROLE_KEY]: shape.role } : {}) } },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: shape.nodeClass },
          requirements: [
            requirement(WELL_KNOWN.capacityType, 'In', shape.capacityTypes),
            requirement(WELL_KNOWN.arch, 'In', BOTH_ARCHITECTURES),
            ...instanceRequirements(p),
            ...shape.extraRequirements,
          ],
          ...(shape.role ? { taints: [sparkRoleTaint(shape.role)] } : {}),
          expireAfter: settings.expireAfter,
          terminationGracePeriod: settings.terminationGracePeriod,
        },
      },
    },
  });
  assertNodePoolRules(pool);
  return pool;
}

/**
 * The platform NodePools, in the order `spark-driver`, `spark-executor` (only with Spot enabled),
 * `spark-executor-on-demand`, `general`. Each is validated against the model schema by
 * `KubernetesObject` at synth and checked here against the CRD rules the schema does not carry.
 */
export function sparkNodePools(props: SparkNodePoolsProps = {}): NodePool[] {
  const p = resolve(props);
  const onDemandOrSpot = p.spotEnabled ? [CAPACITY_TYPES.onDemand, CAPACITY_TYPES.spot] : [CAPACITY_TYPES.onDemand];
  const localNvme = requirement(WELL_KNOWN.instanceLocalNvme, 'Gt', ['0']);
  const diversified = spotDiversification(p);
  const pools: NodePool[] = [
    nodePool(p, {
      key: 'sparkDriver',
      role: 'driver',
      capacityTypes: onDemandOrSpot,
      nodeClass: p.nodeClasses.general,
      consolidationPolicy: 'WhenEmpty',
      extraRequirements: [],
      freeze: false,
    }),
  ];
  if (p.spotEnabled) {
    pools.push(
      nodePool(p, {
        key: 'sparkExecutor',
        role: 'executor',
        capacityTypes: [CAPACITY_TYPES.spot],
        nodeClass: p.nodeClasses.sparkNvme,
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        extraRequirements: [localNvme, ...diversified],
        freeze: true,
      }),
    );
  }
  pools.push(
    nodePool(p, {
      key: 'sparkExecutorOnDemand',
      role: 'executor',
      capacityTypes: [CAPACITY_TYPES.onDemand],
      nodeClass: p.nodeClasses.sparkNvme,
      consolidationPolicy: 'WhenEmptyOrUnderutilized',
      extraRequirements: [localNvme],
      freeze: true,
    }),
    nodePool(p, {
      key: 'general',
      // On-demand only, whatever spotEnabled says: see the module comment.
      capacityTypes: [CAPACITY_TYPES.onDemand],
      nodeClass: p.nodeClasses.general,
      consolidationPolicy: 'WhenEmptyOrUnderutilized',
      extraRequirements: [],
      freeze: false,
    }),
  );
  return pools;
}

function fail(pool: NodePool, field: string, message: string): never {
  throw new InvalidNodePoolError(`NodePool ${pool.metadata?.name ?? '(unnamed)'}: ${field}: ${message}`);
}

const QUANTITY = /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/**
 * Checks the NodePool rules the Karpenter v1 CRD enforces with patterns and CEL expressions, which
 * the JSON-schema validation of the typed model does not include: duration and budget formats,
 * schedule/duration pairing, cron syntax, `Gt`/`Lt` integer values, `minValues` and limits.
 */
export function assertNodePoolRules(pool: NodePool): void {
  const { spec } = pool;
  const template = spec.template.spec;
  if (template.expireAfter !== undefined && !DURATION_OR_NEVER.test(template.expireAfter)) {
    fail(pool, 'spec.template.spec.expireAfter', `expected a duration such as 720h, or Never, found ${JSON.stringify(template.expireAfter)}`);
  }
  if (template.terminationGracePeriod !== undefined && !DURATION.test(template.terminationGracePeriod)) {
    fail(pool, 'spec.template.spec.terminationGracePeriod', `expected a duration such as 24h, found ${JSON.stringify(template.terminationGracePeriod)}`);
  }
  const disruption = spec.disruption;
  if (disruption && !DURATION_OR_NEVER.test(disruption.consolidateAfter)) {
    fail(pool, 'spec.disruption.consolidateAfter', `expected a duration such as 1m, or Never, found ${JSON.stringify(disruption.consolidateAfter)}`);
  }
  (disruption?.budgets ?? []).forEach((budget, i) => {
    const field = `spec.disruption.budgets[${i}]`;
    if (!BUDGET_NODES.test(budget.nodes)) fail(pool, `${field}.nodes`, `expected a node count or a percentage such as 10%, found ${JSON.stringify(budget.nodes)}`);
    if ((budget.schedule === undefined) !== (budget.duration === undefined)) fail(pool, field, 'expected schedule and duration together (or neither)');
    if (budget.schedule !== undefined && !isCronSchedule(budget.schedule)) {
      fail(pool, `${field}.schedule`, `expected a five-field cron schedule (UTC) such as "0 8 * * 1-5", found ${JSON.stringify(budget.schedule)}`);
    }
    if (budget.duration !== undefined && !(BUDGET_DURATION.test(budget.duration) && (durationSeconds(budget.duration) ?? 0) > 0)) {
      fail(pool, `${field}.duration`, `expected a positive duration in hours and minutes such as 10h or 1h30m, found ${JSON.stringify(budget.duration)}`);
    }
    for (const reason of budget.reasons ?? []) {
      if (!(DISRUPTION_REASONS as readonly string[]).includes(reason)) fail(pool, `${field}.reasons`, `expected one of ${DISRUPTION_REASONS.join(', ')}, found ${JSON.stringify(reason)}`);
    }
  });
  template.requirements.forEach((req, i) => {
    const field = `spec.template.spec.requirements[${i}] (${req.key})`;
    const values = req.values ?? [];
    if (req.key === 'karpenter.sh/nodepool' || req.key === 'kubernetes.io/hostname') fail(pool, field, 'expected a key other than the restricted karpenter.sh/nodepool and kubernetes.io/hostname');
    if (req.operator === 'In' && values.length === 0) fail(pool, field, "expected at least one value for operator 'In'");
    if ((req.operator === 'Gt' || req.operator === 'Lt') && !(values.length === 1 && /^[0-9]+$/.test(values[0]!))) {
      fail(pool, field, `expected a single non-negative integer value for operator '${req.operator}', found ${JSON.stringify(values)}`);
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) fail(pool, field, `expected no values for operator '${req.operator}'`);
    if (req.minValues !== undefined && req.operator === 'In' && values.length < req.minValues) {
      fail(pool, field, `expected at least minValues (${req.minValues}) values, found ${values.length}`);
    }
  });
  for (const [resource, quantity] of Object.entries(spec.limits ?? {})) {
    const text = String(quantity);
    if (!QUANTITY.test(text) || text.startsWith('-')) fail(pool, `spec.limits.${resource}`, `expected a non-negative quantity, found ${JSON.stringify(text)}`);
  }
}
