import { defineContract, type StackContract } from '../lib/contracts.js';

/**
 * Construct id of the tenant's data bucket and its KMS key: what `data.retainOnDelete` keeps when
 * the stack is destroyed (`npm run tenant-data -- release|adopt` works on everything under it).
 */
export const RETAINED_DATA_ID = 'data';

/** Stack name of a tenant (= Nx project name, state key `<env>/tenant-<name>.tfstate`). */
export function tenantStackName(tenant: string): string {
  return `tenant-${tenant}`;
}

export const TENANT_OUTPUTS = {
  namespace: 'string',
  virtualClusterId: 'string',
  virtualClusterArn: 'string',
  executionRoleArn: 'string',
  releaseLabel: 'string',
  bucket: 'string',
  logGroup: 'string',
  logUri: 'string',
  driverPodTemplateUri: 'string',
  executorPodTemplateUri: 'string',
  submitterPolicyArn: 'string',
  configurationOverrides: 'string',
  retryPolicyConfiguration: 'string',
  jobTemplateIds: 'string',
  notificationTopicArn: 'string',
} as const;

/** What a `tenant-<name>` stack publishes: everything job submission needs. */
export function tenantContract(tenant: string): StackContract<typeof TENANT_OUTPUTS> {
  return defineContract({
    stack: tenantStackName(tenant),
    outputs: TENANT_OUTPUTS,
    descriptions: {
      namespace: 'Kubernetes namespace of the tenant',
      virtualClusterId: 'EMR on EKS virtual cluster id (start-job-run --virtual-cluster-id)',
      virtualClusterArn: 'EMR on EKS virtual cluster ARN',
      executionRoleArn: 'Job execution role ARN (start-job-run --execution-role-arn)',
      releaseLabel: "The tenant's default EMR release label (start-job-run --release-label)",
      bucket: 'Tenant data bucket (code, data, results, logs, pod templates)',
      logGroup: 'CloudWatch log group of the jobs',
      logUri: 'S3 prefix for job logs (monitoringConfiguration.s3MonitoringConfiguration.logUri)',
      driverPodTemplateUri: 'S3 URI of the driver pod template (spark.kubernetes.driver.podTemplateFile)',
      executorPodTemplateUri: 'S3 URI of the executor pod template (spark.kubernetes.executor.podTemplateFile)',
      submitterPolicyArn: "Managed policy to attach to the owners' roles to submit and follow jobs",
      configurationOverrides:
        'JSON for start-job-run --configuration-overrides: pod templates, job submitter placement, dynamic allocation, decommissioning, event logs, metastore and monitoring of this tenant',
      retryPolicyConfiguration: 'JSON for start-job-run --retry-policy-configuration: the tenant default maxAttempts',
      jobTemplateIds: 'JSON object job name -> EMR job template id (start-job-run --job-template-id)',
      notificationTopicArn: 'SNS topic of job-run notifications (empty without notifications in the tenant file)',
    },
  });
}
