import { Fn } from 'cdktf';
import type { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { EmrcontainersJobTemplate } from '@cdktf/provider-aws/lib/emrcontainers-job-template/index.js';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy/index.js';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { TENANT_TAG_KEY } from '../../modules/guardrails/tags.js';
import { EmrJobExecutionRole, type JobIdentity } from '../../modules/emr-on-eks/job-execution-role.js';
import { JobNotifications } from '../../modules/emr-on-eks/job-notifications.js';
import { executionRolePolicy, submitterPolicy } from '../../modules/emr-on-eks/policies.js';
import { EmrVirtualCluster } from '../../modules/emr-on-eks/virtual-cluster.js';
import { policyJson } from '../../modules/iam/policy.js';
import { KubernetesObject } from '../../modules/k8s/manifest.js';
import { tenantBudgetPrometheusRule } from '../../modules/observability/tenant-budget.js';
import { SecureBucket } from '../../modules/storage/secure-bucket.js';
import { TenantAccess } from '../../modules/tenant/access.js';
import { boundedName, submitterPolicyName, type TenantNameScope, virtualClusterName } from '../../modules/tenant/naming.js';
import { tenantNodePools } from '../../modules/tenant/node-pools.js';
import { podTemplateYaml } from '../../modules/tenant/pod-templates.js';
import { TenantNamespace } from '../../modules/tenant/tenant-namespace.js';
import { publishOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { PlatformStack } from '../lib/platform-stack.js';
import type { JobTemplate } from '../lib/job-templates.js';
import { tenantCapacityLimit, tenantDriverClassPlaceholders, tenantResourceQuota } from '../lib/scheduling-config.js';
import type { TenantConfig } from '../lib/tenant-config.js';
import { RETAINED_DATA_ID, tenantContract, tenantStackName } from './contract.js';
import { POD_TEMPLATE_KEYS, tenantJobSettings } from './job-settings.js';
import { jobTemplateName, renderJobTemplate } from './job-templates.js';

/**
 * Layer 4, one per `tenants/<name>/tenant.yaml`: the tenant's namespace-as-a-service, EMR on EKS
 * virtual cluster, job execution role, data bucket, log group, pod templates, access entries,
 * job templates and (optionally) job-run notifications, dedicated NodePools and the PrometheusRule
 * of its daily cost budget. AWS and kubernetes providers; reads the `cluster` state. Every AWS
 * resource is tagged platform:tenant.
 */
export class TenantStack extends PlatformStack {
  readonly tenant: TenantConfig;
  readonly namespace: TenantNamespace;
  readonly bucket: SecureBucket;
  readonly executionRole: EmrJobExecutionRole;
  readonly virtualCluster: EmrVirtualCluster;
  readonly submitterPolicy: IamPolicy;
  readonly jobTemplates: Record<string, EmrcontainersJobTemplate> = {};
  readonly notifications?: JobNotifications;

  constructor(scope: Construct, environment: Environment, tenant: TenantConfig, jobTemplates: readonly JobTemplate[] = []) {
    // platform:tenant on every AWS resource: showback per tenant in Cost Explorer and the CUR export.
    super(scope, tenantStackName(tenant.name), { environment, tags: { [TENANT_TAG_KEY]: tenant.name } });
    this.tenant = tenant;
    const { cluster } = connectToCluster(this);
    const names: TenantNameScope = { clusterName: environment.clusterName, tenant: tenant.name };
    const { accountId, region } = environment;
    const account = { partition: this.partition, region, accountId };

    this.namespace = new TenantNamespace(this, 'namespace', {
      tenant: tenant.name,
      // With YuniKorn, above the queue max (pods over it wait in the queue, see scheduling-config.ts).
      quota: { ...tenantResourceQuota(environment, tenant), ...(tenant.quota.pods !== undefined ? { pods: tenant.quota.pods } : {}) },
      podSecurityVersion: `v${environment.kubernetesVersion}`,
      ...(tenant.description ? { description: tenant.description } : {}),
      podIdentityAgent: tenant.emr.identity === 'pod-identity',
      maxConcurrentJobs: tenant.quota.maxConcurrentJobs,
      // YuniKorn's gang placeholders inherit the driver's PriorityClass (see scheduling-config.ts).
      driverClassPlaceholdersPerJob: tenantDriverClassPlaceholders(environment, tenant),
      serviceTypes: tenant.network.serviceTypes,
      egress: tenant.network.egress,
      ingress: tenant.network.ingress,
    });

    // The budget as a series for the platform's TenantDailyCostOverBudget alert: the tenant's own
    // object, so setting or changing it plans only this stack.
    const dailyBudgetUsd = tenant.cost?.dailyBudgetUsd;
    if (dailyBudgetUsd !== undefined) {
      new KubernetesObject(this, 'cost-budget', {
        object: tenantBudgetPrometheusRule({ tenant: tenant.name, dailyBudgetUsd }),
        dependsOn: [this.namespace.namespace.manifest],
      });
    }

    const settings = tenantJobSettings(environment, tenant);
    const bucketName = settings.bucket;
    this.bucket = new SecureBucket(this, RETAINED_DATA_ID, {
      bucketName,
      // retainOnDelete: Terraform refuses to destroy the bucket and its key; otherwise destroying
      // the tenant empties and deletes the bucket.
      preventDestroy: tenant.data.retainOnDelete,
      forceDestroy: !tenant.data.retainOnDelete,
      abortIncompleteMultipartUploadDays: 7,
    });
    const logGroup = new CloudwatchLogGroup(this, 'job-logs', { name: settings.logGroup, retentionInDays: environment.logRetentionDays });

    const identity: JobIdentity =
      tenant.emr.identity === 'irsa'
        ? { type: 'irsa', oidcProviderArn: cluster.oidcProviderArn, oidcIssuerHostPath: cluster.oidcIssuerHostPath }
        : { type: 'pod-identity', clusterName: cluster.clusterName, clusterArn: cluster.clusterArn };
    this.executionRole = new EmrJobExecutionRole(this, 'job-execution', {
      roleName: settings.executionRoleName,
      namespace: tenant.name,
      accountId,
      identity,
      description: `EMR on EKS jobs of tenant ${tenant.name} on ${environment.clusterName}`,
      permissions: executionRolePolicy({
        ...account,
        bucketArn: this.bucket.bucket.arn,
        kmsKeyArn: this.bucket.kmsKeyArn,
        logGroupArn: logGroup.arn,
        readBucketArns: tenant.data.readBuckets,
        glueDatabases: tenant.data.glueDatabases,
      }),
    });

    this.virtualCluster = new EmrVirtualCluster(this, 'emr', {
      name: virtualClusterName(names),
      eksClusterName: cluster.clusterName,
      namespace: tenant.name,
      dependsOn: [this.namespace.namespace.manifest],
    });

    // Job templates: each carries the tenant's defaults, rendered with its parameters' defaults.
    for (const template of jobTemplates) {
      const job = renderJobTemplate(settings, template);
      this.jobTemplates[template.name] = new EmrcontainersJobTemplate(this, `job-template-${template.name}`, {
        name: jobTemplateName(template),
        jobTemplateData: {
          executionRoleArn: this.executionRole.role.arn,
          releaseLabel: job.releaseLabel,
          jobDriver:
            'sparkSubmitJobDriver' in job.jobDriver
              ? { sparkSubmitJobDriver: job.jobDriver.sparkSubmitJobDriver }
              : { sparkSqlJobDriver: job.jobDriver.sparkSqlJobDriver },
          configurationOverrides: {
            applicationConfiguration: job.configurationOverrides.applicationConfiguration,
            monitoringConfiguration: {
              persistentAppUi: job.configurationOverrides.monitoringConfiguration.persistentAppUI,
              cloudWatchMonitoringConfiguration: job.configurationOverrides.monitoringConfiguration.cloudWatchMonitoringConfiguration,
              s3MonitoringConfiguration: job.configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration,
            },
          },
          jobTags: { ...job.jobTags },
        },
      });
    }

    if (tenant.notifications) {
      const notified = tenant.notifications;
      this.notifications = new JobNotifications(this, 'job-notifications', {
        ...account,
        virtualClusterId: this.virtualCluster.id,
        topicName: boundedName(`${environment.clusterName}-${tenant.name}-job-runs`, 256),
        ruleName: boundedName(`${environment.clusterName}-${tenant.name}-job-runs`, 64),
        states: notified.states,
        emails: notified.emails,
        sqsQueueArns: notified.sqsQueueArns,
        snsTopicArns: notified.snsTopicArns,
        description: `EMR on EKS job runs of tenant ${tenant.name} (${notified.states.join(', ')})`,
      });
    }

    this.submitterPolicy = new IamPolicy(this, 'submitter-policy', {
      name: submitterPolicyName(names),
      description: `Submit and follow EMR on EKS jobs of tenant ${tenant.name}: attach to the team's roles`,
      policy: policyJson(
        submitterPolicy({
          virtualClusterArn: this.virtualCluster.arn,
          executionRoleArn: this.executionRole.role.arn,
          bucketArn: this.bucket.bucket.arn,
          kmsKeyArn: this.bucket.kmsKeyArn,
          logGroupArn: logGroup.arn,
          clusterArn: cluster.clusterArn,
          jobTemplateArns: Object.values(this.jobTemplates).map((t) => t.arn),
          account,
        }),
      ),
    });

    new TenantAccess(this, 'access', {
      clusterName: cluster.clusterName,
      tenant: tenant.name,
      ownerRoleArns: tenant.owners,
      partition: this.partition,
    });

    // Built with the job defaults (job-defaults.ts): placement, and YuniKorn's routing when enabled.
    const pods = settings.jobDefaults.podTemplates;
    const header = `Pod template of tenant ${tenant.name}, written by the platform (stack ${this.stackName}) from ${tenant.file}.\nDo not edit: change the tenant file and deploy.`;
    const templates = {
      driver: new S3Object(this, 'driver-pod-template', {
        bucket: this.bucket.bucket.id,
        key: POD_TEMPLATE_KEYS.driver,
        content: podTemplateYaml(pods.driver, 'driver', header),
        contentType: 'application/yaml',
        serverSideEncryption: 'aws:kms',
        kmsKeyId: this.bucket.kmsKeyArn,
      }),
      executor: new S3Object(this, 'executor-pod-template', {
        bucket: this.bucket.bucket.id,
        key: POD_TEMPLATE_KEYS.executor,
        content: podTemplateYaml(pods.executor, 'executor', header),
        contentType: 'application/yaml',
        serverSideEncryption: 'aws:kms',
        kmsKeyId: this.bucket.kmsKeyArn,
      }),
    };

    if (tenant.spark.dedicatedNodes) {
      const pools = tenantNodePools({
        tenant: tenant.name,
        architecture: tenant.spark.architecture,
        driverCapacity: tenant.spark.driverCapacity,
        executorCapacity: tenant.spark.executorCapacity,
        localStorage: tenant.spark.localStorage,
        ...(tenant.spark.zone ? { zone: tenant.spark.zone } : {}),
        limits: tenantCapacityLimit(environment, tenant),
        // The environment's capacity model: instance choice, Spot, grace periods, budget, freeze window.
        compute: {
          spotEnabled: environment.compute.spotEnabled,
          instanceCategories: environment.compute.instanceCategories,
          instanceFamilies: environment.compute.instanceFamilies,
          minInstanceGeneration: environment.compute.minInstanceGeneration,
          instanceCpu: environment.compute.instanceCpu,
          pools: environment.compute.pools,
          disruptionBudget: environment.compute.disruptionBudget,
          ...(environment.compute.executorDisruptionFreeze ? { executorDisruptionFreeze: environment.compute.executorDisruptionFreeze } : {}),
        },
      });
      for (const pool of pools) new KubernetesObject(this, `node-pool-${pool.metadata!.name!}`, { object: pool });
    }

    publishOutputs(this, tenantContract(tenant.name), {
      namespace: tenant.name,
      virtualClusterId: this.virtualCluster.id,
      virtualClusterArn: this.virtualCluster.arn,
      executionRoleArn: this.executionRole.role.arn,
      releaseLabel: tenant.emr.releaseLabel,
      bucket: this.bucket.bucket.bucket,
      logGroup: logGroup.name,
      logUri: settings.logUri,
      driverPodTemplateUri: `s3://${templates.driver.bucket}/${templates.driver.key}`,
      executorPodTemplateUri: `s3://${templates.executor.bucket}/${templates.executor.key}`,
      submitterPolicyArn: this.submitterPolicy.arn,
      // Literal (deterministic names), so the JSON is plain text in the output.
      configurationOverrides: JSON.stringify(settings.configurationOverrides),
      retryPolicyConfiguration: JSON.stringify(settings.retryPolicy),
      jobTemplateIds: Object.keys(this.jobTemplates).length > 0 ? Fn.jsonencode(Object.fromEntries(Object.entries(this.jobTemplates).map(([name, t]) => [name, t.id]))) : '{}',
      notificationTopicArn: this.notifications?.topic.arn ?? '',
    });
  }
}
