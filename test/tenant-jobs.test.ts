/**
 * What a tenant's jobs get from any client: the published job defaults (and that the job CLI sends
 * exactly them), job templates from `tenants/<t>/jobs/*.yaml`, retries, and job-run notifications,
 * for the fixture tenants and for a tenant added as a folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import type { StartJobRunRequest } from '@aws-sdk/client-emr-containers';
import { stringify } from 'yaml';
import { jobRunEventPattern } from '../modules/emr-on-eks/job-notifications.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { inputSnapshot } from '../stacks/lib/fingerprint.js';
import { loadTenantsWithJobs } from '../stacks/lib/job-templates.js';
import { stackDefinitions } from '../stacks/registry.js';
import { EXIT_OK, EXIT_USAGE, main } from '../scripts/job/cli.js';
import { compiledScript, FIXTURE_REPO, resourcesOf, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

const environment = testEnvironment();
const ACCOUNT = '111122223333';

/** A tenant added as a folder (defaults only), next to the fixture tenants. */
const NEW_TENANT = { name: 'marketing', owners: [`arn:aws:iam::${ACCOUNT}:role/marketing-engineers`], quota: { cpu: '100', memory: '400Gi' } };
const root = temporaryRoot({ tenants: { marketing: NEW_TENANT }, keepFixtureTenants: true });

const stacks: Record<string, TerraformJson> = {
  analytics: synthStack('tenant-analytics'),
  'risk-models': synthStack('tenant-risk-models'),
  marketing: synthStack('tenant-marketing', environment, root),
};

type Overrides = { applicationConfiguration: { classification: string; properties: Record<string, string> }[]; monitoringConfiguration: unknown };
const published = (tenant: string): Overrides => JSON.parse(stacks[tenant]!.output!.configurationOverrides!.value as string) as Overrides;
const classification = (o: Overrides, name: string) => o.applicationConfiguration.find((c) => c.classification === name)?.properties;

async function cli(repo: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--root', repo], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function dryRun(repo: string, ...argv: string[]): Promise<StartJobRunRequest> {
  const result = await cli(repo, 'submit', ...argv, '--dry-run', '--client-token', 't-1');
  assert.equal(result.code, EXIT_OK, result.err);
  return JSON.parse(result.out) as StartJobRunRequest;
}

describe('published job defaults: what any client gets from the tenant stack outputs', () => {
  for (const tenant of Object.keys(stacks)) {
    it(`${tenant}: job submitter on on-demand, dynamic allocation, decommissioning, event logs`, () => {
      const overrides = published(tenant);
      const bucket = `spark-dev-${tenant}-${ACCOUNT}-us-west-2`;
      const submitter = classification(overrides, 'emr-job-submitter')!;
      assert.equal(submitter['jobsubmitter.node.selector.karpenter.sh/capacity-type'], 'on-demand');
      assert.equal(submitter['jobsubmitter.node.selector.topology.kubernetes.io/zone'], tenant === 'risk-models' ? 'us-west-2b' : undefined);
      const spark = classification(overrides, 'spark-defaults')!;
      for (const key of ['spark.dynamicAllocation.enabled', 'spark.dynamicAllocation.shuffleTracking.enabled', 'spark.decommission.enabled', 'spark.storage.decommission.enabled', 'spark.storage.decommission.shuffleBlocks.enabled', 'spark.eventLog.enabled']) {
        assert.equal(spark[key], 'true', `${tenant}: ${key}`);
      }
      const min = Number(spark['spark.dynamicAllocation.minExecutors']);
      const initial = Number(spark['spark.dynamicAllocation.initialExecutors']);
      const max = Number(spark['spark.dynamicAllocation.maxExecutors']);
      assert.ok(min >= 0 && min <= initial && initial <= max, `${tenant}: ${min} <= ${initial} <= ${max}`);
      assert.equal(spark['spark.storage.decommission.fallbackStorage.path'], `s3://${bucket}/spark-fallback/`);
      assert.equal(spark['spark.eventLog.dir'], `s3://${bucket}/spark-events/`);
    });
  }

  for (const tenant of Object.keys(stacks)) {
    it(`${tenant}: the job CLI sends exactly the published configurationOverrides and retry policy`, async () => {
      const repo = tenant === 'marketing' ? root : FIXTURE_REPO;
      const request = await dryRun(repo, '--tenant', tenant, '--entry-point', `s3://spark-dev-${tenant}-${ACCOUNT}-us-west-2/code/job.py`);
      assert.deepEqual(request.configurationOverrides, published(tenant));
      assert.deepEqual(request.retryPolicyConfiguration, JSON.parse(stacks[tenant]!.output!.retryPolicyConfiguration!.value as string));
    });
  }

  it('derives executor bounds and retries from jobDefaults in the tenant file, strictly validated', () => {
    const custom = temporaryRoot({
      tenants: { custom: { ...NEW_TENANT, name: 'custom', owners: [`arn:aws:iam::${ACCOUNT}:role/custom`], jobDefaults: { executors: { min: 2, max: 20 }, maxAttempts: 4 } } },
    });
    const tf = synthStack('tenant-custom', environment, custom);
    const spark = classification(JSON.parse(tf.output!.configurationOverrides!.value as string) as Overrides, 'spark-defaults')!;
    assert.deepEqual(
      [spark['spark.dynamicAllocation.minExecutors'], spark['spark.dynamicAllocation.initialExecutors'], spark['spark.dynamicAllocation.maxExecutors']],
      ['2', '2', '20'],
    );
    assert.equal(tf.output!.retryPolicyConfiguration!.value, '{"maxAttempts":4}');
    const bad = temporaryRoot({ tenants: { custom: { ...NEW_TENANT, name: 'custom', owners: [`arn:aws:iam::${ACCOUNT}:role/custom`], jobDefaults: { executors: { min: 30, max: 20, spare: 1 }, maxAttempts: 11 } } } });
    assert.throws(() => loadTenantsWithJobs(bad, environment), (error: ConfigError) => {
      assert.match(error.message, /tenants\/custom\/tenant\.yaml: jobDefaults\.executors\.spare: expected no field named "spare"/);
      assert.match(error.message, /tenants\/custom\/tenant\.yaml: jobDefaults\.maxAttempts: expected a number <= 10, found number 11/);
      return true;
    });
  });
});

const TEMPLATE = {
  description: 'Nightly report',
  sparkSql: { entryPoint: 'code/report.sql', hivevars: { day: '${day}' } },
  sparkConf: { 'spark.sql.shuffle.partitions': '${partitions}' },
  executors: { min: 1, max: 8 },
  maxAttempts: 3,
  parameters: { day: { default: '2026-01-01' }, partitions: { type: 'NUMBER', default: 64 } },
};

describe('job templates: tenants/<tenant>/jobs/<job>.yaml', () => {
  const repo = temporaryRoot({ tenants: { marketing: NEW_TENANT }, files: { 'tenants/marketing/jobs/nightly-report.yaml': stringify(TEMPLATE) } });
  const tf = synthStack('tenant-marketing', environment, repo);
  const templates = Object.values(resourcesOf(tf, 'aws_emrcontainers_job_template'));

  it('a job template file of a new tenant folder becomes an EMR job template carrying the tenant defaults', () => {
    assert.equal(templates.length, 1);
    const template = templates[0]!;
    const data = template.job_template_data as Record<string, any>;
    assert.equal(template.name, 'marketing-nightly-report');
    assert.match(data.execution_role_arn, /^\$\{aws_iam_role\.job-execution.*\.arn\}$/);
    assert.equal(data.release_label, 'emr-7.12.0-latest');
    // Parameters at their defaults (the provider's job template cannot declare parameters).
    assert.deepEqual(data.job_driver, { spark_sql_job_driver: { entry_point: `s3://spark-dev-marketing-${ACCOUNT}-us-west-2/code/report.sql`, spark_sql_parameters: '-hivevar day=2026-01-01' } });
    const [spark, submitter] = data.configuration_overrides.application_configuration as { classification: string; properties: Record<string, string> }[];
    const tenantDefaults = classification(published('marketing'), 'spark-defaults')!;
    assert.deepEqual(spark!.properties, {
      ...tenantDefaults,
      'spark.dynamicAllocation.minExecutors': '1',
      'spark.dynamicAllocation.initialExecutors': '1',
      'spark.dynamicAllocation.maxExecutors': '8',
      'spark.sql.shuffle.partitions': '64',
    });
    assert.deepEqual(submitter, { classification: 'emr-job-submitter', properties: classification(published('marketing'), 'emr-job-submitter') });
    assert.equal(data.configuration_overrides.monitoring_configuration.persistent_app_ui, 'ENABLED');
    assert.deepEqual(data.job_tags, { 'spark-platform:tenant': 'marketing', 'spark-platform:job-template': 'nightly-report' });
    assert.match(tf.output!.jobTemplateIds!.value as string, /^\$\{jsonencode\(\{"nightly-report" = aws_emrcontainers_job_template\..+\.id\}\)\}$/);
  });

  it('lets the owners start runs from the tenant templates only, with the tenant role', () => {
    const policy = JSON.parse(Object.values(resourcesOf(tf, 'aws_iam_policy'))[0]!.policy as string) as { Statement: Record<string, any>[] };
    const fromTemplates = policy.Statement.find((s) => s.Sid === 'StartJobRunsFromTheTenantTemplates')!;
    assert.match(fromTemplates.Resource, /^\$\{aws_emrcontainers_virtual_cluster\..+\.arn\}$/);
    assert.deepEqual(Object.keys(fromTemplates.Condition).sort(), ['ArnEquals', 'ArnEqualsIfExists']);
    const templateId = Object.keys(resourcesOf(tf, 'aws_emrcontainers_job_template'))[0]!;
    assert.deepEqual(fromTemplates.Condition.ArnEquals['emr-containers:JobTemplateArn'], [`\${aws_emrcontainers_job_template.${templateId}.arn}`]);
    assert.deepEqual(policy.Statement.find((s) => s.Sid === 'ReadTheTenantTemplates')!.Resource, [`\${aws_emrcontainers_job_template.${templateId}.arn}`]);
    assert.match(fromTemplates.Condition.ArnEqualsIfExists['emr-containers:ExecutionRoleArn'], /^\$\{aws_iam_role\.job-execution.*\.arn\}$/);
    const analyticsPolicy = JSON.parse(Object.values(resourcesOf(stacks.analytics!, 'aws_iam_policy'))[0]!.policy as string) as { Statement: { Sid: string }[] };
    assert.equal(analyticsPolicy.Statement.some((s) => s.Sid === 'StartJobRunsFromTheTenantTemplates'), false, 'no templates, no template statement');
  });

  it('npm run job -- submit --template renders the same job, with --param values', async () => {
    const defaults = await dryRun(repo, '--tenant', 'marketing', '--template', 'nightly-report');
    const data = templates[0]!.job_template_data as Record<string, any>;
    assert.equal(defaults.name, 'marketing-nightly-report');
    assert.deepEqual(defaults.jobDriver, { sparkSqlJobDriver: { entryPoint: data.job_driver.spark_sql_job_driver.entry_point, sparkSqlParameters: data.job_driver.spark_sql_job_driver.spark_sql_parameters } });
    assert.deepEqual(defaults.configurationOverrides!.applicationConfiguration, data.configuration_overrides.application_configuration);
    assert.deepEqual(defaults.retryPolicyConfiguration, { maxAttempts: 3 }, 'the template maxAttempts over the tenant default');
    assert.deepEqual(defaults.tags, data.job_tags);
    const run = await dryRun(repo, '--tenant', 'marketing', '--template', 'nightly-report', '--param', 'day=2026-11-20', '--param', 'partitions=200', '--max-attempts', '1');
    assert.equal(run.jobDriver!.sparkSqlJobDriver!.sparkSqlParameters, '-hivevar day=2026-11-20');
    assert.equal(run.configurationOverrides!.applicationConfiguration!.find((c) => c.classification === 'spark-defaults')!.properties!['spark.sql.shuffle.partitions'], '200');
    assert.deepEqual(run.retryPolicyConfiguration, { maxAttempts: 1 });
  });

  it('are inputs of their tenant stack: a changed template rebuilds it in an incremental synth', () => {
    const definition = stackDefinitions(repo, environment).find((d) => d.name === 'tenant-marketing')!;
    assert.deepEqual(definition.inputs, ['environments/dev.yaml', 'tenants/marketing/tenant.yaml', 'tenants/marketing/jobs/nightly-report.yaml']);
    const before = inputSnapshot(repo, 'dev');
    writeFileSync(join(repo, 'tenants/marketing/jobs/nightly-report.yaml'), stringify({ ...TEMPLATE, maxAttempts: 2 }));
    assert.notEqual(inputSnapshot(repo, 'dev'), before);
    writeFileSync(join(repo, 'tenants/marketing/jobs/nightly-report.yaml'), stringify(TEMPLATE));
    assert.equal(inputSnapshot(repo, 'dev'), before);
  });

  it('rejects a bad job template with the tenant file error format, and synth writes nothing', () => {
    const bad = {
      sparkSubmit: { entryPoint: 's3://bucket/code/x.py', arguments: ['${day}', '${region}'] },
      sparkSql: { entryPoint: 'code/x.sql' },
      sparkConf: { 'executor.memory': '8g' },
      maxAttempts: 'three',
      schedule: 'daily',
      parameters: { day: { default: 1 }, unused: { default: 'x' } },
    };
    const badRoot = temporaryRoot({
      tenants: { marketing: NEW_TENANT },
      files: { 'tenants/marketing/jobs/broken.yaml': stringify(bad), 'tenants/marketing/jobs/notes.yml': 'x: 1\n', 'tenants/marketing/jobs/Bad_Name.yaml': stringify(TEMPLATE) },
    });
    const file = 'tenants/marketing/jobs/broken.yaml';
    assert.throws(() => loadTenantsWithJobs(badRoot, environment), (error: ConfigError) => {
      const lines = error.message.split('\n');
      const has = (pattern: RegExp) => assert.ok(lines.some((l) => pattern.test(l)), `${pattern} in\n${error.message}`);
      has(new RegExp(`^${file}: schedule: expected no field named "schedule" .*, found "daily"$`));
      has(new RegExp(`^${file}: maxAttempts: expected a number, found "three"$`));
      has(new RegExp(`^${file}: sparkConf\\.executor\\.memory: expected a key that is a Spark property name such as spark\\.executor\\.memory, found key "executor\\.memory"$`));
      has(new RegExp(`^${file}: parameters\\.day\\.default: expected a string, quoted \\(the parameter type is STRING\\), found number 1$`));
      has(/^tenants\/marketing\/jobs\/notes\.yml: \(file\): expected a job template file <job>\.yaml/);
      has(/^tenants\/marketing\/jobs\/Bad_Name\.yaml: \(file name\): expected a job name of 1-40 lowercase letters, digits and -/);
      return true;
    });
    const undeclared = temporaryRoot({
      tenants: { marketing: NEW_TENANT },
      files: { [file]: stringify({ sparkSubmit: { entryPoint: 'code/x.py', arguments: ['${day}', '${region}'] }, parameters: { day: { default: 'd' }, unused: { default: 'x' } } }) },
    });
    assert.throws(() => loadTenantsWithJobs(undeclared, environment), (error: ConfigError) => {
      assert.match(error.message, new RegExp(`${file}: sparkSubmit\\.arguments\\[1\\]: expected only declared parameters in \\$\\{\\.\\.\\.\\} \\(declare "region" under parameters, or remove the reference\\), found "\\$\\{region\\}"`));
      assert.match(error.message, new RegExp(`${file}: parameters\\.unused: expected a parameter referenced as \\$\\{unused\\} somewhere in the job`));
      return true;
    });
    const synth = spawnSync(process.execPath, [compiledScript('synth.js'), '--root', undeclared], { encoding: 'utf8' });
    assert.notEqual(synth.status, 0);
    assert.match(synth.stderr, /sparkSubmit\.arguments\[1\]: expected only declared parameters/);
    assert.equal(existsSync(join(undeclared, 'cdktf.out')), false, 'no half-written output');
  });
});

describe('job-run notifications', () => {
  const risk = stacks['risk-models']!;
  const rule = Object.values(resourcesOf(risk, 'aws_cloudwatch_event_rule'))[0]!;
  const topic = Object.values(resourcesOf(risk, 'aws_sns_topic'))[0]!;
  const topicRef = `\${aws_sns_topic.${Object.keys(resourcesOf(risk, 'aws_sns_topic'))[0]}.arn}`;

  it('create an EventBridge rule for this tenant virtual cluster job-run state changes in the chosen states', () => {
    assert.equal(rule.name, 'spark-dev-risk-models-job-runs');
    const pattern = JSON.parse(rule.event_pattern as string) as Record<string, any>;
    assert.match(pattern.detail.virtualClusterId[0], /^\$\{aws_emrcontainers_virtual_cluster\..+\.id\}$/);
    // The exact pattern (EMR on EKS's event shape). What it matches is evaluated by an EventBridge
    // engine in `npm run e2e` (job-run events put on the emulator's bus, routed by the deployed rule),
    // not here: jest needs no Python.
    assert.deepEqual(pattern, {
      source: ['aws.emr-containers'],
      'detail-type': ['EMR Job Run State Change'],
      detail: { virtualClusterId: [pattern.detail.virtualClusterId[0]], state: ['FAILED', 'CANCELLED'] },
    });
    assert.deepEqual(pattern, jobRunEventPattern(pattern.detail.virtualClusterId[0], ['FAILED', 'CANCELLED']));
    assert.deepEqual(Object.keys(resourcesOf(stacks.analytics!, 'aws_cloudwatch_event_rule')), [], 'no notifications field, no rule');
    assert.equal(stacks.analytics!.output!.notificationTopicArn!.value, '');
    assert.match(risk.output!.notificationTopicArn!.value as string, /^\$\{aws_sns_topic\..+\.arn\}$/);
  });

  it('deliver to an encrypted topic only that rule may publish to, with the email and SQS subscriptions', () => {
    const key = Object.values(resourcesOf(risk, 'aws_kms_key')).find((k) => String(k.description).includes('SNS topic'))!;
    assert.equal(key.enable_key_rotation, true);
    assert.match(topic.kms_master_key_id as string, /^\$\{aws_kms_key\.job-notifications.*\.arn\}$/);
    const ruleArn = `arn:aws:events:us-west-2:${ACCOUNT}:rule/spark-dev-risk-models-job-runs`;
    const topicPolicy = JSON.parse(Object.values(resourcesOf(risk, 'aws_sns_topic_policy'))[0]!.policy as string) as { Statement: Record<string, any>[] };
    assert.deepEqual(topicPolicy.Statement[0], {
      Sid: 'PublishFromTheJobRunRuleOnly',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicRef,
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    });
    const keyPolicy = JSON.parse(key.policy as string) as { Statement: Record<string, any>[] };
    assert.deepEqual(keyPolicy.Statement[1]!.Condition, { ArnEquals: { 'aws:SourceArn': ruleArn } });
    const subscriptions = Object.values(resourcesOf(risk, 'aws_sns_topic_subscription')).map((s) => [s.protocol, s.endpoint, s.raw_message_delivery ?? false]);
    assert.deepEqual(subscriptions, [
      ['email', 'risk-oncall@example.com', false],
      ['sqs', `arn:aws:sqs:us-west-2:${ACCOUNT}:risk-job-events`, true],
    ]);
    const targets = Object.values(resourcesOf(risk, 'aws_cloudwatch_event_target'));
    assert.deepEqual(targets.map((t) => t.arn), [topicRef]);
  });

  it('rejects notifications without a destination or with a topic of another region', () => {
    const bad = temporaryRoot({
      tenants: {
        alpha: { ...NEW_TENANT, name: 'alpha', owners: [`arn:aws:iam::${ACCOUNT}:role/alpha`], notifications: { states: ['FAILED'] } },
        beta: { ...NEW_TENANT, name: 'beta', owners: [`arn:aws:iam::${ACCOUNT}:role/beta`], notifications: { snsTopicArns: [`arn:aws:sns:eu-west-1:${ACCOUNT}:alerts`], states: ['RUNNING'] } },
      },
    });
    assert.throws(() => loadTenantsWithJobs(bad, environment), (error: ConfigError) => {
      assert.match(error.message, /tenants\/alpha\/tenant\.yaml: notifications: expected at least one destination \(emails, sqsQueueArns or snsTopicArns\)/);
      assert.match(error.message, /tenants\/beta\/tenant\.yaml: notifications\.states\[0\]: expected one of "FAILED" \| "CANCELLED" \| "COMPLETED", found "RUNNING"/);
      return true;
    });
    const region = temporaryRoot({
      tenants: { beta: { ...NEW_TENANT, name: 'beta', owners: [`arn:aws:iam::${ACCOUNT}:role/beta`], notifications: { snsTopicArns: [`arn:aws:sns:eu-west-1:${ACCOUNT}:alerts`] } } },
    });
    assert.throws(() => loadTenantsWithJobs(region, environment), /tenants\/beta\/tenant\.yaml: notifications\.snsTopicArns\[0\]: expected a topic in region us-west-2/);
  });

  it('a run failing for the CLI is exit 2 for an unknown template', async () => {
    const result = await cli(FIXTURE_REPO, 'submit', '--tenant', 'analytics', '--template', 'x', '--dry-run');
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.err, /--template: expected a job of tenants\/analytics\/jobs\/ \(it has none\), found "x"/);
  });
});
