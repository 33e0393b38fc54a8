/**
 * The tenant file (`tenants/<name>/tenant.yaml`): one data team, one namespace, one stack
 * `tenant-<name>`. The zod schema in tenant-schema.ts is the contract (field names are public API):
 * it validates files, types the tenant stack, and generates `tenants/tenant.schema.json` for
 * editors; this module reads the files and runs the checks the schema alone cannot.
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
import { ConfigError, type ConfigProblem, describeValue, problemsFromZod, readYamlFile } from './config-file.js';
import type { Environment } from './environment.js';
import { tenantSchedulingProblems } from './scheduling-config.js';
import { type ExecutorCapacity, type TenantConfig, TenantSchema } from './tenant-schema.js';
import { applyEnvironmentOverride, fieldFor, isRecord, isTenantInEnvironment, tenantEnvironments } from './tenant-environments.js';

export { applyEnvironmentOverride, isTenantInEnvironment, tenantEnvironments } from './tenant-environments.js';

/** Folder holding one folder per tenant, relative to the repository root. */
export const TENANTS_DIRECTORY = 'tenants';
export const TENANT_FILE = 'tenant.yaml';

export * from './tenant-schema.js';

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
  // Queue and gang scheduling against the tenant's own quota and the environment (YuniKorn).
  for (const problem of tenantSchedulingProblems(tenant, environment)) problems.push({ ...problem, field: fieldFor(raw, environment.name, problem.field.split('.')) });
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
