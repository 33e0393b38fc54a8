import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { checkDashboard, DASHBOARD_FILES, dashboardConfigMap, defaultDashboardsDir, InvalidDashboardError, loadDashboards } from '../modules/observability/dashboards.js';
import { KNOWN_METRICS, ksmLabel, METRIC_FAMILIES, metricFamily, RECORDED, VPA_CUSTOM_RESOURCE_METRICS } from '../modules/observability/metrics.js';
import { parsePromQL, substituteGrafanaVariables } from '../modules/observability/promql.js';
import { recordingRules } from '../modules/observability/rules.js';
import { VPA_METRIC_PREFIX, vpaCustomResourceStateConfig } from '../modules/observability/vpa-metrics.js';
import { TENANT_NAMESPACE_LABEL } from '../modules/scheduling/spark-pools.js';
import { VERTICAL_AUTOSCALING } from '../modules/tenant/pod-templates.js';
import { SOURCE_ROOT } from './support/synth.js';

const dir = join(SOURCE_ROOT, 'modules', 'observability', 'dashboards');
const dashboards = loadDashboards(dir);
const byFile = Object.fromEntries(dashboards.map((d) => [d.file, d]));
const exprsOf = (file: string) => byFile[file]!.queries.map((q) => q.expr).join('\n');

describe('dashboards as code', () => {
  it('ships every JSON file of the dashboards folder, each valid JSON with a unique uid', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).sort()).toEqual([...DASHBOARD_FILES].sort());
    assert.equal(defaultDashboardsDir(), dir, 'found from the compiled module too');
    for (const file of DASHBOARD_FILES) {
      const model = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { uid: string; title: string; panels: unknown[] };
      assert.ok(model.panels.length > 0, file);
    }
    assert.equal(new Set(dashboards.map((d) => d.uid)).size, dashboards.length);
  });

  it('every query of every dashboard parses and names only known metrics', () => {
    let count = 0;
    for (const dashboard of dashboards) {
      for (const query of dashboard.queries) {
        const parsed = parsePromQL(substituteGrafanaVariables(query.expr));
        assert.ok(parsed.metrics.length > 0, `${dashboard.file}: ${query.location} reads no metric`);
        for (const metric of parsed.metrics) assert.ok(KNOWN_METRICS.has(metric), `${dashboard.file}: ${query.location}: ${metric}`);
        count++;
      }
    }
    assert.ok(count >= 40, `${count} queries checked`);
  });

  it('Spark jobs by tenant: running jobs, executors, task throughput and failures, filtered to tenant namespaces', () => {
    const exprs = exprsOf('spark-jobs.json');
    for (const metric of [RECORDED.runningDrivers, RECORDED.runningExecutors, 'metrics_executor_completedTasks_total', 'metrics_executor_failedTasks_total', 'metrics_executor_activeTasks']) {
      assert.ok(exprs.includes(metric), metric);
    }
    const variable = byFile['spark-jobs.json']!.queries.find((q) => q.location === 'variable tenant')!;
    assert.equal(variable.expr, `kube_namespace_labels{${ksmLabel('label', TENANT_NAMESPACE_LABEL)}!=""}`);
  });

  it('Karpenter capacity: nodes and estimated cost by pool, capacity type and zone, interruptions, launch failures', () => {
    const exprs = exprsOf('karpenter-capacity.json');
    assert.ok(exprs.includes('sum by (nodepool, capacity_type, zone) (nodepool_capacity_type_zone:karpenter_nodes_hourly_cost:sum'));
    for (const metric of ['karpenter_nodes_allocatable', 'karpenter_interruption_received_messages_total', 'karpenter_cloudprovider_instance_launch_failures_total', 'karpenter_nodepools_limit', 'karpenter_nodeclaims_disrupted_total']) {
      assert.ok(exprs.includes(metric), metric);
    }
    const cost = recordingRules().find((r) => r.record === RECORDED.nodeHourlyCost)!;
    assert.deepEqual(parsePromQL(String(cost.expr)).metrics, ['karpenter_cloudprovider_instance_type_offering_price_estimate', 'karpenter_nodes_allocatable']);
  });

  it('tenant quota usage from kube_resourcequota', () => {
    assert.ok(exprsOf('tenant-quotas.json').includes(RECORDED.tenantQuotaUsage));
    assert.ok(exprsOf('tenant-quotas.json').includes('kube_resourcequota{'));
  });

  it('EMR vertical autoscaling: recommended vs provisioned vs used memory by job signature', () => {
    const exprs = exprsOf('emr-vertical-autoscaling.json');
    assert.ok(exprs.includes(`${VPA_METRIC_PREFIX}_containerrecommendations_target{resource="memory"`));
    assert.ok(exprs.includes('kube_pod_container_resource_requests{resource="memory"'));
    assert.ok(exprs.includes('container_memory_working_set_bytes'));
    assert.ok(exprs.includes(RECORDED.podSignature));
    // The signature comes from the label the EMR operator puts on its VPAs and the driver annotation.
    const config = vpaCustomResourceStateConfig() as { spec: { resources: { labelsFromPath: Record<string, string[]> }[] } };
    assert.deepEqual(config.spec.resources[0]!.labelsFromPath.signature, ['metadata', 'labels', VERTICAL_AUTOSCALING.signature]);
    const signatureRule = String(recordingRules().find((r) => r.record === RECORDED.podSignature)!.expr);
    assert.ok(signatureRule.includes(ksmLabel('annotation', VERTICAL_AUTOSCALING.signature)));
  });

  it('keeps the list of known metrics consistent with its sources', () => {
    const vpaNames = (vpaCustomResourceStateConfig() as { spec: { resources: { metricNamePrefix: string; metrics: { name: string }[] }[] } }).spec.resources[0]!;
    assert.deepEqual(
      [...new Set(vpaNames.metrics.map((m) => `${vpaNames.metricNamePrefix}_${m.name}`))].sort(),
      [...VPA_CUSTOM_RESOURCE_METRICS.names].sort(),
    );
    const names = METRIC_FAMILIES.flatMap((f) => f.names);
    assert.equal(new Set(names).size, names.length, 'no metric listed twice');
    for (const name of names) assert.match(name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, name);
    assert.equal(metricFamily('karpenter_interruption_message_queue_duration_seconds_bucket')?.source, METRIC_FAMILIES[2]!.source);
    assert.equal(metricFamily('no_such_metric'), undefined);
  });

  it('rejects a dashboard with an unknown metric, a broken query or a Terraform template sequence', () => {
    const model = (expr: string) => JSON.stringify({ uid: 'x', title: 'X', panels: [{ title: 'P', targets: [{ refId: 'A', expr }] }] });
    assert.throws(() => checkDashboard('x.json', model('sum(kube_pod_status_phse)')), (e: unknown) => e instanceof InvalidDashboardError && /x\.json: panel "P" target A: unknown metric\(s\) kube_pod_status_phse/.test(e.message));
    assert.throws(() => checkDashboard('x.json', model('sum(rate(up[5m])')), /x\.json: panel "P" target A: expected "\)"/);
    assert.throws(() => checkDashboard('x.json', model('up{namespace=~"${tenant}"}')), /Terraform would interpolate/);
    assert.throws(() => checkDashboard('x.json', '{"uid": "x",'), /not valid JSON/);
    assert.throws(() => checkDashboard('x.json', JSON.stringify({ uid: 'a b', title: 'X' })), /"uid" must be/);
  });

  it('provisions each dashboard as a ConfigMap the Grafana sidecar finds, in the platform folder', () => {
    const configMap = dashboardConfigMap(byFile['spark-jobs.json']!);
    configMap.validate();
    assert.deepEqual(configMap.metadata, {
      name: 'dashboard-spark-jobs',
      namespace: 'monitoring',
      labels: { grafana_dashboard: '1', 'spark-platform.io/managed-by': 'platform' },
      annotations: { grafana_folder: 'Spark platform' },
    });
    assert.equal(configMap.data!['spark-jobs.json'], readFileSync(join(dir, 'spark-jobs.json'), 'utf8'));
  });
});
