import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchArgs, syntheticTenant, targetChecks, type SizeResult } from '../scripts/bench.js';
import { MINIMUM_TERRAFORM_VERSION } from '../scripts/lib/terraform.js';
import { awsPartOf, offlinePlanConfig, type TerraformJson } from '../scripts/lib/terraform.js';
import { validateTenants } from '../stacks/lib/tenant-config.js';
import { OBSERVABILITY_TERRAFORM_VERSION } from '../stacks/observability-infra/stack.js';
import { compiledScript, SOURCE_ROOT, synthStack, testEnvironment } from './support/synth.js';
import { parse } from 'yaml';

describe('offline validation views', () => {
  it('keeps only the AWS part of a tenant stack, with dependencies on dropped resources removed', () => {
    const tf = synthStack('tenant-analytics') as unknown as TerraformJson;
    const { config, dropped } = awsPartOf(tf);
    assert.deepEqual(dropped, ['kubernetes_manifest']);
    const json = JSON.stringify(config);
    assert.ok(!json.includes('kubernetes_manifest.'), 'no reference to a dropped resource is left');
    assert.deepEqual(Object.keys((config.provider ?? {}) as object), ['aws']);
    const resources = (config as { resource: Record<string, unknown> }).resource;
    assert.ok(resources.aws_emrcontainers_virtual_cluster, 'the virtual cluster stays');
    assert.ok(Object.keys(resources).every((type) => type.startsWith('aws_')));
  });

  it('plans offline with local state and a provider that never calls AWS', () => {
    const config = offlinePlanConfig(synthStack('network') as unknown as TerraformJson);
    assert.equal((config.terraform as { backend?: unknown }).backend, undefined);
    const aws = config.provider!.aws![0]!;
    assert.equal(aws.skip_credentials_validation, true);
    assert.equal(aws.skip_requesting_account_id, true);
    assert.equal(aws.allowed_account_ids, undefined);
  });
});

describe('benchmark', () => {
  it('generates synthetic tenants that pass the real validation, options varied', () => {
    const environment = testEnvironment();
    const tenants = [1, 2, 3, 10].map((i) => syntheticTenant(i, environment.availabilityZones, environment.accountId));
    const { tenants: valid, problems } = validateTenants(
      tenants.map((t) => ({ folder: t.name, file: `tenants/${t.name}/tenant.yaml`, raw: parse(t.yaml) as unknown })),
      environment,
    );
    assert.deepEqual(problems, []);
    assert.equal(valid.length, 4);
    assert.deepEqual(new Set(valid.map((t) => t.emr.identity)), new Set(['irsa', 'pod-identity']));
    assert.ok(valid.some((t) => t.spark.dedicatedNodes));
  });

  it('checks the targets of the performance issue', () => {
    const result = (tenants: number, coldMs: number, rss: number, changedMs: number, rebuilt: number): SizeResult => ({
      tenants,
      stacks: tenants + 10,
      cold: { wallMs: coldMs, maxRssMb: rss, synthesized: tenants + 10 },
      incremental: { wallMs: changedMs, maxRssMb: 100, synthesized: rebuilt },
      noop: { wallMs: 80, maxRssMb: 50, synthesized: 0 },
      baseline: { oneStackDeepMs: 600, oneStackDeepRssMb: 130, oneStackBarrelMs: 2300, oneStackBarrelRssMb: 560, processPerStackMs: 600 * (tenants + 10) },
    });
    const checks = targetChecks([result(100, 2400, 190, 700, 1), result(1000, 45000, 700, 1000, 2)]);
    const missed = checks.filter((c) => !c.met).map((c) => c.target);
    assert.deepEqual(missed, ['1000 tenants: full synth < 40 s', '1000 tenants: one tenant changed: 1 stack rebuilt, < 2 s']);
  });
});

describe('command-line help', () => {
  it('bench --help prints the usage and exits 0, no stack trace; bad options exit 2', () => {
    const help = spawnSync(process.execPath, [compiledScript('bench.js'), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: npm run bench -- \[--sizes 10,100,1000\]/);
    assert.equal(help.stderr, '');
    expect(parseBenchArgs(['--sizes', '10,x'])).toEqual({ exitCode: 2, text: expect.stringMatching(/--sizes takes whole numbers/) });
    const unknown = parseBenchArgs(['--bogus']);
    assert.ok('exitCode' in unknown && unknown.exitCode === 2 && /Unknown option '--bogus'/.test(unknown.text));
    assert.deepEqual(parseBenchArgs(['--sizes', '10', '--runs', '1', '--no-nx']), { sizes: [10], runs: 1, nx: false });
  });
});

describe('the Terraform version, one figure everywhere', () => {
  it('the README, the code and the workflows agree with what the stacks require', () => {
    assert.equal(OBSERVABILITY_TERRAFORM_VERSION, `>= ${MINIMUM_TERRAFORM_VERSION}.0`);
    const readme = readFileSync(join(SOURCE_ROOT, 'README.md'), 'utf8');
    const cited = [...readme.matchAll(/Terraform\*{0,2}`? >= (\d+\.\d+)|`terraform` >= (\d+\.\d+)/gi)].map((m) => m[1] ?? m[2]);
    assert.ok(cited.length >= 3, `the README cites the version (${cited.join(', ')})`);
    assert.deepEqual([...new Set(cited)], [MINIMUM_TERRAFORM_VERSION]);
    for (const workflow of ['plan.yml', 'deploy.yml']) {
      const pinned = /TERRAFORM_VERSION: (\d+)\.(\d+)\.\d+/.exec(readFileSync(join(SOURCE_ROOT, '.github', 'workflows', workflow), 'utf8'));
      assert.ok(pinned, workflow);
      const [major, minor] = MINIMUM_TERRAFORM_VERSION.split('.').map(Number) as [number, number];
      assert.ok(Number(pinned[1]) > major || (Number(pinned[1]) === major && Number(pinned[2]) >= minor), `${workflow} pins ${pinned[0]}`);
    }
  });
});
