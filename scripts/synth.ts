/**
 * `npm run synth`: writes every stack of the selected environment (PLATFORM_ENV, default dev) to
 * cdktf.out/stacks/<stack>/cdk.tf.json in one process. Incremental: every configuration file is
 * validated, but only stacks whose code or input files changed are rebuilt (`--force`: all).
 *
 *   node dist/scripts/synth.js [--env <name>] [--stack <name>]... [--outdir <dir>] [--root <repo>] [--force]
 *
 * It is also the `app` of cdktf.json, so `npx cdktf synth|list|diff|deploy|destroy|output` run it:
 * the CLI's output directory arrives as CDKTF_OUTDIR (used unless --outdir is given) and its context
 * as CDKTF_CONTEXT_JSON (read by the cdktf App; no stack reads context: the environment comes from
 * PLATFORM_ENV). HCL output (`cdktf synth --hcl`) is refused: the tooling reads cdk.tf.json.
 *
 * PLATFORM_SYNTH_STATS=<file> writes {wallMs, maxRssBytes, synthesized, upToDate} for benchmarks.
 * PLATFORM_TODAY=<YYYY-MM-DD> checks EKS support dates as of that day instead of today (UTC): a
 * warning when the Kubernetes version is within 60 days of the end of standard support or past it,
 * and guardrail EKS-006 failing outside dev once it is past.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectedEnvironmentName } from '../stacks/lib/environment-name.js';
import { fullSynthIsCurrent } from '../stacks/lib/fingerprint.js';
import { configuredKubernetes, evaluationDate, kubernetesSupportNotice } from '../stacks/lib/kubernetes-support.js';
import { repositoryRoot } from './lib/paths.js';

/** wallMs counts from process start (performance.now's origin), module loading included. */
function writeStats(synthesized: number, upToDate: number): void {
  if (!process.env.PLATFORM_SYNTH_STATS) return;
  const stats = { wallMs: Math.round(performance.now()), maxRssBytes: process.resourceUsage().maxRSS * 1024, synthesized, upToDate };
  writeFileSync(process.env.PLATFORM_SYNTH_STATS, JSON.stringify(stats));
}

/** The EKS support warning goes to stderr, one line, after the synth's own output. */
function warnAboutSupport(environmentName: string, notice: string | undefined): void {
  if (notice) console.warn(`warning: environment "${environmentName}": ${notice}`);
}

/**
 * The command: parses `argv`, writes the stacks and prints what it did; returns the exit code.
 * Exported so tests run the command in-process (the stack code is already loaded there); run as a
 * script it is called with the process's arguments.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const started = performance.now();
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        env: { type: 'string' },
        stack: { type: 'string', multiple: true },
        outdir: { type: 'string' },
        root: { type: 'string' },
        force: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`synth: ${(error as Error).message}\nusage: synth [--env <name>] [--stack <name>]... [--outdir <dir>] [--root <repo>] [--force]`);
    return 2;
  }
  if (process.env.SYNTH_HCL_OUTPUT === 'true') {
    console.error('synth: HCL output (cdktf synth --hcl) is not supported: plan review, validation and the deploy tooling read cdk.tf.json');
    return 2;
  }
  const root = args.root ?? repositoryRoot();
  const environmentName = args.env ?? selectedEnvironmentName();
  const outdirOption = args.outdir ?? process.env.CDKTF_OUTDIR;
  const outdir = outdirOption ? resolve(outdirOption) : join(root, 'cdktf.out');
  let today: string;
  try {
    today = evaluationDate();
  } catch (error) {
    console.error(`synth failed: invalid configuration (nothing was written)\n${(error as Error).message}`);
    return 1;
  }
  // Same inputs as the last full synth and its output intact: done, before loading any stack code.
  if (!args.force && !args.stack && fullSynthIsCurrent(root, environmentName, outdir)) {
    console.log(`synthesized 0 stack(s): every stack of environment "${environmentName}" is up to date in ${outdir}/stacks (--force rebuilds)`);
    const configured = configuredKubernetes(root, environmentName);
    if (configured) warnAboutSupport(environmentName, kubernetesSupportNotice(configured.kubernetesVersion, configured.supportType, today));
    writeStats(0, -1);
    return 0;
  }
  // One import after the other: jest's ES module loader (tests run this command in-process) fails
  // to link concurrent dynamic imports that share a dependency ("request for 'node:fs' is not in
  // cache"); for Node itself the order makes no difference.
  const { ConfigError } = await import('../stacks/lib/config-file.js');
  const { guardrailSummary, GuardrailViolationError } = await import('../stacks/lib/guardrails.js');
  const { GUARDRAILS_FILE, synthesize } = await import('../stacks/lib/synthesize.js');
  const { StackDependencyError } = await import('../stacks/lib/stack-dependencies.js');
  try {
    const result = synthesize({
      root,
      environmentName,
      ...(args.stack ? { stacks: args.stack } : {}),
      outdir,
      incremental: !args.force,
    });
    for (const stack of result.disabledSkipped) console.log(`synth: stack ${stack.name} is not part of environment "${result.environment.name}" (${stack.reason}): nothing to synthesize`);
    for (const skipped of result.skipped) {
      console.log(`${skipped.stack}: not in environment "${result.environment.name}" (${skipped.file} lists ${skipped.environments.join(', ')}): nothing to synthesize`);
    }
    const ms = Math.round(performance.now() - started);
    const names = result.synthesized.map((s) => s.name);
    const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, ... (${names.length - 12} more)` : names.join(', ');
    const current = result.upToDate.length > 0 ? ` (${result.upToDate.length} up to date)` : '';
    console.log(`synthesized ${names.length} stack(s)${current} for environment "${result.environment.name}" into ${result.outdir}/stacks in ${ms} ms${names.length ? `: ${shown}` : ''}`);
    if (names.length > 0) for (const line of guardrailSummary(result.guardrails, `${result.outdir}/${GUARDRAILS_FILE}`)) console.log(line);
    const { kubernetesVersion, supportType } = result.environment;
    warnAboutSupport(result.environment.name, kubernetesSupportNotice(kubernetesVersion, supportType, today));
    writeStats(names.length, result.upToDate.length);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`synth failed: invalid configuration (nothing was written)\n${error.message}`);
      return 1;
    }
    if (error instanceof StackDependencyError) {
      console.error(`synth failed: stack dependencies (nothing was written)\n${error.message}`);
      return 1;
    }
    if (error instanceof GuardrailViolationError) {
      const count = error.violations.length;
      console.error(`synth failed: ${count} guardrail violation${count === 1 ? '' : 's'} (nothing was written)\n${error.message}`);
      console.error(
        "Fix each resource, or when a finding is acceptable suppress it at the construct that creates it with a written reason: suppressRule(construct, '<RULE-ID>', '<why>') from modules/guardrails/suppressions.ts.",
      );
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) process.exitCode = await main();
