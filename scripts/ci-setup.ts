/**
 * ci-setup: the GitHub side of CI access, from the `account` stack's outputs. Prints a shell
 * script of `gh` commands (review it, then run it with a GitHub token allowed to administer the
 * repository) that sets what the workflows read:
 *
 *   - repository variable AWS_PLAN_ROLE_ARN_<ENV>  (plan.yml, pull-request plans)
 *   - GitHub environment <env>, deployable from the deploy branch only, with its variable
 *     AWS_DEPLOY_ROLE_ARN                          (deploy.yml)
 *
 *   node dist/scripts/ci-setup.js <env> [--outputs <file>] [--root <repo>]
 *
 * Outputs come from `terraform output -json` in cdktf.out/stacks/account (after the account stack
 * was deployed from this checkout), or from --outputs: a `terraform output -json` file or a cdktf
 * outputs file (`cdktf output account --outputs-file <file>`). Exit 1 when the environment has no
 * `ci` section or the outputs are missing or stale; nothing is printed then.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { repositoryPath } from '../modules/account/names.js';
import { ACCOUNT } from '../stacks/account/contract.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { type Environment, loadEnvironment } from '../stacks/lib/environment.js';
import { repositoryRoot } from './lib/paths.js';
import { findTerraform, TerraformUnavailableError } from './lib/terraform.js';

export const USAGE = 'usage: ci-setup <environment> [--outputs <terraform output -json file | cdktf outputs file>] [--root <repo>]';

export class CiSetupError extends Error {
  override name = 'CiSetupError';
}

/** Repository variable holding an environment's plan role (plan.yml's matrix names it). */
export function planRoleVariable(environmentName: string): string {
  return `AWS_PLAN_ROLE_ARN_${environmentName.toUpperCase().replace(/-/g, '_')}`;
}
/** Environment variable (of the GitHub environment) holding the deploy role (deploy.yml reads it). */
export const DEPLOY_ROLE_VARIABLE = 'AWS_DEPLOY_ROLE_ARN';

type Outputs = Record<string, unknown>;

/** Output values from `terraform output -json` ({name: {value}}) or a cdktf outputs file ({stack: {name: value}}). */
export function outputValues(json: unknown): Outputs {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new CiSetupError('the outputs are not a JSON object');
  const object = json as Record<string, unknown>;
  const nested = object[ACCOUNT.stack];
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested)) return nested as Outputs;
  return Object.fromEntries(
    Object.entries(object).map(([name, entry]) => [name, entry !== null && typeof entry === 'object' && 'value' in entry ? (entry as { value: unknown }).value : entry]),
  );
}

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The `gh` script for one environment; throws CiSetupError when the outputs do not fit the environment. */
export function ciSetupScript(environment: Environment, outputs: Outputs): string {
  const { ci } = environment;
  if (!ci) throw new CiSetupError(`${environment.file} has no ci section: CI access is not managed for environment ${environment.name}`);
  const value = (name: keyof typeof ACCOUNT.outputs) => {
    const found = outputs[name];
    if (typeof found !== 'string' || found === '') {
      throw new CiSetupError(`the account stack has no output ${name}: deploy it first (npx nx run account:deploy --exclude-task-dependencies)`);
    }
    return found;
  };
  const repository = repositoryPath(ci.githubRepository);
  const deployed = { repository: value('githubRepository'), branch: value('deployBranch'), environment: value('githubEnvironment') };
  const expected = { repository, branch: ci.deployBranch, environment: environment.name };
  for (const key of ['repository', 'branch', 'environment'] as const) {
    if (deployed[key] !== expected[key]) {
      throw new CiSetupError(
        `the deployed account stack trusts ${key} ${JSON.stringify(deployed[key])} but ${environment.file} says ${JSON.stringify(expected[key])}: deploy the account stack again first`,
      );
    }
  }
  const planRoleArn = value('planRoleArn');
  const deployRoleArn = value('deployRoleArn');
  const repo = quote(repository);
  const env = environment.name;
  const api = `repos/${repository}/environments/${env}`;
  return [
    `# CI setup of environment ${env} in ${repository}, from the account stack's outputs.`,
    '# Needs the GitHub CLI (gh) logged in with admin rights on the repository.',
    'set -eu',
    `gh variable set ${planRoleVariable(env)} --repo ${repo} --body ${quote(planRoleArn)}`,
    `# GitHub environment ${env}: only branch ${ci.deployBranch} may deploy to it (the deploy role also requires ref refs/heads/${ci.deployBranch}).`,
    `gh api --method PUT ${quote(api)} -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true' > /dev/null`,
    `gh api ${quote(`${api}/deployment-branch-policies`)} --jq '.branch_policies[].name' | grep -qxF ${quote(ci.deployBranch)} ||`,
    `  gh api --method POST ${quote(`${api}/deployment-branch-policies`)} -f name=${quote(ci.deployBranch)} -f type=branch > /dev/null`,
    `gh variable set ${DEPLOY_ROLE_VARIABLE} --repo ${repo} --env ${quote(env)} --body ${quote(deployRoleArn)}`,
    `# Then: required reviewers for ${env} (Settings > Environments > ${env}; required for production), and branch protection on ${ci.deployBranch} requiring the "plan review" check.`,
    '',
  ].join('\n');
}

/** `terraform output -json` of the account stack synthesized in `root`. */
function deployedOutputs(root: string): unknown {
  const dir = join(root, 'cdktf.out', 'stacks', ACCOUNT.stack);
  if (!existsSync(join(dir, '.terraform'))) {
    throw new CiSetupError(`${dir} was never initialized: deploy the account stack from this checkout first, or pass --outputs`);
  }
  const result = spawnSync(findTerraform(), ['output', '-json'], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new CiSetupError(`terraform output -json failed in ${dir}:\n${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as unknown;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

export function main(argv: readonly string[], root = repositoryRoot(), io: Io = processIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { outputs: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (error) {
    io.err(`ci-setup: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const [name, ...extra] = parsed.positionals;
  if (!name || extra.length > 0) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const repo = parsed.values.root ?? root;
  try {
    const environment = loadEnvironment(repo, name);
    if (!environment.ci) throw new CiSetupError(`${environment.file} has no ci section: CI access is not managed for environment ${environment.name}`);
    let json: unknown;
    if (parsed.values.outputs) {
      try {
        json = JSON.parse(readFileSync(parsed.values.outputs, 'utf8')) as unknown;
      } catch (error) {
        throw new CiSetupError(`--outputs ${parsed.values.outputs}: ${(error as Error).message}`);
      }
    } else {
      json = deployedOutputs(repo);
    }
    io.out(ciSetupScript(environment, outputValues(json)));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CiSetupError || error instanceof TerraformUnavailableError) {
      io.err(`ci-setup: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
