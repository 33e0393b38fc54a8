import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import type { StartJobRunRequest } from '@aws-sdk/client-emr-containers';
import { EXIT_OK, EXIT_USAGE, main, UNKNOWN_VIRTUAL_CLUSTER } from '../scripts/job/cli.js';
import { FIXTURE_REPO, SOURCE_ROOT } from './support/synth.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--root', FIXTURE_REPO], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function request(...argv: string[]): Promise<StartJobRunRequest> {
  const result = await run('submit', ...argv, '--dry-run', '--client-token', 'token-1');
  assert.equal(result.code, EXIT_OK, result.err);
  return JSON.parse(result.out) as StartJobRunRequest;
}

const props = (r: StartJobRunRequest, classification: string) =>
  r.configurationOverrides!.applicationConfiguration!.find((c) => c.classification === classification)!.properties!;

function conf(parameters: string): Record<string, string> {
  return Object.fromEntries([...parameters.matchAll(/--conf (\S+?)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

describe('job CLI: analytics (spark-submit, Spot executors, NVMe, no pinned zone)', () => {
  it('builds a StartJobRun request from the tenant settings', async () => {
    const r = await request('--tenant', 'analytics', '--entry-point', 's3://spark-dev-analytics-111122223333-us-west-2/code/pi.py', '--arg', '1000', '--conf', 'spark.executor.memory=8g', '--max-executors', '20');
    assert.equal(r.name, 'analytics-pi');
    assert.equal(r.virtualClusterId, UNKNOWN_VIRTUAL_CLUSTER);
    assert.equal(r.clientToken, 'token-1');
    assert.equal(r.executionRoleArn, 'arn:aws:iam::111122223333:role/spark-dev-analytics-emr-job');
    assert.equal(r.releaseLabel, 'emr-7.12.0-latest');
    const driver = r.jobDriver!.sparkSubmitJobDriver!;
    assert.equal(driver.entryPoint, 's3://spark-dev-analytics-111122223333-us-west-2/code/pi.py');
    assert.deepEqual(driver.entryPointArguments, ['1000']);
    const c = conf(driver.sparkSubmitParameters!);
    // Only what is about this run travels as --conf; the defaults are in configurationOverrides.
    assert.deepEqual(c, { 'spark.dynamicAllocation.maxExecutors': '20', 'spark.executor.memory': '8g' });
    const defaults = props(r, 'spark-defaults');
    assert.equal(defaults['spark.kubernetes.driver.podTemplateFile'], 's3://spark-dev-analytics-111122223333-us-west-2/pod-templates/driver.yaml');
    assert.equal(defaults['spark.kubernetes.executor.podTemplateFile'], 's3://spark-dev-analytics-111122223333-us-west-2/pod-templates/executor.yaml');
    assert.equal(defaults['spark.dynamicAllocation.enabled'], 'true');
    assert.equal(defaults['spark.dynamicAllocation.shuffleTracking.enabled'], 'true');
    assert.equal(defaults['spark.dynamicAllocation.maxExecutors'], '50', 'the tenant default; this run overrides it with --conf');
    assert.equal(defaults['spark.decommission.enabled'], 'true', 'Spot executors decommission gracefully');
    assert.equal(defaults['spark.storage.decommission.shuffleBlocks.enabled'], 'true');
    assert.equal(defaults['spark.storage.decommission.fallbackStorage.path'], 's3://spark-dev-analytics-111122223333-us-west-2/spark-fallback/');
    assert.equal(defaults['spark.eventLog.dir'], 's3://spark-dev-analytics-111122223333-us-west-2/spark-events/');
    assert.equal(defaults['spark.ui.prometheus.enabled'], 'true');
    assert.equal(defaults['spark.hadoop.hive.metastore.client.factory.class'], undefined, 'no Glue databases: no Glue metastore');
    assert.deepEqual(props(r, 'emr-job-submitter'), { 'jobsubmitter.node.selector.karpenter.sh/capacity-type': 'on-demand' });
    assert.deepEqual(r.configurationOverrides!.monitoringConfiguration, {
      persistentAppUI: 'ENABLED',
      cloudWatchMonitoringConfiguration: { logGroupName: '/spark-platform/dev/tenants/analytics', logStreamNamePrefix: 'jobs' },
      s3MonitoringConfiguration: { logUri: 's3://spark-dev-analytics-111122223333-us-west-2/logs/' },
    });
    assert.deepEqual(r.retryPolicyConfiguration, { maxAttempts: 1 });
    assert.deepEqual(r.tags, { 'spark-platform:tenant': 'analytics' });
  });

  it('pins one run to a zone on request, job submitter included, and takes --max-attempts', async () => {
    const r = await request('--tenant', 'analytics', '--entry-point', 's3://b-1/code/etl.py', '--zone', 'us-west-2c', '--max-attempts', '3', '--name', 'nightly-etl');
    const c = conf(r.jobDriver!.sparkSubmitJobDriver!.sparkSubmitParameters!);
    assert.equal(c['spark.kubernetes.node.selector.topology.kubernetes.io/zone'], 'us-west-2c');
    assert.deepEqual(props(r, 'emr-job-submitter'), {
      'jobsubmitter.node.selector.karpenter.sh/capacity-type': 'on-demand',
      'jobsubmitter.node.selector.topology.kubernetes.io/zone': 'us-west-2c',
    });
    assert.deepEqual(r.retryPolicyConfiguration, { maxAttempts: 3 });
  });

  it('builds a sparkSqlJobDriver request with -hivevar parameters', async () => {
    const r = await request('--tenant', 'analytics', '--sql', 's3://b-1/code/report.sql', '--hivevar', 'day=2026-11-20', '--hivevar', 'region=emea');
    const sql = r.jobDriver!.sparkSqlJobDriver!;
    assert.equal(sql.entryPoint, 's3://b-1/code/report.sql');
    assert.equal(sql.sparkSqlParameters, '-hivevar day=2026-11-20 -hivevar region=emea');
    assert.equal(r.jobDriver!.sparkSubmitJobDriver, undefined);
  });
});

describe('job CLI: risk-models (SQL, pinned zone, on-demand, EBS, vertical autoscaling)', () => {
  it('pins the job submitter to the tenant zone and sets the vertical autoscaling signature', async () => {
    const r = await request('--tenant', 'risk-models', '--sql', 's3://b-1/code/var.sql', '--signature', 'var-daily');
    const c = conf(r.jobDriver!.sparkSqlJobDriver!.sparkSqlParameters!);
    // The tenant's zone is in its pod templates; no per-run selector.
    assert.equal(c['spark.kubernetes.node.selector.topology.kubernetes.io/zone'], undefined);
    assert.equal(c['spark.kubernetes.driver.annotation.emr-containers.amazonaws.com/dynamic.sizing.signature'], 'var-daily');
    assert.equal(props(r, 'emr-job-submitter')['jobsubmitter.node.selector.topology.kubernetes.io/zone'], 'us-west-2b');
    const defaults = props(r, 'spark-defaults');
    assert.equal(defaults['spark.decommission.enabled'], 'true', 'on-demand executors decommission too (consolidation, expiry, drift)');
    assert.equal(defaults['spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName'], 'OnDemand');
    assert.equal(defaults['spark.hadoop.hive.metastore.client.factory.class'], 'com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory');
    assert.equal(defaults['spark.sql.warehouse.dir'], 's3://spark-dev-risk-models-111122223333-us-west-2/warehouse/');
    assert.equal(defaults['spark.dynamicAllocation.maxExecutors'], '100', 'jobDefaults.executors of the tenant file');
    assert.deepEqual(r.retryPolicyConfiguration, { maxAttempts: 2 }, 'jobDefaults.maxAttempts of the tenant file');
  });

  it('spark-submit job of a pod-identity tenant, with a deployed stack outputs file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-outputs-'));
    try {
      const file = join(dir, 'outputs.json');
      writeFileSync(file, JSON.stringify({
        virtualClusterId: { value: 'abcdefghij0123456789klmno', type: 'string', sensitive: false },
        executionRoleArn: { value: 'arn:aws:iam::111122223333:role/spark-dev-risk-models-emr-job', type: 'string', sensitive: false },
      }));
      const r = await request('--tenant', 'risk-models', '--entry-point', 's3://b-1/code/model.py', '--outputs', file);
      assert.equal(r.virtualClusterId, 'abcdefghij0123456789klmno');
      assert.ok(r.jobDriver!.sparkSubmitJobDriver);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('job CLI: bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown tenant', ['submit', '--tenant', 'nobody', '--entry-point', 's3://b-1/x.py', '--dry-run'], /--tenant: expected one of the tenants under tenants\/, found "nobody"/],
    ['no driver', ['submit', '--tenant', 'analytics', '--dry-run'], /expected exactly one of --entry-point .*, --sql .* or --template/],
    ['unknown template', ['submit', '--tenant', 'risk-models', '--template', 'nightly', '--dry-run'], /--template: expected a job of tenants\/risk-models\/jobs\/ \(daily-var\), found "nightly"/],
    ['undeclared template parameter', ['submit', '--tenant', 'risk-models', '--template', 'daily-var', '--param', 'dya=2026-11-20', '--dry-run'], /--param dya: expected one of the parameters of tenants\/risk-models\/jobs\/daily-var\.yaml \(day, confidence, partitions\), found "dya"/],
    ['non-numeric NUMBER parameter', ['submit', '--tenant', 'risk-models', '--template', 'daily-var', '--param', 'partitions=many', '--dry-run'], /--param partitions: expected a number/],
    ['--param without a template', ['submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--param', 'a=b', '--dry-run'], /--param: only for --template jobs/],
    ['max attempts out of range', ['submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--max-attempts', '11', '--dry-run'], /--max-attempts: expected a whole number from 1 to 10/],
    ['both drivers', ['submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--sql', 's3://b-1/x.sql', '--dry-run'], /exactly one of/],
    ['entry point not on S3', ['submit', '--tenant', 'analytics', '--entry-point', '/tmp/x.py', '--dry-run'], /entry point: expected an S3 URI/],
    ['SQL file without .sql', ['submit', '--tenant', 'analytics', '--sql', 's3://b-1/x.py', '--dry-run'], /--sql: expected an S3 URI of a \.sql file/],
    ['conf without =', ['submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--conf', 'spark.x', '--dry-run'], /--conf: expected key=value, found "spark\.x"/],
    ['zone other than the tenant zone', ['submit', '--tenant', 'risk-models', '--entry-point', 's3://b-1/x.py', '--zone', 'us-west-2a', '--dry-run'], /--zone: expected us-west-2b/],
    ['min above max', ['submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--min-executors', '9', '--max-executors', '3', '--dry-run'], /min <= max/],
    ['status without id', ['status', '--tenant', 'analytics', '--outputs', '/dev/null'], /expected the JSON of `terraform output -json`/],
  ];
  for (const [name, argv, pattern] of cases) {
    it(`rejects ${name}`, async () => {
      const result = await run(...argv);
      assert.equal(result.code, EXIT_USAGE);
      assert.match(result.err, pattern);
    });
  }

  it('runs as a command: npm run job prints the request', () => {
    const result = spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist/scripts/job/cli.js'), 'submit', '--tenant', 'analytics', '--entry-point', 's3://b-1/x.py', '--dry-run', '--root', FIXTURE_REPO], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as StartJobRunRequest).executionRoleArn, 'arn:aws:iam::111122223333:role/spark-dev-analytics-emr-job');
  });
});
