/**
 * The pure logic of `npm run e2e`: which stacks the emulator can take and in which order, the
 * deployed copy of each stack (its AWS part, without what the emulator lacks), the remote-state
 * reads to check, how a re-plan is judged, and the summary line. No process is started here.
 */
import { awsPartOf, type TerraformJson } from '../lib/terraform.js';
import { type KnownDiff, KNOWN_DIFFS, type MissingApi, MISSING_APIS } from './gaps.js';

/** `aws`: every resource is deployed; `aws-part`: its AWS resources only; `in-cluster`: nothing (Helm/Kubernetes only). */
export type StackMode = 'aws' | 'aws-part' | 'in-cluster';

export interface PlatformEntry {
  readonly name: string;
  /** Registry flag (cdktf.out/platform.json): every provider of the stack is in the offline mirror. */
  readonly awsOnly: boolean;
}

type Blocks = Record<string, Record<string, Record<string, unknown>>>;
type StackJson = TerraformJson & { resource?: Blocks; data?: Blocks; output?: Record<string, Record<string, unknown>> };

function resourcesOf(json: StackJson): { type: string; name: string; body: Record<string, unknown> }[] {
  return Object.entries(json.resource ?? {}).flatMap(([type, instances]) => Object.entries(instances).map(([name, body]) => ({ type, name, body })));
}

export function stackMode(entry: PlatformEntry, json: StackJson): StackMode {
  if (entry.awsOnly) return 'aws';
  return resourcesOf(json).some((r) => r.type.startsWith('aws_')) ? 'aws-part' : 'in-cluster';
}

export interface Dropped {
  readonly address: string;
  readonly type: string;
  readonly reason: string;
}

export interface PreparedStack {
  readonly name: string;
  readonly mode: StackMode;
  /** What the harness deploys (undefined for in-cluster stacks). */
  readonly config?: StackJson;
  /** Resources left out because the emulator lacks their API (or they reference one that is). */
  readonly dropped: readonly Dropped[];
  /** Outputs left out with them. */
  readonly droppedOutputs: readonly Dropped[];
  /** Resources of providers not installable offline (helm, kubernetes): not deployed, by type. */
  readonly inClusterResources: number;
  readonly resources: number;
}

const referencePattern = (address: string) => new RegExp(`(?<![\\w.-])${address.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(?![\\w-])`);

/** The configuration of a block without its metadata and dependency list: what references live in. */
function referencingText(body: Record<string, unknown>): string {
  const { depends_on: _dependsOn, '//': _metadata, ...rest } = body;
  return JSON.stringify(rest);
}

/**
 * Removes resources the emulator lacks (MISSING_APIS), then, until nothing changes, every resource,
 * data source or output that references a removed one; `depends_on` entries naming removed resources
 * are dropped (ordering only). Returns the new configuration and what was left out, with reasons.
 */
export function withoutMissingApis(json: StackJson, gaps: readonly MissingApi[] = MISSING_APIS): { config: StackJson; dropped: Dropped[]; droppedOutputs: Dropped[] } {
  const config = structuredClone(json);
  const dropped: Dropped[] = [];
  const droppedOutputs: Dropped[] = [];
  for (const { type, name, body } of resourcesOf(config)) {
    const gap = gaps.find((g) => g.type === type && (g.whenConfigContains === undefined || referencingText(body).includes(g.whenConfigContains)));
    if (gap) dropped.push({ address: `${type}.${name}`, type, reason: gap.reason });
  }
  const blocks = (['resource', 'data'] as const).flatMap((block) =>
    Object.entries(config[block] ?? {}).flatMap(([type, instances]) =>
      Object.entries(instances).map(([name, body]) => ({ address: `${block === 'data' ? 'data.' : ''}${type}.${name}`, type, text: referencingText(body) })),
    ),
  );
  for (let grew = true; grew; ) {
    grew = false;
    const patterns = dropped.map((d) => ({ address: d.address, pattern: referencePattern(d.address) }));
    for (const block of blocks) {
      if (dropped.some((d) => d.address === block.address)) continue;
      const hit = patterns.find((p) => p.pattern.test(block.text));
      if (hit) {
        dropped.push({ address: block.address, type: block.type, reason: `references ${hit.address}, which is left out` });
        grew = true;
      }
    }
  }
  const droppedSet = new Set(dropped.map((d) => d.address));
  const patterns = dropped.map((d) => ({ address: d.address, pattern: referencePattern(d.address) }));
  for (const block of ['resource', 'data'] as const) {
    for (const [type, instances] of Object.entries(config[block] ?? {})) {
      for (const [name, body] of Object.entries(instances)) {
        if (droppedSet.has(`${block === 'data' ? 'data.' : ''}${type}.${name}`)) {
          delete instances[name];
          continue;
        }
        if (Array.isArray(body.depends_on)) {
          body.depends_on = (body.depends_on as string[]).filter((d) => !droppedSet.has(d));
          if ((body.depends_on as string[]).length === 0) delete body.depends_on;
        }
      }
      if (Object.keys(instances).length === 0) delete config[block]![type];
    }
  }
  for (const [name, output] of Object.entries(config.output ?? {})) {
    const hit = patterns.find((p) => p.pattern.test(JSON.stringify(output.value)));
    if (hit) {
      droppedOutputs.push({ address: `output.${name}`, type: 'output', reason: `references ${hit.address}, which is left out` });
      delete config.output![name];
    }
  }
  // cdktf's metadata maps construct ids to output names; the CLI renders each mapped output's value
  // and fails on one that no longer exists ("Cannot convert undefined or null to object").
  const metadata = (config as { '//'?: { outputs?: Record<string, unknown> } })['//'];
  if (metadata?.outputs) pruneOutputNames(metadata.outputs, new Set(droppedOutputs.map((d) => d.address.slice('output.'.length))));
  return { config, dropped, droppedOutputs };
}

/** Removes, from cdktf's nested construct-id -> output-name map, the names in `names`, and maps left empty. */
function pruneOutputNames(map: Record<string, unknown>, names: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(map)) {
    if (typeof value === 'string' && names.has(value)) delete map[key];
    else if (value !== null && typeof value === 'object') {
      pruneOutputNames(value as Record<string, unknown>, names);
      if (Object.keys(value).length === 0) delete map[key];
    }
  }
}

/** The deployed copy of one stack and what was left out of it. */
export function prepareStack(entry: PlatformEntry, json: StackJson, gaps: readonly MissingApi[] = MISSING_APIS): PreparedStack {
  const mode = stackMode(entry, json);
  const total = resourcesOf(json).length;
  if (mode === 'in-cluster') return { name: entry.name, mode, dropped: [], droppedOutputs: [], inClusterResources: total, resources: 0 };
  let base = json;
  let inClusterResources = 0;
  if (mode === 'aws-part') {
    const part = awsPartOf(json);
    base = part.config as StackJson;
    inClusterResources = total - resourcesOf(base).length;
  }
  const { config, dropped, droppedOutputs } = withoutMissingApis(base, gaps);
  return { name: entry.name, mode, config, dropped, droppedOutputs, inClusterResources, resources: resourcesOf(config).length };
}

/** Remote-state reads of a synthesized stack: the upstream stack (from the state key) and every output referenced. */
export function remoteStateReads(json: StackJson, environmentName: string): { upstream: string; outputs: string[] }[] {
  const text = JSON.stringify({ ...json, data: { ...json.data, terraform_remote_state: undefined } });
  return Object.entries(json.data?.terraform_remote_state ?? {}).map(([id, body]) => {
    const key = String((body.config as { key?: unknown } | undefined)?.key ?? '');
    const match = new RegExp(`^${environmentName}/(.+)\\.tfstate$`).exec(key);
    const outputs = new Set<string>();
    for (const [, output] of text.matchAll(new RegExp(`data\\.terraform_remote_state\\.${id.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\.outputs\\.([A-Za-z0-9_]+)`, 'g'))) outputs.add(output!);
    return { upstream: match?.[1] ?? key, outputs: [...outputs].sort() };
  });
}

/** A topological order of `names` over `dependencies`, ties kept in the given order. Throws on a cycle. */
export function dependencyOrder(names: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < names.length) {
    const next = names.find((n) => !placed.has(n) && (dependencies.get(n) ?? []).every((d) => placed.has(d) || !names.includes(d)));
    if (!next) throw new Error(`dependency cycle among ${names.filter((n) => !placed.has(n)).join(', ')}`);
    order.push(next);
    placed.add(next);
  }
  return order;
}

/** Destroy order in waves: each wave holds stacks no remaining stack depends on (destroyable together). */
export function destroyWaves(names: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[][] {
  const waves: string[][] = [];
  let remaining = [...dependencyOrder(names, dependencies)].reverse();
  while (remaining.length > 0) {
    const wave = remaining.filter((n) => !remaining.some((other) => other !== n && (dependencies.get(other) ?? []).includes(n)));
    waves.push(wave);
    remaining = remaining.filter((n) => !wave.includes(n));
  }
  return waves;
}

export interface PlannedChange {
  readonly address: string;
  readonly actions: readonly string[];
  /** Attributes that differ, or become unknown, in an update or replacement. */
  readonly attributes: readonly string[];
  /** Set when the change is a known emulator difference (KNOWN_DIFFS), or only follows one. */
  readonly tolerated?: string;
}

type Change = { actions: string[]; before?: unknown; after?: unknown; after_unknown?: unknown; replace_paths?: unknown[][] };
type PlanJson = {
  resource_changes?: { address: string; type: string; change: Change }[];
  output_changes?: Record<string, Change>;
};

/**
 * The attributes behind a change: for an update, those whose value differs or becomes unknown; for
 * a replacement, those that force it (`replace_paths`; the new object's other values are not a diff).
 */
function changedAttributes(change: Change): { changed: string[]; unknown: string[] } {
  const b = (change.before ?? {}) as Record<string, unknown>;
  const a = (change.after ?? {}) as Record<string, unknown>;
  const afterUnknown = (change.after_unknown ?? {}) as Record<string, unknown>;
  const replacing = change.actions.includes('delete') && change.actions.includes('create');
  const keys = replacing
    ? [...new Set((change.replace_paths ?? []).map((path) => String(path[0])))].sort()
    : [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const unknown = keys.filter((k) => afterUnknown[k] === true);
  const changed = keys.filter((k) => !unknown.includes(k) && JSON.stringify(b[k]) !== JSON.stringify(a[k]));
  return { changed, unknown };
}

const FOLLOWS = 'values unknown until the known emulator difference of';

const isNoOp = (actions: readonly string[]) => actions.every((a) => a === 'no-op' || a === 'read');
const isUpdateOrReplace = (actions: readonly string[]) => (actions.length === 1 && actions[0] === 'update') || (actions.length === 2 && actions.includes('delete') && actions.includes('create'));

/**
 * Every change of a re-plan (`terraform show -json`). A change is tolerated when its changed
 * attributes are all covered by one known emulator difference of its type; a change whose values
 * only become unknown (no attribute differs) is tolerated when the plan also holds a tolerated
 * change it can follow from. Creations, deletions and anything else are never tolerated.
 */
export function replanChanges(plan: PlanJson, known: readonly KnownDiff[] = KNOWN_DIFFS): PlannedChange[] {
  const changes: (PlannedChange & { onlyUnknown: boolean })[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const { actions } = rc.change;
    if (isNoOp(actions)) continue;
    if (!isUpdateOrReplace(actions)) {
      changes.push({ address: rc.address, actions, attributes: [], onlyUnknown: false });
      continue;
    }
    const { changed, unknown } = changedAttributes(rc.change);
    const gap = changed.length > 0 ? known.find((k) => k.type === rc.type && changed.every((attr) => k.attributes.includes(attr))) : undefined;
    changes.push({ address: rc.address, actions, attributes: [...changed, ...unknown].sort(), onlyUnknown: changed.length === 0 && unknown.length > 0, ...(gap ? { tolerated: gap.reason } : {}) });
  }
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    if (isNoOp(change.actions)) continue;
    changes.push({ address: `output.${name}`, actions: change.actions, attributes: [], onlyUnknown: change.after_unknown === true });
  }
  const causes = changes.filter((c) => c.tolerated).map((c) => c.address);
  return changes.map(({ onlyUnknown, ...c }) =>
    onlyUnknown && !c.tolerated && causes.length > 0 ? { ...c, tolerated: `${FOLLOWS} ${causes.join(', ')} is applied` } : c,
  );
}

export interface RunSummary {
  readonly deployed: readonly PreparedStack[];
  /** State resources after the deploy, over every deployed stack. */
  readonly resources: number;
  readonly inCluster: readonly PreparedStack[];
  readonly tolerated: readonly PlannedChange[];
  /** Stacks whose destroy Terraform refused (prevent_destroy) and that the runbook keeps. */
  readonly kept: readonly string[];
  readonly seconds: number;
}

function counted(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => (n > 1 ? `${n} ${item}` : item)).join(', ');
}

function replanPart(tolerated: readonly PlannedChange[]): string {
  if (tolerated.length === 0) return 're-plan clean';
  const causes = tolerated.filter((c) => !c.tolerated?.startsWith(FOLLOWS));
  const following = tolerated.length - causes.length;
  return `re-plan clean but ${causes.length} known emulator diffs (${counted(causes.map((c) => c.address.split('.')[0]!))})${following > 0 ? ` and ${following} changes following them` : ''}`;
}

/** The one line `npm run e2e` prints last. */
export function summaryLine(summary: RunSummary): string {
  const dropped = summary.deployed.flatMap((s) => s.dropped);
  const mixed = summary.deployed.filter((s) => s.mode === 'aws-part');
  const inClusterResources = mixed.reduce((n, s) => n + s.inClusterResources, 0);
  const minutes = `${Math.floor(summary.seconds / 60)}m${String(Math.round(summary.seconds % 60)).padStart(2, '0')}s`;
  const parts = [
    `${summary.deployed.length} stacks deployed (${summary.resources} resources)`,
    `${dropped.length} skipped (emulator lacks: ${counted(dropped.map((d) => d.type)) || 'nothing'})`,
    `${summary.inCluster.length + mixed.length > 0 ? `remote-state reads only for ${summary.inCluster.length} in-cluster stacks and ${inClusterResources} in-cluster resources of ${mixed.length} mixed stacks` : 'no in-cluster stacks'}`,
    replanPart(summary.tolerated),
    `destroyed${summary.kept.length > 0 ? ` (kept by prevent_destroy, per runbook: ${summary.kept.join(', ')})` : ''}`,
    minutes,
  ];
  return `e2e: ${parts.join(', ')}`;
}
