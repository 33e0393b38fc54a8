/**
 * `npm run validate`: synthesizes the selected environment, then checks the generated Terraform
 * against the real provider schema offline:
 *  - `terraform init -backend=false` + `terraform validate` for every stack whose providers are all
 *    in the offline mirror (AWS-only stacks);
 *  - an offline `terraform plan` of the `network` stack (local backend, fake credentials, provider
 *    skip flags), saved as JSON (`terraform show -json`) for the plan-review tooling.
 *
 * The mirror comes from TF_PROVIDER_MIRROR (or is discovered). Without terraform or a mirror it
 * fails and says which is missing; SKIP_TERRAFORM_VALIDATE=1 turns that into a loud skip.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../stacks/lib/config-file.js';
import { selectedEnvironmentName } from '../stacks/lib/environment.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { repositoryRoot } from './lib/paths.js';
import { awsPartOf, offlinePlanConfig, offlineTerraform, TerraformUnavailableError, type OfflineTerraform, type TerraformJson } from './lib/terraform.js';

/** Stacks planned offline: they read no remote state and call no AWS data source. */
export const OFFLINE_PLAN_STACKS = ['network'] as const;

function validateStack(tf: OfflineTerraform, stackDir: string, workDir: string, awsPartOnly: boolean): string[] {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  let dropped: string[] = [];
  if (awsPartOnly) {
    const part = awsPartOf(JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as TerraformJson);
    writeFileSync(join(workDir, 'cdk.tf.json'), JSON.stringify(part.config, null, 2));
    dropped = part.dropped;
  } else {
    cpSync(join(stackDir, 'cdk.tf.json'), join(workDir, 'cdk.tf.json'));
  }
  tf.run(['init', '-backend=false', '-input=false', '-no-color'], workDir);
  tf.run(['validate', '-no-color'], workDir);
  return dropped;
}

/** Whether a synthesized stack has any resource of the AWS provider. */
function hasAwsResources(stackDir: string): boolean {
  const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource?: Record<string, unknown> };
  return Object.keys(json.resource ?? {}).some((type) => type.startsWith('aws_'));
}

function planStack(tf: OfflineTerraform, stackDir: string, workDir: string): { planJson: string; summary: string } {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const config = offlinePlanConfig(JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as TerraformJson);
  writeFileSync(join(workDir, 'cdk.tf.json'), JSON.stringify(config, null, 2));
  tf.run(['init', '-input=false', '-no-color'], workDir);
  const plan = tf.run(['plan', '-refresh=false', '-input=false', '-no-color', '-out=plan.tfplan'], workDir);
  const json = tf.run(['show', '-json', 'plan.tfplan'], workDir).stdout;
  const planJson = join(workDir, 'plan.json');
  writeFileSync(planJson, json);
  const summary = /Plan: .*/.exec(plan.stdout)?.[0] ?? 'no summary line';
  return { planJson, summary };
}

function main(): number {
  const args = parseArgs({ options: { env: { type: 'string' }, 'no-synth': { type: 'boolean' } }, strict: true }).values;
  const root = repositoryRoot();
  const environmentName = args.env ?? selectedEnvironmentName();
  let tf: OfflineTerraform;
  try {
    tf = offlineTerraform();
  } catch (error) {
    if (!(error instanceof TerraformUnavailableError)) throw error;
    if (process.env.SKIP_TERRAFORM_VALIDATE === '1') {
      console.warn(`\n*** SKIPPED offline Terraform validation (SKIP_TERRAFORM_VALIDATE=1): ${error.message} ***\n`);
      return 0;
    }
    console.error(`validate: ${error.message}\n(set SKIP_TERRAFORM_VALIDATE=1 to skip Terraform validation explicitly)`);
    return 1;
  }

  let stacks: { name: string; awsOnly: boolean }[];
  const outdir = join(root, 'cdktf.out');
  try {
    if (!args['no-synth']) synthesize({ root, environmentName });
    stacks = (JSON.parse(readFileSync(join(outdir, 'platform.json'), 'utf8')) as { stacks: { name: string; awsOnly: boolean }[] }).stacks;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`validate: invalid configuration\n${error.message}`);
      return 1;
    }
    throw error;
  }

  console.log(`terraform ${tf.bin}, provider mirror ${tf.mirror} (from ${process.env.TF_PROVIDER_MIRROR ? 'TF_PROVIDER_MIRROR' : 'discovery'})`);
  const workRoot = join(outdir, 'validate');
  let failures = 0;
  for (const stack of stacks) {
    const stackDir = join(outdir, 'stacks', stack.name);
    if (!existsSync(stackDir)) throw new Error(`stack ${stack.name} was not synthesized into ${stackDir}`);
    if (!stack.awsOnly && !hasAwsResources(stackDir)) {
      console.log(`- ${stack.name}: not validated with terraform (only providers outside the offline mirror; its Kubernetes objects are schema-checked at synth)`);
      continue;
    }
    const started = performance.now();
    try {
      const dropped = validateStack(tf, stackDir, join(workRoot, stack.name), !stack.awsOnly);
      const scope = stack.awsOnly ? '' : ` on its AWS resources (without ${dropped.join(', ')}: no offline provider; schema-checked at synth)`;
      console.log(`- ${stack.name}: terraform validate OK${scope} (${Math.round(performance.now() - started)} ms)`);
    } catch (error) {
      failures++;
      console.error(`- ${stack.name}: terraform validate FAILED\n${(error as Error).message}`);
    }
  }
  for (const name of OFFLINE_PLAN_STACKS) {
    if (!stacks.some((s) => s.name === name)) continue;
    const started = performance.now();
    try {
      const { planJson, summary } = planStack(tf, join(outdir, 'stacks', name), join(workRoot, `${name}-plan`));
      console.log(`- ${name}: offline terraform plan OK: ${summary} (${Math.round(performance.now() - started)} ms); plan JSON: ${planJson}`);
    } catch (error) {
      failures++;
      console.error(`- ${name}: offline terraform plan FAILED\n${(error as Error).message}`);
    }
  }
  if (failures > 0) {
    console.error(`validate: ${failures} failure(s)`);
    return 1;
  }
  console.log('validate: all offline Terraform checks passed');
  return 0;
}

process.exitCode = main();
