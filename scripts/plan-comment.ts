/**
 * plan-comment: the CI glue around plan-review. Builds the one sticky pull-request comment from
 * each environment's plan-review output, and decides the high-risk gate.
 *
 *   node dist/scripts/plan-comment.js build --sha <sha> --reviews <dir> --out comment.md [--affected '<json list>'] [--plan-result success]
 *       <dir>/review-<env>/ holds review.md, exit-code (plan-review's exit code), failed-stacks.txt and notes.txt.
 *       Prints GitHub step outputs: high-risk=true|false and complete=true|false.
 *   node dist/scripts/plan-comment.js parse --sha <sha> --comment <file>
 *       Reads the result marker of an existing comment (label events re-check the gate without
 *       planning again); prints the same outputs, or exits 1 if the comment has no result for <sha>.
 *   node dist/scripts/plan-comment.js gate --high-risk <bool> --complete <bool> --labels '<json list>'
 *       Exit 0 when the pull request may merge, 1 (with the reason) when it may not.
 *
 * The comment starts with COMMENT_MARKER (how the workflow finds it to update it in place) and
 * carries RESULT_MARKER with the head commit, so a result is never applied to another commit.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_HIGH_RISK, EXIT_OK } from './plan-review/review.js';

/** Hidden first line of the sticky comment. */
export const COMMENT_MARKER = '<!-- spark-platform:plan-review -->';
/** The label a reviewer adds to accept high-risk changes. */
export const APPROVAL_LABEL = 'approved-high-risk';
/** GitHub rejects comments longer than 65,536 characters. */
export const MAX_COMMENT_LENGTH = 65_000;

const RESULT_MARKER = /<!-- spark-platform:plan-review-result sha=([0-9a-f]{7,40}) high-risk=(true|false) complete=(true|false) -->/;

export interface EnvironmentReview {
  readonly environment: string;
  /** plan-review's Markdown; undefined when the environment produced none (its plan job failed early). */
  readonly markdown?: string;
  /** plan-review's exit code (0 ok, 3 high risk, 2 bad input). */
  readonly exitCode?: number;
  /** Stacks whose `terraform plan` failed. */
  readonly failedStacks: readonly string[];
  /** Notes from the plan job (e.g. stacks skipped because their state is local). */
  readonly notes?: readonly string[];
}

export interface CommentInput {
  readonly sha: string;
  readonly reviews: readonly EnvironmentReview[];
  /** Affected stacks in deploy order; empty means nothing to plan. */
  readonly affected: readonly string[];
  /** Result of the plan jobs (`success`, `failure`, `cancelled`, `skipped`). */
  readonly planResult: string;
}

export interface CommentResult {
  readonly body: string;
  readonly highRisk: boolean;
  /** Every affected stack was planned and reviewed in every environment. */
  readonly complete: boolean;
}

/** Demotes plan-review's headings by one level so they nest under the environment heading. */
function nest(markdown: string): string {
  return markdown
    .replace(/^# Terraform plan review\s*\n/, '')
    .split('\n')
    .map((line) => (/^#{1,5} /.test(line) ? `#${line}` : line))
    .join('\n')
    .trim();
}

export function buildComment(input: CommentInput): CommentResult {
  const nothingToPlan = input.affected.length === 0;
  const highRisk = input.reviews.some((r) => r.exitCode === EXIT_HIGH_RISK);
  const complete =
    nothingToPlan ||
    (input.planResult === 'success' &&
      input.reviews.length > 0 &&
      input.reviews.every((r) => r.markdown !== undefined && (r.exitCode === EXIT_OK || r.exitCode === EXIT_HIGH_RISK) && r.failedStacks.length === 0));
  const lines = [COMMENT_MARKER, `<!-- spark-platform:plan-review-result sha=${input.sha} high-risk=${highRisk} complete=${complete} -->`, '# Terraform plan review', ''];
  lines.push(`Commit \`${input.sha.slice(0, 12)}\`.`);
  if (nothingToPlan) {
    lines.push('', 'No stack is affected by this change: nothing to plan.');
    return { body: `${lines.join('\n')}\n`, highRisk: false, complete: true };
  }
  lines.push(`Affected stacks, in deploy order: ${input.affected.map((s) => `\`${s}\``).join(', ')}.`, '');
  if (highRisk) {
    lines.push(`> [!CAUTION]`, `> **High-risk changes.** Merging needs a reviewer to add the \`${APPROVAL_LABEL}\` label after reading the findings below.`, '');
  }
  if (!complete) {
    lines.push('> [!WARNING]', '> **The plan is incomplete**: some stacks were not planned or reviewed (see below and the job logs). This pull request cannot merge until a run completes.', '');
  }
  for (const review of input.reviews) {
    lines.push(`## Environment \`${review.environment}\``, '');
    if (review.failedStacks.length > 0) lines.push(`**terraform plan failed** for ${review.failedStacks.map((s) => `\`${s}\``).join(', ')}.`, '');
    for (const note of review.notes ?? []) lines.push(`> ${note}`, '');
    if (review.markdown === undefined) lines.push('No plan review was produced for this environment.', '');
    else lines.push(nest(review.markdown), '');
  }
  lines.push('Plans (`plan.tfplan`) and their JSON are attached to the workflow run as artifacts `plan-<environment>`.');
  let body = `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
  if (body.length > MAX_COMMENT_LENGTH) {
    const note = '\n\n**Truncated**: the full review is in the `review-<environment>` artifacts of this run.\n';
    body = `${body.slice(0, MAX_COMMENT_LENGTH - note.length)}${note}`;
  }
  return { body, highRisk, complete };
}

/** The result recorded in a comment for commit `sha`, if any. */
export function parseResult(comment: string, sha: string): { highRisk: boolean; complete: boolean } | undefined {
  const match = RESULT_MARKER.exec(comment);
  if (!match || match[1] !== sha) return undefined;
  return { highRisk: match[2] === 'true', complete: match[3] === 'true' };
}

/** Whether the pull request may merge (and so be applied). */
export function gateDecision(input: { highRisk: boolean; complete: boolean; labels: readonly string[] }): { ok: boolean; message: string } {
  if (!input.complete) return { ok: false, message: 'the plan review is incomplete (a plan failed or was not run for this commit): fix the plan and push again' };
  if (input.highRisk && !input.labels.includes(APPROVAL_LABEL)) {
    return { ok: false, message: `the plan has high-risk changes: a reviewer must add the "${APPROVAL_LABEL}" label after reading the plan review comment` };
  }
  return { ok: true, message: input.highRisk ? `high-risk changes approved with the "${APPROVAL_LABEL}" label` : 'no high-risk changes' };
}

/** Reads `<dir>/review-<env>/{review.md, exit-code, failed-stacks.txt}` for every environment directory. */
export function readReviews(dir: string): EnvironmentReview[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith('review-'))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const read = (file: string) => (existsSync(join(path, file)) ? readFileSync(join(path, file), 'utf8') : undefined);
      const exit = read('exit-code')?.trim();
      return {
        environment: name.slice('review-'.length),
        ...(read('review.md') !== undefined ? { markdown: read('review.md')! } : {}),
        ...(exit !== undefined && /^\d+$/.test(exit) ? { exitCode: Number(exit) } : {}),
        failedStacks: (read('failed-stacks.txt') ?? '').split(/\s+/).filter(Boolean),
        notes: (read('notes.txt') ?? '').split('\n').map((line) => line.replace(/^affected-stacks: /, '').trim()).filter(Boolean),
      };
    });
}

const bool = (value: string | undefined, name: string): boolean => {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UsageError(`--${name} must be true or false`);
};

class UsageError extends Error {}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const outputs = (result: { highRisk: boolean; complete: boolean }) => `high-risk=${result.highRisk}\ncomplete=${result.complete}\n`;

export function main(argv: readonly string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }): number {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      options: {
        sha: { type: 'string' },
        reviews: { type: 'string' },
        out: { type: 'string' },
        affected: { type: 'string' },
        'plan-result': { type: 'string' },
        comment: { type: 'string' },
        'high-risk': { type: 'string' },
        complete: { type: 'string' },
        labels: { type: 'string' },
      },
      strict: true,
    });
    const need = (name: keyof typeof values) => {
      const value = values[name];
      if (value === undefined || value === '') throw new UsageError(`${command} needs --${name}`);
      return value;
    };
    const list = (text: string | undefined, name: string): string[] => {
      if (text === undefined || text.trim() === '') return [];
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) throw new UsageError(`--${name} must be a JSON list of strings`);
      return parsed;
    };
    if (command === 'build') {
      const result = buildComment({
        sha: need('sha'),
        reviews: readReviews(need('reviews')),
        affected: list(values.affected, 'affected'),
        planResult: values['plan-result'] ?? 'success',
      });
      writeFileSync(need('out'), result.body);
      io.stdout(outputs(result));
      return 0;
    }
    if (command === 'parse') {
      const file = need('comment');
      const result = parseResult(existsSync(file) ? readFileSync(file, 'utf8') : '', need('sha'));
      if (!result) {
        io.stderr(`plan-comment: no plan review result for commit ${values.sha} yet (the plan workflow for this commit has not finished)\n`);
        return 1;
      }
      io.stdout(outputs(result));
      return 0;
    }
    if (command === 'gate') {
      const decision = gateDecision({ highRisk: bool(values['high-risk'], 'high-risk'), complete: bool(values.complete, 'complete'), labels: list(values.labels, 'labels') });
      (decision.ok ? io.stdout : io.stderr)(`plan-comment: ${decision.ok ? 'gate passed' : 'gate failed'}: ${decision.message}\n`);
      return decision.ok ? 0 : 1;
    }
    throw new UsageError(`unknown command ${JSON.stringify(command ?? '')} (build, parse or gate)`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof SyntaxError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`plan-comment: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
