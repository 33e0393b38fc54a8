/**
 * Builds EMR on EKS `StartJobRun` requests for a tenant: the tenant's published settings (pod
 * templates, local storage, Spot decommissioning, Prometheus endpoints, logging) plus the job's
 * own driver, Spark conf, dynamic allocation with shuffle tracking, single-AZ placement of every
 * pod including the job submitter, and the vertical autoscaling signature when the tenant uses it.
 */
import type { StartJobRunRequest } from '@aws-sdk/client-emr-containers';
import { VERTICAL_AUTOSCALING } from '../../modules/tenant/pod-templates.js';
import { WELL_KNOWN } from '../../modules/scheduling/spark-pools.js';
import type { ConfigurationOverrides, TenantJobSettings } from '../../stacks/tenant/job-settings.js';

export type JobDriverOptions =
  | { readonly type: 'spark-submit'; readonly entryPoint: string; readonly arguments: readonly string[] }
  | { readonly type: 'spark-sql'; readonly entryPoint: string; readonly hivevars: Readonly<Record<string, string>> };

export interface JobOptions {
  /** Job run name (1-64 chars). */
  readonly name: string;
  readonly driver: JobDriverOptions;
  /** Extra Spark conf for this job; wins over every default below. */
  readonly conf: Readonly<Record<string, string>>;
  /** @default the tenant's releaseLabel */
  readonly releaseLabel?: string;
  /**
   * Availability Zone for every pod of the job (driver, executors, job submitter). Must equal the
   * tenant's `spark.zone` when the tenant pins one.
   * @default the tenant's zone; otherwise executors follow their driver's zone
   */
  readonly zone?: string;
  /** Dynamic allocation bounds. @default 1 and 50 */
  readonly minExecutors?: number;
  readonly maxExecutors?: number;
  /** Vertical autoscaling signature (tenants with `emr.verticalAutoscaling`). @default the job name */
  readonly signature?: string;
  /**
   * Spill blocks of decommissioned Spot executors to S3 when no peer can take them.
   * @default false
   */
  readonly fallbackStorage?: boolean;
  /** Idempotency token. */
  readonly clientToken: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface TenantRuntime extends Omit<TenantJobSettings, 'configurationOverrides'> {
  readonly virtualClusterId: string;
  readonly configurationOverrides: ConfigurationOverrides;
}

/** Spark settings every job gets: executors scale with the work and keep shuffle data while needed. */
export function dynamicAllocationConf(min: number, max: number): Record<string, string> {
  return {
    'spark.dynamicAllocation.enabled': 'true',
    // No external shuffle service on Kubernetes: executors holding shuffle data stay until it is unused.
    'spark.dynamicAllocation.shuffleTracking.enabled': 'true',
    'spark.dynamicAllocation.minExecutors': String(min),
    'spark.dynamicAllocation.maxExecutors': String(max),
    'spark.dynamicAllocation.executorIdleTimeout': '60s',
    'spark.dynamicAllocation.shuffleTracking.timeout': '600s',
  };
}

export class JobRequestError extends Error {
  override name = 'JobRequestError';
}

const JOB_NAME = /^[\.\-_/#A-Za-z0-9]{1,64}$/;

function validate(runtime: TenantRuntime, job: JobOptions): void {
  if (!JOB_NAME.test(job.name)) throw new JobRequestError(`--name: expected 1-64 characters of A-Z a-z 0-9 . _ / # -, found ${JSON.stringify(job.name)}`);
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(job.driver.entryPoint)) {
    throw new JobRequestError(`entry point: expected an S3 URI such as s3://${runtime.bucket}/code/job.py, found ${JSON.stringify(job.driver.entryPoint)}`);
  }
  if (job.driver.type === 'spark-sql' && !job.driver.entryPoint.endsWith('.sql')) {
    throw new JobRequestError(`--sql: expected an S3 URI of a .sql file, found ${JSON.stringify(job.driver.entryPoint)}`);
  }
  const tenantZone = runtime.placement.zone;
  if (job.zone && tenantZone && job.zone !== tenantZone) {
    throw new JobRequestError(`--zone: expected ${tenantZone} (tenant ${runtime.namespace} pins every job to it), found ${JSON.stringify(job.zone)}`);
  }
  const min = job.minExecutors ?? 1;
  const max = job.maxExecutors ?? 50;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 1 || min > max) {
    throw new JobRequestError(`--min-executors/--max-executors: expected integers with 0 <= min <= max and max >= 1, found ${min} and ${max}`);
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

export function buildStartJobRunRequest(runtime: TenantRuntime, job: JobOptions): StartJobRunRequest {
  validate(runtime, job);
  const zone = job.zone ?? runtime.placement.zone;
  const jobConf: Record<string, string> = {
    ...dynamicAllocationConf(job.minExecutors ?? 1, job.maxExecutors ?? 50),
    // Driver and executors in one zone: no cross-AZ shuffle traffic or charges.
    ...(zone ? { [`spark.kubernetes.node.selector.${WELL_KNOWN.zone}`]: zone } : {}),
    ...(runtime.placement.verticalAutoscaling ? { [`spark.kubernetes.driver.annotation.${VERTICAL_AUTOSCALING.signature}`]: job.signature ?? job.name } : {}),
    ...(job.fallbackStorage ? { 'spark.storage.decommission.fallbackStorage.path': `s3://${runtime.bucket}/spark-fallback/${job.name}/` } : {}),
    ...job.conf,
  };

  const jobDriver: StartJobRunRequest['jobDriver'] =
    job.driver.type === 'spark-submit'
      ? {
          sparkSubmitJobDriver: {
            entryPoint: job.driver.entryPoint,
            ...(job.driver.arguments.length > 0 ? { entryPointArguments: [...job.driver.arguments] } : {}),
            sparkSubmitParameters: confFlags(jobConf),
          },
        }
      : {
          sparkSqlJobDriver: {
            entryPoint: job.driver.entryPoint,
            sparkSqlParameters: [
              ...Object.entries(job.driver.hivevars).map(([key, value]) => `-hivevar ${key}=${quote(value)}`),
              confFlags(jobConf),
            ]
              .filter(Boolean)
              .join(' '),
          },
        };

  // The job submitter pod is not a Spark pod: it cannot use the driver pool, so it goes on-demand to
  // the general pool, in the job's zone when there is one.
  const submitterPlacement: Record<string, string> = {
    [`jobsubmitter.node.selector.${WELL_KNOWN.capacityType}`]: 'on-demand',
    ...(zone ? { [`jobsubmitter.node.selector.${WELL_KNOWN.zone}`]: zone } : {}),
  };
  const applicationConfiguration = [
    ...runtime.configurationOverrides.applicationConfiguration.filter((c) => c.classification !== 'emr-job-submitter'),
    { classification: 'emr-job-submitter', properties: submitterPlacement },
  ];

  return {
    name: job.name,
    virtualClusterId: runtime.virtualClusterId,
    clientToken: job.clientToken,
    executionRoleArn: runtime.executionRoleArn,
    releaseLabel: job.releaseLabel ?? runtime.releaseLabel,
    jobDriver,
    configurationOverrides: {
      applicationConfiguration,
      monitoringConfiguration: runtime.configurationOverrides.monitoringConfiguration,
    },
    tags: { 'spark-platform:tenant': runtime.namespace, ...job.tags },
  };
}

/** Where a submitted job's logs land. */
export function logLocations(runtime: TenantRuntime, jobRunId: string): string[] {
  const monitoring = runtime.configurationOverrides.monitoringConfiguration;
  return [
    `CloudWatch Logs: group ${monitoring.cloudWatchMonitoringConfiguration.logGroupName}, streams ${monitoring.cloudWatchMonitoringConfiguration.logStreamNamePrefix}/${runtime.virtualClusterId}/jobs/${jobRunId}/...`,
    `S3: ${monitoring.s3MonitoringConfiguration.logUri}${runtime.virtualClusterId}/jobs/${jobRunId}/`,
  ];
}
