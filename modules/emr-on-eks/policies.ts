/**
 * Least-privilege IAM documents for one EMR on EKS tenant: what its jobs may do (the job execution
 * role), and what its people may do to run jobs (the submitter policy). Pure functions of ARNs, so
 * tests assert every action and resource exactly.
 */
import { type PolicyStatement, policyDocument, type PolicyDocument } from '../iam/policy.js';

/** Key prefix (in the tenant bucket) of the platform-written pod templates; nobody else writes there. */
export const POD_TEMPLATE_PREFIX = 'pod-templates/';

export interface AccountScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** Both forms IAM matches for a log group: the group itself and its streams. */
export function logGroupResources(logGroupArn: string): string[] {
  return [logGroupArn, `${logGroupArn}:*`];
}

/** The Glue Data Catalog ARNs covering one database, its tables and functions. */
export function glueDatabaseResources(scope: AccountScope, database: string): string[] {
  const prefix = `arn:${scope.partition}:glue:${scope.region}:${scope.accountId}`;
  return [`${prefix}:database/${database}`, `${prefix}:table/${database}/*`, `${prefix}:userDefinedFunction/${database}/*`];
}

export interface ExecutionRolePolicyProps extends AccountScope {
  /** The tenant's bucket: read and write. */
  readonly bucketArn: string;
  /** KMS key encrypting the tenant bucket. */
  readonly kmsKeyArn: string;
  /** Log group of the tenant's jobs (ARN without `:*`). */
  readonly logGroupArn: string;
  /** Extra buckets jobs may read (bucket ARNs). @default [] */
  readonly readBucketArns?: readonly string[];
  /** Glue databases jobs may read and write. @default [] */
  readonly glueDatabases?: readonly string[];
}

const GLUE_READ = [
  'glue:GetDatabase',
  'glue:GetDatabases',
  'glue:GetTable',
  'glue:GetTables',
  'glue:GetTableVersion',
  'glue:GetTableVersions',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
  'glue:GetUserDefinedFunction',
  'glue:GetUserDefinedFunctions',
];
const GLUE_WRITE = [
  'glue:CreateTable',
  'glue:UpdateTable',
  'glue:DeleteTable',
  'glue:BatchDeleteTable',
  'glue:CreatePartition',
  'glue:BatchCreatePartition',
  'glue:UpdatePartition',
  'glue:BatchUpdatePartition',
  'glue:DeletePartition',
  'glue:BatchDeletePartition',
];

/** Nobody but the platform (Terraform) writes the pod templates that place the tenant's pods. */
function protectPodTemplates(bucketArn: string): PolicyStatement {
  return {
    Sid: 'PodTemplatesAreManagedByThePlatform',
    Effect: 'Deny',
    Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
    Resource: `${bucketArn}/${POD_TEMPLATE_PREFIX}*`,
  };
}

/** What a tenant's Spark jobs may do: their bucket, key and log group, read buckets, Glue databases. */
export function executionRolePolicy(props: ExecutionRolePolicyProps): PolicyDocument {
  const readBuckets = props.readBucketArns ?? [];
  const databases = props.glueDatabases ?? [];
  const statements: PolicyStatement[] = [
    {
      Sid: 'TenantBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
      Resource: props.bucketArn,
    },
    {
      Sid: 'TenantObjects',
      Effect: 'Allow',
      // Multipart actions: the S3A magic/staging committers upload in parts and abort on failure.
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: `${props.bucketArn}/*`,
    },
    protectPodTemplates(props.bucketArn),
    {
      Sid: 'TenantBucketKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: props.kmsKeyArn,
    },
    {
      Sid: 'JobLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      Resource: logGroupResources(props.logGroupArn),
    },
    {
      Sid: 'FindJobLogGroup',
      Effect: 'Allow',
      // DescribeLogGroups lists groups and is only authorized against the account-wide
      // `log-group:*` resource (AWS offers no narrower resource for it); it reveals group names only.
      Action: 'logs:DescribeLogGroups',
      Resource: `arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:*`,
    },
  ];
  if (readBuckets.length > 0) {
    statements.push(
      { Sid: 'ReadBucketsList', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: [...readBuckets] },
      { Sid: 'ReadBucketsObjects', Effect: 'Allow', Action: 's3:GetObject', Resource: readBuckets.map((arn) => `${arn}/*`) },
    );
  }
  if (databases.length > 0) {
    const catalog = `arn:${props.partition}:glue:${props.region}:${props.accountId}:catalog`;
    statements.push(
      {
        Sid: 'GlueDatabases',
        Effect: 'Allow',
        Action: [...GLUE_READ, ...GLUE_WRITE],
        // Every Glue call is also authorized against the account's catalog ARN.
        Resource: [catalog, ...databases.flatMap((db) => glueDatabaseResources(props, db))],
      },
      {
        Sid: 'GlueDefaultDatabase',
        Effect: 'Allow',
        // Spark's Hive client reads the `default` database at start-up, and Spark SQL checks that
        // `global_temp` (its global temporary view schema) is not a catalog database; read-only, no tables.
        Action: 'glue:GetDatabase',
        Resource: [catalog, ...['default', 'global_temp'].map((db) => `arn:${props.partition}:glue:${props.region}:${props.accountId}:database/${db}`)],
      },
    );
  }
  return policyDocument(...statements);
}

export interface SubmitterPolicyProps {
  readonly virtualClusterArn: string;
  /** The only execution role jobs may be started with. */
  readonly executionRoleArn: string;
  readonly bucketArn: string;
  readonly kmsKeyArn: string;
  readonly logGroupArn: string;
  /** EKS cluster, for `aws eks update-kubeconfig` (namespace access comes from access entries). */
  readonly clusterArn: string;
  /** The tenant's EMR job templates: jobs may also be started from these. @default [] */
  readonly jobTemplateArns?: readonly string[];
  /** Partition, region and account, for the persistent Spark UI actions. */
  readonly account: AccountScope;
}

/**
 * What the tenant's people may do: start jobs on their virtual cluster with their execution role
 * only, follow and cancel those jobs, upload code and read results in their bucket, read their job
 * logs, and get a kubeconfig. No `iam:PassRole`: EMR on EKS does not pass the execution role to a
 * service; which roles a caller may use is controlled by the `emr-containers:ExecutionRoleArn`
 * condition key on StartJobRun instead.
 */
export function submitterPolicy(props: SubmitterPolicyProps): PolicyDocument {
  const jobRuns = `${props.virtualClusterArn}/jobruns/*`;
  const templates = props.jobTemplateArns ?? [];
  const { partition, region, accountId } = props.account;
  return policyDocument(
    {
      Sid: 'StartJobRunsWithTheTenantRoleOnly',
      Effect: 'Allow',
      Action: 'emr-containers:StartJobRun',
      Resource: props.virtualClusterArn,
      Condition: { ArnEquals: { 'emr-containers:ExecutionRoleArn': props.executionRoleArn } },
    },
    ...(templates.length > 0
      ? [
          {
            Sid: 'StartJobRunsFromTheTenantTemplates',
            Effect: 'Allow' as const,
            // A run from a job template may leave the role to the template (which names this
            // tenant's role, never as a parameter); if it names one, it must be the tenant's.
            Action: 'emr-containers:StartJobRun',
            Resource: props.virtualClusterArn,
            Condition: {
              ArnEquals: { 'emr-containers:JobTemplateArn': [...templates] },
              ArnEqualsIfExists: { 'emr-containers:ExecutionRoleArn': props.executionRoleArn },
            },
          },
          { Sid: 'ReadTheTenantTemplates', Effect: 'Allow' as const, Action: 'emr-containers:DescribeJobTemplate', Resource: [...templates] },
        ]
      : []),
    {
      Sid: 'OpenTheSparkUiOfTheTenantJobs',
      Effect: 'Allow',
      // The persistent Spark UI (console "Spark UI" of a job run, jobs run with
      // persistentAppUI: ENABLED) is created for the job run's virtual cluster
      // (CreatePersistentAppUI with TargetResourceArn = the virtual cluster, EMRContainersConfig.JobRunId).
      Action: ['elasticmapreduce:CreatePersistentAppUI', 'elasticmapreduce:DescribePersistentAppUI'],
      Resource: props.virtualClusterArn,
    },
    {
      Sid: 'OpenThePersistentSparkUi',
      Effect: 'Allow',
      // The presigned URL is authorized on the UI created above (persistent-app-ui ids are
      // generated, hence the pattern) and only for jobs of the tenant's execution role.
      Action: 'elasticmapreduce:GetPersistentAppUIPresignedURL',
      Resource: [props.virtualClusterArn, `arn:${partition}:elasticmapreduce:${region}:${accountId}:persistent-app-ui/*`],
      Condition: { ArnEqualsIfExists: { 'elasticmapreduce:ExecutionRoleArn': props.executionRoleArn } },
    },
    {
      Sid: 'ReadTheVirtualCluster',
      Effect: 'Allow',
      Action: ['emr-containers:DescribeVirtualCluster', 'emr-containers:ListJobRuns'],
      Resource: props.virtualClusterArn,
    },
    {
      Sid: 'FollowAndCancelJobRuns',
      Effect: 'Allow',
      // TagResource: StartJobRun with --tags tags the new job run.
      Action: ['emr-containers:DescribeJobRun', 'emr-containers:CancelJobRun', 'emr-containers:TagResource', 'emr-containers:ListTagsForResource'],
      Resource: jobRuns,
    },
    {
      Sid: 'TenantBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: props.bucketArn,
    },
    {
      Sid: 'TenantObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: `${props.bucketArn}/*`,
    },
    protectPodTemplates(props.bucketArn),
    {
      Sid: 'TenantBucketKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: props.kmsKeyArn,
    },
    {
      Sid: 'ReadJobLogs',
      Effect: 'Allow',
      Action: ['logs:DescribeLogStreams', 'logs:GetLogEvents', 'logs:FilterLogEvents', 'logs:StartLiveTail'],
      Resource: logGroupResources(props.logGroupArn),
    },
    {
      Sid: 'Kubeconfig',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: props.clusterArn,
    },
  );
}
