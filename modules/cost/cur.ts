/**
 * The CUR 2.0 side of showback, as data and SQL: which columns the data export writes, the Glue
 * schema over its Parquet files, and the Athena view that turns them into cost per tenant and per
 * job. Shared by the cost stack (which creates the export, table and view) and `npm run cost`
 * (which queries the view), so both always agree.
 *
 * Sources: AWS Data Exports table dictionary (CUR 2.0 columns and table configurations), the
 * split cost allocation data user guide (EKS pod rows: operation `EKSPod-EC2`, resource id
 * `arn:aws:eks:<region>:<account>:pod/<cluster>/<namespace>/<pod>/<uid>`, pod labels imported as
 * cost allocation tags), "Cost monitoring for Amazon EMR on Amazon EKS" (the EMR on EKS charge is
 * a line item whose resource id is the job run ARN
 * `arn:aws:emr-containers:<region>:<account>:/virtualclusters/<vc>/jobruns/<job>`); column types
 * as AWS's Cloud Intelligence Dashboards declare them for CUR 2.0 Parquet.
 */
import { EMR_JOB_LABELS } from '../emr-on-eks/job-labels.js';

/** One column of the export, with its Glue (Hive) type in the Parquet files. */
export interface CurColumn {
  readonly name: string;
  readonly type: string;
}

/** The CUR 2.0 columns the platform exports (a fixed schema: every column exists in every export). */
export const CUR_COLUMNS: readonly CurColumn[] = [
  { name: 'bill_billing_period_start_date', type: 'timestamp' },
  { name: 'identity_line_item_id', type: 'string' },
  { name: 'identity_time_interval', type: 'string' },
  { name: 'line_item_line_item_type', type: 'string' },
  { name: 'line_item_usage_account_id', type: 'string' },
  { name: 'line_item_usage_start_date', type: 'timestamp' },
  { name: 'line_item_usage_end_date', type: 'timestamp' },
  { name: 'line_item_product_code', type: 'string' },
  { name: 'line_item_usage_type', type: 'string' },
  { name: 'line_item_operation', type: 'string' },
  { name: 'line_item_resource_id', type: 'string' },
  { name: 'line_item_usage_amount', type: 'double' },
  { name: 'line_item_unblended_cost', type: 'double' },
  { name: 'line_item_net_unblended_cost', type: 'double' },
  { name: 'pricing_public_on_demand_cost', type: 'double' },
  { name: 'product_product_family', type: 'string' },
  { name: 'product_region_code', type: 'string' },
  { name: 'resource_tags', type: 'map<string,string>' },
  { name: 'split_line_item_parent_resource_id', type: 'string' },
  { name: 'split_line_item_split_usage_ratio', type: 'double' },
  { name: 'split_line_item_split_cost', type: 'double' },
  { name: 'split_line_item_unused_cost', type: 'double' },
  { name: 'split_line_item_net_split_cost', type: 'double' },
  { name: 'split_line_item_net_unused_cost', type: 'double' },
  { name: 'split_line_item_public_on_demand_split_cost', type: 'double' },
];

/** Partition column of the table: the export's `BILLING_PERIOD=YYYY-MM` folders. */
export const BILLING_PERIOD_COLUMN = 'billing_period';

/** The export's SQL (Data Exports accepts a column list over `COST_AND_USAGE_REPORT`). */
export function exportQueryStatement(): string {
  return `SELECT ${CUR_COLUMNS.map((c) => c.name).join(', ')} FROM COST_AND_USAGE_REPORT`;
}

/**
 * Table configuration of the export. All four keys are set (the provider requires all once one
 * is); changing any replaces the export. DAILY rows are enough for cost per day and job and are 24
 * times smaller than HOURLY; INCLUDE_RESOURCES adds `line_item_resource_id` (pod and job run ARNs).
 */
export const CUR_TABLE_CONFIGURATION: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  COST_AND_USAGE_REPORT: {
    TIME_GRANULARITY: 'DAILY',
    INCLUDE_RESOURCES: 'TRUE',
    INCLUDE_SPLIT_COST_ALLOCATION_DATA: 'TRUE',
    INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY: 'FALSE',
  },
};

/**
 * The key of a cost allocation tag in CUR 2.0's `resource_tags` map: `user_` then the tag key in
 * lower case with every other character `_` (CUR 1's `resource_tags_user_<key>` columns without
 * the prefix). Verify on the first delivered export (`SELECT map_keys(resource_tags) ...`).
 */
export function curUserTagKey(tagKey: string): string {
  return `user_${tagKey.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}

export { EMR_JOB_LABELS };

/** A column of the job cost view: its Athena (Trino) type in the view definition and Glue type in the catalog. */
export interface ViewColumn {
  readonly name: string;
  readonly trinoType: string;
  readonly glueType: string;
}

export const JOB_COST_COLUMNS: readonly ViewColumn[] = [
  { name: 'billing_period', trinoType: 'varchar', glueType: 'string' },
  { name: 'usage_date', trinoType: 'date', glueType: 'date' },
  { name: 'tenant', trinoType: 'varchar', glueType: 'string' },
  { name: 'virtual_cluster_id', trinoType: 'varchar', glueType: 'string' },
  { name: 'job_id', trinoType: 'varchar', glueType: 'string' },
  { name: 'cost_type', trinoType: 'varchar', glueType: 'string' },
  { name: 'cost_usd', trinoType: 'double', glueType: 'double' },
  { name: 'unused_cost_usd', trinoType: 'double', glueType: 'double' },
];

/** Kinds of cost rows of the view. */
export const COST_TYPES = {
  /** Pod rows of split cost allocation data: the tenant's share of its EC2 nodes (vCPU and memory). */
  compute: 'compute',
  /** The EMR on EKS charge of a job run, matched on its job run ARN. */
  emrUplift: 'emr-uplift',
  /** Everything else tagged platform:tenant (the tenant's bucket, key, logs, ...). */
  tenantResources: 'tenant-resources',
} as const;

/** LIKE pattern of EMR on EKS job run ARNs (`arn:aws:emr-containers:<region>:<account>:/virtualclusters/<vc>/jobruns/<job>`). */
export const JOB_RUN_ARN_PATTERN = 'arn:%:emr-containers:%:/virtualclusters/%/jobruns/%';

export interface JobCostViewScope {
  readonly database: string;
  readonly table: string;
  /** EKS cluster of the environment: pod rows of other clusters are left out. */
  readonly clusterName: string;
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a plain Athena identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The SELECT of the job cost view: one row per billing period, day, tenant, virtual cluster, job
 * and kind of cost. Tenants are namespaces (pod ARNs carry them, no tag needed); jobs come from the
 * `emr-containers.amazonaws.com/job.id` pod label (a cost allocation tag once activated); the EMR
 * charge is matched to the job through its job run ARN and to the tenant through the job's pods
 * (and left out of the tenant's tagged resources, should a job run carry platform:tenant too).
 * `element_at` returns NULL for a missing map key where `[]` would fail the query.
 */
export function jobCostViewSql(scope: JobCostViewScope): string {
  const table = `${quoteIdentifier(scope.database)}.${quoteIdentifier(scope.table)}`;
  const tag = (key: string) => `element_at(resource_tags, ${sqlString(curUserTagKey(key))})`;
  return `WITH pod_usage AS (
  SELECT
    ${BILLING_PERIOD_COLUMN} AS billing_period,
    CAST(line_item_usage_start_date AS date) AS usage_date,
    split_part(line_item_resource_id, '/', 3) AS tenant,
    coalesce(${tag(EMR_JOB_LABELS.virtualClusterId)}, '') AS virtual_cluster_id,
    coalesce(${tag(EMR_JOB_LABELS.jobId)}, '') AS job_id,
    coalesce(split_line_item_split_cost, 0) AS cost_usd,
    coalesce(split_line_item_unused_cost, 0) AS unused_cost_usd
  FROM ${table}
  WHERE line_item_operation = 'EKSPod-EC2'
    AND split_part(line_item_resource_id, '/', 2) = ${sqlString(scope.clusterName)}
),
job_tenant AS (
  SELECT job_id, max(tenant) AS tenant FROM pod_usage WHERE job_id <> '' GROUP BY job_id
),
compute AS (
  SELECT billing_period, usage_date, tenant, virtual_cluster_id, job_id, ${sqlString(COST_TYPES.compute)} AS cost_type,
    sum(cost_usd) AS cost_usd, sum(unused_cost_usd) AS unused_cost_usd
  FROM pod_usage
  GROUP BY billing_period, usage_date, tenant, virtual_cluster_id, job_id
),
emr_uplift AS (
  SELECT u.${BILLING_PERIOD_COLUMN} AS billing_period, CAST(u.line_item_usage_start_date AS date) AS usage_date, j.tenant,
    split_part(u.line_item_resource_id, '/', 3) AS virtual_cluster_id, j.job_id, ${sqlString(COST_TYPES.emrUplift)} AS cost_type,
    sum(u.line_item_unblended_cost) AS cost_usd, CAST(0 AS double) AS unused_cost_usd
  FROM ${table} u
  JOIN job_tenant j ON j.job_id = split_part(u.line_item_resource_id, '/', 5)
  WHERE u.line_item_resource_id LIKE ${sqlString(JOB_RUN_ARN_PATTERN)}
  GROUP BY u.${BILLING_PERIOD_COLUMN}, CAST(u.line_item_usage_start_date AS date), j.tenant, split_part(u.line_item_resource_id, '/', 3), j.job_id
),
tenant_resources AS (
  SELECT ${BILLING_PERIOD_COLUMN} AS billing_period, CAST(line_item_usage_start_date AS date) AS usage_date, ${tag('platform:tenant')} AS tenant,
    '' AS virtual_cluster_id, '' AS job_id, ${sqlString(COST_TYPES.tenantResources)} AS cost_type,
    sum(line_item_unblended_cost) AS cost_usd, CAST(0 AS double) AS unused_cost_usd
  FROM ${table}
  WHERE ${tag('platform:tenant')} IS NOT NULL
    AND ${tag('platform:cluster')} = ${sqlString(scope.clusterName)}
    AND line_item_operation <> 'EKSPod-EC2'
    AND coalesce(line_item_resource_id, '') NOT LIKE ${sqlString(JOB_RUN_ARN_PATTERN)}
  GROUP BY ${BILLING_PERIOD_COLUMN}, CAST(line_item_usage_start_date AS date), ${tag('platform:tenant')}
)
SELECT ${JOB_COST_COLUMNS.map((c) => `CAST(${c.name} AS ${c.trinoType}) AS ${c.name}`).join(', ')}
FROM (
  SELECT * FROM compute
  UNION ALL SELECT * FROM emr_uplift
  UNION ALL SELECT * FROM tenant_resources
)`;
}

/**
 * The Glue representation of an Athena view: the SQL and its output columns, base64 in a
 * `/* Presto View: ... *\/` comment (what Athena writes itself for `CREATE VIEW`). The column
 * types must be exactly those the SQL returns, hence the casts in jobCostViewSql.
 */
export function prestoViewText(scope: { readonly database: string; readonly sql: string; readonly columns: readonly ViewColumn[] }): string {
  const view = {
    originalSql: scope.sql,
    catalog: 'awsdatacatalog',
    schema: scope.database,
    columns: scope.columns.map((c) => ({ name: c.name, type: c.trinoType })),
  };
  return `/* Presto View: ${Buffer.from(JSON.stringify(view)).toString('base64')} */`;
}

/** `YYYY-MM-DD` */
export const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export interface TenantCostQuery {
  readonly database: string;
  readonly view: string;
  readonly tenant: string;
  /** First day, `YYYY-MM-DD` (inclusive). */
  readonly from: string;
  /** Last day, `YYYY-MM-DD` (inclusive). */
  readonly to: string;
}

/**
 * Cost of one tenant in a period, one row per job (jobs of other kinds of cost have `job_id` ''),
 * most expensive first. The billing period bounds let Athena read only the partitions of the
 * period. Values are validated by the caller and quoted here.
 */
export function tenantCostByJobSql(query: TenantCostQuery): string {
  for (const day of [query.from, query.to]) if (!ISO_DATE.test(day)) throw new Error(`not a YYYY-MM-DD date: ${JSON.stringify(day)}`);
  const sum = (type: string) => `sum(CASE WHEN cost_type = ${sqlString(type)} THEN cost_usd ELSE 0 END)`;
  return `SELECT
  job_id,
  virtual_cluster_id,
  min(usage_date) AS first_day,
  max(usage_date) AS last_day,
  ${sum(COST_TYPES.compute)} AS compute_usd,
  ${sum(COST_TYPES.emrUplift)} AS emr_uplift_usd,
  ${sum(COST_TYPES.tenantResources)} AS other_usd,
  sum(unused_cost_usd) AS idle_share_usd,
  sum(cost_usd) AS total_usd
FROM ${quoteIdentifier(query.database)}.${quoteIdentifier(query.view)}
WHERE tenant = ${sqlString(query.tenant)}
  AND billing_period BETWEEN ${sqlString(query.from.slice(0, 7))} AND ${sqlString(query.to.slice(0, 7))}
  AND usage_date BETWEEN DATE ${sqlString(query.from)} AND DATE ${sqlString(query.to)}
GROUP BY job_id, virtual_cluster_id
ORDER BY total_usd DESC`;
}

/** Cost of every tenant in a period, by kind of cost: the named query for the platform team (`?` = first and last day). */
export function costByTenantSql(scope: { readonly database: string; readonly view: string }): string {
  return `SELECT tenant, cost_type, sum(cost_usd) AS cost_usd, sum(unused_cost_usd) AS idle_share_usd
FROM ${quoteIdentifier(scope.database)}.${quoteIdentifier(scope.view)}
WHERE usage_date BETWEEN date(?) AND date(?)
GROUP BY tenant, cost_type
ORDER BY cost_usd DESC`;
}
