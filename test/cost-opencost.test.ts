import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { SPOT_DATA_FEED_PREFIX, spotDataFeedBucketName } from '../modules/cost/names.js';
import { validatedJson } from '../modules/k8s/manifest.js';
import { CHARTS, MONITORING_NAMESPACE, RELEASES, SERVICE_ACCOUNTS } from '../modules/observability/constants.js';
import { costAlertRules, costRecordingRules, dailyCostRecordingRules } from '../modules/observability/cost-rules.js';
import { loadDashboards } from '../modules/observability/dashboards.js';
import { KNOWN_METRICS, metricFamily, OPENCOST_METRICS, RECORDED } from '../modules/observability/metrics.js';
import { OPENCOST_DROP_DUPLICATES, OPENCOST_PORTS, openCostServiceMonitor } from '../modules/observability/opencost.js';
import { parsePromQL, substituteGrafanaVariables } from '../modules/observability/promql.js';
import { tenantBudgetPrometheusRule, tenantBudgetRule } from '../modules/observability/tenant-budget.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadTenants } from '../stacks/lib/tenant-config.js';
import { resourceLike, resourcesOf, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

type Values = Record<string, any>;
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };

function release(stack: TerraformJson, chart: string): { release: Record<string, unknown>; values: Values } {
  const found = Object.values(resourcesOf(stack, 'helm_release')).filter((r) => r.chart === chart);
  assert.equal(found.length, 1, `one release of ${chart}`);
  return { release: found[0]!, values: JSON.parse((found[0]!.values as string[])[0]!) as Values };
}

const environment = testEnvironment();
const observability = synthStack('observability');
const infra = synthStack('observability-infra');
const noFeed = testEnvironment({ cost: { spotDataFeed: false } });
const observabilityNoFeed = synthStack('observability', noFeed);
const infraNoFeed = synthStack('observability-infra', noFeed);
const openCost = release(observability, 'opencost');
const kps = release(observability, 'kube-prometheus-stack');
const feedBucket = spotDataFeedBucketName({ clusterName: environment.clusterName, accountId: environment.accountId, region: environment.region });

describe('OpenCost release', () => {
  it('is pinned, in the monitoring namespace, after kube-prometheus-stack, on the system nodes, with requests and limits', () => {
    const r = openCost.release;
    assert.deepEqual([r.name, r.namespace, r.repository, r.chart, r.version, r.wait], ['opencost', 'monitoring', 'https://opencost.github.io/opencost-helm-chart', 'opencost', '2.5.17', true]);
    assert.equal(CHARTS.openCost.version, '2.5.17');
    assert.deepEqual((r.depends_on as string[]).map((d) => d.replace(/_[0-9A-F]{8}$/, '')), ['helm_release.observability_kube-prometheus-stack']);
    const oc = openCost.values.opencost;
    assert.deepEqual(oc.nodeSelector, { 'spark-platform.io/pool': 'system' });
    assert.deepEqual(oc.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }]);
    for (const container of [oc.exporter, oc.ui]) {
      assert.ok(container.resources.requests.cpu && container.resources.requests.memory, 'requests');
      assert.ok(container.resources.limits.cpu && container.resources.limits.memory, 'limits');
    }
    assert.equal(oc.exporter.defaultClusterId, '${data.terraform_remote_state.remote-state-cluster.outputs.clusterName}');
  });

  it('reads the platform Prometheus: the kube-prometheus-stack service, namespace and port, and no other setup', () => {
    const prometheus = openCost.values.opencost.prometheus;
    assert.deepEqual(prometheus.internal, { enabled: true, serviceName: 'kube-prometheus-stack-prometheus', namespaceName: MONITORING_NAMESPACE, port: 9090 });
    // The chart fails when more than one of internal, external and amp is enabled.
    assert.equal(prometheus.external.enabled, false);
    assert.equal(prometheus.amp.enabled, false);
    // That service is kube-prometheus-stack's: release name + "-prometheus", in the same namespace, port 9090.
    assert.equal(release(observability, 'kube-prometheus-stack').release.name, RELEASES.kubePrometheusStack);
    assert.equal(prometheus.internal.serviceName, `${RELEASES.kubePrometheusStack}-prometheus`);
    assert.equal(kps.values.prometheus.serviceAccount.name, 'kube-prometheus-stack-prometheus');
  });

  it('turns the MCP server off and exposes nothing outside the cluster (port-forward only)', () => {
    const values = openCost.values;
    assert.equal(values.opencost.mcp.enabled, false);
    assert.equal(values.service.type, 'ClusterIP');
    assert.equal(values.opencost.ui.ingress.enabled, false);
    assert.equal(JSON.stringify(values).includes('LoadBalancer'), false);
    assert.equal(values.opencost.metrics.serviceMonitor.enabled, false, 'scraped by the typed ServiceMonitor of observability-config');
  });

  it('prices Spot nodes from the Spot data feed through the ConfigMap keys OpenCost reads, with Pod Identity (no keys)', () => {
    const pricing = openCost.values.opencost.customPricing;
    assert.equal(pricing.enabled, true);
    assert.equal(pricing.provider, 'aws');
    assert.deepEqual(
      { bucket: pricing.costModel.spotDataBucket, region: pricing.costModel.spotDataRegion, prefix: pricing.costModel.spotDataPrefix, project: pricing.costModel.projectID },
      { bucket: feedBucket, region: 'us-west-2', prefix: SPOT_DATA_FEED_PREFIX, project: environment.accountId },
    );
    // OpenCost matches ConfigMap keys to Go field names: the awsSpotData* spelling of its JSON file would be rejected.
    assert.equal(JSON.stringify(pricing).includes('awsSpotData'), false);
    assert.equal(JSON.stringify(openCost.values).includes('access_key_id'), false);
    assert.deepEqual(openCost.values.serviceAccount, { create: true, name: SERVICE_ACCOUNTS.openCost });
    // The same bucket name as the feed the infra stack creates.
    assert.match(resourceLike(infra, 'aws_spot_datafeed_subscription', 'spot-data-feed').bucket as string, /^\$\{aws_s3_bucket\.spot-data-feed_bucket_[0-9A-F]{8}\.bucket\}$/);
    assert.equal(resourceLike(infra, 'aws_s3_bucket', 'spot-data-feed').bucket, feedBucket);
  });

  it('without the Spot data feed, configures no custom pricing, creates no feed and no OpenCost role', () => {
    assert.equal(release(observabilityNoFeed, 'opencost').values.opencost.customPricing, undefined);
    assert.deepEqual(resourcesOf(infraNoFeed, 'aws_spot_datafeed_subscription'), {});
    assert.equal(Object.keys(resourcesOf(infraNoFeed, 'aws_eks_pod_identity_association')).length, 1);
    assert.equal(infraNoFeed.output!.openCostRoleArn!.value, '');
  });
});

describe('Spot data feed and OpenCost identity (observability-infra)', () => {
  it('subscribes the account to the feed into a bucket with ACLs enabled (EC2 grants itself through them) and S3-managed encryption, never managing its ACL', () => {
    const subscription = resourceLike(infra, 'aws_spot_datafeed_subscription', 'spot-data-feed');
    assert.equal(subscription.prefix, SPOT_DATA_FEED_PREFIX);
    assert.deepEqual(resourceLike(infra, 'aws_s3_bucket_ownership_controls', 'spot-data-feed').rule, { object_ownership: 'BucketOwnerPreferred' });
    const sse = resourceLike(infra, 'aws_s3_bucket_server_side_encryption_configuration', 'spot-data-feed') as { rule: { apply_server_side_encryption_by_default: Record<string, string> }[] };
    assert.deepEqual(sse.rule[0]!.apply_server_side_encryption_by_default, { sse_algorithm: 'AES256' });
    assert.deepEqual(resourcesOf(infra, 'aws_s3_bucket_acl'), {});
    const block = resourceLike(infra, 'aws_s3_bucket_public_access_block', 'spot-data-feed');
    for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.equal(block[flag], true, flag);
    assert.ok((subscription.depends_on as string[]).some((d) => d.includes('aws_s3_bucket_ownership_controls')));
  });

  it('binds OpenCost (monitoring/opencost) through Pod Identity to a role that may only list and read the feed prefix', () => {
    const association = Object.values(resourcesOf(infra, 'aws_eks_pod_identity_association')).find((a) => a.service_account === SERVICE_ACCOUNTS.openCost)!;
    assert.equal(association.namespace, MONITORING_NAMESPACE);
    const role = resourceLike(infra, 'aws_iam_role', 'opencost');
    assert.equal(role.name, 'spark-dev-opencost');
    const trust = JSON.parse(role.assume_role_policy as string) as { Statement: Statement[] };
    assert.deepEqual(trust.Statement[0]!.Condition!.StringEquals!['aws:RequestTag/kubernetes-service-account'], 'opencost');
    const policy = JSON.parse(resourceLike(infra, 'aws_iam_role_policy', 'opencost').policy as string) as { Statement: Statement[] };
    const bucketId = Object.keys(resourcesOf(infra, 'aws_s3_bucket')).find((id) => id.startsWith('spot-data-feed'))!;
    const bucketArn = `\${aws_s3_bucket.${bucketId}.arn}`;
    assert.deepEqual(policy.Statement, [
      { Sid: 'ListSpotDataFeed', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [bucketArn], Condition: { StringLike: { 's3:prefix': ['spot-data-feed/*'] } } },
      { Sid: 'ReadSpotDataFeed', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucketArn}/spot-data-feed/*`] },
    ]);
    assert.match(infra.output!.openCostRoleArn!.value as string, /aws_iam_role\.opencost/);
  });
});

describe('OpenCost metrics in Prometheus', () => {
  const monitor = openCostServiceMonitor();
  const endpoint = monitor.spec!.endpoints![0]!;

  it('scrapes the OpenCost service of the release on its API port, keeping the labels OpenCost sets', () => {
    monitor.validate();
    assert.deepEqual(monitor.metadata!.namespace, MONITORING_NAMESPACE);
    assert.deepEqual(monitor.spec!.selector.matchLabels, { 'app.kubernetes.io/name': 'opencost', 'app.kubernetes.io/instance': RELEASES.openCost });
    assert.deepEqual(monitor.spec!.namespaceSelector, { matchNames: [MONITORING_NAMESPACE] });
    assert.equal(endpoint.port, OPENCOST_PORTS.api.name);
    assert.equal(OPENCOST_PORTS.api.port, openCost.values.opencost.exporter.apiPort ?? 9003);
    assert.equal(endpoint.path, '/metrics');
    assert.equal(endpoint.honorLabels, true);
    // Prometheus selects every ServiceMonitor of every namespace (kube-prometheus-stack values).
    assert.deepEqual(kps.values.prometheus.prometheusSpec.serviceMonitorSelector, {});
    const config = synthStack('observability-config');
    const manifests = Object.values(resourcesOf(config, 'kubernetes_manifest')).map((m) => m.manifest as { kind: string; metadata: { name: string } });
    assert.ok(manifests.some((m) => m.kind === 'ServiceMonitor' && m.metadata.name === 'opencost'));
  });

  it('drops the kube-state-metrics series OpenCost duplicates, and only those', () => {
    const drop = new RegExp(`^(?:${OPENCOST_DROP_DUPLICATES.regex})$`);
    assert.deepEqual(endpoint.metricRelabelings, [OPENCOST_DROP_DUPLICATES]);
    assert.equal(OPENCOST_DROP_DUPLICATES.action, 'drop');
    for (const duplicate of ['kube_pod_labels', 'kube_namespace_labels', 'kube_node_labels', 'kube_node_status_capacity', 'kube_node_status_allocatable']) assert.ok(drop.test(duplicate), duplicate);
    for (const kept of OPENCOST_METRICS.names) assert.ok(!drop.test(kept), kept);
    assert.equal(openCost.values.opencost.metrics.kubeStateMetrics.emitKsmV1MetricsOnly, true);
  });

  it('knows OpenCost metrics, and the cost recording rules read them and only known metrics', () => {
    for (const name of ['node_cpu_hourly_cost', 'node_ram_hourly_cost', 'node_total_hourly_cost', 'kubecost_node_is_spot', 'container_cpu_allocation', 'container_memory_allocation_bytes']) {
      assert.equal(metricFamily(name), OPENCOST_METRICS, name);
    }
    const read = new Set([...costRecordingRules(), ...dailyCostRecordingRules(), ...costAlertRules()].flatMap((r) => parsePromQL(String(r.expr)).metrics));
    for (const metric of read) assert.ok(KNOWN_METRICS.has(metric), metric);
    for (const opencost of ['container_cpu_allocation', 'container_memory_allocation_bytes', 'node_cpu_hourly_cost', 'node_ram_hourly_cost', 'node_total_hourly_cost', 'kubecost_node_is_spot']) {
      assert.ok(read.has(opencost), opencost);
    }
  });

  it('records cost per pod, namespace, capacity type, job and NodePool once a minute, and the last 24 hours every 5 minutes', () => {
    const records = costRecordingRules().map((r) => r.record);
    expect(records).toEqual([
      RECORDED.podHourlyCost,
      RECORDED.namespaceHourlyCost,
      RECORDED.nodeCapacityType,
      RECORDED.namespaceCapacityTypeHourlyCost,
      RECORDED.jobHourlyCost,
      RECORDED.nodePool,
      RECORDED.nodePoolHourlyCost,
      RECORDED.nodePoolIdleHourlyCost,
    ]);
    const job = String(costRecordingRules().find((r) => r.record === RECORDED.jobHourlyCost)!.expr);
    assert.ok(job.includes('label_emr_containers_amazonaws_com_job_id') && job.includes('label_spark_app_selector'));
    // The labels the rules join on are exported by kube-state-metrics.
    const allowlist = kps.values['kube-state-metrics'].metricLabelsAllowlist as string[];
    assert.ok(allowlist.some((a) => a.startsWith('pods=') && a.includes('emr-containers.amazonaws.com/job.id')));
    assert.ok(allowlist.some((a) => a.startsWith('nodes=') && a.includes('karpenter.sh/nodepool')));
    const groups = (JSON.parse(JSON.stringify(Object.values(resourcesOf(synthStack('observability-config'), 'kubernetes_manifest')).map((m) => m.manifest as { kind: string; spec?: { groups?: { name: string; interval?: string }[] } }).find((m) => m.kind === 'PrometheusRule')!.spec!.groups)) as { name: string; interval?: string }[]);
    assert.deepEqual(groups.filter((g) => g.name.startsWith('spark-platform.cost')).map((g) => [g.name, g.interval]), [['spark-platform.cost', '1m'], ['spark-platform.cost-daily', '5m']]);
    assert.equal(dailyCostRecordingRules()[0]!.expr, `sum_over_time(${RECORDED.namespaceHourlyCost}[24h:1m]) / 60`);
  });
});

describe('Cost dashboard', () => {
  const dashboard = loadDashboards().find((d) => d.file === 'tenant-cost.json')!;
  const exprs = dashboard.queries.map((q) => q.expr);

  it('parses every query with the official grammar and reads only known metrics', () => {
    assert.ok(dashboard.queries.length >= 15);
    for (const query of dashboard.queries) {
      const parsed = parsePromQL(substituteGrafanaVariables(query.expr));
      assert.ok(parsed.metrics.length > 0, query.location);
      for (const metric of parsed.metrics) assert.ok(KNOWN_METRICS.has(metric), `${query.location}: ${metric}`);
    }
  });

  it('shows cost by tenant over time, by EMR job and Spark app, Spot vs on-demand, idle cost per NodePool, top jobs and budgets', () => {
    const has = (needle: string) => exprs.some((e) => e.includes(needle));
    assert.ok(has(`sum by (namespace) (${RECORDED.namespaceHourlyCost}{namespace=~"$tenant"})`));
    assert.ok(has(`sum by (namespace, emr_job_id) (${RECORDED.jobHourlyCost}`));
    assert.ok(has(`sum by (namespace, spark_app) (${RECORDED.jobHourlyCost}`));
    assert.ok(has(`sum by (capacity_type) (${RECORDED.namespaceCapacityTypeHourlyCost}`));
    assert.ok(has(`sum by (nodepool) (${RECORDED.nodePoolIdleHourlyCost})`));
    assert.ok(has(`[$__range:1m])) / 60)`), 'top jobs over the dashboard range');
    assert.ok(has(RECORDED.tenantDailyBudget));
    assert.equal(dashboard.title, 'Cost by tenant and job');
  });
});

describe('tenant daily cost budget', () => {
  it('is optional, a positive number of USD, and errors name the file and the field', () => {
    const root = temporaryRoot({
      tenants: {
        alpha: { name: 'alpha', owners: ['arn:aws:iam::111122223333:role/alpha'], quota: { cpu: '10', memory: '40Gi' }, cost: { dailyBudgetUsd: -5 } },
        beta: { name: 'beta', owners: ['arn:aws:iam::111122223333:role/beta'], quota: { cpu: '10', memory: '40Gi' }, cost: { dailyBudget: 5 } },
      },
    });
    assert.throws(
      () => loadTenants(root, environment),
      (error: unknown) =>
        error instanceof ConfigError &&
        /tenants\/alpha\/tenant\.yaml: cost\.dailyBudgetUsd: expected a number > 0, found number -5/.test(error.message) &&
        /tenants\/beta\/tenant\.yaml: cost\.dailyBudget: expected no field named "dailyBudget"/.test(error.message),
    );
  });

  it('reaches Prometheus from the tenant stack: a PrometheusRule in its namespace recording the budget the platform alert compares with', () => {
    const risk = synthStack('tenant-risk-models');
    const rules = Object.values(resourcesOf(risk, 'kubernetes_manifest')).map((m) => m.manifest as { kind: string; metadata: Record<string, any>; spec: { groups: { rules: Record<string, any>[] }[] } }).filter((m) => m.kind === 'PrometheusRule');
    assert.equal(rules.length, 1);
    assert.deepEqual(rules[0]!.metadata, { name: 'cost-budget', namespace: 'risk-models', labels: { 'spark-platform.io/managed-by': 'platform' } });
    assert.deepEqual(rules[0]!.spec.groups[0]!.rules, [{ record: RECORDED.tenantDailyBudget, expr: 'vector(1500)', labels: { namespace: 'risk-models' } }]);
    // A tenant without a budget has no rule (and no alert can fire for it).
    const analytics = synthStack('tenant-analytics');
    assert.equal(Object.values(resourcesOf(analytics, 'kubernetes_manifest')).filter((m) => (m.manifest as { kind: string }).kind === 'PrometheusRule').length, 0);
    // The alert compares the 24-hour cost with that series, on the namespace.
    const alert = costAlertRules()[0]!;
    assert.equal(alert.alert, 'TenantDailyCostOverBudget');
    assert.equal(alert.expr, `${RECORDED.namespaceDailyCost} > on (namespace) max by (namespace) (${RECORDED.tenantDailyBudget})`);
    assert.deepEqual(parsePromQL(tenantBudgetRule({ tenant: 'x', dailyBudgetUsd: 12.5 }).expr as string).type, 'instant');
    validatedJson(tenantBudgetPrometheusRule({ tenant: 'x', dailyBudgetUsd: 12.5 }));
    assert.throws(() => tenantBudgetRule({ tenant: 'x', dailyBudgetUsd: 0 }), /daily budget must be a number > 0/);
  });
});
