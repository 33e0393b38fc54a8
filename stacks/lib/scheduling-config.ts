/**
 * Batch scheduling settings: the `scheduling` section of an environment file (which scheduler
 * places Spark pods, and YuniKorn's settings), and the `queue` and `spark.gangScheduling` fields of
 * a tenant file, with the derivations the stacks share (a tenant's queue, its pod template
 * settings, its namespace ResourceQuota under YuniKorn).
 *
 * How the namespace ResourceQuota and the YuniKorn queue work together (scheduler `yunikorn`):
 * - the queue's `guaranteed` is the tenant `quota`: what preemption reclaims for the tenant;
 * - the queue's `max` is `queue.max` (default: the quota): beyond it pods wait in the queue;
 * - the ResourceQuota is `resourceQuotaRatio` x the queue max (default 2): Kubernetes rejects pods
 *   only past it. Pods waiting in a queue are Pending pods and count against the ResourceQuota, so a
 *   ResourceQuota equal to the max would turn "wait in the queue" into "rejected at creation"; the
 *   ratio bounds how much a tenant can queue (gang placeholders and the pods replacing them count
 *   twice for a moment, hence at least 2 with gang scheduling).
 * With scheduler `default`, the ResourceQuota is the quota, as before, and the queue fields are
 * ignored (a tenant file stays valid in every environment).
 */
import { z } from 'zod';
import { tenantQueuePath } from '../../modules/yunikorn/names.js';
import { compareQuantities, fitsIn, isCpuQuantity, isMemoryQuantity, scaleQuantity, sumQuantities } from '../../modules/yunikorn/quantity.js';
import { GO_DURATION, type QueueResources, type TenantQueueProps } from '../../modules/yunikorn/queues.js';
import type { YunikornPodSettings } from '../../modules/yunikorn/spark.js';
import { DEFAULT_YUNIKORN_VERSION, releasesSupporting, supportsKubernetes, YUNIKORN_RELEASES } from '../../modules/yunikorn/versions.js';
import { type ConfigProblem, describeValue } from './config-file.js';
import type { Environment } from './environment.js';
import type { TenantConfig } from './tenant-schema.js';

export const BATCH_SCHEDULERS = ['default', 'yunikorn'] as const;
export type BatchScheduler = (typeof BATCH_SCHEDULERS)[number];

const KNOWN_CHARTS = Object.keys(YUNIKORN_RELEASES);

const YunikornSettingsSchema = z
  .strictObject({
    chartVersion: z
      .string()
      .refine((v) => KNOWN_CHARTS.includes(v), `a YuniKorn chart version the platform knows (${KNOWN_CHARTS.join(', ')}; modules/yunikorn/versions.ts)`)
      .default(DEFAULT_YUNIKORN_VERSION)
      .describe(`YuniKorn chart (and image) version. ${DEFAULT_YUNIKORN_VERSION} is the newest chart confirmed in the repository index.`),
    allowUnsupportedKubernetesVersion: z
      .boolean()
      .default(false)
      .describe("Install the chart even when its release does not list the cluster's Kubernetes version."),
    resourceQuotaRatio: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(2)
      .describe('Tenant namespace ResourceQuota = this x the queue max: pods over the max wait in the queue up to it, and are rejected past it.'),
    preemptionDelay: z
      .string()
      .regex(GO_DURATION, 'a Go duration such as 30s or 2m')
      .default('30s')
      .describe('How long a tenant below its guarantee waits with pending pods before YuniKorn preempts pods of tenants above theirs.'),
  })
  .describe('Apache YuniKorn settings (stack yunikorn).');

export const SchedulingSchema = z
  .strictObject({
    batchScheduler: z
      .enum(BATCH_SCHEDULERS)
      .default('default')
      .describe('yunikorn: a queue per tenant (guarantee, max, ordering, preemption) and gang scheduling, stack yunikorn; default: the Kubernetes scheduler.'),
    yunikorn: YunikornSettingsSchema.default(() => YunikornSettingsSchema.parse({})),
  })
  .describe('Which scheduler places Spark pods.');

export type SchedulingSettings = z.output<typeof SchedulingSchema>;

/** Problems of the scheduling section that involve other environment fields (the Kubernetes version). */
export function schedulingEnvironmentIssues(env: { readonly kubernetesVersion: string; readonly scheduling: SchedulingSettings }): { path: string[]; message: string }[] {
  const { scheduling } = env;
  if (scheduling.batchScheduler !== 'yunikorn' || scheduling.yunikorn.allowUnsupportedKubernetesVersion) return [];
  const release = YUNIKORN_RELEASES[scheduling.yunikorn.chartVersion];
  if (!release || !/^1\.\d+$/.test(env.kubernetesVersion) || supportsKubernetes(release, env.kubernetesVersion)) return [];
  const others = releasesSupporting(env.kubernetesVersion);
  return [
    {
      path: ['scheduling', 'yunikorn', 'chartVersion'],
      message: `a YuniKorn release that supports Kubernetes ${env.kubernetesVersion} (${scheduling.yunikorn.chartVersion} supports ${release.kubernetes.min} to ${release.kubernetes.max}; ${
        others.length > 0 ? `known releases that do: ${others.join(', ')}, confirm the chart exists first` : 'no known release does'
      }), or scheduling.yunikorn.allowUnsupportedKubernetesVersion: true to install it anyway`,
    },
  ];
}

const cpu = z
  .union([z.string(), z.number()], { error: 'a Kubernetes CPU quantity > 0, such as "400" or "500m"' })
  .transform(String)
  .refine(isCpuQuantity, 'a Kubernetes CPU quantity > 0, such as "400" or "500m"');
const memory = z.string().refine(isMemoryQuantity, 'a Kubernetes memory quantity > 0 with a unit, such as 1600Gi or 512Mi');
const ResourcesSchema = z.strictObject({ cpu, memory });

export const QueueSchema = z
  .strictObject({
    max: ResourcesSchema.optional().describe('Most CPU and memory the running pods of the tenant may use (queue max), at least the quota. Default: the quota.'),
    maxRunningJobs: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .optional()
      .describe('Spark jobs running at once; more wait in the queue (up to quota.maxConcurrentJobs, at most that). Default: quota.maxConcurrentJobs.'),
    ordering: z.enum(['fifo', 'fair']).default('fifo').describe('fifo: jobs start in submission order (needed by gang scheduling); fair: the job using the least goes first.'),
  })
  .describe('YuniKorn queue root.tenants.<name>: guaranteed = quota, max, running jobs, ordering. Used with scheduling.batchScheduler yunikorn, ignored otherwise.');

export const GangSchedulingSchema = z
  .strictObject({
    minExecutors: z.number().int().min(1).max(10000).describe('Executors that must fit (next to the driver) before a job starts.'),
    timeoutSeconds: z.number().int().min(30).max(86400).default(600).describe('Seconds to wait for room; then the job starts with what fits.'),
    driver: ResourcesSchema.describe('Requests of the driver pod (spark.driver.cores, memory plus overhead).'),
    executor: ResourcesSchema.describe('Requests of one executor pod (spark.executor.cores, memory plus overhead).'),
  })
  .describe('Gang scheduling (YuniKorn): a job starts only when its driver and minExecutors executors fit. Used with scheduling.batchScheduler yunikorn.');

export type QueueSettings = z.output<typeof QueueSchema>;
export type GangSchedulingSettings = z.output<typeof GangSchedulingSchema>;

/** Whether an environment schedules Spark with YuniKorn. */
export function usesYunikorn(environment: Pick<Environment, 'scheduling'>): boolean {
  return environment.scheduling.batchScheduler === 'yunikorn';
}

function queueMax(tenant: TenantConfig): QueueResources {
  return tenant.queue.max ?? { cpu: tenant.quota.cpu, memory: tenant.quota.memory };
}

/**
 * A tenant's YuniKorn queue. `maxapplications` is maxRunningJobs (default: quota.maxConcurrentJobs)
 * + 1: the EMR job submitter pods of a namespace have no Spark application id and share one YuniKorn
 * application, which must never wait behind the Spark jobs it submits. Bounding running jobs by
 * maxConcurrentJobs in the queue keeps that bound for gang-scheduled tenants, whose `spark-drivers`
 * quota must also hold their placeholders (tenantDriverClassPlaceholders).
 */
export function tenantQueueProps(tenant: TenantConfig): TenantQueueProps {
  return {
    tenant: tenant.name,
    guaranteed: { cpu: tenant.quota.cpu, memory: tenant.quota.memory },
    max: queueMax(tenant),
    maxApplications: (tenant.queue.maxRunningJobs ?? tenant.quota.maxConcurrentJobs) + 1,
    ordering: tenant.queue.ordering,
  };
}

/** What routes a tenant's pods to YuniKorn (queue, gang scheduling), or undefined with the default scheduler. */
export function tenantYunikornPods(environment: Pick<Environment, 'scheduling'>, tenant: TenantConfig): YunikornPodSettings | undefined {
  if (!usesYunikorn(environment)) return undefined;
  const gang = tenant.spark.gangScheduling;
  return { queue: tenantQueuePath(tenant.name), ...(gang ? { gang } : {}) };
}

/**
 * Pods per gang-scheduled job, besides the driver, that carry the driver PriorityClass and so count
 * against the `spark-drivers` quota: YuniKorn 1.8 gives every placeholder the PriorityClass of the
 * application's originating pod (k8shim `pkg/cache/placeholder.go`, `newPlaceholder`), and the
 * originator is the driver. A job's peak is its driver, the driver placeholder and minExecutors
 * executor placeholders (the real driver and executors replace them one by one). 0 without gang
 * scheduling or YuniKorn.
 */
export function tenantDriverClassPlaceholders(environment: Pick<Environment, 'scheduling'>, tenant: TenantConfig): number {
  const gang = tenantYunikornPods(environment, tenant)?.gang;
  return gang ? 1 + gang.minExecutors : 0;
}

/** requests.cpu / requests.memory of the tenant's ResourceQuota (see the module comment). */
export function tenantResourceQuota(environment: Pick<Environment, 'scheduling'>, tenant: TenantConfig): QueueResources {
  if (!usesYunikorn(environment)) return { cpu: tenant.quota.cpu, memory: tenant.quota.memory };
  const max = queueMax(tenant);
  const ratio = environment.scheduling.yunikorn.resourceQuotaRatio;
  return { cpu: scaleQuantity(max.cpu, ratio), memory: scaleQuantity(max.memory, ratio) };
}

/** CPU and memory the tenant's pods may use at once (dedicated NodePool limits). */
export function tenantCapacityLimit(environment: Pick<Environment, 'scheduling'>, tenant: TenantConfig): QueueResources {
  return usesYunikorn(environment) ? queueMax(tenant) : { cpu: tenant.quota.cpu, memory: tenant.quota.memory };
}

/** Problems of a tenant's queue and gang settings against its own quota and the environment. */
export function tenantSchedulingProblems(tenant: TenantConfig, environment: Pick<Environment, 'scheduling' | 'file'>): ConfigProblem[] {
  const { file } = tenant;
  const problems: ConfigProblem[] = [];
  const max = queueMax(tenant);
  if (tenant.queue.max) {
    for (const resource of ['cpu', 'memory'] as const) {
      if (compareQuantities(tenant.queue.max[resource], tenant.quota[resource]) < 0) {
        problems.push({ file, field: `queue.max.${resource}`, expected: `at least quota.${resource} (${tenant.quota[resource]}): the quota is the guaranteed part of the max`, found: describeValue(tenant.queue.max[resource]) });
      }
    }
  }
  if (tenant.queue.maxRunningJobs !== undefined && tenant.queue.maxRunningJobs > tenant.quota.maxConcurrentJobs) {
    problems.push({
      file,
      field: 'queue.maxRunningJobs',
      expected: `at most quota.maxConcurrentJobs (${tenant.quota.maxConcurrentJobs}): jobs beyond maxRunningJobs wait in the queue, jobs beyond maxConcurrentJobs are rejected, so a larger maxRunningJobs never applies`,
      found: describeValue(tenant.queue.maxRunningJobs),
    });
  }
  const gang = tenant.spark.gangScheduling;
  if (gang) {
    const maxExecutors = tenant.jobDefaults.executors.max;
    if (gang.minExecutors > maxExecutors) {
      problems.push({
        file,
        field: 'spark.gangScheduling.minExecutors',
        expected: `at most jobDefaults.executors.max (${maxExecutors}): placeholders beyond the executors a job may have hold capacity until the timeout`,
        found: describeValue(gang.minExecutors),
      });
    }
    if (tenant.queue.ordering !== 'fifo') {
      problems.push({ file, field: 'queue.ordering', expected: 'fifo (YuniKorn gang scheduling, spark.gangScheduling, needs a FIFO queue)', found: describeValue(tenant.queue.ordering) });
    }
    const terms = (resource: 'cpu' | 'memory') => [
      { quantity: gang.driver[resource], times: 1 },
      { quantity: gang.executor[resource], times: gang.minExecutors },
    ];
    const over = (['cpu', 'memory'] as const).filter((resource) => !fitsIn(sumQuantities(terms(resource)), max[resource]));
    if (over.length > 0) {
      problems.push({
        file,
        field: 'spark.gangScheduling.minExecutors',
        expected: `a gang (driver + minExecutors x executor) that fits the queue max (${max.cpu} CPU, ${max.memory}): YuniKorn rejects jobs whose placeholders exceed it (${over.join(' and ')} would)`,
        found: describeValue(gang.minExecutors),
      });
    }
    if (usesYunikorn(environment) && environment.scheduling.yunikorn.resourceQuotaRatio < 2) {
      problems.push({
        file,
        field: 'spark.gangScheduling',
        expected: `scheduling.yunikorn.resourceQuotaRatio of at least 2 in ${environment.file} (placeholders and the pods replacing them both count against the namespace ResourceQuota for a moment)`,
        found: `resourceQuotaRatio ${environment.scheduling.yunikorn.resourceQuotaRatio}`,
      });
    }
  }
  return problems;
}
