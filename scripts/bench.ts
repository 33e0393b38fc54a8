/**
 * `npm run bench`: synth performance at tenant scale, measured in a temporary copy of the
 * repository with N synthetic valid tenants (default N = 10, 100, 1000; `--sizes 10,100`).
 *
 * For each N, over `--runs` runs (default 3; the median is reported):
 *  - cold: full synth of every stack (platform + N tenants) with no previous output: wall time and
 *    peak RSS of the synth process (the only process);
 *  - incremental: one tenant file changed, `npm run synth`'s driver rebuilds what changed: wall
 *    time and how many stacks it rebuilt;
 *  - no-op: nothing changed: wall time;
 *  - nx: `nx show projects --affected` for the changed tenant (how many projects Nx would
 *    synthesize, plan or deploy), the wall time of `nx affected -t synth` and of a second, cached
 *    run (`--no-nx` skips; Nx's own project-graph time grows with the number of projects);
 *  - baselines, same run: one tenant stack synthesized in its own process through deep imports,
 *    and the same after loading the AWS provider's root barrel (what a barrel import costs every
 *    process), and the projection of one process per stack (N+platform processes).
 *
 * Prints a table, checks the targets of the performance issue, and writes the results as JSON
 * (`--json <file>`, default bench-out/bench.json).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadEnvironment } from '../stacks/lib/environment.js';
import { repositoryRoot } from './lib/paths.js';

interface Measure {
  readonly wallMs: number;
  readonly maxRssMb: number;
  readonly synthesized: number;
}

export interface SizeResult {
  readonly tenants: number;
  readonly stacks: number;
  readonly cold: Measure;
  readonly incremental: Measure;
  readonly noop: Measure;
  readonly nx?: { readonly affectedProjects: string[]; readonly affectedSynthMs: number; readonly cachedMs: number };
  readonly baseline: { readonly oneStackDeepMs: number; readonly oneStackDeepRssMb: number; readonly oneStackBarrelMs: number; readonly oneStackBarrelRssMb: number; readonly processPerStackMs: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function medianMeasure(measures: Measure[]): Measure {
  return { wallMs: median(measures.map((m) => m.wallMs)), maxRssMb: median(measures.map((m) => m.maxRssMb)), synthesized: median(measures.map((m) => m.synthesized)) };
}

/** A synthetic, valid tenant; options vary so every code path of the tenant stack is exercised. */
export function syntheticTenant(index: number, zones: readonly string[], accountId: string): { name: string; yaml: string } {
  const name = `bench-${String(index).padStart(5, '0')}`;
  const podIdentity = index % 2 === 1;
  const tenant = {
    name,
    description: `Synthetic tenant ${index} for the synth benchmark`,
    owners: [`arn:aws:iam::${accountId}:role/${name}-engineers`],
    quota: { cpu: String(50 + (index % 7) * 10), memory: `${200 + (index % 5) * 100}Gi`, pods: 500 },
    spark: {
      ...(index % 3 === 0 ? { zone: zones[index % zones.length] } : {}),
      architecture: (['arm64', 'amd64', 'any'] as const)[index % 3],
      executorCapacity: (['spot', 'on-demand', 'any'] as const)[index % 3],
      localStorage: index % 4 === 0 ? 'ebs' : 'nvme',
      dedicatedNodes: index % 10 === 0,
    },
    emr: { releaseLabel: 'emr-7.12.0-latest', identity: podIdentity ? 'pod-identity' : 'irsa', verticalAutoscaling: index % 5 === 0 },
    data: { retainOnDelete: true, readBuckets: [], glueDatabases: index % 2 === 0 ? [`${name.replace(/-/g, '_')}_db`] : [] },
    ...(index % 3 === 1 ? { cost: { dailyBudgetUsd: 100 + index } } : {}),
  };
  return { name, yaml: `# yaml-language-server: $schema=../tenant.schema.json\n${stringify(tenant)}` };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): { wallMs: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stderr}\n${result.stdout}`);
  return { wallMs, stdout: result.stdout };
}

/** Runs the synth driver, measuring wall time from outside and peak RSS from inside. */
function synth(copy: string, args: readonly string[] = [], nodeArgs: readonly string[] = []): Measure {
  const statsFile = join(copy, '.bench-stats.json');
  const { wallMs } = run(process.execPath, [...nodeArgs, 'dist/scripts/synth.js', ...args], copy, { PLATFORM_SYNTH_STATS: statsFile });
  const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { maxRssBytes: number; synthesized: number };
  return { wallMs: Math.round(wallMs), maxRssMb: Math.round(stats.maxRssBytes / 1024 / 1024), synthesized: stats.synthesized };
}

function prepareCopy(root: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'platform-bench-'));
  for (const entry of ['package.json', 'package-lock.json', 'nx.json', 'tsconfig.base.json', 'tsconfig.json', 'environments', 'tenants', 'stacks', 'modules', 'scripts', 'dist']) {
    cpSync(join(root, entry), join(copy, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  writeFileSync(join(copy, '.gitignore'), 'node_modules\ndist\ncdktf.out\n.nx\n.bench-stats.json\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'add', '-A');
  git('-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'commit', '-q', '-m', 'bench base');
  return copy;
}

function writeTenants(copy: string, count: number, zones: readonly string[], accountId: string): string[] {
  rmSync(join(copy, 'tenants'), { recursive: true, force: true });
  mkdirSync(join(copy, 'tenants'));
  const names: string[] = [];
  for (let i = 1; i <= count; i++) {
    const tenant = syntheticTenant(i, zones, accountId);
    mkdirSync(join(copy, 'tenants', tenant.name));
    writeFileSync(join(copy, 'tenants', tenant.name, 'tenant.yaml'), tenant.yaml);
    names.push(tenant.name);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'ignore' });
  git('add', '-A');
  git('-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'commit', '-q', '-m', `${count} tenants`);
  return names;
}

function changeTenant(copy: string, name: string, run: number): void {
  const file = join(copy, 'tenants', name, 'tenant.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/pods: \d+/, `pods: ${600 + run}`));
}

function measureSize(copy: string, count: number, runs: number, withNx: boolean, zones: readonly string[], accountId: string): SizeResult {
  const names = writeTenants(copy, count, zones, accountId);
  const outdir = join(copy, 'cdktf.out');
  const cold: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    rmSync(outdir, { recursive: true, force: true });
    cold.push(synth(copy));
  }
  const stacks = cold[0]!.synthesized;
  const incremental: Measure[] = [];
  const noop: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    changeTenant(copy, names[i % names.length]!, i);
    incremental.push(synth(copy));
    noop.push(synth(copy));
  }
  execFileSync('git', ['checkout', '-q', '--', 'tenants'], { cwd: copy });
  synth(copy);

  let nx: SizeResult['nx'];
  if (withNx) {
    const nxBin = join(copy, 'node_modules', '.bin', 'nx');
    const env = { NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', NX_CACHE_DIRECTORY: join(copy, '.nx', 'cache') };
    run(nxBin, ['run', 'workspace:build'], copy, env);
    changeTenant(copy, names[0]!, 99);
    const affected = run(nxBin, ['show', 'projects', '--affected', '--uncommitted', '--json'], copy, env);
    const affectedProjects = JSON.parse(affected.stdout.slice(affected.stdout.indexOf('['))) as string[];
    const first = run(nxBin, ['affected', '-t', 'synth', '--uncommitted', '--outputStyle=static'], copy, env);
    const second = run(nxBin, ['affected', '-t', 'synth', '--uncommitted', '--outputStyle=static'], copy, env);
    execFileSync('git', ['checkout', '-q', '--', 'tenants'], { cwd: copy });
    nx = { affectedProjects: affectedProjects.filter((p) => p !== 'workspace').sort(), affectedSynthMs: Math.round(first.wallMs), cachedMs: Math.round(second.wallMs) };
  }

  const tenantStack = `tenant-${names[0]}`;
  const deep: Measure[] = [];
  const barrel: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    deep.push(synth(copy, ['--stack', tenantStack, '--force']));
    barrel.push(synth(copy, ['--stack', tenantStack, '--force'], ['--import', '@cdktf/provider-aws']));
  }
  const oneDeep = medianMeasure(deep);
  const oneBarrel = medianMeasure(barrel);
  return {
    tenants: count,
    stacks,
    cold: medianMeasure(cold),
    incremental: medianMeasure(incremental),
    noop: medianMeasure(noop),
    ...(nx ? { nx } : {}),
    baseline: {
      oneStackDeepMs: oneDeep.wallMs,
      oneStackDeepRssMb: oneDeep.maxRssMb,
      oneStackBarrelMs: oneBarrel.wallMs,
      oneStackBarrelRssMb: oneBarrel.maxRssMb,
      processPerStackMs: oneDeep.wallMs * stacks,
    },
  };
}

/** The targets of the performance issue, as checks over the results. */
export function targetChecks(results: readonly SizeResult[]): { target: string; measured: string; met: boolean }[] {
  const checks: { target: string; measured: string; met: boolean }[] = [];
  for (const r of results) {
    if (r.tenants === 100) {
      checks.push({ target: '100 tenants: full synth < 6 s', measured: `${(r.cold.wallMs / 1000).toFixed(2)} s`, met: r.cold.wallMs < 6000 });
      checks.push({ target: '100 tenants: peak RSS < 400 MB', measured: `${r.cold.maxRssMb} MB`, met: r.cold.maxRssMb < 400 });
    }
    if (r.tenants === 1000) {
      checks.push({ target: '1000 tenants: full synth < 40 s', measured: `${(r.cold.wallMs / 1000).toFixed(2)} s`, met: r.cold.wallMs < 40000 });
      checks.push({ target: '1000 tenants: peak RSS < 1.5 GB', measured: `${r.cold.maxRssMb} MB`, met: r.cold.maxRssMb < 1536 });
    }
    checks.push({ target: `${r.tenants} tenants: one tenant changed: 1 stack rebuilt, < 2 s`, measured: `${r.incremental.synthesized} stack, ${(r.incremental.wallMs / 1000).toFixed(2)} s`, met: r.incremental.synthesized === 1 && r.incremental.wallMs < 2000 });
    checks.push({ target: `${r.tenants} tenants: nothing changed < 1 s`, measured: `${(r.noop.wallMs / 1000).toFixed(2)} s`, met: r.noop.wallMs < 1000 });
    if (r.nx) {
      checks.push({ target: `${r.tenants} tenants: nx affected lists only the changed tenant`, measured: r.nx.affectedProjects.join(', '), met: r.nx.affectedProjects.length === 1 });
    }
  }
  return checks;
}

export function renderTable(results: readonly SizeResult[], runs: number): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    `| tenants | stacks | cold full synth | peak RSS | 1 tenant changed (rebuilt) | no-op | nx affected: projects | nx affected -t synth | nx, cached | 1 stack, own process (deep imports) | 1 stack, provider barrel | one process per stack (projected) |`,
    `|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.tenants} | ${r.stacks} | ${s(r.cold.wallMs)} | ${r.cold.maxRssMb} MB | ${s(r.incremental.wallMs)} (${r.incremental.synthesized}) | ${s(r.noop.wallMs)} | ${r.nx ? r.nx.affectedProjects.join(', ') : 'n/a'} | ${r.nx ? s(r.nx.affectedSynthMs) : 'n/a'} | ${r.nx ? s(r.nx.cachedMs) : 'n/a'} | ${s(r.baseline.oneStackDeepMs)}, ${r.baseline.oneStackDeepRssMb} MB | ${s(r.baseline.oneStackBarrelMs)}, ${r.baseline.oneStackBarrelRssMb} MB | ${s(r.baseline.processPerStackMs)} |`,
    );
  }
  lines.push('', `Medians of ${runs} run(s) each; wall times include Node start-up; RSS is the synth process's peak.`);
  return lines.join('\n');
}

export const USAGE = `usage: npm run bench -- [--sizes 10,100,1000] [--runs 3] [--json <file>] [--no-nx]

Measures synth at tenant scale in a temporary copy of the repository (N synthetic tenants per size),
prints a table, checks the performance targets and writes the results (default bench-out/bench.json).`;

/** Parses the command line: the options, or the exit code and text to print (help, usage errors). */
export function parseBenchArgs(argv: readonly string[]): { sizes: number[]; runs: number; json?: string; nx: boolean } | { exitCode: number; text: string } {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        sizes: { type: 'string', default: '10,100,1000' },
        runs: { type: 'string', default: '3' },
        json: { type: 'string' },
        'no-nx': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    return { exitCode: 2, text: `bench: ${(error as Error).message}\n${USAGE}` };
  }
  if (values.help) return { exitCode: 0, text: USAGE };
  const sizes = values.sizes.split(',').map((v) => Number(v.trim()));
  const runs = Number(values.runs);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
    return { exitCode: 2, text: `bench: --sizes takes whole numbers >= 1 and --runs a whole number >= 1\n${USAGE}` };
  }
  return { sizes, runs, ...(values.json ? { json: values.json } : {}), nx: !values['no-nx'] };
}

function main(): number {
  const args = parseBenchArgs(process.argv.slice(2));
  if ('exitCode' in args) {
    (args.exitCode === 0 ? console.log : console.error)(args.text);
    return args.exitCode;
  }
  const { sizes, runs } = args;
  const values = { json: args.json, 'no-nx': !args.nx };
  const root = repositoryRoot();
  const environment = loadEnvironment(root, 'dev');
  const copy = prepareCopy(root);
  const results: SizeResult[] = [];
  try {
    for (const count of sizes) {
      process.stderr.write(`bench: ${count} tenants...\n`);
      results.push(measureSize(copy, count, runs, !values['no-nx'], environment.availabilityZones, environment.accountId));
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const table = renderTable(results, runs);
  const checks = targetChecks(results);
  console.log(table);
  console.log('\nTargets:');
  for (const check of checks) console.log(`- ${check.met ? 'met' : 'MISSED'}: ${check.target} (measured ${check.measured})`);
  const jsonFile = values.json ?? join(root, 'bench-out', 'bench.json');
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, results, checks }, null, 2)}\n`);
  console.log(`\nwrote ${jsonFile}`);
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) process.exitCode = main();
