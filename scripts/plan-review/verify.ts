/**
 * plan-verify: is the plan about to be applied the plan that was reviewed? (see compare.ts)
 *
 *   node dist/scripts/plan-review/verify.js [--stack <name>] <reviewed plan.json> <plan.json>
 *
 * Both files are `terraform show -json` output. Prints Markdown (the differences, or that the plans
 * match). Exit codes: 0 same, 4 different, 2 usage error or unreadable input (the message names the
 * file). The deploy workflow does the same per stack through `ci-stacks deploy`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { comparePlans, EXIT_DIFFERENT, renderComparison } from './compare.js';
import { defaultStackName, EXIT_OK, EXIT_USAGE, PlanInputError, readPlanFile } from './review.js';

export const USAGE = 'usage: plan-verify [--stack <name>] <reviewed plan.json> <plan.json>';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function main(argv: readonly string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { stack: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    io.stderr(`plan-verify: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (parsed.positionals.length !== 2) {
    io.stderr(`plan-verify: expected two plan files, found ${parsed.positionals.length}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const [reviewedFile, nowFile] = parsed.positionals as [string, string];
  try {
    const comparison = comparePlans(parsed.values.stack ?? defaultStackName(nowFile), readPlanFile(reviewedFile), readPlanFile(nowFile));
    io.stdout(renderComparison(comparison));
    return comparison.same ? EXIT_OK : EXIT_DIFFERENT;
  } catch (error) {
    if (!(error instanceof PlanInputError)) throw error;
    io.stderr(`plan-verify: ${error.message}\n`);
    return EXIT_USAGE;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
