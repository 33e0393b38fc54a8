/**
 * Synthesizes the selected stacks of one environment in a single process and moves them into the
 * output directory only when all of them synthesized: bad input leaves the output untouched.
 */
import { App } from 'cdktf';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackDefinitions, type StackDefinition } from '../registry.js';
import { ConfigError } from './config-file.js';
import { loadEnvironment, type Environment } from './environment.js';

export interface SynthOptions {
  /** Repository root (where `environments/` and `tenants/` are). */
  readonly root: string;
  readonly environmentName: string;
  /** @default `<root>/cdktf.out` */
  readonly outdir?: string;
  /** Stack names to synthesize; all when empty or omitted. */
  readonly stacks?: readonly string[];
}

export interface SynthResult {
  readonly environment: Environment;
  readonly outdir: string;
  readonly synthesized: readonly StackDefinition[];
  readonly all: readonly StackDefinition[];
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
  const environment = loadEnvironment(options.root, options.environmentName);
  const all = stackDefinitions(options.root, environment);
  const requested = options.stacks ?? [];
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
  const selected = requested.length === 0 ? all : all.filter((s) => requested.includes(s.name));

  const staging = join(outdir, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const app = new App({ outdir: staging, stackTraces: false });
    for (const definition of selected) definition.create(app);
    app.synth();

    // Everything synthesized: now replace the published output, stack by stack.
    mkdirSync(join(outdir, 'stacks'), { recursive: true });
    const manifestPath = join(outdir, 'manifest.json');
    const staged = JSON.parse(readFileSync(join(staging, 'manifest.json'), 'utf8')) as Manifest;
    const full = requested.length === 0;
    const previous: Manifest =
      !full && existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest) : { version: staged.version, stacks: {} };
    for (const definition of selected) {
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
    const merged: Manifest = { version: staged.version, stacks: { ...previous.stacks, ...staged.stacks } };
    for (const name of Object.keys(merged.stacks)) if (!all.some((s) => s.name === name)) delete merged.stacks[name];
    writeFileSync(manifestPath, `${JSON.stringify(merged, null, 2)}\n`);
    writeFileSync(
      join(outdir, 'platform.json'),
      `${JSON.stringify({ environment: environment.name, stacks: all.map((s) => ({ name: s.name, awsOnly: s.awsOnly })) }, null, 2)}\n`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { environment, outdir, synthesized: selected, all };
}
