import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { EC2NodeClass, type IEC2NodeClass } from '@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass';
import { NodePool, type INodePool } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodePool';
import { PriorityClass, type IPriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { StorageClass, type IStorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { sparkNodeClasses } from '../modules/karpenter/node-classes.js';
import { assertNodePoolRules, InvalidNodePoolError, sparkNodePools } from '../modules/karpenter/node-pools.js';
import { isCronSchedule } from '../modules/karpenter/schedule.js';
import { sparkPriorityClasses } from '../modules/scheduling/priority-classes.js';
import { NODE_CLASSES, POOLS, PRIORITY_CLASSES, sparkRoleTaint } from '../modules/scheduling/spark-pools.js';
import { resourcesOf, synthStack, testEnvironment, type TerraformJson } from './support/synth.js';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, any>;

function manifests(tf: TerraformJson): Map<string, { id: string; manifest: Manifest; dependsOn: string[] }> {
  const out = new Map<string, { id: string; manifest: Manifest; dependsOn: string[] }>();
  for (const [id, resource] of Object.entries(resourcesOf(tf, 'kubernetes_manifest'))) {
    const manifest = resource.manifest as Manifest;
    out.set(`${manifest.kind}/${manifest.metadata.name}`, { id, manifest, dependsOn: (resource.depends_on as string[] | undefined) ?? [] });
  }
  return out;
}

const tf = synthStack('capacity');
const objects = manifests(tf);
const get = (key: string) => {
  const found = objects.get(key);
  assert.ok(found, `${key} is synthesized (have: ${[...objects.keys()].join(', ')})`);
  return found.manifest;
};
/** The synthesized object, re-validated by its typed model (round trip through the generated Terraform). */
const pool = (name: string) => {
  const model = new NodePool(get(`NodePool/${name}`) as unknown as INodePool);
  model.validate();
  return model;
};
const nodeClass = (name: string) => {
  const model = new EC2NodeClass(get(`EC2NodeClass/${name}`) as unknown as IEC2NodeClass);
  model.validate();
  assert.ok(model.spec, name);
  return { ...model, spec: model.spec };
};
const requirementsOf = (p: NodePool) => Object.fromEntries(p.spec.template.spec.requirements.map((r) => [`${r.key} ${r.operator}`, r.minValues !== undefined ? { values: r.values, minValues: r.minValues } : r.values]));
const NODE_ROLE = '${data.terraform_remote_state.remote-state-karpenter-infra.outputs.nodeRoleName}';

const SHARED_REQUIREMENTS = {
  'kubernetes.io/arch In': ['arm64', 'amd64'],
  'karpenter.k8s.aws/instance-category In': ['c', 'm', 'r'],
  'karpenter.k8s.aws/instance-generation Gt': ['5'],
  'karpenter.k8s.aws/instance-hypervisor In': ['nitro'],
  'karpenter.k8s.aws/instance-cpu Gt': ['3'],
  'karpenter.k8s.aws/instance-cpu Lt': ['97'],
};

describe('capacity stack (dev)', () => {
  it('has its own state key, reads the karpenter-infra state, and holds only objects whose CRDs another state installed', () => {
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/capacity.tfstate');
    const keys = Object.values(tf.data!.terraform_remote_state!).map((r) => (r.config as Record<string, unknown>).key).sort();
    assert.deepEqual(keys, ['dev/cluster.tfstate', 'dev/karpenter-infra.tfstate']);
    assert.deepEqual(resourcesOf(tf, 'helm_release'), {}, 'no chart (and so no CRD) in this state');
    assert.deepEqual([...objects.keys()].sort(), [
      'EC2NodeClass/general',
      'EC2NodeClass/spark-nvme',
      'NodePool/general',
      'NodePool/spark-driver',
      'NodePool/spark-executor',
      'NodePool/spark-executor-on-demand',
      'PriorityClass/spark-driver-high',
      'PriorityClass/spark-executor-low',
      'StorageClass/gp3',
    ]);
  });

  it('creates the NodePools after the EC2NodeClasses they reference', () => {
    const classIds = [...objects.values()].filter((o) => o.manifest.kind === 'EC2NodeClass').map((o) => `kubernetes_manifest.${o.id}`).sort();
    for (const name of Object.values(POOLS)) {
      assert.deepEqual([...objects.get(`NodePool/${name}`)!.dependsOn].sort(), classIds, name);
      assert.ok(Object.values(NODE_CLASSES).includes(pool(name).spec.template.spec.nodeClassRef.name as never), name);
    }
  });

  describe('EC2NodeClasses', () => {
    for (const name of Object.values(NODE_CLASSES)) {
      it(`${name}: pinned AL2023 alias, discovery-tag selectors, IMDSv2 with hop limit 1, encrypted gp3 root, the node role`, () => {
        const { spec } = nodeClass(name);
        assert.deepEqual(spec.amiSelectorTerms, [{ alias: 'al2023@v20260714' }]);
        assert.doesNotMatch(JSON.stringify(spec.amiSelectorTerms), /latest/);
        assert.equal(spec.amiFamily, undefined, 'the alias implies the family');
        assert.deepEqual(spec.subnetSelectorTerms, [{ tags: { 'karpenter.sh/discovery': 'spark-dev' } }]);
        assert.deepEqual(spec.securityGroupSelectorTerms, [{ tags: { 'karpenter.sh/discovery': 'spark-dev' } }]);
        assert.equal(spec.role, NODE_ROLE);
        assert.equal(spec.instanceProfile, undefined);
        assert.deepEqual(spec.metadataOptions, { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpTokens: 'required', httpPutResponseHopLimit: 1 });
        assert.equal(spec.associatePublicIPAddress, false);
        const [root, ...others] = spec.blockDeviceMappings!;
        assert.deepEqual(others, []);
        assert.equal(root!.rootVolume, true);
        assert.equal(root!.deviceName, '/dev/xvda');
        assert.deepEqual({ ...root!.ebs, volumeSize: undefined }, { volumeType: 'gp3', encrypted: true, deleteOnTermination: true, volumeSize: undefined });
        assert.deepEqual(spec.kubelet, { maxPods: 110 });
        assert.equal(spec.tags!['platform:cluster'], 'spark-dev');
        assert.equal(spec.tags!['platform:managed-by'], 'karpenter');
      });
    }

    it('spark-nvme stripes the instance-store NVMe as RAID0 (emptyDir on NVMe, no hostPath); general does not', () => {
      assert.equal(nodeClass(NODE_CLASSES.sparkNvme).spec.instanceStorePolicy, 'RAID0');
      assert.equal(nodeClass(NODE_CLASSES.general).spec.instanceStorePolicy, undefined);
      assert.equal(nodeClass(NODE_CLASSES.sparkNvme).spec.blockDeviceMappings![0]!.ebs!.volumeSize, '40Gi');
      assert.equal(nodeClass(NODE_CLASSES.general).spec.blockDeviceMappings![0]!.ebs!.volumeSize, '100Gi');
    });

    it('refuses an unpinned AMI alias and tags Karpenter reserves', () => {
      assert.throws(() => sparkNodeClasses({ clusterName: 'c', nodeRoleName: 'r', amiAlias: 'al2023@latest' }), /amiAlias: expected a pinned AL2023 alias.*found "al2023@latest"/);
      assert.throws(() => sparkNodeClasses({ clusterName: 'c', nodeRoleName: 'r', tags: { 'kubernetes.io/cluster/c': 'owned' } }), /Karpenter sets kubernetes.io\/cluster\/c itself/);
    });
  });

  describe('NodePools', () => {
    it('spark-driver: on-demand (Spot only for pods that ask), drivers only, both architectures, WhenEmpty', () => {
      const p = pool(POOLS.sparkDriver);
      assert.deepEqual(requirementsOf(p), { 'karpenter.sh/capacity-type In': ['on-demand', 'spot'], ...SHARED_REQUIREMENTS });
      assert.deepEqual(p.spec.template.spec.taints, [{ key: 'spark-platform.io/spark-role', value: 'driver', effect: 'NoSchedule' }]);
      assert.deepEqual(p.spec.template.metadata?.labels, { 'spark-platform.io/pool': 'spark-driver', 'spark-platform.io/spark-role': 'driver' });
      assert.deepEqual(p.spec.template.spec.nodeClassRef, { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'general' });
      assert.deepEqual(p.spec.disruption, { consolidationPolicy: 'WhenEmpty', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] });
      assert.deepEqual(p.spec.limits, { cpu: '100', memory: '400Gi' });
      assert.equal(p.spec.template.spec.expireAfter, '720h');
      assert.equal(p.spec.template.spec.terminationGracePeriod, '24h', 'running drivers (do-not-disrupt) get a day to finish');
      assert.equal(p.spec.weight, 50);
    });

    it('spark-executor: Spot only, NVMe, diversified across families, both architectures, WhenEmptyOrUnderutilized, the higher weight', () => {
      const p = pool(POOLS.sparkExecutor);
      assert.deepEqual(requirementsOf(p), {
        'karpenter.sh/capacity-type In': ['spot'],
        ...SHARED_REQUIREMENTS,
        'karpenter.k8s.aws/instance-local-nvme Gt': ['0'],
        'karpenter.k8s.aws/instance-family Exists': { values: undefined, minValues: 5 },
      });
      assert.deepEqual(p.spec.template.spec.taints, [sparkRoleTaint('executor')]);
      assert.deepEqual(p.spec.template.metadata?.labels, { 'spark-platform.io/pool': 'spark-executor', 'spark-platform.io/spark-role': 'executor' });
      assert.equal(p.spec.template.spec.nodeClassRef.name, NODE_CLASSES.sparkNvme);
      assert.deepEqual(p.spec.disruption, { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '2m', budgets: [{ nodes: '10%' }] });
      assert.deepEqual(p.spec.limits, { cpu: '1000', memory: '4000Gi' });
      assert.deepEqual([p.spec.template.spec.expireAfter, p.spec.template.spec.terminationGracePeriod], ['720h', '2h']);
      assert.ok(p.spec.weight! > pool(POOLS.sparkExecutorOnDemand).spec.weight!, 'Spot executors are tried before the on-demand fallback');
    });

    it('spark-executor-on-demand: the same executors on on-demand, lower weight', () => {
      const p = pool(POOLS.sparkExecutorOnDemand);
      assert.deepEqual(requirementsOf(p), { 'karpenter.sh/capacity-type In': ['on-demand'], ...SHARED_REQUIREMENTS, 'karpenter.k8s.aws/instance-local-nvme Gt': ['0'] });
      assert.deepEqual(p.spec.template.spec.taints, [sparkRoleTaint('executor')]);
      assert.equal(p.spec.template.spec.nodeClassRef.name, NODE_CLASSES.sparkNvme);
      assert.equal(p.spec.disruption!.consolidationPolicy, 'WhenEmptyOrUnderutilized');
      assert.deepEqual(p.spec.limits, { cpu: '500', memory: '2000Gi' });
      assert.equal(p.spec.weight, 10);
    });

    it('general: untainted, on-demand only (a pod selecting no capacity type must not get Spot), lowest weight', () => {
      const p = pool(POOLS.general);
      assert.deepEqual(requirementsOf(p), { 'karpenter.sh/capacity-type In': ['on-demand'], ...SHARED_REQUIREMENTS });
      assert.equal(p.spec.template.spec.taints, undefined);
      assert.deepEqual(p.spec.template.metadata?.labels, { 'spark-platform.io/pool': 'general' });
      assert.equal(p.spec.weight, undefined);
      assert.deepEqual(p.spec.disruption, { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] });
      assert.deepEqual(p.spec.limits, { cpu: '100', memory: '400Gi' });
      assert.equal(p.spec.template.spec.terminationGracePeriod, '1h');
    });

    it('gives every pool CPU and memory limits, expireAfter, terminationGracePeriod and a budget', () => {
      for (const name of Object.values(POOLS)) {
        const p = pool(name);
        assert.deepEqual(Object.keys(p.spec.limits!).sort(), ['cpu', 'memory'], name);
        assert.ok(p.spec.template.spec.expireAfter && p.spec.template.spec.terminationGracePeriod, name);
        assert.ok(p.spec.disruption!.budgets!.length >= 1, name);
      }
    });
  });

  it('creates the Spark PriorityClasses: drivers high and preempting, executors low and never preempting', () => {
    const driver = new PriorityClass(get(`PriorityClass/${PRIORITY_CLASSES.sparkDriver}`) as unknown as IPriorityClass);
    const executor = new PriorityClass(get(`PriorityClass/${PRIORITY_CLASSES.sparkExecutor}`) as unknown as IPriorityClass);
    driver.validate();
    executor.validate();
    assert.deepEqual([driver.value, driver.preemptionPolicy, driver.globalDefault], [1_000_000, 'PreemptLowerPriority', false]);
    assert.deepEqual([executor.value, executor.preemptionPolicy, executor.globalDefault], [-10, 'Never', false]);
    assert.throws(() => sparkPriorityClasses({ driver: 5, executor: 10 }), /expected driver \(5\) > executor \(10\)/);
  });

  it('creates the default StorageClass: encrypted gp3 through the EBS CSI driver, WaitForFirstConsumer', () => {
    const sc = new StorageClass(get('StorageClass/gp3') as unknown as IStorageClass);
    sc.validate();
    assert.equal(sc.metadata!.annotations!['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal(sc.provisioner, 'ebs.csi.aws.com');
    assert.deepEqual(sc.parameters, { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' });
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc.allowVolumeExpansion, true);
  });
});

describe('capacity stack (prod): larger limits and a disruption freeze on executor nodes', () => {
  const prod = manifests(synthStack('capacity', testEnvironment({}, 'prod')));
  const prodPool = (name: string) => new NodePool(prod.get(`NodePool/${name}`)!.manifest as unknown as INodePool);

  it('blocks consolidation and drift replacement of executor nodes during the window, and only there', () => {
    for (const name of [POOLS.sparkExecutor, POOLS.sparkExecutorOnDemand]) {
      const p = prodPool(name);
      p.validate();
      assert.deepEqual(p.spec.disruption!.budgets, [
        { nodes: '10%' },
        { nodes: '0', schedule: '0 13 * * 1-5', duration: '10h', reasons: ['Underutilized', 'Drifted'] },
      ], name);
    }
    for (const name of [POOLS.sparkDriver, POOLS.general]) assert.deepEqual(prodPool(name).spec.disruption!.budgets, [{ nodes: '10%' }], name);
  });

  it('takes the limits from the environment and keeps the other defaults', () => {
    assert.deepEqual(prodPool(POOLS.sparkExecutor).spec.limits, { cpu: '4000', memory: '16000Gi' });
    assert.deepEqual(prodPool(POOLS.sparkDriver).spec.limits, { cpu: '400', memory: '1600Gi' });
    assert.deepEqual(prodPool(POOLS.general).spec.limits, { cpu: '100', memory: '400Gi' });
    assert.equal(prodPool(POOLS.sparkDriver).spec.template.spec.expireAfter, '720h');
  });
});

describe('NodePool variants (unit)', () => {
  const names = (pools: NodePool[]) => pools.map((p) => p.metadata!.name);
  const capacity = (p: NodePool) => p.spec.template.spec.requirements.find((r) => r.key === 'karpenter.sh/capacity-type')!.values;

  it('without Spot: no spark-executor pool, and on-demand only everywhere', () => {
    const pools = sparkNodePools({ spotEnabled: false });
    assert.deepEqual(names(pools), [POOLS.sparkDriver, POOLS.sparkExecutorOnDemand, POOLS.general]);
    for (const p of pools) {
      p.validate();
      assert.deepEqual(capacity(p), ['on-demand'], p.metadata!.name);
    }
    const synthesized = manifests(synthStack('capacity', testEnvironment({ compute: { spotEnabled: false } })));
    assert.equal(synthesized.has('NodePool/spark-executor'), false);
  });

  it('with instance families: exactly those families, no category/generation, no minValues beyond the list', () => {
    const [driver, executor] = sparkNodePools({ instanceFamilies: ['m7gd', 'c6id'] });
    for (const p of [driver!, executor!]) {
      p.validate();
      const keys = p.spec.template.spec.requirements.map((r) => r.key);
      assert.ok(!keys.includes('karpenter.k8s.aws/instance-category') && !keys.includes('karpenter.k8s.aws/instance-generation'));
      assert.deepEqual(p.spec.template.spec.requirements.find((r) => r.key === 'karpenter.k8s.aws/instance-family'), {
        key: 'karpenter.k8s.aws/instance-family',
        operator: 'In',
        values: ['m7gd', 'c6id'],
      });
    }
  });

  it('rejects values the Karpenter CRD would reject at apply time', () => {
    const base = () => sparkNodePools()[0]!;
    const cases: [string, (p: NodePool) => void, RegExp][] = [
      ['expireAfter in days', (p) => (p.spec.template.spec.expireAfter = '30d'), /spark-driver: spec.template.spec.expireAfter: expected a duration such as 720h, or Never, found "30d"/],
      ['consolidateAfter empty', (p) => (p.spec.disruption!.consolidateAfter = ''), /spec.disruption.consolidateAfter: expected a duration/],
      ['schedule without duration', (p) => p.spec.disruption!.budgets!.push({ nodes: '0', schedule: '0 8 * * *' }), /budgets\[1\]: expected schedule and duration together/],
      ['bad cron', (p) => p.spec.disruption!.budgets!.push({ nodes: '0', schedule: '0 25 * * *', duration: '1h' }), /budgets\[1\].schedule: expected a five-field cron schedule/],
      ['budget nodes above 100%', (p) => (p.spec.disruption!.budgets![0]!.nodes = '150%'), /budgets\[0\].nodes: expected a node count or a percentage/],
      ['Gt with a non-integer', (p) => p.spec.template.spec.requirements.push({ key: 'karpenter.k8s.aws/instance-cpu', operator: 'Gt', values: ['four'] }), /expected a single non-negative integer value for operator 'Gt'/],
      ['minValues above the values', (p) => p.spec.template.spec.requirements.push({ key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['m7gd'], minValues: 3 }), /expected at least minValues \(3\) values, found 1/],
      ['restricted key', (p) => p.spec.template.spec.requirements.push({ key: 'karpenter.sh/nodepool', operator: 'Exists' }), /restricted karpenter.sh\/nodepool/],
      ['negative limit', (p) => (p.spec.limits!.cpu = '-5'), /spec.limits.cpu: expected a non-negative quantity, found "-5"/],
    ];
    for (const [what, mutate, message] of cases) {
      const p = base();
      mutate(p);
      assert.throws(() => assertNodePoolRules(p), (e: unknown) => e instanceof InvalidNodePoolError && message.test(e.message), what);
    }
  });

  it('refuses a freeze window the CRD would reject, when built directly', () => {
    assert.throws(() => sparkNodePools({ executorDisruptionFreeze: { schedule: 'weekdays', duration: '10h' } }), /spark-executor: spec.disruption.budgets\[1\].schedule/);
  });
});

describe('cron schedules of disruption budgets', () => {
  it('accepts five-field cron with ranges, lists, steps and names, and the @ macros', () => {
    for (const ok of ['0 8 * * 1-5', '*/15 0-6,22,23 * * *', '30 13 1 jan-mar MON-fri', '0 0 ? * sun', '@daily', '@hourly', '45 0,1,2,4 * * *']) assert.ok(isCronSchedule(ok), ok);
  });
  it('rejects wrong field counts, out-of-range values, bad steps and unknown macros', () => {
    for (const bad of ['', '0 8 * *', '0 8 * * * *', '60 8 * * *', '0 24 * * *', '0 0 0 * *', '0 0 * 13 *', '0 0 * * 7', '*/0 * * * *', '5-1 * * * *', '@every 1h', ' 0 8 * * *', '0 8 * * mon-']) {
      assert.equal(isCronSchedule(bad), false, JSON.stringify(bad));
    }
  });
});
