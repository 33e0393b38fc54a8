import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { remoteStateDependencies } from '../stacks/lib/contracts.js';
import { stackDefinitions } from '../stacks/registry.js';
import { FIXTURE_REPO, resourceLike, SOURCE_ROOT, synthStack, testEnvironment } from './support/synth.js';
import { synthCli } from './support/synth-cli.js';

const environment = testEnvironment();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return ['node_modules', 'dist', 'cdktf.out', '.git', '.nx'].includes(entry) ? [] : sourceFiles(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry) ? [path] : [];
  });
}

describe('workspace structure', () => {
  const definitions = stackDefinitions(FIXTURE_REPO, environment);

  const stateKeyAlias = `arn:aws:kms:us-west-2:111122223333:alias/s3/${environment.stateBucket}`;

  it('gives every stack, bootstrap included, its own state key with SSE-KMS under the state bucket key and S3-native locking', () => {
    const app = Testing.app({ stackTraces: false });
    for (const definition of definitions) {
      const tf = JSON.parse(Testing.synth(definition.create(app))) as { terraform: { backend: Record<string, Record<string, unknown>> } };
      assert.deepEqual(tf.terraform.backend, {
        s3: {
          bucket: environment.stateBucket,
          key: `dev/${definition.name}.tfstate`,
          region: 'us-west-2',
          encrypt: true,
          kms_key_id: stateKeyAlias,
          use_lockfile: true,
        },
      }, definition.name);
    }
  });

  it('reads every upstream state with the same key, and checks the upstream exists and has the outputs it needs', () => {
    const app = Testing.app({ stackTraces: false });
    let reads = 0;
    for (const definition of definitions) {
      const tf = JSON.parse(Testing.synth(definition.create(app))) as { data?: Record<string, Record<string, Record<string, unknown>>> };
      for (const [id, read] of Object.entries(tf.data?.terraform_remote_state ?? {})) {
        reads++;
        const upstream = id.replace(/^remote-state-/, '');
        assert.deepEqual(read.config, { bucket: environment.stateBucket, key: `dev/${upstream}.tfstate`, region: 'us-west-2', encrypt: true, kms_key_id: stateKeyAlias }, `${definition.name} reads ${upstream}`);
        const lifecycle = read.lifecycle as { precondition: { condition: string; error_message: string }[]; postcondition: { condition: string; error_message: string }[] };
        assert.equal(lifecycle.precondition[0]!.condition, `\${contains(data.aws_s3_objects.remote-state-${upstream}-object.keys, "dev/${upstream}.tfstate")}`);
        assert.match(lifecycle.precondition[0]!.error_message, new RegExp(`^Stack "${definition.name}" needs output\\(s\\) \\w+.* of stack "${upstream}", but its state s3://\\S+/dev/${upstream}\\.tfstate does not exist: "${upstream}" is not deployed\\. Deploy it first: npx cdktf deploy ${upstream} --ignore-missing-stack-dependencies$`));
        assert.match(lifecycle.postcondition[0]!.condition, /^\$\{length\(sort\(setsubtract\(\["\w+"(, "\w+")*\], keys\(self\.outputs\)\)\)\) == 0\}$/);
        assert.ok(tf.data!.aws_s3_objects![`remote-state-${upstream}-object`], 'the listing the precondition reads');
      }
    }
    assert.ok(reads >= 10, `${reads} remote-state reads`);
  });

  it('declares in Nx every stack another stack reads state from (deploy order = data flow)', () => {
    const app = Testing.app({ stackTraces: false });
    for (const definition of definitions.filter((d) => !d.name.startsWith('tenant-'))) {
      const stack = definition.create(app);
      const project = JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', definition.name, 'project.json'), 'utf8')) as { name: string; implicitDependencies: string[] };
      assert.equal(project.name, definition.name);
      for (const upstream of remoteStateDependencies(stack)) {
        assert.ok(project.implicitDependencies.includes(upstream), `${definition.name} reads ${upstream} state but its project.json does not depend on it`);
      }
    }
  });

  it('has a project.json for every platform stack and no project for a stack that does not exist', () => {
    const platform = definitions.filter((d) => !d.name.startsWith('tenant-')).map((d) => d.name).sort();
    const projects = readdirSync(join(SOURCE_ROOT, 'stacks')).filter((d) => existsSync(join(SOURCE_ROOT, 'stacks', d, 'project.json'))).sort();
    expect(projects).toEqual(platform);
  });

  it('never imports a provider package root barrel', () => {
    const offenders = sourceFiles(SOURCE_ROOT).filter((file) =>
      /from\s+['"]@cdktf\/provider-(aws|helm|kubernetes)['"]|require\(['"]@cdktf\/provider-(aws|helm|kubernetes)['"]\)/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders.map((f) => relative(SOURCE_ROOT, f))).toEqual([]);
  });

  it('pins every npm dependency exactly', () => {
    const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `${name}@${version} is not pinned`);
    }
  });
});

describe('bootstrap stack', () => {
  const tf = synthStack('bootstrap');
  it('keeps its own state in the bucket it creates, encrypted with the key it creates (after npm run bootstrap migrates it there)', () => {
    const backend = tf.terraform.backend!.s3!;
    assert.equal(backend.bucket, resourceLike(tf, 'aws_s3_bucket', 'state').bucket);
    assert.equal(backend.key, 'dev/bootstrap.tfstate');
    const alias = resourceLike(tf, 'aws_kms_alias', 'state');
    assert.equal(backend.kms_key_id, `arn:aws:kms:us-west-2:111122223333:${alias.name as string}`);
    assert.match(alias.target_key_id as string, /^\$\{aws_kms_key\.state_key_[A-F0-9]+\.key_id\}$/);
    const sse = resourceLike(tf, 'aws_s3_bucket_server_side_encryption_configuration', 'state') as { rule: { apply_server_side_encryption_by_default: Record<string, string> }[] };
    assert.match(sse.rule[0]!.apply_server_side_encryption_by_default.kms_master_key_id!, /aws_kms_key\.state_key_[A-F0-9]+\.arn/, 'the alias names the bucket\'s own key');
  });

  it('creates a versioned, KMS-encrypted, private, TLS-only state bucket that Terraform refuses to destroy', () => {
    const bucket = resourceLike(tf, 'aws_s3_bucket', 'state');
    assert.equal(bucket.bucket, 'spark-platform-tfstate-111122223333-dev');
    assert.deepEqual(bucket.lifecycle, { prevent_destroy: true });
    assert.equal(bucket.force_destroy, false);
    assert.deepEqual(resourceLike(tf, 'aws_s3_bucket_versioning', 'state').versioning_configuration, { status: 'Enabled' });
    const sse = resourceLike(tf, 'aws_s3_bucket_server_side_encryption_configuration', 'state') as { rule: { apply_server_side_encryption_by_default: Record<string, string> }[] };
    assert.equal(sse.rule[0]!.apply_server_side_encryption_by_default.sse_algorithm, 'aws:kms');
    assert.equal(resourceLike(tf, 'aws_kms_key', 'state').enable_key_rotation, true);
    const block = resourceLike(tf, 'aws_s3_bucket_public_access_block', 'state');
    for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.equal(block[flag], true, flag);
    const policy = JSON.parse(resourceLike(tf, 'aws_s3_bucket_policy', 'state').policy as string);
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    assert.equal(policy.Statement[0].Effect, 'Deny');
    const lifecycle = resourceLike(tf, 'aws_s3_bucket_lifecycle_configuration', 'state') as { rule: Record<string, unknown>[] };
    assert.deepEqual(lifecycle.rule.map((r) => r.id), ['abort-incomplete-multipart-uploads', 'expire-noncurrent-versions']);
  });
});

describe('synth command', () => {
  function tempRepo(): { root: string; outdir: string } {
    const root = mkdtempSync(join(tmpdir(), 'synth-cli-'));
    cpSync(join(FIXTURE_REPO, 'environments'), join(root, 'environments'), { recursive: true });
    if (existsSync(join(FIXTURE_REPO, 'tenants'))) cpSync(join(FIXTURE_REPO, 'tenants'), join(root, 'tenants'), { recursive: true });
    writeFileSync(join(root, 'nx.json'), '{}');
    return { root, outdir: join(root, 'out') };
  }
  /** The synth command in this process (test/support/synth-cli.ts). */
  const synth = (root: string, outdir: string, env: Record<string, string> = {}, args: string[] = []) => synthCli(['--root', root, '--outdir', outdir, ...args], env);
  /** The compiled command in a process of its own: the exit code the shell sees. */
  const spawnSynth = (root: string, outdir: string) =>
    spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist', 'scripts', 'synth.js'), '--root', root, '--outdir', outdir], { cwd: root, encoding: 'utf8', env: process.env });

  it('writes every stack of the default environment, and only the named ones with --stack', async () => {
    const { root, outdir } = tempRepo();
    try {
      const full = await synth(root, outdir);
      assert.equal(full.status, 0, full.stderr);
      for (const name of ['bootstrap', 'network', 'cluster']) assert.ok(existsSync(join(outdir, 'stacks', name, 'cdk.tf.json')), name);
      const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
      assert.ok(manifest.stacks.network);
      const before = statSync(join(outdir, 'stacks', 'cluster', 'cdk.tf.json')).mtimeMs;
      const one = await synth(root, outdir, {}, ['--stack', 'network']);
      assert.equal(one.status, 0, one.stderr);
      assert.equal(statSync(join(outdir, 'stacks', 'cluster', 'cdk.tf.json')).mtimeMs, before, 'other stacks untouched');
      assert.ok((JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> }).stacks.cluster, 'manifest keeps other stacks');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('exits non-zero, names the file and field, and writes nothing for a bad environment', () => {
    const { root, outdir } = tempRepo();
    try {
      const file = join(root, 'environments', 'dev.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('region: us-west-2', 'region: us-west-2\nregoin: typo'));
      const result = spawnSynth(root, outdir);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /environments\/dev\.yaml: regoin: expected no field named "regoin"/);
      assert.equal(existsSync(outdir), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('selects the environment with PLATFORM_ENV and rejects an unknown one', async () => {
    const { root, outdir } = tempRepo();
    try {
      const prod = await synth(root, outdir, { PLATFORM_ENV: 'prod' }, ['--stack', 'network']);
      assert.equal(prod.status, 0, prod.stderr);
      const network = JSON.parse(readFileSync(join(outdir, 'stacks', 'network', 'cdk.tf.json'), 'utf8')) as { terraform: { backend: { s3: { key: string } } } };
      assert.equal(network.terraform.backend.s3.key, 'prod/network.tfstate');
      const missing = await synth(root, join(root, 'out2'), { PLATFORM_ENV: 'qa' });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /environments\/qa\.yaml/);
      assert.equal(existsSync(join(root, 'out2')), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects an unknown --stack name, listing the stacks', async () => {
    const { root, outdir } = tempRepo();
    try {
      const result = await synth(root, outdir, {}, ['--stack', 'netwrok']);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /--stack: netwrok: expected one of the stacks of environment dev: bootstrap, account, network, cluster/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
