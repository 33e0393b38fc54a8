/**
 * The queue configuration the yunikorn stack generates from the tenant folders: one queue per
 * tenant with its guarantee (the quota), max (queue.max or the quota), maxapplications and
 * ordering; checked against YuniKorn's own rules (strict key names of its config structs, its
 * quantity parser, its validator's resource and placement checks), for the fixture tenants, a
 * tenant added as a folder and a tenant removed.
 */
import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { compareQuantities, milliValue, scaleQuantity, sumQuantities, fitsIn, unitValue, yunikornMemory, yunikornVcore } from '../modules/yunikorn/quantity.js';
import { InvalidQueueConfigError, queueConfiguration, queuesYaml } from '../modules/yunikorn/queues.js';
import { ConfigurationTooLargeError, generatedConfigMap } from '../modules/yunikorn/release.js';
import { resourcesOf, synthStack, temporaryRoot, testEnvironment } from './support/synth.js';

const ACCOUNT = '111122223333';

/** The generated ConfigMap data of the yunikorn stack synthesized from a repository root. */
function generated(root?: string): { queuesYaml: string; config: any; processNamespaces: string } {
  const tf = synthStack('yunikorn', testEnvironment(), root);
  const configMap = Object.values(resourcesOf(tf, 'kubernetes_manifest'))
    .map((r) => r.manifest as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> })
    .find((m) => m.kind === 'ConfigMap')!;
  assert.equal(configMap.metadata.name, 'yunikorn-configs');
  assert.equal(configMap.metadata.namespace, 'yunikorn');
  assert.deepEqual(Object.keys(configMap.data).sort(), ['admissionController.filtering.processNamespaces', 'queues.yaml']);
  return { queuesYaml: configMap.data['queues.yaml']!, config: parse(configMap.data['queues.yaml']!), processNamespaces: configMap.data['admissionController.filtering.processNamespaces']! };
}

// --- YuniKorn's rules, written from apache/yunikorn-core pkg/common/configs/config.go, configvalidator.go
// and pkg/common/resources/quantity.go (v1.8.0): test data, not code the product runs. ---

/** Keys of each config struct (yaml.v3 lower-cases Go field names; the decoder rejects unknown keys). */
const STRUCT_KEYS = {
  scheduler: ['partitions', 'checksum'],
  partition: ['name', 'queues', 'placementrules', 'limits', 'preemption', 'nodesortpolicy', 'usergroupresolver'],
  preemption: ['enabled', 'quotapreemptionenabled'],
  nodesortpolicy: ['type', 'resourceweights'],
  placementrule: ['name', 'create', 'filter', 'parent', 'value'],
  queue: ['name', 'parent', 'resources', 'maxapplications', 'properties', 'adminacl', 'submitacl', 'childtemplate', 'queues', 'limits'],
  resources: ['guaranteed', 'max'],
} as const;
const QUEUE_NAME = /^[a-zA-Z0-9_:#/@-]{1,64}$/;
const YUNIKORN_QUANTITY = /^([0-9]+)\s*(([mkKMGTPE]i?)?)$/;
const MULTIPLIER: Record<string, bigint> = { '': 1n, m: 1n, k: 10n ** 3n, M: 10n ** 6n, G: 10n ** 9n, T: 10n ** 12n, P: 10n ** 15n, E: 10n ** 18n, Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };

/** YuniKorn's quantity parser: vcore in milli (unsuffixed = cores), anything else whole units, "m" only for vcore. */
function yunikornQuantity(resource: string, value: string): bigint {
  const match = YUNIKORN_QUANTITY.exec(value.trim());
  assert.ok(match, `${resource}: ${JSON.stringify(value)} is not a YuniKorn quantity`);
  const suffix = match[2]!;
  assert.ok(suffix in MULTIPLIER, `${resource}: invalid suffix ${suffix}`);
  const milli = resource === 'vcore';
  assert.ok(suffix !== 'm' || milli, `${resource}: "m" is only valid for vcore`);
  const n = BigInt(match[1]!) * MULTIPLIER[suffix]!;
  return milli && suffix !== 'm' ? n * 1000n : n;
}

function onlyKeys(node: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const extra = Object.keys(node).filter((k) => !allowed.includes(k));
  assert.deepEqual(extra, [], `${where}: keys YuniKorn does not know`);
}

function checkQueue(queue: any, path: string, isRoot: boolean): void {
  onlyKeys(queue, STRUCT_KEYS.queue, path);
  if (!isRoot) assert.match(queue.name, QUEUE_NAME, path);
  if (queue.resources) {
    assert.ok(!isRoot, 'root may not have resources');
    onlyKeys(queue.resources, STRUCT_KEYS.resources, `${path}.resources`);
    const parsed = (kind: 'guaranteed' | 'max') => Object.fromEntries(Object.entries((queue.resources[kind] ?? {}) as Record<string, string>).map(([r, v]) => [r, yunikornQuantity(r, v)]));
    const guaranteed = parsed('guaranteed');
    const max = parsed('max');
    for (const [resource, value] of Object.entries(guaranteed)) if (max[resource] !== undefined) assert.ok(value <= max[resource]!, `${path}: guaranteed ${resource} above max`);
  }
  if (queue.maxapplications !== undefined) assert.ok(Number.isInteger(queue.maxapplications) && queue.maxapplications >= 1, `${path}: maxapplications`);
  for (const [key, value] of Object.entries((queue.properties ?? {}) as Record<string, string>)) {
    assert.ok(['application.sort.policy', 'preemption.delay', 'preemption.policy', 'priority.policy', 'priority.offset', 'application.sort.priority'].includes(key), `${path}: property ${key}`);
    if (key === 'application.sort.policy') assert.ok(['fifo', 'fair'].includes(value));
  }
  for (const child of queue.queues ?? []) checkQueue(child, `${path}.${child.name}`, false);
}

/** Checks a parsed queues.yaml as YuniKorn would; returns the tenant leaves by name. */
function checkConfig(config: any): Record<string, any> {
  onlyKeys(config, STRUCT_KEYS.scheduler, '(top)');
  assert.equal(config.partitions.length, 1);
  const partition = config.partitions[0];
  onlyKeys(partition, STRUCT_KEYS.partition, 'partition');
  assert.equal(partition.name, 'default', 'the shim supports only the default partition');
  onlyKeys(partition.preemption, STRUCT_KEYS.preemption, 'preemption');
  onlyKeys(partition.nodesortpolicy, STRUCT_KEYS.nodesortpolicy, 'nodesortpolicy');
  const checkRule = (rule: any, where: string): void => {
    onlyKeys(rule, STRUCT_KEYS.placementrule, where);
    if (rule.parent) checkRule(rule.parent, `${where}.parent`);
  };
  partition.placementrules.forEach((r: any, i: number) => checkRule(r, `placementrules[${i}]`));
  assert.equal(partition.queues.length, 1);
  const root = partition.queues[0];
  assert.equal(root.name, 'root');
  checkQueue(root, 'root', true);
  // The fixed parent of the placement rule must exist and be a parent queue (create is false).
  const tenants = root.queues.find((q: any) => q.name === 'tenants');
  assert.equal(tenants.parent, true);
  return Object.fromEntries((tenants.queues ?? []).map((q: any) => [q.name, q]));
}

describe('queues.yaml from the fixture tenants', () => {
  const { config, queuesYaml: text, processNamespaces } = generated();
  const leaves = checkConfig(config);

  it('places every application in the queue of its namespace under root.tenants, never creating one', () => {
    const partition = config.partitions[0];
    assert.deepEqual(partition.placementrules, [{ name: 'tag', value: 'namespace', create: false, parent: { name: 'fixed', value: 'root.tenants' } }]);
    assert.deepEqual(partition.preemption, { enabled: true });
    assert.deepEqual(partition.nodesortpolicy, { type: 'binpacking' });
    assert.equal(partition.queues[0].queues[0].submitacl, '*');
    assert.match(text, /^# YuniKorn queues of environment dev, generated by the platform \(stack yunikorn\) from tenants\/\*\/tenant\.yaml\./);
  });

  it('gives analytics (defaults) its quota as guarantee and max, quota.maxConcurrentJobs (20) + 1 applications, FIFO', () => {
    expect(leaves.analytics).toEqual({
      name: 'analytics',
      resources: { guaranteed: { vcore: '400', memory: '1600Gi' }, max: { vcore: '400', memory: '1600Gi' } },
      maxapplications: 21,
      properties: { 'application.sort.policy': 'fifo', 'preemption.delay': '30s' },
    });
  });

  it('gives risk-models its quota as guarantee, queue.max as max, and maxRunningJobs + 1 applications', () => {
    expect(leaves['risk-models']).toEqual({
      name: 'risk-models',
      resources: { guaranteed: { vcore: '200', memory: '800Gi' }, max: { vcore: '300', memory: '1200Gi' } },
      maxapplications: 7,
      properties: { 'application.sort.policy': 'fifo', 'preemption.delay': '30s' },
    });
    assert.equal(yunikornQuantity('vcore', leaves['risk-models'].resources.guaranteed.vcore), 200_000n);
    assert.equal(yunikornQuantity('memory', leaves['risk-models'].resources.max.memory), 1200n * 2n ** 30n);
  });

  it('has the admission controller process exactly the tenant namespaces', () => {
    assert.equal(processNamespaces, '^analytics$,^risk-models$');
  });

  it('(control) the YuniKorn checks reject what YuniKorn rejects', () => {
    assert.throws(() => checkConfig({ ...config, partitions: [{ ...config.partitions[0], nodeSortPolicy: { type: 'fair' } }] }), /keys YuniKorn does not know/);
    assert.throws(() => yunikornQuantity('vcore', '0.5'), /not a YuniKorn quantity/);
    assert.throws(() => yunikornQuantity('memory', '500m'), /only valid for vcore/);
    const swapped = structuredClone(config);
    swapped.partitions[0].queues[0].queues[0].queues[0].resources.guaranteed.vcore = '401';
    assert.throws(() => checkConfig(swapped), /guaranteed vcore above max/);
  });
});

describe('queues.yaml when tenant folders come and go', () => {
  const owner = (name: string) => [`arn:aws:iam::${ACCOUNT}:role/${name}-engineers`];

  it('adds a queue for a tenant added as a folder, in any quantity notation, with its ordering and limit', () => {
    const root = temporaryRoot({
      keepFixtureTenants: true,
      tenants: {
        marketing: { name: 'marketing', owners: owner('marketing'), quota: { cpu: '12.5', memory: '1.5Gi' }, queue: { max: { cpu: 20, memory: '2Gi' }, maxRunningJobs: 3, ordering: 'fair' } },
      },
    });
    const { config, processNamespaces } = generated(root);
    const leaves = checkConfig(config);
    assert.deepEqual(Object.keys(leaves), ['analytics', 'marketing', 'risk-models']);
    expect(leaves.marketing).toEqual({
      name: 'marketing',
      resources: { guaranteed: { vcore: '12500m', memory: String(1.5 * 2 ** 30) }, max: { vcore: '20', memory: '2Gi' } },
      maxapplications: 4,
      properties: { 'application.sort.policy': 'fair', 'preemption.delay': '30s' },
    });
    assert.equal(processNamespaces, '^analytics$,^marketing$,^risk-models$');
  });

  it('drops the queue of a removed folder, and the environment sets the preemption delay', () => {
    const root = temporaryRoot({ tenants: { analytics: { name: 'analytics', owners: owner('analytics'), quota: { cpu: '4', memory: '16Gi' } } } });
    const tf = synthStack('yunikorn', testEnvironment({ scheduling: { batchScheduler: 'yunikorn', yunikorn: { preemptionDelay: '2m', allowUnsupportedKubernetesVersion: true } } }), root);
    const data = Object.values(resourcesOf(tf, 'kubernetes_manifest')).map((r) => r.manifest as { kind: string; data: Record<string, string> }).find((m) => m.kind === 'ConfigMap')!.data;
    const leaves = checkConfig(parse(data['queues.yaml']!));
    assert.deepEqual(Object.keys(leaves), ['analytics']);
    assert.equal(leaves.analytics.properties['preemption.delay'], '2m');
    assert.equal(data['admissionController.filtering.processNamespaces'], '^analytics$');
  });

  it("holds only the environment's tenants, each with its environment's quota and queue", () => {
    const root = temporaryRoot({
      keepFixtureTenants: true,
      tenants: {
        'prod-only': { name: 'prod-only', owners: owner('prod-only'), quota: { cpu: '8', memory: '32Gi' }, environments: { prod: {} } },
        grows: { name: 'grows', owners: owner('grows'), quota: { cpu: '8', memory: '32Gi' }, environments: { dev: {}, prod: { quota: { cpu: '40' }, queue: { max: { cpu: '60', memory: '64Gi' } } } } },
      },
    });
    const inDev = checkConfig(generated(root).config);
    assert.deepEqual(Object.keys(inDev), ['analytics', 'grows', 'risk-models']);
    assert.equal(generated(root).processNamespaces, '^analytics$,^grows$,^risk-models$');
    const prodTf = synthStack('yunikorn', testEnvironment({}, 'prod'), root);
    const prodData = Object.values(resourcesOf(prodTf, 'kubernetes_manifest')).map((r) => r.manifest as { kind: string; data: Record<string, string> }).find((m) => m.kind === 'ConfigMap')!.data;
    const inProd = checkConfig(parse(prodData['queues.yaml']!));
    assert.deepEqual(Object.keys(inProd), ['analytics', 'grows', 'prod-only', 'risk-models']);
    assert.deepEqual([inDev.grows.resources, inProd.grows.resources], [
      { guaranteed: { vcore: '8', memory: '32Gi' }, max: { vcore: '8', memory: '32Gi' } },
      { guaranteed: { vcore: '40', memory: '32Gi' }, max: { vcore: '60', memory: '64Gi' } },
    ]);
    // risk-models' prod override: quota 400 CPU, queue max 600.
    assert.deepEqual(inProd['risk-models'].resources.max, { vcore: '600', memory: '1200Gi' });
  });

  it('keeps root.tenants, and processes no namespace, with no tenant at all', () => {
    const { config, processNamespaces } = generated(temporaryRoot({ tenants: 'none' }));
    assert.deepEqual(checkConfig(config), {});
    assert.equal(processNamespaces, '^$');
  });
});

describe('queue configuration module', () => {
  const tenant = (name: string, guaranteed: string, max: string) => ({ tenant: name, guaranteed: { cpu: guaranteed, memory: '1Gi' }, max: { cpu: max, memory: '1Gi' } });

  it('refuses what YuniKorn would refuse, naming the queue', () => {
    assert.throws(() => queueConfiguration({ tenants: [tenant('a', '10', '5')] }), new InvalidQueueConfigError('queue root.tenants.a: guaranteed cpu 10 is more than max 5'));
    assert.throws(() => queueConfiguration({ tenants: [tenant('a', '1', '1'), tenant('A', '1', '1')] }), /defined twice/);
    assert.throws(() => queueConfiguration({ tenants: [tenant('a.b', '1', '1')] }), /no dots/);
    assert.throws(() => queueConfiguration({ tenants: [{ ...tenant('a', '1', '1'), maxApplications: 0 }] }), /maxapplications/);
    assert.throws(() => queueConfiguration({ tenants: [], preemptionDelay: '30 seconds' }), /Go duration/);
    assert.match(queuesYaml({ tenants: [] }), /^partitions:/);
  });

  it('keeps the generated ConfigMap within what Kubernetes stores', () => {
    assert.throws(() => generatedConfigMap({ 'queues.yaml': 'x'.repeat(1024 * 1024) }), ConfigurationTooLargeError);
    assert.equal(generatedConfigMap({ 'queues.yaml': 'x'.repeat(1000) }).data!['queues.yaml']!.length, 1000);
  });
});

describe('quantities', () => {
  it('converts Kubernetes quantities exactly into what YuniKorn parses', () => {
    assert.deepEqual(['400', '500m', '0.5', '12.5', '.25', '1'].map(yunikornVcore), ['400', '500m', '500m', '12500m', '250m', '1']);
    assert.deepEqual(['1600Gi', '512Mi', '2T', '1.5Gi', '0.1Ki'].map(yunikornMemory), ['1600Gi', '512Mi', '2T', '1610612736', '103']);
    assert.equal(milliValue('0.0001'), 1n, 'rounded up');
    assert.equal(unitValue('1.5Ki'), 1536n);
  });

  it('compares, scales and sums without floating point', () => {
    assert.equal(compareQuantities('1Gi', '1024Mi'), 0);
    assert.equal(compareQuantities('1G', '1Gi'), -1);
    assert.equal(compareQuantities('0.3', '300m'), 0);
    assert.deepEqual(['400', '1.5Gi', '0.25', '500m'].map((q) => scaleQuantity(q, 2)), ['800', '3Gi', '0.5', '1000m']);
    assert.equal(scaleQuantity('0.1', 3), '0.3');
    assert.equal(fitsIn(sumQuantities([{ quantity: '0.1', times: 3 }]), '0.3'), true);
    assert.equal(fitsIn(sumQuantities([{ quantity: '2', times: 1 }, { quantity: '4', times: 8 }]), '33'), false);
    assert.throws(() => scaleQuantity('1', 1.5), /whole number/);
    assert.throws(() => yunikornVcore('4 cores'), /not a Kubernetes quantity/);
  });
});
