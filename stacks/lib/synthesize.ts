/**
 * Synthesizes the selected stacks of one environment in a single process and moves them into the
 * output directory only when all of them synthesized: bad input leaves the output untouched.
 *
 * Incremental (the default of `npm run synth`): every configuration file is still validated, but a
 * stack whose fingerprint (compiled code, dependency lock, its input files) matches the one
 * recorded with its output is not rebuilt. So changing one tenant file re-synthesizes one stack.
 */
import { App } from 'cdktf';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DisabledStack, disabledStacks, stackDefinitions, type StackDefinition } from '../registry.js';
import { ConfigError } from './config-file.js';
import { loadEnvironment, type Environment } from './environment.js';
import { loadTenantSetWithJobs } from './job-templates.js';
import type { TenantSet } from './tenant-config.js';
import { tenantStackName } from '../tenant/contract.js';
import { type GuardrailReport, guardrailReport, GuardrailViolationError, resultsFor, stackReport } from './guardrails.js';
import type { StackGuardrailResult } from '../../modules/guardrails/engine.js';
import { evaluationDate } from './kubernetes-support.js';
import { FINGERPRINTS_FILE, type Fingerprints, inputSnapshot, readJson, stackFingerprint } from './fingerprint.js';
import { remoteStateDependencies } from './contracts.js';
import type { PlatformStack } from './platform-stack.js';
import { dependencyGraph, StackDependencyError } from './stack-dependencies.js';

export interface SynthOptions {
  /** Repository root (where `environments/` and `tenants/` are). */
  readonly root: string;
  readonly environmentName: string;
  /** @default `<root>/cdktf.out` */
  readonly outdir?: string;
  /** Stack names to synthesize; all when empty or omitted. */
  readonly stacks?: readonly string[];
  /**
   * Skip stacks whose recorded fingerprint matches (their output is current).
   * @default false
   */
  readonly incremental?: boolean;
}

export interface SynthResult {
  readonly environment: Environment;
  readonly outdir: string;
  /** Stacks built by this run. */
  readonly synthesized: readonly StackDefinition[];
  /** Selected stacks whose output was already current (incremental runs). */
  readonly upToDate: readonly StackDefinition[];
  readonly all: readonly StackDefinition[];
  /** Guardrail results of the synthesized stacks (all passed; suppressions listed). */
  readonly guardrails: readonly StackGuardrailResult[];
  /** Tenant stacks whose tenant file names other environments only: no stack in this one. */
  readonly notInEnvironment: readonly NotInEnvironment[];
  /** Requested stacks (`stacks`) that are such tenant stacks: nothing to synthesize, not an error. */
  readonly skipped: readonly NotInEnvironment[];
  /** Requested stacks this environment's settings leave out (`yunikorn` with the default scheduler): nothing is written for them. */
  readonly disabledSkipped: readonly DisabledStack[];
}

/** A tenant stack that does not exist in the environment (recorded in platform.json). */
export interface NotInEnvironment {
  readonly stack: string;
  readonly file: string;
  readonly environments: readonly string[];
}

function notInEnvironment(outside: TenantSet['outside']): NotInEnvironment[] {
  return outside.map((t) => ({ stack: tenantStackName(t.name), file: t.file, environments: t.environments }));
}

/** Guardrail report file, next to manifest.json. */
export const GUARDRAILS_FILE = 'guardrails.json';

const LOCK_STALE_MS = 120_000;
const LOCK_TIMEOUT_MS = 300_000;

/**
 * Runs `publish` holding `<outdir>/.publish.lock` (a directory: mkdir is atomic), so concurrent
 * synth processes never interleave their read-merge-write of manifest.json, fingerprints.json and
 * guardrails.json. A lock older than two minutes is left over from a killed process and is taken.
 */
function withPublishLock(outdir: string, publish: () => void): void {
  mkdirSync(outdir, { recursive: true });
  const lock = join(outdir, '.publish.lock');
  const started = Date.now();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // Released meanwhile: try again.
      }
      if (Date.now() - started > LOCK_TIMEOUT_MS) throw new Error(`timed out waiting for ${lock} (another synth is publishing; remove the folder if none runs)`);
      Atomics.wait(pause, 0, 0, 25);
    }
  }
  try {
    publish();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

interface ManifestStack {
  readonly name: string;
  readonly synthesizedStackPath: string;
  readonly workingDirectory: string;
  readonly [key: string]: unknown;
}
interface Manifest {
  version: string;
  stacks: Record<string, ManifestStack>;
}

export function synthesize(options: SynthOptions): SynthResult {
  const outdir = options.outdir ?? join(options.root, 'cdktf.out');
  // A bad PLATFORM_TODAY is a configuration error, reported before anything is built.
  evaluationDate();
  const environment = loadEnvironment(options.root, options.environmentName);
  const tenantSet = loadTenantSetWithJobs(options.root, environment);
  const all = stackDefinitions(options.root, environment, tenantSet.tenants);
  const outside = notInEnvironment(tenantSet.outside);
  const disabled = disabledStacks(environment);
  // A tenant project exists in every environment (Nx infers it from the folder), and so does a
  // stack project the environment's settings leave out (`yunikorn`): synthesizing either where it
  // does not exist is a no-op, so `nx run-many -t synth` works in each environment.
  const skipped = outside.filter((t) => options.stacks?.includes(t.stack));
  const disabledSkipped = disabled.filter((d) => options.stacks?.includes(d.name));
  const requested = (options.stacks ?? []).filter((name) => !skipped.some((t) => t.stack === name) && !disabledSkipped.some((d) => d.name === name));
  const unknown = requested.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((name) => ({
        file: '--stack',
        field: name,
        expected: `one of the stacks of environment ${environment.name}: ${all.map((s) => s.name).join(', ')}`,
        found: JSON.stringify(name),
      })),
    );
  }
  // Only such stacks requested: nothing is built, but platform.json is published for this
  // environment, so the diff/deploy targets that follow know the stack is not here.
  const full = (options.stacks ?? []).length === 0;
  const selected = full ? all : all.filter((s) => requested.includes(s.name));
  // Deploy-order dependencies of every stack, from their Nx projects (the one declaration).
  const dependencies = dependencyGraph(all);

  const fingerprintsPath = join(outdir, FINGERPRINTS_FILE);
  const recorded = readJson<Fingerprints>(fingerprintsPath);
  const previousFingerprints = recorded?.environment === environment.name ? recorded.stacks : {};
  const fingerprints = new Map(selected.map((d) => [d.name, stackFingerprint(options.root, environment.name, d.name, d.inputs)]));
  const isCurrent = (d: StackDefinition) =>
    options.incremental === true && previousFingerprints[d.name] === fingerprints.get(d.name) && existsSync(join(outdir, 'stacks', d.name, 'cdk.tf.json'));
  const upToDate = selected.filter(isCurrent);
  const building = selected.filter((d) => !isCurrent(d));

  const staging = join(outdir, `.staging-${process.pid}`);
  const outdirExisted = existsSync(outdir);
  let guardrails: StackGuardrailResult[] = [];
  try {
    let staged: Manifest | undefined;
    if (building.length > 0) {
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      const app = new App({ outdir: staging, stackTraces: false });
      const stacks = building.map((definition) => definition.create(app));
      checkRemoteStateReadsDeclared(stacks, dependencies);
      try {
        app.synth();
      } catch (error) {
        // cdktf stops at the first stack whose validation fails: check the rest so every violation is
        // reported at once. Errors other than validation failures are not masked.
        const other = otherValidationErrors(error);
        if (other === undefined) throw error;
        const violations = resultsFor(stacks).flatMap((r) => r.violations);
        if (violations.length > 0) throw new GuardrailViolationError(violations, { cause: error, otherErrors: other });
        throw error;
      }
      guardrails = resultsFor(stacks);
      staged = JSON.parse(readFileSync(join(staging, 'manifest.json'), 'utf8')) as Manifest;
    }

    // Parallel synths of single stacks (nx run-many -t synth) publish one at a time.
    withPublishLock(outdir, () => {
      // Everything synthesized: now replace the published output, stack by stack.
      mkdirSync(join(outdir, 'stacks'), { recursive: true });
      const manifestPath = join(outdir, 'manifest.json');
      // Output of another environment is replaced whole, never mixed with this one.
      const publishedEnvironment = readJson<{ environment?: string }>(join(outdir, 'platform.json'))?.environment;
      if (publishedEnvironment !== undefined && publishedEnvironment !== environment.name) {
        for (const existing of readdirSync(join(outdir, 'stacks'))) rmSync(join(outdir, 'stacks', existing), { recursive: true, force: true });
      }
      const rebuildsAll = (full && upToDate.length === 0) || (publishedEnvironment !== undefined && publishedEnvironment !== environment.name);
      const previous: Manifest = (!rebuildsAll ? readJson<Manifest>(manifestPath) : undefined) ?? { version: staged?.version ?? '', stacks: {} };
      for (const definition of building) {
        const target = join(outdir, 'stacks', definition.name);
        rmSync(target, { recursive: true, force: true });
        renameSync(join(staging, 'stacks', definition.name), target);
      }
      if (full) {
        // Like `cdktf synth`: stacks that no longer exist (a removed tenant folder) disappear.
        for (const existing of readdirSync(join(outdir, 'stacks'))) {
          if (!all.some((s) => s.name === existing)) rmSync(join(outdir, 'stacks', existing), { recursive: true, force: true });
        }
      }
      // Every stack of the environment in deploy order, rebuilt or not, with the dependencies its Nx
      // project declares: the cdktf CLI orders `deploy '*'` and `destroy` by them.
      const entries: Record<string, ManifestStack> = { ...previous.stacks, ...staged?.stacks };
      const merged: Manifest = { version: staged?.version ?? previous.version, stacks: {} };
      for (const { name } of all) {
        const entry = entries[name];
        if (entry) merged.stacks[name] = { ...entry, dependencies: dependencies.get(name) ?? [] };
      }
      writeFileAtomically(manifestPath, `${JSON.stringify(merged, null, 2)}\n`);
      writeFileSync(
        join(outdir, 'platform.json'),
        `${JSON.stringify({ environment: environment.name, stacks: all.map((s) => ({ name: s.name, awsOnly: s.awsOnly })), notInEnvironment: outside, disabled }, null, 2)}\n`,
      );
      writeGuardrailReport(outdir, environment.name, all, guardrails, rebuildsAll);
      // Re-read under the lock: a parallel `synth --stack` (nx run-many) may have published since.
      const latest = readJson<Fingerprints>(fingerprintsPath);
      const publishedFingerprints = latest?.environment === environment.name ? latest.stacks : {};
      const nextFingerprints: Record<string, string> = {};
      for (const definition of all) {
        const fingerprint = fingerprints.get(definition.name) ?? publishedFingerprints[definition.name];
        if (fingerprint && existsSync(join(outdir, 'stacks', definition.name))) nextFingerprints[definition.name] = fingerprint;
      }
      const record: Fingerprints = {
        environment: environment.name,
        ...(full ? { snapshot: inputSnapshot(options.root, environment.name) } : {}),
        stacks: nextFingerprints,
      };
      writeFileSync(fingerprintsPath, `${JSON.stringify(record, null, 2)}\n`);
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
    // Nothing was published: leave no empty output directory behind either.
    if (!outdirExisted && existsSync(outdir) && readdirSync(outdir).length === 0) rmSync(outdir, { recursive: true, force: true });
  }
  return { environment, outdir, synthesized: building, upToDate, all, guardrails, notInEnvironment: outside, skipped, disabledSkipped };
}

/** Readers (the cdktf CLI, a parallel deploy) never see a half-written file. */
function writeFileAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/**
 * Every state a stack reads must come from a stack it declares as a dependency, or a deploy in
 * dependency order would plan it before its upstream exists.
 */
export function checkRemoteStateReadsDeclared(stacks: readonly PlatformStack[], dependencies: ReadonlyMap<string, readonly string[]>): void {
  for (const stack of stacks) {
    const undeclared = remoteStateDependencies(stack).filter((upstream) => !(dependencies.get(stack.stackName) ?? []).includes(upstream));
    if (undeclared.length > 0) {
      throw new StackDependencyError(
        `stack "${stack.stackName}" reads the state of ${undeclared.map((u) => `"${u}"`).join(', ')} but does not declare ${undeclared.length === 1 ? 'it' : 'them'} as a dependency: add ${undeclared.length === 1 ? 'it' : 'them'} to the implicitDependencies of its Nx project`,
      );
    }
  }
}

/**
 * For a cdktf validation failure ("Validation failed with the following errors:" then one
 * `[construct path] message` line per error), the errors that are not guardrail violations;
 * undefined for any other error.
 */
function otherValidationErrors(error: unknown): string[] | undefined {
  const message = error instanceof Error ? error.message : '';
  if (!message.startsWith('Validation failed with the following errors:')) return undefined;
  return message
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => /^\[[^\]]+\] /.test(line) && !/^\[[^\]]+\] \[[A-Z0-9]+-\d{3}\] /.test(line));
}

/** Writes guardrails.json; a partial synth keeps the other stacks' entries from the previous one. */
function writeGuardrailReport(outdir: string, environmentName: string, all: readonly StackDefinition[], results: readonly StackGuardrailResult[], full: boolean): void {
  const file = join(outdir, GUARDRAILS_FILE);
  const byStack = new Map<string, GuardrailReport['stacks'][number]>();
  if (!full && existsSync(file)) {
    try {
      const previous = JSON.parse(readFileSync(file, 'utf8')) as GuardrailReport;
      if (previous.environment === environmentName) for (const entry of previous.stacks) byStack.set(entry.stack, entry);
    } catch {
      // An unreadable previous report is replaced.
    }
  }
  for (const result of results) byStack.set(result.stack, stackReport(result));
  const stacks = all.map((s) => byStack.get(s.name)).filter((r) => r !== undefined);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(guardrailReport(environmentName, stacks), null, 2)}\n`);
  renameSync(temporary, file);
}
