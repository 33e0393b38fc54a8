import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { MONITORING_NAMESPACE } from '../modules/observability/constants.js';
import { retentionSizeFor } from '../modules/observability/helm-values.js';
import { entry, kubernetesRecord, logGroupOf, parseClassicConfig, renderKubernetesAndCloudWatchSections, translate } from './support/fluent-bit.js';
import { vpaCustomResourceStateConfig } from '../modules/observability/vpa-metrics.js';
import { reservedNamespaceReason } from '../modules/scheduling/namespaces.js';
import { resourcesOf, synthStack, testEnvironment, type TerraformJson } from './support/synth.js';

const tf = synthStack('observability');
const amp = synthStack('observability', testEnvironment({ observability: { ampRemoteWrite: true, prometheusRetention: '30d', prometheusStorageSize: '200Gi' } }));

type Values = Record<string, any>;
function release(stack: TerraformJson, chart: string): { release: Record<string, unknown>; values: Values } {
  const found = Object.values(resourcesOf(stack, 'helm_release')).filter((r) => r.chart === chart);
  assert.equal(found.length, 1, `one release of ${chart}`);
  const values = JSON.parse((found[0]!.values as string[])[0]!) as Values;
  return { release: found[0]!, values };
}

const SYSTEM = { nodeSelector: { 'spark-platform.io/pool': 'system' }, tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }] };
const kps = release(tf, 'kube-prometheus-stack');
const fluentBit = release(tf, 'aws-for-fluent-bit');
const vpa = release(tf, 'vpa');

describe('observability stack (charts)', () => {
  it('pins the four charts exactly, each in its namespace, waiting for readiness', () => {
    const pins = Object.values(resourcesOf(tf, 'helm_release')).map((r) => [r.name, r.namespace, r.repository, r.chart, r.version, r.wait]);
    assert.deepEqual(pins.sort(), [
      ['aws-for-fluent-bit', 'logging', 'https://aws.github.io/eks-charts', 'aws-for-fluent-bit', '0.2.0', true],
      ['kube-prometheus-stack', 'monitoring', 'https://prometheus-community.github.io/helm-charts', 'kube-prometheus-stack', '88.5.3', true],
      ['opencost', 'monitoring', 'https://opencost.github.io/opencost-helm-chart', 'opencost', '2.5.17', true],
      ['vpa', 'vpa', 'https://charts.fairwinds.com/stable', 'vpa', '5.0.0', true],
    ]);
    assert.equal((tf.terraform as Record<string, unknown>).required_version, '>= 1.11.0');
    assert.deepEqual(Object.keys(tf.data!.terraform_remote_state!).sort(), ['remote-state-cluster', 'remote-state-observability-infra']);
  });

  it('creates the namespaces with the Pod Security level their components need; monitoring is a reserved platform namespace', () => {
    const namespaces = Object.values(resourcesOf(tf, 'kubernetes_manifest'))
      .map((m) => m.manifest as { kind: string; metadata: { name: string; labels: Record<string, string> } })
      .filter((m) => m.kind === 'Namespace');
    assert.deepEqual(
      namespaces.map((n) => [n.metadata.name, n.metadata.labels['pod-security.kubernetes.io/enforce']]).sort(),
      [['logging', 'privileged'], ['monitoring', 'privileged'], ['vpa', 'baseline']],
    );
    assert.equal(MONITORING_NAMESPACE, 'monitoring');
    assert.match(reservedNamespaceReason(MONITORING_NAMESPACE) ?? '', /platform namespace/);
  });

  it('keeps Prometheus data on a gp3 volume with time and size retention', () => {
    const spec = kps.values.prometheus.prometheusSpec;
    assert.equal(spec.retention, '15d');
    assert.equal(spec.retentionSize, '85GiB');
    assert.deepEqual(spec.storageSpec, {
      volumeClaimTemplate: { spec: { storageClassName: 'gp3', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } } },
    });
    const bigger = release(amp, 'kube-prometheus-stack').values.prometheus.prometheusSpec;
    assert.deepEqual([bigger.retention, bigger.retentionSize, bigger.storageSpec.volumeClaimTemplate.spec.resources.requests.storage], ['30d', '170GiB', '200Gi']);
    assert.deepEqual(kps.values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName, 'gp3');
    assert.throws(() => retentionSizeFor('1Ti'), /whole number of Gi/);
  });

  it('picks up monitors and rules from every namespace, whatever their labels', () => {
    const spec = kps.values.prometheus.prometheusSpec;
    for (const kind of ['podMonitor', 'serviceMonitor', 'rule', 'probe', 'scrapeConfig']) {
      assert.equal(spec[`${kind}SelectorNilUsesHelmValues`], false, kind);
    }
    for (const selector of ['podMonitorSelector', 'podMonitorNamespaceSelector', 'serviceMonitorSelector', 'serviceMonitorNamespaceSelector', 'ruleSelector', 'ruleNamespaceSelector']) {
      assert.deepEqual(spec[selector], {}, selector);
    }
    assert.deepEqual(spec.externalLabels, { cluster: '${data.terraform_remote_state.remote-state-cluster.outputs.clusterName}' });
  });

  it('runs every component on the system nodes, and node-exporter and Fluent Bit on every node', () => {
    const v = kps.values;
    for (const [name, placement] of Object.entries({
      prometheus: v.prometheus.prometheusSpec,
      alertmanager: v.alertmanager.alertmanagerSpec,
      grafana: v.grafana,
      kubeStateMetrics: v['kube-state-metrics'],
      operator: v.prometheusOperator,
      webhookPatch: v.prometheusOperator.admissionWebhooks.patch,
      vpaRecommender: vpa.values.recommender,
      vpaUpdater: vpa.values.updater,
      vpaAdmission: vpa.values.admissionController,
      vpaCertGen: vpa.values.admissionController.certGen,
    })) {
      assert.deepEqual({ nodeSelector: placement.nodeSelector, tolerations: placement.tolerations }, SYSTEM, name);
    }
    assert.deepEqual(v['prometheus-node-exporter'].tolerations, [{ operator: 'Exists' }]);
    assert.deepEqual(fluentBit.values.tolerations, [{ operator: 'Exists' }]);
    // EKS hides the control plane: no monitors that could only ever be down.
    for (const component of ['kubeControllerManager', 'kubeScheduler', 'kubeEtcd', 'kubeProxy']) assert.equal(v[component].enabled, false, component);
  });

  it('reads the Grafana admin login from a Secret written with write-only data; no password in values or state', () => {
    assert.deepEqual(kps.values.grafana.admin, { existingSecret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    assert.equal(kps.values.grafana.adminPassword, undefined);
    const secrets = Object.values(resourcesOf(tf, 'kubernetes_secret_v1'));
    assert.equal(secrets.length, 1);
    const secret = secrets[0]!;
    assert.deepEqual(secret.metadata, { name: 'grafana-admin', namespace: 'monitoring', labels: { 'spark-platform.io/managed-by': 'platform' } });
    assert.equal(secret.data, undefined, 'no data (it would be stored in state)');
    assert.deepEqual(Object.keys(secret.data_wo as object).sort(), ['admin-password', 'admin-user']);
    assert.match((secret.data_wo as Record<string, string>)['admin-password']!, /^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.[^.]+\.secret_string\)\["admin-password"\]\}$/);
    const ephemeral = (tf as Record<string, unknown>).ephemeral as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.values(ephemeral.aws_secretsmanager_secret_version!), [
      { secret_id: '${data.terraform_remote_state.remote-state-observability-infra.outputs.grafanaAdminSecretArn}' },
    ]);
    assert.doesNotMatch(JSON.stringify(tf), /adminPassword|admin-password"\s*:\s*"[^$]/);
    assert.ok((kps.release.depends_on as string[]).some((d) => d.startsWith('kubernetes_secret_v1.')), 'Grafana starts after its Secret exists');
  });

  it('provisions dashboards from labelled ConfigMaps in every namespace, into folders', () => {
    assert.deepEqual(kps.values.grafana.sidecar.dashboards, {
      enabled: true,
      label: 'grafana_dashboard',
      labelValue: '1',
      searchNamespace: 'ALL',
      folderAnnotation: 'grafana_folder',
      provider: { allowUiUpdates: false, foldersFromFilesStructure: true },
    });
  });

  it('exports tenant, Spark and vertical autoscaling labels from kube-state-metrics, and VPA recommendations as metrics', () => {
    const ksm = kps.values['kube-state-metrics'];
    assert.deepEqual(ksm.metricLabelsAllowlist, [
      'namespaces=[spark-platform.io/tenant]',
      'pods=[spark-role,spark-app-selector,emr-containers.amazonaws.com/dynamic.sizing,emr-containers.amazonaws.com/job.id,emr-containers.amazonaws.com/virtual-cluster-id]',
      'nodes=[karpenter.sh/nodepool,eks.amazonaws.com/nodegroup]',
    ]);
    assert.deepEqual(ksm.metricAnnotationsAllowList, ['pods=[emr-containers.amazonaws.com/dynamic.sizing.signature,emr-containers.amazonaws.com/dynamic.sizing.mode]']);
    assert.deepEqual(ksm.customResourceState, { enabled: true, config: vpaCustomResourceStateConfig() });
    assert.deepEqual(ksm.rbac.extraRules, [{ apiGroups: ['autoscaling.k8s.io'], resources: ['verticalpodautoscalers'], verbs: ['list', 'watch'] }]);
  });

  it('ships container logs to the tenant log group of a labelled namespace, else to the platform group, never creating groups', () => {
    const cw = fluentBit.values.cloudWatchLogs;
    assert.equal(cw.enabled, true);
    assert.equal(cw.region, 'us-west-2');
    assert.equal(cw.logGroupName, '/spark-platform/dev/platform');
    assert.equal(cw.logGroupTemplate, "/spark-platform/dev/tenants/$kubernetes_namespace['labels']['spark-platform.io/tenant']");
    assert.equal(cw.autoCreateGroup, 'false', 'a string, so the chart renders auto_create_group false');
    assert.equal(cw.logRetentionDays, undefined, 'retention is set by Terraform');
    assert.equal(fluentBit.values.filter.extraFilters, 'Namespace_Labels On');
    assert.deepEqual(fluentBit.values.serviceAccount, { create: true, name: 'aws-for-fluent-bit' });
    assert.deepEqual(fluentBit.values.image, { repository: 'public.ecr.aws/aws-observability/aws-for-fluent-bit', tag: '3.2.1', pullPolicy: 'IfNotPresent' });
    for (const output of ['cloudWatch', 'firehose', 'kinesis', 'elasticsearch']) assert.deepEqual(fluentBit.values[output], { enabled: false }, output);
  });

  describe('rendered Fluent Bit configuration against the records the kubernetes filter produces', () => {
    const sections = parseClassicConfig(renderKubernetesAndCloudWatchSections(fluentBit.values));
    const filter = sections.find((s) => s.name === 'FILTER' && entry(s, 'name') === 'kubernetes')!;
    const output = sections.find((s) => s.name === 'OUTPUT' && entry(s, 'name') === 'cloudwatch_logs')!;
    const tenant = synthStack('tenant-analytics');
    const tenantGroups = Object.values(resourcesOf(tenant, 'aws_cloudwatch_log_group')).map((g) => g.name as string);
    const namespace = Object.values(resourcesOf(tenant, 'kubernetes_manifest'))
      .map((m) => m.manifest as { kind: string; metadata: { name: string; labels: Record<string, string> } })
      .find((m) => m.kind === 'Namespace')!;
    const executorRecord = kubernetesRecord({
      namespace: namespace.metadata.name,
      pod: 'spark-0000000350oi3m8c5gk-exec-1',
      container: 'spark-kubernetes-executor',
      podLabels: { 'spark-role': 'executor', 'spark-app-selector': 'spark-0000000350oi3m8c5gk' },
      namespaceLabels: { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': namespace.metadata.name },
    });

    it('has one kubernetes filter with namespace labels on, and one cloudwatch_logs output with the tenant template', () => {
      assert.ok(filter && output);
      assert.equal(entry(filter, 'namespace_labels'), 'On');
      assert.equal(entry(filter, 'match'), entry(output, 'match'), 'the output sees the records the filter enriched');
      assert.equal(entry(output, 'auto_create_group'), 'false');
    });

    it('sends a tenant pod to exactly the log group its tenant stack creates', () => {
      assert.deepEqual(tenantGroups, ['/spark-platform/dev/tenants/analytics']);
      assert.equal(logGroupOf(output, executorRecord), tenantGroups[0]);
      assert.equal(translate(entry(output, 'log_stream_template')!, executorRecord), 'analytics.spark-0000000350oi3m8c5gk-exec-1.spark-kubernetes-executor');
    });

    it('sends a pod of an unlabelled (platform) namespace to the platform group', () => {
      const record = kubernetesRecord({ namespace: 'karpenter', pod: 'karpenter-5d8c7b-abcde', container: 'controller', namespaceLabels: { 'kubernetes.io/metadata.name': 'karpenter' } });
      assert.equal(logGroupOf(output, record), '/spark-platform/dev/platform');
    });

    it('would have sent tenant logs to the platform group with the old kubernetes.namespace_labels accessor', () => {
      // The kubernetes filter never puts namespace labels inside the pod's "kubernetes" map.
      assert.equal(translate("/spark-platform/dev/tenants/$kubernetes['namespace_labels']['spark-platform.io/tenant']", executorRecord), undefined);
      assert.equal(translate("$kubernetes['namespace_name']", executorRecord), 'analytics');
    });
  });

  it('installs the three VPA components with a pinned image, reusing the EKS metrics-server add-on', () => {
    for (const component of ['recommender', 'updater', 'admissionController']) {
      assert.equal(vpa.values[component].enabled, true, component);
      assert.deepEqual(vpa.values[component].image, { tag: '1.7.1', pullPolicy: 'IfNotPresent' }, component);
    }
    assert.deepEqual(vpa.values['metrics-server'], { enabled: false });
  });

  it('remote-writes to AMP with SigV4 only when enabled', () => {
    assert.deepEqual(kps.values.prometheus.prometheusSpec.remoteWrite, []);
    const withAmp = release(amp, 'kube-prometheus-stack').values.prometheus;
    assert.deepEqual(withAmp.prometheusSpec.remoteWrite, [
      {
        name: 'amazon-managed-prometheus',
        url: '${data.terraform_remote_state.remote-state-observability-infra.outputs.ampRemoteWriteUrl}',
        sigv4: { region: 'us-west-2' },
        queueConfig: { maxSamplesPerSend: 1000, maxShards: 200, capacity: 2500 },
      },
    ]);
    assert.deepEqual(withAmp.serviceAccount, { create: true, name: 'kube-prometheus-stack-prometheus' }, 'the service account the Pod Identity association names');
  });
});
