/**
 * CI per-stack runs (scripts/ci-stacks.ts, scripts/lib/scheduler.ts) and finding the reviewed plans
 * (scripts/reviewed-plan.ts). `ci-stacks` runs for real (compiled, as the workflows call it) with a
 * stand-in `terraform` (scripts/bench-plan.ts) that records every call with its time, sleeps on
 * `plan` and prints the plan JSON a test gives it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { stackDependencies, type NxProjectGraph } from '../scripts/affected-stacks.js';
import { peakConcurrency, planBenchRoot, readStandInCalls, writeStandInTerraform } from '../scripts/bench-plan.js';
import { runInDependencyOrder } from '../scripts/lib/scheduler.js';
import { findReviewedPlan, main as reviewedPlanMain, stepOutputs, type Fetch } from '../scripts/reviewed-plan.js';
import { compiledScript } from './support/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'ci-stacks-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scheduler: bounded concurrency in dependency order', () => {
  const deps = new Map([
    ['cluster', ['network']],
    ['capacity', ['cluster']],
    ['tenant-a', ['capacity']],
    ['tenant-b', ['capacity']],
    ['tenant-c', ['capacity']],
    ['tenant-d', ['capacity']],
    ['observability', ['cluster']],
  ]);
  const stacks = ['network', 'cluster', 'capacity', 'observability', 'tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'];

  it('never starts a stack before its upstream finished, and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const finished = new Set<string>();
    const runs = await runInDependencyOrder(stacks, deps, {
      concurrency: 3,
      run: async (stack) => {
        for (const upstream of deps.get(stack) ?? []) assert.ok(finished.has(upstream), `${stack} started before ${upstream} finished`);
        peak = Math.max(peak, (running += 1));
        await sleep(20);
        running -= 1;
        finished.add(stack);
        return true;
      },
    });
    assert.equal(peak, 3, 'four tenants are ready at once: the limit, not more');
    expect(runs.map((r) => [r.stack, r.outcome])).toEqual(stacks.map((s) => [s, 'succeeded']));
  });

  it('plans keep going after a failure; deploys skip everything downstream of it', async () => {
    const failing = async (stack: string) => stack !== 'cluster';
    const plans = await runInDependencyOrder(stacks, deps, { concurrency: 2, run: failing });
    assert.deepEqual(plans.filter((r) => r.outcome !== 'succeeded').map((r) => r.stack), ['cluster']);
    const deploys = await runInDependencyOrder(stacks, deps, { concurrency: 2, skipDependentsOfFailed: true, run: failing });
    assert.deepEqual(
      deploys.map((r) => `${r.stack} ${r.outcome}`),
      ['network succeeded', 'cluster failed', 'capacity skipped', 'observability skipped', 'tenant-a skipped', 'tenant-b skipped', 'tenant-c skipped', 'tenant-d skipped'],
    );
    assert.equal(deploys.find((r) => r.stack === 'tenant-a')!.reason, 'upstream capacity was not applied');
  });

  it('rejects a cycle, a duplicate and a concurrency below 1; a throwing task fails its stack', async () => {
    await assert.rejects(runInDependencyOrder(['a', 'b'], new Map([['a', ['b']], ['b', ['a']]]), { concurrency: 1, run: async () => true }), /dependency cycle among: a, b/);
    await assert.rejects(runInDependencyOrder(['a', 'a'], new Map(), { concurrency: 1, run: async () => true }), /listed twice: a/);
    await assert.rejects(runInDependencyOrder(['a'], new Map(), { concurrency: 0, run: async () => true }), /concurrency must be a whole number >= 1/);
    const [run] = await runInDependencyOrder(['a'], new Map(), { concurrency: 1, run: async () => Promise.reject(new Error('boom')) });
    assert.deepEqual([run!.outcome, run!.reason], ['failed', 'boom']);
  });

  it('follows dependencies through projects that are not selected (tenant -> capacity -> cluster)', () => {
    const graph: NxProjectGraph = {
      graph: {
        nodes: Object.fromEntries(['workspace', 'cluster', 'karpenter', 'capacity', 'tenant-a'].map((n) => [n, { name: n, data: { targets: n === 'workspace' ? {} : { synth: {} } } }])),
        dependencies: {
          cluster: [{ source: 'cluster', target: 'workspace' }],
          karpenter: [{ source: 'karpenter', target: 'cluster' }],
          capacity: [{ source: 'capacity', target: 'karpenter' }],
          'tenant-a': [{ source: 'tenant-a', target: 'capacity' }, { source: 'tenant-a', target: 'workspace' }],
        },
      },
    };
    assert.deepEqual(Object.fromEntries(stackDependencies(graph, ['cluster', 'tenant-a'])), { cluster: [], 'tenant-a': ['cluster'] });
  });
});

interface CiRun {
  status: number | null;
  stdout: string;
  stderr: string;
  events: string;
}

function ciStacks(root: string, args: string[], env: Record<string, string> = {}): CiRun {
  const bin = writeStandInTerraform(join(root, 'bin'));
  const events = join(root, `events-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(events, '');
  const result = spawnSync(process.execPath, [compiledScript('ci-stacks.js'), ...args, '--root', root, '--graph', join(root, 'graph.json')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TERRAFORM_BIN: bin, STANDIN_EVENTS: events, STANDIN_PLAN_SECONDS: '0.3', TF_PLUGIN_CACHE_DIR: join(root, 'plugin-cache'), ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, events };
}

describe('ci-stacks plan: parallel plans, one log group per stack, the reviewed-plan bundle', () => {
  const { root } = planBenchRoot(8, mkdtempSync(join(tmp, 'plan-')));
  const stacks = ['network', 'cluster', 'karpenter-infra', 'karpenter', 'capacity', 'tenancy', ...Array.from({ length: 8 }, (_, i) => `tenant-bench-000${i + 1}`)];
  writeFileSync(join(root, 'stacks.txt'), `${stacks.join('\n')}\n`);
  const run = ciStacks(root, ['plan', '--stacks-file', 'stacks.txt', '--concurrency', '4', '--out', 'review', '--bundle', 'reviewed-plan', '--head-sha', 'a'.repeat(40)], { STANDIN_FAIL: 'tenant-bench-0003' });
  const calls = readStandInCalls(run.events);

  it('plans every stack with at most 4 at once, reaching 4, each after the stacks it reads', () => {
    assert.equal(run.status, 1, `one plan fails (exit 1)\n${run.stderr}`);
    const plans = calls.filter((c) => c.command === 'plan');
    expect(plans.map((c) => c.stack).sort()).toEqual([...stacks].sort());
    assert.equal(peakConcurrency(calls, 'plan'), 4);
    const end = (stack: string) => plans.find((c) => c.stack === stack)!.endMs;
    for (const tenant of plans.filter((c) => c.stack.startsWith('tenant-'))) {
      for (const upstream of ['cluster', 'capacity', 'tenancy']) assert.ok(tenant.startMs >= end(upstream), `${tenant.stack} started before ${upstream} ended`);
    }
    assert.ok(plans.find((c) => c.stack === 'tenancy')!.startMs < end('capacity'), 'tenancy runs alongside the karpenter chain');
  });

  it('fills the plugin cache once, before any stack, and gives each stack its lock file', () => {
    const inits = calls.filter((c) => c.command === 'init');
    assert.match(inits[0]!.stack, /^ci-stacks-plugins-/);
    assert.equal(inits.filter((c) => /^ci-stacks-plugins-/.test(c.stack)).length, 1, 'one install for every stack (their provider versions agree)');
    assert.ok(inits[0]!.endMs <= Math.min(...calls.filter((c) => c.command === 'plan').map((c) => c.startMs)));
    assert.match(run.stdout, /provider cache filled for aws, kubernetes/);
  });

  it('prints one whole log group per stack and flags the failed plan', () => {
    const groups = [...run.stdout.matchAll(/::group::plan (\S+) \((\w+), [\d.]+ s\)\n([\s\S]*?)::endgroup::\n/g)];
    expect(groups.map((g) => g[1]).sort()).toEqual([...stacks].sort());
    for (const [, stack, outcome, body] of groups) {
      assert.equal(outcome, stack === 'tenant-bench-0003' ? 'failed' : 'succeeded');
      assert.doesNotMatch(body!, /::group::/, `group of ${stack} is not interleaved with another`);
      if (outcome === 'succeeded') assert.match(body!, new RegExp(`^\\$ terraform init -input=false -no-color\\n\\$ terraform plan .*-out=plan\\.tfplan\\n\\$ terraform show -json plan\\.tfplan\\nci-stacks: plan saved to .*/stacks/${stack}/plan\\.tfplan`));
    }
    assert.match(run.stdout, /::error::terraform plan failed for tenant-bench-0003 in dev/);
    assert.match(run.stdout, /planned 13 of 14 stack\(s\) of dev in [\d.]+ s at concurrency 4; failed: tenant-bench-0003/);
  });

  it('writes the plan list, the failed stacks and the bundle the deploy compares with', () => {
    const plans = readFileSync(join(root, 'review', 'plans.txt'), 'utf8').trim().split('\n');
    assert.equal(plans.length, 13);
    assert.ok(plans.every((line) => /^[\w-]+=\/.*\/cdktf\.out\/stacks\/[\w-]+\/plan\.json$/.test(line)));
    assert.equal(readFileSync(join(root, 'review', 'failed-stacks.txt'), 'utf8'), 'tenant-bench-0003\n');
    const manifest = JSON.parse(readFileSync(join(root, 'reviewed-plan', 'manifest.json'), 'utf8')) as { environment: string; headSha: string; stacks: string[]; failed: string[] };
    assert.deepEqual([manifest.environment, manifest.headSha, manifest.failed], ['dev', 'a'.repeat(40), ['tenant-bench-0003']]);
    assert.equal(manifest.stacks.length, 13);
    assert.ok(existsSync(join(root, 'reviewed-plan', 'tenant-bench-0001.json')));
    assert.ok(existsSync(join(root, 'review', 'logs', 'network.log')));
  });

  it('rejects bad arguments with a usage error', () => {
    const bad = ciStacks(root, ['plan', '--stacks-file', 'stacks.txt', '--concurrency', '0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--concurrency: expected a whole number from 1 to 64, found "0"/);
    assert.equal(ciStacks(root, ['apply', '--stacks-file', 'stacks.txt']).status, 2);
  });
});

describe('ci-stacks deploy: applies the reviewed plan, stops a stack whose plan differs', () => {
  const bucket = (actions: string[], name = 'b') => ({ address: `aws_s3_bucket.${name}`, mode: 'managed', type: 'aws_s3_bucket', name, change: { actions, after: { bucket: name } } });
  const planJson = (...changes: unknown[]) => `${JSON.stringify({ format_version: '1.2', terraform_version: '1.11.4', resource_changes: changes })}\n`;
  const HEAD = 'b'.repeat(40);

  /** A root whose stacks are: network -> cluster -> capacity -> tenant-a, network -> tenancy, network -> tenant-b. */
  function deployRoot(reviewed: Record<string, string>, now: Record<string, string>, headSha = HEAD): string {
    const root = mkdtempSync(join(tmp, 'deploy-'));
    const deps: Record<string, string[]> = { network: [], cluster: ['network'], capacity: ['cluster'], 'tenant-a': ['capacity'], tenancy: ['network'], 'tenant-b': ['network'] };
    writeFileSync(
      join(root, 'graph.json'),
      JSON.stringify({
        graph: {
          nodes: Object.fromEntries(Object.keys(deps).map((n) => [n, { name: n, data: { targets: { synth: {} } } }])),
          dependencies: Object.fromEntries(Object.entries(deps).map(([n, ts]) => [n, ts.map((t) => ({ source: n, target: t }))])),
        },
      }),
    );
    writeFileSync(join(root, 'nx.json'), '{}\n');
    for (const stack of Object.keys(deps)) {
      mkdirSync(join(root, 'cdktf.out', 'stacks', stack), { recursive: true });
      writeFileSync(join(root, 'cdktf.out', 'stacks', stack, 'cdk.tf.json'), JSON.stringify({ terraform: { required_providers: {} } }));
    }
    writeFileSync(join(root, 'cdktf.out', 'platform.json'), JSON.stringify({ environment: 'dev', stacks: Object.keys(deps).map((name) => ({ name })) }));
    writeFileSync(join(root, 'stacks.txt'), Object.keys(deps).join('\n'));
    mkdirSync(join(root, 'reviewed'));
    mkdirSync(join(root, 'now'));
    for (const [stack, text] of Object.entries(reviewed)) writeFileSync(join(root, 'reviewed', `${stack}.json`), text);
    writeFileSync(join(root, 'reviewed', 'manifest.json'), JSON.stringify({ environment: 'dev', headSha, stacks: Object.keys(reviewed), failed: [] }));
    for (const [stack, text] of Object.entries(now)) writeFileSync(join(root, 'now', `${stack}.json`), text);
    return root;
  }

  const reviewed = { network: planJson(bucket(['create'])), cluster: planJson(bucket(['update'])), capacity: planJson(bucket(['create'])), 'tenant-a': planJson(bucket(['create'])), tenancy: planJson(bucket(['update'])) };
  const now = { ...reviewed, cluster: planJson(bucket(['delete', 'create'])) };
  const deploy = (root: string, extra: string[] = []) =>
    ciStacks(root, ['deploy', '--stacks-file', 'stacks.txt', '--reviewed', 'reviewed', '--expect-sha', HEAD, '--concurrency', '2', '--summary', 'summary.md', '--out', 'deploy', ...extra], {
      STANDIN_PLANS: join(root, 'now'),
      STANDIN_PLAN_SECONDS: '0',
    });
  const applied = (run: CiRun) => readStandInCalls(run.events).filter((c) => c.command === 'apply').map((c) => c.stack).sort();

  it('applies matching plans, stops the differing stack and skips what depends on it, with the difference in the summary', () => {
    const root = deployRoot(reviewed, now);
    const run = deploy(root);
    assert.equal(run.status, 1, run.stderr);
    assert.deepEqual(applied(run), ['network', 'tenancy'], 'tenant-b has nothing to apply; cluster differs; capacity and tenant-a are downstream of it');
    const summary = readFileSync(join(root, 'summary.md'), 'utf8');
    assert.match(summary, /Compared with the plans reviewed on the pull request \(head `bbbbbbbbbbbb`, 5 stack\(s\)\)/);
    assert.match(summary, /\| `network` \| applied \(the reviewed plan\) \| 1 \|/);
    assert.match(summary, /\| `cluster` \| \*\*stopped: the plan differs from the reviewed plan\*\* \| 1 \|/);
    assert.match(summary, /\| `capacity` \| skipped \(upstream cluster was not applied\) \|/);
    assert.match(summary, /\| `tenant-b` \| nothing to apply \| 0 \|/);
    assert.match(summary, /\| different actions \| `aws_s3_bucket\.b` \| update \| delete, create \|/);
    assert.match(run.stdout, /::error::cluster was not applied: its plan differs from the plan reviewed on the pull request/);
    assert.ok(readStandInCalls(run.events).some((c) => c.command === 'apply' && c.stack === 'network'));
  });

  it('applies the saved plan it compared (terraform apply plan.tfplan), never a new plan', () => {
    const root = deployRoot(reviewed, reviewed);
    const run = deploy(root);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(applied(run), ['capacity', 'cluster', 'network', 'tenancy', 'tenant-a']);
    const calls = readStandInCalls(run.events).filter((c) => c.stack === 'network').map((c) => c.command);
    assert.deepEqual(calls, ['init', 'plan', 'show', 'apply']);
    assert.match(readFileSync(join(root, 'deploy', 'logs', 'network.log'), 'utf8'), /applying the saved plan of network \(the reviewed plan\)\n\$ terraform apply -input=false -no-color -lock-timeout=5m plan\.tfplan\n/);
  });

  it('refuses plans reviewed for another commit, and --apply-differences applies anyway, saying so', () => {
    const stale = deployRoot(reviewed, reviewed, 'c'.repeat(40));
    const refused = deploy(stale);
    assert.equal(refused.status, 1);
    assert.deepEqual(applied(refused), []);
    assert.match(readFileSync(join(stale, 'summary.md'), 'utf8'), /\*\*No reviewed plans\*\*: the reviewed plans were made for commit c{40}, not the merged pull request head b{40}/);
    const root = deployRoot(reviewed, now);
    const forced = deploy(root, ['--apply-differences']);
    assert.equal(forced.status, 0);
    assert.deepEqual(applied(forced), ['capacity', 'cluster', 'network', 'tenancy', 'tenant-a']);
    assert.match(readFileSync(join(root, 'summary.md'), 'utf8'), /\| `cluster` \| \*\*applied although it differs from the reviewed plan\*\* \(--apply-differences\) \| 1 \|/);
  });
});

describe('reviewed-plan: finding the merged pull request\'s plans through the GitHub API', () => {
  const SHA = '1'.repeat(40);
  const HEAD = '2'.repeat(40);
  function fakeApi(routes: Record<string, unknown>, seen: string[] = []): Fetch {
    return async (url, init) => {
      seen.push(`${url} ${init.headers.Authorization}`);
      const path = url.replace('https://api.github.com/repos/acme/platform', '');
      const body = routes[path];
      return { ok: body !== undefined, status: body === undefined ? 404 : 200, json: async () => body, text: async () => 'Not Found' };
    };
  }
  const routes = {
    [`/commits/${SHA}/pulls`]: [{ number: 7, merged_at: null, merge_commit_sha: 'x', head: { sha: 'x' } }, { number: 42, merged_at: '2026-12-01T10:00:00Z', merge_commit_sha: SHA, head: { sha: HEAD } }],
    [`/actions/workflows/plan.yml/runs?head_sha=${HEAD}&event=pull_request&per_page=100`]: { workflow_runs: [{ id: 903 }, { id: 902 }, { id: 901 }] },
    '/actions/runs/903/artifacts?name=reviewed-plan-prod': { artifacts: [] },
    '/actions/runs/902/artifacts?name=reviewed-plan-prod': { artifacts: [{ name: 'reviewed-plan-prod', expired: false }] },
    '/actions/runs/901/artifacts?name=reviewed-plan-prod': { artifacts: [{ name: 'reviewed-plan-prod', expired: false }] },
  };

  it('takes the merged pull request of the commit and the newest plan run of its head that has the artifact', async () => {
    const seen: string[] = [];
    const found = await findReviewedPlan({ repository: 'acme/platform', sha: SHA, environment: 'prod', token: 't0k', fetch: fakeApi(routes, seen) });
    assert.deepEqual(found, { found: true, pullRequest: 42, headSha: HEAD, runId: 902, artifact: 'reviewed-plan-prod' });
    assert.equal(stepOutputs(found), `found=true\nartifact=reviewed-plan-prod\npull-request=42\nhead-sha=${HEAD}\nrun-id=902\n`);
    assert.ok(seen.every((s) => s.endsWith('Bearer t0k')));
    assert.equal(seen.length, 4, 'stops at the first run with the artifact');
  });

  it('finds nothing for a direct push or an expired artifact, and says why', async () => {
    const direct = await findReviewedPlan({ repository: 'acme/platform', sha: '3'.repeat(40), environment: 'prod', token: 't', fetch: fakeApi({ [`/commits/${'3'.repeat(40)}/pulls`]: [] }) });
    assert.equal(direct.found, false);
    assert.match(direct.reason!, /is not the merge of a pull request/);
    const expired = await findReviewedPlan({
      repository: 'acme/platform',
      sha: SHA,
      environment: 'prod',
      token: 't',
      fetch: fakeApi({ ...routes, '/actions/runs/902/artifacts?name=reviewed-plan-prod': { artifacts: [{ name: 'reviewed-plan-prod', expired: true }] }, '/actions/runs/901/artifacts?name=reviewed-plan-prod': { artifacts: [] } }),
    });
    assert.deepEqual([expired.found, expired.pullRequest], [false, 42]);
    assert.match(expired.reason!, /no plan\.yml run of pull request #42 .* has an unexpired reviewed-plan-prod artifact/);
  });

  it('CLI: outputs for the workflow, exit 1 when the API fails, 2 on bad arguments', async () => {
    const out = { stdout: '', stderr: '' };
    const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) };
    assert.equal(await reviewedPlanMain(['--repository', 'acme/platform', '--sha', SHA, '--environment', 'prod'], io, { GITHUB_TOKEN: 't' }, fakeApi(routes)), 0);
    assert.match(out.stdout, /^found=true\n/);
    assert.equal(await reviewedPlanMain(['--repository', 'acme/platform', '--sha', SHA, '--environment', 'dev'], io, { GITHUB_TOKEN: 't' }, fakeApi({})), 1);
    assert.match(out.stderr, /GET \/commits\/1{40}\/pulls answered 404/);
    assert.equal(await reviewedPlanMain(['--repository', 'acme/platform', '--sha', 'short', '--environment', 'dev'], io, {}, fakeApi(routes)), 2);
    assert.match(out.stderr, /missing or invalid --sha <40-hex commit>, GITHUB_TOKEN in the environment/);
  });
});
