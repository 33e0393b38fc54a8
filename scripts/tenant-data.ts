/**
 * `npm run tenant-data`: the retained data of a tenant (`data.retainOnDelete: true`: its bucket and
 * KMS key, which Terraform refuses to destroy) across the tenant's removal and re-addition.
 *
 *   npm run tenant-data -- release <tenant> [--outdir <dir>]
 *       before `npx cdktf destroy tenant-<tenant>`: removes the bucket, its settings and its key
 *       from the stack's state (terraform state rm). They stay in AWS, unmanaged; the destroy then
 *       removes everything else.
 *   npm run tenant-data -- adopt <tenant> [--outdir <dir>]
 *       after adding tenants/<tenant>/ again (same name, same environment) and synthesizing: imports
 *       the retained bucket, its settings, its key alias and key into the new stack's state
 *       (terraform import), so `npx cdktf deploy tenant-<tenant>` reuses them instead of failing on
 *       names that already exist (BucketAlreadyOwnedByYou, AlreadyExistsException on the alias).
 *
 * Runs terraform in cdktf.out/stacks/tenant-<tenant> with the real S3 backend: needs credentials of
 * the environment's account, like `cdktf deploy`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tenantStackName } from '../stacks/tenant/contract.js';
import { repositoryRoot } from './lib/paths.js';
import { importId, retainedResources, TenantDataError } from './lib/tenant-data.js';
import { terraformForCommand } from './lib/terraform.js';

const USAGE = 'usage: tenant-data <release|adopt> <tenant> [--outdir <dir>]';

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { outdir: { type: 'string' } }, strict: true });
  } catch (error) {
    console.error(`tenant-data: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, tenant, ...extra] = parsed.positionals;
  if ((command !== 'release' && command !== 'adopt') || !tenant || extra.length > 0) {
    console.error(`tenant-data: expected a command (release or adopt) and one tenant name\n${USAGE}`);
    return 2;
  }
  const stack = tenantStackName(tenant);
  const outdir = resolve(parsed.values.outdir ?? process.env.CDKTF_OUTDIR ?? join(repositoryRoot(), 'cdktf.out'));
  const dir = join(outdir, 'stacks', stack);
  if (!existsSync(join(dir, 'cdk.tf.json'))) {
    console.error(`tenant-data: ${dir}/cdk.tf.json does not exist: is tenants/${tenant}/tenant.yaml there? Synthesize first (npx cdktf synth)`);
    return 2;
  }
  const terraform = terraformForCommand('tenant-data');
  if (terraform === undefined) return 2;
  const run = (args: string[], capture = true) => {
    const result = spawnSync(terraform, args, { cwd: dir, encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new TenantDataError(`terraform ${args.join(' ')} failed in ${dir}${capture ? `:\n${result.stdout}${result.stderr}` : ''}`);
    return result.stdout ?? '';
  };

  try {
    const retained = retainedResources(JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')));
    if (retained.length === 0) throw new TenantDataError(`${stack} has no retained data resources`);
    run(['init', '-input=false', '-no-color']);
    const inState = new Set(run(['state', 'list', '-no-color']).split('\n').filter(Boolean));
    if (command === 'release') {
      const managed = retained.filter((r) => inState.has(r.address));
      if (managed.length === 0) {
        console.log(`tenant-data: nothing to release: no retained resource of ${stack} is in its state`);
        return 0;
      }
      run(['state', 'rm', '-no-color', ...managed.map((r) => r.address)]);
      const bucket = retained.find((r) => r.type === 'aws_s3_bucket')?.body.bucket;
      console.log(`tenant-data: released ${managed.length} resource(s) of ${stack} from its state; bucket ${String(bucket)} and its KMS key stay in AWS, no longer managed. Now: npx cdktf destroy ${stack}`);
      return 0;
    }
    const missing = retained.filter((r) => !inState.has(r.address));
    if (missing.length === 0) {
      console.log(`tenant-data: nothing to adopt: every retained resource of ${stack} is already in its state`);
      return 0;
    }
    let keyId: string | undefined;
    for (const resource of missing) {
      if (resource.type === 'aws_kms_key' && !keyId) keyId = aliasTargetKeyId(run, retained);
      const id = importId(resource, retained, keyId);
      console.log(`tenant-data: importing ${resource.address} (${id})`);
      run(['import', '-input=false', '-no-color', resource.address, id]);
    }
    console.log(`tenant-data: adopted ${missing.length} retained resource(s) into ${stack}. Now: npx cdktf deploy ${stack}`);
    return 0;
  } catch (error) {
    if (error instanceof TenantDataError) {
      console.error(`tenant-data: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** The key id the retained alias points at, from the state (the alias is imported before the key). */
function aliasTargetKeyId(run: (args: string[]) => string, retained: ReturnType<typeof retainedResources>): string {
  const alias = retained.find((r) => r.type === 'aws_kms_alias');
  if (!alias) throw new TenantDataError('no retained key alias to find the key id from');
  const state = JSON.parse(run(['show', '-json', '-no-color'])) as { values?: { root_module?: { resources?: { address: string; values: { target_key_id?: string } }[] } } };
  const id = state.values?.root_module?.resources?.find((r) => r.address === alias.address)?.values.target_key_id;
  if (!id) throw new TenantDataError(`${alias.address} is not in the state (import it first) or has no target key`);
  return id;
}

process.exitCode = main(process.argv.slice(2));
