/**
 * Builds EMR on EKS `StartJobRun` requests for a tenant. Everything the platform wants every job
 * to have (pod templates, job submitter placement, dynamic allocation, decommissioning, event logs,
 * metastore, metrics, logging, retries) comes from the tenant's published defaults
 * (`configurationOverrides`, `retryPolicyConfiguration`) unchanged; a request adds only what is
 * about this one job: its driver, its own Spark conf, a zone for this run, executor bounds, the
 * vertical autoscaling signature. Job templates are rendered by the same function the tenant stack
 * uses for its EMR job templates.
 */
import type { StartJobRunRequest } from '@aws-sdk/client-emr-containers';
import {
  CLASSIFICATIONS,
  classificationProperties,
  type ConfigurationOverrides,
  withClassification,
} from '../../modules/tenant/job-defaults.js';
import { VERTICAL_AUTOSCALING } from '../../modules/tenant/pod-templates.js';
import { WELL_KNOWN } from '../../modules/scheduling/spark-pools.js';
import type { JobTemplate } from '../../stacks/lib/job-templates.js';
import type { TenantJobSettings } from '../../stacks/tenant/job-settings.js';
import { renderJobTemplate } from '../../stacks/tenant/job-templates.js';

export type JobDriverOptions =
  | { readonly type: 'spark-submit'; readonly entryPoint: string; readonly arguments: readonly string[] }
  | { readonly type: 'spark-sql'; readonly entryPoint: string; readonly hivevars: Readonly<Record<string, string>> };

/** What one run may change, for a job given on the command line or from a template. */
export interface RunOptions {
  /** Job run name (1-64 chars). */
  readonly name: string;
  /** Extra Spark conf for this run; wins over every default. */
  readonly conf: Readonly<Record<string, string>>;
  /** @default the tenant's (or the template's) releaseLabel */
  readonly releaseLabel?: string;
  /**
   * Availability Zone for every pod of this run (driver, executors, job submitter). Must equal the
   * tenant's `spark.zone` when the tenant pins one.
   * @default the tenant's zone; otherwise executors follow their driver's zone
   */
  readonly zone?: string;
  /** Dynamic allocation bounds of this run. @default the tenant's (or the template's) */
  readonly minExecutors?: number;
  readonly maxExecutors?: number;
  /** Vertical autoscaling signature (tenants with `emr.verticalAutoscaling`). @default the job name */
  readonly signature?: string;
  /** StartJobRun retryPolicy.maxAttempts (1-10). @default the tenant's (or the template's) */
  readonly maxAttempts?: number;
  /** Idempotency token. */
  readonly clientToken: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface JobOptions extends RunOptions {
  readonly driver: JobDriverOptions;
}

export interface TenantRuntime extends TenantJobSettings {
  readonly virtualClusterId: string;
}

export class JobRequestError extends Error {
  override name = 'JobRequestError';
}

const JOB_NAME = /^[\.\-_/#A-Za-z0-9]{1,64}$/;

function validateRun(runtime: TenantRuntime, run: RunOptions): void {
  if (!JOB_NAME.test(run.name)) throw new JobRequestError(`--name: expected 1-64 characters of A-Z a-z 0-9 . _ / # -, found ${JSON.stringify(run.name)}`);
  const tenantZone = runtime.placement.zone;
  if (run.zone && tenantZone && run.zone !== tenantZone) {
    throw new JobRequestError(`--zone: expected ${tenantZone} (tenant ${runtime.namespace} pins every job to it), found ${JSON.stringify(run.zone)}`);
  }
  const { minExecutors: min, maxExecutors: max } = run;
  for (const [flag, value] of [['--min-executors', min], ['--max-executors', max]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < (flag === '--max-executors' ? 1 : 0))) {
      throw new JobRequestError(`${flag}: expected a whole number ${flag === '--max-executors' ? '>= 1' : '>= 0'}, found ${value}`);
    }
  }
  if (min !== undefined && max !== undefined && min > max) {
    throw new JobRequestError(`--min-executors/--max-executors: expected min <= max, found ${min} and ${max}`);
  }
  if (run.maxAttempts !== undefined && !(Number.isInteger(run.maxAttempts) && run.maxAttempts >= 1 && run.maxAttempts <= 10)) {
    throw new JobRequestError(`--max-attempts: expected a whole number from 1 to 10 (StartJobRun retryPolicy), found ${run.maxAttempts}`);
  }
}

function validateDriver(runtime: TenantRuntime, driver: JobDriverOptions): void {
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(driver.entryPoint)) {
    throw new JobRequestError(`entry point: expected an S3 URI such as s3://${runtime.bucket}/code/job.py, found ${JSON.stringify(driver.entryPoint)}`);
  }
  if (driver.type === 'spark-sql' && !driver.entryPoint.endsWith('.sql')) {
    throw new JobRequestError(`--sql: expected an S3 URI of a .sql file, found ${JSON.stringify(driver.entryPoint)}`);
  }
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'"'"'`)}'`;
}

function confFlags(conf: Readonly<Record<string, string>>): string {
  return Object.entries(conf)
    .map(([key, value]) => `--conf ${key}=${quote(value)}`)
    .join(' ');
}

/** The Spark conf of one run (per-run changes only; the defaults travel in configurationOverrides). */
function runConf(runtime: TenantRuntime, run: RunOptions): Record<string, string> {
  return {
    ...(run.minExecutors !== undefined ? { 'spark.dynamicAllocation.minExecutors': String(run.minExecutors) } : {}),
    ...(run.minExecutors !== undefined ? { 'spark.dynamicAllocation.initialExecutors': String(run.minExecutors) } : {}),
    ...(run.maxExecutors !== undefined ? { 'spark.dynamicAllocation.maxExecutors': String(run.maxExecutors) } : {}),
    // A zone for this run only (the tenant's own zone is already in its pod templates).
    ...(run.zone && !runtime.placement.zone ? { [`spark.kubernetes.node.selector.${WELL_KNOWN.zone}`]: run.zone } : {}),
    ...(runtime.placement.verticalAutoscaling ? { [`spark.kubernetes.driver.annotation.${VERTICAL_AUTOSCALING.signature}`]: run.signature ?? run.name } : {}),
    ...run.conf,
  };
}

/** The published overrides, with the job submitter moved to this run's zone when it has its own. */
function runOverrides(overrides: ConfigurationOverrides, runtime: TenantRuntime, run: RunOptions): ConfigurationOverrides {
  if (!run.zone || runtime.placement.zone) return overrides;
  const submitter = { ...classificationProperties(overrides, CLASSIFICATIONS.jobSubmitter), [`jobsubmitter.node.selector.${WELL_KNOWN.zone}`]: run.zone };
  return withClassification(overrides, CLASSIFICATIONS.jobSubmitter, submitter);
}

function sqlParameters(hivevars: Readonly<Record<string, string>>, conf: Readonly<Record<string, string>>, prefix?: string): string | undefined {
  const text = [prefix ?? '', ...Object.entries(hivevars).map(([key, value]) => `-hivevar ${key}=${quote(value)}`), confFlags(conf)].filter(Boolean).join(' ');
  return text || undefined;
}

export function buildStartJobRunRequest(runtime: TenantRuntime, job: JobOptions): StartJobRunRequest {
  validateRun(runtime, job);
  validateDriver(runtime, job.driver);
  const conf = runConf(runtime, job);
  const jobDriver: StartJobRunRequest['jobDriver'] =
    job.driver.type === 'spark-submit'
      ? {
          sparkSubmitJobDriver: {
            entryPoint: job.driver.entryPoint,
            ...(job.driver.arguments.length > 0 ? { entryPointArguments: [...job.driver.arguments] } : {}),
            ...(Object.keys(conf).length > 0 ? { sparkSubmitParameters: confFlags(conf) } : {}),
          },
        }
      : { sparkSqlJobDriver: { entryPoint: job.driver.entryPoint, ...optional('sparkSqlParameters', sqlParameters(job.driver.hivevars, conf)) } };
  return {
    name: job.name,
    virtualClusterId: runtime.virtualClusterId,
    clientToken: job.clientToken,
    executionRoleArn: runtime.executionRoleArn,
    releaseLabel: job.releaseLabel ?? runtime.releaseLabel,
    jobDriver,
    configurationOverrides: runOverrides(runtime.configurationOverrides, runtime, job),
    retryPolicyConfiguration: { maxAttempts: job.maxAttempts ?? runtime.retryPolicy.maxAttempts },
    tags: { 'spark-platform:tenant': runtime.namespace, ...job.tags },
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/**
 * A run of a job template: the template rendered with this run's parameter values (what the EMR
 * job template holds, with the defaults), then the run's own changes on top.
 */
export function buildTemplateJobRunRequest(runtime: TenantRuntime, template: JobTemplate, parameters: Readonly<Record<string, string>>, run: RunOptions): StartJobRunRequest {
  validateRun(runtime, run);
  const rendered = renderJobTemplate(runtime, template, parameters);
  const conf = runConf(runtime, run);
  const jobDriver: StartJobRunRequest['jobDriver'] =
    'sparkSubmitJobDriver' in rendered.jobDriver
      ? {
          sparkSubmitJobDriver: {
            ...rendered.jobDriver.sparkSubmitJobDriver,
            ...(Object.keys(conf).length > 0 ? { sparkSubmitParameters: confFlags(conf) } : {}),
          },
        }
      : {
          sparkSqlJobDriver: {
            entryPoint: rendered.jobDriver.sparkSqlJobDriver.entryPoint,
            ...optional('sparkSqlParameters', sqlParameters({}, conf, rendered.jobDriver.sparkSqlJobDriver.sparkSqlParameters)),
          },
        };
  return {
    name: run.name,
    virtualClusterId: runtime.virtualClusterId,
    clientToken: run.clientToken,
    executionRoleArn: runtime.executionRoleArn,
    releaseLabel: run.releaseLabel ?? rendered.releaseLabel,
    jobDriver,
    configurationOverrides: runOverrides(rendered.configurationOverrides, runtime, run),
    retryPolicyConfiguration: { maxAttempts: run.maxAttempts ?? rendered.retryPolicy.maxAttempts },
    tags: { ...rendered.jobTags, ...run.tags },
  };
}

/** Where a submitted job's logs land. */
export function logLocations(runtime: TenantRuntime, jobRunId: string): string[] {
  const monitoring = runtime.configurationOverrides.monitoringConfiguration;
  return [
    `CloudWatch Logs: group ${monitoring.cloudWatchMonitoringConfiguration.logGroupName}, streams ${monitoring.cloudWatchMonitoringConfiguration.logStreamNamePrefix}/${runtime.virtualClusterId}/jobs/${jobRunId}/...`,
    `S3: ${monitoring.s3MonitoringConfiguration.logUri}${runtime.virtualClusterId}/jobs/${jobRunId}/`,
    `Spark event logs (history): s3://${runtime.bucket}/spark-events/`,
  ];
}
