/**
 * The `compute` section of an environment file: Karpenter version, node image, and the knobs of
 * the Spark capacity model (instance choice, Spot, pool limits and lifetimes, disruption). Every
 * field has a default, so an environment file only lists what it changes.
 */
import { z } from 'zod';
import { PINNED_AL2023_ALIAS, DEFAULT_AMI_ALIAS } from '../../modules/karpenter/node-classes.js';
import { DEFAULT_POOL_SETTINGS, type PoolKey } from '../../modules/karpenter/node-pools.js';
import { DEFAULT_KARPENTER_VERSION } from '../../modules/karpenter/names.js';
import { BUDGET_DURATION, BUDGET_NODES, DISRUPTION_REASONS, DURATION, DURATION_OR_NEVER, durationSeconds, isCronSchedule } from '../../modules/karpenter/schedule.js';
import { POOLS } from '../../modules/scheduling/spark-pools.js';

const durationOrNever = (example: string) => z.string().regex(DURATION_OR_NEVER, `a duration such as ${example} (units h, m, s), or Never`);
const duration = (example: string) => z.string().regex(DURATION, `a duration such as ${example} (units h, m, s)`);

function poolSchema(key: PoolKey) {
  const defaults = DEFAULT_POOL_SETTINGS[key];
  const limits = z
    .strictObject({
      cpu: z.number().int().positive().default(defaults.limits.cpu).describe('Total vCPUs of all nodes of the pool.'),
      memory: z
        .string()
        .regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, 'a memory quantity such as 4000Gi (a positive whole number of Mi, Gi or Ti)')
        .default(defaults.limits.memory)
        .describe('Total memory of all nodes of the pool.'),
    })
    .describe('Ceiling of what the pool may launch.');
  const pool = z
    .strictObject({
      limits: limits.default(() => limits.parse({})),
      expireAfter: durationOrNever('720h').default(defaults.expireAfter).describe('Node lifetime; expired nodes are replaced.'),
      terminationGracePeriod: duration('24h')
        .default(defaults.terminationGracePeriod)
        .describe('How long a draining node waits for its pods (including do-not-disrupt drivers) before termination.'),
      consolidateAfter: durationOrNever('1m').default(defaults.consolidateAfter).describe('How long a node stays empty/underutilized before consolidation.'),
    })
    .describe(`NodePool ${POOLS[key]}.`);
  return pool.default(() => pool.parse({}));
}

const PoolsSchema = z
  .strictObject({
    sparkDriver: poolSchema('sparkDriver'),
    sparkExecutor: poolSchema('sparkExecutor'),
    sparkExecutorOnDemand: poolSchema('sparkExecutorOnDemand'),
    general: poolSchema('general'),
  })
  .describe('Per-pool limits, lifetimes and consolidation delays.');

const DisruptionFreezeSchema = z
  .strictObject({
    schedule: z
      .string()
      .refine(isCronSchedule, 'a five-field cron schedule in UTC such as "0 8 * * 1-5" (minute hour day-of-month month day-of-week), or @daily'),
    duration: z
      .string()
      .refine((text) => BUDGET_DURATION.test(text) && (durationSeconds(text) ?? 0) > 0, 'a positive duration in hours and minutes such as 10h or 1h30m'),
    reasons: z
      .array(z.enum(DISRUPTION_REASONS))
      .min(1)
      .default(['Underutilized', 'Drifted'])
      .describe('Disruption reasons frozen; Empty nodes hold no executors, so removing them stays allowed by default.'),
  })
  .describe('Window in which Karpenter voluntarily disrupts no executor node (a budget with nodes "0"), e.g. business hours when jobs have SLAs.');

const InstanceCpuSchema = z
  .strictObject({
    min: z.number().int().min(1).default(4),
    max: z.number().int().min(1).max(448).default(96),
  })
  .describe('Smallest and largest instance sizes of the Spark and general pools, in vCPUs.');

export const ComputeSchema = z
  .strictObject({
    karpenterVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'an exact Karpenter version such as 1.14.1')
      .default(DEFAULT_KARPENTER_VERSION)
      .describe('Version of the karpenter-crd and karpenter charts and of the controller image.'),
    amiAlias: z
      .string()
      .regex(PINNED_AL2023_ALIAS, `a pinned AL2023 AMI alias such as ${DEFAULT_AMI_ALIAS} (not @latest, which replaces every node on each AMI release)`)
      .default(DEFAULT_AMI_ALIAS)
      .describe('EKS-optimized AL2023 AMI release of Karpenter nodes; bump it to roll nodes (drift, within disruption budgets).'),
    spotEnabled: z
      .boolean()
      .default(true)
      .describe('Spot capacity: the spark-executor pool, and Spot in the driver and general pools for pods that select it.'),
    instanceCategories: z
      .array(z.string().regex(/^[a-z]{1,4}$/, 'an EC2 instance category such as c, m or r'))
      .min(1)
      .default(['c', 'm', 'r'])
      .describe('Instance categories the Spark and general pools may use (ignored when instanceFamilies is set).'),
    instanceFamilies: z
      .array(z.string().regex(/^[a-z]+[0-9][a-z0-9-]*$/, 'an EC2 instance family such as m7gd or c6id'))
      .default([])
      .describe('Exact instance families instead of categories and generations (executor families need local NVMe).'),
    minInstanceGeneration: z.number().int().min(1).max(20).default(6).describe('Oldest instance generation allowed with instanceCategories.'),
    instanceCpu: InstanceCpuSchema.default(() => InstanceCpuSchema.parse({})),
    maxPods: z
      .number()
      .int()
      .min(10)
      .max(250)
      .default(110)
      .describe('Kubelet max pods of Karpenter nodes (prefix delegation provides the addresses).'),
    disruptionBudget: z
      .string()
      .regex(BUDGET_NODES, 'a node count or a percentage such as 10%')
      .default('10%')
      .describe('Most nodes of a pool Karpenter may voluntarily disrupt at once.'),
    executorDisruptionFreeze: DisruptionFreezeSchema.optional(),
    pools: PoolsSchema.default(() => PoolsSchema.parse({})),
  })
  .superRefine((compute, ctx) => {
    if (compute.instanceCpu.min > compute.instanceCpu.max) {
      ctx.addIssue({ code: 'custom', path: ['instanceCpu', 'min'], message: `a minimum no larger than instanceCpu.max (${compute.instanceCpu.max})` });
    }
    for (const [field, list] of [['instanceCategories', compute.instanceCategories], ['instanceFamilies', compute.instanceFamilies]] as const) {
      list.forEach((value, i) => {
        if (list.indexOf(value) !== i) ctx.addIssue({ code: 'custom', path: [field, i], message: 'each value listed once' });
      });
    }
  })
  .describe('Karpenter and the Spark capacity model (NodePools, node classes).');

export type ComputeConfig = z.output<typeof ComputeSchema>;

/** The defaults of the `compute` section. */
export function defaultCompute(): ComputeConfig {
  return ComputeSchema.parse({});
}
