/**
 * Tenants per environment, on the raw content of a tenant file: which environments it names,
 * the file merged with one environment's overrides, and where a merged value came from (so errors
 * point at `environments.<env>.<field>` when the override set it). The schema of the overrides,
 * `EnvironmentOverrideSchema`, lives with the tenant schema in tenant-config.ts.
 */
import { formatPath } from './config-file.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The environments a tenant file names (`environments` keys), or undefined when it names none
 * (it is in every environment). Reads the raw file content: no validation.
 */
export function tenantEnvironments(raw: unknown): string[] | undefined {
  const environments = isRecord(raw) ? raw.environments : undefined;
  return isRecord(environments) ? Object.keys(environments) : undefined;
}

/** Whether a tenant file (raw content) puts the tenant in environment `name`. */
export function isTenantInEnvironment(raw: unknown, name: string): boolean {
  const environments = tenantEnvironments(raw);
  return environments === undefined || environments.includes(name);
}

/**
 * The tenant file content for one environment: `environments` removed and that environment's
 * override applied. Objects merge one level deep (`quota: { cpu: "800" }` keeps the tenant's
 * memory); lists and values replace.
 */
export function applyEnvironmentOverride(raw: Record<string, unknown>, environmentName: string): Record<string, unknown> {
  const { environments, ...base } = raw;
  const override = isRecord(environments) ? environments[environmentName] : undefined;
  if (!isRecord(override)) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = isRecord(value) && isRecord(base[key]) ? { ...base[key], ...value } : value;
  }
  return merged;
}

/** Whether the value at `path` of the merged tenant comes from the environment's override. */
export function fromOverride(raw: unknown, environmentName: string, path: readonly PropertyKey[]): boolean {
  const environments = isRecord(raw) ? raw.environments : undefined;
  let node: unknown = isRecord(environments) ? environments[environmentName] : undefined;
  for (const segment of path) {
    if (!isRecord(node) || !(String(segment) in node)) return false;
    node = node[String(segment)];
    if (!isRecord(node)) return true;
  }
  return path.length > 0;
}

/** Field path as shown for a value of the merged tenant: under `environments.<env>.` when the override set it. */
export function fieldFor(raw: unknown, environmentName: string, path: readonly PropertyKey[]): string {
  const field = formatPath(path);
  return fromOverride(raw, environmentName, path) ? `environments.${environmentName}.${field}` : field;
}
