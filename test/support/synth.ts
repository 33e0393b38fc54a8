/** Test helpers: synthesize stacks in memory from the fixture environments (or variations of them). */
import { Testing } from 'cdktf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { stackDefinitions } from '../../stacks/registry.js';
import { parseEnvironment, type Environment } from '../../stacks/lib/environment.js';
import { FIXTURE_REPO } from './repo.js';

export { compiledScript, FIXTURE_REPO, SOURCE_ROOT, temporaryRoot } from './repo.js';

/** A fixture environment file as parsed YAML (`test/fixtures/repo/environments/<name>.yaml`). */
export function rawEnvironment(name = 'dev'): Record<string, unknown> {
  return parse(readFileSync(join(FIXTURE_REPO, 'environments', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}

/** A validated environment: a fixture one, with top-level fields overridden. */
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

/**
 * The Terraform JSON text of one stack, synthesized in memory (with its validations, the
 * guardrails included) from a repository root (default: the fixture repository). This is what
 * cdktf's jest matchers take: `expect(synthText('network')).toHaveResourceWithProperties(Vpc, {...})`.
 */
export function synthText(name: string, environment: Environment = testEnvironment(), root = FIXTURE_REPO): string {
  // The fixture repository never changes during a run, so a stack synthesized from it once is
  // shared by every test of the file (jest gives each test file its own module instance).
  // Temporary roots are not cached: tests edit their files between synths.
  const key = root === FIXTURE_REPO ? `${name}\0${JSON.stringify(environment)}` : undefined;
  const cached = key === undefined ? undefined : fixtureSynths.get(key);
  if (cached !== undefined) return cached;
  const definition = stackDefinitions(root, environment).find((d) => d.name === name);
  if (!definition) throw new Error(`no stack named ${name}`);
  const stack = definition.create(Testing.app({ stackTraces: false }));
  const text = Testing.synth(stack, true);
  if (key !== undefined) fixtureSynths.set(key, text);
  return text;
}

const fixtureSynths = new Map<string, string>();

/** One stack's Terraform JSON, parsed (see synthText). */
export function synthStack(name: string, environment: Environment = testEnvironment(), root = FIXTURE_REPO): TerraformJson {
  return JSON.parse(synthText(name, environment, root)) as TerraformJson;
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
