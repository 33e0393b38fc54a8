/**
 * The reviewed plan is the applied plan (scripts/plan-review/compare.ts), on real plans terraform
 * makes offline. To keep terraform to three invocations (init, plan, show), one configuration
 * holds every scenario as an instance of one local module with different inputs, over one prior
 * state; each module instance's resource changes are one scenario's plan (the `module.<name>.`
 * prefix removed, so addresses compare as in a stack of its own):
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
import { offlineTerraform, TerraformUnavailableError, type OfflineTerraform } from '../scripts/lib/terraform.js';
import { comparePlans, EXIT_DIFFERENT, renderComparison } from '../scripts/plan-review/compare.js';
import { parsePlan, type TerraformPlan } from '../scripts/plan-review/review.js';
import { compiledScript } from './support/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'plan-compare-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let terraform: OfflineTerraform | undefined;
let missing = '';
try {
  terraform = offlineTerraform();
} catch (error) {
  if (!(error instanceof TerraformUnavailableError)) throw error;
  missing = error.message;
}
const skip = terraform === undefined && process.env.SKIP_TERRAFORM_VALIDATE === '1';
const terraformTest = skip ? test.skip : test;

const ACCOUNT = '123456789012';
const policy = (actions: string[]) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: 'arn:aws:s3:::acme-data-v1/*' }] });

const MODULE = {
  variable: {
    bucket_name: { type: 'string' },
    policy_actions: { type: 'list(string)' },
    ingress_cidr: { type: 'string' },
    extra: { type: 'bool', default: false },
  },
  resource: {
    aws_s3_bucket: {
      data: { bucket: '${var.bucket_name}', tags: { team: 'data' } },
      extra: { count: '${var.extra ? 1 : 0}', bucket: 'acme-extra' },
    },
    aws_iam_policy: {
      reader: {
        name: 'reader',
        policy: '${jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = var.policy_actions, Resource = "arn:aws:s3:::acme-data-v1/*"}]})}',
      },
    },
    aws_security_group: {
      web: {
        name: 'web',
        vpc_id: 'vpc-0123456789abcdef0',
        ingress: [
          { description: 'https', from_port: 443, to_port: 443, protocol: 'tcp', cidr_blocks: ['${var.ingress_cidr}'], ipv6_cidr_blocks: [], prefix_list_ids: [], security_groups: [], self: false },
        ],
      },
    },
  },
};

const REVIEWED_INPUTS = { bucket_name: 'acme-data-v1', policy_actions: ['s3:GetObject', 's3:ListBucket'], ingress_cidr: '10.0.0.0/16' };
const SCENARIOS: Record<string, Record<string, unknown>> = {
  reviewed: REVIEWED_INPUTS,
  same: REVIEWED_INPUTS,
  extra: { ...REVIEWED_INPUTS, extra: true },
  action: { ...REVIEWED_INPUTS, bucket_name: 'acme-data-v2' },
  iam: { ...REVIEWED_INPUTS, policy_actions: ['s3:GetObject', 's3:PutObject'] },
  ingress: { ...REVIEWED_INPUTS, ingress_cidr: '0.0.0.0/0' },
};

/** The deployed state every scenario starts from (resource schema versions of hashicorp/aws 5.100.0). */
function priorState(): unknown {
  const resources = Object.keys(SCENARIOS).flatMap((module) => [
    { type: 'aws_s3_bucket', name: 'data', schema: 0, attributes: { id: 'acme-data-v1', bucket: 'acme-data-v1', arn: 'arn:aws:s3:::acme-data-v1', force_destroy: false, tags: null, tags_all: {} } },
    {
      type: 'aws_iam_policy',
      name: 'reader',
      schema: 0,
      attributes: { id: `arn:aws:iam::${ACCOUNT}:policy/reader`, arn: `arn:aws:iam::${ACCOUNT}:policy/reader`, name: 'reader', path: '/', description: '', policy_id: 'ANPAREADER', policy: JSON.stringify(policy(['s3:GetObject'])), tags: {}, tags_all: {} },
    },
    {
      type: 'aws_security_group',
      name: 'web',
      schema: 1,
      attributes: { id: 'sg-0123456789abcdef0', arn: `arn:aws:ec2:us-west-2:${ACCOUNT}:security-group/sg-0123456789abcdef0`, name: 'web', name_prefix: '', description: 'Managed by Terraform', vpc_id: 'vpc-0123456789abcdef0', owner_id: ACCOUNT, ingress: [], egress: [], revoke_rules_on_delete: false, tags: {}, tags_all: {} },
    },
  ].map((r) => ({ mode: 'managed', module: `module.${module}`, type: r.type, name: r.name, provider: 'provider["registry.terraform.io/hashicorp/aws"]', instances: [{ schema_version: r.schema, attributes: r.attributes, sensitive_attributes: [] }] })));
  return { version: 4, terraform_version: '1.11.0', serial: 1, lineage: '5b7c2f0e-13b0-4c1e-9a51-plan-compare', outputs: {}, resources };
}

/** One scenario's plan: the module instance's resource changes, addressed as in a stack of its own. */
function scenarioPlan(plan: TerraformPlan, module: string): TerraformPlan {
  const prefix = `module.${module}.`;
  return {
    ...plan,
    resource_changes: plan.resource_changes
      .filter((rc) => rc.address.startsWith(prefix))
      .map(({ module_address: _module, ...rc }) => ({ ...rc, address: rc.address.slice(prefix.length) })),
  };
}

const plans = new Map<string, TerraformPlan>();
let planDir = '';

beforeAll(() => {
  if (skip) return;
  if (!terraform) throw new Error(`terraform unavailable: ${missing} (set SKIP_TERRAFORM_VALIDATE=1 to skip these tests)`);
  planDir = join(tmp, 'scenarios');
  mkdirSync(join(planDir, 'variant'), { recursive: true });
  writeFileSync(join(planDir, 'variant', 'main.tf.json'), JSON.stringify(MODULE, null, 2));
  writeFileSync(
    join(planDir, 'main.tf.json'),
    JSON.stringify({
      terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } },
      provider: { aws: { region: 'us-west-2', skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true } },
      module: Object.fromEntries(Object.entries(SCENARIOS).map(([name, inputs]) => [name, { source: './variant', ...inputs }])),
    }),
  );
  writeFileSync(join(planDir, 'terraform.tfstate'), JSON.stringify(priorState()));
  terraform.run(['init', '-input=false', '-no-color'], planDir);
  terraform.run(['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=p.tfplan'], planDir);
  const all = parsePlan(terraform.run(['show', '-json', 'p.tfplan'], planDir).stdout, 'p.tfplan');
  for (const name of Object.keys(SCENARIOS)) plans.set(name, scenarioPlan(all, name));
}, 120_000);

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
