/**
 * `npm run new-tenant -- <name> [--owner <role-arn>]... [--cpu 100] [--memory 400Gi]
 *  [--description <text>] [--environments dev,prod] [--env <environment>]`
 *
 * Writes `tenants/<name>/tenant.yaml`: a valid tenant file with the schema line for editors,
 * every optional field shown, commented, with its default, and the environments the tenant is in
 * (default: every environment file), each with its overrides. The file is validated for every
 * environment it names (schema, the environment, and the other tenants: names and owners) before
 * anything is written; an existing folder is never overwritten. Exit codes: 0 written, 1 invalid
 * tenant, 2 usage error.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { ConfigError, type ConfigProblem, formatProblem, problemsFromZod } from '../stacks/lib/config-file.js';
import { loadEnvironment, selectedEnvironmentName, type Environment } from '../stacks/lib/environment.js';
import { tenantStackName } from '../stacks/tenant/contract.js';
import {
  environmentNames,
  type EnvironmentOverride,
  readTenantFiles,
  TENANT_FILE,
  tenantDefaults,
  tenantFileDisplay,
  TenantSchema,
  TENANTS_DIRECTORY,
  validateTenants,
} from '../stacks/lib/tenant-config.js';
import { DEFAULT_MAX_CONCURRENT_JOBS } from '../modules/tenant/namespace-objects.js';
import { repositoryRoot } from './lib/paths.js';

export const USAGE = `usage: npm run new-tenant -- <name> [--owner <role-arn>]... [--cpu <quantity>] [--memory <quantity>]
                           [--description <text>] [--environments <env,env>] [--env <environment>]

Writes tenants/<name>/tenant.yaml (validated for every environment it names; never overwrites).
<name> is a DNS-1123 label of 3-40 characters (lowercase letters, digits, -) and becomes the
namespace and the stack tenant-<name>. --environments: where the tenant is deployed (default: every
environments/<env>.yaml). Without --owner, a placeholder role arn:aws:iam::<account>:role/<name>-engineers
is written, per environment when the environments are in different accounts.`;

export interface NewTenantOptions {
  readonly name: string;
  readonly owners: readonly string[];
  readonly cpu: string;
  readonly memory: string;
  readonly description?: string;
  /**
   * The environments the tenant is in, each with its overrides (`{}`: none).
   * @default every environment file of the repository, without overrides
   */
  readonly environments?: Readonly<Record<string, EnvironmentOverride>>;
}

function commented(value: unknown): string {
  return stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((line) => `#   ${line}`)
    .join('\n');
}

function environmentsBlock(name: string, environments: Readonly<Record<string, EnvironmentOverride>>): string[] {
  const example = Object.keys(environments).at(-1) ?? 'prod';
  return [
    '# Environments this tenant is deployed to (a file without this section is in every environment).',
    '# Each may override owners, quota, spark and data.readBuckets (roles of its own account, a quota):',
    `# example: ${example}: { owners: [arn:aws:iam::<account>:role/${name}-engineers], quota: { cpu: "800" } }`,
    'environments:',
    ...Object.entries(environments).map(([env, override]) => `  ${env}: ${stringify(override, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()}`),
  ];
}

/** The text of a new tenant file. Optional sections are written commented out, with their defaults. */
export function tenantFileText(options: NewTenantOptions): string {
  const defaults = tenantDefaults();
  const required = stringify(
    {
      name: options.name,
      ...(options.description ? { description: options.description } : {}),
      owners: [...options.owners],
      quota: { cpu: options.cpu, memory: options.memory },
    },
    { lineWidth: 0, defaultStringType: 'PLAIN' },
  );
  return [
    '# yaml-language-server: $schema=../tenant.schema.json',
    `# Tenant ${options.name}: one folder = one stack tenant-${options.name} with its own Terraform state.`,
    '# Field reference: README.md, section "Tenants". Uncomment a field to change its default.',
    required.trimEnd(),
    '#   pods: 1000               # optional cap on the number of pods',
    `#   maxConcurrentJobs: ${DEFAULT_MAX_CONCURRENT_JOBS}    # Spark drivers (jobs) running at once`,
    '# queue:                      # YuniKorn queue root.tenants.<name> (scheduling.batchScheduler: yunikorn); guaranteed = quota',
    '#   max: { cpu: "<more than quota.cpu>", memory: <more than quota.memory> }   # default: the quota',
    '#   maxRunningJobs: 10        # jobs running at once, more wait in the queue (up to quota.maxConcurrentJobs); default: quota.maxConcurrentJobs',
    commented({ ordering: defaults.queue.ordering }),
    '# spark:',
    '#   zone: <one of the environment availability zones>   # unset: each job stays in its driver zone',
    commented({ architecture: defaults.spark.architecture, driverCapacity: defaults.spark.driverCapacity }),
    commented({ executorCapacity: defaults.spark.executorCapacity, localStorage: defaults.spark.localStorage, dedicatedNodes: defaults.spark.dedicatedNodes }),
    '# emr:',
    commented(defaults.emr),
    '# data:',
    commented(defaults.data),
    '# jobDefaults:                 # published in configurationOverrides and retryPolicyConfiguration',
    commented(defaults.jobDefaults),
    '# notifications:               # job-run state changes to an encrypted SNS topic (email, SQS)',
    '#   states: [FAILED]',
    '#   emails: [data-oncall@example.com]',
    `# Recurring jobs: tenants/${options.name}/jobs/<job>.yaml (README.md, section "Job templates").`,
    '# network:                  # beyond DNS, the namespace, HTTPS out and monitoring in, e.g.',
    '#                            # egress: [{cidr: 10.20.0.0/16, ports: [5432]}], ingress: [{namespace: airflow, ports: [4040]}]',
    commented(defaults.network),
    '# cost:',
    '#   dailyBudgetUsd: 500      # optional: alert when the last 24 hours cost more (USD)',
    ...(options.environments ? environmentsBlock(options.name, options.environments) : []),
    '',
  ].join('\n');
}

export interface NewTenantResult {
  readonly file: string;
  readonly text: string;
  /** Problems in other tenant files (reported, not fatal: they are not this command's business). */
  readonly warnings: readonly string[];
}

/**
 * Validates and writes a new tenant under `root`. Throws ConfigError naming the new file and the
 * field when the tenant would be invalid (alone or with the existing tenants), or when its folder
 * exists.
 */
export function createTenant(root: string, environment: Environment, options: NewTenantOptions): NewTenantResult {
  const file = tenantFileDisplay(options.name);
  // The name first: it becomes a path.
  const name = TenantSchema.shape.name.safeParse(options.name);
  if (!name.success) throw new ConfigError(problemsFromZod(file, { name: options.name }, name.error.issues.map((i) => ({ ...i, path: ['name', ...i.path] }))));
  const folder = join(root, TENANTS_DIRECTORY, options.name);
  if (existsSync(folder)) {
    throw new ConfigError([{ file, field: '(file)', expected: 'a tenant folder that does not exist yet (new-tenant never overwrites)', found: `existing ${TENANTS_DIRECTORY}/${options.name}/` }]);
  }
  const known = environmentNames(root);
  const environments = options.environments ?? Object.fromEntries((known.length > 0 ? known : [environment.name]).map((env) => [env, {}]));
  const unknown = Object.keys(environments).filter((env) => !known.includes(env));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((env) => ({ file, field: `environments.${env}`, expected: `an environment of this repository (${known.join(', ')})`, found: JSON.stringify(env) })));
  }
  const text = tenantFileText({ ...options, environments });
  const existing = readTenantFiles(root);
  const entries = [...existing.entries, { folder: options.name, file, raw: parse(text) as unknown }];
  // Valid in every environment it names, alone and with the tenants already there.
  const mine = new Map<string, ConfigProblem>();
  const others = new Map<string, ConfigProblem>();
  for (const env of Object.keys(environments)) {
    const loaded = env === environment.name ? environment : loadEnvironment(root, env);
    for (const problem of validateTenants(entries, loaded, known).problems) (problem.file === file ? mine : others).set(formatProblem(problem), problem);
  }
  if (mine.size > 0) throw new ConfigError([...mine.values()]);
  const warnings = [...existing.problems.map(formatProblem), ...existing.warnings, ...others.keys()];
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, TENANT_FILE), text);
  return { file, text, warnings };
}

/**
 * The owners of a new tenant and its environments' overrides. Without `--owner`, placeholder
 * roles `<name>-engineers` of each environment's own account (a tenant must not give prod access
 * to dev-account roles by default); owners given are kept in every environment (STANDARD access
 * entries accept roles of other accounts). Unknown environment names are left to createTenant.
 */
export function ownersByEnvironment(
  root: string,
  environment: Environment,
  name: string,
  environmentNamesWanted: readonly string[],
  given?: readonly string[],
): { owners: string[]; environments: Record<string, EnvironmentOverride> } {
  const placeholderOf = (accountId: string) => `arn:aws:iam::${accountId}:role/${name}-engineers`;
  const known = environmentNames(root);
  const environments: Record<string, EnvironmentOverride> = {};
  for (const env of environmentNamesWanted) {
    const accountId = env === environment.name || !known.includes(env) ? environment.accountId : loadEnvironment(root, env).accountId;
    environments[env] = !given && accountId !== environment.accountId ? { owners: [placeholderOf(accountId)] } : {};
  }
  return { owners: given ? [...given] : [placeholderOf(environment.accountId)], environments };
}

/** What to run after new-tenant: deploy only the tenant, never its upstream stacks. */
export function nextSteps(name: string, environments: readonly string[]): string[] {
  const stack = tenantStackName(name);
  return [
    'next: review the file, open a pull request (CI plans only this tenant), or deploy it by hand, per environment:',
    ...environments.map((env) => `  PLATFORM_ENV=${env} npx cdktf deploy ${stack} --ignore-missing-stack-dependencies`),
    `  (or: npx nx run ${stack}:deploy --exclude-task-dependencies; without that flag Nx deploys every upstream stack first)`,
  ];
}

function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        owner: { type: 'string', multiple: true },
        cpu: { type: 'string', default: '100' },
        memory: { type: 'string', default: '400Gi' },
        description: { type: 'string' },
        environments: { type: 'string' },
        env: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`new-tenant: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`new-tenant: expected exactly one tenant name, found ${parsed.positionals.length}\n${USAGE}`);
    return 2;
  }
  const name = parsed.positionals[0]!;
  const root = repositoryRoot();
  try {
    const environment = loadEnvironment(root, parsed.values.env ?? selectedEnvironmentName());
    const names = parsed.values.environments?.split(',').map((e) => e.trim()).filter(Boolean) ?? environmentNames(root);
    const placeholder = parsed.values.owner === undefined;
    const { owners, environments } = ownersByEnvironment(root, environment, name, names, parsed.values.owner);
    const result = createTenant(root, environment, {
      name,
      owners,
      cpu: parsed.values.cpu!,
      memory: parsed.values.memory!,
      environments,
      ...(parsed.values.description ? { description: parsed.values.description } : {}),
    });
    console.log(`new-tenant: wrote ${result.file}`);
    if (placeholder) console.log(`new-tenant: owners are placeholders (${[owners[0], ...Object.values(environments).flatMap((o) => o.owners ?? [])].join(', ')}): replace them with the team's IAM role(s) before deploying`);
    for (const warning of result.warnings) console.warn(`new-tenant: warning (another tenant file): ${warning}`);
    for (const line of nextSteps(name, Object.keys(environments))) console.log(line);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`new-tenant: invalid tenant (nothing was written)\n${error.message}`);
      return 1;
    }
    throw error;
  }
}

// Run only as a program, not when tests import the functions above.
if (process.argv[1] && existsSync(process.argv[1]) && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
