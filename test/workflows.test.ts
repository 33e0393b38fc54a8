import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { APPROVAL_LABEL } from '../scripts/plan-comment.js';
import { SOURCE_ROOT } from './support/synth.js';


type Step = { uses?: string; run?: string; with?: Record<string, unknown>; if?: string };
type Job = {
  'runs-on'?: string;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean | string };
  strategy?: { 'max-parallel'?: number; matrix?: unknown };
  needs?: string | string[];
  if?: string;
  steps?: Step[];
};
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string> | string; concurrency?: { group: string; 'cancel-in-progress'?: boolean }; jobs: Record<string, Job> };

const WORKFLOWS = join(SOURCE_ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const load = (file: string) => parse(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow;
const validator = join(SOURCE_ROOT, 'node_modules', '.bin', 'action-validator');
const uses = (job: Job) => (job.steps ?? []).map((s) => s.uses).filter((u): u is string => typeof u === 'string');
const usesAction = (job: Job, action: string) => uses(job).some((u) => u.startsWith(`${action}@`));
const scripts = (job: Job) => (job.steps ?? []).map((s) => s.run ?? '').join('\n');

describe('GitHub Actions workflows', () => {
  it('has the plan and deploy workflows', () => {
    expect(files).toEqual(['deploy.yml', 'plan.yml']);
  });

  it('passes action-validator (workflow schema lint)', () => {
    for (const file of files) {
      const result = spawnSync(validator, [join(WORKFLOWS, file)], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${file}:\n${result.stdout}${result.stderr}`);
    }
  });

  it('action-validator rejects a malformed workflow (the lint really runs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflow-lint-'));
    try {
      writeFileSync(join(dir, 'bad.yml'), 'name: bad\non: [push]\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n');
      const result = spawnSync(validator, [join(dir, 'bad.yml')], { encoding: 'utf8' });
      assert.notEqual(result.status, 0);
      assert.match(result.stdout + result.stderr, /stepz/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins every action to a full commit SHA with a "# vX.Y.Z" comment, the same pin everywhere', () => {
    const pins = new Map<string, string>();
    for (const file of files) {
      const lines = readFileSync(join(WORKFLOWS, file), 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!match) continue;
        const [, ref, rest] = match as unknown as [string, string, string];
        assert.match(ref, /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}$/, `${file}:${i + 1}: ${ref} is not pinned to a commit SHA`);
        assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${file}:${i + 1}: ${ref} needs a "# vX.Y.Z" comment`);
        const [action, sha] = ref.split('@') as [string, string];
        assert.equal(pins.get(action) ?? sha, sha, `${action} is pinned to two different commits`);
        pins.set(action, `${sha}`);
      }
    }
    assert.ok(pins.has('aws-actions/configure-aws-credentials') && pins.has('actions/checkout'));
  });

  it('grants least privilege: contents read at the top, id-token only where AWS roles are assumed, pull-requests write only for the comment', () => {
    for (const file of files) {
      const workflow = load(file);
      assert.deepEqual(workflow.permissions, { contents: 'read' }, `${file}: top-level permissions`);
      assert.ok(!('pull_request_target' in workflow.on), `${file}: pull_request_target runs untrusted code with secrets`);
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const permissions = job.permissions ?? {};
        assert.notEqual(typeof permissions, 'string', `${file}/${name}: no read-all/write-all shorthands`);
        const granted = permissions as Record<string, string>;
        const assumesRole = usesAction(job, 'aws-actions/configure-aws-credentials');
        assert.equal(granted['id-token'] === 'write', assumesRole, `${file}/${name}: id-token: write exactly when the job assumes an AWS role`);
        const comments = usesAction(job, 'actions/github-script') && JSON.stringify(job.steps).includes('createComment');
        assert.equal(granted['pull-requests'] === 'write', comments, `${file}/${name}: pull-requests: write exactly when the job writes the comment`);
        for (const [scope, level] of Object.entries(granted)) {
          if (level === 'write') assert.ok(['id-token', 'pull-requests'].includes(scope), `${file}/${name}: unexpected ${scope}: write`);
        }
      }
    }
  });

  it('plan: per pull request concurrency, affected stacks in deploy order, OIDC plans per environment, artifacts, sticky comment and label gate', () => {
    const plan = load('plan.yml');
    assert.ok('pull_request' in plan.on);
    assert.match(plan.concurrency!.group, /github\.event\.pull_request\.number/);
    assert.equal(plan.concurrency!['cancel-in-progress'], true);
    const { affected, plan: planJob, review } = plan.jobs as Record<string, Job>;
    assert.equal(affected!.steps!.find((s) => s.uses?.startsWith('actions/checkout@'))!.with!['fetch-depth'], 0, 'nx affected needs the base branch history');
    assert.match(scripts(affected!), /node dist\/scripts\/affected-stacks\.js --base "origin\/\$\{GITHUB_BASE_REF\}" --head HEAD --json/);
    const setupNode = planJob!.steps!.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
    assert.equal(setupNode.with!['node-version-file'], '.nvmrc');
    assert.equal(readFileSync(join(SOURCE_ROOT, '.nvmrc'), 'utf8').trim(), '20');
    const environments = ((planJob!.strategy!.matrix as { include: { environment: string }[] }).include ?? []).map((e) => e.environment);
    assert.deepEqual(environments, ['dev', 'prod']);
    const planScript = scripts(planJob!);
    assert.match(planScript, /affected-stacks\.js .*--platform cdktf\.out\/platform\.json --remote-state-only > review\/stacks\.txt/);
    // Parallel plans with bounded concurrency (default 4), one shared plugin cache, the reviewed-plan bundle.
    assert.match(planScript, /node dist\/scripts\/ci-stacks\.js plan --stacks-file review\/stacks\.txt --concurrency "\$PLAN_CONCURRENCY" --out review --bundle reviewed-plan --head-sha "\$HEAD_SHA"/);
    assert.match(planScript, /export TF_PLUGIN_CACHE_DIR=/);
    assert.equal((plan as unknown as { env: Record<string, string> }).env.PLAN_CONCURRENCY, '${{ inputs.plan-concurrency || vars.PLAN_CONCURRENCY || 4 }}');
    assert.equal((plan.on.workflow_call as { inputs: Record<string, { default: number }> }).inputs['plan-concurrency']!.default, 4);
    assert.match(planScript, /npm run --silent plan-review -- --out review\/review\.md/);
    const uploads = planJob!.steps!.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).map((s) => s.with!);
    assert.ok(uploads.some((u) => u.name === 'reviewed-plan-${{ matrix.environment }}' && u.path === 'reviewed-plan/' && Number(u['retention-days']) >= 14));
    const credentials = planJob!.steps!.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
    assert.match(String(credentials.with!['role-to-assume']), /^\$\{\{ vars\[/);
    assert.equal(review!.if, '${{ !cancelled() }}', 'the gate runs after failed plans too');
    const reviewScript = scripts(review!);
    assert.match(reviewScript, /plan-comment\.js build/);
    assert.match(reviewScript, /plan-comment\.js gate/);
    assert.match(JSON.stringify(review!.steps), /spark-platform:plan-review/);
    assert.equal(APPROVAL_LABEL, 'approved-high-risk');
    assert.deepEqual((plan.on.pull_request as { types: string[] }).types, ['opened', 'synchronize', 'reopened', 'labeled', 'unlabeled']);
  });

  it('deploy: push to main and dispatch, environment protection per environment, one apply per state at a time, dependency order', () => {
    const deploy = load('deploy.yml');
    assert.deepEqual((deploy.on.push as { branches: string[] }).branches, ['main']);
    assert.deepEqual(((deploy.on.workflow_dispatch as { inputs: { environment: { options: string[] } } }).inputs.environment.options), ['dev', 'prod']);
    const job = deploy.jobs.deploy!;
    assert.equal(job.environment, '${{ matrix.environment }}', 'GitHub environment protection (prod approval) applies');
    assert.match(String(job.strategy!.matrix && (job.strategy!.matrix as { environment: string }).environment), /"dev","prod"/);
    assert.equal(job.strategy!['max-parallel'], 1);
    assert.deepEqual(job.concurrency, { group: 'deploy-${{ matrix.environment }}', 'cancel-in-progress': false });
    const script = scripts(job);
    assert.match(script, /affected-stacks\.js --all --platform cdktf\.out\/platform\.json --remote-state-only > stacks\.txt/);
    assert.equal(job.steps!.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!.with!['role-to-assume'], '${{ vars.AWS_DEPLOY_ROLE_ARN }}');
  });

  it('take the CI roles from the variables ci-setup sets, fail clearly without them, and keep credentials for the whole job', () => {
    const plan = load('plan.yml').jobs.plan!;
    const deploy = load('deploy.yml').jobs.deploy!;
    for (const [job, variable, roleSeconds] of [
      [plan, 'vars[matrix.role-variable]', 7200],
      [deploy, 'vars.AWS_DEPLOY_ROLE_ARN', 10800],
    ] as const) {
      const steps = job.steps!;
      const credentials = steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      const check = steps.findIndex((s) => (s.run ?? '').includes('ci-setup'));
      assert.ok(check >= 0 && check < credentials, 'the variable is checked before the role is assumed');
      assert.match(scripts(job), /if \[ -z "\$ROLE_ARN" \]; then[\s\S]*npm run ci-setup -- \$\{PLATFORM_ENV\}[\s\S]*exit 1/);
      assert.equal((steps[check] as Step & { env: Record<string, string> }).env.ROLE_ARN, `\${{ ${variable} }}`);
      const duration = Number(steps[credentials]!.with!['role-duration-seconds']);
      const timeout = (job as Job & { 'timeout-minutes': number })['timeout-minutes'] * 60;
      assert.ok(duration >= timeout && duration <= roleSeconds, `session ${duration}s covers the ${timeout}s job and fits the role's ${roleSeconds}s maximum`);
    }
  });

  it('deploy applies only the reviewed plan: finds the merged pull request\'s plans with read-only GitHub access, compares, stops on a difference', () => {
    const deploy = load('deploy.yml');
    const job = deploy.jobs.deploy!;
    assert.deepEqual(job.permissions, { contents: 'read', 'id-token': 'write', 'pull-requests': 'read', actions: 'read' });
    const steps = job.steps!;
    const find = steps.findIndex((s) => /node dist\/scripts\/reviewed-plan\.js --repository "\$GITHUB_REPOSITORY" --sha "\$GITHUB_SHA" --environment "\$PLATFORM_ENV"/.test(s.run ?? ''));
    const download = steps.findIndex((s) => s.uses?.startsWith('actions/download-artifact@'));
    const apply = steps.findIndex((s) => /ci-stacks\.js deploy/.test(s.run ?? ''));
    assert.ok(find >= 0 && find < download && download < apply, 'find, then download, then plan + compare + apply');
    assert.deepEqual(steps[download]!.with, {
      name: '${{ steps.reviewed.outputs.artifact }}',
      'run-id': '${{ steps.reviewed.outputs.run-id }}',
      'github-token': '${{ github.token }}',
      path: 'reviewed-plan',
    });
    assert.equal(steps[download]!.if, "steps.reviewed.outputs.found == 'true'");
    const script = steps[apply]!.run!;
    assert.match(script, /ci-stacks\.js deploy --stacks-file stacks\.txt --reviewed reviewed-plan --concurrency "\$DEPLOY_CONCURRENCY" --summary "\$GITHUB_STEP_SUMMARY"/);
    assert.match(script, /--expect-sha "\$HEAD_SHA"/);
    assert.doesNotMatch(scripts(job), /tf\.js apply/, 'no apply outside the comparison');
    const dispatch = (deploy.on.workflow_dispatch as { inputs: Record<string, { type: string; default?: unknown }> }).inputs;
    assert.deepEqual(dispatch['apply-differences'], { ...dispatch['apply-differences'], type: 'boolean', default: false });
    assert.match(String((steps[apply] as { env?: Record<string, string> }).env?.APPLY_DIFFERENCES), /github\.event_name == 'workflow_dispatch' && inputs\.apply-differences == true/);
  });

  it('only calls scripts that exist', () => {
    for (const file of files) {
      const text = readFileSync(join(WORKFLOWS, file), 'utf8');
      for (const [, script] of text.matchAll(/node dist\/(scripts\/[\w/-]+)\.js/g)) assert.ok(existsSync(join(SOURCE_ROOT, `${script}.ts`)), `${file}: ${script}.ts`);
      for (const [, name] of text.matchAll(/npm run (?:--silent )?([\w-]+)/g)) {
        const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
        assert.ok(pkg.scripts[name!], `${file}: npm run ${name}`);
      }
    }
  });
});
