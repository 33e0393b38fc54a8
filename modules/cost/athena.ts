/**
 * Athena over the CUR 2.0 export: a Glue database, the table over the export's Parquet files
 * (partitions by billing period through partition projection, so no crawler and no `MSCK REPAIR`),
 * the job cost view, a workgroup whose results stay in the cost reports bucket, named queries for
 * the platform team, and a managed policy for whoever reads the cost (`npm run cost`).
 */
import { Construct } from 'constructs';
import { AthenaNamedQuery } from '@cdktf/provider-aws/lib/athena-named-query/index.js';
import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup/index.js';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database/index.js';
import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table/index.js';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy/index.js';
import { type PolicyDocument, policyDocument, policyJson } from '../iam/policy.js';
import { BILLING_PERIOD_COLUMN, costByTenantSql, CUR_COLUMNS, JOB_COST_COLUMNS, jobCostViewSql, prestoViewText, tenantCostByJobSql } from './cur.js';
import { ATHENA_RESULTS_PREFIX, CUR_TABLE, DATA_EXPORT_PREFIX, dataExportDataLocation, JOB_COST_VIEW } from './names.js';

export interface CostAnalyticsProps {
  readonly clusterName: string;
  readonly accountId: string;
  readonly region: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Glue database name. */
  readonly database: string;
  /** Athena workgroup name. */
  readonly workgroup: string;
  /** Bucket of the export (and of the query results). */
  readonly bucketName: string;
  /** Name of the data export (its folder under the export prefix). */
  readonly exportName: string;
  /**
   * First billing period the partition projection covers, `YYYY-MM` (months without files just
   * return nothing; a new export starts with the current month).
   * @default '2024-01'
   */
  readonly firstBillingPeriod?: string;
  /**
   * Most data one query may scan, in bytes (a runaway query stops there).
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Name of the reader policy. */
  readonly readerPolicyName: string;
}

export interface CostReaderScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly database: string;
  readonly workgroup: string;
  readonly bucketName: string;
}

/**
 * Running cost queries: Athena in the cost workgroup only, the Glue objects of the cost database,
 * reading the export and writing query results (Athena reads and writes S3 as the caller).
 */
export function costReaderPolicy(scope: CostReaderScope): PolicyDocument {
  const glue = (kind: string, name: string) => `arn:${scope.partition}:glue:${scope.region}:${scope.accountId}:${kind}/${name}`;
  const bucketArn = `arn:${scope.partition}:s3:::${scope.bucketName}`;
  return policyDocument(
    {
      Sid: 'AthenaCostWorkgroup',
      Effect: 'Allow',
      Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup', 'athena:GetNamedQuery', 'athena:ListNamedQueries'],
      Resource: [`arn:${scope.partition}:athena:${scope.region}:${scope.accountId}:workgroup/${scope.workgroup}`],
    },
    {
      Sid: 'CostCatalog',
      Effect: 'Allow',
      Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      Resource: [`arn:${scope.partition}:glue:${scope.region}:${scope.accountId}:catalog`, glue('database', scope.database), glue('table', `${scope.database}/*`)],
    },
    {
      Sid: 'ListExportAndResults',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: [bucketArn],
    },
    {
      Sid: 'ReadExport',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [`${bucketArn}/${DATA_EXPORT_PREFIX}/*`],
    },
    {
      Sid: 'QueryResults',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: [`${bucketArn}/${ATHENA_RESULTS_PREFIX}*`],
    },
  );
}

export class CostAnalytics extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly curTable: GlueCatalogTable;
  readonly jobCostView: GlueCatalogTable;
  readonly workgroup: AthenaWorkgroup;
  readonly namedQueries: AthenaNamedQuery[];
  readonly readerPolicy: IamPolicy;

  constructor(scope: Construct, id: string, props: CostAnalyticsProps) {
    super(scope, id);
    const partition = props.partition ?? 'aws';
    const location = dataExportDataLocation(props.bucketName, props.exportName);
    const firstBillingPeriod = props.firstBillingPeriod ?? '2024-01';
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(firstBillingPeriod)) throw new Error(`firstBillingPeriod must be YYYY-MM, found ${JSON.stringify(firstBillingPeriod)}`);

    this.database = new GlueCatalogDatabase(this, 'database', {
      name: props.database,
      description: `Cost of cluster ${props.clusterName}: CUR 2.0 export and showback views`,
    });

    this.curTable = new GlueCatalogTable(this, 'cur2', {
      name: CUR_TABLE,
      databaseName: this.database.name,
      description: `CUR 2.0 data export ${props.exportName} (Parquet, one partition per billing period)`,
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
        // Partition projection: Athena computes the billing period folders itself.
        'projection.enabled': 'true',
        [`projection.${BILLING_PERIOD_COLUMN}.type`]: 'date',
        [`projection.${BILLING_PERIOD_COLUMN}.format`]: 'yyyy-MM',
        [`projection.${BILLING_PERIOD_COLUMN}.range`]: `${firstBillingPeriod},NOW`,
        [`projection.${BILLING_PERIOD_COLUMN}.interval`]: '1',
        [`projection.${BILLING_PERIOD_COLUMN}.interval.unit`]: 'MONTHS',
        // `$$` is Terraform's escape: Athena, not Terraform, fills in ${billing_period}.
        'storage.location.template': `${location}BILLING_PERIOD=$\${${BILLING_PERIOD_COLUMN}}/`,
      },
      partitionKeys: [{ name: BILLING_PERIOD_COLUMN, type: 'string', comment: 'YYYY-MM (the export folder BILLING_PERIOD=YYYY-MM)' }],
      storageDescriptor: {
        location,
        inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        serDeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: { 'serialization.format': '1' } },
        columns: CUR_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
      },
    });

    const viewSql = jobCostViewSql({ database: props.database, table: CUR_TABLE, clusterName: props.clusterName });
    // An Athena view stored the way Athena stores one, so it exists as soon as Terraform applies.
    this.jobCostView = new GlueCatalogTable(this, 'job-cost-view', {
      name: JOB_COST_VIEW,
      databaseName: this.database.name,
      description: 'Cost per day, tenant, job and kind (compute, emr-uplift, tenant-resources)',
      tableType: 'VIRTUAL_VIEW',
      viewOriginalText: prestoViewText({ database: props.database, sql: viewSql, columns: JOB_COST_COLUMNS }),
      viewExpandedText: '/* Presto View */',
      parameters: { presto_view: 'true', comment: 'Presto View' },
      storageDescriptor: {
        columns: JOB_COST_COLUMNS.map((c) => ({ name: c.name, type: c.glueType })),
        serDeInfo: {},
      },
      dependsOn: [this.curTable],
    });

    this.workgroup = new AthenaWorkgroup(this, 'workgroup', {
      name: props.workgroup,
      description: `Cost queries of cluster ${props.clusterName} (npm run cost)`,
      forceDestroy: true,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const named = (queryId: string, name: string, description: string, query: string) =>
      new AthenaNamedQuery(this, queryId, { name, description, database: this.database.name, workgroup: this.workgroup.name, query });
    this.namedQueries = [
      named(
        'create-job-cost-view',
        `${props.clusterName}: (re)create the job cost view`,
        `Recreates ${JOB_COST_VIEW} from its SQL, should Athena ever report the view as stale`,
        `CREATE OR REPLACE VIEW "${props.database}"."${JOB_COST_VIEW}" AS\n${viewSql}`,
      ),
      named(
        'cost-by-tenant',
        `${props.clusterName}: cost by tenant`,
        'Cost of every tenant by kind of cost between two days (parameters: first day, last day, YYYY-MM-DD)',
        costByTenantSql({ database: props.database, view: JOB_COST_VIEW }),
      ),
      named(
        'tenant-cost-by-job-example',
        `${props.clusterName}: one tenant's cost by job (example)`,
        'What npm run cost runs, for an example tenant and month: change the tenant and the days',
        tenantCostByJobSql({ database: props.database, view: JOB_COST_VIEW, tenant: 'example-tenant', from: `${firstBillingPeriod}-01`, to: `${firstBillingPeriod}-28` }),
      ),
    ];

    this.readerPolicy = new IamPolicy(this, 'reader', {
      name: props.readerPolicyName,
      description: `Run cost queries of cluster ${props.clusterName} (Athena workgroup ${props.workgroup}): attach to the platform team's roles`,
      policy: policyJson(
        costReaderPolicy({ partition, region: props.region, accountId: props.accountId, database: props.database, workgroup: props.workgroup, bucketName: props.bucketName }),
      ),
    });
  }
}
