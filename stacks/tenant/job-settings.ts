/**
 * What a tenant's jobs run with, derived from the tenant file and the environment alone: the
 * deterministic names the tenant stack creates (bucket, role, log group, pod template URIs), the
 * `configurationOverrides` it publishes, and its job templates. The stack and the job CLI share
 * this, so a dry-run request matches what a deployed stack outputs.
 */
import { partitionOf } from '../../modules/iam/policy.js';
import { tenantLogGroupName } from '../../modules/observability/log-groups.js';
import { type ConfigurationOverrides, type JobDefaults, tenantJobDefaults, toConfigurationOverrides } from '../../modules/tenant/job-defaults.js';
import { jobExecutionRoleName, tenantBucketName, type TenantNameScope } from '../../modules/tenant/naming.js';
import type { PlacementOptions } from '../../modules/tenant/pod-templates.js';
import { POD_TEMPLATE_PREFIX } from '../../modules/emr-on-eks/policies.js';
import type { Environment } from '../lib/environment.js';
import type { TenantConfig } from '../lib/tenant-config.js';

export type { ConfigurationOverrides } from '../../modules/tenant/job-defaults.js';

/** Where the platform writes a tenant's pod templates in its bucket. */
export const POD_TEMPLATE_KEYS = {
  driver: `${POD_TEMPLATE_PREFIX}driver.yaml`,
  executor: `${POD_TEMPLATE_PREFIX}executor.yaml`,
} as const;

/** Prefix of S3 job logs in the tenant bucket. */
export const LOG_PREFIX = 'logs/';

/** CloudWatch stream prefix of EMR job logs in the tenant log group. */
export const JOB_LOG_STREAM_PREFIX = 'jobs';

export interface TenantJobSettings {
  readonly namespace: string;
  readonly bucket: string;
  readonly executionRoleName: string;
  readonly executionRoleArn: string;
  readonly releaseLabel: string;
  readonly logGroup: string;
  readonly logUri: string;
  readonly driverPodTemplateUri: string;
  readonly executorPodTemplateUri: string;
  /** The structured defaults (classification -> properties), before serialization. */
  readonly jobDefaults: JobDefaults;
  /** `jobDefaults` as StartJobRun `configurationOverrides` (published as JSON by the stack). */
  readonly configurationOverrides: ConfigurationOverrides;
  /** StartJobRun `retryPolicy` of jobs that set none. */
  readonly retryPolicy: { readonly maxAttempts: number };
  readonly placement: PlacementOptions;
}

/** The placement options of a tenant file, as the pod template module takes them. */
export function placementOf(tenant: TenantConfig): PlacementOptions {
  return {
    tenant: tenant.name,
    ...(tenant.spark.zone ? { zone: tenant.spark.zone } : {}),
    architecture: tenant.spark.architecture,
    driverCapacity: tenant.spark.driverCapacity,
    executorCapacity: tenant.spark.executorCapacity,
    localStorage: tenant.spark.localStorage,
    dedicatedNodes: tenant.spark.dedicatedNodes,
    verticalAutoscaling: tenant.emr.verticalAutoscaling,
  };
}

export function tenantJobSettings(environment: Environment, tenant: TenantConfig): TenantJobSettings {
  const names: TenantNameScope = { clusterName: environment.clusterName, tenant: tenant.name };
  const bucket = tenantBucketName({ ...names, accountId: environment.accountId, region: environment.region });
  const uri = (key: string) => `s3://${bucket}/${key}`;
  const executionRoleName = jobExecutionRoleName(names);
  const logGroup = tenantLogGroupName(environment.name, tenant.name);
  const placement = placementOf(tenant);
  const driverPodTemplateUri = uri(POD_TEMPLATE_KEYS.driver);
  const executorPodTemplateUri = uri(POD_TEMPLATE_KEYS.executor);
  const jobDefaults = tenantJobDefaults({
    placement,
    bucket,
    podTemplateUris: { driver: driverPodTemplateUri, executor: executorPodTemplateUri },
    logGroupName: logGroup,
    logStreamPrefix: JOB_LOG_STREAM_PREFIX,
    logUri: uri(LOG_PREFIX),
    executors: tenant.jobDefaults.executors,
    glueCatalog: tenant.data.glueDatabases.length > 0,
  });
  return {
    namespace: tenant.name,
    bucket,
    executionRoleName,
    executionRoleArn: `arn:${partitionOf(environment.region)}:iam::${environment.accountId}:role/${executionRoleName}`,
    releaseLabel: tenant.emr.releaseLabel,
    logGroup,
    logUri: uri(LOG_PREFIX),
    driverPodTemplateUri,
    executorPodTemplateUri,
    placement,
    jobDefaults,
    configurationOverrides: toConfigurationOverrides(jobDefaults),
    retryPolicy: { maxAttempts: tenant.jobDefaults.maxAttempts },
  };
}
