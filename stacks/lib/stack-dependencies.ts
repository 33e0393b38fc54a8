/**
 * Deploy-order dependencies between stacks, declared once and read by both orchestrators:
 *
 * - a platform stack's are the `implicitDependencies` of its Nx project, `stacks/<name>/project.json`;
 * - a tenant stack's are `TENANT_DEPENDS_ON` of the Nx plugin that turns `tenants/<name>/tenant.yaml`
 *   into a project (`scripts/nx/tenant-projects.cjs`).
 *
 * Nx builds its project graph from exactly these, and the synth writes them into
 * `cdktf.out/manifest.json` for every stack (rebuilt or not), so `cdktf deploy '*'` and
 * `nx run-many -t deploy` follow the same order and `cdktf destroy` runs it backwards. `workspace`
 * (the root Nx project: shared code) is not a stack and is left out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repositoryRoot } from './repository-root.js';

const SOURCE_ROOT = repositoryRoot();

/** The root Nx project every stack depends on (shared code); not a stack. */
export const WORKSPACE_PROJECT = 'workspace';

/** Where the dependencies of a platform stack are declared. */
export function projectFile(stackName: string): string {
  return join(SOURCE_ROOT, 'stacks', stackName, 'project.json');
}

const TENANT_FILE = /^tenants\/[^/]+\/tenant\.yaml$/;

let tenantDependsOn: readonly string[] | undefined;

function tenantDependencies(): readonly string[] {
  if (!tenantDependsOn) {
    const plugin = createRequire(import.meta.url)(join(SOURCE_ROOT, 'scripts', 'nx', 'tenant-projects.cjs')) as { TENANT_DEPENDS_ON: string[] };
    tenantDependsOn = plugin.TENANT_DEPENDS_ON;
  }
  return tenantDependsOn;
}

export class StackDependencyError extends Error {
  override name = 'StackDependencyError';
}

/**
 * The stacks `stack` must be deployed after, as its Nx project declares them. `inputs` are the
 * stack's configuration files: a stack built from `tenants/<name>/tenant.yaml` is a tenant project.
 */
export function declaredDependencies(stack: { readonly name: string; readonly inputs: readonly string[] }): string[] {
  const file = projectFile(stack.name);
  let declared: readonly string[];
  if (existsSync(file)) {
    const project = JSON.parse(readFileSync(file, 'utf8')) as { implicitDependencies?: unknown };
    const list = project.implicitDependencies ?? [];
    if (!Array.isArray(list) || !list.every((d) => typeof d === 'string')) {
      throw new StackDependencyError(`${file}: implicitDependencies: expected a list of project names, found ${JSON.stringify(list)}`);
    }
    declared = list as string[];
  } else if (stack.inputs.some((input) => TENANT_FILE.test(input))) {
    declared = tenantDependencies();
  } else {
    throw new StackDependencyError(
      `stack "${stack.name}" has no Nx project: add stacks/${stack.name}/project.json with its implicitDependencies (the stacks it reads state from or needs deployed first)`,
    );
  }
  return declared.filter((name) => name !== WORKSPACE_PROJECT && !name.startsWith('!'));
}

/**
 * Dependencies of every stack of an environment, checked: each names a stack of the environment,
 * and the graph has no cycle. Keys follow `stacks` order.
 */
export function dependencyGraph(stacks: readonly { readonly name: string; readonly inputs: readonly string[] }[]): Map<string, string[]> {
  return checkedDependencyGraph(new Map(stacks.map((stack) => [stack.name, declaredDependencies(stack)])));
}

/** `graph` itself when every dependency is one of its stacks and there is no cycle; otherwise a StackDependencyError. */
export function checkedDependencyGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const names = [...graph.keys()];
  for (const [stack, dependencies] of graph) {
    const unknown = dependencies.filter((d) => !graph.has(d));
    if (unknown.length > 0) {
      throw new StackDependencyError(
        `stack "${stack}" depends on ${unknown.map((d) => `"${d}"`).join(', ')}, which ${unknown.length === 1 ? 'is not a stack' : 'are not stacks'} of this environment (stacks: ${names.join(', ')})`,
      );
    }
  }
  const cycle = findCycle(graph);
  if (cycle) throw new StackDependencyError(`stack dependencies form a cycle: ${cycle.join(' -> ')}`);
  return graph;
}

function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const dependency of graph.get(name) ?? []) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
