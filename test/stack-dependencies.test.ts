/**
 * Stack dependencies, declared once (the Nx projects) and written into cdktf.out/manifest.json so
 * the cdktf CLI orders `deploy '*'` and `destroy` like `nx run-many -t deploy`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { checkRemoteStateReadsDeclared, synthesize } from '../stacks/lib/synthesize.js';
import { checkedDependencyGraph, declaredDependencies, StackDependencyError } from '../stacks/lib/stack-dependencies.js';
import { stackDefinitions } from '../stacks/registry.js';
import { runNx, temporaryNxWorkspace } from './support/nx-workspace.js';
import { FIXTURE_REPO, temporaryRoot, testEnvironment } from './support/synth.js';

type Manifest = { stacks: Record<string, { dependencies: string[] }> };

const root = temporaryRoot();
const outdir = join(root, 'cdktf.out');
synthesize({ root, environmentName: 'dev', outdir });
const manifest = () => JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
const full = manifest();

/** Nx's project graph of a workspace holding the same tenants: stack -> the stacks it depends on. */
function nxStackGraph(): Record<string, string[]> {
  const workspace = temporaryNxWorkspace();
  const result = runNx(workspace, ['graph', '--file=graph.json']);
  assert.equal(result.status, 0, result.stderr);
  const graph = JSON.parse(readFileSync(join(workspace, 'graph.json'), 'utf8')) as {
    graph: { nodes: Record<string, { data: { targets?: Record<string, unknown> } }>; dependencies: Record<string, { target: string }[]> };
  };
  const stacks = Object.keys(graph.graph.nodes).filter((name) => graph.graph.nodes[name]!.data.targets?.synth !== undefined);
  return Object.fromEntries(stacks.map((name) => [name, graph.graph.dependencies[name]!.map((d) => d.target).filter((t) => stacks.includes(t)).sort()]));
}

describe('cdktf manifest dependencies', () => {
  it('equal the Nx project graph, stack for stack (tenants included)', () => {
    const nx = nxStackGraph();
    const cdktf = Object.fromEntries(Object.entries(full.stacks).map(([name, stack]) => [name, [...stack.dependencies].sort()]));
    expect(Object.keys(cdktf).sort()).toEqual(Object.keys(nx).sort());
    expect(cdktf).toEqual(nx);
    assert.ok(Object.keys(cdktf).includes('tenant-analytics') && cdktf.cluster!.includes('network'));
  });

  it('lists the stacks in deploy order, each after the stacks it depends on', () => {
    const names = Object.keys(full.stacks);
    expect(names).toEqual(stackDefinitions(root, testEnvironment()).map((d) => d.name));
    for (const [i, name] of names.entries()) {
      for (const dependency of full.stacks[name]!.dependencies) assert.ok(names.indexOf(dependency) < i, `${name} before its dependency ${dependency}`);
    }
  });

  it('keep every stack\'s dependencies when an incremental synth rebuilds only some stacks', () => {
    const partialRoot = temporaryRoot();
    const partialOut = join(partialRoot, 'cdktf.out');
    synthesize({ root: partialRoot, environmentName: 'dev', outdir: partialOut, incremental: true });
    // A hand-damaged entry of a stack that is not rebuilt is restored from the declarations.
    const damaged = JSON.parse(readFileSync(join(partialOut, 'manifest.json'), 'utf8')) as Manifest;
    damaged.stacks.cluster!.dependencies = [];
    writeFileSync(join(partialOut, 'manifest.json'), JSON.stringify(damaged));
    const result = synthesize({ root: partialRoot, environmentName: 'dev', outdir: partialOut, stacks: ['network'] });
    expect(result.synthesized.map((s) => s.name)).toEqual(['network']);
    const after = JSON.parse(readFileSync(join(partialOut, 'manifest.json'), 'utf8')) as Manifest;
    expect(after.stacks).toEqual(JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')).stacks);
  });

  it('come from the Nx project of each stack (project.json, or the tenant plugin for tenant folders)', () => {
    expect(declaredDependencies({ name: 'cluster', inputs: ['environments/dev.yaml'] })).toEqual(['account', 'network']);
    expect(declaredDependencies({ name: 'tenant-x', inputs: ['environments/dev.yaml', 'tenants/x/tenant.yaml'] })).toEqual(['cluster', 'capacity', 'observability', 'tenancy']);
    assert.throws(() => declaredDependencies({ name: 'audit', inputs: ['environments/dev.yaml'] }), /stack "audit" has no Nx project: add stacks\/audit\/project\.json/);
  });

  it('refuses a dependency on a stack that does not exist, and a cycle', () => {
    assert.throws(() => checkedDependencyGraph(new Map([['a', ['b']]])), (e: unknown) => e instanceof StackDependencyError && /stack "a" depends on "b", which is not a stack of this environment/.test(e.message));
    assert.throws(
      () => checkedDependencyGraph(new Map([['a', ['c']], ['b', ['a']], ['c', ['b']]])),
      /stack dependencies form a cycle: a -> c -> b -> a/,
    );
    expect([...checkedDependencyGraph(new Map([['a', []], ['b', ['a']]])).keys()]).toEqual(['a', 'b']);
  });

  it('refuses a stack that reads the state of a stack it does not depend on', () => {
    const environment = testEnvironment();
    const karpenterInfra = stackDefinitions(FIXTURE_REPO, environment).find((d) => d.name === 'karpenter-infra')!.create(Testing.app({ stackTraces: false }));
    expect(() => checkRemoteStateReadsDeclared([karpenterInfra], new Map([['karpenter-infra', ['cluster']]]))).not.toThrow();
    assert.throws(
      () => checkRemoteStateReadsDeclared([karpenterInfra], new Map([['karpenter-infra', []]])),
      /stack "karpenter-infra" reads the state of "cluster" but does not declare it as a dependency/,
    );
  });
});
