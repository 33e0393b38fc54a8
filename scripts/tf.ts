/**
 * The plan of one synthesized stack as JSON, for CI's plan review: `terraform init` + `plan` with
 * the stack's real S3 backend, then `terraform show -json`. `cdktf diff` prints a plan but cannot
 * save one, and the review (`npm run plan-review`) reads the plan JSON, so the pull-request
 * workflow calls Terraform here directly. Everything else (diff, deploy, destroy, output) goes
 * through the cdktf CLI (`npx cdktf <command> <stack>`, or the Nx targets that call it).
 *
 *   node dist/scripts/tf.js plan <stack>      init + plan, saves plan.tfplan and plan.json
 *
 * Needs AWS credentials for the environment's account (and for in-cluster stacks, an access entry).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { disabledStack } from './lib/disabled-stacks.js';
import { repositoryRoot } from './lib/paths.js';
import { terraformForCommand } from './lib/terraform.js';

const COMMANDS = ['plan'] as const;
type Command = (typeof COMMANDS)[number];

function run(bin: string, args: string[], cwd: string, capture = false): string {
  const result = spawnSync(bin, args, { cwd, stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0) {
    console.error(`tf: terraform ${args.join(' ')} failed (exit ${result.status ?? 'signal'}) in ${cwd}`);
    process.exit(result.status ?? 1);
  }
  return result.stdout ?? '';
}

/** The synth's record (platform.json) that `stack` is a tenant stack outside the synthesized environment. */
function notInEnvironment(outdir: string, stack: string): { environment: string; file: string; environments: string[] } | undefined {
  const file = join(outdir, 'platform.json');
  if (!existsSync(file)) return undefined;
  const platform = JSON.parse(readFileSync(file, 'utf8')) as { environment?: string; notInEnvironment?: { stack: string; file: string; environments: string[] }[] };
  const entry = platform.notInEnvironment?.find((t) => t.stack === stack);
  return entry && platform.environment ? { environment: platform.environment, file: entry.file, environments: entry.environments } : undefined;
}

function main(): number {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'lock-timeout': { type: 'string', default: '5m' }, root: { type: 'string' } },
    strict: true,
  });
  const [command, stack] = positionals as [string | undefined, string | undefined];
  if (!command || !COMMANDS.includes(command as Command) || !stack) {
    console.error('usage: tf plan <stack> [--lock-timeout 5m] [--root <repository>]   (deploy and destroy: npx cdktf deploy|destroy <stack>)');
    return 2;
  }
  const outdir = join(values.root ?? repositoryRoot(), 'cdktf.out');
  const dir = join(outdir, 'stacks', stack);
  const disabled = disabledStack(outdir, stack);
  if (disabled) {
    console.log(`tf: stack ${stack} is not part of environment "${disabled.environment}" (${disabled.reason}): nothing to ${command}`);
    return 0;
  }
  const absent = notInEnvironment(outdir, stack);
  if (absent) {
    // Nx has a project per tenant folder in every environment; this one has no stack here.
    console.log(`tf: ${stack} is not in environment "${absent.environment}" (${absent.file} lists ${absent.environments.join(', ')}): nothing to ${command}`);
    return 0;
  }
  if (!existsSync(join(dir, 'cdk.tf.json'))) {
    console.error(`tf: ${dir}/cdk.tf.json does not exist: run \`npm run synth\` (or \`npx cdktf synth\`) first`);
    return 2;
  }
  const terraform = terraformForCommand('tf');
  if (terraform === undefined) return 2;
  const lock = `-lock-timeout=${values['lock-timeout']}`;
  run(terraform, ['init', '-input=false'], dir);
  run(terraform, ['plan', '-input=false', lock, '-out=plan.tfplan'], dir);
  writeFileSync(join(dir, 'plan.json'), run(terraform, ['show', '-json', 'plan.tfplan'], dir, true));
  console.log(`tf: plan saved to ${join(dir, 'plan.tfplan')} and ${join(dir, 'plan.json')}`);
  return 0;
}

process.exitCode = main();
