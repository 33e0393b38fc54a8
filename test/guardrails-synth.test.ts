import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { App, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { evaluateStack, formatFinding, SUPPRESSION_RULE } from '../modules/guardrails/engine.js';
import { ALL_RULES } from '../modules/guardrails/rules.js';
import { s3PublicAccessBlocked } from '../modules/guardrails/s3.js';
import { suppressRule } from '../modules/guardrails/suppressions.js';
import { DEFAULT_TAGS_NOT_APPLIED, UNTAGGABLE_AWS_RESOURCE_TYPES } from '../modules/guardrails/tags.js';
import { SecureBucket } from '../modules/storage/secure-bucket.js';
import { checkStack, type GuardrailReport, guardrailSummary, recordedResult, resultsFor } from '../stacks/lib/guardrails.js';
import { PlatformStack } from '../stacks/lib/platform-stack.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { hasTagsArgument } from './support/guardrails.js';
import { FIXTURE_REPO, SOURCE_ROOT, testEnvironment } from './support/synth.js';

const environment = testEnvironment();

/** A stack with one bare bucket (fails S3-001..006) inside a `data` construct, plus a compliant SecureBucket. */
class BucketStack extends PlatformStack {
  readonly data: Construct;
  readonly bare: S3Bucket;
  constructor(scope: Construct, name: string) {
    super(scope, name, { environment });
    this.data = new Construct(this, 'data');
    this.bare = new S3Bucket(this.data, 'bare', { bucket: `${name}-bare` });
    this.bare.overrideLogicalId('bare');
    new SecureBucket(this, 'secure', { bucketName: `${name}-secure` });
  }
}

const S3_RULE_IDS = ['S3-001', 'S3-002', 'S3-003', 'S3-004', 'S3-005', 'S3-006'];
const REASON = 'Scratch bucket for the test; objects expire within a day anyway.';

describe('guardrails in PlatformStack synth', () => {
  it('fails Testing.synth with one "[RULE] stack/address: what. Fix: how" line per violation', () => {
    const stack = new BucketStack(Testing.app({ stackTraces: false }), 'demo');
    assert.throws(
      () => Testing.synth(stack, true),
      (error: Error) => {
        assert.ok(
          error.message.includes(`[demo] [S3-001] demo/aws_s3_bucket.bare: bucket has no aws_s3_bucket_public_access_block. Fix: ${s3PublicAccessBlocked.fix}`),
          error.message,
        );
        for (const id of S3_RULE_IDS) assert.ok(error.message.includes(`[${id}] demo/aws_s3_bucket.bare: `), id);
        assert.ok(!/demo\/aws_s3_bucket\.secure/.test(error.message), 'the SecureBucket passes every rule');
        return true;
      },
    );
  });

  it('suppresses a rule for the construct and everything beneath it, with the reason recorded', () => {
    const stack = new BucketStack(Testing.app({ stackTraces: false }), 'demo');
    suppressRule(stack.data, 'S3-005', REASON);
    suppressRule(stack.bare, 'S3-006', `  ${REASON}  `);
    const result = checkStack(stack);
    assert.deepEqual(
      result.violations.map((v) => v.ruleId),
      ['S3-001', 'S3-002', 'S3-003', 'S3-004'],
    );
    assert.deepEqual(
      result.suppressed.map((f) => [f.ruleId, `${f.stack}/${f.address}`, f.suppressedAt, f.reason]),
      [
        ['S3-005', 'demo/aws_s3_bucket.bare', 'demo/data', REASON],
        ['S3-006', 'demo/aws_s3_bucket.bare', 'demo/data/bare', REASON],
      ],
    );
    assert.deepEqual(result.suppressions.map((s) => [s.ruleId, s.constructPath, s.matched]), [
      ['S3-005', 'demo/data', 1],
      ['S3-006', 'demo/data/bare', 1],
    ]);
    assert.ok(stack.node.findChild('data').node.metadata.some((m) => m.type === 'spark-platform/guardrail-suppression'), 'stored as construct metadata');
  });

  it('turns a suppression with a short reason or an unknown rule id into a GR-001 violation that suppresses nothing', () => {
    const stack = new BucketStack(Testing.app({ stackTraces: false }), 'demo');
    suppressRule(stack.bare, 'S3-001', 'legacy');
    suppressRule(stack.bare, 'S3-999', REASON);
    const result = checkStack(stack);
    const gr = result.violations.filter((v) => v.ruleId === SUPPRESSION_RULE.id).map(formatFinding);
    assert.deepEqual(gr, [
      `[GR-001] demo/data/bare: suppression of S3-001 has a reason of 6 characters ("legacy"); at least 20 are required. Fix: ${SUPPRESSION_RULE.fix}`,
      `[GR-001] demo/data/bare: suppresses unknown rule "S3-999". Fix: ${SUPPRESSION_RULE.fix}`,
    ]);
    assert.ok(result.violations.some((v) => v.ruleId === 'S3-001'), 'the underlying finding is still reported');
  });

  it('reuses the JSON the guardrails computed for the written stack, byte for byte', () => {
    const app = Testing.app({ stackTraces: false });
    const stack = new PlatformStack(app, 'plain', { environment });
    new SecureBucket(stack, 'secure', { bucketName: 'plain-secure' });
    const validated = Testing.synth(stack, true);
    assert.equal(validated, Testing.synth(stack));
    assert.equal(recordedResult(stack)?.violations.length, 0);
  });

  it('reports every failing stack of an App, not only the first one cdktf stopped at', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'guardrails-app-'));
    try {
      const app = new App({ outdir, stackTraces: false });
      const stacks = [new BucketStack(app, 'first'), new BucketStack(app, 'second')];
      assert.throws(() => app.synth(), /Validation failed/);
      const results = resultsFor(stacks);
      assert.deepEqual(
        results.map((r) => [r.stack, r.violations.length]),
        [
          ['first', 6],
          ['second', 6],
        ],
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('lists suppressions in the synth summary: rule, stack/resource, reason', () => {
    const stack = new BucketStack(Testing.app({ stackTraces: false }), 'demo');
    for (const id of S3_RULE_IDS) suppressRule(stack.bare, id, REASON);
    suppressRule(stack, 'IAM-002', 'No IAM in this stack; kept to show unused suppressions.');
    const result = checkStack(stack);
    assert.deepEqual(result.violations, []);
    const lines = guardrailSummary([result], 'out/guardrails.json');
    assert.match(lines[0]!, /^guardrails: \d+ rule\(s\) checked \d+ resource\(s\) in 1 stack\(s\): 0 violations, 6 suppressed \(report: out\/guardrails.json\)$/);
    assert.equal(lines[1], 'Guardrail suppressions:');
    assert.equal(lines[2], `  [S3-001] demo/aws_s3_bucket.bare: ${REASON}`);
    assert.equal(lines.at(-1), '  note: suppression of IAM-002 at demo matched nothing in this environment (dev)');
  });

  it('has at least 20 rules with unique ids, a title, a description and a fix', () => {
    assert.ok(ALL_RULES.length >= 20, `${ALL_RULES.length} rules`);
    assert.equal(new Set(ALL_RULES.map((r) => r.id)).size, ALL_RULES.length);
    for (const rule of ALL_RULES) {
      assert.match(rule.id, /^[A-Z0-9]+-\d{3}$/);
      assert.ok(rule.title && rule.description && rule.fix, rule.id);
    }
  });

  it('checks 100 tenant-sized stacks in well under a second (O(resources) per stack)', () => {
    const tenantStack = (i: number) => {
      const resource: Record<string, Record<string, Record<string, unknown>>> = {};
      const add = (type: string, name: string, body: Record<string, unknown>) => ((resource[type] ??= {})[name] = body);
      for (let b = 0; b < 3; b++) {
        const ref = `\${aws_s3_bucket.b${b}.id}`;
        add('aws_s3_bucket', `b${b}`, { bucket: `t${i}-b${b}` });
        add('aws_s3_bucket_public_access_block', `b${b}_pab`, { bucket: ref, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
        add('aws_s3_bucket_versioning', `b${b}_v`, { bucket: ref, versioning_configuration: { status: 'Enabled' } });
        add('aws_s3_bucket_policy', `b${b}_p`, { bucket: ref, policy: JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] }) });
      }
      for (let r = 0; r < 5; r++) {
        add('aws_iam_role', `r${r}`, { name: `t${i}-r${r}`, assume_role_policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) });
        add('aws_iam_role_policy', `p${r}`, { role: `t${i}-r${r}`, policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::t${i}/*` }] }) });
      }
      for (let k = 0; k < 20; k++) add('kubernetes_manifest', `m${k}`, { manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${k}`, namespace: `t${i}` }, data: { a: 'b' } } });
      return { provider: { aws: [{ default_tags: [{ tags: { 'platform:environment': 'dev', 'platform:stack': `t${i}` } }] }] }, resource };
    };
    const stacks = Array.from({ length: 100 }, (_, i) => tenantStack(i));
    // CPU time of this process, not wall time: other work on a loaded CI machine must not fail it.
    const started = process.cpuUsage();
    for (const [i, tf] of stacks.entries()) evaluateStack(tf, { stackName: `t${i}`, environmentName: 'dev' });
    const used = process.cpuUsage(started);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms < 1000, `100 stacks took ${Math.round(ms)} ms of CPU`);
  });
});

describe('synth with guardrails (CLI and synthesize)', () => {
  let root: string;
  const synthCli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist', 'scripts', 'synth.js'), '--root', root, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'guardrails-synth-'));
    cpSync(join(FIXTURE_REPO, 'environments'), join(root, 'environments'), { recursive: true });
    if (existsSync(join(FIXTURE_REPO, 'tenants'))) cpSync(join(FIXTURE_REPO, 'tenants'), join(root, 'tenants'), { recursive: true });
    writeFileSync(join(root, 'nx.json'), '{}');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes every guardrail for the shipped dev configuration and writes guardrails.json', () => {
    const outdir = join(root, 'out-dev');
    const result = synthCli(['--outdir', outdir]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\nguardrails: \d+ rule\(s\) checked \d+ resource\(s\) in \d+ stack\(s\): 0 violations, \d+ suppressed \(report: .*guardrails\.json\)/);
    const report = JSON.parse(readFileSync(join(outdir, 'guardrails.json'), 'utf8')) as GuardrailReport;
    const platform = JSON.parse(readFileSync(join(outdir, 'platform.json'), 'utf8')) as { stacks: { name: string }[] };
    assert.equal(report.environment, 'dev');
    assert.deepEqual(report.stacks.map((s) => s.stack), platform.stacks.map((s) => s.name), 'one entry per stack, in deploy order');
    assert.equal(report.totals.violations, 0);
    for (const stack of report.stacks) {
      assert.equal(stack.violations, 0, stack.stack);
      assert.ok(stack.rulesRun.includes('TAG-001'), `${stack.stack}: the provider tag rule ran`);
      for (const s of stack.suppressions) assert.ok(s.reason.length >= 20, `${stack.stack}: ${s.rule} at ${s.construct}`);
    }
    assert.deepEqual(report.rules.map((r) => r.id), [...ALL_RULES.map((r) => r.id), 'GR-001']);

    // A partial synth (--stack) updates its stack's entry and keeps the others.
    const partial = synthCli(['--outdir', outdir, '--stack', 'network']);
    assert.equal(partial.status, 0, partial.stderr);
    const updated = JSON.parse(readFileSync(join(outdir, 'guardrails.json'), 'utf8')) as GuardrailReport;
    assert.deepEqual(updated.stacks.map((s) => s.stack), report.stacks.map((s) => s.stack));

    // Every AWS resource type the platform creates is either taggable or explicitly exempt.
    for (const name of readdirSync(join(outdir, 'stacks'))) {
      const tf = JSON.parse(readFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8')) as { resource?: Record<string, unknown> };
      for (const type of Object.keys(tf.resource ?? {}).filter((t) => t.startsWith('aws_'))) {
        if (hasTagsArgument(type) === false) {
          assert.ok(UNTAGGABLE_AWS_RESOURCE_TYPES.has(type) || DEFAULT_TAGS_NOT_APPLIED.has(type), `${type} takes no tags: add it to UNTAGGABLE_AWS_RESOURCE_TYPES`);
        }
      }
    }
  });

  it('passes every guardrail for the shipped prod configuration', () => {
    const result = synthesize({ root, environmentName: 'prod', outdir: join(root, 'out-prod') });
    assert.deepEqual(result.guardrails.flatMap((r) => r.violations.map(formatFinding)), []);
  });

  it('fails with exit 1, one line per violation and writes nothing when a stack violates a rule', () => {
    const dev = readFileSync(join(root, 'environments', 'dev.yaml'), 'utf8');
    writeFileSync(join(root, 'environments', 'staging.yaml'), dev.replace('name: dev', 'name: staging').replace(/publicEndpointCidrs:\n(\s+- .*\n)+/, 'publicEndpointCidrs:\n  - 0.0.0.0/0\n'));
    const outdir = join(root, 'out-staging');
    const result = synthCli(['--outdir', outdir, '--env', 'staging']);
    assert.equal(result.status, 1, result.stdout);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines[0], 'synth failed: 1 guardrail violation (nothing was written)');
    assert.match(lines[1]!, /^\[EKS-002\] cluster\/aws_eks_cluster\.eks_cluster_[0-9A-F]{8}: public endpoint allows 0\.0\.0\.0\/0 in environment staging\. Fix: Set publicEndpointCidrs/);
    assert.match(lines[2]!, /suppressRule\(construct, '<RULE-ID>', '<why>'\)/);
    assert.equal(existsSync(outdir), false, 'no output directory, no half-written stacks');
  });
});
