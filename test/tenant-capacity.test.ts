/**
 * Tenants and the environment's capacity model agree: Spot-off environments and tenants that
 * default to Spot executors, and tenant dedicated NodePools that inherit the environment's compute
 * settings (checked on the prod environment, which has an executor freeze window).
 */
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadTenantsWithJobs } from '../stacks/lib/job-templates.js';
import { resourcesOf, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

interface NodePoolDoc {
  kind: string;
  metadata: { name: string };
  spec: {
    limits: Record<string, string>;
    disruption: { consolidateAfter: string; budgets: Record<string, unknown>[] };
    template: { spec: { requirements: { key: string; operator: string; values?: string[]; minValues?: number }[]; terminationGracePeriod: string; expireAfter: string } };
  };
}

const ACCOUNT = '111122223333';
const owner = (name: string) => [`arn:aws:iam::${ACCOUNT}:role/${name}`];
const quota = { cpu: '100', memory: '400Gi' };

function nodePools(tf: TerraformJson): Record<string, NodePoolDoc> {
  const pools: Record<string, NodePoolDoc> = {};
  for (const m of Object.values(resourcesOf(tf, 'kubernetes_manifest'))) {
    const manifest = m.manifest as NodePoolDoc;
    if (manifest.kind === 'NodePool') pools[manifest.metadata.name] = manifest;
  }
  return pools;
}

const requirement = (pool: NodePoolDoc, key: string, operator?: string) =>
  pool.spec.template.spec.requirements.find((r) => r.key === key && (operator === undefined || r.operator === operator));

describe('environments without Spot', () => {
  const spotOff = testEnvironment({ compute: { spotEnabled: false } });

  it('run the executors of tenants that leave executorCapacity unset on-demand (the effective default)', () => {
    const root = temporaryRoot({ tenants: { plain: { name: 'plain', owners: owner('plain'), quota } } });
    const [tenant] = loadTenantsWithJobs(root, spotOff);
    assert.equal(tenant!.spark.executorCapacity, 'on-demand');
    assert.equal(loadTenantsWithJobs(root, testEnvironment())[0]!.spark.executorCapacity, 'spot', 'Spot environments keep the Spot default');
    const executor = synthStack('tenant-plain', spotOff, root);
    const template = Object.values(resourcesOf(executor, 'aws_s3_object')).find((o) => String(o.key).endsWith('executor.yaml'))!;
    assert.match(template.content as string, /karpenter\.sh\/capacity-type: on-demand/);
  });

  it('reject tenants that ask for Spot explicitly, naming the tenant file and the environment file', () => {
    const root = temporaryRoot({
      tenants: {
        spotty: { name: 'spotty', owners: owner('spotty'), quota, spark: { executorCapacity: 'spot', driverCapacity: 'spot' } },
        flexible: { name: 'flexible', owners: owner('flexible'), quota, spark: { executorCapacity: 'any' } },
      },
    });
    assert.throws(() => loadTenantsWithJobs(root, spotOff), (error: ConfigError) => {
      const lines = error.message.split('\n');
      assert.deepEqual(lines, [
        'tenants/spotty/tenant.yaml: spark.executorCapacity: expected on-demand, because environments/dev.yaml sets compute.spotEnabled: false (no Spot capacity in environment dev); or any, found "spot"',
        'tenants/spotty/tenant.yaml: spark.driverCapacity: expected on-demand, because environments/dev.yaml sets compute.spotEnabled: false (no Spot capacity in environment dev), found "spot"',
      ]);
      return true;
    });
  });

  it('give dedicated NodePools no Spot either (executorCapacity any lands on-demand)', () => {
    const root = temporaryRoot({ tenants: { flexible: { name: 'flexible', owners: owner('flexible'), quota, spark: { executorCapacity: 'any', dedicatedNodes: true } } } });
    const pools = nodePools(synthStack('tenant-flexible', spotOff, root));
    assert.deepEqual(requirement(pools['tenant-flexible-executor']!, 'karpenter.sh/capacity-type')!.values, ['on-demand']);
    assert.equal(requirement(pools['tenant-flexible-executor']!, 'karpenter.k8s.aws/instance-family'), undefined, 'no Spot, no Spot diversification');
    const withSpot = nodePools(synthStack('tenant-flexible', testEnvironment(), root));
    assert.deepEqual(requirement(withSpot['tenant-flexible-executor']!, 'karpenter.sh/capacity-type')!.values, ['spot', 'on-demand']);
    assert.deepEqual(requirement(withSpot['tenant-flexible-executor']!, 'karpenter.k8s.aws/instance-family'), { key: 'karpenter.k8s.aws/instance-family', operator: 'Exists', minValues: 5 });
  });
});

describe('tenant dedicated NodePools inherit the environment compute settings (prod)', () => {
  const prod = testEnvironment({}, 'prod');
  const root = temporaryRoot({
    tenants: { quants: { name: 'quants', owners: [`arn:aws:iam::444455556666:role/quants`], quota, spark: { dedicatedNodes: true, zone: 'us-west-2a' } } },
  });
  const pools = nodePools(synthStack('tenant-quants', prod, root));
  const capacity = nodePools(synthStack('capacity', prod, root));
  const driver = pools['tenant-quants-driver']!;
  const executor = pools['tenant-quants-executor']!;

  it('carry the executor freeze window and the disruption budget of the environment', () => {
    assert.deepEqual(executor.spec.disruption.budgets, [
      { nodes: '10%' },
      { nodes: '0', schedule: '0 13 * * 1-5', duration: '10h', reasons: ['Underutilized', 'Drifted'] },
    ]);
    assert.deepEqual(executor.spec.disruption.budgets, capacity['spark-executor']!.spec.disruption.budgets, 'the same budgets as the platform executor pool');
    assert.deepEqual(driver.spec.disruption.budgets, [{ nodes: '10%' }], 'drivers are do-not-disrupt: no freeze needed');
  });

  it('carry the termination grace period, lifetime and consolidation delay of the matching platform pool', () => {
    for (const [mine, platform] of [
      [driver, capacity['spark-driver']!],
      [executor, capacity['spark-executor']!],
    ] as const) {
      assert.equal(mine.spec.template.spec.terminationGracePeriod, platform.spec.template.spec.terminationGracePeriod);
      assert.equal(mine.spec.template.spec.expireAfter, platform.spec.template.spec.expireAfter);
      assert.equal(mine.spec.disruption.consolidateAfter, platform.spec.disruption.consolidateAfter);
    }
    assert.equal(driver.spec.template.spec.terminationGracePeriod, '24h');
    assert.equal(executor.spec.template.spec.terminationGracePeriod, '2h');
  });

  it('carry the instance size bounds, instance choice and Spot diversification', () => {
    for (const key of ['karpenter.k8s.aws/instance-category', 'karpenter.k8s.aws/instance-generation', 'karpenter.k8s.aws/instance-hypervisor']) {
      assert.deepEqual(requirement(executor, key), requirement(capacity['spark-executor']!, key), key);
    }
    for (const operator of ['Gt', 'Lt']) {
      assert.deepEqual(requirement(executor, 'karpenter.k8s.aws/instance-cpu', operator), requirement(capacity['spark-executor']!, 'karpenter.k8s.aws/instance-cpu', operator));
      assert.deepEqual(requirement(driver, 'karpenter.k8s.aws/instance-cpu', operator), requirement(capacity['spark-driver']!, 'karpenter.k8s.aws/instance-cpu', operator));
    }
    assert.deepEqual(requirement(executor, 'karpenter.k8s.aws/instance-family'), requirement(capacity['spark-executor']!, 'karpenter.k8s.aws/instance-family'));
    // What stays the tenant's own: its taint, zone and limits.
    assert.deepEqual(requirement(executor, 'topology.kubernetes.io/zone')!.values, ['us-west-2a']);
    assert.deepEqual(executor.spec.limits, { cpu: '100', memory: '400Gi' });
  });
});
