/**
 * The yunikorn stack: YuniKorn pinned and placed on the system nodes, its chart values checked key by
 * key against the chart's own values (derived key lists under test/fixtures/charts), the generated
 * configuration created before the chart, the webhook port opened from the control plane in the
 * cluster stack, the environment setting with its Kubernetes support check, and the monitoring
 * objects in observability-config.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { disabledStack } from '../scripts/lib/disabled-stacks.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { synthesize } from '../stacks/lib/synthesize.js';
import { disabledStacks, stackDefinitions } from '../stacks/registry.js';
import { exactNamespaceRegexes, yunikornChartValues } from '../modules/yunikorn/helm-values.js';
import { YUNIKORN_RELEASES } from '../modules/yunikorn/versions.js';
import { KNOWN_METRICS } from '../modules/observability/metrics.js';
import { parsePromQL, substituteGrafanaVariables } from '../modules/observability/promql.js';
import { compiledScript, FIXTURE_REPO, rawEnvironment, resourcesOf, SOURCE_ROOT, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

const environment = testEnvironment();
const defaultScheduler = testEnvironment({ scheduling: { batchScheduler: 'default' } });
const tf = synthStack('yunikorn');

type Manifest = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string> };
const manifests = (stack: TerraformJson) => Object.entries(resourcesOf(stack, 'kubernetes_manifest')).map(([id, r]) => ({ id, manifest: r.manifest as Manifest, dependsOn: (r.depends_on as string[] | undefined) ?? [] }));
const release = Object.values(resourcesOf(tf, 'helm_release'))[0]!;
const values = JSON.parse((release.values as string[])[0]!) as Record<string, any>;

interface ChartKeys {
  readonly derivedFrom: string;
  readonly keys: readonly string[];
  readonly freeForm: readonly string[];
}
const chartKeys = (file: string) => JSON.parse(readFileSync(join(SOURCE_ROOT, 'test', 'fixtures', 'charts', file), 'utf8')) as ChartKeys;

/** Every key path set in `values`, not descending into keys whose content the chart passes through. */
function setPaths(node: Record<string, unknown>, freeForm: readonly string[], prefix = ''): string[] {
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (freeForm.includes(path) || value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
    return [path, ...setPaths(value as Record<string, unknown>, freeForm, path)];
  });
}

describe('yunikorn stack: the chart', () => {
  it('installs the pinned chart from the Apache repository, after the generated configuration', () => {
    assert.equal(release.chart, 'yunikorn');
    assert.equal(release.repository, 'https://apache.github.io/yunikorn-release');
    assert.equal(release.version, '1.8.0');
    assert.equal(release.namespace, 'yunikorn');
    assert.equal(release.wait, true);
    const configuration = manifests(tf).find((m) => m.manifest.kind === 'ConfigMap')!;
    assert.deepEqual(release.depends_on, [`kubernetes_manifest.${configuration.id}`]);
    assert.equal(YUNIKORN_RELEASES['1.8.0']!.chartConfirmed, true);
  });

  it('sets only keys that exist in the chart values of 1.8.0 and of the 1.9 line', () => {
    for (const file of ['yunikorn-1.8.0-keys.json', 'yunikorn-1.9-master-keys.json']) {
      const chart = chartKeys(file);
      const unknown = setPaths(values, chart.freeForm).filter((path) => !chart.keys.includes(path));
      expect({ file, unknown }).toEqual({ file, unknown: [] });
    }
    // Keys the 1.9.0 chart removed (release notes: plugin mode, deprecated settings moved to ConfigMaps).
    const removedIn190 = ['pluginImage', 'enableSchedulerPlugin', 'configuration', 'operatorPlugins', 'placeHolderImage', 'admissionController.processNamespaces', 'admissionController.bypassNamespaces', 'admissionController.labelNamespaces', 'admissionController.noLabelNamespaces'];
    const used = setPaths(values, []);
    assert.deepEqual(used.filter((p) => removedIn190.includes(p)), []);
  });

  it('(control) the key check fails for a key the chart does not have', () => {
    const chart = chartKeys('yunikorn-1.8.0-keys.json');
    const typo = { ...values, admissionController: { ...values.admissionController, replicas: 2 } };
    assert.deepEqual(setPaths(typo, chart.freeForm).filter((path) => !chart.keys.includes(path)), ['admissionController.replicas']);
  });

  it('runs the scheduler and the admission controller on the system nodes, with resources set and pinned images', () => {
    const system = { nodeSelector: { 'kubernetes.io/os': 'linux', 'spark-platform.io/pool': 'system' }, tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }] };
    for (const component of [values, values.admissionController]) {
      assert.deepEqual(component.nodeSelector, system.nodeSelector);
      assert.deepEqual(component.tolerations, system.tolerations);
      assert.equal(component.priorityClassName, 'system-cluster-critical');
      // The admission template reads exactly these four values; the scheduler's are rendered as is.
      for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) assert.ok(component.resources[kind][resource], `${kind}.${resource}`);
    }
    assert.deepEqual(values.image, { repository: 'apache/yunikorn', tag: 'scheduler-1.8.0', pullPolicy: 'IfNotPresent' });
    assert.equal(values.admissionController.image.tag, 'admission-1.8.0');
    assert.equal(values.web.image.tag, 'web-1.8.0');
    assert.equal(values.admissionController.hostNetwork, true);
    assert.equal(values.admissionController.replicaCount, 2);
    assert.equal(values.admissionController.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey, 'kubernetes.io/hostname');
  });

  it('processes no namespace until the generated configuration names the tenants, and bypasses the platform namespaces', () => {
    const defaults = values.yunikornDefaults as Record<string, string>;
    assert.equal(defaults['admissionController.filtering.processNamespaces'], '^$');
    assert.equal(defaults['admissionController.filtering.generateUniqueAppId'], 'false');
    assert.equal(defaults['service.placeholderImage'], 'registry.k8s.io/pause:3.7');
    const bypass = defaults['admissionController.filtering.bypassNamespaces']!.split(',').map((p) => new RegExp(p));
    for (const ns of ['kube-system', 'karpenter', 'monitoring', 'yunikorn']) assert.ok(bypass.some((re) => re.test(ns)), ns);
    assert.ok(!bypass.some((re) => re.test('analytics')));
    for (const value of Object.values(defaults)) assert.equal(typeof value, 'string');
  });

  it('keeps one admission controller through node drains (PodDisruptionBudget on its pod labels)', () => {
    const budget = manifests(tf).find((m) => m.manifest.kind === 'PodDisruptionBudget')!.manifest as Manifest & { spec: Record<string, unknown> };
    assert.equal(budget.metadata.namespace, 'yunikorn');
    assert.deepEqual(budget.spec, { minAvailable: 1, selector: { matchLabels: { app: 'yunikorn', component: 'yunikorn-admission-controller', release: 'yunikorn' } } });
    // The same labels the chart's admission controller pods carry (and its anti-affinity selects).
    assert.deepEqual(values.admissionController.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels, { app: 'yunikorn', component: 'yunikorn-admission-controller' });
  });

  it('creates its namespace with the privileged level the host-network admission controller needs', () => {
    const namespace = manifests(tf).find((m) => m.manifest.kind === 'Namespace')!.manifest;
    assert.equal(namespace.metadata.name, 'yunikorn');
    assert.equal(namespace.metadata.labels!['pod-security.kubernetes.io/enforce'], 'privileged');
    assert.equal(namespace.metadata.labels!['pod-security.kubernetes.io/warn'], 'restricted');
  });

  it('follows the chart version of the environment', () => {
    const env = testEnvironment({ kubernetesVersion: '1.35', addons: { vpcCni: 'v1.22.4-eksbuild.3', coredns: 'v1.14.3-eksbuild.3', kubeProxy: 'v1.35.3-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.64.0-eksbuild.1', metricsServer: 'v0.8.1-eksbuild.6' }, scheduling: { batchScheduler: 'yunikorn', yunikorn: { chartVersion: '1.9.0' } } });
    const other = Object.values(resourcesOf(synthStack('yunikorn', env), 'helm_release'))[0]!;
    assert.equal(other.version, '1.9.0');
    assert.match((other.values as string[])[0]!, /"tag":"scheduler-1.9.0"/);
    assert.throws(() => yunikornChartValues({ version: '1.9', bypassNamespaces: [] }), /exact/);
  });
});

describe('yunikorn stack: in the registry', () => {
  it('comes after karpenter and before the tenants, built from every tenant file', () => {
    const names = stackDefinitions(FIXTURE_REPO, environment).map((d) => d.name);
    assert.equal(names.indexOf('yunikorn'), names.indexOf('karpenter') + 1);
    assert.ok(names.filter((n) => n.startsWith('tenant-')).every((n) => names.indexOf(n) > names.indexOf('yunikorn')));
    const definition = stackDefinitions(FIXTURE_REPO, environment).find((d) => d.name === 'yunikorn')!;
    assert.deepEqual(definition.inputs, ['environments/dev.yaml', 'tenants/analytics/tenant.yaml', 'tenants/risk-models/tenant.yaml']);
    assert.equal(definition.awsOnly, false);
    assert.deepEqual(disabledStacks(environment), []);
  });

  it('is left out, and reported as such, with the default scheduler', () => {
    assert.equal(stackDefinitions(FIXTURE_REPO, defaultScheduler).some((d) => d.name === 'yunikorn'), false);
    assert.deepEqual(disabledStacks(defaultScheduler), [{ name: 'yunikorn', reason: 'scheduling.batchScheduler is "default" in environments/dev.yaml' }]);
  });

  it('reads only the cluster state, which its Nx project depends on, after karpenter', () => {
    assert.deepEqual(Object.keys(tf.data!.terraform_remote_state!), ['remote-state-cluster']);
    const project = JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', 'yunikorn', 'project.json'), 'utf8')) as { implicitDependencies: string[]; targets: { synth: { inputs: string[] } } };
    assert.deepEqual(project.implicitDependencies, ['workspace', 'cluster', 'karpenter']);
    assert.ok(project.targets.synth.inputs.includes('{workspaceRoot}/tenants/*/tenant.yaml'));
  });
});

describe('cluster stack: the admission webhook port', () => {
  const rules = (stack: TerraformJson) => Object.values(resourcesOf(stack, 'aws_vpc_security_group_ingress_rule'));

  it('opens TCP 9089 from the cluster security group (control plane) to the nodes that carry it', () => {
    const [rule, ...others] = rules(synthStack('cluster'));
    assert.equal(others.length, 0);
    const clusterSg = '${aws_eks_cluster.eks_cluster_55B0C966.vpc_config[0].cluster_security_group_id}';
    assert.deepEqual(
      { protocol: rule!.ip_protocol, from: rule!.from_port, to: rule!.to_port, source: rule!.referenced_security_group_id, target: rule!.security_group_id },
      { protocol: 'tcp', from: 9089, to: 9089, source: clusterSg, target: clusterSg },
    );
    assert.equal(rule!.cidr_ipv4, undefined);
  });

  it('adds nothing with the default scheduler', () => {
    assert.deepEqual(rules(synthStack('cluster', defaultScheduler)), []);
  });
});

describe('environment: scheduling', () => {
  it('defaults to the Kubernetes scheduler and YuniKorn 1.8.0 settings when the section is missing', () => {
    assert.ok('scheduling' in rawEnvironment(), 'the fixture sets it');
    const env = testEnvironment({ scheduling: undefined });
    assert.deepEqual(env.scheduling, { batchScheduler: 'default', yunikorn: { chartVersion: '1.8.0', allowUnsupportedKubernetesVersion: false, resourceQuotaRatio: 2, preemptionDelay: '30s' } });
    assert.equal(environment.scheduling.batchScheduler, 'yunikorn');
  });

  const problems = (overrides: Record<string, unknown>) => {
    try {
      testEnvironment(overrides);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((p) => `${p.field}: expected ${p.expected}, found ${p.found}`);
      throw error;
    }
    return [];
  };
  const addons135 = { vpcCni: 'v1.22.4-eksbuild.3', coredns: 'v1.14.3-eksbuild.3', kubeProxy: 'v1.35.3-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.64.0-eksbuild.1', metricsServer: 'v0.8.1-eksbuild.6' };

  it('refuses a YuniKorn release that does not support the cluster version, naming the ones that do', () => {
    // The fixture environments accept the unsupported version explicitly; without that choice synth refuses.
    const yunikorn = { scheduling: { batchScheduler: 'yunikorn' } };
    const [problem, ...rest] = problems({ ...yunikorn, kubernetesVersion: '1.35', addons: addons135 });
    assert.equal(rest.length, 0);
    assert.match(problem!, /^scheduling\.yunikorn\.chartVersion: expected a YuniKorn release that supports Kubernetes 1\.35 \(1\.8\.0 supports 1\.24 to 1\.34; known releases that do: 1\.9\.0, confirm the chart exists first\)/);
    assert.match(problems({ ...yunikorn, kubernetesVersion: '1.36' })[0]!, /no known release does/);
  });

  it('accepts it with the explicit override, or with the default scheduler', () => {
    assert.deepEqual(problems({ kubernetesVersion: '1.36', addons: addons135, scheduling: { batchScheduler: 'yunikorn', yunikorn: { allowUnsupportedKubernetesVersion: true } } }), []);
    assert.deepEqual(problems({ kubernetesVersion: '1.36', addons: addons135, scheduling: { batchScheduler: 'default' } }), []);
    assert.deepEqual(problems({ kubernetesVersion: '1.35', addons: addons135, scheduling: { batchScheduler: 'yunikorn', yunikorn: { chartVersion: '1.9.0' } } }), []);
  });

  it('names bad values', () => {
    expect(problems({ scheduling: { batchScheduler: 'volcano', yunikorn: { chartVersion: '1.7.0', resourceQuotaRatio: 0, preemptionDelay: 'soon', replicas: 3 } } })).toEqual([
      'scheduling.batchScheduler: expected one of "default" | "yunikorn", found "volcano"',
      'scheduling.yunikorn.chartVersion: expected a YuniKorn chart version the platform knows (1.8.0, 1.9.0; modules/yunikorn/versions.ts), found "1.7.0"',
      'scheduling.yunikorn.resourceQuotaRatio: expected a number >= 1, found number 0',
      'scheduling.yunikorn.preemptionDelay: expected a Go duration such as 30s or 2m, found "soon"',
      'scheduling.yunikorn.replicas: expected no field named "replicas" (unknown fields are rejected so typos surface; see the schema for the allowed fields), found number 3',
    ]);
  });
});

describe('observability-config: YuniKorn monitoring', () => {
  const objects = (stack: TerraformJson) => manifests(stack).map((m) => m.manifest as Manifest & { spec?: any });
  const yk = objects(synthStack('observability-config'));

  it('scrapes the scheduler on its REST port, from the monitoring namespace', () => {
    const monitor = yk.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'yunikorn')!;
    assert.equal(monitor.metadata.namespace, 'monitoring');
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['yunikorn'] });
    assert.deepEqual(monitor.spec.selector, { matchLabels: { app: 'yunikorn', release: 'yunikorn' } });
    assert.deepEqual(monitor.spec.endpoints, [{ port: 'yunikorn-core', path: '/ws/v1/metrics', interval: '30s' }]);
  });

  it('alerts when the admission controller is unavailable (its webhook fails open) and when pods bypass it', () => {
    const rule = yk.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === 'yunikorn')!;
    const alerts = Object.fromEntries((rule.spec.groups as { rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[]).flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert, r]));
    const admission = alerts.YuniKornAdmissionControllerUnavailable!;
    assert.match(admission.expr, /kube_deployment_status_replicas_available\{namespace="yunikorn", deployment="yunikorn-admission-controller"\}\) < 1\) or absent\(/);
    assert.equal(admission.labels!.severity, 'critical');
    assert.match(alerts.YuniKornWebhookFailingOpen!.expr, /apiserver_admission_webhook_fail_open_count\{name="admission-webhook\.yunikorn\.mutate-pods"\}/);
    assert.match(alerts.YuniKornSchedulerUnavailable!.expr, /deployment="yunikorn-scheduler"/);
    assert.ok(alerts.TenantBelowGuaranteeWithPendingWork);
  });

  it('provisions the batch scheduling dashboard', () => {
    const dashboard = yk.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dashboard-batch-scheduling')!;
    assert.equal(dashboard.metadata.labels!.grafana_dashboard, '1');
    const model = JSON.parse(dashboard.data!['batch-scheduling.json']!) as { panels: { title: string; targets: { expr: string }[] }[] };
    const exprs = model.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const needle of ['state="guaranteed"', 'state="max"', 'state="allocated"', 'state="pending"', 'state="accepted"', 'tenant:spark_pending_driver_age_seconds:max']) assert.ok(exprs.includes(needle), needle);
  });

  it('every YuniKorn rule and dashboard query is checked by the PromQL grammar (lezer-promql) and reads only known metrics', () => {
    const rule = yk.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === 'yunikorn')!;
    const rules = (rule.spec.groups as { rules: { alert?: string; record?: string; expr: string }[] }[]).flatMap((g) => g.rules);
    const dashboard = yk.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dashboard-batch-scheduling')!;
    const panels = (JSON.parse(dashboard.data!['batch-scheduling.json']!) as { panels: { targets?: { expr: string }[] }[] }).panels;
    const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => substituteGrafanaVariables(t.expr)));
    for (const expr of [...rules.map((r) => r.expr), ...queries]) {
      const parsed = parsePromQL(expr);
      assert.ok(parsed.metrics.length > 0, expr);
      for (const metric of parsed.metrics) assert.ok(KNOWN_METRICS.has(metric), `${metric} in ${expr}`);
    }
    for (const r of rules) assert.equal(parsePromQL(r.expr).type, 'instant', r.alert ?? r.record);
    assert.ok(rules.length >= 7 && queries.length >= 10, `${rules.length} rules, ${queries.length} queries`);
  });

  it('adds none of it with the default scheduler', () => {
    const plain = objects(synthStack('observability-config', defaultScheduler)).map((o) => `${o.kind} ${o.metadata.name}`);
    assert.deepEqual(plain.filter((o) => /yunikorn|batch-scheduling/.test(o)), []);
  });
});

describe('processNamespaces', () => {
  it('matches exactly the tenant namespaces, and nothing when there is none', () => {
    const regexes = exactNamespaceRegexes(['risk-models', 'analytics']).split(',').map((p) => new RegExp(p));
    const processed = (ns: string) => regexes.some((re) => re.test(ns));
    assert.deepEqual(['analytics', 'risk-models', 'analytics2', 'xanalytics', 'risk', 'kube-system', 'monitoring'].filter(processed), ['analytics', 'risk-models']);
    assert.equal(exactNamespaceRegexes([]), '^$');
    assert.throws(() => exactNamespaceRegexes(['a.b']), /not a namespace name/);
  });
});

describe('an environment on the default scheduler: the yunikorn targets do nothing', () => {
  const fixtureEnv = readFileSync(join(FIXTURE_REPO, 'environments', 'dev.yaml'), 'utf8');
  assert.match(fixtureEnv, /batchScheduler: yunikorn/);
  const root = temporaryRoot({ tenants: 'none', files: { 'environments/dev.yaml': fixtureEnv.replace('batchScheduler: yunikorn', 'batchScheduler: default') } });

  it('synth --stack yunikorn writes nothing and says why; platform.json records it for tf.js', () => {
    const outdir = join(root, 'out');
    const result = synthesize({ root, environmentName: 'dev', outdir, stacks: ['yunikorn', 'network'] });
    assert.deepEqual(result.disabledSkipped, [{ name: 'yunikorn', reason: 'scheduling.batchScheduler is "default" in environments/dev.yaml' }]);
    assert.deepEqual(result.synthesized.map((d) => d.name), ['network']);
    assert.equal(existsSync(join(outdir, 'stacks', 'yunikorn')), false);
    assert.deepEqual(disabledStack(outdir, 'yunikorn'), { environment: 'dev', reason: 'scheduling.batchScheduler is "default" in environments/dev.yaml' });
    assert.equal(disabledStack(outdir, 'network'), undefined);
    assert.throws(() => synthesize({ root, environmentName: 'dev', outdir, stacks: ['yunikron'] }), /--stack: yunikron: expected one of the stacks of environment dev/);
  });

  it('the synth command exits 0 with a message (the Nx synth target of yunikorn)', () => {
    const outdir = join(root, 'out-cli');
    const run = spawnSync(process.execPath, [compiledScript('synth.js'), '--root', root, '--outdir', outdir, '--stack', 'yunikorn'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /synth: stack yunikorn is not part of environment "dev" \(scheduling\.batchScheduler is "default" in environments\/dev\.yaml\): nothing to synthesize/);
    assert.equal(disabledStack(outdir, 'yunikorn')?.environment, 'dev');
  });
});
