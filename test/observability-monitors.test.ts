import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { validatedJson } from '../modules/k8s/manifest.js';
import { SPARK_METRICS_PATHS, SPARK_PROMETHEUS_CONF, SPARK_UI_PORT, SPARK_UI_PORT_NAME } from '../modules/observability/constants.js';
import { karpenterServiceMonitor, sparkDriversPodMonitor } from '../modules/observability/monitors.js';
import { costRecordingRules, dailyCostRecordingRules } from '../modules/observability/cost-rules.js';
import { KNOWN_METRICS, RECORDED } from '../modules/observability/metrics.js';
import { parsePromQL } from '../modules/observability/promql.js';
import { alertRules, checkRules, DEFAULT_THRESHOLDS, InvalidRuleError, platformPrometheusRule, recordingRules } from '../modules/observability/rules.js';
import { SPARK_UI_PORT as TENANT_SPARK_UI_PORT } from '../modules/tenant/namespace-objects.js';
import { resourcesOf, synthStack, testEnvironment, type TerraformJson } from './support/synth.js';

const tf = synthStack('observability-config');
const manifests = (stack: TerraformJson) => Object.values(resourcesOf(stack, 'kubernetes_manifest')).map((m) => m.manifest as Record<string, any>);
const objects = manifests(tf);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);

type RuleJson = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
const rule = ofKind('PrometheusRule')[0]!;
const groups = rule.spec.groups as { name: string; rules: RuleJson[] }[];
const alerts = Object.fromEntries(groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert!, r]));

describe('observability-config stack (monitors, rules, dashboards)', () => {
  it('holds the custom resources in their own state, on the kubernetes provider only', () => {
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/observability-config.tfstate');
    assert.deepEqual(Object.keys(resourcesOf(tf, 'helm_release')), []);
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).sort(),
      [
        'ConfigMap monitoring/dashboard-emr-vertical-autoscaling',
        'ConfigMap monitoring/dashboard-karpenter-capacity',
        'ConfigMap monitoring/dashboard-spark-jobs',
        'ConfigMap monitoring/dashboard-tenant-cost',
        'ConfigMap monitoring/dashboard-tenant-quotas',
        'PodMonitor monitoring/spark-drivers',
        'PrometheusRule monitoring/spark-platform',
        'ServiceMonitor karpenter/karpenter',
        'ServiceMonitor monitoring/opencost',
      ],
    );
  });

  it('scrapes both Prometheus endpoints of every Spark driver in every namespace, labelled with the tenant', () => {
    const monitor = ofKind('PodMonitor')[0]!;
    assert.deepEqual(monitor.spec.namespaceSelector, { any: true });
    assert.deepEqual(monitor.spec.selector, { matchLabels: { 'spark-role': 'driver' } });
    assert.deepEqual(monitor.spec.podTargetLabels, ['spark-app-selector']);
    const endpoints = monitor.spec.podMetricsEndpoints as Record<string, any>[];
    assert.deepEqual(
      endpoints.map((e) => [e.port, e.path]),
      [
        ['spark-ui', '/metrics/driver/prometheus/'],
        ['spark-ui', '/metrics/executors/prometheus/'],
      ],
    );
    for (const endpoint of endpoints) {
      assert.deepEqual(endpoint.relabelings, [{ action: 'replace', sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: 'tenant' }]);
    }
    // Driver metric names embed the application id; they are rewritten to stable names.
    assert.deepEqual(endpoints[0]!.metricRelabelings, [
      { action: 'replace', regex: 'metrics_.+_driver_(.+)', replacement: 'spark_driver_$1', sourceLabels: ['__name__'], targetLabel: '__name__' },
    ]);
    const rewrite = (name: string) => name.replace(new RegExp(`^${endpoints[0]!.metricRelabelings[0].regex}$`), endpoints[0]!.metricRelabelings[0].replacement.replace('$1', '$$1'));
    assert.equal(rewrite('metrics_spark_00000003abcd_driver_DAGScheduler_job_activeJobs_Value'), 'spark_driver_DAGScheduler_job_activeJobs_Value');
    assert.ok(KNOWN_METRICS.has(rewrite('metrics_spark_00000003abcd_driver_DAGScheduler_job_activeJobs_Value')));
    // The port the tenant NetworkPolicies open is the Spark UI port this monitor scrapes.
    assert.equal(SPARK_UI_PORT_NAME, 'spark-ui');
    assert.equal(TENANT_SPARK_UI_PORT, SPARK_UI_PORT);
    assert.deepEqual(SPARK_METRICS_PATHS, { driver: '/metrics/driver/prometheus/', executors: '/metrics/executors/prometheus/' });
    // The Spark configuration tenants' jobs carry serves exactly these paths.
    assert.deepEqual(SPARK_PROMETHEUS_CONF, {
      'spark.ui.prometheus.enabled': 'true',
      'spark.metrics.conf.*.sink.prometheusServlet.class': 'org.apache.spark.metrics.sink.PrometheusServlet',
      'spark.metrics.conf.*.sink.prometheusServlet.path': endpoints[0]!.path,
    });
  });

  it("scrapes Karpenter's controller Service on http-metrics", () => {
    const monitor = ofKind('ServiceMonitor')[0]!;
    assert.deepEqual(monitor.spec, {
      namespaceSelector: { matchNames: ['karpenter'] },
      selector: { matchLabels: { 'app.kubernetes.io/name': 'karpenter', 'app.kubernetes.io/instance': 'karpenter' } },
      endpoints: [{ port: 'http-metrics', path: '/metrics', interval: '30s' }],
    });
  });

  it('validates monitors and rules against the prometheus-operator schemas', () => {
    for (const object of [sparkDriversPodMonitor(), karpenterServiceMonitor(), platformPrometheusRule()]) assert.doesNotThrow(() => object.validate());
    assert.throws(
      () => validatedJson(new PodMonitor({ metadata: { name: 'x', namespace: 'monitoring' }, spec: { selector: {}, podMetricsEndpoints: [{ port: 'spark-ui', relabelings: [{ action: 'rewrite' as 'replace' }] }] } })),
      /PodMonitor monitoring\/x \(monitoring.coreos.com\/v1\) is invalid: .*relabelings\/0\/action must be equal to one of the allowed values/,
    );
    assert.throws(() => validatedJson(new ServiceMonitor({ metadata: { name: 'x' }, spec: { selector: {}, endpoints: [{ interval: 'often' }] } })), /is invalid: .*endpoints\/0\/interval must match pattern/);
    assert.throws(() => validatedJson(new PrometheusRule({ metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up', for: 'soon' }] }] } })), /is invalid: .*rules\/0\/for must match pattern/);
  });

  it('records the series the dashboards build on, each once', () => {
    const recorded = groups.flatMap((g) => g.rules).filter((r) => r.record).map((r) => r.record!);
    // Budgets are recorded by each tenant's own stack (tenant-budget.ts).
    assert.deepEqual(recorded.sort(), Object.values(RECORDED).filter((name) => name !== RECORDED.tenantDailyBudget).sort());
    assert.deepEqual([...recordingRules(), ...costRecordingRules(), ...dailyCostRecordingRules()].map((r) => r.record).sort(), recorded.sort());
  });

  it('alerts on tenant quota, pending pods, Karpenter launch failures, limits and interruptions, and Prometheus storage', () => {
    assert.deepEqual(Object.keys(alerts).sort(), [
      'KarpenterInterruptionSpike',
      'KarpenterLaunchFailures',
      'KarpenterNodePoolNearLimit',
      'KarpenterPodsUnschedulable',
      'PodPendingTooLong',
      'PrometheusVolumeFillingUp',
      'PrometheusVolumeFullIn4Days',
      'TenantDailyCostOverBudget',
      'TenantQuotaAlmostExhausted',
    ]);
    assert.equal(alerts.TenantQuotaAlmostExhausted!.expr, 'namespace_resource:tenant_quota_used:ratio > 0.9');
    assert.deepEqual([alerts.PodPendingTooLong!.expr, alerts.PodPendingTooLong!.for], ['max by (namespace, pod) (kube_pod_status_phase{phase="Pending"}) > 0', '15m']);
    assert.match(alerts.KarpenterLaunchFailures!.expr, /increase\(karpenter_cloudprovider_instance_launch_failures_total\[15m\]\)\) > 10$/);
    assert.match(alerts.KarpenterInterruptionSpike!.expr, /message_type=~"spot_interrupted\|scheduled_change\|capacity_reservation_interrupted"/);
    assert.match(alerts.PrometheusVolumeFillingUp!.expr, /namespace="monitoring", persistentvolumeclaim=~"prometheus-\.\+-db-prometheus-\.\+".*< 0\.15$/);
    for (const alert of Object.values(alerts)) assert.ok(['warning', 'critical'].includes(alert.labels!.severity!), alert.alert);
    // The tenant quota ratio only covers namespaces labelled as tenants.
    const quota = groups.flatMap((g) => g.rules).find((r) => r.record === RECORDED.tenantQuotaUsage)!;
    assert.match(quota.expr, /kube_namespace_labels\{label_spark_platform_io_tenant!=""\}/);
  });

  it('takes the thresholds from the environment', () => {
    const custom = synthStack(
      'observability-config',
      testEnvironment({ observability: { alerts: { tenantQuotaPercent: 80, podPendingMinutes: 30, karpenterLaunchFailuresPer15m: 3, prometheusVolumeFreePercent: 20 } } }),
    );
    const customAlerts = Object.fromEntries(
      (manifests(custom).find((o) => o.kind === 'PrometheusRule')!.spec.groups as { rules: RuleJson[] }[]).flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert!, r]),
    );
    assert.equal(customAlerts.TenantQuotaAlmostExhausted!.expr, 'namespace_resource:tenant_quota_used:ratio > 0.8');
    assert.equal(customAlerts.PodPendingTooLong!.for, '30m');
    assert.match(customAlerts.KarpenterLaunchFailures!.expr, / > 3$/);
    assert.match(customAlerts.PrometheusVolumeFillingUp!.expr, / < 0\.2$/);
    assert.deepEqual(DEFAULT_THRESHOLDS.tenantQuotaRatio, 0.9);
  });

  it('every alert and recording expression parses and reads only known metrics', () => {
    for (const r of groups.flatMap((g) => g.rules)) {
      const parsed = parsePromQL(r.expr);
      assert.equal(parsed.type, 'instant', r.alert ?? r.record);
      for (const metric of parsed.metrics) assert.ok(KNOWN_METRICS.has(metric), `${r.alert ?? r.record}: ${metric}`);
    }
    assert.throws(() => checkRules([{ alert: 'Typo', expr: 'sum(kube_resourcequot)' }]), (e: unknown) => e instanceof InvalidRuleError && /rule Typo: unknown metric\(s\) kube_resourcequot/.test(e.message));
    assert.throws(() => checkRules([{ alert: 'Broken', expr: 'sum(rate(up[5m])' }]), /rule Broken: expected "\)"/);
    assert.throws(() => checkRules([{ record: 'r', expr: 'up[5m]' }]), /must return an instant vector, not a range/);
    assert.equal(alertRules().length, 8);
  });
});
