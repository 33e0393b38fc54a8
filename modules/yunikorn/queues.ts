/**
 * YuniKorn's queue configuration (`queues.yaml`) for the tenants of one cluster:
 *
 * - one partition `default` (the only one the Kubernetes shim supports), node sort policy
 *   `binpacking` (fills nodes before using empty ones, so Karpenter can consolidate), preemption on;
 * - `root.tenants` (a parent, anyone may submit: placement decides the queue) with one leaf per
 *   tenant: `guaranteed` (what preemption reclaims for the tenant and what fair sharing between
 *   tenants is weighed by), `max` (beyond it applications wait in the queue), `maxapplications`,
 *   the ordering of applications (FIFO or fair) and the preemption delay;
 * - one placement rule: the queue is `root.tenants.<namespace>` and is never created on the fly,
 *   so a pod lands in its own namespace's queue whatever labels it carries, and a namespace without
 *   a queue is rejected rather than scheduled without limits.
 *
 * Key names and checks follow apache/yunikorn-core `pkg/common/configs/config.go` (strict YAML
 * decoding: unknown keys are errors) and `configvalidator.go` (tags v1.8.0 and v1.9.0-0).
 */
import { stringify } from 'yaml';
import { PARTITION, TENANTS_QUEUE } from './names.js';
import { compareQuantities, yunikornMemory, yunikornVcore } from './quantity.js';

/** Queue names YuniKorn accepts (`QueueNameRegExp`). */
export const QUEUE_NAME = /^[a-zA-Z0-9_:#/@-]{1,64}$/;
/** A Go duration, as `preemption.delay` takes it ("30s", "1m30s"). */
export const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

export type ApplicationOrdering = 'fifo' | 'fair';

export interface QueueResources {
  /** A Kubernetes CPU quantity ("400", "500m"). */
  readonly cpu: string;
  /** A Kubernetes memory quantity ("1600Gi"). */
  readonly memory: string;
}

export interface TenantQueueProps {
  /** Tenant name = namespace = leaf queue name. */
  readonly tenant: string;
  /** Resources the tenant gets back through preemption when it is below them and others are above theirs. */
  readonly guaranteed: QueueResources;
  /** Most the tenant's running pods may use; more waits in the queue. At least `guaranteed`. */
  readonly max: QueueResources;
  /**
   * Applications running at once; more wait in the queue in order.
   * @default no limit
   */
  readonly maxApplications?: number;
  /**
   * `fifo`: applications start in submission order (needed by gang scheduling); `fair`: the
   * application using the least runs next.
   * @default 'fifo'
   */
  readonly ordering?: ApplicationOrdering;
}

export interface QueueConfigProps {
  readonly tenants: readonly TenantQueueProps[];
  /**
   * How long a tenant below its guarantee waits with pending pods before YuniKorn preempts pods of
   * tenants above theirs (a Go duration).
   * @default '30s'
   */
  readonly preemptionDelay?: string;
  /**
   * How YuniKorn picks nodes: `binpacking` fills busy nodes first (empty nodes stay empty for
   * Karpenter to remove); `fair` spreads pods.
   * @default 'binpacking'
   */
  readonly nodeSortPolicy?: 'binpacking' | 'fair';
}

/** The shapes of queues.yaml (lower-case keys, as YuniKorn's strict YAML decoder expects). */
export interface QueueConfig {
  name: string;
  parent?: boolean;
  submitacl?: string;
  resources?: { guaranteed?: Record<string, string>; max?: Record<string, string> };
  maxapplications?: number;
  properties?: Record<string, string>;
  queues?: QueueConfig[];
}

export interface PlacementRule {
  name: string;
  value?: string;
  create?: boolean;
  parent?: PlacementRule;
}

export interface SchedulerConfig {
  partitions: {
    name: string;
    nodesortpolicy: { type: string };
    preemption: { enabled: boolean };
    placementrules: PlacementRule[];
    queues: QueueConfig[];
  }[];
}

export class InvalidQueueConfigError extends Error {
  override name = 'InvalidQueueConfigError';
}

function yunikornResources(resources: QueueResources): Record<string, string> {
  return { vcore: yunikornVcore(resources.cpu), memory: yunikornMemory(resources.memory) };
}

function tenantQueue(props: TenantQueueProps, preemptionDelay: string): QueueConfig {
  const where = `queue ${TENANTS_QUEUE}.${props.tenant}`;
  if (!QUEUE_NAME.test(props.tenant)) throw new InvalidQueueConfigError(`${where}: the name must match ${QUEUE_NAME} (1-64 characters, no dots)`);
  for (const resource of ['cpu', 'memory'] as const) {
    if (compareQuantities(props.guaranteed[resource], props.max[resource]) > 0) {
      throw new InvalidQueueConfigError(`${where}: guaranteed ${resource} ${props.guaranteed[resource]} is more than max ${props.max[resource]}`);
    }
  }
  if (props.maxApplications !== undefined && !(Number.isInteger(props.maxApplications) && props.maxApplications >= 1)) {
    throw new InvalidQueueConfigError(`${where}: maxapplications must be a whole number >= 1, found ${props.maxApplications}`);
  }
  return {
    name: props.tenant,
    resources: { guaranteed: yunikornResources(props.guaranteed), max: yunikornResources(props.max) },
    ...(props.maxApplications !== undefined ? { maxapplications: props.maxApplications } : {}),
    properties: {
      'application.sort.policy': props.ordering ?? 'fifo',
      'preemption.delay': preemptionDelay,
    },
  };
}

/** The scheduler configuration object (validated as YuniKorn would). */
export function queueConfiguration(props: QueueConfigProps): SchedulerConfig {
  const preemptionDelay = props.preemptionDelay ?? '30s';
  if (!GO_DURATION.test(preemptionDelay)) throw new InvalidQueueConfigError(`preemption delay must be a Go duration such as 30s or 2m, found ${JSON.stringify(preemptionDelay)}`);
  const seen = new Set<string>();
  for (const tenant of props.tenants) {
    // YuniKorn compares child names case-insensitively.
    const key = tenant.tenant.toLowerCase();
    if (seen.has(key)) throw new InvalidQueueConfigError(`queue ${TENANTS_QUEUE}.${tenant.tenant} is defined twice`);
    seen.add(key);
  }
  const [, tenantsName] = TENANTS_QUEUE.split('.') as [string, string];
  const leaves = [...props.tenants].sort((a, b) => a.tenant.localeCompare(b.tenant)).map((t) => tenantQueue(t, preemptionDelay));
  return {
    partitions: [
      {
        name: PARTITION,
        nodesortpolicy: { type: props.nodeSortPolicy ?? 'binpacking' },
        preemption: { enabled: true },
        placementrules: [{ name: 'tag', value: 'namespace', create: false, parent: { name: 'fixed', value: TENANTS_QUEUE } }],
        queues: [
          {
            name: 'root',
            // root may not carry resources; tenants share whatever the NodePools can provide.
            queues: [{ name: tenantsName, parent: true, submitacl: '*', queues: leaves }],
          },
        ],
      },
    ],
  };
}

/** queues.yaml text: the configuration with a header saying where it comes from. */
export function queuesYaml(props: QueueConfigProps, header?: string): string {
  const comment = header ? `${header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n')}\n` : '';
  return `${comment}${stringify(queueConfiguration(props), { lineWidth: 0 })}`;
}
