/**
 * affected-stacks: which stacks (Nx projects with a `synth` target) a change affects, in deploy
 * order (every stack after the stacks it depends on). CI plans and applies in this order.
 *
 *   node dist/scripts/affected-stacks.js --base origin/main [--head HEAD]   stacks the commits affect
 *   node dist/scripts/affected-stacks.js --files a.ts,tenants/x/tenant.yaml stacks those files affect
 *   node dist/scripts/affected-stacks.js --all                              every stack
 *
 * Options: `--platform cdktf.out/platform.json` keeps only the stacks synthesized for that
 * environment (a tenant whose file names other environments only is skipped with a note); `--remote-state-only` (with --platform) also drops stacks whose synthesized backend is
 * local (a state CI cannot reach; every platform stack, bootstrap included, keeps its state in S3); `--json` prints a JSON
 * array instead of one name per line; `--graph <file>` reads a saved `nx graph --file=<file>`
 * instead of running Nx.
 *
 * "Affected" is Nx's: a changed file affects the project owning it and every project depending on
 * it. Every stack depends on the root project `workspace` (modules/, stacks/lib, scripts, package
 * files), so a changed module affects every stack; a changed tenants/<name>/tenant.yaml affects only
 * `tenant-<name>`; a changed stack affects the stacks that read its state. Exit codes: 0 ok, 2 usage
 * error, Nx failure or a dependency cycle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { repositoryRoot } from './lib/paths.js';

/** The parts of `nx graph --file=<file>.json` this tool reads. */
export interface NxProjectGraph {
  readonly graph: {
    readonly nodes: Readonly<Record<string, { readonly name: string; readonly data: { readonly targets?: Readonly<Record<string, unknown>> } }>>;
    readonly dependencies: Readonly<Record<string, readonly { readonly source: string; readonly target: string }[]>>;
  };
}

export class AffectedStacksError extends Error {
  override name = 'AffectedStacksError';
}

/** The target that makes a project a stack. */
export const STACK_TARGET = 'synth';

export function isStack(graph: NxProjectGraph, name: string): boolean {
  return graph.graph.nodes[name]?.data.targets?.[STACK_TARGET] !== undefined;
}

/**
 * Every stack of the graph in deploy order: a project comes after every project it depends on
 * (directly or through other projects). Ties keep `preferred` order (e.g. the registry order from
 * platform.json), then alphabetical order, so the result is deterministic.
 */
export function deployOrder(graph: NxProjectGraph, preferred: readonly string[] = []): string[] {
  const nodes = Object.keys(graph.graph.nodes);
  const rank = (name: string) => {
    const i = preferred.indexOf(name);
    return i === -1 ? preferred.length : i;
  };
  const compare = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const name of nodes) {
    const upstream = new Set((graph.graph.dependencies[name] ?? []).map((d) => d.target).filter((t) => t !== name && graph.graph.nodes[t] !== undefined));
    remaining.set(name, upstream.size);
    for (const target of upstream) dependents.set(target, [...(dependents.get(target) ?? []), name]);
  }
  const ready = nodes.filter((n) => remaining.get(n) === 0).sort(compare);
  const order: string[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    order.push(next);
    for (const dependent of dependents.get(next) ?? []) {
      const left = remaining.get(dependent)! - 1;
      remaining.set(dependent, left);
      if (left === 0) {
        ready.push(dependent);
        ready.sort(compare);
      }
    }
  }
  if (order.length !== nodes.length) {
    const cyclic = nodes.filter((n) => !order.includes(n)).sort();
    throw new AffectedStacksError(`the project graph has a dependency cycle among: ${cyclic.join(', ')}`);
  }
  return order.filter((name) => isStack(graph, name));
}

/**
 * The `selected` stacks in deploy order, limited to `platformStacks` when given (the stacks of one
 * environment). Names that are not stacks of the graph are an error (a typo must not skip a plan).
 */
export function orderStacks(graph: NxProjectGraph, selected: readonly string[], platformStacks?: readonly string[]): string[] {
  const unknown = selected.filter((name) => !isStack(graph, name) && name !== 'workspace');
  if (unknown.length > 0) throw new AffectedStacksError(`not stacks of the Nx graph: ${unknown.join(', ')}`);
  if (platformStacks) {
    const missing = platformStacks.filter((name) => !isStack(graph, name));
    if (missing.length > 0) throw new AffectedStacksError(`stacks of the environment without an Nx project (add stacks/<name>/project.json): ${missing.join(', ')}`);
  }
  const wanted = new Set(selected);
  return deployOrder(graph, platformStacks ?? []).filter((name) => wanted.has(name) && (!platformStacks || platformStacks.includes(name)));
}

/**
 * For each of `stacks`, the stacks of `stacks` it depends on, directly or through projects that
 * are not in the list (a tenant follows `capacity` through nothing, and `cluster` through
 * `capacity`): what must finish before it starts when stacks run in parallel.
 */
export function stackDependencies(graph: NxProjectGraph, stacks: readonly string[]): Map<string, string[]> {
  const selected = new Set(stacks);
  const upstreamOf = (name: string) => (graph.graph.dependencies[name] ?? []).map((d) => d.target).filter((t) => t !== name && graph.graph.nodes[t] !== undefined);
  const result = new Map<string, string[]>();
  for (const stack of stacks) {
    const seen = new Set<string>();
    const queue = upstreamOf(stack);
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...upstreamOf(next));
    }
    result.set(stack, stacks.filter((s) => s !== stack && seen.has(s) && selected.has(s)));
  }
  return result;
}

/**
 * Stacks applied before every tenant stack without being a project dependency of the tenants:
 * `yunikorn` holds each tenant's queue, which must exist before the tenant's pods are placed in it.
 * Nx's `deploy` target has the same order (nx.json targetDefaults, filtered on the tenant tag); a
 * project dependency would make every change to the yunikorn stack affect every tenant.
 */
export const APPLIED_BEFORE_TENANTS: readonly string[] = ['yunikorn'];

/** `dependencies` (stackDependencies) with the deploy-order edges of APPLIED_BEFORE_TENANTS added for selected stacks. */
export function withDeployOrder(dependencies: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const first = APPLIED_BEFORE_TENANTS.filter((name) => dependencies.has(name));
  return new Map(
    [...dependencies].map(([stack, upstream]) => [stack, stack.startsWith('tenant-') ? [...new Set([...upstream, ...first])] : [...upstream]]),
  );
}

/**
 * Whether a synthesized stack keeps its state in a remote backend (not `local`), read from
 * `<outdir>/stacks/<stack>/cdk.tf.json` next to platform.json.
 */
export function hasRemoteState(outdir: string, stack: string): boolean {
  const file = join(outdir, 'stacks', stack, 'cdk.tf.json');
  if (!existsSync(file)) throw new AffectedStacksError(`${file} does not exist (run the synth for this environment first)`);
  const backend = (JSON.parse(readFileSync(file, 'utf8')) as { terraform?: { backend?: Record<string, unknown> } }).terraform?.backend ?? {};
  return Object.keys(backend).length > 0 && !('local' in backend);
}

/** Stack names of a `cdktf.out/platform.json` (written by the synth, in registry order). */
export function readPlatformStacks(file: string): string[] {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { stacks?: { name?: unknown }[] };
  if (!Array.isArray(data.stacks)) throw new AffectedStacksError(`${file}: no "stacks" list (run the synth first)`);
  return data.stacks.map((s) => String(s.name));
}

/**
 * Tenant stacks the synth recorded as not in its environment (their tenant file names other
 * environments), from `cdktf.out/platform.json`: stack -> the environments the file lists.
 */
export function readNotInEnvironment(file: string): Map<string, readonly string[]> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { notInEnvironment?: { stack?: unknown; environments?: unknown }[] };
  return new Map((data.notInEnvironment ?? []).map((t) => [String(t.stack), Array.isArray(t.environments) ? t.environments.map(String) : []]));
}

function runNx(root: string, args: readonly string[]): string {
  const bin = join(root, 'node_modules', '.bin', 'nx');
  if (!existsSync(bin)) throw new AffectedStacksError(`${bin} not found: run npm ci first`);
  const result = spawnSync(bin, args, {
    cwd: root,
    encoding: 'utf8',
    // Plugins in-process: isolated plugin workers cost ~5 s of CPU per nx command on a 2-core runner;
    // the only plugin is this repository's own (scripts/nx/tenant-projects.cjs).
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_ISOLATE_PLUGINS: 'false' },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new AffectedStacksError(`nx ${args.join(' ')} failed (exit ${result.status ?? 'signal'}):\n${result.stderr || result.stdout}`);
  return result.stdout;
}

export function readProjectGraph(root: string, file?: string): NxProjectGraph {
  if (file) return JSON.parse(readFileSync(file, 'utf8')) as NxProjectGraph;
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    runNx(root, ['graph', `--file=${join(dir, 'graph.json')}`]);
    return JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')) as NxProjectGraph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Projects with a synth target that Nx considers affected by the commits base..head or by the files. */
export function affectedProjects(root: string, options: { base?: string; head?: string; files?: readonly string[] }): string[] {
  const args = ['show', 'projects', '--affected', `--withTarget=${STACK_TARGET}`, '--json'];
  if (options.files) args.push(`--files=${options.files.join(',')}`);
  else args.push(`--base=${options.base}`, ...(options.head ? [`--head=${options.head}`] : []));
  const output = runNx(root, args);
  const start = output.indexOf('[');
  if (start === -1) throw new AffectedStacksError(`nx ${args.join(' ')} printed no JSON list:\n${output}`);
  return JSON.parse(output.slice(start)) as string[];
}

export const USAGE = `usage: affected-stacks (--base <ref> [--head <ref>] | --files <a,b> | --all) [--platform <platform.json> [--remote-state-only]] [--graph <graph.json>] [--json]`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function main(argv: readonly string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, root = repositoryRoot()): number {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        base: { type: 'string' },
        head: { type: 'string' },
        files: { type: 'string' },
        all: { type: 'boolean' },
        platform: { type: 'string' },
        'remote-state-only': { type: 'boolean' },
        graph: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr(`affected-stacks: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const modes = [values.base !== undefined, values.files !== undefined, values.all === true].filter(Boolean).length;
  if (modes !== 1) {
    io.stderr(`affected-stacks: give exactly one of --base, --files, --all\n${USAGE}\n`);
    return 2;
  }
  if (values.head !== undefined && values.base === undefined) {
    io.stderr(`affected-stacks: --head needs --base\n${USAGE}\n`);
    return 2;
  }
  if (values['remote-state-only'] && !values.platform) {
    io.stderr(`affected-stacks: --remote-state-only needs --platform\n${USAGE}\n`);
    return 2;
  }
  try {
    const graph = readProjectGraph(root, values.graph);
    const platformStacks = values.platform ? readPlatformStacks(values.platform) : undefined;
    const selected = values.all
      ? Object.keys(graph.graph.nodes).filter((name) => isStack(graph, name))
      : affectedProjects(root, values.files !== undefined ? { files: values.files.split(/[,\s]+/).filter(Boolean) } : { base: values.base!, ...(values.head ? { head: values.head } : {}) });
    let stacks = orderStacks(graph, selected, platformStacks);
    if (values.platform) {
      const environment = (JSON.parse(readFileSync(values.platform, 'utf8')) as { environment?: string }).environment ?? 'this environment';
      for (const [stack, environments] of readNotInEnvironment(values.platform)) {
        if (selected.includes(stack)) io.stderr(`affected-stacks: skipping ${stack}: not in environment ${environment} (its tenant.yaml lists ${environments.join(', ')})\n`);
      }
    }
    if (values['remote-state-only']) {
      const outdir = dirname(values.platform!);
      const local = stacks.filter((stack) => !hasRemoteState(outdir, stack));
      for (const stack of local) io.stderr(`affected-stacks: skipping ${stack}: its state is local (CI cannot reach it; deploy it by hand)\n`);
      stacks = stacks.filter((stack) => !local.includes(stack));
    }
    io.stdout(values.json ? `${JSON.stringify(stacks)}\n` : stacks.map((s) => `${s}\n`).join(''));
    return 0;
  } catch (error) {
    if (!(error instanceof AffectedStacksError) && !(error instanceof SyntaxError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    io.stderr(`affected-stacks: ${(error as Error).message}\n`);
    return 2;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
