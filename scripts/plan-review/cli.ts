/**
 * plan-review: summarise `terraform show -json` plans for a human reviewer.
 *
 *   npm run plan-review -- [--out review.md] <plan.json | stack=plan.json>...
 *
 * Writes Markdown to stdout (and to `--out` when given). The stack name is the plan file's parent
 * folder unless given as `stack=path`. Exit codes (see review.ts): 0 nothing high-risk, 3 high-risk
 * changes present, 2 usage error or unreadable / non-plan input (the message names the file).
 */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { renderMarkdown } from './markdown.js';
import { EXIT_OK, EXIT_USAGE, PlanInputError, parsePlanArgument, readPlanFile, reviewPlans, type PlanInput } from './review.js';

export const USAGE = `usage: plan-review [--out <file.md>] <plan.json | name=plan.json>...

Summarises \`terraform show -json <planfile>\` output as Markdown for reviewers.
The stack name is the plan file's parent folder name; \`name=path\` overrides it.
Exit codes: 0 nothing high-risk, 3 high-risk changes, 2 usage error or bad input.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs the command and returns its exit code. */
export function main(argv: readonly string[], io: CliIo = processIo): number {
  const inputs: PlanInput[] = [];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      io.stdout(`${USAGE}\n`);
      return EXIT_OK;
    } else if (arg === '--out' || arg === '-o') {
      out = argv[++i];
      if (!out) return usageError(io, `${arg} needs a file name`);
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length);
      if (!out) return usageError(io, '--out= needs a file name');
    } else if (arg === '--') {
      inputs.push(...argv.slice(i + 1).map((a) => parsePlanArgument(a, existsSync)));
      break;
    } else if (arg.startsWith('-') && arg !== '-') {
      return usageError(io, `unknown option ${arg}`);
    } else {
      inputs.push(parsePlanArgument(arg, existsSync));
    }
  }
  if (inputs.length === 0) return usageError(io, 'no plan files given');

  const plans = [];
  try {
    for (const input of inputs) plans.push({ ...input, plan: readPlanFile(input.file) });
  } catch (error) {
    if (!(error instanceof PlanInputError)) throw error;
    io.stderr(`plan-review: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const review = reviewPlans(plans);
  const markdown = renderMarkdown(review);
  io.stdout(markdown);
  if (out) {
    try {
      writeFileSync(out, markdown);
    } catch (error) {
      io.stderr(`plan-review: cannot write ${out}: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
  }
  return review.exitCode;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`plan-review: ${message}\n${USAGE}\n`);
  return EXIT_USAGE;
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
