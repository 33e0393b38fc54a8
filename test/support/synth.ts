/** Test helpers: synthesize stacks in memory from the shipped environments (or variations of them). */
import { Testing } from 'cdktf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { stackDefinitions } from '../../stacks/registry.js';
import { parseEnvironment, type Environment } from '../../stacks/lib/environment.js';

/** Repository root (tests run from dist/test/..., sources are two levels up from dist). */
export const REPO_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

export function rawEnvironment(name = 'dev'): Record<string, unknown> {
  return parse(readFileSync(join(REPO_ROOT, 'environments', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}

/** A validated environment: the shipped one, with top-level fields overridden. */
export function testEnvironment(overrides: Record<string, unknown> = {}, base = 'dev'): Environment {
  return parseEnvironment({ ...rawEnvironment(base), ...overrides }, `environments/${base}.yaml`);
}

/** The synthesized Terraform JSON of one stack. */
export type TerraformJson = {
  terraform: { backend?: Record<string, Record<string, unknown>>; required_providers: Record<string, unknown> };
  provider?: Record<string, Record<string, unknown>[]>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, Record<string, unknown>>;
};

export function synthStack(name: string, environment: Environment = testEnvironment(), root = REPO_ROOT): TerraformJson {
  const definition = stackDefinitions(root, environment).find((d) => d.name === name);
  if (!definition) throw new Error(`no stack named ${name}`);
  const stack = definition.create(Testing.app({ stackTraces: false }));
  return JSON.parse(Testing.synth(stack, true)) as TerraformJson;
}

/** Resources of one type, keyed by logical id. */
export function resourcesOf(tf: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return tf.resource?.[type] ?? {};
}

/** The single resource of a type whose logical id contains `idPart`. */
export function resourceLike(tf: TerraformJson, type: string, idPart: string): Record<string, unknown> {
  const matches = Object.entries(resourcesOf(tf, type)).filter(([id]) => id.includes(idPart));
  if (matches.length !== 1) throw new Error(`expected one ${type} with id containing "${idPart}", found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  return matches[0]![1];
}
