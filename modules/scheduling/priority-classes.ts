/**
 * PriorityClasses of Spark pods (names in `PRIORITY_CLASSES`):
 * - drivers high, allowed to preempt: losing or starving a driver loses the whole job, so a
 *   pending driver may evict lower-priority pods;
 * - executors low and never preempting: an executor is replaceable (Spark retries its tasks and
 *   decommissioning migrates its blocks), so it yields rather than evicts.
 */
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, PRIORITY_CLASSES } from './spark-pools.js';

export interface SparkPriorityValues {
  /**
   * Priority of drivers: above every workload (0 by default), below `system-*` classes (2e9).
   * @default 1000000
   */
  readonly driver?: number;
  /**
   * Priority of executors: below workloads without a class (0), so they are the first to go, and
   * not below -10 (autoscalers treat lower priorities as expendable and do not scale for them).
   * @default -10
   */
  readonly executor?: number;
}

export function sparkPriorityClasses(values: SparkPriorityValues = {}): { driver: PriorityClass; executor: PriorityClass } {
  const driver = values.driver ?? 1_000_000;
  const executor = values.executor ?? -10;
  if (!(driver > executor)) throw new Error(`PriorityClass values: expected driver (${driver}) > executor (${executor})`);
  if (driver > 1_000_000_000) throw new Error(`PriorityClass values: expected at most 1000000000 (higher is reserved for system classes), found ${driver}`);
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM };
  return {
    driver: new PriorityClass({
      metadata: { name: PRIORITY_CLASSES.sparkDriver, labels },
      value: driver,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
      description: 'Spark drivers: a lost driver loses the job, so drivers may preempt lower-priority pods.',
    }),
    executor: new PriorityClass({
      metadata: { name: PRIORITY_CLASSES.sparkExecutor, labels },
      value: executor,
      globalDefault: false,
      preemptionPolicy: 'Never',
      description: 'Spark executors: replaceable, preempted first and never preempting others.',
    }),
  };
}
