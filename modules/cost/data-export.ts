/**
 * The CUR 2.0 data export (AWS Data Exports, `aws_bcmdataexports_export`) with split cost
 * allocation data for EKS, into a bucket of its own whose policy lets only Data Exports of this
 * account write. The Data Exports API lives in us-east-1: the export is created through a provider
 * for that region, while the bucket stays in the environment's region.
 */
import { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { BcmdataexportsExport } from '@cdktf/provider-aws/lib/bcmdataexports-export/index.js';
import { suppressRule } from '../guardrails/suppressions.js';
import type { PolicyStatement } from '../iam/policy.js';
import { SecureBucket } from '../storage/secure-bucket.js';
import { CUR_TABLE_CONFIGURATION, exportQueryStatement } from './cur.js';
import { ATHENA_RESULTS_PREFIX, DATA_EXPORT_PREFIX } from './names.js';

/** The service principals that deliver (and check the policy of) a data export's bucket. */
export const DATA_EXPORT_PRINCIPALS = ['billingreports.amazonaws.com', 'bcm-data-exports.amazonaws.com'] as const;

export interface DataExportBucketPolicyProps {
  readonly bucketArn: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
}

/**
 * Data Exports may put objects and read the bucket policy (it checks the policy before each
 * delivery), only for exports and CUR definitions of this account (the policy AWS documents for
 * a Data Exports bucket, "Setting up an Amazon S3 bucket for data exports").
 */
export function dataExportBucketStatements(props: DataExportBucketPolicyProps): PolicyStatement[] {
  const partition = props.partition ?? 'aws';
  return [
    {
      Sid: 'EnableAWSDataExportsToWriteToS3AndCheckPolicy',
      Effect: 'Allow',
      Principal: { Service: [...DATA_EXPORT_PRINCIPALS] },
      Action: ['s3:PutObject', 's3:GetBucketPolicy'],
      Resource: [props.bucketArn, `${props.bucketArn}/*`],
      Condition: {
        StringLike: {
          'aws:SourceAccount': props.accountId,
          'aws:SourceArn': [`arn:${partition}:cur:us-east-1:${props.accountId}:definition/*`, `arn:${partition}:bcm-data-exports:us-east-1:${props.accountId}:export/*`],
        },
      },
    },
  ];
}

export interface CurDataExportProps {
  /** Exact bucket name. */
  readonly bucketName: string;
  /** Export name (unique in the account). */
  readonly exportName: string;
  readonly accountId: string;
  /** Region of the bucket. */
  readonly region: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** An AWS provider for us-east-1, where the Data Exports API is. */
  readonly usEast1: AwsProvider;
  /**
   * Days the query results of Athena are kept.
   * @default 30
   */
  readonly queryResultDays?: number;
}

export class CurDataExport extends Construct {
  readonly bucket: SecureBucket;
  readonly export: BcmdataexportsExport;

  constructor(scope: Construct, id: string, props: CurDataExportProps) {
    super(scope, id);
    this.bucket = new SecureBucket(this, 'reports', {
      bucketName: props.bucketName,
      // Billing history: Terraform refuses to destroy it (remove it from state to keep the data).
      preventDestroy: true,
      // Data Exports writes as its service principal; AWS documents the bucket policy for it and
      // no key policy, so the export bucket keeps S3-managed encryption.
      serverSideEncryption: 'AES256',
      expirations: [{ prefix: ATHENA_RESULTS_PREFIX, days: props.queryResultDays ?? 30 }],
      extraPolicyStatements: dataExportBucketStatements({ bucketArn: `arn:${props.partition ?? 'aws'}:s3:::${props.bucketName}`, accountId: props.accountId, ...(props.partition ? { partition: props.partition } : {}) }),
    });
    suppressRule(
      this.bucket,
      'S3-002',
      'AWS Data Exports delivers into this bucket as its service principal; AWS documents the bucket policy it needs and no KMS key policy, so the bucket uses SSE-S3 (AES256). Access stays behind the bucket policy and IAM.',
    );

    this.export = new BcmdataexportsExport(this, 'cur2', {
      provider: props.usEast1,
      export: [
        {
          name: props.exportName,
          description: `CUR 2.0 with split cost allocation data for EKS, for showback per tenant and per Spark job (${props.bucketName}/${DATA_EXPORT_PREFIX})`,
          dataQuery: [{ queryStatement: exportQueryStatement(), tableConfigurations: CUR_TABLE_CONFIGURATION }],
          destinationConfigurations: [
            {
              s3Destination: [
                {
                  s3Bucket: this.bucket.bucket.bucket,
                  s3Prefix: DATA_EXPORT_PREFIX,
                  s3Region: props.region,
                  s3OutputConfigurations: [{ format: 'PARQUET', compression: 'PARQUET', outputType: 'CUSTOM', overwrite: 'OVERWRITE_REPORT' }],
                },
              ],
            },
          ],
          refreshCadence: [{ frequency: 'SYNCHRONOUS' }],
        },
      ],
      // Data Exports checks the bucket policy when the export is created.
      dependsOn: [this.bucket.policy],
    });
  }
}
