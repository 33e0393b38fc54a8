import type { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { CostAllocationTags } from '../../modules/cost/allocation-tags.js';
import { CostAnalytics } from '../../modules/cost/athena.js';
import { EMR_JOB_LABELS } from '../../modules/cost/cur.js';
import { CurDataExport } from '../../modules/cost/data-export.js';
import { athenaWorkgroupName, costDatabaseName, costReportsBucketName, dataExportName, JOB_COST_VIEW } from '../../modules/cost/names.js';
import { TENANT_TAG_KEY } from '../../modules/guardrails/tags.js';
import { publishOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { COST } from './contract.js';

/**
 * Tags activated for cost allocation: who owns a resource (tenant), which part of the platform it
 * is (layer, stack), where (environment, cluster), and the EMR job labels split cost allocation
 * data imports from the job's pods.
 */
export const COST_ALLOCATION_TAG_KEYS: readonly string[] = [
  TENANT_TAG_KEY,
  'platform:layer',
  'platform:stack',
  'platform:environment',
  'platform:cluster',
  EMR_JOB_LABELS.jobId,
  EMR_JOB_LABELS.virtualClusterId,
];

/**
 * The billing-accurate side of showback (AWS only, validated offline), behind the environment's
 * `cost` flags: the CUR 2.0 data export with split cost allocation data for EKS, its bucket, and
 * Athena over it (`cost.dataExport`); the platform's tags activated as cost allocation tags
 * (`cost.activateAllocationTags`, payer account only). With both off the stack holds nothing.
 */
export class CostStack extends PlatformStack {
  readonly dataExport?: CurDataExport;
  readonly analytics?: CostAnalytics;
  readonly allocationTags?: CostAllocationTags;

  constructor(scope: Construct, environment: Environment) {
    super(scope, COST.stack, { environment });
    const { clusterName, accountId, region, cost } = environment;
    let usEast1: AwsProvider | undefined;
    // Data Exports and Cost Explorer are us-east-1 APIs.
    const east = () => (usEast1 ??= this.awsProviderIn('us-east-1', 'us_east_1'));

    if (cost.dataExport) {
      const bucketName = costReportsBucketName({ clusterName, accountId, region });
      const exportName = dataExportName(clusterName);
      this.dataExport = new CurDataExport(this, 'data-export', { bucketName, exportName, accountId, region, partition: this.partition, usEast1: east() });
      this.analytics = new CostAnalytics(this, 'analytics', {
        clusterName,
        accountId,
        region,
        partition: this.partition,
        database: costDatabaseName(clusterName),
        workgroup: athenaWorkgroupName(clusterName),
        bucketName,
        exportName,
        readerPolicyName: `${clusterName}-cost-reader`,
      });
    }
    if (cost.activateAllocationTags) this.allocationTags = new CostAllocationTags(this, 'allocation-tags', { tagKeys: COST_ALLOCATION_TAG_KEYS, provider: east() });

    const analytics = this.analytics;
    publishOutputs(this, COST, {
      reportsBucket: this.dataExport ? this.dataExport.bucket.bucket.bucket : '',
      dataExportArn: this.dataExport ? this.dataExport.export.export.get(0).exportArn : '',
      database: analytics ? analytics.database.name : '',
      workgroup: analytics ? analytics.workgroup.name : '',
      jobCostView: analytics ? `${analytics.database.name}.${JOB_COST_VIEW}` : '',
      readerPolicyArn: analytics ? analytics.readerPolicy.arn : '',
    });
  }
}
