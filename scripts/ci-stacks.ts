/**
 * ci-stacks: what the workflows run per stack, in parallel where the dependency graph allows
 * (scripts/lib/scheduler.ts), with one log group per stack and one shared provider plugin cache.
 *
 *   node dist/scripts/ci-stacks.js plan --stacks-file <file> [--concurrency 4] [--out review]
 *        [--bundle reviewed-plan --head-sha <sha>] [--graph <nx graph.json>]
 *     `terraform init` + `plan` (saved) + `show -json` per stack, as `tf.js plan` does. Writes <out>/plans.txt (`stack=plan.json` lines for plan-review),
 *     <out>/failed-stacks.txt, <out>/timings.json and <out>/logs/<stack>.log; with --bundle, the
 *     reviewed-plan bundle the deploy compares with: <bundle>/manifest.json and <bundle>/<stack>.json.
 *   node dist/scripts/ci-stacks.js deploy --stacks-file <file> --reviewed <bundle dir> [--expect-sha <sha>]
 *        [--concurrency 1] [--summary <file>] [--apply-differences] [--graph <nx graph.json>]
 *     Per stack: plan (as above), compare with the reviewed plan (plan-review/compare.ts), then
 *     `terraform apply plan.tfplan` of that saved plan, or stop the stack and report the difference.
 *     A stack with nothing to apply is not applied. Stacks downstream of a stack that was not
 *     applied are skipped. The report is appended to --summary (the run summary).
 *
 * The stacks file lists stacks in deploy order, one per line (affected-stacks output); a stack
 * starts only after the stacks it depends on (Nx graph) finished. With TF_PLUGIN_CACHE_DIR set,
 * the cache is filled once, serially, before any stack runs (Terraform does not support
 * concurrent installs into one cache), and each stack gets the lock file of that install, so its
 * own `terraform init` only links providers from the cache.
 *
 * Exit codes: 0 every stack planned (or applied / unchanged); 1 a stack failed, was stopped or
 * skipped; 2 usage error.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AffectedStacksError, readProjectGraph, stackDependencies } from './affected-stacks.js';
import { runInDependencyOrder, ScheduleError, type StackRun } from './lib/scheduler.js';
import { repositoryRoot } from './lib/paths.js';
import { findTerraform, TerraformUnavailableError } from './lib/terraform.js';
import { comparePlans, renderComparison, type PlanComparison } from './plan-review/compare.js';
import { PlanInputError, readPlanFile, type TerraformPlan } from './plan-review/review.js';

export const USAGE = `usage: ci-stacks plan --stacks-file <file> [--concurrency 4] [--out review] [--bundle <dir> --head-sha <sha>] [--graph <graph.json>] [--root <repository>]
       ci-stacks deploy --stacks-file <file> --reviewed <dir> [--expect-sha <sha>] [--concurrency 1] [--summary <file>] [--apply-differences] [--graph <graph.json>] [--root <repository>]`;

/** Default number of stacks planned at once (the plan workflow's PLAN_CONCURRENCY). */
export const DEFAULT_PLAN_CONCURRENCY = 4;

export const BUNDLE_MANIFEST = 'manifest.json';

/** manifest.json of a reviewed-plan bundle: which plans a pull request's review covered. */
export interface BundleManifest {
  readonly environment: string;
  /** The pull request head commit the plans were made for. */
  readonly headSha: string;
  /** Stacks with a reviewed plan (`<stack>.json` next to the manifest). */
  readonly stacks: readonly string[];
  /** Stacks whose plan failed (no reviewed plan). */
  readonly failed: readonly string[];
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

interface Context {
  readonly root: string;
  readonly outdir: string;
  /** The terraform binary (TERRAFORM_BIN or PATH). */
  readonly terraform: string;
  readonly io: CliIo;
}

/** How long a plan or apply waits for the state lock (as tf.js). */
const LOCK_TIMEOUT = '5m';

/** Runs one command with its output appended to `log`; resolves to the exit code. */
function runLogged(command: string, args: readonly string[], cwd: string, log: string, stdout?: string): Promise<number> {
  return new Promise((resolve) => {
    appendFileSync(log, `$ terraform ${args.join(' ')}\n`);
    const logFd = openSync(log, 'a');
    const outFd = stdout ? openSync(stdout, 'w') : logFd;
    const child = spawn(command, args, { cwd, stdio: ['ignore', outFd, logFd], env: process.env });
    const done = (code: number) => {
      closeSync(logFd);
      if (outFd !== logFd) closeSync(outFd);
      resolve(code);
    };
    child.on('error', (error) => {
      appendFileSync(log, `ci-stacks: could not start ${command}: ${error.message}\n`);
      done(1);
    });
    child.on('close', (code) => done(code ?? 1));
  });
}

/**
 * What `tf.js plan <stack>` does (init, plan saved as plan.tfplan, its JSON as plan.json), run
 * from this process: one Node process for all stacks instead of one per stack.
 */
async function planStack(context: Context, stack: string, log: string): Promise<boolean> {
  const dir = join(context.outdir, 'stacks', stack);
  if (!existsSync(join(dir, 'cdk.tf.json'))) {
    appendFileSync(log, `ci-stacks: ${dir}/cdk.tf.json does not exist (run the synth first)\n`);
    return false;
  }
  const steps: [string[], string?][] = [
    [['init', '-input=false', '-no-color']],
    [['plan', '-input=false', '-no-color', `-lock-timeout=${LOCK_TIMEOUT}`, '-out=plan.tfplan']],
    [['show', '-json', 'plan.tfplan'], join(dir, 'plan.json')],
  ];
  for (const [args, stdout] of steps) if ((await runLogged(context.terraform, args, dir, log, stdout)) !== 0) return false;
  appendFileSync(log, `ci-stacks: plan saved to ${join(dir, 'plan.tfplan')} and ${join(dir, 'plan.json')}\n`);
  return true;
}

/** Applies exactly the saved plan of a stack (Terraform refuses it when the state moved on since). */
async function applySavedPlan(context: Context, stack: string, log: string): Promise<boolean> {
  const dir = join(context.outdir, 'stacks', stack);
  return (await runLogged(context.terraform, ['apply', '-input=false', '-no-color', `-lock-timeout=${LOCK_TIMEOUT}`, 'plan.tfplan'], dir, log)) === 0;
}

/** The log of a finished stack as one GitHub Actions log group. */
function printGroup(io: CliIo, title: string, log: string): void {
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  io.stdout(`::group::${title}\n${text}${text.endsWith('\n') || text === '' ? '' : '\n'}::endgroup::\n`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Stacks of a stacks file: one name per line, blank lines ignored. */
export function readStacksFile(file: string): string[] {
  if (!existsSync(file)) throw new UsageError(`--stacks-file ${file} does not exist`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

type ProviderRequirements = Record<string, { source?: string; version?: string }>;

/**
 * Fills TF_PLUGIN_CACHE_DIR once, serially, and gives every stack without a lock file the lock
 * file of that install: with the checksums recorded, each stack's `terraform init` uses the cache
 * instead of installing into it, so parallel inits never write the cache at the same time.
 * Providers of every stack are installed by one init when their versions agree, else one init
 * per distinct set.
 */
export function warmPluginCache(context: Context, stacks: readonly string[]): void {
  if (!process.env.TF_PLUGIN_CACHE_DIR) return;
  mkdirSync(process.env.TF_PLUGIN_CACHE_DIR, { recursive: true });
  const requirementsOf = new Map<string, ProviderRequirements>();
  for (const stack of stacks) {
    const file = join(context.outdir, 'stacks', stack, 'cdk.tf.json');
    if (!existsSync(file)) continue;
    const config = JSON.parse(readFileSync(file, 'utf8')) as { terraform?: { required_providers?: ProviderRequirements } };
    requirementsOf.set(stack, config.terraform?.required_providers ?? {});
  }
  const union: ProviderRequirements = {};
  let conflict = false;
  for (const requirements of requirementsOf.values()) {
    for (const [name, requirement] of Object.entries(requirements)) {
      const existing = union[name];
      if (existing && JSON.stringify(existing) !== JSON.stringify(requirement)) conflict = true;
      union[name] = requirement;
    }
  }
  const groups = conflict
    ? [...new Set([...requirementsOf.values()].map((r) => JSON.stringify(r)))].map((text) => JSON.parse(text) as ProviderRequirements)
    : [union];
  for (const requirements of groups) {
    if (Object.keys(requirements).length === 0) continue;
    const dir = mkdtempSync(join(tmpdir(), 'ci-stacks-plugins-'));
    try {
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: requirements } }));
      const started = performance.now();
      const result = spawnSync(context.terraform, ['init', '-backend=false', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`terraform init of the provider cache failed:\n${result.stderr || result.stdout}`);
      context.io.stdout(`ci-stacks: provider cache filled for ${Object.keys(requirements).sort().join(', ')} in ${seconds(performance.now() - started)}\n`);
      const lock = join(dir, '.terraform.lock.hcl');
      if (!existsSync(lock)) continue;
      for (const [stack, own] of requirementsOf) {
        const target = join(context.outdir, 'stacks', stack, '.terraform.lock.hcl');
        const covered = Object.entries(own).every(([name, r]) => JSON.stringify(requirements[name]) === JSON.stringify(r));
        if (covered && !existsSync(target)) copyFileSync(lock, target);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function parseConcurrency(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 64) throw new UsageError(`--concurrency: expected a whole number from 1 to 64, found ${JSON.stringify(text)}`);
  return value;
}

function platformEnvironment(outdir: string): string {
  const file = join(outdir, 'platform.json');
  if (!existsSync(file)) throw new UsageError(`${file} does not exist: run the synth first`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { environment: string }).environment;
}

// ---------------------------------------------------------------------------------------------
// plan

async function plan(context: Context, stacks: readonly string[], dependencies: Map<string, string[]>, options: { concurrency: number; out: string; bundle?: string; headSha?: string }): Promise<number> {
  const logs = join(options.out, 'logs');
  mkdirSync(logs, { recursive: true });
  warmPluginCache(context, stacks);
  const environment = platformEnvironment(context.outdir);
  const runs = await runInDependencyOrder(stacks, dependencies, {
    concurrency: options.concurrency,
    run: (stack) => planStack(context, stack, join(logs, `${stack}.log`)),
    onFinished: (run) => {
      printGroup(context.io, `plan ${run.stack} (${run.outcome}, ${seconds(run.finishedMs - run.startedMs)})`, join(logs, `${run.stack}.log`));
      if (run.outcome !== 'succeeded') context.io.stdout(`::error::terraform plan failed for ${run.stack} in ${environment}\n`);
    },
  });
  const planned = runs.filter((r) => r.outcome === 'succeeded').map((r) => r.stack);
  const failed = runs.filter((r) => r.outcome !== 'succeeded').map((r) => r.stack);
  const planFile = (stack: string) => join(context.outdir, 'stacks', stack, 'plan.json');
  writeFileSync(join(options.out, 'plans.txt'), planned.map((s) => `${s}=${planFile(s)}\n`).join(''));
  writeFileSync(join(options.out, 'failed-stacks.txt'), failed.map((s) => `${s}\n`).join(''));
  writeFileSync(join(options.out, 'timings.json'), `${JSON.stringify({ concurrency: options.concurrency, wallMs: Math.max(0, ...runs.map((r) => r.finishedMs)), stacks: runs }, null, 2)}\n`);
  if (options.bundle) {
    rmSync(options.bundle, { recursive: true, force: true });
    mkdirSync(options.bundle, { recursive: true });
    for (const stack of planned) copyFileSync(planFile(stack), join(options.bundle, `${stack}.json`));
    const manifest: BundleManifest = { environment, headSha: options.headSha ?? '', stacks: planned, failed };
    writeFileSync(join(options.bundle, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  const wall = Math.max(0, ...runs.map((r) => r.finishedMs));
  context.io.stdout(`ci-stacks: planned ${planned.length} of ${stacks.length} stack(s) of ${environment} in ${seconds(wall)} at concurrency ${options.concurrency}${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`);
  return failed.length > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// deploy

export interface ReviewedPlans {
  readonly manifest?: BundleManifest;
  /** Why there are no reviewed plans at all (no bundle, another environment or commit). */
  readonly missing?: string;
  plan(stack: string): TerraformPlan | undefined;
}

/** Reads a reviewed-plan bundle, refusing one made for another environment or commit. */
export function readReviewedPlans(dir: string | undefined, environment: string, expectSha?: string): ReviewedPlans {
  const none = (missing: string): ReviewedPlans => ({ missing, plan: () => undefined });
  if (!dir || !existsSync(join(dir, BUNDLE_MANIFEST))) return none(`no reviewed plans were found${dir ? ` (${join(dir, BUNDLE_MANIFEST)} does not exist)` : ''}`);
  const manifest = JSON.parse(readFileSync(join(dir, BUNDLE_MANIFEST), 'utf8')) as BundleManifest;
  if (manifest.environment !== environment) return none(`the reviewed plans are for environment ${manifest.environment}, not ${environment}`);
  if (expectSha && manifest.headSha !== expectSha) return none(`the reviewed plans were made for commit ${manifest.headSha || '(unknown)'}, not the merged pull request head ${expectSha}`);
  return {
    manifest,
    plan: (stack) => (manifest.stacks.includes(stack) ? readPlanFile(join(dir, `${stack}.json`)) : undefined),
  };
}

type DeployStatus = 'applied' | 'applied-unreviewed' | 'unchanged' | 'stopped' | 'failed' | 'skipped';

interface DeployRecord {
  status: DeployStatus;
  comparison?: PlanComparison;
  reason?: string;
}

async function deploy(
  context: Context,
  stacks: readonly string[],
  dependencies: Map<string, string[]>,
  options: { concurrency: number; reviewed?: string; expectSha?: string; summary?: string; applyDifferences: boolean; logs: string },
): Promise<number> {
  mkdirSync(options.logs, { recursive: true });
  const environment = platformEnvironment(context.outdir);
  const reviewed = readReviewedPlans(options.reviewed, environment, options.expectSha);
  warmPluginCache(context, stacks);
  const records = new Map<string, DeployRecord>();
  const runs = await runInDependencyOrder(stacks, dependencies, {
    concurrency: options.concurrency,
    skipDependentsOfFailed: true,
    run: async (stack) => {
      const log = join(options.logs, `${stack}.log`);
      if (!(await planStack(context, stack, log))) {
        records.set(stack, { status: 'failed', reason: 'terraform plan failed' });
        return { ok: false, reason: 'terraform plan failed' };
      }
      let comparison: PlanComparison;
      try {
        comparison = comparePlans(stack, reviewed.plan(stack), readPlanFile(join(context.outdir, 'stacks', stack, 'plan.json')));
      } catch (error) {
        if (!(error instanceof PlanInputError)) throw error;
        records.set(stack, { status: 'failed', reason: error.message });
        return { ok: false, reason: error.message };
      }
      if (comparison.same && comparison.changes === 0) {
        records.set(stack, { status: 'unchanged', comparison });
        return true;
      }
      if (!comparison.same && !options.applyDifferences) {
        records.set(stack, { status: 'stopped', comparison });
        return { ok: false, reason: 'the plan differs from the reviewed plan' };
      }
      appendFileSync(log, `ci-stacks: applying the saved plan of ${stack} (${comparison.same ? 'the reviewed plan' : 'DIFFERS from the reviewed plan: --apply-differences'})\n`);
      if (!(await applySavedPlan(context, stack, log))) {
        records.set(stack, { status: 'failed', comparison, reason: 'terraform apply failed' });
        return { ok: false, reason: 'terraform apply failed' };
      }
      records.set(stack, { status: comparison.same ? 'applied' : 'applied-unreviewed', comparison });
      return true;
    },
    onFinished: (run: StackRun) => {
      if (run.outcome === 'skipped') records.set(run.stack, { status: 'skipped', ...(run.reason ? { reason: run.reason } : {}) });
      const record = records.get(run.stack);
      printGroup(context.io, `deploy ${run.stack} (${record?.status ?? run.outcome}, ${seconds(run.finishedMs - run.startedMs)})`, join(options.logs, `${run.stack}.log`));
      if (record?.status === 'stopped') context.io.stdout(`::error::${run.stack} was not applied: its plan differs from the plan reviewed on the pull request (see the run summary)\n`);
      else if (run.outcome !== 'succeeded') context.io.stdout(`::error::${run.stack} was not applied: ${record?.reason ?? run.reason ?? run.outcome}\n`);
    },
  });
  const summary = deploySummary(environment, reviewed, runs.map((r) => ({ stack: r.stack, ...records.get(r.stack)! })), options.applyDifferences);
  if (options.summary) appendFileSync(options.summary, summary);
  else context.io.stdout(summary);
  return runs.every((r) => r.outcome === 'succeeded') ? 0 : 1;
}

const STATUS_TEXT: Record<DeployStatus, string> = {
  applied: 'applied (the reviewed plan)',
  'applied-unreviewed': '**applied although it differs from the reviewed plan** (--apply-differences)',
  unchanged: 'nothing to apply',
  stopped: '**stopped: the plan differs from the reviewed plan**',
  failed: '**failed**',
  skipped: 'skipped',
};

/** The run summary of a deploy: one line per stack, then each difference. */
export function deploySummary(environment: string, reviewed: ReviewedPlans, records: readonly (DeployRecord & { stack: string })[], applyDifferences = false): string {
  const lines = [`## Deploy \`${environment}\``, ''];
  lines.push(
    reviewed.manifest
      ? `Compared with the plans reviewed on the pull request (head \`${reviewed.manifest.headSha.slice(0, 12) || 'unknown'}\`, ${reviewed.manifest.stacks.length} stack(s)).`
      : `**No reviewed plans**: ${reviewed.missing}. Only stacks with nothing to apply pass.`,
    '',
  );
  if (applyDifferences) lines.push('> [!WARNING]', '> Run with `apply-differences`: stacks whose plan differs from the reviewed one were applied anyway.', '');
  lines.push('| stack | result | changes |', '|---|---|---:|');
  for (const r of records) {
    const reason = r.reason && r.status !== 'stopped' ? ` (${r.reason})` : '';
    lines.push(`| \`${r.stack}\` | ${STATUS_TEXT[r.status]}${reason} | ${r.comparison?.changes ?? ''} |`);
  }
  lines.push('');
  for (const r of records) if (r.comparison && (!r.comparison.same || r.comparison.noLongerPlanned.length > 0)) lines.push(renderComparison(r.comparison));
  if (records.some((r) => r.status === 'stopped')) {
    lines.push(
      'A stopped stack was not applied, nor anything downstream of it. The plan changed after review (drift, another merge first, or an upstream apply of this run changing what it reads): review the new plan in a pull request, or re-run this deploy with `apply-differences` after reading the differences above.',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------

export async function main(argv: readonly string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, root = repositoryRoot()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== 'plan' && command !== 'deploy') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')} (plan or deploy)`);
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        'stacks-file': { type: 'string' },
        concurrency: { type: 'string' },
        out: { type: 'string' },
        bundle: { type: 'string' },
        'head-sha': { type: 'string' },
        reviewed: { type: 'string' },
        'expect-sha': { type: 'string' },
        summary: { type: 'string' },
        'apply-differences': { type: 'boolean' },
        graph: { type: 'string' },
        root: { type: 'string' },
      },
    });
    root = values.root ?? root;
    if (!values['stacks-file']) throw new UsageError(`${command} needs --stacks-file`);
    const stacks = readStacksFile(values['stacks-file']);
    const concurrency = parseConcurrency(values.concurrency, command === 'plan' ? DEFAULT_PLAN_CONCURRENCY : 1);
    const context: Context = { root, outdir: join(root, 'cdktf.out'), terraform: findTerraform(), io };
    if (stacks.length === 0) {
      io.stdout(`ci-stacks: no stacks to ${command}\n`);
      if (command === 'plan') {
        const out = values.out ?? 'review';
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, 'plans.txt'), '');
        writeFileSync(join(out, 'failed-stacks.txt'), '');
        if (values.bundle) {
          // An explicit empty review: the deploy then knows nothing was to change here.
          mkdirSync(values.bundle, { recursive: true });
          const manifest: BundleManifest = { environment: platformEnvironment(context.outdir), headSha: values['head-sha'] ?? '', stacks: [], failed: [] };
          writeFileSync(join(values.bundle, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
        }
      }
      return 0;
    }
    const dependencies = stackDependencies(readProjectGraph(root, values.graph), stacks);
    if (command === 'plan') {
      if (values.bundle && !values['head-sha']) throw new UsageError('--bundle needs --head-sha (the commit the plans are reviewed for)');
      return await plan(context, stacks, dependencies, {
        concurrency,
        out: values.out ?? 'review',
        ...(values.bundle ? { bundle: values.bundle, headSha: values['head-sha']! } : {}),
      });
    }
    return await deploy(context, stacks, dependencies, {
      concurrency,
      ...(values.reviewed ? { reviewed: values.reviewed } : {}),
      ...(values['expect-sha'] ? { expectSha: values['expect-sha'] } : {}),
      ...(values.summary ? { summary: values.summary } : {}),
      applyDifferences: values['apply-differences'] === true,
      logs: join(values.out ?? 'deploy', 'logs'),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || error instanceof ScheduleError || error instanceof TerraformUnavailableError || error instanceof AffectedStacksError || code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`ci-stacks: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
