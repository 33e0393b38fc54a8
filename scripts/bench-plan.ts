/**
 * `npm run bench:plan`: CI plan time at tenant scale, offline. Runs the plan step of the plan
 * workflow (`ci-stacks plan`, which runs `tf.js plan` per stack) over N affected tenant stacks
 * with a stand-in `terraform` that sleeps per plan (default 2 s, the order of a small real plan),
 * and reports the wall time of the whole step: Node start-ups, the plugin-cache warm-up, the
 * scheduling and the per-stack log groups included.
 *
 *   npm run bench:plan -- [--tenants 100] [--concurrency 4] [--sleep 2] [--runs 3] [--serial]
 *
 * `--serial` also measures concurrency 1 (what the workflow did before: about N x sleep).
 * Target (issue 13): 100 tenant stacks at concurrency 4 in under 70 s.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NxProjectGraph } from './affected-stacks.js';
import { repositoryRoot } from './lib/paths.js';

/**
 * A stand-in `terraform` (bash): records every call with a timestamp in $STANDIN_EVENTS
 * (`<microseconds> start|end <command> <folder>`), sleeps $STANDIN_PLAN_SECONDS on `plan` and writes the
 * `-out` file (or fails for the folders listed in $STANDIN_FAIL), and for `show -json` prints
 * $STANDIN_PLANS/<folder>.json (or an empty plan).
 */
export const STAND_IN_TERRAFORM = `#!/bin/bash
# Shell builtins only (EPOCHREALTIME, parameter expansion): the stand-in itself costs next to nothing.
stack=\${PWD##*/}
events=\${STANDIN_EVENTS:-/dev/null}
echo "\${EPOCHREALTIME/./} start $1 $stack" >> "$events"
case "$1" in
  plan)
    sleep "\${STANDIN_PLAN_SECONDS:-2}"
    case " $STANDIN_FAIL " in *" $stack "*) echo "\${EPOCHREALTIME/./} end $1 $stack" >> "$events"; echo "stand-in: plan of $stack fails" >&2; exit 1 ;; esac
    for arg in "$@"; do case "$arg" in -out=*) : > "\${arg#-out=}" ;; esac; done ;;
  show)
    if [ -n "$STANDIN_PLANS" ] && [ -f "$STANDIN_PLANS/$stack.json" ]; then cat "$STANDIN_PLANS/$stack.json"
    else echo '{"format_version":"1.2","terraform_version":"1.11.4","resource_changes":[]}'; fi ;;
esac
echo "\${EPOCHREALTIME/./} end $1 $stack" >> "$events"
`;

/** Writes the stand-in as `<dir>/terraform` and returns its path (for TERRAFORM_BIN). */
export function writeStandInTerraform(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'terraform');
  writeFileSync(file, STAND_IN_TERRAFORM);
  chmodSync(file, 0o755);
  return file;
}

/** One stand-in call: when it started and ended (ms), what it ran and in which stack folder. */
export interface StandInCall {
  readonly command: string;
  readonly stack: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Pairs the start and end events the stand-in recorded. */
export function readStandInCalls(file: string): StandInCall[] {
  const open = new Map<string, number[]>();
  const calls: StandInCall[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [us, kind, command, stack] = line.split(' ') as [string, string, string, string];
    const ms = Number(BigInt(us) / 1_000n);
    const key = `${command} ${stack}`;
    if (kind === 'start') open.set(key, [...(open.get(key) ?? []), ms]);
    else {
      const startMs = open.get(key)?.shift();
      if (startMs !== undefined) calls.push({ command, stack, startMs, endMs: ms });
    }
  }
  return calls.sort((a, b) => a.startMs - b.startMs);
}

/** The most calls of `command` running at the same time. */
export function peakConcurrency(calls: readonly StandInCall[], command: string): number {
  const edges = calls.filter((c) => c.command === command).flatMap((c) => [[c.startMs, 1] as const, [c.endMs, -1] as const]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of edges) peak = Math.max(peak, (current += delta));
  return peak;
}

/** Platform stacks and how they depend on each other (as the Nx graph has them). */
const PLATFORM: Record<string, string[]> = {
  bootstrap: [],
  network: ['bootstrap'],
  cluster: ['network'],
  'karpenter-infra': ['cluster'],
  karpenter: ['karpenter-infra'],
  capacity: ['karpenter'],
  tenancy: ['cluster'],
};
/** What a tenant project depends on (scripts/nx/tenant-projects.cjs). */
const TENANT_UPSTREAM = ['cluster', 'capacity', 'tenancy'];

/**
 * A repository root with a synthesized-looking `cdktf.out` (platform.json, one cdk.tf.json per
 * stack) and the project graph of the platform plus `tenants` tenant stacks, in `nx graph` form.
 */
export function planBenchRoot(tenants: number, dir = mkdtempSync(join(tmpdir(), 'bench-plan-'))): { root: string; graph: string; tenantStacks: string[] } {
  const tenantStacks = Array.from({ length: tenants }, (_, i) => `tenant-bench-${String(i + 1).padStart(4, '0')}`);
  const deps: Record<string, string[]> = { ...PLATFORM, ...Object.fromEntries(tenantStacks.map((t) => [t, TENANT_UPSTREAM])) };
  const graph: NxProjectGraph = {
    graph: {
      nodes: Object.fromEntries(Object.keys(deps).map((name) => [name, { name, data: { targets: { synth: {}, diff: {}, deploy: {} } } }])),
      dependencies: Object.fromEntries(Object.entries(deps).map(([name, targets]) => [name, targets.map((target) => ({ source: name, target }))])),
    },
  };
  writeFileSync(join(dir, 'nx.json'), '{}\n');
  writeFileSync(join(dir, 'graph.json'), JSON.stringify(graph));
  const outdir = join(dir, 'cdktf.out');
  for (const stack of Object.keys(deps)) {
    mkdirSync(join(outdir, 'stacks', stack), { recursive: true });
    const providers = stack.startsWith('tenant-')
      ? { aws: { source: 'hashicorp/aws', version: '5.100.0' }, kubernetes: { source: 'hashicorp/kubernetes', version: '2.38.0' } }
      : { aws: { source: 'hashicorp/aws', version: '5.100.0' } };
    writeFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), JSON.stringify({ terraform: { required_providers: providers, backend: { s3: { key: `dev/${stack}.tfstate` } } } }));
  }
  writeFileSync(join(outdir, 'platform.json'), JSON.stringify({ environment: 'dev', stacks: Object.keys(deps).map((name) => ({ name, awsOnly: !name.startsWith('tenant-') })), notInEnvironment: [] }));
  return { root: dir, graph: join(dir, 'graph.json'), tenantStacks };
}

export interface PlanBenchRun {
  readonly wallMs: number;
  readonly peak: number;
  readonly exitCode: number;
}

/** Runs `ci-stacks plan` over `stacks` in a bench root with the stand-in terraform. */
export function runPlanBench(root: string, graph: string, stacks: readonly string[], options: { concurrency: number; sleepSeconds: number }): PlanBenchRun {
  const run = mkdtempSync(join(root, 'run-'));
  const bin = writeStandInTerraform(join(run, 'bin'));
  const events = join(run, 'events.log');
  writeFileSync(events, '');
  writeFileSync(join(run, 'stacks.txt'), stacks.join('\n'));
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [join(repositoryRoot(), 'dist', 'scripts', 'ci-stacks.js'), 'plan', '--root', root, '--graph', graph, '--stacks-file', join(run, 'stacks.txt'), '--concurrency', String(options.concurrency), '--out', join(run, 'review')],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, TERRAFORM_BIN: bin, STANDIN_EVENTS: events, STANDIN_PLAN_SECONDS: String(options.sleepSeconds), TF_PLUGIN_CACHE_DIR: join(run, 'plugin-cache') },
    },
  );
  const wallMs = Math.round(performance.now() - started);
  if (result.status !== 0) throw new Error(`ci-stacks plan failed (exit ${result.status}):\n${result.stderr}\n${result.stdout.slice(-2000)}`);
  return { wallMs, peak: peakConcurrency(readStandInCalls(events), 'plan'), exitCode: result.status };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export const USAGE = 'usage: npm run bench:plan -- [--tenants 100] [--concurrency 4] [--sleep 2] [--runs 3] [--serial]';

function main(): number {
  let values;
  try {
    values = parseArgs({
      options: {
        tenants: { type: 'string', default: '100' },
        concurrency: { type: 'string', default: '4' },
        sleep: { type: 'string', default: '2' },
        runs: { type: 'string', default: '3' },
        serial: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`bench:plan: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [tenants, concurrency, sleep, runs] = [Number(values.tenants), Number(values.concurrency), Number(values.sleep), Number(values.runs)];
  if (![tenants, concurrency, runs].every((n) => Number.isInteger(n) && n >= 1) || !(sleep >= 0)) {
    console.error(`bench:plan: --tenants, --concurrency and --runs take whole numbers >= 1, --sleep seconds >= 0\n${USAGE}`);
    return 2;
  }
  const { root, graph, tenantStacks } = planBenchRoot(tenants);
  try {
    const measure = (c: number) => {
      const results = Array.from({ length: c === 1 ? 1 : runs }, () => runPlanBench(root, graph, tenantStacks, { concurrency: c, sleepSeconds: sleep }));
      return { wallMs: median(results.map((r) => r.wallMs)), peak: Math.max(...results.map((r) => r.peak)), runs: results.length, each: results.map((r) => (r.wallMs / 1000).toFixed(1)) };
    };
    const parallel = measure(concurrency);
    console.log(`${tenants} tenant stacks, stand-in plan ${sleep} s, concurrency ${concurrency}: ${(parallel.wallMs / 1000).toFixed(1)} s wall (median of ${parallel.runs}: ${parallel.each.join(', ')} s), at most ${parallel.peak} plans at once`);
    if (values.serial) {
      const serial = measure(1);
      console.log(`same, concurrency 1 (one after another): ${(serial.wallMs / 1000).toFixed(1)} s wall`);
    }
    if (tenants === 100 && concurrency === 4 && sleep === 2) {
      const met = parallel.wallMs < 70_000;
      console.log(`target: 100 tenant stacks at concurrency 4 under 70 s: ${met ? 'met' : 'MISSED'}`);
      return met ? 0 : 1;
    }
    return 0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) process.exitCode = main();
