/**
 * The tenant file (`tenants/<name>/tenant.yaml`): one data team, one namespace, one stack
 * `tenant-<name>`. The zod schema below is the contract (field names are public API): it validates
 * files, types the tenant stack, and generates `tenants/tenant.schema.json` for editors.
 *
 * `loadTenants` reads every tenant folder, checks each file against the schema and the
 * environment, then checks the tenants against each other, and throws one ConfigError listing
 * every problem in every file, so `synth` writes nothing until all tenants are valid.
 *
 * Tenants per environment: a file may name the environments it is in (`environments`), each with
 * overrides of the fields that differ between accounts (`EnvironmentOverrideSchema`). A file
 * without `environments` is in every environment. The tenant of an environment is the file with
 * that environment's overrides applied (`applyEnvironmentOverride`), validated as a whole.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { cidrContains, isCidr } from '../../modules/network/cidr.js';
import { reservedNamespaceReason, reservedNamespaceSummary } from '../../modules/scheduling/namespaces.js';
import { DEFAULT_MAX_CONCURRENT_JOBS, EXPOSED_SERVICE_TYPES, LINK_LOCAL_CIDR } from '../../modules/tenant/namespace-objects.js';
import { ConfigError, type ConfigProblem, describeValue, problemsFromZod, readYamlFile } from './config-file.js';
import type { Environment } from './environment.js';
import { applyEnvironmentOverride, fieldFor, isRecord, isTenantInEnvironment, tenantEnvironments } from './tenant-environments.js';

export { applyEnvironmentOverride, isTenantInEnvironment, tenantEnvironments } from './tenant-environments.js';

/** Folder holding one folder per tenant, relative to the repository root. */
export const TENANTS_DIRECTORY = 'tenants';
export const TENANT_FILE = 'tenant.yaml';

/** DNS-1123 label (a Kubernetes namespace name). */
export const TENANT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const TENANT_NAME_MIN = 3;
export const TENANT_NAME_MAX = 40;

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** A bucket ARN, not an object or prefix ARN. */
const S3_BUCKET_ARN = /^arn:aws[a-z-]*:s3:::(?!xn--)(?!.*-s3alias$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Glue database names as Athena and Spark accept them (Glue stores names in lower case). */
const GLUE_DATABASE = /^[a-z0-9_][a-z0-9_-]{0,254}$/;
/** A positive CPU quantity: whole or decimal cores ("400", "0.5") or millicores ("500m"). */
export const CPU_QUANTITY = /^(?=[^1-9]*[1-9])(\d+(\.\d+)?|\.\d+)m?$/;
/** A positive memory quantity with a unit ("1600Gi", "512Mi", "2T"). */
export const MEMORY_QUANTITY = /^(?=[^1-9]*[1-9])(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]$/;
export const RELEASE_LABEL = /^emr-(\d+)\.(\d+)\.(\d+)-(latest|\d{8})$/;

/** Oldest EMR release the platform supports (StartJobRun with `sparkSqlJobDriver`). */
export const MIN_RELEASE = '6.7.0';
/** EKS Pod Identity with StartJobRun. */
export const MIN_POD_IDENTITY_RELEASE = '7.3.0';
/** EMR vertical autoscaling. */
export const MIN_VERTICAL_AUTOSCALING_RELEASE = '6.10.0';

type Version = readonly [number, number, number];

/** The X.Y.Z of a release label, or undefined when the label is malformed. */
export function releaseVersion(label: string): Version | undefined {
  const match = RELEASE_LABEL.exec(label);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function parseVersion(text: string): Version {
  const [a = 0, b = 0, c = 0] = text.split('.').map(Number);
  return [a, b, c];
}

/** True when `label`'s version is at least `minimum` (X.Y.Z); false for malformed labels. */
export function releaseAtLeast(label: string, minimum: string): boolean {
  const version = releaseVersion(label);
  if (!version) return false;
  const min = parseVersion(minimum);
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== min[i]!) return version[i]! > min[i]!;
  }
  return true;
}

const ARCHITECTURES = ['arm64', 'amd64', 'any'] as const;
const DRIVER_CAPACITY = ['on-demand', 'spot'] as const;
const EXECUTOR_CAPACITY = ['spot', 'on-demand', 'any'] as const;
const LOCAL_STORAGE = ['nvme', 'ebs'] as const;
const IDENTITIES = ['irsa', 'pod-identity'] as const;

export type Architecture = (typeof ARCHITECTURES)[number];
export type DriverCapacity = (typeof DRIVER_CAPACITY)[number];
export type ExecutorCapacity = (typeof EXECUTOR_CAPACITY)[number];
export type LocalStorage = (typeof LOCAL_STORAGE)[number];
export type JobIdentity = (typeof IDENTITIES)[number];

const SparkSchema = z
  .strictObject({
    zone: z
      .string()
      .regex(AVAILABILITY_ZONE, 'an availability zone such as us-west-2b')
      .optional()
      .describe("Pins every job of the tenant to one availability zone (one of the environment's). Unset: each job stays in its driver's zone."),
    architecture: z.enum(ARCHITECTURES).default('arm64').describe('CPU architecture of Spark pods: arm64 (Graviton), amd64, or any (Graviton preferred).'),
    driverCapacity: z.enum(DRIVER_CAPACITY).default('on-demand').describe('Capacity type of driver nodes.'),
    executorCapacity: z.enum(EXECUTOR_CAPACITY).default('spot').describe('Capacity type of executor nodes: spot, on-demand, or any (Spot first).'),
    localStorage: z
      .enum(LOCAL_STORAGE)
      .default('nvme')
      .describe('Where Spark local dirs (shuffle, spill) live: instance-store NVMe (RAID0 node class) or on-demand gp3 volumes.'),
    dedicatedNodes: z.boolean().default(false).describe('Tenant-only NodePools (tainted for this tenant); other namespaces cannot use them.'),
  })
  .describe('Placement of Spark drivers and executors.');

const EmrSchema = z
  .strictObject({
    releaseLabel: z
      .string()
      .regex(RELEASE_LABEL, { error: 'an EMR release label emr-X.Y.Z-latest or emr-X.Y.Z-YYYYMMDD, such as emr-7.12.0-latest', abort: true })
      .refine((label) => releaseAtLeast(label, MIN_RELEASE), `an EMR on EKS release label of at least emr-${MIN_RELEASE}`)
      .default('emr-7.12.0-latest')
      .describe('Default EMR release of the tenant (job submission may override it).'),
    identity: z
      .enum(IDENTITIES)
      .default('irsa')
      .describe(`How jobs get AWS credentials: IRSA, or EKS Pod Identity (needs emr-${MIN_POD_IDENTITY_RELEASE} or later).`),
    verticalAutoscaling: z
      .boolean()
      .default(false)
      .describe(`EMR vertical autoscaling of executors (needs emr-${MIN_VERTICAL_AUTOSCALING_RELEASE}+, VPA and the EMR operator).`),
  })
  .superRefine((emr, ctx) => {
    if (!releaseVersion(emr.releaseLabel)) return;
    if (emr.identity === 'pod-identity' && !releaseAtLeast(emr.releaseLabel, MIN_POD_IDENTITY_RELEASE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identity'],
        message: `irsa with releaseLabel ${emr.releaseLabel} (EKS Pod Identity needs emr-${MIN_POD_IDENTITY_RELEASE} or later)`,
      });
    }
    if (emr.verticalAutoscaling && !releaseAtLeast(emr.releaseLabel, MIN_VERTICAL_AUTOSCALING_RELEASE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['verticalAutoscaling'],
        message: `false with releaseLabel ${emr.releaseLabel} (vertical autoscaling needs emr-${MIN_VERTICAL_AUTOSCALING_RELEASE} or later)`,
      });
    }
  })
  .describe('EMR on EKS settings.');

const DataSchema = z
  .strictObject({
    retainOnDelete: z
      .boolean()
      .default(true)
      .describe('Keep the data bucket and its KMS key when the tenant is destroyed (Terraform refuses to destroy them). false: destroying the tenant empties and deletes the bucket.'),
    readBuckets: z
      .array(z.string().regex(S3_BUCKET_ARN, 'an S3 bucket ARN such as arn:aws:s3:::shared-datasets (a bucket, not a prefix)'))
      .max(50)
      .default([])
      .describe('Extra S3 buckets jobs may read.'),
    glueDatabases: z
      .array(z.string().regex(GLUE_DATABASE, 'a Glue database name (lowercase letters, digits, _ and -), such as marketing_curated'))
      .max(50)
      .default([])
      .describe('Glue Data Catalog databases jobs may read and write (tables and partitions).'),
  })
  .describe('Data the tenant owns and reads.');

/**
 * Dynamic allocation bounds of Spark executors. `initial` defaults to `min` (Spark's own default
 * for spark.dynamicAllocation.initialExecutors).
 */
export const ExecutorBoundsSchema = z
  .strictObject({
    min: z.number().int().min(0).default(1).describe('Executors kept while the job runs (spark.dynamicAllocation.minExecutors).'),
    initial: z.number().int().min(0).optional().describe('Executors at start (spark.dynamicAllocation.initialExecutors). Default: min.'),
    max: z.number().int().min(1).max(10000).default(50).describe('Ceiling of dynamic allocation (spark.dynamicAllocation.maxExecutors).'),
  })
  .superRefine((bounds, ctx) => {
    if (bounds.min > bounds.max) ctx.addIssue({ code: 'custom', path: ['min'], message: `a minimum no larger than max (${bounds.max})` });
    if (bounds.initial !== undefined && (bounds.initial < bounds.min || bounds.initial > bounds.max)) {
      ctx.addIssue({ code: 'custom', path: ['initial'], message: `a number between min (${bounds.min}) and max (${bounds.max})` });
    }
  })
  .transform((bounds) => ({ min: bounds.min, initial: bounds.initial ?? bounds.min, max: bounds.max }))
  .describe('Dynamic allocation bounds of executors.');

/** StartJobRun retry policy: attempts of a job's driver (1 = no retry). */
export const MaxAttemptsSchema = z.number().int().min(1).max(10);

const JobDefaultsSchema = z
  .strictObject({
    executors: ExecutorBoundsSchema.default(() => ExecutorBoundsSchema.parse({})),
    maxAttempts: MaxAttemptsSchema.default(1).describe('StartJobRun retryPolicy.maxAttempts of jobs that set none (1-10; 1 = no retry).'),
  })
  .describe("Defaults of the tenant's jobs (published in configurationOverrides and used by job templates and npm run job).");

/** Job-run states a tenant can be notified of. */
export const NOTIFIED_STATES = ['FAILED', 'CANCELLED', 'COMPLETED'] as const;
const SQS_QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const NotificationsSchema = z
  .strictObject({
    states: z
      .array(z.enum(NOTIFIED_STATES))
      .min(1)
      .default(['FAILED'])
      .describe('Job-run states that notify (EMR Job Run State Change events of the tenant\'s virtual cluster).'),
    emails: z.array(z.email('an email address such as data-oncall@example.com')).max(20).default([]).describe('Email subscriptions of the topic (each address confirms once).'),
    sqsQueueArns: z
      .array(z.string().regex(SQS_QUEUE_ARN, 'an SQS queue ARN such as arn:aws:sqs:us-west-2:111122223333:job-events'))
      .max(20)
      .default([])
      .describe("SQS queues subscribed to the topic (raw delivery of the event); each queue's policy must let the topic send."),
    snsTopicArns: z
      .array(z.string().regex(SNS_TOPIC_ARN, 'an SNS topic ARN such as arn:aws:sns:us-west-2:111122223333:team-alerts'))
      .max(4)
      .default([])
      .describe("Further SNS topics (same region) the EventBridge rule also targets; each topic's policy must let the rule publish."),
  })
  .superRefine((n, ctx) => {
    if (n.emails.length + n.sqsQueueArns.length + n.snsTopicArns.length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'at least one destination (emails, sqsQueueArns or snsTopicArns)' });
    }
  })
  .describe("Job-run notifications: an encrypted SNS topic and an EventBridge rule for the tenant's virtual cluster.");

const CPU_EXPECTED = 'a Kubernetes CPU quantity > 0, such as "400" or "500m"';

const QuotaSchema = z
  .strictObject({
    cpu: z
      .union([z.string().regex(CPU_QUANTITY, CPU_EXPECTED), z.number().positive(CPU_EXPECTED)], { error: CPU_EXPECTED })
      .transform(String)
      .describe('Total CPU requests of the namespace (requests.cpu).'),
    memory: z
      .string()
      .regex(MEMORY_QUANTITY, 'a Kubernetes memory quantity > 0 with a unit, such as 1600Gi or 512Mi')
      .describe('Total memory requests of the namespace (requests.memory).'),
    pods: z.number().int().positive().optional().describe('Maximum number of pods in the namespace.'),
    maxConcurrentJobs: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(DEFAULT_MAX_CONCURRENT_JOBS)
      .describe('Spark drivers (one per running job) at once: pods with the driver PriorityClass, which may preempt lower priorities. A driver beyond it is rejected and its job fails.'),
  })
  .describe('ResourceQuota of the namespace.');

const NETWORK_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** One extra peer of the tenant's pods: an IPv4 CIDR or a namespace, on some ports. */
const NetworkRuleSchema = z
  .strictObject({
    cidr: z
      .string()
      .refine(isCidr, 'an IPv4 CIDR block with no host bits set, such as 10.20.0.0/16')
      .refine((cidr) => !isCidr(cidr) || !cidrContains(LINK_LOCAL_CIDR, cidr), `a CIDR outside ${LINK_LOCAL_CIDR} (link-local: IMDS stays closed)`)
      .optional()
      .describe(`IPv4 CIDR of the peer (${LINK_LOCAL_CIDR} is always excluded). Exactly one of cidr and namespace.`),
    namespace: z
      .string()
      .regex(TENANT_NAME, 'a namespace name (DNS-1123 label)')
      .max(63)
      .optional()
      .describe('Namespace of the peer (all its pods). Exactly one of cidr and namespace.'),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(20).describe('Destination ports (on the peer for egress, on the tenant pods for ingress).'),
    protocol: z.enum(NETWORK_PROTOCOLS).default('TCP').describe('Protocol of the ports.'),
  })
  .superRefine((rule, ctx) => {
    if ((rule.cidr === undefined) === (rule.namespace === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: `exactly one of cidr and namespace (found ${rule.cidr === undefined ? 'neither' : 'both'})` });
    }
  });

const NetworkSchema = z
  .strictObject({
    egress: z.array(NetworkRuleSchema).max(20).default([]).describe('Extra egress beyond DNS, the namespace and TCP 443 (platform-owned NetworkPolicy allow-declared-egress).'),
    ingress: z.array(NetworkRuleSchema).max(20).default([]).describe('Extra ingress beyond the namespace and monitoring on the Spark UI port (platform-owned NetworkPolicy allow-declared-ingress).'),
    serviceTypes: z
      .array(z.enum(EXPOSED_SERVICE_TYPES))
      .default([])
      .describe('Service types the team may create beyond ClusterIP and ExternalName. Both expose pods outside the cluster; LoadBalancer is internet-facing unless annotated otherwise.'),
  })
  .describe('Network access beyond the defaults. Tenants cannot write NetworkPolicies themselves.');

const OwnersSchema = z
  .array(z.string().regex(IAM_ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::111122223333:role/analytics-engineers'))
  .min(1)
  .max(20)
  .describe(
    'IAM roles of the team: namespace-scoped Kubernetes access (EKS access entries, type STANDARD, so roles of other accounts work too) and a job submission policy to attach.',
  );

/** Environment names as in `environments/<name>.yaml` (see EnvironmentSchema's `name`). */
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{1,19}$/;

/**
 * `schema` with every field optional and without its default: an override names only what it
 * changes, and defaults apply once, to the merged tenant.
 */
function overridable<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const fields = Object.fromEntries(
    Object.entries(schema.shape).map(([key, shapeField]) => {
      const field = shapeField as z.ZodType;
      const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
      const optional = inner.optional();
      return [key, field.description ? optional.describe(field.description) : optional];
    }),
  ) as { [K in keyof Shape]: z.ZodOptional<z.ZodType> };
  return z.strictObject(fields);
}

/**
 * The fields a tenant may set per environment: those that differ between accounts. Objects merge
 * one level deep with the tenant's own (`quota: { cpu: "800" }` keeps `memory`); lists and
 * values replace. To make another field overridable, add it here (and to the README table).
 */
export const EnvironmentOverrideSchema = z
  .strictObject({
    owners: OwnersSchema.optional(),
    quota: overridable(QuotaSchema).optional(),
    spark: overridable(SparkSchema).optional(),
    data: overridable(DataSchema.pick({ readBuckets: true })).optional(),
  })
  .describe('Fields of this tenant that differ in this environment (owners, quota, spark, data.readBuckets).');

const EnvironmentsSchema = z
  .record(z.string().regex(ENVIRONMENT_NAME, 'an environment name (the name of a file environments/<name>.yaml), such as dev'), EnvironmentOverrideSchema.nullable())
  .refine((environments) => Object.keys(environments).length > 0, 'at least one environment (remove the section to deploy the tenant to every environment)')
  .describe(
    'The environments this tenant is deployed to, each with optional overrides (empty: none). Without this section the tenant is in every environment.',
  );

export const TenantSchema = z
  .strictObject({
    name: z
      .string()
      .min(TENANT_NAME_MIN, { error: `a tenant name of ${TENANT_NAME_MIN}-${TENANT_NAME_MAX} characters`, abort: true })
      .max(TENANT_NAME_MAX, { error: `a tenant name of ${TENANT_NAME_MIN}-${TENANT_NAME_MAX} characters`, abort: true })
      .regex(TENANT_NAME, { error: 'a DNS-1123 label: lowercase letters, digits and -, starting and ending with a letter or digit', abort: true })
      .refine(
        (name) => reservedNamespaceReason(name) === undefined,
        `a name that is not a reserved or platform namespace (${reservedNamespaceSummary()})`,
      )
      .describe('Tenant name = namespace = folder name (DNS-1123 label, 3-40 characters).'),
    description: z.string().max(256).optional().describe('Free text about the team, kept as an annotation on the namespace.'),
    owners: OwnersSchema,
    quota: QuotaSchema,
    spark: SparkSchema.default(() => SparkSchema.parse({})),
    emr: EmrSchema.default(() => EmrSchema.parse({})),
    data: DataSchema.default(() => DataSchema.parse({})),
    jobDefaults: JobDefaultsSchema.default(() => JobDefaultsSchema.parse({})),
    notifications: NotificationsSchema.optional(),
    network: NetworkSchema.default(() => NetworkSchema.parse({})),
    environments: EnvironmentsSchema.optional(),
    cost: z
      .strictObject({
        dailyBudgetUsd: z.number().positive().max(10_000_000).optional().describe("Alert (TenantDailyCostOverBudget) when the tenant's cost over the last 24 hours exceeds this, in USD."),
      })
      .optional()
      .describe('Showback settings of the tenant.'),
  })
  .superRefine((tenant, ctx) => {
    const noDuplicates = (list: readonly string[], path: readonly string[], what: string) => {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `each ${what} listed once` });
        seen.add(item);
      });
    };
    noDuplicates(tenant.owners, ['owners'], 'owner');
    noDuplicates(tenant.data.readBuckets, ['data', 'readBuckets'], 'bucket');
    noDuplicates(tenant.data.glueDatabases, ['data', 'glueDatabases'], 'database');
    if (tenant.notifications) {
      noDuplicates(tenant.notifications.states, ['notifications', 'states'], 'state');
      noDuplicates(tenant.notifications.emails, ['notifications', 'emails'], 'address');
      noDuplicates(tenant.notifications.sqsQueueArns, ['notifications', 'sqsQueueArns'], 'queue');
      noDuplicates(tenant.notifications.snsTopicArns, ['notifications', 'snsTopicArns'], 'topic');
    }
    noDuplicates(tenant.network.serviceTypes, ['network', 'serviceTypes'], 'service type');
    for (const direction of ['egress', 'ingress'] as const) {
      tenant.network[direction].forEach((rule, i) => {
        if (rule.namespace === tenant.name) {
          ctx.addIssue({ code: 'custom', path: ['network', direction, i, 'namespace'], message: `a namespace other than the tenant's own (traffic inside ${tenant.name} is always allowed)` });
        }
      });
    }
  });

export type TenantInput = z.input<typeof TenantSchema>;

/** A validated tenant of one environment, with that environment's overrides and defaults applied. */
export type TenantConfig = Omit<z.output<typeof TenantSchema>, 'environments'> & {
  /** The file it was read from, relative to the repository root (`tenants/<name>/tenant.yaml`). */
  readonly file: string;
};

export type EnvironmentOverride = z.input<typeof EnvironmentOverrideSchema>;

/** The values a tenant gets for every optional field it leaves out. */
export function tenantDefaults(): Pick<z.output<typeof TenantSchema>, 'spark' | 'emr' | 'data' | 'jobDefaults' | 'network'> {
  return { spark: SparkSchema.parse({}), emr: EmrSchema.parse({}), data: DataSchema.parse({}), jobDefaults: JobDefaultsSchema.parse({}), network: NetworkSchema.parse({}) };
}

/** `tenants/<folder>/tenant.yaml`, as shown in messages (always with forward slashes). */
export function tenantFileDisplay(folder: string): string {
  return `${TENANTS_DIRECTORY}/${folder}/${TENANT_FILE}`;
}

/** One tenant file's content before validation. */
export interface RawTenant {
  /** Folder name under `tenants/`. */
  readonly folder: string;
  /** Shown in messages. */
  readonly file: string;
  readonly raw: unknown;
}

function rawName(raw: unknown): unknown {
  return isRecord(raw) ? raw.name : undefined;
}

/**
 * One tenant file validated for one environment: `outside` when the file names environments
 * and not this one (it gets no stack there); otherwise the merged tenant or its problems.
 */
interface TenantValidation {
  readonly tenant?: TenantConfig;
  readonly problems: ConfigProblem[];
  readonly outside: boolean;
  /** The owners the file gives the tenant in this environment (raw, for the cross-tenant check). */
  readonly owners?: readonly unknown[];
}

/**
 * Validates one tenant file: the schema (overrides included), its folder, the environments it
 * names, each environment's merged tenant, and for `environment` the cross-checks against it.
 */
function validateOne(entry: RawTenant, environment: Environment, knownEnvironments?: readonly string[]): TenantValidation {
  const { file, folder, raw } = entry;
  const problems: ConfigProblem[] = [];
  const name = rawName(raw);
  if (typeof name === 'string' && name !== folder) {
    problems.push({ file, field: 'name', expected: `"${folder}" (the folder name: each folder under tenants/ is one tenant)`, found: describeValue(name) });
  }
  const listed = tenantEnvironments(raw);
  if (listed && knownEnvironments) {
    for (const key of listed) {
      if (!knownEnvironments.includes(key)) {
        problems.push({
          file,
          field: `environments.${key}`,
          expected: `an environment of this repository (${knownEnvironments.map((e) => `environments/${e}.yaml`).join(', ')})`,
          found: describeValue(key),
        });
      }
    }
  }
  const outside = !isTenantInEnvironment(raw, environment.name);
  const result = TenantSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...problemsFromZod(file, raw, result.error.issues));
    return { problems, outside };
  }
  // Every environment's merged tenant must be valid, not only this one's: a bad override fails
  // every synth, so it is caught by the first plan, whichever environment it targets.
  let tenant: TenantConfig | undefined;
  let owners: readonly unknown[] | undefined;
  let mergedRaw: unknown = raw;
  for (const environmentName of listed ?? [environment.name]) {
    const merged = applyEnvironmentOverride(raw as Record<string, unknown>, environmentName);
    // Without `environments` the merged tenant is the file itself: already parsed.
    const parsed = listed ? TenantSchema.safeParse(merged) : result;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        for (const problem of problemsFromZod(file, merged, [issue])) {
          const field = issue.code === 'unrecognized_keys' ? problem.field : fieldFor(raw, environmentName, issue.path);
          problems.push({ ...problem, field, expected: `${problem.expected} (in environment ${environmentName})` });
        }
      }
    } else if (environmentName === environment.name) {
      const { environments: _environments, ...fields } = parsed.data;
      tenant = { ...fields, file };
      owners = Array.isArray(merged.owners) ? merged.owners : undefined;
      mergedRaw = merged;
    }
  }
  if (outside || !tenant) return { problems, outside, ...(owners ? { owners } : {}) };
  problems.push(...applySpotSetting(tenant, mergedRaw, environment));
  const zone = tenant.spark.zone;
  if (zone !== undefined && !environment.availabilityZones.includes(zone)) {
    problems.push({
      file,
      field: fieldFor(raw, environment.name, ['spark', 'zone']),
      expected: `one of the availability zones of environment ${environment.name} (${environment.availabilityZones.join(', ')})`,
      found: describeValue(zone),
    });
  }
  tenant.notifications?.snsTopicArns.forEach((arn, i) => {
    if (arn.split(':')[3] !== environment.region) {
      problems.push({
        file,
        field: `notifications.snsTopicArns[${i}]`,
        expected: `a topic in region ${environment.region} of environment ${environment.name} (EventBridge rules target SNS topics of their own region)`,
        found: describeValue(arn),
      });
    }
  });
  tenant.owners.forEach((owner, i) => {
    if (environment.adminRoleArns.includes(owner)) {
      problems.push({
        file,
        field: fieldFor(raw, environment.name, ['owners', i]),
        expected: `a role that is not a platform admin (it already has a cluster-wide access entry from adminRoleArns in ${environment.file}, and EKS allows one access entry per principal)`,
        found: describeValue(owner),
      });
    }
  });
  return problems.length > 0 ? { problems, outside, owners: tenant.owners } : { tenant, problems, outside, owners: tenant.owners };
}

export interface TenantSet {
  /** The valid tenants of the environment, sorted by name. */
  readonly tenants: TenantConfig[];
  /** Tenant files that name environments other than this one: no stack here. */
  readonly outside: { readonly name: string; readonly file: string; readonly environments: readonly string[] }[];
  readonly problems: ConfigProblem[];
}

function rawField(raw: unknown, ...path: string[]): unknown {
  let current = raw;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Makes a tenant agree with the environment's `compute.spotEnabled`. Without Spot there is no
 * Spot capacity at all (no spark-executor pool, no Spot in any pool), so a Spot pod would stay
 * Pending: executors of tenants that leave `spark.executorCapacity` unset run on-demand (the
 * documented effective default), and a tenant that asks for Spot explicitly is an error naming
 * both files. `any` (Spot first, on-demand fallback) stays valid: it lands on-demand.
 */
function applySpotSetting(tenant: TenantConfig, raw: unknown, environment: Environment): ConfigProblem[] {
  if (environment.compute.spotEnabled) return [];
  const problems: ConfigProblem[] = [];
  const why = `on-demand, because ${environment.file} sets compute.spotEnabled: false (no Spot capacity in environment ${environment.name})`;
  if (rawField(raw, 'spark', 'executorCapacity') === undefined) {
    (tenant.spark as { executorCapacity: ExecutorCapacity }).executorCapacity = 'on-demand';
  } else if (tenant.spark.executorCapacity === 'spot') {
    problems.push({ file: tenant.file, field: 'spark.executorCapacity', expected: `${why}; or any`, found: describeValue('spot') });
  }
  if (tenant.spark.driverCapacity === 'spot') {
    problems.push({ file: tenant.file, field: 'spark.driverCapacity', expected: why, found: describeValue('spot') });
  }
  return problems;
}

/**
 * Validates a set of tenant files for one environment: each on its own, then against each other
 * (names across all files; owners among the tenants of this environment, since EKS allows one
 * access entry per principal per cluster). `knownEnvironments`, when given, are the environment
 * names a file may list.
 */
export function validateTenants(entries: readonly RawTenant[], environment: Environment, knownEnvironments?: readonly string[]): TenantSet {
  const problems: ConfigProblem[] = [];
  const tenants: TenantConfig[] = [];
  const outside: TenantSet['outside'][number][] = [];
  const ownersOf: { entry: RawTenant; owners: readonly unknown[] }[] = [];
  const names = new Map<string, string>();
  for (const entry of entries) {
    const result = validateOne(entry, environment, knownEnvironments);
    problems.push(...result.problems);
    if (result.tenant) tenants.push(result.tenant);
    if (result.outside) outside.push({ name: String(rawName(entry.raw) ?? entry.folder), file: entry.file, environments: tenantEnvironments(entry.raw) ?? [] });
    const name = rawName(entry.raw);
    if (typeof name === 'string') {
      const other = names.get(name);
      if (other !== undefined) {
        problems.push({ file: entry.file, field: 'name', expected: `a name no other tenant uses (${other} is already tenant "${name}")`, found: describeValue(name) });
      } else {
        names.set(name, entry.file);
      }
    }
    if (!result.outside) {
      const owners = result.owners ?? (isRecord(entry.raw) && Array.isArray(entry.raw.owners) ? entry.raw.owners : undefined);
      if (owners) ownersOf.push({ entry, owners });
    }
  }
  // An owner role can own one tenant only: EKS allows one access entry per principal per cluster,
  // and every tenant manages its own entries in its own state.
  const ownerOf = new Map<string, { file: string; field: string }>();
  for (const { entry, owners } of ownersOf) {
    owners.forEach((owner, index) => {
      if (typeof owner !== 'string') return;
      const field = fieldFor(entry.raw, environment.name, ['owners', index]);
      const first = ownerOf.get(owner);
      if (first === undefined) {
        ownerOf.set(owner, { file: entry.file, field });
      } else if (first.file !== entry.file) {
        problems.push({
          file: entry.file,
          field,
          expected: `a role that owns no other tenant in environment ${environment.name} (it is already ${first.field} of ${first.file}; EKS allows one access entry per IAM principal per cluster)`,
          found: describeValue(owner),
        });
      }
    });
  }
  tenants.sort((a, b) => a.name.localeCompare(b.name));
  return { tenants, outside, problems };
}

/**
 * Reads the tenant folders under `<root>/tenants`: every folder with a `tenant.yaml`. A folder
 * with files but no `tenant.yaml` (say a `tenant.yml` typo) is a problem, not silently skipped;
 * an empty folder (git keeps none, so it is a local leftover) is skipped with a warning.
 */
export function readTenantFiles(root: string): { entries: RawTenant[]; problems: ConfigProblem[]; warnings: string[] } {
  const dir = join(root, TENANTS_DIRECTORY);
  const entries: RawTenant[] = [];
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  if (!existsSync(dir)) return { entries, problems, warnings };
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  for (const folder of folders) {
    const file = tenantFileDisplay(folder);
    const path = join(dir, folder, TENANT_FILE);
    if (!existsSync(path)) {
      const contents = readdirSync(join(dir, folder)).filter((f) => !f.startsWith('.'));
      if (contents.length > 0) {
        problems.push({
          file: `${TENANTS_DIRECTORY}/${folder}`,
          field: '(folder)',
          expected: `a ${TENANT_FILE} file (every folder under ${TENANTS_DIRECTORY}/ is a tenant)`,
          found: `only ${contents.join(', ')}`,
        });
      } else {
        warnings.push(`${TENANTS_DIRECTORY}/${folder}/ is empty and was ignored (no ${TENANT_FILE}, so no stack tenant-${folder}): add ${tenantFileDisplay(folder)} or remove the folder`);
      }
      continue;
    }
    try {
      entries.push({ folder, file, raw: readYamlFile(path, file) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  return { entries, problems, warnings };
}

/** Names of the environment files of a repository (`environments/<name>.yaml`). */
export function environmentNames(root: string): string[] {
  const dir = join(root, 'environments');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[a-z][a-z0-9-]{1,19}\.yaml$/.test(f))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Where `loadTenants` reports warnings (an empty tenant folder). */
export type WarningSink = (message: string) => void;

export const printWarning: WarningSink = (message) => console.warn(`warning: ${message}`);

/**
 * Every tenant of the repository in `environment`, validated against it and each other, with the
 * tenant files that name other environments only. Throws one ConfigError listing every problem of
 * every tenant file; warnings go to `warn` (stderr by default).
 */
export function loadTenantSet(root: string, environment: Environment, warn: WarningSink = printWarning): Omit<TenantSet, 'problems'> {
  const read = readTenantFiles(root);
  for (const warning of read.warnings) warn(warning);
  const validated = validateTenants(read.entries, environment, environmentNames(root));
  const problems = [...read.problems, ...validated.problems];
  if (problems.length > 0) throw new ConfigError(problems);
  return { tenants: validated.tenants, outside: validated.outside };
}

/** The tenants of `environment` (see loadTenantSet). */
export function loadTenants(root: string, environment: Environment, warn: WarningSink = printWarning): TenantConfig[] {
  return loadTenantSet(root, environment, warn).tenants;
}
