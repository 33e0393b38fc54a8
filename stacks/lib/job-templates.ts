/**
 * Job templates of a tenant: `tenants/<name>/jobs/<job>.yaml`, one recurring job each (a Spark
 * entry point or a SQL file, arguments, Spark properties, executor bounds, release label, retries
 * and parameters with defaults). Each becomes an EMR on EKS job template of the tenant stack and
 * can be started with `npm run job -- submit --tenant <t> --template <job> --param k=v`.
 *
 * Validated like tenant files (the zod schema below is the contract; unknown keys, wrong types,
 * parameters used but not declared or declared but unused are errors), with the same message
 * format, and `tenants/job.schema.json` is generated from it for editors.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, type ConfigProblem, describeValue, problemsFromZod, readYamlFile } from './config-file.js';
import type { Environment } from './environment.js';
import {
  environmentNames,
  ExecutorBoundsSchema,
  MaxAttemptsSchema,
  MIN_RELEASE,
  printWarning,
  RELEASE_LABEL,
  readTenantFiles,
  releaseAtLeast,
  type TenantConfig,
  TENANTS_DIRECTORY,
  type TenantSet,
  validateTenants,
  type WarningSink,
} from './tenant-config.js';

/** Folder of a tenant's job templates, inside its tenant folder. */
export const JOBS_DIRECTORY = 'jobs';
export const JOB_FILE_EXTENSION = '.yaml';

/** Job names: the file name without `.yaml`, a DNS-1123 label (it is part of the EMR template name). */
export const JOB_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const JOB_NAME_MAX = 40;

/** A parameter reference in a template value, as EMR on EKS job templates write it: `${name}`. */
export const PARAMETER_REFERENCE = /\$\{([^}]*)\}/g;
/** Parameter names (EMR accepts more; letters, digits and `_` keep them usable as Hive variables too). */
export const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** An S3 URI, or a key in the tenant bucket (`code/job.py`); either may contain `${parameter}`s. */
const ENTRY_POINT = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+|(?!\/)(?!s3:)[^\s]+)$/;
const ENTRY_EXPECTED = 'an S3 URI such as s3://bucket/code/job.py, or a key in the tenant bucket such as code/job.py';
const SPARK_PROPERTY = /^spark\.[A-Za-z0-9_.\-/:*]+$/;
const HIVEVAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ParameterSchema = z
  .strictObject({
    type: z.enum(['STRING', 'NUMBER']).default('STRING').describe('EMR job template parameter type.'),
    // Required: the EMR job template is created with every parameter at its default, because the
    // AWS provider's aws_emrcontainers_job_template (5.100.0) cannot declare template parameters;
    // `npm run job -- submit --template <job> --param k=v` renders other values itself.
    default: z.union([z.string(), z.number()]).describe('Value of the parameter in the EMR job template and in runs that pass none.'),
    description: z.string().max(256).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.type === 'NUMBER' && (typeof p.default !== 'number' || !Number.isFinite(p.default))) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a number (the parameter type is NUMBER)' });
    }
    if (p.type === 'STRING' && typeof p.default !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a string, quoted (the parameter type is STRING)' });
    }
  });

export const JobTemplateSchema = z
  .strictObject({
    description: z.string().max(256).optional().describe('What the job does.'),
    releaseLabel: z
      .string()
      .regex(RELEASE_LABEL, { error: 'an EMR release label emr-X.Y.Z-latest or emr-X.Y.Z-YYYYMMDD, such as emr-7.12.0-latest', abort: true })
      .refine((label) => releaseAtLeast(label, MIN_RELEASE), `an EMR on EKS release label of at least emr-${MIN_RELEASE}`)
      .optional()
      .describe("EMR release of the job. Default: the tenant's emr.releaseLabel."),
    sparkSubmit: z
      .strictObject({
        entryPoint: z.string().regex(ENTRY_POINT, ENTRY_EXPECTED).describe('Script or jar.'),
        arguments: z.array(z.string()).max(100).default([]).describe('Arguments of the entry point.'),
      })
      .optional()
      .describe('A spark-submit job (sparkSubmitJobDriver). Exactly one of sparkSubmit and sparkSql.'),
    sparkSql: z
      .strictObject({
        entryPoint: z
          .string()
          .regex(ENTRY_POINT, ENTRY_EXPECTED)
          .refine((text) => text.endsWith('.sql'), 'a .sql file')
          .describe('SQL file.'),
        hivevars: z
          .record(z.string().regex(HIVEVAR_NAME, 'a Hive variable name (letters, digits, _)'), z.string())
          .default({})
          .describe('-hivevar NAME=VALUE pairs.'),
      })
      .optional()
      .describe('A Spark SQL job (sparkSqlJobDriver, EMR 6.7.0+). Exactly one of sparkSubmit and sparkSql.'),
    sparkConf: z
      .record(z.string().regex(SPARK_PROPERTY, 'a Spark property name such as spark.executor.memory'), z.string())
      .default({})
      .describe('Spark properties of the job (on top of the tenant defaults).'),
    executors: ExecutorBoundsSchema.optional().describe("Dynamic allocation bounds. Default: the tenant's jobDefaults.executors."),
    maxAttempts: MaxAttemptsSchema.optional().describe("StartJobRun retryPolicy.maxAttempts. Default: the tenant's jobDefaults.maxAttempts."),
    parameters: z
      .record(z.string().regex(PARAMETER_NAME, 'a parameter name (a letter, then letters, digits or _, at most 64)'), ParameterSchema)
      .default({})
      .describe('Parameters referenced as ${name} in entry points, arguments, hivevars and Spark property values.'),
  })
  .superRefine((job, ctx) => {
    if ((job.sparkSubmit === undefined) === (job.sparkSql === undefined)) {
      ctx.addIssue({ code: 'custom', path: job.sparkSubmit ? ['sparkSql'] : ['sparkSubmit'], message: 'exactly one of sparkSubmit (spark-submit job) and sparkSql (SQL job)' });
      return;
    }
    const declared = new Set(Object.keys(job.parameters));
    const used = new Set<string>();
    for (const [path, value] of templatedValues(job)) {
      for (const [, name] of value.matchAll(PARAMETER_REFERENCE)) {
        used.add(name!);
        if (!declared.has(name!)) {
          ctx.addIssue({ code: 'custom', path, message: `only declared parameters in \${...} (declare "${name}" under parameters, or remove the reference)` });
        }
      }
    }
    for (const name of declared) {
      if (!used.has(name)) ctx.addIssue({ code: 'custom', path: ['parameters', name], message: 'a parameter referenced as ${' + name + '} somewhere in the job (unused parameters are rejected so typos surface)' });
    }
  })
  .describe('A job template of a tenant: tenants/<tenant>/jobs/<job>.yaml.');

export type JobTemplateInput = z.input<typeof JobTemplateSchema>;

/** A validated job template. */
export type JobTemplate = z.output<typeof JobTemplateSchema> & {
  /** File name without `.yaml`. */
  readonly name: string;
  /** The tenant it belongs to. */
  readonly tenant: string;
  /** `tenants/<tenant>/jobs/<name>.yaml`, as shown in messages. */
  readonly file: string;
};

type Path = (string | number)[];

/** Every string of a job that may carry `${parameter}` references, with its field path. */
function templatedValues(job: z.output<typeof JobTemplateSchema>): [Path, string][] {
  const values: [Path, string][] = [];
  if (job.sparkSubmit) {
    values.push([['sparkSubmit', 'entryPoint'], job.sparkSubmit.entryPoint]);
    job.sparkSubmit.arguments.forEach((arg, i) => values.push([['sparkSubmit', 'arguments', i], arg]));
  }
  if (job.sparkSql) {
    values.push([['sparkSql', 'entryPoint'], job.sparkSql.entryPoint]);
    for (const [key, value] of Object.entries(job.sparkSql.hivevars)) values.push([['sparkSql', 'hivevars', key], value]);
  }
  for (const [key, value] of Object.entries(job.sparkConf)) values.push([['sparkConf', key], value]);
  return values;
}

/** `tenants/<tenant>/jobs/<job>.yaml`, as shown in messages. */
export function jobTemplateFileDisplay(tenant: string, job: string): string {
  return `${TENANTS_DIRECTORY}/${tenant}/${JOBS_DIRECTORY}/${job}${JOB_FILE_EXTENSION}`;
}

/** Validates one job template file's content. */
export function validateJobTemplate(tenant: string, name: string, raw: unknown): { template?: JobTemplate; problems: ConfigProblem[] } {
  const file = jobTemplateFileDisplay(tenant, name);
  const problems: ConfigProblem[] = [];
  if (!JOB_NAME.test(name) || name.length > JOB_NAME_MAX) {
    problems.push({ file, field: '(file name)', expected: `a job name of 1-${JOB_NAME_MAX} lowercase letters, digits and - (a DNS-1123 label) before ${JOB_FILE_EXTENSION}`, found: describeValue(name) });
  }
  const result = JobTemplateSchema.safeParse(raw);
  if (!result.success) return { problems: [...problems, ...problemsFromZod(file, raw, result.error.issues)] };
  return problems.length > 0 ? { problems } : { template: { ...result.data, name, tenant, file }, problems };
}

/**
 * Reads and validates the job templates of one tenant folder. Anything in `jobs/` that is not a
 * `<job>.yaml` file (say a `.yml` typo or a folder) is a problem, not silently skipped.
 */
export function readJobTemplates(root: string, tenant: string): { templates: JobTemplate[]; problems: ConfigProblem[] } {
  const dir = join(root, TENANTS_DIRECTORY, tenant, JOBS_DIRECTORY);
  const templates: JobTemplate[] = [];
  const problems: ConfigProblem[] = [];
  if (!existsSync(dir)) return { templates, problems };
  for (const entry of readdirSync(dir).filter((f) => !f.startsWith('.')).sort()) {
    const path = join(dir, entry);
    if (!entry.endsWith(JOB_FILE_EXTENSION) || !statSync(path).isFile()) {
      problems.push({
        file: `${TENANTS_DIRECTORY}/${tenant}/${JOBS_DIRECTORY}/${entry}`,
        field: '(file)',
        expected: `a job template file <job>${JOB_FILE_EXTENSION} (every entry of ${JOBS_DIRECTORY}/ is one job template)`,
        found: statSync(path).isFile() ? 'a file with another extension' : 'a folder',
      });
      continue;
    }
    const name = entry.slice(0, -JOB_FILE_EXTENSION.length);
    try {
      const result = validateJobTemplate(tenant, name, readYamlFile(path, jobTemplateFileDisplay(tenant, name)));
      problems.push(...result.problems);
      if (result.template) templates.push(result.template);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  return { templates, problems };
}

/** A tenant with its job templates. */
export type TenantWithJobs = TenantConfig & { readonly jobTemplates: readonly JobTemplate[] };

/** The tenants of one environment with their job templates, and the tenant files that name other environments. */
export interface TenantSetWithJobs {
  readonly tenants: TenantWithJobs[];
  readonly outside: TenantSet['outside'];
}

/**
 * Every tenant of the environment with its job templates, validated against the environment and
 * each other (see loadTenantSet). Job templates of every tenant folder are validated, those of
 * tenants in other environments too. Throws one ConfigError listing every problem of every tenant
 * and job template file.
 */
export function loadTenantSetWithJobs(root: string, environment: Environment, warn: WarningSink = printWarning): TenantSetWithJobs {
  const read = readTenantFiles(root);
  for (const warning of read.warnings) warn(warning);
  const validated = validateTenants(read.entries, environment, environmentNames(root));
  const problems = [...read.problems, ...validated.problems];
  const tenants: TenantWithJobs[] = [];
  for (const entry of read.entries) {
    const jobs = readJobTemplates(root, entry.folder);
    problems.push(...jobs.problems);
    const tenant = validated.tenants.find((t) => t.file === entry.file);
    if (tenant) tenants.push({ ...tenant, jobTemplates: jobs.templates });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { tenants, outside: validated.outside };
}

/** The tenants of the environment with their job templates (see loadTenantSetWithJobs). */
export function loadTenantsWithJobs(root: string, environment: Environment, warn: WarningSink = printWarning): TenantWithJobs[] {
  return loadTenantSetWithJobs(root, environment, warn).tenants;
}
