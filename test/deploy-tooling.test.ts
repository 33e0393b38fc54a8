/**
 * The deploy path around the cdktf CLI (test/cdktf-cli.test.ts): the Nx targets
 * that call it (upstream stacks first, flags forwarded to them), the one-time bootstrap with its
 * state migration, and the retained data of a tenant across its removal and re-addition.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { isMissingBucket, LOCAL_BACKEND_OVERRIDE, localBackendOverride } from '../scripts/lib/bootstrap.js';
import { importId, retainedResources, TenantDataError } from '../scripts/lib/tenant-data.js';
import { findTerraform } from '../scripts/lib/terraform.js';
import { runNx, temporaryNxWorkspace } from './support/nx-workspace.js';
import { FIXTURE_REPO, rawEnvironment, SOURCE_ROOT, synthStack, temporaryRoot } from './support/synth.js';
import { parseEnvironment } from '../stacks/lib/environment.js';
import { disabledStacks } from '../stacks/registry.js';
import { tenantEnvironments } from '../stacks/lib/tenant-environments.js';

/**
 * A temporary Nx workspace whose `cdktf` is a stub that records its arguments, so the deploy
 * targets run for real without AWS.
 */
function workspaceWithStubCdktf(): { root: string; calls: () => string[] } {
  // A tenant whose file puts it in prod only: it is an Nx project in dev too, but has no stack there.
  const prodOnly = `${readFileSync(join(FIXTURE_REPO, 'tenants', 'analytics', 'tenant.yaml'), 'utf8')}\nenvironments:\n  prod: {}\n`;
  const root = temporaryNxWorkspace({ files: { 'tenants/prod-only/tenant.yaml': prodOnly } });
  const modules = join(root, 'node_modules');
  rmSync(modules);
  mkdirSync(join(modules, '.bin'), { recursive: true });
  const real = join(SOURCE_ROOT, 'node_modules');
  for (const entry of readdirSync(real)) if (entry !== '.bin') symlinkSync(join(real, entry), join(modules, entry));
  for (const bin of readdirSync(join(real, '.bin'))) if (bin !== 'cdktf') symlinkSync(realpathSync(join(real, '.bin', bin)), join(modules, '.bin', bin));
  const log = join(root, 'cdktf-calls.log');
  writeFileSync(join(modules, '.bin', 'cdktf'), `#!/bin/sh\necho "cdktf $* [CHECKPOINT_DISABLE=$CHECKPOINT_DISABLE]" >> "${log}"\n`);
  chmodSync(join(modules, '.bin', 'cdktf'), 0o755);
  return { root, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

describe('Nx deploy targets', () => {
  const { root, calls } = workspaceWithStubCdktf();

  it('run cdktf for each stack after its upstream stacks, and forward --auto-approve to every one of them', () => {
    const result = runNx(root, ['run', 'cluster:deploy', '--auto-approve']);
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    const deployed = calls();
    // bootstrap first, cluster last; account and network (both after bootstrap only) in either order.
    const call = (stack: string) => `cdktf deploy ${stack} --ignore-missing-stack-dependencies --auto-approve [CHECKPOINT_DISABLE=1]`;
    expect(deployed[0]).toEqual(call('bootstrap'));
    expect(deployed.at(-1)).toEqual(call('cluster'));
    expect(deployed.slice(1, -1).sort()).toEqual([call('account'), call('network')]);
  }, 120_000);

  it('diff and destroy run cdktf for the one stack', () => {
    const before = calls().length;
    assert.equal(runNx(root, ['run', 'tenant-analytics:diff']).status, 0);
    assert.equal(runNx(root, ['run', 'network:destroy', '--auto-approve']).status, 0);
    expect(calls().slice(before)).toEqual([
      'cdktf diff tenant-analytics [CHECKPOINT_DISABLE=1]',
      'cdktf destroy network --ignore-missing-stack-dependencies --auto-approve [CHECKPOINT_DISABLE=1]',
    ]);
  }, 120_000);

  it('a tenant stack outside the selected environment is a no-op with a note, not a cdktf failure', () => {
    const before = calls().length;
    const dev = runNx(root, ['run', 'tenant-prod-only:deploy', '--exclude-task-dependencies', '--auto-approve'], { PLATFORM_ENV: 'dev' });
    assert.equal(dev.status, 0, `${dev.stdout}${dev.stderr}`);
    assert.match(dev.stdout, /tenant-prod-only is not in environment "dev" \(tenants\/prod-only\/tenant\.yaml lists prod\): nothing to deploy/);
    expect(calls().slice(before)).toEqual([]);
    assert.equal(runNx(root, ['run', 'tenant-prod-only:deploy', '--exclude-task-dependencies'], { PLATFORM_ENV: 'prod' }).status, 0);
    expect(calls().slice(before)).toEqual(['cdktf deploy tenant-prod-only --ignore-missing-stack-dependencies [CHECKPOINT_DISABLE=1]']);
  }, 120_000);

  it('the targets decide membership as the synth does (tenant-environments.ts)', async () => {
    const wrapper = (await import(join(SOURCE_ROOT, 'scripts', 'nx', 'cdktf-stack.mjs'))) as { tenantEnvironments: (raw: unknown) => string[] | undefined };
    for (const raw of [{}, { environments: { prod: {} } }, { environments: { dev: {}, prod: { quota: {} } } }, { environments: null }, { environments: ['dev'] }, null, 'text']) {
      expect(wrapper.tenantEnvironments(raw)).toEqual(tenantEnvironments(raw));
    }
  });

  it('the targets leave out the stacks an environment disables as the synth does (registry disabledStacks)', async () => {
    const wrapper = (await import(join(SOURCE_ROOT, 'scripts', 'nx', 'cdktf-stack.mjs'))) as { disabledReason: (root: string, environment: string, stack: string) => string | undefined };
    for (const scheduling of [{ batchScheduler: 'yunikorn' }, { batchScheduler: 'default' }, undefined]) {
      const raw = rawEnvironment('dev');
      if (scheduling) raw.scheduling = { ...(raw.scheduling as object), ...scheduling };
      else delete raw.scheduling;
      const root = temporaryRoot({ tenants: 'none', files: { 'environments/dev.yaml': stringify(raw) } });
      const fromSynth = disabledStacks(parseEnvironment(raw, 'environments/dev.yaml'));
      for (const stack of ['yunikorn', 'network', 'tenant-analytics']) {
        expect(wrapper.disabledReason(root, 'dev', stack)).toEqual(fromSynth.find((d) => d.name === stack)?.reason);
      }
    }
  });

  it('deploying a stack the environment leaves out is a no-op with a note, not a cdktf failure', () => {
    const before = calls().length;
    const file = join(root, 'environments', 'dev.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/batchScheduler: yunikorn/, 'batchScheduler: default'));
    try {
      const dev = runNx(root, ['run', 'yunikorn:deploy', '--exclude-task-dependencies', '--auto-approve'], { PLATFORM_ENV: 'dev' });
      assert.equal(dev.status, 0, `${dev.stdout}${dev.stderr}`);
      assert.match(dev.stdout, /yunikorn is not part of environment "dev" \(scheduling\.batchScheduler is "default" in environments\/dev\.yaml\): nothing to deploy/);
      expect(calls().slice(before)).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  it('(control) without forwarded params, the upstream deploys would wait for an approval nobody gives', () => {
    const nx = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as { targetDefaults: { deploy: { dependsOn: Record<string, unknown>[] }[] } };
    delete nx.targetDefaults.deploy[0]!.dependsOn[0]!.params;
    writeFileSync(join(root, 'nx.json'), JSON.stringify(nx));
    const before = calls().length;
    assert.equal(runNx(root, ['run', 'network:deploy', '--auto-approve']).status, 0);
    expect(calls().slice(before).map((c) => c.includes('--auto-approve'))).toEqual([false, true]);
  }, 120_000);
});

describe('bootstrap: first apply with local state, then the state moved into the bucket', () => {
  it('the override file replaces the S3 backend, so the first init never touches the bucket that does not exist yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-override-'));
    const backend = (synthStack('bootstrap').terraform as { backend: unknown }).backend;
    writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify({ terraform: { backend }, output: { ok: { value: 'yes' } } }));
    writeFileSync(join(dir, LOCAL_BACKEND_OVERRIDE), localBackendOverride(join(dir, 'state', 'bootstrap.tfstate')));
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'https://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', CHECKPOINT_DISABLE: '1' };
    const terraform = findTerraform();
    const init = spawnSync(terraform, ['init', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8', env });
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /Successfully configured the backend "local"/);
    const apply = spawnSync(terraform, ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8', env });
    assert.equal(apply.status, 0, apply.stderr);
    assert.ok(existsSync(join(dir, 'state', 'bootstrap.tfstate')), 'state written locally');
    // (control) without the override, init needs the S3 bucket.
    rmSync(join(dir, LOCAL_BACKEND_OVERRIDE));
    rmSync(join(dir, '.terraform'), { recursive: true, force: true });
    const s3 = spawnSync(terraform, ['init', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
    assert.notEqual(s3.status, 0);
  }, 180_000);

  it('tells a missing state bucket (first run) from other init failures', () => {
    assert.ok(isMissingBucket('Error: Failed to get existing workspaces: S3 bucket "spark-platform-tfstate-111122223333-dev" does not exist.'));
    assert.ok(isMissingBucket('operation error S3: ListObjectsV2, https response error StatusCode: 404, api error NoSuchBucket: The specified bucket does not exist'));
    assert.ok(!isMissingBucket('Error: No valid credential sources found'));
    assert.ok(!isMissingBucket('api error AccessDenied: Access Denied'));
  });
});

describe('tenant-data: retained data of a tenant', () => {
  const tf = synthStack('tenant-analytics');
  const retained = retainedResources(tf as never);

  it('is the data bucket, its settings and its KMS key and alias, nothing else', () => {
    expect(retained.map((r) => r.type)).toEqual([
      'aws_s3_bucket',
      'aws_kms_alias',
      'aws_kms_key',
      'aws_s3_bucket_lifecycle_configuration',
      'aws_s3_bucket_ownership_controls',
      'aws_s3_bucket_policy',
      'aws_s3_bucket_public_access_block',
      'aws_s3_bucket_server_side_encryption_configuration',
      'aws_s3_bucket_versioning',
    ]);
    // Exactly what prevent_destroy guards is inside: bucket and key.
    const guarded = Object.entries(tf.resource!).flatMap(([type, instances]) => Object.entries(instances).filter(([, body]) => JSON.stringify(body.lifecycle ?? {}).includes('prevent_destroy')).map(([name]) => `${type}.${name}`));
    assert.equal(guarded.length, 2);
    for (const address of guarded) assert.ok(retained.some((r) => r.address === address), address);
  });

  it('is imported by the bucket name, the alias name and the key id read from the alias', () => {
    const bucket = retained.find((r) => r.type === 'aws_s3_bucket')!;
    assert.equal(importId(bucket, retained), 'spark-dev-analytics-111122223333-us-west-2');
    assert.equal(importId(retained.find((r) => r.type === 'aws_s3_bucket_policy')!, retained), 'spark-dev-analytics-111122223333-us-west-2');
    assert.equal(importId(retained.find((r) => r.type === 'aws_kms_alias')!, retained), 'alias/s3/spark-dev-analytics-111122223333-us-west-2');
    const key = retained.find((r) => r.type === 'aws_kms_key')!;
    assert.equal(importId(key, retained, '1234abcd-12ab-34cd-56ef-1234567890ab'), '1234abcd-12ab-34cd-56ef-1234567890ab');
    assert.throws(() => importId(key, retained), (e: unknown) => e instanceof TenantDataError && /import the key alias first/.test(e.message));
  });
});
