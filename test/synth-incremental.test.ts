import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { stackDefinitions } from '../stacks/registry.js';
import { FIXTURE_REPO, SOURCE_ROOT, testEnvironment } from './support/synth.js';

/** Stacks of the fixture's dev environment (platform stacks and the fixture tenants). */
const STACKS = stackDefinitions(FIXTURE_REPO, testEnvironment()).length;
const all = new RegExp(`^synthesized ${STACKS} stack\\(s\\) for environment "dev"`);
const oneOf = (stack: string) => new RegExp(`^synthesized 1 stack\\(s\\) \\(${STACKS - 1} up to date\\) for environment "dev".*: ${stack}$`, 'm');

describe('incremental synth', () => {
  let root: string;
  let outdir: string;
  /** PATH with node and nothing else: synth must not need Terraform (cdktf's DataResource ran `terraform version`). */
  let withoutTerraform: NodeJS.ProcessEnv;
  const synth = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist/scripts/synth.js'), '--root', root, '--outdir', outdir, ...args], { encoding: 'utf8', env: withoutTerraform });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };
  const mtime = (stack: string) => statSync(join(outdir, 'stacks', stack, 'cdk.tf.json')).mtimeMs;
  const content = (stack: string) => readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8');

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'synth-incremental-'));
    cpSync(join(FIXTURE_REPO, 'environments'), join(root, 'environments'), { recursive: true });
    cpSync(join(FIXTURE_REPO, 'tenants'), join(root, 'tenants'), { recursive: true });
    outdir = join(root, 'out');
    const bin = join(root, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    withoutTerraform = { ...process.env, PATH: bin };
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('synthesizes every stack on a machine without Terraform, then rebuilds nothing when nothing changed, without loading stack code', () => {
    assert.match(synth(), all);
    const before = mtime('tenant-analytics');
    assert.match(synth(), /synthesized 0 stack\(s\): every stack of environment "dev" is up to date/);
    assert.equal(mtime('tenant-analytics'), before);
  });

  it('rebuilds only the tenant whose file changed, with the same output a forced build gives', () => {
    const network = mtime('network');
    const risk = mtime('tenant-risk-models');
    const file = join(root, 'tenants/analytics/tenant.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/cpu: "?\d+"?/, 'cpu: "123"'));
    assert.match(synth(), oneOf('tenant-analytics'));
    assert.equal(mtime('network'), network);
    assert.equal(mtime('tenant-risk-models'), risk);
    assert.match(content('tenant-analytics'), /"requests.cpu": "123"/);
    const incremental = content('tenant-analytics');
    synth('--force');
    assert.equal(content('tenant-analytics'), incremental);
  });

  it('still validates every tenant file when one changed', () => {
    const file = join(root, 'tenants/risk-models/tenant.yaml');
    const original = readFileSync(file, 'utf8');
    appendFileSync(file, 'colour: blue\n');
    const result = spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist/scripts/synth.js'), '--root', root, '--outdir', outdir], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /tenants\/risk-models\/tenant\.yaml: colour: expected no field named "colour"/);
    writeFileSync(file, original);
  });

  it('rebuilds everything when the environment file changes, and a missing output even when nothing changed', () => {
    const envFile = join(root, 'environments/dev.yaml');
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace('logRetentionDays: 30', 'logRetentionDays: 60'));
    assert.match(synth(), all);
    rmSync(join(outdir, 'stacks', 'cluster'), { recursive: true });
    assert.match(synth(), oneOf('cluster'));
  });

  it('drops the stack of a removed tenant folder', () => {
    rmSync(join(root, 'tenants/risk-models'), { recursive: true });
    synth();
    assert.equal(existsSync(join(outdir, 'stacks', 'tenant-risk-models')), false);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    assert.equal(manifest.stacks['tenant-risk-models'], undefined);
    assert.ok(manifest.stacks['tenant-analytics']);
  });

  it('keeps every entry when single-stack synths run in parallel (nx run-many)', async () => {
    rmSync(outdir, { recursive: true, force: true });
    const stacks = ['network', 'cluster', 'tenancy', 'tenant-analytics'];
    const { spawn } = await import('node:child_process');
    const codes = await Promise.all(
      stacks.map(
        (stack) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, [join(SOURCE_ROOT, 'dist/scripts/synth.js'), '--root', root, '--outdir', outdir, '--stack', stack], { stdio: 'ignore' });
            child.on('exit', resolve);
          }),
      ),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    assert.deepEqual(Object.keys(manifest.stacks).sort(), [...stacks].sort());
    const fingerprints = JSON.parse(readFileSync(join(outdir, 'fingerprints.json'), 'utf8')) as { stacks: Record<string, string> };
    assert.deepEqual(Object.keys(fingerprints.stacks).sort(), [...stacks].sort());
    assert.equal(existsSync(join(outdir, '.publish.lock')), false);
  });

  it('replaces the output of another environment instead of mixing them', () => {
    const prod = spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist/scripts/synth.js'), '--root', root, '--outdir', outdir, '--env', 'prod', '--stack', 'network'], { encoding: 'utf8' });
    assert.equal(prod.status, 0, prod.stderr);
    assert.equal(existsSync(join(outdir, 'stacks', 'cluster')), false, 'dev stacks removed');
    assert.match(content('network'), /"key": "prod\/network.tfstate"/);
  });
});
