/**
 * The tenant file (`tenants/<name>/tenant.yaml`): one data team, one namespace, one stack
 * `tenant-<name>`. The zod schema below is the contract (field names are public API): it validates
 * files, types the tenant stack, and generates `tenants/tenant.schema.json` for editors.
 *
 * `loadTenants` reads every tenant folder, checks each file against the schema and the
 * environment, then checks the tenants against each other, and throws one ConfigError listing
 * every problem in every file, so `synth` writes nothing until all tenants are valid.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { reservedNamespaceReason, reservedNamespaceSummary } from '../../modules/scheduling/namespaces.js';
import { ConfigError, type ConfigProblem, describeValue, problemsFromZod, readYamlFile } from './config-file.js';
import type { Environment } from './environment.js';

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
  })
  .describe('ResourceQuota of the namespace.');

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
    owners: z
      .array(z.string().regex(IAM_ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::111122223333:role/analytics-engineers'))
      .min(1)
      .max(20)
      .describe('IAM roles of the team: namespace-scoped Kubernetes access (EKS access entries) and a job submission policy to attach.'),
    quota: QuotaSchema,
    spark: SparkSchema.default(() => SparkSchema.parse({})),
    emr: EmrSchema.default(() => EmrSchema.parse({})),
    data: DataSchema.default(() => DataSchema.parse({})),
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
  });

export type TenantInput = z.input<typeof TenantSchema>;

/** A validated tenant, with defaults applied. */
export type TenantConfig = z.output<typeof TenantSchema> & {
  /** The file it was read from, relative to the repository root (`tenants/<name>/tenant.yaml`). */
  readonly file: string;
};

/** The values a tenant gets for every optional field it leaves out. */
export function tenantDefaults(): Pick<z.output<typeof TenantSchema>, 'spark' | 'emr' | 'data'> {
  return { spark: SparkSchema.parse({}), emr: EmrSchema.parse({}), data: DataSchema.parse({}) };
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
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).name : undefined;
}

/** Validates one tenant file against the schema, its folder and the environment. */
function validateOne(entry: RawTenant, environment: Environment): { tenant?: TenantConfig; problems: ConfigProblem[] } {
  const { file, folder, raw } = entry;
  const problems: ConfigProblem[] = [];
  const name = rawName(raw);
  if (typeof name === 'string' && name !== folder) {
    problems.push({ file, field: 'name', expected: `"${folder}" (the folder name: each folder under tenants/ is one tenant)`, found: describeValue(name) });
  }
  const result = TenantSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...problemsFromZod(file, raw, result.error.issues));
    return { problems };
  }
  const tenant: TenantConfig = { ...result.data, file };
  const zone = tenant.spark.zone;
  if (zone !== undefined && !environment.availabilityZones.includes(zone)) {
    problems.push({
      file,
      field: 'spark.zone',
      expected: `one of the availability zones of environment ${environment.name} (${environment.availabilityZones.join(', ')})`,
      found: describeValue(zone),
    });
  }
  tenant.owners.forEach((owner, i) => {
    if (environment.adminRoleArns.includes(owner)) {
      problems.push({
        file,
        field: `owners[${i}]`,
        expected: `a role that is not a platform admin (it already has a cluster-wide access entry from adminRoleArns in ${environment.file}, and EKS allows one access entry per principal)`,
        found: describeValue(owner),
      });
    }
  });
  return problems.length > 0 ? { problems } : { tenant, problems };
}

/**
 * Validates a set of tenant files: each on its own, then against each other (names, owners).
 * Returns the valid tenants (sorted by name) and every problem found.
 */
export function validateTenants(entries: readonly RawTenant[], environment: Environment): { tenants: TenantConfig[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const tenants: TenantConfig[] = [];
  const parsedOwners: { file: string; owners: unknown[] }[] = [];
  const names = new Map<string, string>();
  for (const entry of entries) {
    const result = validateOne(entry, environment);
    problems.push(...result.problems);
    if (result.tenant) tenants.push(result.tenant);
    const name = rawName(entry.raw);
    if (typeof name === 'string') {
      const other = names.get(name);
      if (other !== undefined) {
        problems.push({ file: entry.file, field: 'name', expected: `a name no other tenant uses (${other} is already tenant "${name}")`, found: describeValue(name) });
      } else {
        names.set(name, entry.file);
      }
    }
    const owners = entry.raw !== null && typeof entry.raw === 'object' ? (entry.raw as Record<string, unknown>).owners : undefined;
    if (Array.isArray(owners)) parsedOwners.push({ file: entry.file, owners });
  }
  // An owner role can own one tenant only: EKS allows one access entry per principal per cluster,
  // and every tenant manages its own entries in its own state.
  const ownerOf = new Map<string, { file: string; index: number }>();
  for (const { file, owners } of parsedOwners) {
    owners.forEach((owner, index) => {
      if (typeof owner !== 'string') return;
      const first = ownerOf.get(owner);
      if (first === undefined) {
        ownerOf.set(owner, { file, index });
      } else if (first.file !== file) {
        problems.push({
          file,
          field: `owners[${index}]`,
          expected: `a role that owns no other tenant (it is already owners[${first.index}] of ${first.file}; EKS allows one access entry per IAM principal per cluster)`,
          found: describeValue(owner),
        });
      }
    });
  }
  tenants.sort((a, b) => a.name.localeCompare(b.name));
  return { tenants, problems };
}

/**
 * Reads the tenant folders under `<root>/tenants`: every folder with a `tenant.yaml`. A folder
 * with files but no `tenant.yaml` (say a `tenant.yml` typo) is a problem, not silently skipped.
 */
export function readTenantFiles(root: string): { entries: RawTenant[]; problems: ConfigProblem[] } {
  const dir = join(root, TENANTS_DIRECTORY);
  const entries: RawTenant[] = [];
  const problems: ConfigProblem[] = [];
  if (!existsSync(dir)) return { entries, problems };
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
  return { entries, problems };
}

/**
 * Every tenant of the repository, validated against the environment and each other. Throws one
 * ConfigError listing every problem of every tenant file.
 */
export function loadTenants(root: string, environment: Environment): TenantConfig[] {
  const read = readTenantFiles(root);
  const validated = validateTenants(read.entries, environment);
  const problems = [...read.problems, ...validated.problems];
  if (problems.length > 0) throw new ConfigError(problems);
  return validated.tenants;
}
