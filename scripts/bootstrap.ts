/**
 * `npm run bootstrap`: the one-time deploy of the `bootstrap` stack of an environment (the state
 * bucket and its KMS key), and the standard follow-up: its own state moved into the bucket it
 * created. Afterwards `bootstrap` is a stack like the others (S3 backend, SSE-KMS, S3 lock file):
 * `npx cdktf deploy bootstrap` on any clone sees it deployed, and `cdktf deploy '*'` includes it.
 *
 *   npm run bootstrap -- [--env <name>] [--auto-approve] [--outdir <dir>] [--local-state <file>] [--skip-synth]
 *
 * 1. If the bucket already holds bootstrap's state: nothing to do.
 * 2. Otherwise, with a backend override file (`local_backend_override.tf.json`, Terraform's
 *    override mechanism) the stack is initialised with local state (`.state/<env>/bootstrap.tfstate`,
 *    git-ignored) and applied: Terraform asks for approval unless --auto-approve.
 * 3. The override is removed and `terraform init -migrate-state -force-copy` copies the local state
 *    into `s3://<stateBucket>/<env>/bootstrap.tfstate`; once Terraform reads it back from S3 the local
 *    copy is deleted. A run interrupted after step 2 resumes from the local state.
 *
 * Needs credentials for the environment's account (an identity in adminRoleArns) and terraform >= 1.10.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadEnvironment } from '../stacks/lib/environment.js';
import { selectedEnvironmentName } from '../stacks/lib/environment-name.js';
import { stateKey } from '../stacks/lib/platform-stack.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { BOOTSTRAP_STACK } from '../stacks/bootstrap/stack.js';
import { isMissingBucket, LOCAL_BACKEND_OVERRIDE, localBackendOverride } from './lib/bootstrap.js';
import { repositoryRoot } from './lib/paths.js';
import { terraformForCommand } from './lib/terraform.js';

class BootstrapError extends Error {}

function main(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        env: { type: 'string' },
        'auto-approve': { type: 'boolean' },
        outdir: { type: 'string' },
        'local-state': { type: 'string' },
        'skip-synth': { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`bootstrap: ${(error as Error).message}\nusage: bootstrap [--env <name>] [--auto-approve] [--outdir <dir>] [--local-state <file>] [--skip-synth]`);
    return 2;
  }
  const root = repositoryRoot();
  const environmentName = args.env ?? selectedEnvironmentName();
  const outdir = resolve(args.outdir ?? process.env.CDKTF_OUTDIR ?? join(root, 'cdktf.out'));
  const localState = resolve(args['local-state'] ?? join(root, '.state', environmentName, `${BOOTSTRAP_STACK}.tfstate`));
  const terraform = terraformForCommand('bootstrap');
  if (terraform === undefined) return 2;

  let location: string;
  try {
    const environment = loadEnvironment(root, environmentName);
    location = `s3://${environment.stateBucket}/${stateKey(environment, BOOTSTRAP_STACK)}`;
    if (!args['skip-synth']) synthesize({ root, environmentName, outdir, incremental: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`bootstrap: invalid configuration (nothing was deployed)\n${error.message}`);
      return 1;
    }
    throw error;
  }
  const dir = join(outdir, 'stacks', BOOTSTRAP_STACK);
  const override = join(dir, LOCAL_BACKEND_OVERRIDE);
  if (!existsSync(join(dir, 'cdk.tf.json'))) {
    console.error(`bootstrap: ${dir}/cdk.tf.json does not exist: synthesize first (npx cdktf synth)`);
    return 2;
  }

  const terraformIn = (command: string[], options: { capture?: boolean } = {}) => {
    const result = spawnSync(terraform, command, {
      cwd: dir,
      stdio: options.capture ? ['inherit', 'pipe', 'pipe'] : 'inherit',
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
  };
  const must = (command: string[], what: string, options: { capture?: boolean } = {}) => {
    const result = terraformIn(command, options);
    if (result.status !== 0) throw new BootstrapError(`${what} failed (terraform ${command.join(' ')} in ${dir})${options.capture ? `:\n${result.output}` : ''}`);
    return result.output;
  };
  const stateResources = () => must(['state', 'list'], 'reading the state', { capture: true }).split('\n').filter((line) => line.trim() !== '');

  try {
    rmSync(override, { force: true });
    // 1. Already bootstrapped? Initialise against the real S3 backend and look at the state.
    const probe = terraformIn(['init', '-input=false', '-reconfigure', '-no-color'], { capture: true });
    if (probe.status === 0) {
      if (stateResources().length > 0) {
        console.log(`bootstrap: already done: the state of "${BOOTSTRAP_STACK}" is in ${location}. Later changes: npx cdktf deploy ${BOOTSTRAP_STACK}`);
        if (existsSync(localState)) console.warn(`bootstrap: ${localState} is a leftover local copy; the state in S3 is authoritative: delete the file`);
        return 0;
      }
      if (!existsSync(localState)) {
        throw new BootstrapError(
          `the state bucket exists but holds no state of "${BOOTSTRAP_STACK}" (${location}) and there is no local state (${localState}): ` +
            `the bucket was created outside this bootstrap. Import it into the stack (terraform import) or choose another stateBucket`,
        );
      }
    } else if (!isMissingBucket(probe.output)) {
      throw new BootstrapError(`terraform init against ${location} failed:\n${probe.output}`);
    }

    // 2. First apply, with local state.
    mkdirSync(dirname(localState), { recursive: true });
    writeFileSync(override, localBackendOverride(localState));
    console.log(`bootstrap: applying "${BOOTSTRAP_STACK}" with local state ${localState}${existsSync(localState) ? ' (resuming)' : ''}`);
    must(['init', '-input=false', '-reconfigure'], 'terraform init with local state');
    must(['apply', '-input=false', ...(args['auto-approve'] ? ['-auto-approve'] : [])], 'terraform apply');

    // 3. Move the state into the bucket it created.
    rmSync(override, { force: true });
    console.log(`bootstrap: moving the state into ${location}`);
    must(['init', '-input=false', '-migrate-state', '-force-copy'], 'terraform init -migrate-state');
    if (stateResources().length === 0) throw new BootstrapError(`the state in ${location} is empty after the migration; the local state is kept in ${localState}`);
    rmSync(localState, { force: true });
    rmSync(`${localState}.backup`, { force: true });
    console.log(`bootstrap: done. The state of "${BOOTSTRAP_STACK}" is in ${location} (SSE-KMS, S3 lock file); the local copy was removed. Next: npx cdktf deploy network`);
    return 0;
  } catch (error) {
    rmSync(override, { force: true });
    if (error instanceof BootstrapError) {
      console.error(`bootstrap: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
