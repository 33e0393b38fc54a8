/**
 * Names of the platform's cost resources, derived from the environment alone, so the stacks that
 * create them, OpenCost's configuration and `npm run cost` agree without reading any state.
 */
import { boundedName, S3_BUCKET_NAME } from '../tenant/naming.js';

export interface CostNameScope {
  readonly clusterName: string;
  readonly accountId: string;
  readonly region: string;
}

function lowerDns(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

/** `<cluster>-<purpose>-<account>-<region>`, shortened with a hash when longer than 63 characters. */
function bucketName(scope: CostNameScope, purpose: string): string {
  const suffix = `-${scope.accountId}-${scope.region}`;
  const name = `${boundedName(lowerDns(`${scope.clusterName}-${purpose}`), 63 - suffix.length)}${suffix}`;
  if (!S3_BUCKET_NAME.test(name)) throw new Error(`derived ${purpose} bucket name "${name}" is not a valid S3 bucket name`);
  return name;
}

/** Bucket the EC2 Spot Instance data feed writes into (one feed per account). */
export function spotDataFeedBucketName(scope: CostNameScope): string {
  return bucketName(scope, 'spot-data-feed');
}

/** Prefix of the Spot data feed files in their bucket (no slashes: OpenCost lists `<prefix>/<account>.<date>`). */
export const SPOT_DATA_FEED_PREFIX = 'spot-data-feed';

/** Bucket of the CUR 2.0 export and of Athena's query results. */
export function costReportsBucketName(scope: CostNameScope): string {
  return bucketName(scope, 'cost-reports');
}

/** Prefix of the CUR 2.0 export in its bucket. */
export const DATA_EXPORT_PREFIX = 'cur2';
/** Prefix of Athena query results in the cost reports bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

/** Data export names are 1-128 characters of `[0-9A-Za-z!-_.*'()]`. */
export function dataExportName(clusterName: string): string {
  return boundedName(`${clusterName}-cur2`, 128);
}

/** Glue database of the cost tables and views (Glue and Athena want lower case, `_` not `-`). */
export function costDatabaseName(clusterName: string): string {
  return `${clusterName.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_cost`;
}

/** Glue table over the CUR 2.0 export's Parquet files. */
export const CUR_TABLE = 'cur2';
/** Athena view of cost per tenant, per job and per kind of cost (rows: compute, emr-uplift, tenant-resources). */
export const JOB_COST_VIEW = 'job_cost';

/** Athena workgroup of cost queries (results in the cost reports bucket, encrypted). */
export function athenaWorkgroupName(clusterName: string): string {
  return `${clusterName}-cost`;
}

/** `s3://<bucket>/<DATA_EXPORT_PREFIX>/<export>/data/`: where the export writes its Parquet files, one folder per billing period. */
export function dataExportDataLocation(bucket: string, exportName: string): string {
  return `s3://${bucket}/${DATA_EXPORT_PREFIX}/${exportName}/data/`;
}
