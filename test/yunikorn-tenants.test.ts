/**
 * Tenant stacks under YuniKorn: pod templates and the published configurationOverrides route Spark
 * to YuniKorn with the tenant's queue and never an application id; gang scheduling task groups
 * carry the placement of the real pods; the ResourceQuota sits above the queue max so jobs wait in
 * the queue rather than fail; with the default scheduler the tenant output is exactly what YuniKorn
 * leaves untouched; and the tenant fields are validated with errors naming file and field.
 */
import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { Pod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { placeholderAffinity, sparkTaskGroups } from '../modules/yunikorn/spark.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadTenants } from '../stacks/lib/tenant-config.js';
import { buildStartJobRunRequest } from '../scripts/job/request.js';
import { loadTenantsWithJobs } from '../stacks/lib/job-templates.js';
import { tenantJobSettings } from '../stacks/tenant/job-settings.js';
import { renderJobTemplate } from '../stacks/tenant/job-templates.js';
import { FIXTURE_REPO, resourceLike, resourcesOf, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

const ACCOUNT = '111122223333';
const yunikornEnv = testEnvironment();
const defaultEnv = testEnvironment({ scheduling: { batchScheduler: 'default' } });
const stacks = {
  analytics: { yunikorn: synthStack('tenant-analytics', yunikornEnv), plain: synthStack('tenant-analytics', defaultEnv) },
  risk: { yunikorn: synthStack('tenant-risk-models', yunikornEnv), plain: synthStack('tenant-risk-models', defaultEnv) },
};

type PodJson = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, any> };
const template = (tf: TerraformJson, role: 'driver' | 'executor') => parse(resourceLike(tf, 'aws_s3_object', `${role}-pod-template`).content as string) as PodJson;
const sparkDefaults = (tf: TerraformJson) =>
  (JSON.parse(tf.output!.configurationOverrides!.value as string) as { applicationConfiguration: { properties: Record<string, string> }[] }).applicationConfiguration[0]!.properties;
const manifestsOf = (tf: TerraformJson, kind: string) => Object.values(resourcesOf(tf, 'kubernetes_manifest')).map((r) => r.manifest as { kind: string; metadata: { name: string }; spec: any }).filter((m) => m.kind === kind);

/** Every label and annotation key, and the Spark property names, that could carry an application id. */
const APP_ID_KEYS = /yunikorn\.apache\.org\/app-id|applicationId|spark-app-selector"?:/;

interface TaskGroupJson {
  name: string;
  minMember: number;
  minResource: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: Record<string, any>;
}
/** The fields of YuniKorn's TaskGroup (apache/yunikorn-k8shim pkg/cache/amprotocol.go, v1.8.0 and v1.9.0). */
const TASK_GROUP_FIELDS = ['name', 'minMember', 'labels', 'annotations', 'minResource', 'nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints'];

describe('pod templates and overrides route Spark to YuniKorn', () => {
  for (const [name, tf] of [['analytics', stacks.analytics.yunikorn], ['risk-models', stacks.risk.yunikorn]] as const) {
    it(`${name}: scheduler yunikorn and the tenant queue on driver and executors, no application id`, () => {
      for (const role of ['driver', 'executor'] as const) {
        const pod = template(tf, role);
        assert.equal(pod.spec.schedulerName, 'yunikorn', role);
        assert.equal(pod.metadata!.labels!['yunikorn.apache.org/queue'], `root.tenants.${name}`, role);
        assert.doesNotMatch(resourceLike(tf, 'aws_s3_object', `${role}-pod-template`).content as string, APP_ID_KEYS);
      }
      assert.equal(template(tf, 'driver').metadata!.annotations!['yunikorn.apache.org/allow-preemption'], 'false', 'drivers are not preempted');
      assert.equal(template(tf, 'executor').metadata!.annotations?.['yunikorn.apache.org/allow-preemption'], undefined, 'executors are what preemption takes back');
      const props = sparkDefaults(tf);
      assert.equal(props['spark.kubernetes.scheduler.name'], 'yunikorn');
      assert.equal(props['spark.kubernetes.driver.label.yunikorn.apache.org/queue'], `root.tenants.${name}`);
      assert.equal(props['spark.kubernetes.executor.label.yunikorn.apache.org/queue'], `root.tenants.${name}`);
      assert.doesNotMatch(JSON.stringify(props), APP_ID_KEYS);
    });
  }

  it('analytics (no gang scheduling) has no task groups', () => {
    const driver = template(stacks.analytics.yunikorn, 'driver');
    assert.equal(driver.metadata!.annotations!['yunikorn.apache.org/task-groups'], undefined);
    assert.equal(template(stacks.analytics.yunikorn, 'executor').metadata!.annotations, undefined);
  });
});

function taskGroups(tf: TerraformJson): TaskGroupJson[] {
  const groups = JSON.parse(template(tf, 'driver').metadata!.annotations!['yunikorn.apache.org/task-groups']!) as TaskGroupJson[];
  for (const group of groups) {
    expect(Object.keys(group).filter((k) => !TASK_GROUP_FIELDS.includes(k))).toEqual([]);
    assert.ok(group.minMember > 0 && Object.keys(group.minResource).length > 0, 'YuniKorn rejects groups without minMember or minResource');
    // The placeholder YuniKorn builds from the group is a valid Pod.
    new Pod({
      metadata: { name: `tg-${group.name}`, labels: group.labels, annotations: group.annotations },
      spec: {
        schedulerName: 'yunikorn',
        containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.7', resources: { requests: group.minResource, limits: group.minResource } }],
        ...(group.nodeSelector ? { nodeSelector: group.nodeSelector } : {}),
        ...(group.tolerations ? { tolerations: group.tolerations as never } : {}),
        ...(group.affinity ? { affinity: group.affinity } : {}),
      },
    }).validate();
  }
  return groups;
}

describe('gang scheduling (spark.gangScheduling)', () => {
  it('risk-models: the driver declares a driver and an executor group with the real pods placement, the correct timeout key', () => {
    const tf = stacks.risk.yunikorn;
    const driver = template(tf, 'driver');
    const executor = template(tf, 'executor');
    const [driverGroup, executorGroup, ...more] = taskGroups(tf);
    assert.equal(more.length, 0);
    expect(driverGroup).toEqual({
      name: 'spark-driver',
      minMember: 1,
      minResource: { cpu: '2', memory: '9Gi' },
      labels: { 'spark-platform.io/gang-member': 'driver' },
      annotations: { 'karpenter.sh/do-not-disrupt': 'true' },
      nodeSelector: driver.spec.nodeSelector,
      tolerations: driver.spec.tolerations,
    });
    expect(executorGroup).toEqual({
      name: 'spark-executor',
      minMember: 8,
      minResource: { cpu: '4', memory: '18Gi' },
      labels: { 'spark-platform.io/gang-member': 'executor' },
      annotations: { 'karpenter.sh/do-not-disrupt': 'true' },
      nodeSelector: executor.spec.nodeSelector,
      tolerations: executor.spec.tolerations,
    });
    // Dedicated nodes, one zone: the placeholders ask Karpenter for exactly the tenant's pools.
    assert.equal(executorGroup!.nodeSelector!['spark-platform.io/tenant'], 'risk-models');
    assert.equal(executorGroup!.nodeSelector!['topology.kubernetes.io/zone'], 'us-west-2b');
    const annotations = driver.metadata!.annotations!;
    assert.equal(annotations['yunikorn.apache.org/task-group-name'], 'spark-driver');
    assert.equal(annotations['yunikorn.apache.org/schedulingPolicyParameters'], 'placeholderTimeoutInSeconds=600 gangSchedulingStyle=Soft');
    assert.doesNotMatch(annotations['yunikorn.apache.org/schedulingPolicyParameters']!, /placeholderTimeoutSeconds=/);
    assert.deepEqual(executor.metadata!.annotations, { 'yunikorn.apache.org/task-group-name': 'spark-executor' });
  });

  it('a tenant added as a folder, zone unset and any architecture: same node selector, tolerations and node affinity; the driver-zone affinity stated for placeholders', () => {
    const root = temporaryRoot({
      keepFixtureTenants: true,
      tenants: {
        genomics: {
          name: 'genomics',
          owners: [`arn:aws:iam::${ACCOUNT}:role/genomics`],
          quota: { cpu: '100', memory: '400Gi' },
          spark: { architecture: 'any', gangScheduling: { minExecutors: 10, driver: { cpu: '1', memory: '4Gi' }, executor: { cpu: 4, memory: '16Gi' } } },
        },
      },
    });
    const tf = synthStack('tenant-genomics', yunikornEnv, root);
    const [driverGroup, executorGroup] = taskGroups(tf);
    const driver = template(tf, 'driver');
    const executor = template(tf, 'executor');
    for (const pod of [driver, executor]) {
      assert.equal(pod.spec.schedulerName, 'yunikorn');
      assert.equal(pod.metadata!.labels!['yunikorn.apache.org/queue'], 'root.tenants.genomics');
    }
    assert.equal(sparkDefaults(tf)['spark.kubernetes.executor.label.yunikorn.apache.org/queue'], 'root.tenants.genomics');
    for (const [group, pod] of [[driverGroup!, driver], [executorGroup!, executor]] as const) {
      assert.deepEqual(group.nodeSelector, pod.spec.nodeSelector);
      assert.deepEqual(group.tolerations, pod.spec.tolerations);
      assert.deepEqual(group.affinity!.nodeAffinity, pod.spec.affinity.nodeAffinity, 'Graviton first, as the real pods');
    }
    assert.equal(driverGroup!.affinity!.podAffinity, undefined);
    // Real executors: same zone as the pod labelled spark-role=driver with their spark-app-selector.
    const real = executor.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    assert.deepEqual(real, [{ labelSelector: { matchLabels: { 'spark-role': 'driver' } }, matchLabelKeys: ['spark-app-selector'], topologyKey: 'topology.kubernetes.io/zone' }]);
    // Placeholders carry neither label: the same term selects the driver placeholder of the same application.
    assert.deepEqual(executorGroup!.affinity!.podAffinity.requiredDuringSchedulingIgnoredDuringExecution, [
      { labelSelector: { matchLabels: { 'spark-platform.io/gang-member': 'driver' } }, matchLabelKeys: ['yunikorn.apache.org/app-id'], topologyKey: 'topology.kubernetes.io/zone' },
    ]);
    assert.equal(driverGroup!.labels['spark-platform.io/gang-member'], 'driver', 'the driver placeholder carries the label the executor placeholders select');
    assert.equal(template(tf, 'driver').metadata!.annotations!['yunikorn.apache.org/schedulingPolicyParameters'], 'placeholderTimeoutInSeconds=600 gangSchedulingStyle=Soft');
  });
});

describe('ResourceQuota and queue quotas together', () => {
  const compute = (tf: TerraformJson) => manifestsOf(tf, 'ResourceQuota').find((q) => q.metadata.name === 'compute')!.spec.hard;

  it('sets the namespace ResourceQuota at resourceQuotaRatio x the queue max, so pods over the max wait in the queue', () => {
    // analytics: max = quota 400 / 1600Gi; risk-models: queue.max 300 / 1200Gi.
    assert.deepEqual(compute(stacks.analytics.yunikorn), { 'requests.cpu': '800', 'requests.memory': '3200Gi', pods: '2000' });
    assert.deepEqual(compute(stacks.risk.yunikorn), { 'requests.cpu': '600', 'requests.memory': '2400Gi' });
    const three = synthStack('tenant-risk-models', testEnvironment({ scheduling: { batchScheduler: 'yunikorn', yunikorn: { resourceQuotaRatio: 3, allowUnsupportedKubernetesVersion: true } } }));
    assert.deepEqual(compute(three), { 'requests.cpu': '900', 'requests.memory': '3600Gi' });
  });

  it('makes room for gang placeholders in the spark-drivers quota (they inherit the driver class), and bounds running jobs in the queue instead', () => {
    const drivers = (tf: TerraformJson) => manifestsOf(tf, 'ResourceQuota').find((q) => q.metadata.name === 'spark-drivers')!.spec.hard;
    // risk-models: 10 jobs, each a driver, a driver placeholder and 8 executor placeholders.
    assert.deepEqual(drivers(stacks.risk.yunikorn), { pods: '100' });
    assert.deepEqual(drivers(stacks.risk.plain), { pods: '10' });
    // analytics has no gang scheduling: one driver per job, with or without YuniKorn.
    assert.deepEqual(drivers(stacks.analytics.yunikorn), { pods: '20' });
    // Running jobs stay bounded by the queue's maxapplications (yunikorn-queues.test.ts).
  });

  it('sizes dedicated NodePools to the queue max: the most the tenant may run', () => {
    for (const pool of manifestsOf(stacks.risk.yunikorn, 'NodePool')) assert.deepEqual(pool.spec.limits, { cpu: '300', memory: '1200Gi' });
  });
});

describe('with the default scheduler', () => {
  /** The YuniKorn stack output with every YuniKorn addition removed and every YuniKorn change set back. */
  function withoutYunikorn(yunikorn: TerraformJson, plain: TerraformJson): TerraformJson {
    const copy = structuredClone(yunikorn);
    for (const role of ['driver', 'executor'] as const) {
      const object = resourceLike(copy, 'aws_s3_object', `${role}-pod-template`);
      const pod = template(copy, role);
      delete pod.spec.schedulerName;
      delete pod.metadata!.labels!['yunikorn.apache.org/queue'];
      for (const key of Object.keys(pod.metadata!.annotations ?? {})) if (key.startsWith('yunikorn.apache.org/')) delete pod.metadata!.annotations![key];
      for (const field of ['labels', 'annotations'] as const) if (Object.keys(pod.metadata![field] ?? {}).length === 0) delete pod.metadata![field];
      if (Object.keys(pod.metadata!).length === 0) delete pod.metadata;
      assert.deepEqual(pod, template(plain, role), `${role}: only YuniKorn keys were added`);
      object.content = resourceLike(plain, 'aws_s3_object', `${role}-pod-template`).content;
    }
    const overrides = JSON.parse(copy.output!.configurationOverrides!.value as string) as { applicationConfiguration: { properties: Record<string, string> }[] };
    for (const key of Object.keys(overrides.applicationConfiguration[0]!.properties)) {
      if (key === 'spark.kubernetes.scheduler.name' || key.includes('yunikorn.apache.org/')) delete overrides.applicationConfiguration[0]!.properties[key];
    }
    copy.output!.configurationOverrides!.value = JSON.stringify(overrides);
    // Job templates carry the same spark-defaults (the job-defaults builder).
    for (const template of Object.values(resourcesOf(copy, 'aws_emrcontainers_job_template'))) {
      const data = template.job_template_data as { configuration_overrides: { application_configuration: { classification: string; properties: Record<string, string> }[] } };
      for (const classification of data.configuration_overrides.application_configuration) {
        for (const key of Object.keys(classification.properties)) {
          if (key === 'spark.kubernetes.scheduler.name' || key.includes('yunikorn.apache.org/')) delete classification.properties[key];
        }
      }
    }
    for (const [id, resource] of Object.entries(resourcesOf(copy, 'kubernetes_manifest'))) {
      const manifest = resource.manifest as { kind: string; metadata: { name: string } };
      // The values YuniKorn changes: the ResourceQuota (above the queue max), the driver-class quota
      // (room for gang placeholders) and dedicated pool limits (the queue max).
      const changed = manifest.kind === 'ResourceQuota' ? ['compute', 'spark-drivers'].includes(manifest.metadata.name) : manifest.kind === 'NodePool';
      if (changed) resource.manifest = resourcesOf(plain, 'kubernetes_manifest')[id]!.manifest;
    }
    return copy;
  }

  for (const name of ['analytics', 'risk'] as const) {
    it(`${name}: the tenant output equals the YuniKorn one minus what YuniKorn adds (scheduler, queue, gang, quota headroom)`, () => {
      const { yunikorn, plain } = stacks[name];
      expect(withoutYunikorn(yunikorn, plain)).toEqual(plain);
      assert.doesNotMatch(JSON.stringify(plain), /yunikorn/i);
    });
  }

  it('keeps the quota as ResourceQuota and pool limits, and ignores queue and gang settings', () => {
    const compute = manifestsOf(stacks.risk.plain, 'ResourceQuota').find((q) => q.metadata.name === 'compute')!.spec.hard;
    assert.deepEqual(compute, { 'requests.cpu': '200', 'requests.memory': '800Gi' });
    for (const pool of manifestsOf(stacks.risk.plain, 'NodePool')) assert.deepEqual(pool.spec.limits, { cpu: '200', memory: '800Gi' });
  });

  it('(control) the comparison notices a change YuniKorn does not explain', () => {
    const tampered = structuredClone(stacks.analytics.yunikorn);
    resourceLike(tampered, 'aws_cloudwatch_log_group', 'job-logs').retention_in_days = 1;
    expect(withoutYunikorn(tampered, stacks.analytics.plain)).not.toEqual(stacks.analytics.plain);
  });
});

describe('tenant file: queue and gang scheduling fields', () => {
  const owner = (name: string) => [`arn:aws:iam::${ACCOUNT}:role/${name}`];
  const problems = (tenant: Record<string, unknown>, env = yunikornEnv) => {
    const root = temporaryRoot({ tenants: { teamx: { name: 'teamx', owners: owner('teamx'), quota: { cpu: '100', memory: '400Gi' }, ...tenant } } });
    try {
      loadTenants(root, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.message.split('\n');
      throw error;
    }
    return [];
  };
  const gang = { minExecutors: 4, driver: { cpu: '1', memory: '4Gi' }, executor: { cpu: '4', memory: '16Gi' } };

  it('accepts a queue above the quota and a gang that fits it', () => {
    assert.deepEqual(problems({ queue: { max: { cpu: '150', memory: '600Gi' }, maxRunningJobs: 5 }, spark: { gangScheduling: gang } }), []);
  });

  it('names the file, the field, what was expected and what was found', () => {
    expect(problems({ queue: { max: { cpu: '50', memory: '1Ti' } } })).toEqual([
      'tenants/teamx/tenant.yaml: queue.max.cpu: expected at least quota.cpu (100): the quota is the guaranteed part of the max, found "50"',
    ]);
    expect(problems({ queue: { ordering: 'fair' }, spark: { gangScheduling: gang } })).toEqual([
      'tenants/teamx/tenant.yaml: queue.ordering: expected fifo (YuniKorn gang scheduling, spark.gangScheduling, needs a FIFO queue), found "fair"',
    ]);
    expect(problems({ spark: { gangScheduling: { ...gang, minExecutors: 30 } } })).toEqual([
      'tenants/teamx/tenant.yaml: spark.gangScheduling.minExecutors: expected a gang (driver + minExecutors x executor) that fits the queue max (100 CPU, 400Gi): YuniKorn rejects jobs whose placeholders exceed it (cpu and memory would), found number 30',
    ]);
    const ratioOne = testEnvironment({ scheduling: { batchScheduler: 'yunikorn', yunikorn: { resourceQuotaRatio: 1, allowUnsupportedKubernetesVersion: true } } });
    expect(problems({ spark: { gangScheduling: gang } }, ratioOne)).toEqual([
      'tenants/teamx/tenant.yaml: spark.gangScheduling: expected scheduling.yunikorn.resourceQuotaRatio of at least 2 in environments/dev.yaml (placeholders and the pods replacing them both count against the namespace ResourceQuota for a moment), found resourceQuotaRatio 1',
    ]);
    expect(problems({ queue: { max: { cpu: '0', memory: '10' }, maxRunningJobs: 0, priority: 1 }, spark: { gangScheduling: { minExecutors: 2, driver: { cpu: '1', memory: '1Gi' } } } })).toEqual([
      'tenants/teamx/tenant.yaml: queue.max.cpu: expected a Kubernetes CPU quantity > 0, such as "400" or "500m", found "0"',
      'tenants/teamx/tenant.yaml: queue.max.memory: expected a Kubernetes memory quantity > 0 with a unit, such as 1600Gi or 512Mi, found "10"',
      'tenants/teamx/tenant.yaml: queue.maxRunningJobs: expected a number >= 1, found number 0',
      'tenants/teamx/tenant.yaml: queue.priority: expected no field named "priority" (unknown fields are rejected so typos surface; see the schema for the allowed fields), found number 1',
      'tenants/teamx/tenant.yaml: spark.gangScheduling.executor: expected a mapping, found nothing (the field is missing)',
    ]);
  });

  it('keeps running jobs within the jobs a tenant may have, and a gang within the executors a job may have', () => {
    expect(problems({ quota: { cpu: '100', memory: '400Gi', maxConcurrentJobs: 4 }, queue: { maxRunningJobs: 5 } })).toEqual([
      'tenants/teamx/tenant.yaml: queue.maxRunningJobs: expected at most quota.maxConcurrentJobs (4): jobs beyond maxRunningJobs wait in the queue, jobs beyond maxConcurrentJobs are rejected, so a larger maxRunningJobs never applies, found number 5',
    ]);
    expect(problems({ jobDefaults: { executors: { min: 1, max: 3 } }, spark: { gangScheduling: gang } })).toEqual([
      'tenants/teamx/tenant.yaml: spark.gangScheduling.minExecutors: expected at most jobDefaults.executors.max (3): placeholders beyond the executors a job may have hold capacity until the timeout, found number 4',
    ]);
  });

  it('takes the queue per environment, checked against that environment\'s quota and named there', () => {
    const prodQuota = { quota: { cpu: '300' } };
    const tenant = (prod: Record<string, unknown>) => ({ queue: { max: { cpu: '150', memory: '600Gi' } }, environments: { dev: {}, prod } });
    const prodEnv = testEnvironment({}, 'prod');
    // prod's quota outgrows the queue max of the file: an error on the tenant's own field, in prod.
    expect(problems(tenant(prodQuota), prodEnv)).toEqual([
      'tenants/teamx/tenant.yaml: queue.max.cpu: expected at least quota.cpu (300): the quota is the guaranteed part of the max, found "150"',
    ]);
    // prod's own queue max fixes it; a bad override is named under environments.prod.
    assert.deepEqual(problems(tenant({ ...prodQuota, queue: { max: { cpu: '450', memory: '600Gi' } } }), prodEnv), []);
    expect(problems(tenant({ ...prodQuota, queue: { max: { cpu: '200', memory: '600Gi' } } }), prodEnv)).toEqual([
      'tenants/teamx/tenant.yaml: environments.prod.queue.max.cpu: expected at least quota.cpu (300): the quota is the guaranteed part of the max, found "200"',
    ]);
    const root = temporaryRoot({ tenants: { teamx: { name: 'teamx', owners: owner('teamx'), quota: { cpu: '100', memory: '400Gi' }, ...tenant({ ...prodQuota, queue: { max: { cpu: '450', memory: '600Gi' }, maxRunningJobs: 3 } }) } } });
    const inProd = loadTenants(root, prodEnv)[0]!;
    const inDev = loadTenants(root, yunikornEnv)[0]!;
    assert.deepEqual([inProd.queue, inDev.queue], [
      { max: { cpu: '450', memory: '600Gi' }, maxRunningJobs: 3, ordering: 'fifo' },
      { max: { cpu: '150', memory: '600Gi' }, ordering: 'fifo' },
    ]);
  });

  it('validates the fields the same way with the default scheduler (a tenant file stays valid in every environment)', () => {
    assert.equal(problems({ queue: { max: { cpu: '50', memory: '1Ti' } } }, defaultEnv).length, 1);
    const ratioOne = testEnvironment({ scheduling: { batchScheduler: 'default', yunikorn: { resourceQuotaRatio: 1, allowUnsupportedKubernetesVersion: true } } });
    assert.deepEqual(problems({ spark: { gangScheduling: gang } }, ratioOne), []);
  });
});

describe('placeholder affinity (module)', () => {
  it('maps every Spark label key of pod (anti-)affinity terms to the keys placeholders carry, leaving node affinity and other keys alone', () => {
    const nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In' as const, values: ['arm64'] }] }] } };
    const mapped = placeholderAffinity({
      nodeAffinity,
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 10,
            podAffinityTerm: {
              labelSelector: { matchExpressions: [{ key: 'spark-role', operator: 'In', values: ['executor'] }, { key: 'team', operator: 'Exists' }] },
              mismatchLabelKeys: ['spark-app-selector'],
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    });
    assert.deepEqual(mapped, {
      nodeAffinity,
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 10,
            podAffinityTerm: {
              labelSelector: { matchExpressions: [{ key: 'spark-platform.io/gang-member', operator: 'In', values: ['executor'] }, { key: 'team', operator: 'Exists' }] },
              mismatchLabelKeys: ['yunikorn.apache.org/app-id'],
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    });
  });

  it('refuses a gang YuniKorn would reject', () => {
    const pods = { driver: new Pod({ spec: { containers: [{ name: 'd' }] } }), executor: new Pod({ spec: { containers: [{ name: 'e' }] } }) };
    const gang = { minExecutors: 2, timeoutSeconds: 60, driver: { cpu: '1', memory: '1Gi' }, executor: { cpu: '1', memory: '1Gi' } };
    assert.equal(sparkTaskGroups(pods, gang).length, 2);
    assert.throws(() => sparkTaskGroups(pods, { ...gang, minExecutors: 0 }), /minExecutors must be a whole number >= 1/);
    assert.throws(() => sparkTaskGroups(pods, { ...gang, timeoutSeconds: 1.5 }), /timeoutSeconds/);
  });
});

describe('jobs route to YuniKorn whoever starts them (job-defaults builder)', () => {
  const sparkDefaultsOf = (overrides: { applicationConfiguration?: { classification?: string; properties?: Record<string, string> }[] } | undefined) =>
    overrides?.applicationConfiguration?.find((c) => c.classification === 'spark-defaults')?.properties ?? {};
  const routing = { 'spark.kubernetes.scheduler.name': 'yunikorn', 'spark.kubernetes.driver.label.yunikorn.apache.org/queue': 'root.tenants.risk-models', 'spark.kubernetes.executor.label.yunikorn.apache.org/queue': 'root.tenants.risk-models' };
  const risk = (env: typeof yunikornEnv) => loadTenantsWithJobs(FIXTURE_REPO, env).find((t) => t.name === 'risk-models')!;

  for (const [name, env, routed] of [['yunikorn', yunikornEnv, true], ['default', defaultEnv, false]] as const) {
    it(`${name} scheduler: npm run job requests and job templates ${routed ? 'carry' : 'do not carry'} the scheduler and queue, and the pod templates agree`, () => {
      const tenant = risk(env);
      const settings = tenantJobSettings(env, tenant);
      const request = buildStartJobRunRequest(
        { ...settings, virtualClusterId: 'vcriskmodels0000000000000' },
        { name: 'adhoc', driver: { type: 'spark-submit', entryPoint: `s3://${settings.bucket}/code/job.py`, arguments: [] }, conf: {}, clientToken: 'token-1' },
      );
      const template = renderJobTemplate(settings, tenant.jobTemplates[0]!);
      for (const conf of [sparkDefaultsOf(request.configurationOverrides), sparkDefaultsOf(template.configurationOverrides)]) {
        if (routed) expect(conf).toEqual(expect.objectContaining(routing));
        else for (const key of Object.keys(routing)) assert.equal(conf[key], undefined, key);
      }
      const { driver, executor } = settings.jobDefaults.podTemplates;
      assert.equal(driver.spec!.schedulerName, routed ? 'yunikorn' : undefined);
      assert.equal(executor.metadata?.labels?.['yunikorn.apache.org/queue'], routed ? 'root.tenants.risk-models' : undefined);
      assert.equal(driver.metadata?.annotations?.['yunikorn.apache.org/task-groups'] !== undefined, routed, 'gang task groups on the driver template');
    });
  }
});
