/**
 * What routes a tenant's Spark pods to YuniKorn, added on top of the placement the pod templates
 * already carry (modules/tenant/pod-templates.ts):
 *
 * | what                         | driver                                        | executors                     |
 * |------------------------------|-----------------------------------------------|-------------------------------|
 * | always                       | `schedulerName: yunikorn`, queue label        | same                          |
 * |                              | `allow-preemption: "false"` (a lost driver loses the job; executors are what preemption takes back) | |
 * | gang scheduling              | task groups, task group `spark-driver`, `placeholderTimeoutInSeconds` | task group `spark-executor` |
 *
 * No application id is ever written: Spark's `spark-app-selector` label (one value per run) is
 * YuniKorn's application id, so every run is its own application.
 *
 * Gang scheduling: the driver (the application's first pod) declares two task groups, one driver
 * and `minExecutors` executors. YuniKorn first creates placeholder pods for them; the job starts
 * once all fit (or, after the timeout, with what fits: style `Soft`). Placeholders take their
 * placement only from the task group, so each group repeats the node selector, tolerations and
 * affinity of the real pods: unschedulable placeholders make Karpenter launch the same nodes the
 * real pods need. One translation is needed: the executors' required pod affinity (same zone as
 * their own driver) selects `spark-role=driver` with `matchLabelKeys: [spark-app-selector]`, labels
 * placeholders do not carry. In the task groups the same term selects the driver placeholder by
 * `spark-platform.io/gang-member=driver` (the task group's labels) and the application by
 * `yunikorn.apache.org/app-id` (which YuniKorn puts on every placeholder, = spark-app-selector).
 */
import { Pod } from 'kubernetes-models/v1/Pod';
import { LABEL_DOMAIN, type SparkRole, WELL_KNOWN } from '../scheduling/spark-pools.js';
import { SPARK_POD_LABELS } from '../tenant/pod-templates.js';
import { SCHEDULER_NAME, SCHEDULING_POLICY_KEYS, YUNIKORN_KEYS } from './names.js';
import type { QueueResources } from './queues.js';

/** Task group names (and the role each one stands for). */
export const TASK_GROUPS: Readonly<Record<SparkRole, string>> = { driver: 'spark-driver', executor: 'spark-executor' };

/** Label on placeholder pods (through the task group): which Spark role the placeholder holds room for. */
export const GANG_MEMBER_LABEL = `${LABEL_DOMAIN}/gang-member`;

/** Real-pod label keys and the placeholder label keys that stand for them in task group affinity. */
const PLACEHOLDER_LABEL_KEYS: Readonly<Record<string, string>> = {
  [SPARK_POD_LABELS.role]: GANG_MEMBER_LABEL,
  [SPARK_POD_LABELS.appSelector]: YUNIKORN_KEYS.appIdLabel,
};

export interface GangScheduling {
  /** Executors that must fit before the job starts (>= 1). */
  readonly minExecutors: number;
  /** Seconds placeholders wait for room before the job starts with what fits. */
  readonly timeoutSeconds: number;
  /** Requests of the driver pod (Spark memory plus overhead). */
  readonly driver: QueueResources;
  /** Requests of one executor pod (Spark memory plus overhead). */
  readonly executor: QueueResources;
}

export interface YunikornPodSettings {
  /** Full queue path (`root.tenants.<tenant>`). */
  readonly queue: string;
  /**
   * Gang scheduling of every job of the tenant.
   * @default none (pods are scheduled one by one)
   */
  readonly gang?: GangScheduling;
}

type PodSpec = NonNullable<NonNullable<ConstructorParameters<typeof Pod>[0]>['spec']>;
type Affinity = NonNullable<PodSpec['affinity']>;
type PodAffinityTerm = NonNullable<NonNullable<Affinity['podAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>[number];

/** The task group entry of `yunikorn.apache.org/task-groups` (field names as YuniKorn's TaskGroup). */
export interface TaskGroup {
  readonly name: string;
  readonly minMember: number;
  readonly minResource: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: PodSpec['tolerations'];
  readonly affinity?: Affinity;
}

const placeholderKey = (key: string) => PLACEHOLDER_LABEL_KEYS[key] ?? key;

function placeholderTerm(term: PodAffinityTerm): PodAffinityTerm {
  const selector = term.labelSelector;
  return {
    ...term,
    ...(selector
      ? {
          labelSelector: {
            ...(selector.matchLabels ? { matchLabels: Object.fromEntries(Object.entries(selector.matchLabels).map(([k, v]) => [placeholderKey(k), v])) } : {}),
            ...(selector.matchExpressions ? { matchExpressions: selector.matchExpressions.map((e) => ({ ...e, key: placeholderKey(e.key) })) } : {}),
          },
        }
      : {}),
    ...(term.matchLabelKeys ? { matchLabelKeys: term.matchLabelKeys.map(placeholderKey) } : {}),
    ...(term.mismatchLabelKeys ? { mismatchLabelKeys: term.mismatchLabelKeys.map(placeholderKey) } : {}),
  };
}

/** A pod's affinity as a task group must state it for placeholders (see the module comment). */
export function placeholderAffinity(affinity: Affinity): Affinity {
  const podTerms = (terms: NonNullable<Affinity['podAffinity']> | undefined) =>
    terms && {
      ...(terms.requiredDuringSchedulingIgnoredDuringExecution
        ? { requiredDuringSchedulingIgnoredDuringExecution: terms.requiredDuringSchedulingIgnoredDuringExecution.map(placeholderTerm) }
        : {}),
      ...(terms.preferredDuringSchedulingIgnoredDuringExecution
        ? {
            preferredDuringSchedulingIgnoredDuringExecution: terms.preferredDuringSchedulingIgnoredDuringExecution.map((w) => ({
              ...w,
              podAffinityTerm: placeholderTerm(w.podAffinityTerm),
            })),
          }
        : {}),
    };
  const podAffinity = podTerms(affinity.podAffinity);
  const podAntiAffinity = podTerms(affinity.podAntiAffinity);
  return {
    ...(affinity.nodeAffinity ? { nodeAffinity: affinity.nodeAffinity } : {}),
    ...(podAffinity ? { podAffinity } : {}),
    ...(podAntiAffinity ? { podAntiAffinity } : {}),
  };
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function taskGroup(role: SparkRole, pod: Pod, minMember: number, resources: QueueResources): TaskGroup {
  const spec = plain(pod.spec ?? {}) as PodSpec;
  return {
    name: TASK_GROUPS[role],
    minMember,
    minResource: { cpu: resources.cpu, memory: resources.memory },
    labels: { [GANG_MEMBER_LABEL]: role },
    // Placeholders hold nodes for a job about to start: Karpenter must not consolidate them away.
    annotations: { [WELL_KNOWN.doNotDisrupt]: 'true' },
    ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
    ...(spec.affinity ? { affinity: placeholderAffinity(spec.affinity) } : {}),
  };
}

export class InvalidGangSchedulingError extends Error {
  override name = 'InvalidGangSchedulingError';
}

/** The task groups of a tenant's jobs, from its real driver and executor pod templates. */
export function sparkTaskGroups(pods: { readonly driver: Pod; readonly executor: Pod }, gang: GangScheduling): TaskGroup[] {
  if (!Number.isInteger(gang.minExecutors) || gang.minExecutors < 1) throw new InvalidGangSchedulingError(`minExecutors must be a whole number >= 1, found ${gang.minExecutors}`);
  if (!Number.isInteger(gang.timeoutSeconds) || gang.timeoutSeconds < 1) throw new InvalidGangSchedulingError(`timeoutSeconds must be a whole number >= 1, found ${gang.timeoutSeconds}`);
  return [taskGroup('driver', pods.driver, 1, gang.driver), taskGroup('executor', pods.executor, gang.minExecutors, gang.executor)];
}

/** `schedulingPolicyParameters`: the placeholder timeout, and `Soft` (start with what fits rather than fail). */
export function schedulingPolicyParameters(gang: GangScheduling): string {
  return `${SCHEDULING_POLICY_KEYS.placeholderTimeout}=${gang.timeoutSeconds} ${SCHEDULING_POLICY_KEYS.gangStyle}=Soft`;
}

function withAdditions(pod: Pod, labels: Record<string, string>, annotations: Record<string, string>): Pod {
  const json = plain(pod.toJSON()) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  const merged = (base: Record<string, string> | undefined, added: Record<string, string>) => {
    const all = { ...base, ...added };
    return Object.keys(all).length > 0 ? all : undefined;
  };
  const mergedLabels = merged(json.metadata?.labels, labels);
  const mergedAnnotations = merged(json.metadata?.annotations, annotations);
  const { metadata, spec, ...rest } = json;
  return new Pod({
    ...rest,
    metadata: {
      ...metadata,
      ...(mergedLabels ? { labels: mergedLabels } : {}),
      ...(mergedAnnotations ? { annotations: mergedAnnotations } : {}),
    },
    spec: { ...spec, schedulerName: SCHEDULER_NAME },
  });
}

/** The driver and executor pod templates, routed to YuniKorn (see the module comment). */
export function yunikornPodTemplates(pods: { readonly driver: Pod; readonly executor: Pod }, settings: YunikornPodSettings): { driver: Pod; executor: Pod } {
  const queue = { [YUNIKORN_KEYS.queueLabel]: settings.queue };
  const gang = settings.gang;
  const driverAnnotations: Record<string, string> = { [YUNIKORN_KEYS.allowPreemption]: 'false' };
  const executorAnnotations: Record<string, string> = {};
  if (gang) {
    driverAnnotations[YUNIKORN_KEYS.taskGroups] = JSON.stringify(sparkTaskGroups(pods, gang));
    driverAnnotations[YUNIKORN_KEYS.taskGroupName] = TASK_GROUPS.driver;
    driverAnnotations[YUNIKORN_KEYS.schedulingPolicyParameters] = schedulingPolicyParameters(gang);
    executorAnnotations[YUNIKORN_KEYS.taskGroupName] = TASK_GROUPS.executor;
  }
  return {
    driver: withAdditions(pods.driver, queue, driverAnnotations),
    executor: withAdditions(pods.executor, queue, executorAnnotations),
  };
}

/**
 * spark-defaults that route a job to YuniKorn even without the pod templates (Spark 3.3+:
 * `spark.kubernetes.scheduler.name`), with the queue label on every pod.
 */
export function yunikornSparkConf(queue: string): Record<string, string> {
  return {
    'spark.kubernetes.scheduler.name': SCHEDULER_NAME,
    [`spark.kubernetes.driver.label.${YUNIKORN_KEYS.queueLabel}`]: queue,
    [`spark.kubernetes.executor.label.${YUNIKORN_KEYS.queueLabel}`]: queue,
  };
}
