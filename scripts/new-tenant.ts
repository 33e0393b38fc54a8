/**
 * `npm run new-tenant -- <name> [--owner <role-arn>]... [--cpu 100] [--memory 400Gi]
 *  [--description <text>] [--env <environment>]`
 *
 * Writes `tenants/<name>/tenant.yaml`: a valid tenant file with the schema line for editors and
 * every optional field shown, commented, with its default. The file is validated (schema, the
 * environment, and the other tenants: names and owners) before anything is written; an existing
 * folder is never overwritten. Exit codes: 0 written, 1 invalid tenant, 2 usage error.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { ConfigError, formatProblem, problemsFromZod } from '../stacks/lib/config-file.js';
import { loadEnvironment, selectedEnvironmentName, type Environment } from '../stacks/lib/environment.js';
import {
  readTenantFiles,
  TENANT_FILE,
  tenantDefaults,
  tenantFileDisplay,
  TenantSchema,
  TENANTS_DIRECTORY,
  validateTenants,
} from '../stacks/lib/tenant-config.js';
import { repositoryRoot } from './lib/paths.js';

export const USAGE = `usage: npm run new-tenant -- <name> [--owner <role-arn>]... [--cpu <quantity>] [--memory <quantity>]
                           [--description <text>] [--env <environment>]

Writes tenants/<name>/tenant.yaml (validated; never overwrites). <name> is a DNS-1123 label of
3-40 characters (lowercase letters, digits, -) and becomes the namespace and the stack tenant-<name>.
Without --owner, a placeholder role arn:aws:iam::<account>:role/<name>-engineers is written.`;

export interface NewTenantOptions {
  readonly name: string;
  readonly owners: readonly string[];
  readonly cpu: string;
  readonly memory: string;
  readonly description?: string;
}

function commented(value: unknown): string {
  return stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((line) => `#   ${line}`)
    .join('\n');
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
    '# spark:',
    '#   zone: <one of the environment availability zones>   # unset: each job stays in its driver zone',
    commented({ architecture: defaults.spark.architecture, driverCapacity: defaults.spark.driverCapacity }),
    commented({ executorCapacity: defaults.spark.executorCapacity, localStorage: defaults.spark.localStorage, dedicatedNodes: defaults.spark.dedicatedNodes }),
    '# emr:',
    commented(defaults.emr),
    '# data:',
    commented(defaults.data),
    '# cost:',
    '#   dailyBudgetUsd: 500      # optional: alert when the last 24 hours cost more (USD)',
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
  const text = tenantFileText(options);
  const existing = readTenantFiles(root);
  const validated = validateTenants([...existing.entries, { folder: options.name, file, raw: parse(text) as unknown }], environment);
  const mine = validated.problems.filter((p) => p.file === file);
  if (mine.length > 0) throw new ConfigError(mine);
  const warnings = [...existing.problems, ...validated.problems.filter((p) => p.file !== file)].map(formatProblem);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, TENANT_FILE), text);
  return { file, text, warnings };
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
    const placeholder = parsed.values.owner === undefined;
    const owners = parsed.values.owner ?? [`arn:aws:iam::${environment.accountId}:role/${name}-engineers`];
    const result = createTenant(root, environment, {
      name,
      owners,
      cpu: parsed.values.cpu!,
      memory: parsed.values.memory!,
      ...(parsed.values.description ? { description: parsed.values.description } : {}),
    });
    console.log(`new-tenant: wrote ${result.file}`);
    if (placeholder) console.log(`new-tenant: owners is a placeholder (${owners[0]}): replace it with the team's IAM role(s) before deploying`);
    for (const warning of result.warnings) console.warn(`new-tenant: warning (another tenant file): ${warning}`);
    console.log(`next: review the file, then \`npm run synth\` and \`npx nx run tenant-${name}:deploy\``);
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
