import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, it } from '@jest/globals';
import { affectedProjects, deployOrder, main as affectedMain, type NxProjectGraph, orderStacks, readPlatformStacks, readProjectGraph } from '../scripts/affected-stacks.js';
import { ciEnvironmentOutputs } from '../scripts/ci-env.js';
import { APPROVAL_LABEL, buildComment, COMMENT_MARKER, gateDecision, main as commentMain, MAX_COMMENT_LENGTH, parseResult } from '../scripts/plan-comment.js';
import { temporaryNxWorkspace } from './support/nx-workspace.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { temporaryRoot } from './support/synth.js';


/** A graph in `nx graph --file` shape: name -> dependencies; every name but `workspace` is a stack. */
function graph(deps: Record<string, string[]>): NxProjectGraph {
  return {
    graph: {
      nodes: Object.fromEntries(Object.keys(deps).map((name) => [name, { name, data: { targets: name === 'workspace' ? { build: {} } : { synth: {}, deploy: {} } } }])),
      dependencies: Object.fromEntries(Object.entries(deps).map(([name, targets]) => [name, targets.map((target) => ({ source: name, target }))])),
    },
  };
}

const PLATFORM = graph({
  workspace: [],
  'tenant-b': ['workspace', 'cluster', 'capacity'],
  capacity: ['workspace', 'cluster', 'karpenter'],
  karpenter: ['workspace', 'cluster'],
  cluster: ['workspace', 'network'],
  network: ['workspace', 'bootstrap'],
  bootstrap: ['workspace'],
  'tenant-a': ['workspace', 'cluster', 'capacity'],
});

const capture = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
};

describe('affected-stacks: deploy order', () => {
  it('orders every stack after the stacks it depends on, deterministically, without non-stack projects', () => {
    assert.deepEqual(deployOrder(PLATFORM), ['bootstrap', 'network', 'cluster', 'karpenter', 'capacity', 'tenant-a', 'tenant-b']);
  });

  it('keeps the preferred (registry) order among independent stacks', () => {
    assert.deepEqual(deployOrder(PLATFORM, ['bootstrap', 'network', 'cluster', 'karpenter', 'capacity', 'tenant-b', 'tenant-a']).slice(-2), ['tenant-b', 'tenant-a']);
  });

  it('orders a selection by the full graph, even through stacks that are not selected', () => {
    assert.deepEqual(orderStacks(PLATFORM, ['tenant-a', 'network', 'capacity']), ['network', 'capacity', 'tenant-a']);
    assert.deepEqual(orderStacks(PLATFORM, ['tenant-a', 'workspace']), ['tenant-a']);
  });

  it('limits to the stacks of an environment and rejects unknown names and cycles', () => {
    assert.deepEqual(orderStacks(PLATFORM, ['tenant-a', 'tenant-b'], ['bootstrap', 'network', 'cluster', 'karpenter', 'capacity', 'tenant-a']), ['tenant-a']);
    assert.throws(() => orderStacks(PLATFORM, ['netwrok']), /not stacks of the Nx graph: netwrok/);
    assert.throws(() => orderStacks(PLATFORM, [], ['network', 'observability']), /without an Nx project .*: observability/);
    assert.throws(() => deployOrder(graph({ a: ['b'], b: ['a'], c: [] })), /dependency cycle among: a, b/);
  });

  it('CLI: prints lines or JSON, skips local-state stacks with --remote-state-only, and validates its arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'affected-'));
    try {
      writeFileSync(join(dir, 'graph.json'), JSON.stringify(PLATFORM));
      writeFileSync(join(dir, 'platform.json'), JSON.stringify({ stacks: ['bootstrap', 'network', 'cluster', 'karpenter', 'capacity', 'tenant-a', 'tenant-b'].map((name) => ({ name })) }));
      for (const [name, backend] of [['bootstrap', { local: { path: 'x' } }], ...['network', 'cluster', 'karpenter', 'capacity', 'tenant-a', 'tenant-b'].map((n) => [n, { s3: { key: n } }])] as const) {
        mkdirSync(join(dir, 'stacks', name as string), { recursive: true });
        writeFileSync(join(dir, 'stacks', name as string, 'cdk.tf.json'), JSON.stringify({ terraform: { backend } }));
      }
      const lines = capture();
      assert.equal(affectedMain(['--all', '--graph', join(dir, 'graph.json')], lines.io, dir), 0);
      assert.equal(lines.out.stdout, 'bootstrap\nnetwork\ncluster\nkarpenter\ncapacity\ntenant-a\ntenant-b\n');
      const json = capture();
      assert.equal(affectedMain(['--all', '--graph', join(dir, 'graph.json'), '--platform', join(dir, 'platform.json'), '--remote-state-only', '--json'], json.io, dir), 0);
      assert.deepEqual(JSON.parse(json.out.stdout), ['network', 'cluster', 'karpenter', 'capacity', 'tenant-a', 'tenant-b']);
      assert.match(json.out.stderr, /skipping bootstrap: its state is local/);
      const bad = capture();
      assert.equal(affectedMain(['--all', '--base', 'main'], bad.io, dir), 2);
      assert.match(bad.out.stderr, /exactly one of --base, --files, --all/);
      assert.equal(affectedMain(['--all', '--remote-state-only'], capture().io, dir), 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("affected-stacks: the product's Nx workspace (fixture tenants)", () => {
  let workspace: string;
  let real: NxProjectGraph;
  beforeAll(() => {
    workspace = temporaryNxWorkspace();
    real = readProjectGraph(workspace);
  });

  it('orders every stack after its implicit dependencies (project.json and tenant projects)', () => {
    const order = deployOrder(real);
    assert.equal(order[0], 'bootstrap');
    for (const [name, deps] of Object.entries(real.graph.dependencies)) {
      if (!order.includes(name)) continue;
      for (const { target } of deps) if (order.includes(target)) assert.ok(order.indexOf(target) < order.indexOf(name), `${target} before ${name}`);
    }
  });

  it('has a project per fixture tenant folder, deployed after the platform stacks', () => {
    const order = deployOrder(real);
    assert.deepEqual(order.filter((s) => s.startsWith('tenant-')).sort(), ['tenant-analytics', 'tenant-risk-models']);
    for (const tenant of ['tenant-analytics', 'tenant-risk-models']) assert.ok(order.indexOf(tenant) > order.indexOf('tenancy'), tenant);
  });

  it('a changed tenant file affects only its tenant; a changed module affects every stack', () => {
    assert.deepEqual(affectedProjects(workspace, { files: ['tenants/analytics/tenant.yaml'] }), ['tenant-analytics']);
    assert.deepEqual(new Set(affectedProjects(workspace, { files: ['modules/network/cidr.ts'] })), new Set(deployOrder(real)));
  });
});

describe('affected-stacks: a tenant in some environments only', () => {
  let workspace: string;
  beforeAll(() => {
    workspace = temporaryNxWorkspace({
      keepFixtureTenants: true,
      tenants: { 'dev-only': { name: 'dev-only', owners: ['arn:aws:iam::111122223333:role/dev-only'], quota: { cpu: '4', memory: '16Gi' }, environments: { dev: {} } } },
    });
    // Its file changes (say prod is added later): still only its project is affected.
    writeFileSync(join(workspace, 'tenants/dev-only/tenant.yaml'), readFileSync(join(workspace, 'tenants/dev-only/tenant.yaml'), 'utf8').replace('cpu: "4"', 'cpu: "8"'));
    for (const environmentName of ['dev', 'prod']) synthesize({ root: workspace, environmentName, outdir: join(workspace, `out-${environmentName}`), stacks: ['bootstrap'] });
  });

  it('is still one Nx project, the only one its file affects', () => {
    assert.deepEqual(affectedProjects(workspace, { files: ['tenants/dev-only/tenant.yaml'] }), ['tenant-dev-only']);
  });

  it('is selected for the environments it names and skipped, with a note, elsewhere', () => {
    const graph = readProjectGraph(workspace);
    writeFileSync(join(workspace, 'graph.json'), JSON.stringify(graph));
    assert.deepEqual(orderStacks(graph, ['tenant-dev-only'], readPlatformStacks(join(workspace, 'out-dev', 'platform.json'))), ['tenant-dev-only']);
    const inProd = capture();
    assert.equal(affectedMain(['--files', 'tenants/dev-only/tenant.yaml', '--platform', join(workspace, 'out-prod', 'platform.json'), '--graph', join(workspace, 'graph.json'), '--json'], inProd.io, workspace), 0);
    assert.deepEqual(JSON.parse(inProd.out.stdout), []);
    assert.match(inProd.out.stderr, /affected-stacks: skipping tenant-dev-only: not in environment prod \(its tenant\.yaml lists dev\)/);
  });
});

describe('plan-comment: sticky comment and high-risk gate', () => {
  const review = (environment: string, exitCode: number, extra: Partial<{ markdown: string; failedStacks: string[] }> = {}) => ({
    environment,
    markdown: `# Terraform plan review\n\nNo high-risk changes found.\n\n## Stack \`network\`\n\n1 to create.\n`,
    exitCode,
    failedStacks: [],
    ...extra,
  });
  const sha = '0123456789abcdef0123456789abcdef01234567';

  it('builds one comment with the markers, one section per environment and nested headings', () => {
    const result = buildComment({ sha, reviews: [review('dev', 0), review('prod', 3)], affected: ['network', 'cluster'], planResult: 'success' });
    assert.equal(result.highRisk, true);
    assert.equal(result.complete, true);
    const lines = result.body.split('\n');
    assert.equal(lines[0], COMMENT_MARKER);
    assert.equal(lines[1], `<!-- spark-platform:plan-review-result sha=${sha} high-risk=true complete=true -->`);
    assert.match(result.body, /Affected stacks, in deploy order: `network`, `cluster`\./);
    assert.match(result.body, new RegExp(`add the \`${APPROVAL_LABEL}\` label`));
    assert.match(result.body, /## Environment `dev`\n\nNo high-risk changes found\.\n\n### Stack `network`/);
    assert.ok(result.body.indexOf('## Environment `dev`') < result.body.indexOf('## Environment `prod`'));
    assert.deepEqual(parseResult(result.body, sha), { highRisk: true, complete: true });
    assert.equal(parseResult(result.body, 'f'.repeat(40)), undefined, 'a result is never applied to another commit');
  });

  it('marks the review incomplete when a plan failed, an environment produced nothing, or plan-review rejected its input', () => {
    assert.equal(buildComment({ sha, reviews: [review('dev', 0, { failedStacks: ['cluster'] })], affected: ['cluster'], planResult: 'failure' }).complete, false);
    assert.equal(buildComment({ sha, reviews: [{ environment: 'dev', failedStacks: [] }], affected: ['cluster'], planResult: 'success' }).complete, false);
    assert.equal(buildComment({ sha, reviews: [review('dev', 2)], affected: ['cluster'], planResult: 'success' }).complete, false);
    assert.equal(buildComment({ sha, reviews: [], affected: ['cluster'], planResult: 'cancelled' }).complete, false);
    const failed = buildComment({ sha, reviews: [review('dev', 0, { failedStacks: ['cluster'] })], affected: ['cluster'], planResult: 'failure' });
    assert.match(failed.body, /\*\*terraform plan failed\*\* for `cluster`/);
    assert.match(failed.body, /The plan is incomplete/);
  });

  it('says so when nothing is affected, and truncates comments GitHub would reject', () => {
    const none = buildComment({ sha, reviews: [], affected: [], planResult: 'skipped' });
    assert.deepEqual([none.highRisk, none.complete], [false, true]);
    assert.match(none.body, /No stack is affected by this change/);
    const huge = buildComment({ sha, reviews: [review('dev', 0, { markdown: `# Terraform plan review\n\n${'x'.repeat(100_000)}` })], affected: ['network'], planResult: 'success' });
    assert.ok(huge.body.length <= MAX_COMMENT_LENGTH);
    assert.match(huge.body, /\*\*Truncated\*\*/);
  });

  it('gate: passes low-risk complete reviews, requires the label for high risk, always fails incomplete ones', () => {
    assert.equal(gateDecision({ highRisk: false, complete: true, labels: [] }).ok, true);
    assert.deepEqual(gateDecision({ highRisk: true, complete: true, labels: ['docs'] }), {
      ok: false,
      message: 'the plan has high-risk changes: a reviewer must add the "approved-high-risk" label after reading the plan review comment',
    });
    assert.equal(gateDecision({ highRisk: true, complete: true, labels: [APPROVAL_LABEL] }).ok, true);
    assert.equal(gateDecision({ highRisk: false, complete: false, labels: [APPROVAL_LABEL] }).ok, false);
  });

  it('CLI: build reads the review artifacts and prints step outputs; parse and gate close the loop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-comment-'));
    try {
      for (const [env, code] of [['dev', '0'], ['prod', '3']] as const) {
        mkdirSync(join(dir, 'reviews', `review-${env}`), { recursive: true });
        writeFileSync(join(dir, 'reviews', `review-${env}`, 'review.md'), `# Terraform plan review\n\n${env} review\n`);
        writeFileSync(join(dir, 'reviews', `review-${env}`, 'exit-code'), `${code}\n`);
        writeFileSync(join(dir, 'reviews', `review-${env}`, 'failed-stacks.txt'), '');
      }
      writeFileSync(join(dir, 'reviews', 'review-dev', 'notes.txt'), 'affected-stacks: skipping bootstrap: its state is local (apply it by hand, see the bootstrap runbook)\n');
      const built = capture();
      const comment = join(dir, 'comment.md');
      assert.equal(commentMain(['build', '--sha', sha, '--reviews', join(dir, 'reviews'), '--affected', '["network"]', '--plan-result', 'success', '--out', comment], built.io), 0);
      assert.equal(built.out.stdout, 'high-risk=true\ncomplete=true\n');
      assert.match(readFileSync(comment, 'utf8'), /## Environment `prod`\n\nprod review/);
      assert.match(readFileSync(comment, 'utf8'), /## Environment `dev`\n\n> skipping bootstrap: its state is local/);
      const parsed = capture();
      assert.equal(commentMain(['parse', '--sha', sha, '--comment', comment], parsed.io), 0);
      assert.equal(parsed.out.stdout, 'high-risk=true\ncomplete=true\n');
      const stale = capture();
      assert.equal(commentMain(['parse', '--sha', 'a'.repeat(40), '--comment', comment], stale.io), 1);
      assert.match(stale.out.stderr, /no plan review result for commit a{40}/);
      const blocked = capture();
      assert.equal(commentMain(['gate', '--high-risk', 'true', '--complete', 'true', '--labels', '["docs"]'], blocked.io), 1);
      assert.match(blocked.out.stderr, /gate failed: the plan has high-risk changes/);
      assert.equal(commentMain(['gate', '--high-risk', 'true', '--complete', 'true', '--labels', JSON.stringify([APPROVAL_LABEL])], capture().io), 0);
      const usage = capture();
      assert.equal(commentMain(['gate', '--high-risk', 'maybe', '--complete', 'true'], usage.io), 2);
      assert.match(usage.out.stderr, /--high-risk must be true or false/);
      assert.equal(commentMain(['publish'], capture().io), 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ci-env', () => {
  let root: string;
  beforeAll(() => {
    root = temporaryRoot({ tenants: 'none' });
  });

  it('prints the region and account of an environment as step outputs', () => {
    assert.equal(ciEnvironmentOutputs(root, 'prod'), 'region=us-west-2\naccount-id=444455556666\n');
    assert.throws(() => ciEnvironmentOutputs(root, 'qa'), /environments\/qa\.yaml/);
  });
});
