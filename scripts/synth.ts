/**
 * `npm run synth`: writes every stack of the selected environment (PLATFORM_ENV, default dev) to
 * cdktf.out/stacks/<stack>/cdk.tf.json in one process.
 *
 *   node dist/scripts/synth.js [--env <name>] [--stack <name>]... [--outdir <dir>] [--root <repo>]
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../stacks/lib/config-file.js';
import { selectedEnvironmentName } from '../stacks/lib/environment.js';
import { guardrailSummary, GuardrailViolationError } from '../stacks/lib/guardrails.js';
import { GUARDRAILS_FILE, synthesize } from '../stacks/lib/synthesize.js';
import { repositoryRoot } from './lib/paths.js';

function main(): number {
  const started = performance.now();
  let args;
  try {
    args = parseArgs({
      options: { env: { type: 'string' }, stack: { type: 'string', multiple: true }, outdir: { type: 'string' }, root: { type: 'string' } },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`synth: ${(error as Error).message}\nusage: synth [--env <name>] [--stack <name>]... [--outdir <dir>]`);
    return 2;
  }
  const root = args.root ?? repositoryRoot();
  try {
    const result = synthesize({
      root,
      environmentName: args.env ?? selectedEnvironmentName(),
      ...(args.stack ? { stacks: args.stack } : {}),
      ...(args.outdir ? { outdir: args.outdir } : {}),
    });
    const ms = Math.round(performance.now() - started);
    const names = result.synthesized.map((s) => s.name);
    const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, ... (${names.length - 12} more)` : names.join(', ');
    console.log(`synthesized ${names.length} stack(s) for environment "${result.environment.name}" into ${result.outdir}/stacks in ${ms} ms: ${shown}`);
    for (const line of guardrailSummary(result.guardrails, `${result.outdir}/${GUARDRAILS_FILE}`)) console.log(line);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`synth failed: invalid configuration (nothing was written)\n${error.message}`);
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

process.exitCode = main();
