/**
 * Stacks an environment leaves out (such as `yunikorn` with `scheduling.batchScheduler: default`),
 * as the synth records them in `cdktf.out/platform.json`. Their Nx targets exist in every
 * environment; in those environments `tf.js` reports them and succeeds doing nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DisabledStackRecord {
  readonly environment: string;
  readonly reason: string;
}

/** The record of `stack` if the last synth into `outdir` left it out of its environment. */
export function disabledStack(outdir: string, stack: string): DisabledStackRecord | undefined {
  const file = join(outdir, 'platform.json');
  if (!existsSync(file)) return undefined;
  const platform = JSON.parse(readFileSync(file, 'utf8')) as { environment?: unknown; disabled?: { name?: unknown; reason?: unknown }[] };
  const entry = (platform.disabled ?? []).find((d) => d.name === stack);
  return entry ? { environment: String(platform.environment), reason: String(entry.reason) } : undefined;
}
