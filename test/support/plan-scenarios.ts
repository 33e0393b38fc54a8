/**
 * Every real Terraform plan the tests use, made by ONE terraform init/plan/show for the whole run
 * (test/support/terraform-scenarios.ts: each scenario is a module of one configuration). The jest
 * global setup starts `dist/test/support/plan-scenarios-run.js` in the background as the run
 * begins; test files wait for its plans with `scenarioPlanFile(name)`. Every terraform process
 * loads the AWS provider's schema (seconds of CPU), so one plan for all scenarios instead of one
 * per test file keeps `npm test` fast on 2 cores.
 *
 * Scenarios (the module name, addresses inside it as in a stack of its own):
 *   review-network  create-only: IAM role, inline policy, attachment, a security group open to the internet
 *   review-storage  changes over a prior state: destroys, a replacement, IAM widening with *, admin policy
 *   review-logs     benign changes: narrower IAM, log retention, a non-stateful destroy
 *   compare-*       the reviewed plan and its variants (same, extra resource, changed action, changed
 *                   IAM document, changed ingress) for the reviewed-plan comparison
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../../stacks/lib/repository-root.js';
import type { OfflineTerraform } from '../../scripts/lib/terraform.js';
import { planScenarios, type Scenario, type ScenarioStateResource } from './terraform-scenarios.js';

const ACCOUNT = '123456789012';

type ReviewStateResource = Omit<ScenarioStateResource, 'schemaVersion'>;
/** Resource schema versions in hashicorp/aws 5.100.0 (pinned in the scenarios' root); state must match them. */
const SCHEMA_VERSIONS: Record<string, number> = { aws_security_group: 1 };
const withSchema = (resources: ReviewStateResource[]): ScenarioStateResource[] => resources.map((r) => ({ ...r, schemaVersion: SCHEMA_VERSIONS[r.type] ?? 0 }));
const reviewPolicy = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

// ---------------------------------------------------------------------------------------------
// plan-review scenarios: resources in test/fixtures/plan-review/<name>.tf.json, prior states here


const STORAGE_STATE: ReviewStateResource[] = [
  {
    type: 'aws_s3_bucket',
    name: 'data',
    attributes: { id: 'acme-data-v1', bucket: 'acme-data-v1', arn: 'arn:aws:s3:::acme-data-v1', force_destroy: false, tags: null, tags_all: {} },
  },
  {
    type: 'aws_s3_bucket',
    name: 'backend',
    attributes: {
      id: 'acme-terraform-state',
      bucket: 'acme-terraform-state',
      arn: 'arn:aws:s3:::acme-terraform-state',
      force_destroy: false,
      tags: null,
      tags_all: {},
    },
  },
  {
    type: 'aws_iam_policy',
    name: 'ci',
    attributes: {
      id: `arn:aws:iam::${ACCOUNT}:policy/ci`,
      arn: `arn:aws:iam::${ACCOUNT}:policy/ci`,
      name: 'ci',
      path: '/',
      description: '',
      policy_id: 'ANPAPLANREVIEWCI',
      policy: reviewPolicy([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::acme-data-v1/*' }]),
      tags: {},
      tags_all: {},
    },
  },
  {
    type: 'aws_kms_key',
    name: 'main',
    attributes: {
      id: '1234abcd-12ab-34cd-56ef-1234567890ab',
      key_id: '1234abcd-12ab-34cd-56ef-1234567890ab',
      arn: `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      deletion_window_in_days: 30,
      enable_key_rotation: true,
      tags: {},
      tags_all: {},
    },
  },
  {
    type: 'aws_security_group',
    name: 'web',
    attributes: {
      id: 'sg-0123456789abcdef0',
      arn: `arn:aws:ec2:us-west-2:${ACCOUNT}:security-group/sg-0123456789abcdef0`,
      name: 'web',
      name_prefix: '',
      description: 'Managed by Terraform',
      vpc_id: 'vpc-0123456789abcdef0',
      owner_id: ACCOUNT,
      ingress: [],
      egress: [],
      revoke_rules_on_delete: false,
      tags: {},
      tags_all: {},
    },
  },
  {
    type: 'aws_iam_role_policy_attachment',
    name: 'readonly',
    attributes: {
      id: 'ci-runner-20250101000000000000000001',
      role: 'ci-runner',
      policy_arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
    },
  },
];

const LOGS_STATE: ReviewStateResource[] = [
  {
    type: 'aws_cloudwatch_log_group',
    name: 'spark',
    attributes: {
      id: '/spark/jobs',
      arn: `arn:aws:logs:us-west-2:${ACCOUNT}:log-group:/spark/jobs`,
      name: '/spark/jobs',
      name_prefix: '',
      retention_in_days: 7,
      kms_key_id: '',
      log_group_class: 'STANDARD',
      skip_destroy: false,
      tags: null,
      tags_all: {},
    },
  },
  {
    type: 'aws_iam_policy',
    name: 'legacy',
    attributes: {
      id: `arn:aws:iam::${ACCOUNT}:policy/legacy`,
      arn: `arn:aws:iam::${ACCOUNT}:policy/legacy`,
      name: 'legacy',
      path: '/',
      description: '',
      policy_id: 'ANPAPLANREVIEWLEGACY',
      policy: reviewPolicy([{ Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' }]),
      tags: {},
      tags_all: {},
    },
  },
];


// ---------------------------------------------------------------------------------------------
// plan-compare scenarios: one module with inputs, over the same deployed state

const comparePolicy = (actions: string[]) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: 'arn:aws:s3:::acme-data-v1/*' }] });

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
const COMPARE_INPUTS: Record<string, Record<string, unknown>> = {
  reviewed: REVIEWED_INPUTS,
  same: REVIEWED_INPUTS,
  extra: { ...REVIEWED_INPUTS, extra: true },
  action: { ...REVIEWED_INPUTS, bucket_name: 'acme-data-v2' },
  iam: { ...REVIEWED_INPUTS, policy_actions: ['s3:GetObject', 's3:PutObject'] },
  ingress: { ...REVIEWED_INPUTS, ingress_cidr: '0.0.0.0/0' },
};

/** The deployed state every scenario starts from (resource schema versions of hashicorp/aws 5.100.0). */
const DEPLOYED: ScenarioStateResource[] = [
    { type: 'aws_s3_bucket', name: 'data', schemaVersion: 0, attributes: { id: 'acme-data-v1', bucket: 'acme-data-v1', arn: 'arn:aws:s3:::acme-data-v1', force_destroy: false, tags: null, tags_all: {} } },
    {
      type: 'aws_iam_policy',
      name: 'reader',
      schemaVersion: 0,
      attributes: { id: `arn:aws:iam::${ACCOUNT}:policy/reader`, arn: `arn:aws:iam::${ACCOUNT}:policy/reader`, name: 'reader', path: '/', description: '', policy_id: 'ANPAREADER', policy: JSON.stringify(comparePolicy(['s3:GetObject'])), tags: {}, tags_all: {} },
    },
    {
      type: 'aws_security_group',
      name: 'web',
      schemaVersion: 1,
      attributes: { id: 'sg-0123456789abcdef0', arn: `arn:aws:ec2:us-west-2:${ACCOUNT}:security-group/sg-0123456789abcdef0`, name: 'web', name_prefix: '', description: 'Managed by Terraform', vpc_id: 'vpc-0123456789abcdef0', owner_id: ACCOUNT, ingress: [], egress: [], revoke_rules_on_delete: false, tags: {}, tags_all: {} },
    },
  ];


export type ReviewScenario = 'network' | 'storage' | 'logs';
export const REVIEW_SCENARIOS: readonly ReviewScenario[] = ['network', 'storage', 'logs'];
export const COMPARE_SCENARIOS = Object.keys(COMPARE_INPUTS);

/** Folder name -> file name -> Terraform JSON of every module, and the scenarios using them. */
function definitions(): { modules: Record<string, Record<string, unknown>>; scenarios: Record<string, Scenario> } {
  const fixtures = join(repositoryRoot(), 'test', 'fixtures', 'plan-review');
  const modules: Record<string, Record<string, unknown>> = { 'compare-variant': { 'main.tf.json': MODULE } };
  for (const name of REVIEW_SCENARIOS) modules[`review-${name}`] = { 'resources.tf.json': JSON.parse(readFileSync(join(fixtures, `${name}.tf.json`), 'utf8')) };
  const states: Record<ReviewScenario, ReviewStateResource[]> = { network: [], storage: STORAGE_STATE, logs: LOGS_STATE };
  const scenarios: Record<string, Scenario> = {};
  for (const name of REVIEW_SCENARIOS) scenarios[`review-${name}`] = { source: `./review-${name}`, state: withSchema(states[name]) };
  for (const [name, inputs] of Object.entries(COMPARE_INPUTS)) scenarios[`compare-${name}`] = { source: './compare-variant', inputs, state: DEPLOYED };
  return { modules, scenarios };
}

/** Where the run's plans are written: `<dir>/<scenario>.json`, and `<dir>/result.json` last. */
export const PLANS_DIRECTORY_ENV = 'SPARK_PLATFORM_TEST_PLANS';

interface RunResult {
  readonly ok: boolean;
  readonly error?: string;
}

/** Plans every scenario (one terraform init/plan/show in `<dir>/work`) and writes the plans, then result.json. */
export function writeScenarioPlans(tf: OfflineTerraform, dir: string): void {
  const { modules, scenarios } = definitions();
  const { plans } = planScenarios(tf, join(dir, 'work'), modules, scenarios);
  for (const [name, plan] of plans) writeFileSync(join(dir, `${name}.json`), JSON.stringify(plan));
}

/** Records how the run ended, atomically (a reader never sees half a result). */
export function writeResult(dir: string, result: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'result.json.tmp'), JSON.stringify(result));
  renameSync(join(dir, 'result.json.tmp'), join(dir, 'result.json'));
}

/**
 * The plan JSON file of a scenario (`review-storage`, `compare-iam`, ...), once the background run
 * has written every plan; its error when terraform failed.
 */
export async function scenarioPlanFile(name: string, timeoutMs = 240_000): Promise<string> {
  const dir = process.env[PLANS_DIRECTORY_ENV];
  if (!dir) throw new Error(`${PLANS_DIRECTORY_ENV} is not set: the jest global setup (test/support/global-setup.mjs) starts the scenario plans`);
  const resultFile = join(dir, 'result.json');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(resultFile)) {
    if (Date.now() > deadline) throw new Error(`the scenario plans were not ready after ${timeoutMs / 1000} s (log: ${join(dir, 'run.log')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult;
  if (!result.ok) throw new Error(`the scenario plans failed: ${result.error}`);
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) throw new Error(`no scenario plan named ${name}`);
  return file;
}
