/**
 * The reviewed plan is the applied plan (scripts/plan-review/compare.ts), on real plans terraform
 * makes offline. Every scenario is an instance of one local module with different inputs, over one
 * prior state, planned with the run's other scenarios in one terraform plan
 * (test/support/plan-scenarios.ts):
 *
 *   reviewed   the plan a reviewer approved: bucket tags updated, policy widened to s3:ListBucket,
 *              one ingress rule from the VPC
 *   same       the same inputs again
 *   extra      one more resource (a second bucket)
 *   action     the bucket renamed: replaced instead of updated
 *   iam        the policy grants s3:PutObject instead of s3:ListBucket
 *   ingress    the ingress rule opened to 0.0.0.0/0
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { comparePlans, EXIT_DIFFERENT, renderComparison } from '../scripts/plan-review/compare.js';
import { readPlanFile, type TerraformPlan } from '../scripts/plan-review/review.js';
import { compiledScript } from './support/synth.js';
import { COMPARE_SCENARIOS, scenarioPlanFile } from './support/plan-scenarios.js';
import { testTerraform } from './support/terraform.js';

const tmp = mkdtempSync(join(tmpdir(), 'plan-compare-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const { terraformTest, need: needTerraform } = testTerraform();

/** The scenarios' plans, from the run's one terraform plan of every test scenario (test/support/plan-scenarios.ts). */
const plans = new Map<string, TerraformPlan>();

beforeAll(async () => {
  if (terraformTest === test.skip) return;
  needTerraform();
  for (const name of COMPARE_SCENARIOS) plans.set(name, readPlanFile(await scenarioPlanFile(`compare-${name}`)));
}, 240_000);

const plan = (name: string) => plans.get(name)!;

describe('reviewed plan = applied plan, on real terraform plans', () => {
  terraformTest('the reviewed plan updates the bucket, the policy and the security group', () => {
    const reviewed = plan('reviewed');
    assert.deepEqual(
      reviewed.resource_changes.map((rc) => `${rc.address} ${rc.change.actions.join(',')}`).sort(),
      ['aws_iam_policy.reader update', 'aws_s3_bucket.data update', 'aws_security_group.web update'],
    );
  });

  terraformTest('same inputs, planned again: the same plan, applied', () => {
    const result = comparePlans('storage', plan('reviewed'), plan('same'));
    assert.deepEqual(result.differences, []);
    assert.equal(result.same, true);
    assert.equal(result.changes, 3);
    assert.match(renderComparison(result), /matches the reviewed plan \(3 changes\)/);
  });

  terraformTest('an extra resource: not in the reviewed plan', () => {
    const result = comparePlans('storage', plan('reviewed'), plan('extra'));
    assert.equal(result.same, false);
    assert.deepEqual(result.differences, [{ kind: 'not-reviewed', address: 'aws_s3_bucket.extra[0]', reviewed: 'no change', now: 'create' }]);
  });

  terraformTest('a changed action: replace where the reviewer saw an update', () => {
    const result = comparePlans('storage', plan('reviewed'), plan('action'));
    assert.deepEqual(result.differences, [{ kind: 'actions', address: 'aws_s3_bucket.data', reviewed: 'update', now: 'delete, create' }]);
    assert.match(renderComparison(result), /\| different actions \| `aws_s3_bucket\.data` \| update \| delete, create \|/);
  });

  terraformTest('a changed IAM document: same action, different grants, named statement by statement', () => {
    const result = comparePlans('storage', plan('reviewed'), plan('iam'));
    assert.equal(result.differences.length, 1);
    const [difference] = result.differences;
    assert.equal(difference!.kind, 'attribute');
    assert.equal(difference!.address, 'aws_iam_policy.reader');
    assert.equal(difference!.attribute, 'policy');
    assert.equal(difference!.detail, 'Allow: added actions `s3:PutObject`; removed actions `s3:ListBucket`');
    assert.match(renderComparison(result), /the plan differs from the reviewed plan\*\*; not applied/);
  });

  terraformTest('a changed security-group rule: same action, ingress opened to the internet', () => {
    const result = comparePlans('storage', plan('reviewed'), plan('ingress'));
    assert.deepEqual(
      result.differences.map((d) => [d.kind, d.address, d.attribute]),
      [['attribute', 'aws_security_group.web', 'ingress']],
    );
    assert.match(result.differences[0]!.reviewed, /10\.0\.0\.0\/16/);
    assert.match(result.differences[0]!.now, /0\.0\.0\.0\/0/);
  });

  terraformTest('no reviewed plan: only a plan with nothing to apply passes', () => {
    const none = comparePlans('storage', undefined, plan('reviewed'));
    assert.equal(none.same, false);
    assert.deepEqual(none.differences.map((d) => d.kind), ['not-reviewed', 'not-reviewed', 'not-reviewed']);
    const empty: TerraformPlan = { ...plan('reviewed'), resource_changes: plan('reviewed').resource_changes.map((rc) => ({ ...rc, change: { ...rc.change, actions: ['no-op'] } })) };
    assert.deepEqual(comparePlans('storage', undefined, empty), { stack: 'storage', same: true, differences: [], noLongerPlanned: [], changes: 0, reviewed: false });
  });

  terraformTest('a reviewed change no longer planned (applied by an earlier, interrupted run) is reported, not blocking', () => {
    const result = comparePlans('storage', plan('extra'), plan('reviewed'));
    assert.equal(result.same, true);
    assert.deepEqual(result.noLongerPlanned, [{ kind: 'not-planned-now', address: 'aws_s3_bucket.extra[0]', reviewed: 'create', now: 'no change' }]);
    assert.match(renderComparison(result), /Reviewed changes no longer planned \(already applied\?\), not applied again: `aws_s3_bucket\.extra\[0\]` \(create\)/);
  });
});

describe('comparison rules on edited plans', () => {
  const base: TerraformPlan = {
    format_version: '1.2',
    resource_changes: [
      { address: 'data.aws_caller_identity.me', mode: 'data', type: 'aws_caller_identity', change: { actions: ['read'] } },
      { address: 'kubernetes_manifest.quota', mode: 'managed', type: 'kubernetes_manifest', change: { actions: ['update'], after: { manifest: { kind: 'ResourceQuota', spec: { hard: { 'requests.cpu': '400' } } } }, after_unknown: {} } },
    ],
    output_changes: { namespace: { actions: ['no-op'] } },
  };
  const edit = (f: (p: TerraformPlan) => void): TerraformPlan => {
    const copy = structuredClone(base);
    f(copy);
    return copy;
  };

  test('data source reads never differ; quota values and output changes do', () => {
    assert.equal(comparePlans('tenant-a', base, edit((p) => (p.resource_changes[0]!.change.actions = ['no-op']))).same, true);
    const quota = comparePlans('tenant-a', base, edit((p) => ((p.resource_changes[1]!.change.after as { manifest: { spec: { hard: Record<string, string> } } }).manifest.spec.hard['requests.cpu'] = '800')));
    assert.deepEqual(quota.differences.map((d) => [d.kind, d.attribute, d.reviewed, d.now]), [['attribute', 'manifest.spec.hard', '{"requests.cpu":"400"}', '{"requests.cpu":"800"}']]);
    const output = comparePlans('tenant-a', base, edit((p) => (p.output_changes = { namespace: { actions: ['update'] } })));
    assert.deepEqual(output.differences, [{ kind: 'output', address: 'output.namespace', reviewed: 'no change', now: 'update' }]);
  });

  test('known after apply is a value of its own, and incomplete plans always differ', () => {
    const unknown = comparePlans('tenant-a', base, edit((p) => (p.resource_changes[1]!.change.after_unknown = { manifest: { spec: { hard: true } } })));
    assert.deepEqual(unknown.differences.map((d) => d.now), ['(known after apply)']);
    assert.deepEqual(comparePlans('tenant-a', base, edit((p) => (p.errored = true))).differences.map((d) => [d.kind, d.now]), [['plan', 'errored']]);
    assert.deepEqual(comparePlans('tenant-a', edit((p) => (p.complete = false)), base).differences.map((d) => [d.kind, d.reviewed]), [['plan', 'incomplete (deferred changes)']]);
  });
});

describe('plan-verify CLI', () => {
  test('exit 0 when the plans match, 4 with the differences, 2 on unreadable input', () => {
    const dir = join(tmp, 'cli');
    mkdirSync(dir, { recursive: true });
    const plan = { format_version: '1.2', resource_changes: [{ address: 'aws_s3_bucket.b', mode: 'managed', type: 'aws_s3_bucket', change: { actions: ['create'], after: { bucket: 'b' } } }] };
    writeFileSync(join(dir, 'reviewed.json'), JSON.stringify(plan));
    writeFileSync(join(dir, 'now.json'), JSON.stringify(plan));
    writeFileSync(join(dir, 'replace.json'), JSON.stringify({ ...plan, resource_changes: [{ ...plan.resource_changes[0], change: { ...plan.resource_changes[0]!.change, actions: ['delete', 'create'] } }] }));
    const cli = (...args: string[]) => spawnSync(process.execPath, [compiledScript('plan-review/verify.js'), ...args], { encoding: 'utf8' });
    const same = cli('--stack', 'data', join(dir, 'reviewed.json'), join(dir, 'now.json'));
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /Stack `data`: the plan matches the reviewed plan \(1 change\)/);
    const different = cli('--stack', 'data', join(dir, 'reviewed.json'), join(dir, 'replace.json'));
    assert.equal(different.status, EXIT_DIFFERENT);
    assert.match(different.stdout, /\| different actions \| `aws_s3_bucket\.b` \| create \| delete, create \|/);
    const bad = cli(join(dir, 'reviewed.json'), join(dir, 'nope.json'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /nope\.json: cannot read plan \(no such file\)/);
  });
});
