/**
 * The pure parts of tenancy: EMR's base36 service account encoding, pod template placement for
 * every option combination and EMR's pod template rules, names, tenant NodePools, and the
 * cluster-wide admission policies of the `tenancy` stack.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, matchesGlob } from 'node:path';
import { describe, it } from '@jest/globals';
import { Pod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { assertLiteralRoleName, base36, emrIrsaSubject, emrPodIdentityServiceAccounts } from '../modules/emr-on-eks/identity.js';
import { InvalidKubernetesObjectError } from '../modules/k8s/manifest.js';
import { ADMISSION_POLICY_NAMES, tenancyAdmissionObjects } from '../modules/tenant/admission-policies.js';
import { boundedName, jobExecutionRoleName, S3_BUCKET_NAME, tenantBucketName, tenantGroup, virtualClusterName } from '../modules/tenant/naming.js';
import { tenantNodePools } from '../modules/tenant/node-pools.js';
import {
  driverPodTemplate,
  emrPodTemplateViolations,
  executorPodTemplate,
  InvalidPodTemplateError,
  localStorageSparkConf,
  type PlacementOptions,
  podTemplateYaml,
  verticalAutoscalingSignatureConf,
} from '../modules/tenant/pod-templates.js';
import { tenantJobDefaults } from '../modules/tenant/job-defaults.js';
import { MANAGED_BY_LABEL, TENANT_KEY, TENANT_NAMESPACE_LABEL } from '../modules/scheduling/spark-pools.js';
import { SYSTEM_TAINT } from '../modules/scheduling/system-nodes.js';
import { resourcesOf, SOURCE_ROOT, synthStack } from './support/synth.js';

describe('EMR service account encoding', () => {
  it('encodes role names in base36 exactly like EMR (test vectors)', () => {
    assert.equal(base36('tf_emr_eks_job_role'), '1wu0n6f5pn56pyq0ztwvp2yhvpefs5');
    assert.equal(base36('JobExecutionRoleIRSAv2'), 'c7ohmynrs14q04uudoef8n97xdufwajzua');
  });

  it('builds the IRSA subject pattern and the Pod Identity service account names from the literal role name', () => {
    assert.equal(
      emrIrsaSubject('analytics', '111122223333', 'tf_emr_eks_job_role'),
      'system:serviceaccount:analytics:emr-containers-sa-*-*-111122223333-1wu0n6f5pn56pyq0ztwvp2yhvpefs5',
    );
    assert.deepEqual(emrPodIdentityServiceAccounts('111122223333', 'JobExecutionRoleIRSAv2'), [
      'emr-containers-sa-spark-client-111122223333-c7ohmynrs14q04uudoef8n97xdufwajzua',
      'emr-containers-sa-spark-driver-111122223333-c7ohmynrs14q04uudoef8n97xdufwajzua',
      'emr-containers-sa-spark-executor-111122223333-c7ohmynrs14q04uudoef8n97xdufwajzua',
    ]);
  });

  it('refuses a role name that is not a literal (a Terraform token or a prefix)', () => {
    assert.throws(() => assertLiteralRoleName('${TfToken[TOKEN.1]}'), /must be a literal IAM role name/);
    assert.throws(() => assertLiteralRoleName('x'.repeat(65)), /must be a literal IAM role name/);
    assert.doesNotThrow(() => assertLiteralRoleName('spark-dev-analytics-emr-job'));
  });
});

const BASE: PlacementOptions = {
  tenant: 'alpha',
  architecture: 'arm64',
  driverCapacity: 'on-demand',
  executorCapacity: 'spot',
  localStorage: 'nvme',
  dedicatedNodes: false,
  verticalAutoscaling: false,
};

function sparkDefaultsOf(placement: PlacementOptions): Record<string, string> {
  const defaults = tenantJobDefaults({
    placement,
    bucket: 'b',
    podTemplateUris: { driver: 's3://b/d', executor: 's3://b/e' },
    logGroupName: 'g',
    logStreamPrefix: 'jobs',
    logUri: 's3://b/logs/',
  });
  return { ...defaults.classifications['spark-defaults'] };
}

type PodDoc = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    priorityClassName: string;
    nodeSelector: Record<string, string>;
    terminationGracePeriodSeconds?: number;
    tolerations: { key: string; operator: string; value: string; effect: string }[];
    affinity?: { nodeAffinity?: unknown; podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution: Record<string, unknown>[] } };
    containers: { name: string }[];
  };
};

function render(options: PlacementOptions): { driver: PodDoc; executor: PodDoc } {
  return {
    driver: parse(podTemplateYaml(driverPodTemplate(options), 'driver')) as PodDoc,
    executor: parse(podTemplateYaml(executorPodTemplate(options), 'executor')) as PodDoc,
  };
}

const PREFER_ARM = {
  preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] } }],
};

describe('pod templates: placement per option', () => {
  it('architecture any: no arch selector, Graviton preferred for both roles', () => {
    const { driver, executor } = render({ ...BASE, architecture: 'any' });
    assert.equal(driver.spec.nodeSelector['kubernetes.io/arch'], undefined);
    assert.equal(executor.spec.nodeSelector['kubernetes.io/arch'], undefined);
    assert.deepEqual(driver.spec.affinity, { nodeAffinity: PREFER_ARM });
    assert.deepEqual(executor.spec.affinity!.nodeAffinity, PREFER_ARM);
    assert.ok(executor.spec.affinity!.podAffinity, 'executors still follow their driver zone');
  });

  it('architecture amd64: required by selector', () => {
    const { driver, executor } = render({ ...BASE, architecture: 'amd64' });
    assert.equal(driver.spec.nodeSelector['kubernetes.io/arch'], 'amd64');
    assert.equal(executor.spec.nodeSelector['kubernetes.io/arch'], 'amd64');
  });

  it('driverCapacity spot: drivers select Spot explicitly (the driver pool allows it only then)', () => {
    const { driver, executor } = render({ ...BASE, driverCapacity: 'spot' });
    assert.equal(driver.spec.nodeSelector['karpenter.sh/capacity-type'], 'spot');
    assert.equal(executor.spec.nodeSelector['karpenter.sh/capacity-type'], 'spot');
  });

  it('executorCapacity any: no capacity selector (Spot pool first by weight), decommissioning on', () => {
    const { executor, driver } = render({ ...BASE, executorCapacity: 'any' });
    assert.equal(executor.spec.nodeSelector['karpenter.sh/capacity-type'], undefined);
    assert.equal(driver.spec.nodeSelector['karpenter.sh/capacity-type'], 'on-demand');
    assert.equal(sparkDefaultsOf({ ...BASE, executorCapacity: 'any' })['spark.decommission.enabled'], 'true');
  });

  it('executorCapacity on-demand: on-demand executors that still decommission (consolidation, expiry and drift take on-demand nodes too)', () => {
    const { executor } = render({ ...BASE, executorCapacity: 'on-demand' });
    assert.equal(executor.spec.nodeSelector['karpenter.sh/capacity-type'], 'on-demand');
    const defaults = sparkDefaultsOf({ ...BASE, executorCapacity: 'on-demand' });
    for (const key of ['spark.decommission.enabled', 'spark.storage.decommission.enabled', 'spark.storage.decommission.shuffleBlocks.enabled', 'spark.storage.decommission.rddBlocks.enabled']) {
      assert.equal(defaults[key], 'true', key);
    }
    assert.equal(defaults['spark.storage.decommission.fallbackStorage.path'], 's3://b/spark-fallback/');
    // The platform PodMonitor scrapes these endpoints: without them /metrics/... answers 404.
    assert.equal(defaults['spark.ui.prometheus.enabled'], 'true');
    assert.equal(defaults['spark.metrics.conf.*.sink.prometheusServlet.path'], '/metrics/driver/prometheus/');
  });

  it('executors get a termination grace period long enough to decommission; drivers keep the default', () => {
    const { driver, executor } = render(BASE);
    assert.equal(executor.spec.terminationGracePeriodSeconds, 300);
    assert.equal(driver.spec.terminationGracePeriodSeconds, undefined);
    // Spark gives up on a migration before the kubelet's SIGKILL would.
    assert.equal(sparkDefaultsOf(BASE)['spark.executor.decommission.forceKillTimeout'], '270s');
  });

  it('zone set: both roles pinned by selector, no pod affinity', () => {
    const { driver, executor } = render({ ...BASE, zone: 'us-west-2c' });
    assert.equal(driver.spec.nodeSelector['topology.kubernetes.io/zone'], 'us-west-2c');
    assert.equal(executor.spec.nodeSelector['topology.kubernetes.io/zone'], 'us-west-2c');
    assert.equal(executor.spec.affinity, undefined);
  });

  it('zone unset: executors require the zone of the driver with the same spark-app-selector', () => {
    const { driver, executor } = render(BASE);
    assert.equal(driver.spec.affinity, undefined);
    assert.deepEqual(executor.spec.affinity!.podAffinity!.requiredDuringSchedulingIgnoredDuringExecution, [
      { labelSelector: { matchLabels: { 'spark-role': 'driver' } }, matchLabelKeys: ['spark-app-selector'], topologyKey: 'topology.kubernetes.io/zone' },
    ]);
  });

  it('localStorage nvme selects the RAID0 node class for executors only; ebs selects none and uses PVC local dirs', () => {
    const nvme = render(BASE);
    assert.equal(nvme.executor.spec.nodeSelector['karpenter.k8s.aws/ec2nodeclass'], 'spark-nvme');
    assert.equal(nvme.driver.spec.nodeSelector['karpenter.k8s.aws/ec2nodeclass'], undefined);
    assert.deepEqual(localStorageSparkConf('nvme'), {});
    const ebs = render({ ...BASE, localStorage: 'ebs' });
    assert.equal(ebs.executor.spec.nodeSelector['karpenter.k8s.aws/ec2nodeclass'], undefined);
    assert.deepEqual(localStorageSparkConf('ebs', '200Gi'), {
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName': 'OnDemand',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.sizeLimit': '200Gi',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.mount.path': '/data/spark-local',
      'spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.mount.readOnly': 'false',
      'spark.kubernetes.driver.ownPersistentVolumeClaim': 'true',
      'spark.kubernetes.driver.reusePersistentVolumeClaim': 'true',
    });
  });

  it('dedicatedNodes: tenant toleration and selector on both roles', () => {
    const { driver, executor } = render({ ...BASE, dedicatedNodes: true });
    for (const [pod, role] of [
      [driver, 'driver'],
      [executor, 'executor'],
    ] as const) {
      assert.equal(pod.spec.nodeSelector[TENANT_KEY], 'alpha');
      assert.deepEqual(pod.spec.tolerations, [
        { key: 'spark-platform.io/spark-role', operator: 'Equal', value: role, effect: 'NoSchedule' },
        { key: TENANT_KEY, operator: 'Equal', value: 'alpha', effect: 'NoSchedule' },
      ]);
    }
  });

  it('verticalAutoscaling: driver label and mode annotation; the signature is set per job', () => {
    const { driver, executor } = render({ ...BASE, verticalAutoscaling: true });
    assert.deepEqual(driver.metadata!.labels, { 'emr-containers.amazonaws.com/dynamic.sizing': 'true' });
    assert.equal(driver.metadata!.annotations!['emr-containers.amazonaws.com/dynamic.sizing.mode'], 'Initial');
    assert.equal(executor.metadata, undefined);
    assert.deepEqual(verticalAutoscalingSignatureConf('daily-attribution'), {
      'spark.kubernetes.driver.annotation.emr-containers.amazonaws.com/dynamic.sizing.signature': 'daily-attribution',
    });
  });
});

describe('pod templates: every option combination', () => {
  const combos: PlacementOptions[] = [];
  for (const architecture of ['arm64', 'amd64', 'any'] as const)
    for (const driverCapacity of ['on-demand', 'spot'] as const)
      for (const executorCapacity of ['spot', 'on-demand', 'any'] as const)
        for (const localStorage of ['nvme', 'ebs'] as const)
          for (const dedicatedNodes of [false, true])
            for (const verticalAutoscaling of [false, true])
              for (const zone of [undefined, 'us-west-2a'])
                combos.push({ ...BASE, architecture, driverCapacity, executorCapacity, localStorage, dedicatedNodes, verticalAutoscaling, ...(zone ? { zone } : {}) });

  it(`validates and places all ${combos.length} combinations`, () => {
    for (const options of combos) {
      const what = JSON.stringify(options);
      const { driver, executor } = render(options);
      assert.deepEqual(driver.spec.containers, [{ name: 'spark-kubernetes-driver' }], what);
      assert.deepEqual(executor.spec.containers, [{ name: 'spark-kubernetes-executor' }], what);
      assert.equal(driver.spec.priorityClassName, 'spark-driver-high', what);
      assert.equal(executor.spec.priorityClassName, 'spark-executor-low', what);
      assert.equal(driver.metadata!.annotations!['karpenter.sh/do-not-disrupt'], 'true', what);
      assert.equal(executor.metadata?.annotations?.['karpenter.sh/do-not-disrupt'], undefined, what);
      assert.equal(driver.spec.nodeSelector['spark-platform.io/spark-role'], 'driver', what);
      assert.equal(executor.spec.nodeSelector['spark-platform.io/spark-role'], 'executor', what);
      assert.equal(driver.spec.nodeSelector['karpenter.sh/capacity-type'], options.driverCapacity, what);
      // One AZ per job: pinned, or executors follow their driver.
      const pinned = executor.spec.nodeSelector['topology.kubernetes.io/zone'] === options.zone && options.zone !== undefined;
      assert.ok(pinned || executor.spec.affinity?.podAffinity, what);
      assert.equal(driver.spec.tolerations.some((t) => t.key === TENANT_KEY), options.dedicatedNodes, what);
      for (const pod of [driver, executor]) {
        const tenantToleration = pod.spec.tolerations.find((t) => t.key === TENANT_KEY);
        if (tenantToleration) assert.equal(tenantToleration.value, 'alpha', what);
        assert.ok(pod.spec.tolerations.every((t) => t.key && t.key !== SYSTEM_TAINT.key), what);
      }
    }
  });
});

describe('pod templates: EMR rules', () => {
  const good = () => validJson(driverPodTemplate(BASE));
  function validJson(pod: Pod): Record<string, unknown> {
    return JSON.parse(JSON.stringify(pod.toJSON())) as Record<string, unknown>;
  }

  it('accepts the generated templates', () => {
    assert.deepEqual(emrPodTemplateViolations(good(), 'driver'), []);
    assert.deepEqual(emrPodTemplateViolations(validJson(executorPodTemplate(BASE)), 'executor'), []);
  });

  it('rejects what EMR rejects: security contexts, service accounts, commands, reserved mounts, hostPath, wrong container', () => {
    const pod = good() as { spec: Record<string, unknown> };
    pod.spec.securityContext = { runAsUser: 0 };
    pod.spec.serviceAccountName = 'mine';
    pod.spec.volumes = [{ name: 'h', hostPath: { path: '/' } }, { name: 'e', emptyDir: {} }];
    pod.spec.containers = [
      { name: 'spark-kubernetes-driver', command: ['sh'], securityContext: { privileged: true }, volumeMounts: [{ name: 'e', mountPath: '/tmp' }] },
      { name: 'sidecar', volumeMounts: [{ name: 'e', mountPath: '/var/log/spark/user/' }, { name: 'e', mountPath: '/data/ok' }, { name: 'e', mountPath: '/mnt2' }] },
    ];
    assert.deepEqual(emrPodTemplateViolations(pod, 'driver'), [
      'spec.securityContext is not allowed in EMR pod templates',
      'spec.serviceAccountName is not allowed in EMR pod templates',
      'spec.volumes[0] is a hostPath volume (the namespace enforces the baseline Pod Security Standard)',
      'spec.containers[0].securityContext is not allowed in EMR pod templates',
      'spec.containers[0].command is set by EMR and not allowed in pod templates',
      'spec.containers[0].volumeMounts[0].mountPath /tmp is under /tmp, which EMR reserves',
      'spec.containers[1].volumeMounts[0].mountPath /var/log/spark/user is under /var/log/spark, which EMR reserves',
    ]);
    assert.deepEqual(emrPodTemplateViolations(good(), 'executor'), ['spec.containers[0].name must be spark-kubernetes-executor (the executor container EMR fills in)']);
  });

  it('refuses to serialize a template that breaks EMR rules or the Kubernetes schema', () => {
    const withCommand = new Pod({ spec: { containers: [{ name: 'spark-kubernetes-driver', command: ['java'] }] } });
    assert.throws(() => podTemplateYaml(withCommand, 'driver'), InvalidPodTemplateError);
    const invalid = new Pod({ spec: { containers: [{ name: 'spark-kubernetes-driver' }], priority: 'high' as unknown as number } });
    assert.throws(() => podTemplateYaml(invalid, 'driver'), InvalidKubernetesObjectError);
  });
});

describe('tenant names', () => {
  it('derives bucket, role and virtual cluster names within AWS limits', () => {
    assert.equal(tenantBucketName({ clusterName: 'spark-dev', tenant: 'analytics', accountId: '111122223333', region: 'us-west-2' }), 'spark-dev-analytics-111122223333-us-west-2');
    const long = { clusterName: 'Platform_Cluster-With-A-Very-Long-Name-For-Testing', tenant: 'a-forty-character-tenant-name-abcdefghij', accountId: '111122223333', region: 'ap-southeast-2' };
    const name = tenantBucketName(long);
    assert.ok(name.length <= 63 && S3_BUCKET_NAME.test(name), name);
    assert.ok(name.endsWith('-111122223333-ap-southeast-2'));
    assert.equal(tenantBucketName(long), name, 'deterministic');
    assert.notEqual(tenantBucketName({ ...long, tenant: 'a-forty-character-tenant-name-abcdefghik' }), name);
    assert.ok(jobExecutionRoleName(long).length <= 64);
    assert.ok(virtualClusterName(long).length <= 64);
    assert.equal(boundedName('short', 10), 'short');
    assert.equal(tenantGroup('analytics'), 'spark-platform:tenant:analytics');
  });
});

describe('tenant NodePools', () => {
  const limits = { cpu: '100', memory: '400Gi' };

  it('uses the RAID0 class and NVMe instances for executors with nvme, and both capacity types for any', () => {
    const [driver, executor] = tenantNodePools({ ...BASE, limits, executorCapacity: 'any', architecture: 'any' });
    driver!.validate();
    executor!.validate();
    assert.equal(driver!.metadata!.name, 'tenant-alpha-driver');
    assert.equal(driver!.spec.template.spec.nodeClassRef.name, 'general');
    assert.equal(driver!.spec.disruption!.consolidationPolicy, 'WhenEmpty');
    assert.equal(executor!.spec.template.spec.nodeClassRef.name, 'spark-nvme');
    assert.equal(executor!.spec.disruption!.consolidationPolicy, 'WhenEmptyOrUnderutilized');
    const req = (key: string) => executor!.spec.template.spec.requirements.find((r) => r.key === key);
    assert.deepEqual(req('karpenter.sh/capacity-type')!.values, ['spot', 'on-demand']);
    assert.deepEqual(req('kubernetes.io/arch')!.values, ['arm64', 'amd64']);
    assert.deepEqual(req('karpenter.k8s.aws/instance-local-nvme'), { key: 'karpenter.k8s.aws/instance-local-nvme', operator: 'Gt', values: ['0'] });
    assert.equal(req('topology.kubernetes.io/zone'), undefined);
    assert.equal(driver!.metadata!.labels![MANAGED_BY_LABEL], 'platform');
  });
});

describe('tenancy admission policies', () => {
  const objects = tenancyAdmissionObjects();

  it('are valid admissionregistration.k8s.io/v1 objects, each policy followed by its Deny binding', () => {
    for (const object of objects) object.validate();
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata!.name}`),
      Object.values(ADMISSION_POLICY_NAMES).flatMap((n) => [`ValidatingAdmissionPolicy/${n}`, `ValidatingAdmissionPolicyBinding/${n}`]),
    );
    for (const binding of objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')) {
      const spec = binding.spec as { policyName: string; validationActions: string[] };
      assert.equal(spec.policyName, binding.metadata!.name);
      assert.deepEqual(spec.validationActions, ['Deny']);
    }
  });

  it('bind the generic policies everywhere and the tenant-only ones to namespaces labelled as tenants', () => {
    // What each policy does is proven by evaluating it (test/tenant-isolation.test.ts); here only where it is bound.
    const scopes = Object.fromEntries(
      objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding').map((b) => [b.metadata!.name, (b.spec as { matchResources?: unknown }).matchResources ?? 'everywhere']),
    );
    const tenantOnly = { namespaceSelector: { matchExpressions: [{ key: TENANT_NAMESPACE_LABEL, operator: 'Exists' }] } };
    assert.deepEqual(scopes, {
      [ADMISSION_POLICY_NAMES.protectPlatformObjects]: 'everywhere',
      [ADMISSION_POLICY_NAMES.tenantNodeIsolation]: 'everywhere',
      [ADMISSION_POLICY_NAMES.tenantPodTolerations]: tenantOnly,
      [ADMISSION_POLICY_NAMES.tenantPodScheduling]: tenantOnly,
      [ADMISSION_POLICY_NAMES.tenantNetworkPolicies]: tenantOnly,
      [ADMISSION_POLICY_NAMES.tenantPodBinding]: tenantOnly,
      [ADMISSION_POLICY_NAMES.tenantServices]: tenantOnly,
    });
    for (const policy of objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy')) {
      assert.equal((policy.spec as { failurePolicy: string }).failurePolicy, 'Fail', policy.metadata!.name);
    }
  });

  it('refuses a platform pod creator that is not a Kubernetes username', () => {
    assert.throws(() => tenancyAdmissionObjects({ platformPodCreators: ['system:serviceaccount:yunikorn:yunikorn admin'] }), /platformPodCreators: expected a Kubernetes username without spaces/);
  });

  it('are deployed by the tenancy stack, each binding after its policy', () => {
    const tf = synthStack('tenancy');
    assert.deepEqual(Object.keys(tf.provider!).sort(), ['aws', 'kubernetes']);
    const manifests = Object.entries(resourcesOf(tf, 'kubernetes_manifest'));
    assert.equal(manifests.length, 14);
    for (const [, resource] of manifests) {
      const m = resource.manifest as { kind: string; metadata: { name: string } };
      if (m.kind !== 'ValidatingAdmissionPolicyBinding') continue;
      const policyId = manifests.find(([, r]) => {
        const p = r.manifest as { kind: string; metadata: { name: string } };
        return p.kind === 'ValidatingAdmissionPolicy' && p.metadata.name === m.metadata.name;
      })![0];
      assert.deepEqual(resource.depends_on, [`kubernetes_manifest.${policyId}`]);
    }
    assert.equal((tf.terraform.backend!.s3 as { key: string }).key, 'dev/tenancy.tfstate');
  });
});

describe('Nx: tenant projects', () => {
  const require = createRequire(import.meta.url);
  const plugin = require(`${SOURCE_ROOT}/scripts/nx/tenant-projects.cjs`) as {
    TENANT_DEPENDS_ON: string[];
    createNodes: [string, (files: string[]) => [string, { projects: Record<string, { name: string; implicitDependencies: string[] }> }][]];
  };

  it('infers tenant-<name> from each folder, deployed after the tenancy guard rails', () => {
    assert.ok(plugin.TENANT_DEPENDS_ON.includes('tenancy'));
    assert.ok(plugin.TENANT_DEPENDS_ON.includes('cluster'));
    const [pattern, create] = plugin.createNodes;
    assert.equal(pattern, 'tenants/*/tenant.yaml');
    const [[file, result]] = create(['tenants/analytics/tenant.yaml']) as [[string, { projects: Record<string, { name: string; implicitDependencies: string[] }> }]];
    assert.equal(file, 'tenants/analytics/tenant.yaml');
    assert.equal(result.projects['tenants/analytics']!.name, 'tenant-analytics');
  });

  it('keeps tenant files out of every global input, so a tenant change affects that tenant only', () => {
    // Nx marks every project with a `{workspaceRoot}/...` input matching a changed file as affected.
    type Input = string | { projects?: unknown; input?: string; fileset?: string; env?: string };
    const nx = JSON.parse(readFileSync(join(SOURCE_ROOT, 'nx.json'), 'utf8')) as { namedInputs: Record<string, Input[]>; targetDefaults: Record<string, { inputs?: Input[] }> };
    const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'package.json'), 'utf8')) as { nx: { targets: Record<string, { inputs?: Input[] }> } };
    const projectTargets = readdirSync(join(SOURCE_ROOT, 'stacks'))
      .filter((d) => existsSync(join(SOURCE_ROOT, 'stacks', d, 'project.json')))
      .flatMap((d) => Object.values((JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', d, 'project.json'), 'utf8')) as { targets: Record<string, { inputs?: Input[] }> }).targets));
    const globals = (inputs: readonly Input[], seen = new Set<string>()): string[] =>
      inputs.flatMap((input) => {
        if (typeof input === 'string' && input in nx.namedInputs) return seen.has(input) ? [] : (seen.add(input), globals(nx.namedInputs[input]!, seen));
        const pattern = typeof input === 'string' ? input : input.fileset;
        return pattern?.startsWith('{workspaceRoot}/') ? [pattern.slice('{workspaceRoot}/'.length)] : [];
      });
    const patterns = [...Object.values(nx.targetDefaults), ...Object.values(pkg.nx.targets), ...projectTargets].flatMap((t) => globals(t.inputs ?? []));
    assert.ok(patterns.length > 0);
    for (const pattern of patterns) {
      assert.equal(matchesGlob('tenants/analytics/tenant.yaml', pattern), false, `global input ${pattern} would make every project affected by a tenant change`);
    }
    assert.ok(nx.namedInputs.configuration!.includes('{projectRoot}/tenant.yaml'), 'a tenant synth still depends on its own file');
  });
});
