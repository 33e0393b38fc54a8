/**
 * The environments and tenants that ship in the repository, whatever a platform team has put
 * there: every environment file validates, every tenant folder validates against it, and every
 * stack of every environment synthesizes. Written over the folders' content, so adding,
 * removing or replacing tenant folders (or environments) keeps these tests green when the files
 * are valid, and red when one is not. Every other test uses the fixtures in test/fixtures/repo.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from '@jest/globals';
import { parse } from 'yaml';
import { planRoleVariable } from '../scripts/ci-setup.js';
import { loadEnvironment } from '../stacks/lib/environment.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { loadTenants } from '../stacks/lib/tenant-config.js';
import { SOURCE_ROOT } from './support/synth.js';

const environments = readdirSync(join(SOURCE_ROOT, 'environments'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => basename(file, '.yaml'))
  .sort();
const tenantFiles = existsSync(join(SOURCE_ROOT, 'tenants'))
  ? readdirSync(join(SOURCE_ROOT, 'tenants'))
      .filter((folder) => existsSync(join(SOURCE_ROOT, 'tenants', folder, 'tenant.yaml')))
      .map((folder) => `tenants/${folder}/tenant.yaml`)
  : [];

describe('shipped environments and tenants', () => {
  it('include dev, the environment npm run synth selects by default', () => {
    assert.ok(environments.includes('dev'), `environments/: ${environments.join(', ')}`);
  });

  it.each(environments)('environments/%s.yaml validates and points editors at the JSON Schema', (name) => {
    const environment = loadEnvironment(SOURCE_ROOT, name);
    assert.equal(environment.name, name);
    assert.match(readFileSync(join(SOURCE_ROOT, 'environments', `${name}.yaml`), 'utf8'), /^# yaml-language-server: \$schema=\.\/environment\.schema\.json$/m);
  });

  it.each(environments)('%s: every tenant folder validates and every stack synthesizes', (name) => {
    const environment = loadEnvironment(SOURCE_ROOT, name);
    const tenants = loadTenants(SOURCE_ROOT, environment);
    const outdir = mkdtempSync(join(tmpdir(), `shipped-${name}-`));
    try {
      const result = synthesize({ root: SOURCE_ROOT, environmentName: name, outdir });
      const built = result.synthesized.map((s) => s.name);
      for (const tenant of tenants) assert.ok(built.includes(`tenant-${tenant.name}`), `tenant-${tenant.name} synthesized`);
      for (const stack of built) assert.ok(existsSync(join(outdir, 'stacks', stack, 'cdk.tf.json')), stack);
      assert.equal(built.filter((s) => s.startsWith('tenant-')).length, tenants.length);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it.each(environments)('%s: a ci section names a deploy branch the deploy workflow runs on, and the workflows list the environment', (name) => {
    const environment = loadEnvironment(SOURCE_ROOT, name);
    if (!environment.ci) return;
    const workflows = join(SOURCE_ROOT, '.github', 'workflows');
    const deploy = parse(readFileSync(join(workflows, 'deploy.yml'), 'utf8')) as { on: { push: { branches: string[] }; workflow_dispatch: { inputs: { environment: { options: string[] } } } } };
    assert.ok(deploy.on.push.branches.includes(environment.ci.deployBranch), `deploy.yml runs on ${deploy.on.push.branches.join(', ')}, not ${environment.ci.deployBranch}`);
    assert.ok(deploy.on.workflow_dispatch.inputs.environment.options.includes(name), `deploy.yml cannot deploy ${name}`);
    const plan = parse(readFileSync(join(workflows, 'plan.yml'), 'utf8')) as { jobs: { plan: { strategy: { matrix: { include: { environment: string; 'role-variable': string }[] } } } } };
    const entry = plan.jobs.plan.strategy.matrix.include.find((e) => e.environment === name);
    assert.equal(entry?.['role-variable'], planRoleVariable(name), `plan.yml plans ${name} with the variable ci-setup sets`);
  });

  it('every tenant file that names a JSON Schema names tenants/tenant.schema.json', () => {
    for (const file of tenantFiles) {
      const line = /^# yaml-language-server: \$schema=(.*)$/m.exec(readFileSync(join(SOURCE_ROOT, file), 'utf8'));
      if (line) assert.equal(line[1], '../tenant.schema.json', file);
    }
  });
});
