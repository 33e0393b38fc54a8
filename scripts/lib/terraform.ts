/**
 * Offline Terraform: locating the `terraform` binary and the provider filesystem mirror, and
 * running terraform with a CLI configuration that installs providers only from that mirror.
 *
 * The mirror root comes from `TF_PROVIDER_MIRROR` (the folder that contains
 * `registry.terraform.io/`). When it is unset, a few well-known locations are searched; when
 * nothing is found, callers get a `TerraformUnavailableError` that says exactly what is missing.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const MIRROR_ENV = 'TF_PROVIDER_MIRROR';

/**
 * The oldest Terraform the platform runs on: the observability stacks use ephemeral values and
 * write-only arguments (1.11); S3-native state locking needs 1.10. The workflows pin a 1.11 release.
 */
export const MINIMUM_TERRAFORM_VERSION = '1.11';

/** Where a provider mirror is looked for when `TF_PROVIDER_MIRROR` is unset. */
const MIRROR_CANDIDATES = ['/opt/tf-plugins', '/usr/share/terraform/plugins', '/usr/local/share/terraform/plugins'];

export class TerraformUnavailableError extends Error {
  override name = 'TerraformUnavailableError';
}

export function findTerraform(): string {
  const explicit = process.env.TERRAFORM_BIN;
  if (explicit) {
    if (!existsSync(explicit)) throw new TerraformUnavailableError(`TERRAFORM_BIN=${explicit} does not exist`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'terraform');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new TerraformUnavailableError(`terraform is not on PATH (install Terraform >= ${MINIMUM_TERRAFORM_VERSION} or set TERRAFORM_BIN)`);
}

/**
 * The terraform binary for a command-line tool, or undefined after printing
 * `<command>: <what is missing>` to stderr (the caller then exits 2). Other errors propagate.
 */
export function terraformForCommand(command: string): string | undefined {
  try {
    return findTerraform();
  } catch (error) {
    if (!(error instanceof TerraformUnavailableError)) throw error;
    console.error(`${command}: ${error.message}`);
    return undefined;
  }
}

/** Providers (e.g. `hashicorp/aws`) and versions available in a mirror root. */
export function mirroredProviders(root: string): Map<string, string[]> {
  const providers = new Map<string, string[]>();
  const registry = join(root, 'registry.terraform.io');
  if (!existsSync(registry)) return providers;
  for (const namespace of readdirSync(registry)) {
    for (const type of readdirSync(join(registry, namespace))) {
      providers.set(`${namespace}/${type}`, readdirSync(join(registry, namespace, type)));
    }
  }
  return providers;
}

export function findProviderMirror(): string {
  const explicit = process.env[MIRROR_ENV];
  if (explicit) {
    if (!existsSync(join(explicit, 'registry.terraform.io'))) {
      throw new TerraformUnavailableError(
        `${MIRROR_ENV}=${explicit} is not a Terraform provider mirror (expected ${join(explicit, 'registry.terraform.io')} to exist)`,
      );
    }
    return explicit;
  }
  for (const candidate of MIRROR_CANDIDATES) {
    if (existsSync(join(candidate, 'registry.terraform.io'))) return candidate;
  }
  throw new TerraformUnavailableError(
    `no Terraform provider mirror found: set ${MIRROR_ENV} to the folder that contains registry.terraform.io/ ` +
      `(searched ${MIRROR_CANDIDATES.join(', ')}; find one with ` +
      `find / -xdev -path '*registry.terraform.io/hashicorp/aws/*' -name 'terraform-provider-aws_*')`,
  );
}

export interface OfflineTerraform {
  readonly bin: string;
  readonly mirror: string;
  /** Environment for terraform: CLI config pointing at the mirror, no checkpoint calls, fake credentials. */
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], cwd: string, options?: { allowFailure?: boolean }): SpawnSyncReturns<string>;
}

/** A terraform runner that installs providers only from the offline mirror. */
export function offlineTerraform(): OfflineTerraform {
  const bin = findTerraform();
  const mirror = findProviderMirror();
  const configDir = join(tmpdir(), 'platform-terraform');
  mkdirSync(configDir, { recursive: true });
  const cliConfig = join(configDir, 'offline.tfrc');
  writeFileSync(
    cliConfig,
    `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n` +
      `plugin_cache_dir = ${JSON.stringify(join(configDir, 'plugin-cache'))}\n`,
  );
  mkdirSync(join(configDir, 'plugin-cache'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: 'AKIAOFFLINEVALIDATION',
    AWS_SECRET_ACCESS_KEY: 'offline-validation-not-a-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return {
    bin,
    mirror,
    env,
    run(args, cwd, options = {}) {
      const result = spawnSync(bin, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      if (!options.allowFailure && result.status !== 0) {
        throw new Error(`terraform ${args.join(' ')} failed in ${cwd}:\n${result.stderr || result.stdout}`);
      }
      return result;
    },
  };
}

export type TerraformJson = {
  terraform?: { backend?: unknown };
  provider?: { aws?: Record<string, unknown>[] };
  [key: string]: unknown;
};

/** Rewrites a synthesized stack so it plans offline: local state and a provider that never calls AWS. */
export function offlinePlanConfig(stackJson: TerraformJson): TerraformJson {
  const copy = structuredClone(stackJson);
  if (copy.terraform) delete copy.terraform.backend;
  copy.provider = {
    ...copy.provider,
    aws: (copy.provider?.aws ?? [{}]).map((p) => ({
      ...p,
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
      allowed_account_ids: undefined,
    })),
  };
  return copy;
}


const AWS_ONLY_PROVIDERS = new Set(['aws']);

/** Whether a resource or data source type belongs to a provider in the offline mirror. */
function isMirrored(type: string): boolean {
  return type.startsWith('aws_') || type === 'terraform_remote_state';
}

/**
 * The AWS part of a stack that also uses providers outside the offline mirror (kubernetes, helm):
 * other providers, their resources and data sources, dependencies on them and outputs that
 * reference them are dropped, so `terraform validate` can check every AWS resource offline.
 * Returns the dropped resource types too, for the report.
 */
export function awsPartOf(stackJson: TerraformJson): { config: TerraformJson; dropped: string[] } {
  const copy = structuredClone(stackJson) as TerraformJson & {
    terraform?: { required_providers?: Record<string, unknown> };
    resource?: Record<string, Record<string, Record<string, unknown>>>;
    data?: Record<string, Record<string, Record<string, unknown>>>;
    ephemeral?: Record<string, Record<string, Record<string, unknown>>>;
    output?: Record<string, Record<string, unknown>>;
  };
  const dropped = new Set<string>();
  for (const provider of Object.keys(copy.provider ?? {})) if (!AWS_ONLY_PROVIDERS.has(provider)) delete (copy.provider as Record<string, unknown>)[provider];
  const requiredProviders = copy.terraform?.required_providers;
  if (requiredProviders) for (const name of Object.keys(requiredProviders)) if (!AWS_ONLY_PROVIDERS.has(name)) delete requiredProviders[name];
  for (const block of ['resource', 'data', 'ephemeral'] as const) {
    const types = copy[block];
    if (!types) continue;
    for (const type of Object.keys(types)) {
      if (!isMirrored(type)) {
        dropped.add(type);
        delete types[type];
      }
    }
  }
  const references = (value: unknown) => [...dropped].some((type) => JSON.stringify(value).includes(`${type}.`));
  for (const block of ['resource', 'data', 'ephemeral'] as const) {
    for (const instances of Object.values(copy[block] ?? {})) {
      for (const body of Object.values(instances)) {
        if (Array.isArray(body.depends_on)) {
          body.depends_on = (body.depends_on as string[]).filter((d) => ![...dropped].some((type) => d.startsWith(`${type}.`)));
          if ((body.depends_on as string[]).length === 0) delete body.depends_on;
        }
      }
    }
  }
  for (const [name, output] of Object.entries(copy.output ?? {})) if (references(output)) delete copy.output![name];
  return { config: copy, dropped: [...dropped].sort() };
}
