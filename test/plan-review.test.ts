/**
 * Tests for scripts/plan-review. The AWS plans are real: each scenario's Terraform JSON
 * (test/fixtures/plan-review/<scenario>.tf.json) is a module of one configuration, with a hand-made
 * prior state for the change plans, planned once with terraform init / plan -refresh=false /
 * show -json offline against the provider mirror found by scripts/lib/terraform.ts. Kubernetes quota changes use a hand-written plan JSON
 * (test/fixtures/plan-review/tenant-alpha/plan.json) because there is no kubernetes provider mirror.
 *
 * Without terraform or a mirror these tests fail, unless SKIP_TERRAFORM_VALIDATE=1 (then they skip).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from '@jest/globals';
import { renderMarkdown } from '../scripts/plan-review/markdown.js';
import {
  diffPolicyDocuments,
  EXIT_HIGH_RISK,
  EXIT_OK,
  EXIT_USAGE,
  parsePlan,
  parsePlanArgument,
  PlanInputError,
  readPlanFile,
  reviewPlan,
  reviewPlans,
  STATEFUL_RESOURCE_TYPES,
  type PlanReview,
  type StackReview,
  type TerraformPlan,
} from '../scripts/plan-review/review.js';
import { SOURCE_ROOT } from './support/synth.js';
import { testTerraform } from './support/terraform.js';
import { scenarioPlanFile, type ReviewScenario } from './support/plan-scenarios.js';

const FIXTURES = join(SOURCE_ROOT, 'test/fixtures/plan-review');
const CLI = join(SOURCE_ROOT, 'dist/scripts/plan-review/cli.js');
const TENANT_PLAN = join(FIXTURES, 'tenant-alpha/plan.json');

const tmp = mkdtempSync(join(tmpdir(), 'plan-review-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Terraform-backed plans

const { terraformTest, need: needTerraform } = testTerraform();

const policy = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/**
 * The scenarios' plans come from the run's one terraform plan of every test scenario
 * (test/support/plan-scenarios.ts, started by the global setup), copied to
 * `<tmp>/<scenario>/plan.json` so the folder name is the stack name, as in CI's artifacts.
 */
async function scenario(name: ReviewScenario): Promise<string> {
  const file = join(tmp, name, 'plan.json');
  if (!existsSync(file)) {
    needTerraform();
    mkdirSync(join(tmp, name), { recursive: true });
    copyFileSync(await scenarioPlanFile(`review-${name}`), file);
  }
  return file;
}
const networkPlan = () => scenario('network');
const storagePlan = () => scenario('storage');
const logsPlan = () => scenario('logs');

function review(...files: string[]): PlanReview {
  return reviewPlans(files.map((f) => ({ ...parsePlanArgument(f), plan: readPlanFile(f) })));
}

function counts(stack: StackReview) {
  const { create, update, replace, destroy } = stack.counts;
  return { create, update, replace, destroy, 'no-op': stack.counts['no-op'] };
}

function iamOf(stack: StackReview, address: string) {
  const change = stack.iam.find((i) => i.address === address);
  assert.ok(change, `no IAM change for ${address}; have ${stack.iam.map((i) => i.address).join(', ')}`);
  return change;
}

function runCli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: SOURCE_ROOT });
}

describe('plan-review on real terraform plans', () => {
  terraformTest('create-only plan: counts, IAM additions, unknown policy, public ingress -> exit 3', async () => {
    const file = await networkPlan();
    const result = review(file);
    const [stack] = result.stacks;
    assert.equal(stack!.stack, 'network');
    assert.deepEqual(counts(stack!), { create: 6, update: 0, replace: 0, destroy: 0, 'no-op': 0 });
    assert.equal(result.exitCode, EXIT_HIGH_RISK);

    const role = iamOf(stack!, 'aws_iam_role.spark');
    assert.equal(role.widening, true);
    assert.deepEqual(role.wildcards, []);
    const [trust] = role.documents;
    assert.equal(trust!.attribute, 'assume_role_policy');
    assert.deepEqual(trust!.diff.statements[0]!.added.actions, ['sts:AssumeRole']);
    assert.deepEqual(trust!.diff.statements[0]!.added.principals, ['Service:emr-containers.amazonaws.com']);

    const inline = iamOf(stack!, 'aws_iam_role_policy.spark_logs');
    assert.equal(inline.documents[0]!.diff.status, 'unknown');
    const attach = iamOf(stack!, 'aws_iam_role_policy_attachment.ecr');
    assert.deepEqual(attach.attachmentsAdded, [
      { policyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly', target: 'role spark-job' },
    ]);

    assert.deepEqual(
      stack!.ingress.map((i) => [i.address, i.cidr, i.rule]),
      [
        ['aws_security_group.spark_ui', '0.0.0.0/0', 'tcp port 18080 from 0.0.0.0/0 ("spark history server")'],
        ['aws_security_group.spark_ui', '::/0', 'tcp port 18080 from ::/0 ("spark history server")'],
      ],
    );
    assert.deepEqual(
      result.findings.map((f) => f.kind),
      ['public-ingress', 'public-ingress'],
    );

    const md = renderMarkdown(result);
    assert.match(md, /\| `network` \| 6 \| 0 \| 0 \| 0 \| 0 \|/);
    assert.match(md, /`aws_iam_role_policy\.spark_logs` \(create\)\n {2}- `policy`: new document is \(known after apply\)/);
    assert.match(md, /policy ARN added: `arn:aws:iam::aws:policy\/AmazonEC2ContainerRegistryReadOnly` to role spark-job/);
    assert.match(md, /\*\*PUBLIC INGRESS\*\* `aws_security_group\.spark_ui` \(create\): tcp port 18080 from 0\.0\.0\.0\/0/);
    assert.doesNotMatch(md, /STATEFUL/, 'creating a bucket is not a stateful risk');
  });

  terraformTest('change plan: destroys/replaces first, STATEFUL, state bucket, IAM widening with *, admin policy', async () => {
    const file = await storagePlan();
    const result = review(file);
    const stack = result.stacks[0]!;
    assert.equal(stack.stack, 'storage');
    assert.deepEqual(counts(stack), { create: 1, update: 2, replace: 1, destroy: 2, 'no-op': 1 });
    assert.equal(result.exitCode, EXIT_HIGH_RISK);

    // Order: destroys and replaces first (stateful first, then by address), then updates, then creates.
    assert.deepEqual(
      stack.changes.map((c) => `${c.kind} ${c.address}${c.stateful ? ' STATEFUL' : ''}`),
      [
        'destroy aws_kms_key.main STATEFUL',
        'destroy aws_s3_bucket.backend STATEFUL',
        'replace aws_s3_bucket.data STATEFUL',
        'update aws_iam_policy.ci',
        'update aws_security_group.web',
        'create aws_iam_role_policy_attachment.admin',
      ],
    );
    const data = stack.changes.find((c) => c.address === 'aws_s3_bucket.data')!;
    assert.deepEqual(data.replacePaths, ['bucket']);
    assert.equal(data.stateBucket, false);
    assert.equal(stack.changes.find((c) => c.address === 'aws_s3_bucket.backend')!.stateBucket, true, 'bucket name contains "state"');

    const ci = iamOf(stack, 'aws_iam_policy.ci');
    assert.equal(ci.widening, true);
    assert.deepEqual(ci.wildcards, ['resource *']);
    const [statement] = ci.documents[0]!.diff.statements;
    assert.equal(statement!.effect, 'Allow');
    assert.deepEqual(statement!.added.actions, ['s3:PutObject']);
    assert.deepEqual(statement!.removed.actions, ['s3:ListBucket']);
    assert.deepEqual(statement!.added.resources, ['*']);
    assert.deepEqual(statement!.removed.resources, []);
    const admin = iamOf(stack, 'aws_iam_role_policy_attachment.admin');
    assert.deepEqual(admin.adminPolicies, ['arn:aws:iam::aws:policy/AdministratorAccess']);
    assert.equal(stack.iam.some((i) => i.address === 'aws_iam_role_policy_attachment.readonly'), false, 'no-op is hidden');

    assert.deepEqual(
      stack.ingress.map((i) => `${i.address} ${i.kind} ${i.rule}`),
      ['aws_security_group.web update tcp port 443 from 0.0.0.0/0 ("https")'],
    );
    assert.deepEqual(
      result.findings.map((f) => `${f.kind} ${f.address}`).sort(),
      [
        'iam-admin-policy aws_iam_role_policy_attachment.admin',
        'iam-wildcard aws_iam_policy.ci',
        'public-ingress aws_security_group.web',
        'stateful-destroy aws_kms_key.main',
        'stateful-destroy aws_s3_bucket.backend',
        'stateful-replace aws_s3_bucket.data',
      ],
    );

    const md = renderMarkdown(result);
    const destroyAt = md.indexOf('### Destroy and replace');
    assert.ok(destroyAt > 0 && destroyAt < md.indexOf('### IAM changes') && destroyAt < md.indexOf('### Update in place'));
    assert.ok(md.indexOf('### Update in place') < md.indexOf('### Create'));
    assert.match(md, /- \*\*DESTROY\*\* `aws_kms_key\.main` \*\*STATEFUL\*\* \(removed from configuration\)/);
    assert.match(md, /- \*\*DESTROY\*\* `aws_s3_bucket\.backend` \*\*STATEFUL: TERRAFORM STATE BUCKET\*\*/);
    assert.match(md, /- \*\*REPLACE\*\* `aws_s3_bucket\.data` \*\*STATEFUL\*\*, forced by `bucket`/);
    assert.match(md, /`aws_iam_policy\.ci` \(update\) \*\*IAM WILDCARD\*\* \*\*IAM WIDENING\*\*/);
    assert.match(md, /- added actions: `s3:PutObject`\n {4}- removed actions: `s3:ListBucket`\n {4}- added resources: `\*`/);
    assert.match(md, /^- \*\*IAM WILDCARD\*\* `storage` `aws_iam_policy\.ci`: IAM widening adds wildcard `resource \*`$/m);
    assert.match(md, /\| `storage` \| 1 \| 2 \| 1 \| 2 \| 1 \|/);
    assert.doesNotMatch(md, /aws_iam_role_policy_attachment\.readonly/, 'no-ops are hidden');
  });

  terraformTest('benign change plan: narrow IAM, log retention update, non-stateful destroy -> exit 0', async () => {
    const file = await logsPlan();
    const result = review(file);
    const stack = result.stacks[0]!;
    assert.deepEqual(counts(stack), { create: 1, update: 1, replace: 0, destroy: 1, 'no-op': 0 });
    assert.deepEqual(result.findings, []);
    assert.equal(result.exitCode, EXIT_OK);

    const logGroup = stack.changes.find((c) => c.address === 'aws_cloudwatch_log_group.spark')!;
    assert.equal(logGroup.kind, 'update');
    assert.deepEqual(logGroup.attributes, [{ path: 'retention_in_days', before: '7', after: '30' }]);
    const reader = iamOf(stack, 'aws_iam_policy.reader');
    assert.equal(reader.widening, true);
    assert.deepEqual(reader.wildcards, []);
    assert.deepEqual(reader.documents[0]!.diff.statements[0]!.added.actions, ['logs:FilterLogEvents', 'logs:GetLogEvents']);
    const legacy = iamOf(stack, 'aws_iam_policy.legacy');
    assert.equal(legacy.kind, 'destroy');
    assert.equal(legacy.widening, false, 'removing a policy narrows');
    assert.deepEqual(legacy.documents[0]!.diff.statements[0]!.removed.resources, ['*']);

    const md = renderMarkdown(result);
    assert.match(md, /^No high-risk changes found\.$/m);
    assert.match(md, /- \*\*DESTROY\*\* `aws_iam_policy\.legacy` \(removed from configuration\)\n/);
    assert.match(md, /- `retention_in_days`: `7` -> `30`/);
  });

  terraformTest('several stacks in one review; name=path overrides the folder name', async () => {
    const network = await networkPlan();
    const logs = await logsPlan();
    const result = reviewPlans([
      { stack: 'platform-network', file: network, plan: readPlanFile(network) },
      { ...parsePlanArgument(logs), plan: readPlanFile(logs) },
      { ...parsePlanArgument(TENANT_PLAN), plan: readPlanFile(TENANT_PLAN) },
    ]);
    assert.deepEqual(
      result.stacks.map((s) => s.stack),
      ['platform-network', 'logs', 'tenant-alpha'],
    );
    assert.equal(result.exitCode, EXIT_HIGH_RISK, 'one high-risk stack makes the whole review high risk');
    assert.ok(result.findings.every((f) => f.stack === 'platform-network'));
  });

  terraformTest('CLI on a real plan: exit 3, --out writes the same Markdown', async () => {
    const file = await storagePlan();
    const out = join(tmp, 'review.md');
    const run = runCli(['--out', out, `prod-storage=${file}`]);
    assert.equal(run.status, EXIT_HIGH_RISK, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /## Stack `prod-storage`/);
    assert.equal(readFileSync(out, 'utf8'), run.stdout);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written fixtures and pure functions

describe('plan-review tenant quotas (hand-written kubernetes plan)', () => {
  test('ResourceQuota spec.hard before -> after, unknown values, exit 0', () => {
    const result = review(TENANT_PLAN);
    const stack = result.stacks[0]!;
    assert.equal(stack.stack, 'tenant-alpha');
    assert.deepEqual(counts(stack), { create: 1, update: 2, replace: 0, destroy: 0, 'no-op': 1 });
    assert.equal(result.exitCode, EXIT_OK);
    assert.deepEqual(stack.quotas, [
      {
        address: 'kubernetes_manifest.quota',
        kind: 'update',
        quota: 'tenant-alpha/tenant-alpha-quota',
        entries: [
          { key: 'limits.memory', before: '64Gi', after: '128Gi' },
          { key: 'requests.cpu', before: '16', after: '32' },
          { key: 'requests.nvidia.com/gpu', before: '(none)', after: '4' },
        ],
      },
      {
        address: 'kubernetes_manifest.spark_batch_quota',
        kind: 'create',
        quota: 'tenant-alpha/spark-batch',
        entries: [
          { key: 'limits.cpu', before: '(none)', after: '(known after apply)' },
          { key: 'pods', before: '(none)', after: '20' },
        ],
      },
    ]);
    const md = renderMarkdown(result);
    assert.match(md, /\| `tenant-alpha\/tenant-alpha-quota` \| `requests\.cpu` \| 16 \| 32 \|/);
    assert.match(md, /\| `tenant-alpha\/tenant-alpha-quota` \| `limits\.memory` \| 64Gi \| 128Gi \|/);
    assert.match(md, /\| `tenant-alpha\/spark-batch` \| `limits\.cpu` \| \(none\) \| \(known after apply\) \|/);
    assert.doesNotMatch(md, /`pods` \| 100/, 'unchanged hard keys are not listed');
    assert.match(md, /- `manifest\.data\["spark\.executor\.memory"\]`: `"4g"` -> `"8g"`/);
    assert.match(md, /- \(known after apply\): `object`/);
  });

  test('CLI on the fixture: exit 0 and Markdown on stdout', () => {
    const run = runCli([TENANT_PLAN]);
    assert.equal(run.status, EXIT_OK, run.stderr);
    assert.match(run.stdout, /^# Terraform plan review\n/);
    assert.match(run.stdout, /### Tenant quotas/);
  });
});

describe('plan-review input errors', () => {
  const write = (name: string, text: string): string => {
    const file = join(tmp, 'bad', name);
    mkdirSync(join(tmp, 'bad'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  test('garbage, non-plan JSON, state JSON, missing file -> PlanInputError naming the file', () => {
    const cases: [string, RegExp][] = [
      [write('garbage.json', 'this is not json'), /garbage\.json: not valid JSON/],
      [write('no-version.json', '{"resource_changes": []}'), /no-version\.json: not a terraform plan JSON: missing "format_version"/],
      [write('state.json', '{"format_version": "1.0", "values": {}}'), /state\.json: .*missing "resource_changes" \(this looks like state JSON/],
      [write('array.json', '[]'), /array\.json: not a terraform plan JSON/],
      [write('bad-change.json', '{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"a"}]}'), /resource_changes\[0\] \(a\.b\) has no "change\.actions"/],
      [join(tmp, 'bad', 'missing.json'), /missing\.json: cannot read plan \(no such file\)/],
    ];
    for (const [file, message] of cases) {
      assert.throws(() => readPlanFile(file), (error: unknown) => {
        assert.ok(error instanceof PlanInputError);
        assert.equal(error.file, file);
        assert.match(error.message, message);
        return true;
      });
    }
    // A configuration without resources gives a plan without resource_changes: still a plan.
    assert.deepEqual(parsePlan('{"format_version":"1.2","planned_values":{"root_module":{}}}', 'empty.json').resource_changes, []);
  });

  test('CLI: exit 2 with a message naming the file; usage errors', () => {
    const garbage = write('garbage2.json', '<html>nope</html>');
    const run = runCli([TENANT_PLAN, garbage]);
    assert.equal(run.status, EXIT_USAGE);
    assert.equal(run.stdout, '', 'no partial report');
    assert.match(run.stderr, new RegExp(`^plan-review: ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    const none = runCli([]);
    assert.equal(none.status, EXIT_USAGE);
    assert.match(none.stderr, /no plan files given/);
    const unknown = runCli(['--frobnicate', TENANT_PLAN]);
    assert.equal(unknown.status, EXIT_USAGE);
    assert.match(unknown.stderr, /unknown option --frobnicate/);
  });
});

describe('plan-review rules', () => {
  test('policy diff: Sid groups, Deny removal widens, wildcards, KMS self-scoped Resource *', () => {
    const before = policy([
      { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Action: ['s3:DeleteBucket', 's3:DeleteObject'], Resource: '*' },
    ]);
    const after = policy([
      { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject', 's3:*'], Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' },
      { Sid: 'Trust', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
    ]);
    const diff = diffPolicyDocuments(before, after);
    assert.deepEqual(
      diff.statements.map((s) => [s.effect, s.sid ?? '', s.widening, s.wildcards]),
      [
        ['Allow', 'Read', true, ['action s3:*']],
        ['Allow', 'Trust', true, ['principal AWS:*']],
        ['Deny', '', true, []],
      ],
    );
    assert.deepEqual(diff.statements[2]!.removed.actions, ['s3:DeleteObject']);
    const kms = diffPolicyDocuments(null, policy([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }]), {
      selfScopedResources: true,
    });
    assert.deepEqual(kms.statements[0]!.wildcards, []);
    assert.deepEqual(kms.statements[0]!.added.resources, ['*']);
    assert.deepEqual(diffPolicyDocuments(before, before).statements, []);
  });

  test('stateful list, stack naming, security-group rule resources', () => {
    assert.ok(STATEFUL_RESOURCE_TYPES.includes('aws_eks_cluster'));
    assert.deepEqual(parsePlanArgument('out/stacks/tenant-beta/plan.json'), { stack: 'tenant-beta', file: 'out/stacks/tenant-beta/plan.json' });
    assert.deepEqual(parsePlanArgument('beta=out/plan.json'), { stack: 'beta', file: 'out/plan.json' });
    assert.equal(parsePlanArgument('a=b.json', () => true).file, 'a=b.json', 'an existing file named with = wins');

    const plan: TerraformPlan = {
      format_version: '1.2',
      resource_changes: [
        {
          address: 'aws_security_group_rule.ssh',
          type: 'aws_security_group_rule',
          change: { actions: ['create'], before: null, after: { type: 'ingress', protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['0.0.0.0/0'] } },
        },
        {
          address: 'aws_security_group_rule.egress',
          type: 'aws_security_group_rule',
          change: { actions: ['create'], before: null, after: { type: 'egress', protocol: '-1', from_port: 0, to_port: 0, cidr_blocks: ['0.0.0.0/0'] } },
        },
        {
          address: 'aws_vpc_security_group_ingress_rule.all',
          type: 'aws_vpc_security_group_ingress_rule',
          change: { actions: ['update'], before: { ip_protocol: '-1', cidr_ipv6: '2001:db8::/32' }, after: { ip_protocol: '-1', cidr_ipv6: '::/0' } },
        },
        {
          address: 'aws_dynamodb_table.locks',
          type: 'aws_dynamodb_table',
          change: { actions: ['create', 'delete'], before: { name: 'locks' }, after: { name: 'locks2' }, replace_paths: [['name']] },
        },
      ],
    };
    const stack = reviewPlan(plan, 'rules');
    assert.deepEqual(
      stack.ingress.map((i) => `${i.address}: ${i.rule}`),
      ['aws_security_group_rule.ssh: tcp port 22 from 0.0.0.0/0', 'aws_vpc_security_group_ingress_rule.all: all traffic from ::/0'],
    );
    assert.deepEqual(
      stack.findings.map((f) => f.kind),
      ['public-ingress', 'public-ingress', 'stateful-replace'],
    );
    assert.match(renderMarkdown(reviewPlans([{ stack: 'rules', file: 'x', plan }])), /\(create before destroy\)/);
  });
});
