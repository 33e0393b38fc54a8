/**
 * Runs one task per stack with bounded concurrency, never starting a stack before the stacks it
 * depends on have finished. CI plans (and applies) many independent stacks this way: 100 tenant
 * stacks after the platform stacks they read take a quarter of the time at concurrency 4.
 *
 * Among stacks that are ready, the given order decides (deploy order in, deterministic out).
 * With `skipDependentsOfFailed`, a stack whose upstream failed or was skipped is skipped (an apply
 * must not run on top of an upstream that did not apply); without it every stack runs (plans only
 * read upstream state, so a failed upstream plan says nothing about a downstream one).
 */

export type StackOutcome = 'succeeded' | 'failed' | 'skipped';

export interface StackRun {
  readonly stack: string;
  readonly outcome: StackOutcome;
  /** Why a stack failed or was skipped. */
  readonly reason?: string;
  /** Milliseconds since the schedule started. */
  readonly startedMs: number;
  readonly finishedMs: number;
}

export interface ScheduleOptions {
  /** At most this many tasks at once (>= 1). */
  readonly concurrency: number;
  /** @default false */
  readonly skipDependentsOfFailed?: boolean;
  /** The task of one stack: resolves to `true` (or `{ ok: true }`) when it succeeded. Throwing counts as failing. */
  readonly run: (stack: string) => Promise<boolean | { ok: boolean; reason?: string }>;
  /** Called when a stack finishes (for streaming logs in finishing order). */
  readonly onFinished?: (run: StackRun) => void;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/**
 * Runs `stacks` (in deploy order) respecting `dependencies` (stack -> the stacks of `stacks` it
 * must follow). Returns one entry per stack, in the given order.
 */
export async function runInDependencyOrder(stacks: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>, options: ScheduleOptions): Promise<StackRun[]> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new ScheduleError(`concurrency must be a whole number >= 1, found ${options.concurrency}`);
  if (new Set(stacks).size !== stacks.length) throw new ScheduleError(`a stack is listed twice: ${stacks.filter((s, i) => stacks.indexOf(s) !== i).join(', ')}`);
  const waitingOn = new Map<string, Set<string>>();
  for (const stack of stacks) {
    const upstream = (dependencies.get(stack) ?? []).filter((d) => d !== stack && stacks.includes(d));
    waitingOn.set(stack, new Set(upstream));
  }
  assertAcyclic(stacks, waitingOn);

  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const results = new Map<string, StackRun>();
  const pending = [...stacks];
  let running = 0;

  return new Promise<StackRun[]>((resolve) => {
    const finish = (run: StackRun): void => {
      results.set(run.stack, run);
      options.onFinished?.(run);
    };
    const pump = (): void => {
      // Skip what can no longer run, then start what is ready, in order, up to the limit.
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const stack of [...pending]) {
          const upstream = [...waitingOn.get(stack)!];
          const blocked = upstream.filter((u) => results.get(u) && results.get(u)!.outcome !== 'succeeded');
          if (options.skipDependentsOfFailed && blocked.length > 0) {
            pending.splice(pending.indexOf(stack), 1);
            const now = elapsed();
            finish({ stack, outcome: 'skipped', reason: `upstream ${blocked.join(', ')} ${blocked.length === 1 ? 'was' : 'were'} not applied`, startedMs: now, finishedMs: now });
            progressed = true;
          }
        }
      }
      for (const stack of [...pending]) {
        if (running >= options.concurrency) break;
        const upstream = [...waitingOn.get(stack)!];
        if (!upstream.every((u) => results.has(u))) continue;
        pending.splice(pending.indexOf(stack), 1);
        running += 1;
        const startedMs = elapsed();
        void (async () => {
          let outcome: StackOutcome = 'failed';
          let reason: string | undefined;
          try {
            const result = await options.run(stack);
            const ok = typeof result === 'boolean' ? result : result.ok;
            if (typeof result === 'object' && result.reason) reason = result.reason;
            outcome = ok ? 'succeeded' : 'failed';
          } catch (error) {
            reason = (error as Error).message;
          }
          running -= 1;
          finish({ stack, outcome, ...(reason ? { reason } : {}), startedMs, finishedMs: elapsed() });
          pump();
        })();
      }
      if (pending.length === 0 && running === 0) resolve(stacks.map((s) => results.get(s)!));
    };
    pump();
  });
}

function assertAcyclic(stacks: readonly string[], waitingOn: ReadonlyMap<string, ReadonlySet<string>>): void {
  const done = new Set<string>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const stack of stacks) {
      if (!done.has(stack) && [...waitingOn.get(stack)!].every((u) => done.has(u))) {
        done.add(stack);
        progressed = true;
      }
    }
  }
  const cyclic = stacks.filter((s) => !done.has(s));
  if (cyclic.length > 0) throw new ScheduleError(`dependency cycle among: ${cyclic.join(', ')}`);
}
