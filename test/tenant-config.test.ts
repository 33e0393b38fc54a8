/**
 * Tenant files: validation against the schema, the environment and the other tenants, through the
 * real synth driver on temporary repository roots (a bad tenant must leave the output untouched),
 * plus adding/removing tenant folders, the generated JSON Schema and `new-tenant`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { createTenant, nextSteps, ownersByEnvironment, tenantFileText } from '../scripts/new-tenant.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { CONFIG_SCHEMAS, jsonSchemaText } from '../stacks/lib/schemas.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { loadTenants, loadTenantSet, releaseAtLeast, tenantDefaults } from '../stacks/lib/tenant-config.js';
import { compiledScript, FIXTURE_REPO, SOURCE_ROOT, synthStack, testEnvironment } from './support/synth.js';
import { synthCli } from './support/synth-cli.js';

const environment = testEnvironment();
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Tenant folder content: the text of its tenant.yaml, or other files by name. */
type Folder = string | Record<string, string>;

/** A repository root with the shipped environments and the given tenant folders. */
function tempRoot(tenants: Record<string, Folder>): string {
  const root = mkdtempSync(join(tmpdir(), 'tenant-test-'));
  roots.push(root);
  cpSync(join(FIXTURE_REPO, 'environments'), join(root, 'environments'), { recursive: true });
  mkdirSync(join(root, 'tenants'));
  for (const [folder, text] of Object.entries(tenants)) {
    mkdirSync(join(root, 'tenants', folder), { recursive: true });
    const files = typeof text === 'string' ? { 'tenant.yaml': text } : text;
    for (const [file, content] of Object.entries(files)) writeFileSync(join(root, 'tenants', folder, file), content);
  }
  return root;
}

function tenantYaml(name: string, overrides: Record<string, unknown> = {}): string {
  return stringify({
    name,
    owners: [`arn:aws:iam::111122223333:role/${name}-team`],
    quota: { cpu: '100', memory: '400Gi' },
    ...overrides,
  });
}

/** Every file under `dir` with a hash of its content (to prove nothing changed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function synthError(root: string): { error: ConfigError; outdir: string } {
  const outdir = join(root, 'cdktf.out');
  try {
    synthesize({ root, environmentName: 'dev', outdir });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return { error, outdir };
  }
  assert.fail('expected synth to reject the tenants');
}

const OK = tenantYaml;

type Case = [title: string, tenants: Record<string, Folder>, expected: [file: string, field: string, fragment: RegExp][]];

const BAD_INPUTS: Case[] = [
  ['malformed YAML', { alpha: 'name: alpha\nowners: [unclosed\n' }, [['tenants/alpha/tenant.yaml', 'line 3, column 1', /expected valid YAML, found Flow sequence in block collection must be sufficiently indented and end with a \]$/]]],
  ['duplicate key', { alpha: `${OK('alpha')}name: alpha\n` }, [['tenants/alpha/tenant.yaml', 'line 7, column 1', /expected valid YAML, found Map keys must be unique$/]]],
  ['empty file', { alpha: '' }, [['tenants/alpha/tenant.yaml', '(file)', /expected a YAML mapping of fields, found an empty file/]]],
  ['a list instead of a mapping', { alpha: '- name: alpha\n' }, [['tenants/alpha/tenant.yaml', '(file)', /expected a YAML mapping of fields, found a list/]]],
  ['name of the wrong type', { alpha: OK('alpha', { name: 42 }) }, [['tenants/alpha/tenant.yaml', 'name', /expected a string, found number 42/]]],
  ['owners not a list', { alpha: OK('alpha', { owners: 'arn:aws:iam::111122223333:role/x' }) }, [['tenants/alpha/tenant.yaml', 'owners', /expected a list, found "arn:aws:iam::111122223333:role\/x"/]]],
  ['no owners', { alpha: OK('alpha', { owners: [] }) }, [['tenants/alpha/tenant.yaml', 'owners', /expected at least 1 item, found an empty list/]]],
  ['missing quota', { alpha: stringify({ name: 'alpha', owners: ['arn:aws:iam::111122223333:role/a'] }) }, [['tenants/alpha/tenant.yaml', 'quota', /expected a mapping, found nothing \(the field is missing\)/]]],
  ['unknown top-level key (typo)', { alpha: OK('alpha', { owner: 'x' }) }, [['tenants/alpha/tenant.yaml', 'owner', /expected no field named "owner"/]]],
  ['unknown nested key', { alpha: OK('alpha', { spark: { zones: ['us-west-2a'] } }) }, [['tenants/alpha/tenant.yaml', 'spark.zones', /expected no field named "zones"/]]],
  ['uppercase name', { Alpha: OK('Alpha') }, [['tenants/Alpha/tenant.yaml', 'name', /expected a DNS-1123 label.*found "Alpha"/]]],
  ['name with an underscore', { al_pha: OK('al_pha') }, [['tenants/al_pha/tenant.yaml', 'name', /expected a DNS-1123 label/]]],
  ['name too short', { ab: OK('ab') }, [['tenants/ab/tenant.yaml', 'name', /expected at least 3 characters, found "ab"/]]],
  ['name too long', { [`t${'x'.repeat(40)}`]: OK(`t${'x'.repeat(40)}`) }, [[`tenants/t${'x'.repeat(40)}/tenant.yaml`, 'name', /expected at most 40 characters/]]],
  ['reserved name kube-*', { 'kube-tenant': OK('kube-tenant') }, [['tenants/kube-tenant/tenant.yaml', 'name', /expected a name that is not a reserved or platform namespace.*found "kube-tenant"/]]],
  ['platform namespace name', { karpenter: OK('karpenter') }, [['tenants/karpenter/tenant.yaml', 'name', /not a reserved or platform namespace/]]],
  ['monitoring namespace name', { monitoring: OK('monitoring') }, [['tenants/monitoring/tenant.yaml', 'name', /not a reserved or platform namespace/]]],
  ['default namespace name', { default: OK('default') }, [['tenants/default/tenant.yaml', 'name', /not a reserved or platform namespace/]]],
  ['name differs from its folder', { alpha: OK('beta') }, [['tenants/alpha/tenant.yaml', 'name', /expected "alpha" \(the folder name.*found "beta"/]]],
  ['owner is an IAM user', { alpha: OK('alpha', { owners: ['arn:aws:iam::111122223333:user/alice'] }) }, [['tenants/alpha/tenant.yaml', 'owners[0]', /expected an IAM role ARN.*found "arn:aws:iam::111122223333:user\/alice"/]]],
  ['owner listed twice', { alpha: OK('alpha', { owners: ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/a'] }) }, [['tenants/alpha/tenant.yaml', 'owners[1]', /expected each owner listed once/]]],
  ['owner is a platform admin', { alpha: OK('alpha', { owners: ['arn:aws:iam::111122223333:role/platform-admins'] }) }, [['tenants/alpha/tenant.yaml', 'owners[0]', /expected a role that is not a platform admin.*environments\/dev\.yaml/]]],
  ['read bucket given as a prefix ARN', { alpha: OK('alpha', { data: { readBuckets: ['arn:aws:s3:::shared/prefix'] } }) }, [['tenants/alpha/tenant.yaml', 'data.readBuckets[0]', /expected an S3 bucket ARN.*found "arn:aws:s3:::shared\/prefix"/]]],
  ['read bucket given as a name', { alpha: OK('alpha', { data: { readBuckets: ['shared-data'] } }) }, [['tenants/alpha/tenant.yaml', 'data.readBuckets[0]', /expected an S3 bucket ARN/]]],
  ['Glue database wildcard', { alpha: OK('alpha', { data: { glueDatabases: ['*'] } }) }, [['tenants/alpha/tenant.yaml', 'data.glueDatabases[0]', /expected a Glue database name/]]],
  ['cpu not a quantity', { alpha: OK('alpha', { quota: { cpu: 'lots', memory: '1Gi' } }) }, [['tenants/alpha/tenant.yaml', 'quota.cpu', /expected a Kubernetes CPU quantity > 0.*found "lots"/]]],
  ['cpu of zero', { alpha: OK('alpha', { quota: { cpu: '0m', memory: '1Gi' } }) }, [['tenants/alpha/tenant.yaml', 'quota.cpu', /expected a Kubernetes CPU quantity > 0/]]],
  ['cpu as a list', { alpha: OK('alpha', { quota: { cpu: [4], memory: '1Gi' } }) }, [['tenants/alpha/tenant.yaml', 'quota.cpu', /expected a Kubernetes CPU quantity > 0.*found a list \[4\]/]]],
  ['memory without a unit', { alpha: OK('alpha', { quota: { cpu: '4', memory: '1600' } }) }, [['tenants/alpha/tenant.yaml', 'quota.memory', /expected a Kubernetes memory quantity > 0 with a unit.*found "1600"/]]],
  ['memory as a number', { alpha: OK('alpha', { quota: { cpu: '4', memory: 1600 } }) }, [['tenants/alpha/tenant.yaml', 'quota.memory', /expected a string, found number 1600/]]],
  ['memory in millibytes', { alpha: OK('alpha', { quota: { cpu: '4', memory: '1600m' } }) }, [['tenants/alpha/tenant.yaml', 'quota.memory', /expected a Kubernetes memory quantity/]]],
  ['zero pods', { alpha: OK('alpha', { quota: { cpu: '4', memory: '1Gi', pods: 0 } }) }, [['tenants/alpha/tenant.yaml', 'quota.pods', /expected a number > 0, found number 0/]]],
  ['fractional pods', { alpha: OK('alpha', { quota: { cpu: '4', memory: '1Gi', pods: 1.5 } }) }, [['tenants/alpha/tenant.yaml', 'quota.pods', /expected a int, found number 1.5/]]],
  ['zone not in the environment', { alpha: OK('alpha', { spark: { zone: 'us-west-2d' } }) }, [['tenants/alpha/tenant.yaml', 'spark.zone', /expected one of the availability zones of environment dev \(us-west-2a, us-west-2b, us-west-2c\), found "us-west-2d"/]]],
  ['zone that is not a zone', { alpha: OK('alpha', { spark: { zone: 'b' } }) }, [['tenants/alpha/tenant.yaml', 'spark.zone', /expected an availability zone such as us-west-2b, found "b"/]]],
  ['invalid architecture', { alpha: OK('alpha', { spark: { architecture: 'x86' } }) }, [['tenants/alpha/tenant.yaml', 'spark.architecture', /expected one of "arm64" \| "amd64" \| "any", found "x86"/]]],
  ['invalid executor capacity', { alpha: OK('alpha', { spark: { executorCapacity: 'preemptible' } }) }, [['tenants/alpha/tenant.yaml', 'spark.executorCapacity', /expected one of "spot" \| "on-demand" \| "any", found "preemptible"/]]],
  ['invalid local storage', { alpha: OK('alpha', { spark: { localStorage: 'hostpath' } }) }, [['tenants/alpha/tenant.yaml', 'spark.localStorage', /expected one of "nvme" \| "ebs"/]]],
  ['dedicatedNodes as a string', { alpha: OK('alpha', { spark: { dedicatedNodes: 'yes' } }) }, [['tenants/alpha/tenant.yaml', 'spark.dedicatedNodes', /expected a boolean, found "yes"/]]],
  ['release label too old', { alpha: OK('alpha', { emr: { releaseLabel: 'emr-6.6.0-latest' } }) }, [['tenants/alpha/tenant.yaml', 'emr.releaseLabel', /expected an EMR on EKS release label of at least emr-6\.7\.0, found "emr-6\.6\.0-latest"/]]],
  ['malformed release label', { alpha: OK('alpha', { emr: { releaseLabel: 'emr-7.1-latest' } }) }, [['tenants/alpha/tenant.yaml', 'emr.releaseLabel', /expected an EMR release label emr-X\.Y\.Z-latest or emr-X\.Y\.Z-YYYYMMDD.*found "emr-7\.1-latest"/]]],
  ['invalid identity', { alpha: OK('alpha', { emr: { identity: 'irsa-v2' } }) }, [['tenants/alpha/tenant.yaml', 'emr.identity', /expected one of "irsa" \| "pod-identity"/]]],
  ['pod-identity with a release before 7.3.0', { alpha: OK('alpha', { emr: { releaseLabel: 'emr-7.2.0-latest', identity: 'pod-identity' } }) }, [['tenants/alpha/tenant.yaml', 'emr.identity', /expected irsa with releaseLabel emr-7\.2\.0-latest \(EKS Pod Identity needs emr-7\.3\.0 or later\), found "pod-identity"/]]],
  ['vertical autoscaling with a release before 6.10.0', { alpha: OK('alpha', { emr: { releaseLabel: 'emr-6.9.0-20230624', verticalAutoscaling: true } }) }, [['tenants/alpha/tenant.yaml', 'emr.verticalAutoscaling', /needs emr-6\.10\.0 or later/]]],
  ['retainOnDelete as a string', { alpha: OK('alpha', { data: { retainOnDelete: 'yes' } }) }, [['tenants/alpha/tenant.yaml', 'data.retainOnDelete', /expected a boolean, found "yes"/]]],
  ['zero concurrent jobs', { alpha: OK('alpha', { quota: { cpu: '4', memory: '1Gi', maxConcurrentJobs: 0 } }) }, [['tenants/alpha/tenant.yaml', 'quota.maxConcurrentJobs', /expected a number >= 1, found number 0/]]],
  ['egress CIDR with host bits', { alpha: OK('alpha', { network: { egress: [{ cidr: '10.20.0.1/16', ports: [5432] }] } }) }, [['tenants/alpha/tenant.yaml', 'network.egress[0].cidr', /expected an IPv4 CIDR block with no host bits set.*found "10\.20\.0\.1\/16"/]]],
  ['egress to IMDS', { alpha: OK('alpha', { network: { egress: [{ cidr: '169.254.169.254/32', ports: [80] }] } }) }, [['tenants/alpha/tenant.yaml', 'network.egress[0].cidr', /expected a CIDR outside 169\.254\.0\.0\/16 \(link-local: IMDS stays closed\)/]]],
  ['egress rule with both a CIDR and a namespace', { alpha: OK('alpha', { network: { egress: [{ cidr: '10.0.0.0/8', namespace: 'db', ports: [5432] }] } }) }, [['tenants/alpha/tenant.yaml', 'network.egress[0]', /expected exactly one of cidr and namespace \(found both\)/]]],
  ['ingress rule without ports', { alpha: OK('alpha', { network: { ingress: [{ namespace: 'airflow' }] } }) }, [['tenants/alpha/tenant.yaml', 'network.ingress[0].ports', /expected a list, found nothing/]]],
  ['ingress from the own namespace', { alpha: OK('alpha', { network: { ingress: [{ namespace: 'alpha', ports: [4040] }] } }) }, [['tenants/alpha/tenant.yaml', 'network.ingress[0].namespace', /expected a namespace other than the tenant's own/]]],
  ['port out of range', { alpha: OK('alpha', { network: { egress: [{ cidr: '10.0.0.0/8', ports: [70000] }] } }) }, [['tenants/alpha/tenant.yaml', 'network.egress[0].ports[0]', /expected a number <= 65535, found number 70000/]]],
  ['unknown service type', { alpha: OK('alpha', { network: { serviceTypes: ['Ingress'] } }) }, [['tenants/alpha/tenant.yaml', 'network.serviceTypes[0]', /expected one of "NodePort" \| "LoadBalancer", found "Ingress"/]]],
  [
    'an owner shared by two tenants',
    { alpha: OK('alpha', { owners: ['arn:aws:iam::111122223333:role/shared'] }), beta: OK('beta', { owners: ['arn:aws:iam::111122223333:role/b', 'arn:aws:iam::111122223333:role/shared'] }) },
    [['tenants/beta/tenant.yaml', 'owners[1]', /expected a role that owns no other tenant in environment dev \(it is already owners\[0\] of tenants\/alpha\/tenant\.yaml.*found "arn:aws:iam::111122223333:role\/shared"/]],
  ],
  [
    'two tenants claiming the same name',
    { alpha: OK('alpha'), 'alpha-copy': OK('alpha', { owners: ['arn:aws:iam::111122223333:role/other'] }) },
    [
      ['tenants/alpha-copy/tenant.yaml', 'name', /expected "alpha-copy" \(the folder name/],
      ['tenants/alpha-copy/tenant.yaml', 'name', /expected a name no other tenant uses \(tenants\/alpha\/tenant\.yaml is already tenant "alpha"\)/],
    ],
  ],
  ['a folder without tenant.yaml', { alpha: OK('alpha'), gamma: { 'tenant.yml': OK('gamma') } }, [['tenants/gamma', '(folder)', /expected a tenant\.yaml file.*found only tenant\.yml/]]],
  [
    'problems in several files, all reported at once',
    { alpha: OK('alpha', { quota: { cpu: 'x', memory: '1Gi' } }), beta: OK('beta', { spark: { architecture: 'sparc' } }), gamma: OK('gamma') },
    [
      ['tenants/alpha/tenant.yaml', 'quota.cpu', /expected a Kubernetes CPU quantity/],
      ['tenants/beta/tenant.yaml', 'spark.architecture', /found "sparc"/],
    ],
  ],
];

describe('tenant files: bad input is rejected with the file and the field, and nothing is written', () => {
  assert.ok(BAD_INPUTS.length >= 25);
  for (const [title, tenants, expected] of BAD_INPUTS) {
    it(title, () => {
      const root = tempRoot(tenants);
      const { error, outdir } = synthError(root);
      for (const [file, field, fragment] of expected) {
        const line = error.message.split('\n').find((l) => l.startsWith(`${file}: ${field}`) && fragment.test(l));
        assert.ok(line, `expected a line "${file}: ${field}..." matching ${fragment}, got:\n${error.message}`);
      }
      assert.equal(existsSync(outdir), false, 'the output directory must not be created');
    });
  }

  it('leaves an existing output untouched when a tenant breaks', () => {
    const root = tempRoot({ alpha: OK('alpha'), beta: OK('beta') });
    const outdir = join(root, 'cdktf.out');
    synthesize({ root, environmentName: 'dev', outdir });
    const before = snapshot(outdir);
    assert.ok(before['stacks/tenant-alpha/cdk.tf.json'] && before['stacks/tenant-beta/cdk.tf.json']);
    writeFileSync(join(root, 'tenants', 'beta', 'tenant.yaml'), OK('beta', { quota: { cpu: '4', memory: 'lots' } }));
    writeFileSync(join(root, 'tenants', 'alpha', 'tenant.yaml'), OK('alpha', { description: 'changed' }));
    const { error } = synthError(root);
    assert.match(error.message, /^tenants\/beta\/tenant\.yaml: quota\.memory: /m);
    assert.deepEqual(snapshot(outdir), before, 'no stack (not even the valid, changed tenant-alpha) may be rewritten');
  });
});

describe('tenant folders are stacks', () => {
  it('loads the fixture tenants with defaults applied', () => {
    const tenants = loadTenants(FIXTURE_REPO, environment);
    assert.deepEqual(
      tenants.map((t) => t.name),
      ['analytics', 'risk-models'],
    );
    const analytics = tenants[0]!;
    assert.equal(analytics.file, 'tenants/analytics/tenant.yaml');
    assert.deepEqual(analytics.spark, tenantDefaults().spark);
    assert.deepEqual(analytics.emr, { releaseLabel: 'emr-7.12.0-latest', identity: 'irsa', verticalAutoscaling: false });
    assert.deepEqual(analytics.data, { retainOnDelete: true, readBuckets: [], glueDatabases: [] });
    assert.deepEqual(analytics.quota, { cpu: '400', memory: '1600Gi', pods: 2000, maxConcurrentJobs: 20 });
    assert.deepEqual(analytics.network, { egress: [], ingress: [], serviceTypes: [] });
    assert.deepEqual(tenants[1]!.network, {
      egress: [{ cidr: '10.30.0.0/16', ports: [5432], protocol: 'TCP' }],
      ingress: [{ namespace: 'airflow', ports: [4040], protocol: 'TCP' }],
      serviceTypes: ['LoadBalancer'],
    });
  });

  it('accepts a CPU quota written as a YAML number and keeps it a Kubernetes quantity string', () => {
    const root = tempRoot({ alpha: OK('alpha', { quota: { cpu: 64, memory: '256Gi' } }) });
    assert.equal(loadTenants(root, environment)[0]!.quota.cpu, '64');
  });

  it('compares release labels by version', () => {
    assert.equal(releaseAtLeast('emr-6.7.0-latest', '6.7.0'), true);
    assert.equal(releaseAtLeast('emr-6.10.0-20230421', '6.7.0'), true);
    assert.equal(releaseAtLeast('emr-6.6.9-latest', '6.7.0'), false);
    assert.equal(releaseAtLeast('emr-7.3.0-latest', '7.3.0'), true);
    assert.equal(releaseAtLeast('emr-7.2.99-latest', '7.3.0'), false);
    assert.equal(releaseAtLeast('emr-10.0.0-latest', '7.3.0'), true);
    assert.equal(releaseAtLeast('nonsense', '6.7.0'), false);
  });

  it('adds a stack for a new folder with no other edit, and removing a folder removes only that stack', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    const outdir = join(root, 'cdktf.out');
    const first = synthesize({ root, environmentName: 'dev', outdir });
    const stacks = () => [...readdirSync(join(outdir, 'stacks'))].sort();
    const platform = first.all.filter((s) => !s.name.startsWith('tenant-')).map((s) => s.name);
    assert.deepEqual(stacks(), [...platform, 'tenant-alpha'].sort());

    mkdirSync(join(root, 'tenants', 'beta'));
    writeFileSync(join(root, 'tenants', 'beta', 'tenant.yaml'), OK('beta'));
    const second = synthesize({ root, environmentName: 'dev', outdir });
    assert.deepEqual(second.all.map((s) => s.name).slice(-2), ['tenant-alpha', 'tenant-beta']);
    assert.deepEqual(stacks(), [...platform, 'tenant-alpha', 'tenant-beta'].sort());
    const alphaBefore = readFileSync(join(outdir, 'stacks', 'tenant-alpha', 'cdk.tf.json'), 'utf8');
    const tf = JSON.parse(readFileSync(join(outdir, 'stacks', 'tenant-beta', 'cdk.tf.json'), 'utf8')) as { terraform: { backend: { s3: { key: string } } } };
    assert.equal(tf.terraform.backend.s3.key, 'dev/tenant-beta.tfstate');

    rmSync(join(root, 'tenants', 'alpha'), { recursive: true });
    synthesize({ root, environmentName: 'dev', outdir });
    assert.deepEqual(stacks(), [...platform, 'tenant-beta'].sort());
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    assert.equal('tenant-alpha' in manifest.stacks, false);
    assert.ok('tenant-beta' in manifest.stacks);
    assert.ok(alphaBefore.length > 0);
  });

  it('ignores hidden folders and empty folders under tenants/, warning about each empty folder by name', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    mkdirSync(join(root, 'tenants', '.drafts'));
    writeFileSync(join(root, 'tenants', '.drafts', 'notes.txt'), 'x');
    mkdirSync(join(root, 'tenants', 'leftover'));
    mkdirSync(join(root, 'tenants', 'old-team'));
    writeFileSync(join(root, 'tenants', 'old-team', '.DS_Store'), '');
    const warnings: string[] = [];
    assert.deepEqual(
      loadTenants(root, environment, (w) => warnings.push(w)).map((t) => t.name),
      ['alpha'],
    );
    assert.deepEqual(warnings, [
      'tenants/leftover/ is empty and was ignored (no tenant.yaml, so no stack tenant-leftover): add tenants/leftover/tenant.yaml or remove the folder',
      'tenants/old-team/ is empty and was ignored (no tenant.yaml, so no stack tenant-old-team): add tenants/old-team/tenant.yaml or remove the folder',
    ]);
  });

  it('prints the empty-folder warning from the synth command', async () => {
    const root = tempRoot({ alpha: OK('alpha') });
    mkdirSync(join(root, 'tenants', 'leftover'));
    const result = await synthCli(['--root', root, '--env', 'dev', '--stack', 'network']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^warning: tenants\/leftover\/ is empty and was ignored/m);
  });
});

describe('tenant JSON Schema', () => {
  const entry = CONFIG_SCHEMAS.find((s) => s.path === 'tenants/tenant.schema.json');

  it('is registered and current (run `npm run schemas` after changing the zod schema)', () => {
    assert.ok(entry);
    assert.equal(readFileSync(join(SOURCE_ROOT, entry.path), 'utf8'), jsonSchemaText(entry));
  });

  it('rejects unknown fields and names the contract fields', () => {
    const schema = JSON.parse(readFileSync(join(SOURCE_ROOT, 'tenants/tenant.schema.json'), 'utf8')) as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required.sort(), ['name', 'owners', 'quota']);
    assert.deepEqual(Object.keys(schema.properties).sort(), ['cost', 'data', 'description', 'emr', 'environments', 'jobDefaults', 'name', 'network', 'notifications', 'owners', 'queue', 'quota', 'spark']);
    assert.deepEqual(Object.keys(schema.properties.network!.properties!).sort(), ['egress', 'ingress', 'serviceTypes']);
    const override = (schema.properties.environments as { additionalProperties: { anyOf: { additionalProperties?: boolean; properties?: Record<string, { properties?: Record<string, unknown> }> }[] } }).additionalProperties.anyOf[0]!;
    assert.equal(override.additionalProperties, false, 'overrides are strict too');
    assert.deepEqual(Object.keys(override.properties!).sort(), ['data', 'owners', 'queue', 'quota', 'spark']);
    assert.deepEqual(Object.keys(override.properties!.data!.properties!), ['readBuckets']);
    assert.deepEqual(Object.keys(schema.properties.cost!.properties!), ['dailyBudgetUsd']);
    assert.deepEqual(Object.keys(schema.properties.spark!.properties!).sort(), ['architecture', 'dedicatedNodes', 'driverCapacity', 'executorCapacity', 'gangScheduling', 'localStorage', 'zone']);
    assert.deepEqual(Object.keys(schema.properties.emr!.properties!).sort(), ['identity', 'releaseLabel', 'verticalAutoscaling']);
    assert.deepEqual(Object.keys(schema.properties.data!.properties!).sort(), ['glueDatabases', 'readBuckets', 'retainOnDelete']);
  });
});

describe('new-tenant', () => {
  it('writes a valid tenant file with the schema line and the defaults commented', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    const result = createTenant(root, environment, { name: 'data-science', owners: ['arn:aws:iam::111122223333:role/ds'], cpu: '50', memory: '200Gi' });
    assert.equal(result.file, 'tenants/data-science/tenant.yaml');
    const text = readFileSync(join(root, result.file), 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/tenant\.schema\.json\n/);
    assert.match(text, /^#   executorCapacity: spot$/m);
    assert.match(text, /^#   releaseLabel: emr-7\.12\.0-latest$/m);
    assert.deepEqual(parse(text), { name: 'data-science', owners: ['arn:aws:iam::111122223333:role/ds'], quota: { cpu: '50', memory: '200Gi' }, environments: { dev: {}, prod: {} } });
    // Uncommenting every default line still gives a valid tenant.
    assert.match(text, /^#   maxConcurrentJobs: 20 /m);
    assert.match(text, /^#   serviceTypes: \[\]$/m);
    const uncommented = text.replace(/^# (spark|emr|data|jobDefaults|notifications|network|cost|queue):.*$/gm, '$1:').replace(/^#   (?!zone|pods|max)/gm, '  ');
    const folder = join(root, 'tenants', 'data-science');
    writeFileSync(join(folder, 'tenant.yaml'), uncommented);
    const loaded = loadTenants(root, environment).find((t) => t.name === 'data-science')!;
    assert.deepEqual(loaded.spark, tenantDefaults().spark);
    assert.deepEqual(loaded.emr, tenantDefaults().emr);
    assert.deepEqual(loaded.queue, tenantDefaults().queue);
    assert.deepEqual(loaded.jobDefaults, tenantDefaults().jobDefaults);
    assert.deepEqual(loaded.notifications, { states: ['FAILED'], emails: ['data-oncall@example.com'], sqsQueueArns: [], snsTopicArns: [] });
    assert.deepEqual(loaded.network, tenantDefaults().network);
    assert.equal(loaded.quota.maxConcurrentJobs, 20);
    assert.deepEqual(loaded.cost, { dailyBudgetUsd: 500 });
  });

  it('refuses a bad name, an existing folder and an owner of another tenant, writing nothing', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    const attempt = (name: string, owners = ['arn:aws:iam::111122223333:role/new']) => {
      try {
        createTenant(root, environment, { name, owners, cpu: '1', memory: '1Gi' });
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.message;
      }
      assert.fail(`expected new-tenant ${name} to be refused`);
    };
    assert.match(attempt('Bad_Name'), /^tenants\/Bad_Name\/tenant\.yaml: name: expected a DNS-1123 label/);
    assert.match(attempt('kube-team'), /^tenants\/kube-team\/tenant\.yaml: name: expected a name that is not a reserved/);
    assert.match(attempt('alpha'), /^tenants\/alpha\/tenant\.yaml: \(file\): expected a tenant folder that does not exist yet/);
    assert.match(attempt('gamma', ['arn:aws:iam::111122223333:role/alpha-team']), /^tenants\/gamma\/tenant\.yaml: owners\[0\]: expected a role that owns no other tenant in environment dev \(it is already owners\[0\] of tenants\/alpha\/tenant\.yaml/);
    expect(readdirSync(join(root, 'tenants'))).toEqual(['alpha']);
    assert.equal(readFileSync(join(root, 'tenants', 'alpha', 'tenant.yaml'), 'utf8'), OK('alpha'));
  });

  it('produces text that parses as the tenant it was asked for', () => {
    const text = tenantFileText({ name: 'x-team', owners: ['arn:aws:iam::111122223333:role/x'], cpu: '8', memory: '32Gi', description: 'X: the team' });
    assert.deepEqual(parse(text), { name: 'x-team', description: 'X: the team', owners: ['arn:aws:iam::111122223333:role/x'], quota: { cpu: '8', memory: '32Gi' } });
  });
});

describe('tenants per environment', () => {
  const prod = testEnvironment({}, 'prod');
  const PROD_ROLE = 'arn:aws:iam::444455556666:role/alpha-prod';

  /** Problems of one tenant set for one environment, as message lines. */
  function problems(tenants: Record<string, Folder>, env = environment): string[] {
    const root = tempRoot(tenants);
    try {
      loadTenants(root, env, () => undefined);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.message.split('\n');
    }
    return [];
  }

  it('a file without environments is in every environment (existing files keep their meaning)', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    assert.deepEqual(loadTenants(root, environment).map((t) => t.name), ['alpha']);
    assert.deepEqual(loadTenantSet(root, prod).tenants.map((t) => t.name), ['alpha']);
  });

  it('a tenant not in an environment gets no stack there, and no error', () => {
    const root = tempRoot({ alpha: OK('alpha', { environments: { dev: {} } }), beta: OK('beta') });
    assert.deepEqual(loadTenants(root, environment).map((t) => t.name), ['alpha', 'beta']);
    const inProd = loadTenantSet(root, prod);
    assert.deepEqual(inProd.tenants.map((t) => t.name), ['beta']);
    assert.deepEqual(inProd.outside, [{ name: 'alpha', file: 'tenants/alpha/tenant.yaml', environments: ['dev'] }]);
    const result = synthesize({ root, environmentName: 'prod', outdir: join(root, 'out-prod') });
    assert.ok(!result.all.some((s) => s.name === 'tenant-alpha'));
    assert.ok(!existsSync(join(root, 'out-prod', 'stacks', 'tenant-alpha')));
    const platform = JSON.parse(readFileSync(join(root, 'out-prod', 'platform.json'), 'utf8')) as { notInEnvironment: unknown[] };
    assert.deepEqual(platform.notInEnvironment, [{ stack: 'tenant-alpha', file: 'tenants/alpha/tenant.yaml', environments: ['dev'] }]);
    // The Nx project tenant-alpha exists in every environment: its synth is a no-op where it is not.
    const single = synthesize({ root, environmentName: 'prod', outdir: join(root, 'out-prod'), stacks: ['tenant-alpha'] });
    assert.deepEqual([single.synthesized.length, single.skipped.map((s) => s.stack)], [0, ['tenant-alpha']]);
  });

  it('applies the overrides of the environment: objects merge one level, lists replace', () => {
    const root = tempRoot({
      alpha: OK('alpha', {
        quota: { cpu: '100', memory: '400Gi', pods: 500 },
        spark: { architecture: 'amd64', executorCapacity: 'spot' },
        data: { readBuckets: ['arn:aws:s3:::dev-data'], glueDatabases: ['alpha_db'] },
        environments: { dev: null, prod: { owners: [PROD_ROLE], quota: { cpu: '800' }, spark: { executorCapacity: 'on-demand', zone: 'us-west-2b' }, data: { readBuckets: ['arn:aws:s3:::prod-data'] } } },
      }),
    });
    const [dev] = loadTenants(root, environment);
    const [inProd] = loadTenants(root, prod);
    assert.deepEqual(dev!.owners, ['arn:aws:iam::111122223333:role/alpha-team']);
    assert.deepEqual(inProd!.owners, [PROD_ROLE]);
    assert.deepEqual([dev!.quota, inProd!.quota], [{ cpu: '100', memory: '400Gi', pods: 500, maxConcurrentJobs: 20 }, { cpu: '800', memory: '400Gi', pods: 500, maxConcurrentJobs: 20 }]);
    assert.deepEqual([inProd!.spark.architecture, inProd!.spark.executorCapacity, inProd!.spark.zone], ['amd64', 'on-demand', 'us-west-2b']);
    assert.deepEqual(inProd!.data, { retainOnDelete: true, readBuckets: ['arn:aws:s3:::prod-data'], glueDatabases: ['alpha_db'] });
    assert.equal('environments' in inProd!, false);
  });

  it('owners may be roles of another account (STANDARD access entries allow it)', () => {
    const root = tempRoot({ alpha: OK('alpha', { owners: ['arn:aws:iam::999988887777:role/central-data-team'] }) });
    const tf = synthStack('tenant-alpha', prod, root);
    const entries = Object.values(tf.resource?.aws_eks_access_entry ?? {});
    assert.deepEqual(entries.map((e) => [e.principal_arn, e.type]), [['arn:aws:iam::999988887777:role/central-data-team', 'STANDARD']]);
  });

  const BAD: [string, Record<string, Folder>, string | undefined, RegExp][] = [
    ['an override of a field that is the same in every account', { alpha: OK('alpha', { environments: { prod: { emr: { identity: 'pod-identity' } } } }) }, 'prod', /^tenants\/alpha\/tenant\.yaml: environments\.prod\.emr: expected no field named "emr"/],
    ['a nested field outside the allowed ones', { alpha: OK('alpha', { environments: { prod: { data: { retainOnDelete: false } } } }) }, 'prod', /^tenants\/alpha\/tenant\.yaml: environments\.prod\.data\.retainOnDelete: expected no field named "retainOnDelete"/],
    ['an environment that does not exist (typo)', { alpha: OK('alpha', { environments: { prd: {} } }) }, 'prod', /^tenants\/alpha\/tenant\.yaml: environments\.prd: expected an environment of this repository \(environments\/dev\.yaml, environments\/prod\.yaml\), found "prd"/],
    ['no environment at all', { alpha: OK('alpha', { environments: {} }) }, undefined, /^tenants\/alpha\/tenant\.yaml: environments: expected at least one environment \(remove the section to deploy the tenant to every environment\)/],
    ['a bad value in an override', { alpha: OK('alpha', { environments: { prod: { quota: { cpu: 'lots' } } } }) }, undefined, /^tenants\/alpha\/tenant\.yaml: environments\.prod\.quota\.cpu: expected a Kubernetes CPU quantity > 0/],
    ['an owner listed twice in an override', { alpha: OK('alpha', { environments: { prod: { owners: [PROD_ROLE, PROD_ROLE] } } }) }, undefined, /^tenants\/alpha\/tenant\.yaml: environments\.prod\.owners\[1\]: expected each owner listed once \(in environment prod\)/],
    ['an override zone outside the environment', { alpha: OK('alpha', { environments: { prod: { spark: { zone: 'us-west-2d' } } } }) }, 'prod', /^tenants\/alpha\/tenant\.yaml: environments\.prod\.spark\.zone: expected one of the availability zones of environment prod/],
    ['an override owner that is a platform admin there', { alpha: OK('alpha', { environments: { prod: { owners: ['arn:aws:iam::444455556666:role/platform-admins'] } } }) }, 'prod', /^tenants\/alpha\/tenant\.yaml: environments\.prod\.owners\[0\]: expected a role that is not a platform admin/],
    [
      'two tenants owned by one role in the same environment',
      { alpha: OK('alpha', { environments: { dev: {}, prod: { owners: [PROD_ROLE] } } }), beta: OK('beta', { environments: { prod: { owners: [PROD_ROLE] } } }) },
      'prod',
      /^tenants\/beta\/tenant\.yaml: environments\.prod\.owners\[0\]: expected a role that owns no other tenant in environment prod \(it is already environments\.prod\.owners\[0\] of tenants\/alpha\/tenant\.yaml/,
    ],
  ];
  for (const [title, tenants, env, pattern] of BAD) {
    it(`rejects ${title}, naming the file and the environment`, () => {
      const lines = problems(tenants, env === 'prod' ? prod : environment);
      assert.ok(lines.some((line) => pattern.test(line)), `expected a line matching ${pattern}, got:\n${lines.join('\n')}`);
    });
  }

  it('a role may own one tenant in dev and another in prod (one access entry per cluster)', () => {
    const shared = 'arn:aws:iam::111122223333:role/shared';
    const tenants = { alpha: OK('alpha', { owners: [shared], environments: { dev: {} } }), beta: OK('beta', { owners: [shared], environments: { prod: {} } }) };
    assert.deepEqual(problems(tenants), []);
    assert.deepEqual(problems(tenants, prod), []);
  });

  it('new-tenant writes the environments it was given, and suggests deploying the tenant alone', () => {
    const root = tempRoot({ alpha: OK('alpha') });
    const result = createTenant(root, environment, { name: 'dev-team', owners: ['arn:aws:iam::111122223333:role/dt'], cpu: '8', memory: '32Gi', environments: { dev: {} } });
    assert.deepEqual(parse(result.text).environments, { dev: {} });
    assert.match(result.text, /^# Environments this tenant is deployed to \(a file without this section is in every environment\)\.$/m);
    assert.deepEqual(loadTenantSet(root, prod).outside.map((t) => t.name), ['dev-team']);
    const withOwners = createTenant(root, environment, { name: 'both-team', owners: ['arn:aws:iam::111122223333:role/bt'], cpu: '8', memory: '32Gi', environments: { dev: {}, prod: { owners: [PROD_ROLE] } } });
    assert.match(withOwners.text, /^ {2}prod: \{ owners: \[ arn:aws:iam::444455556666:role\/alpha-prod \] \}$/m);
    assert.deepEqual(loadTenants(root, prod).find((t) => t.name === 'both-team')!.owners, [PROD_ROLE]);
    assert.throws(
      () => createTenant(root, environment, { name: 'typo-team', owners: ['arn:aws:iam::111122223333:role/tt'], cpu: '8', memory: '32Gi', environments: { prd: {} } }),
      /tenants\/typo-team\/tenant\.yaml: environments\.prd: expected an environment of this repository \(dev, prod\), found "prd"/,
    );
    // Placeholder owners (no --owner): each environment's own account.
    assert.deepEqual(ownersByEnvironment(root, environment, 'new-team', ['dev', 'prod']), {
      owners: ['arn:aws:iam::111122223333:role/new-team-engineers'],
      environments: { dev: {}, prod: { owners: ['arn:aws:iam::444455556666:role/new-team-engineers'] } },
    });
    assert.deepEqual(ownersByEnvironment(root, environment, 'new-team', ['dev', 'prod'], ['arn:aws:iam::111122223333:role/given']), {
      owners: ['arn:aws:iam::111122223333:role/given'],
      environments: { dev: {}, prod: {} },
    });
    const steps = nextSteps('dev-team', ['dev']).join('\n');
    assert.match(steps, /PLATFORM_ENV=dev npx cdktf deploy tenant-dev-team --ignore-missing-stack-dependencies/);
    assert.match(steps, /npx nx run tenant-dev-team:deploy --exclude-task-dependencies/);
    assert.doesNotMatch(steps, /nx run tenant-dev-team:deploy(?! --exclude-task-dependencies)/);
  });

  it('tf.js and synth do nothing, successfully, for a tenant stack outside the environment', () => {
    const root = tempRoot({ alpha: OK('alpha', { environments: { dev: {} } }) });
    writeFileSync(join(root, 'nx.json'), '{}\n');
    const run = (script: string, args: string[]) => spawnSync(process.execPath, [compiledScript(script), ...args], { encoding: 'utf8', env: { ...process.env, TERRAFORM_BIN: '/nonexistent/terraform' } });
    // After a dev synth: the synth target of tenant-alpha in prod, then tf.js plan (CI's plan of one stack).
    assert.equal(run('synth.js', ['--root', root, '--env', 'dev', '--stack', 'tenant-alpha']).status, 0);
    assert.ok(existsSync(join(root, 'cdktf.out', 'stacks', 'tenant-alpha', 'cdk.tf.json')));
    const synth = run('synth.js', ['--root', root, '--env', 'prod', '--stack', 'tenant-alpha']);
    assert.equal(synth.status, 0, synth.stderr);
    assert.match(synth.stdout, /tenant-alpha: not in environment "prod" \(tenants\/alpha\/tenant\.yaml lists dev\): nothing to synthesize/);
    assert.ok(!existsSync(join(root, 'cdktf.out', 'stacks', 'tenant-alpha')), "dev's stack is not left where prod's diff would find it");
    const plan = run('tf.js', ['plan', 'tenant-alpha', '--root', root]);
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(plan.stdout, /tf: tenant-alpha is not in environment "prod" \(tenants\/alpha\/tenant\.yaml lists dev\): nothing to plan/);
  });
});
