/**
 * The platform's PrometheusRule: recording rules the dashboards build on (cost ones in
 * cost-rules.ts), and the alerts a platform team acts on (tenant quota nearly exhausted, pods
 * pending too long, Karpenter unable to launch capacity or losing it to interruptions, Prometheus'
 * own volume filling up, a tenant over its daily cost budget). Every
 * expression is parsed and its metric names are checked against metrics.ts when the object is
 * built, so a broken rule fails synth, not the on-call engineer.
 */
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1Rule as Rule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { SPARK_POD_LABELS, VERTICAL_AUTOSCALING } from '../tenant/pod-templates.js';
import { MONITORING_NAMESPACE } from './constants.js';
import { costAlertRules, costRuleGroups } from './cost-rules.js';
import { KNOWN_METRICS, ksmLabel, RECORDED } from './metrics.js';
import { parsePromQL } from './promql.js';

export interface AlertThresholds {
  /**
   * Alert when a tenant's ResourceQuota use is above this fraction of the hard limit.
   * @default 0.9
   */
  readonly tenantQuotaRatio?: number;
  /**
   * Alert when a pod has been Pending for longer than this many minutes.
   * @default 15
   */
  readonly podPendingMinutes?: number;
  /**
   * Alert when Karpenter's failed instance launches (CreateFleet offerings) in 15 minutes exceed this.
   * @default 10
   */
  readonly launchFailuresPer15m?: number;
  /**
   * Alert when interruption notices (Spot interruptions, scheduled changes, capacity reservation
   * reclaims) in 15 minutes exceed this.
   * @default 5
   */
  readonly interruptionsPer15m?: number;
  /**
   * Alert when a NodePool has used more than this fraction of its CPU limit.
   * @default 0.9
   */
  readonly nodePoolLimitRatio?: number;
  /**
   * Alert when Prometheus' volume has less than this fraction free.
   * @default 0.15
   */
  readonly prometheusVolumeFreeRatio?: number;
}

export interface PlatformRulesProps {
  readonly thresholds?: AlertThresholds;
  /**
   * Namespace of the PrometheusRule and of the Prometheus volume the storage alerts watch.
   * @default MONITORING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Object name.
   * @default 'spark-platform'
   */
  readonly name?: string;
}

export const DEFAULT_THRESHOLDS: Required<AlertThresholds> = {
  tenantQuotaRatio: 0.9,
  podPendingMinutes: 15,
  launchFailuresPer15m: 10,
  interruptionsPer15m: 5,
  nodePoolLimitRatio: 0.9,
  prometheusVolumeFreeRatio: 0.15,
};

/** Interruption notices that take capacity away (rebalance recommendations only hint at it). */
export const INTERRUPTION_ALERT_MESSAGE_TYPES = ['spot_interrupted', 'scheduled_change', 'capacity_reservation_interrupted'] as const;

const tenantLabel = ksmLabel('label', TENANT_NAMESPACE_LABEL);
const roleLabel = ksmLabel('label', SPARK_POD_LABELS.role);
const appLabel = ksmLabel('label', SPARK_POD_LABELS.appSelector);
const signatureAnnotation = ksmLabel('annotation', VERTICAL_AUTOSCALING.signature);

function runningPodsOfRole(role: 'driver' | 'executor'): string {
  return `count by (namespace) (
  kube_pod_labels{${roleLabel}="${role}"}
  * on (namespace, pod) group_left ()
  (kube_pod_status_phase{phase="Running"} == 1)
)`;
}

/** Recording rules (group `spark-platform.recording`). */
export function recordingRules(): Rule[] {
  return [
    { record: RECORDED.runningDrivers, expr: runningPodsOfRole('driver') },
    { record: RECORDED.runningExecutors, expr: runningPodsOfRole('executor') },
    {
      record: RECORDED.tenantQuotaUsage,
      expr: `(
  max by (namespace, resourcequota, resource) (kube_resourcequota{type="used"})
  / on (namespace, resourcequota, resource)
  max by (namespace, resourcequota, resource) (kube_resourcequota{type="hard"} > 0)
)
* on (namespace) group_left ()
max by (namespace) (kube_namespace_labels{${tenantLabel}!=""})`,
    },
    {
      // Node count per offering times Karpenter's own price estimate of the offering (USD/hour).
      record: RECORDED.nodeHourlyCost,
      expr: `sum by (nodepool, capacity_type, zone) (
  count by (nodepool, capacity_type, zone, instance_type) (karpenter_nodes_allocatable{resource_type="cpu"})
  * on (instance_type, capacity_type, zone) group_left ()
  max by (instance_type, capacity_type, zone) (karpenter_cloudprovider_instance_type_offering_price_estimate)
)`,
    },
    {
      // The signature annotation is on the driver only; executors inherit it through the
      // application id (spark-app-selector) they share with their driver.
      record: RECORDED.podSignature,
      expr: `max by (namespace, pod, signature, spark_role) (
  label_replace(
    label_replace(kube_pod_labels{${appLabel}!=""}, "spark_role", "$1", "${roleLabel}", "(.*)"),
    "app", "$1", "${appLabel}", "(.*)"
  )
  * on (namespace, app) group_left (signature)
  max by (namespace, app, signature) (
    label_replace(
      label_replace(
        kube_pod_annotations{${signatureAnnotation}!=""}
        * on (namespace, pod) group_left (${appLabel}) kube_pod_labels,
        "signature", "$1", "${signatureAnnotation}", "(.+)"
      ),
      "app", "$1", "${appLabel}", "(.+)"
    )
  )
)`,
    },
  ];
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

/** Alerting rules (group `spark-platform.alerts`). */
export function alertRules(thresholds: AlertThresholds = {}, monitoringNamespace: string = MONITORING_NAMESPACE): Rule[] {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const prometheusVolume = `namespace="${monitoringNamespace}", persistentvolumeclaim=~"prometheus-.+-db-prometheus-.+"`;
  return [
    {
      alert: 'TenantQuotaAlmostExhausted',
      expr: `${RECORDED.tenantQuotaUsage} > ${t.tenantQuotaRatio}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Tenant {{ $labels.namespace }} uses more than ${percent(t.tenantQuotaRatio)} of its {{ $labels.resource }} quota.`,
        description:
          'ResourceQuota {{ $labels.resourcequota }} in {{ $labels.namespace }} is at {{ $value | humanizePercentage }} for {{ $labels.resource }}. New Spark executors will be rejected at admission; raise the quota in tenants/{{ $labels.namespace }}/tenant.yaml or reduce concurrency.',
      },
    },
    {
      alert: 'PodPendingTooLong',
      expr: `max by (namespace, pod) (kube_pod_status_phase{phase="Pending"}) > 0`,
      for: `${t.podPendingMinutes}m`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.namespace }}/{{ $labels.pod }} has been Pending for more than ${t.podPendingMinutes} minutes.`,
        description:
          'Check `kubectl describe pod` for the scheduling event, the Karpenter dashboard for launch failures or NodePool limits, and the tenant quota dashboard.',
      },
    },
    {
      alert: 'KarpenterLaunchFailures',
      expr: `sum by (zone, capacity_type, reason) (increase(karpenter_cloudprovider_instance_launch_failures_total[15m])) > ${t.launchFailuresPer15m}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Karpenter cannot launch {{ $labels.capacity_type }} capacity in {{ $labels.zone }} ({{ $labels.reason }}).',
        description: `More than ${t.launchFailuresPer15m} instance offerings failed to launch in 15 minutes. Spot pools may be exhausted in that zone; widen the instance families of the pool or allow another zone.`,
      },
    },
    {
      alert: 'KarpenterPodsUnschedulable',
      expr: `sum(karpenter_scheduler_unschedulable_pods_count) > 0`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Karpenter has found no NodePool for {{ $value }} pending pod(s) for 15 minutes.',
        description: 'A pod asks for something no NodePool offers (selector, toleration, size) or a pool is at its limits; see the Karpenter controller logs in the platform log group.',
      },
    },
    {
      alert: 'KarpenterNodePoolNearLimit',
      expr: `karpenter_nodepools_usage{resource_type="cpu"} / on (nodepool, resource_type) karpenter_nodepools_limit{resource_type="cpu"} > ${t.nodePoolLimitRatio}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `NodePool {{ $labels.nodepool }} uses more than ${percent(t.nodePoolLimitRatio)} of its CPU limit.`,
        description: 'Raise compute.pools.<pool>.limits in the environment file, or expect pending Spark pods.',
      },
    },
    {
      alert: 'KarpenterInterruptionSpike',
      expr: `sum by (message_type) (increase(karpenter_interruption_received_messages_total{message_type=~"${INTERRUPTION_ALERT_MESSAGE_TYPES.join('|')}"}[15m])) > ${t.interruptionsPer15m}`,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Karpenter received {{ $value | humanize }} {{ $labels.message_type }} notices in 15 minutes.',
        description: 'Spot capacity is being reclaimed faster than usual; executors will be decommissioned and stages retried. Consider more instance families or on-demand executors for critical tenants.',
      },
    },
    {
      alert: 'PrometheusVolumeFillingUp',
      expr: `kubelet_volume_stats_available_bytes{${prometheusVolume}} / kubelet_volume_stats_capacity_bytes{${prometheusVolume}} < ${t.prometheusVolumeFreeRatio}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Prometheus volume {{ $labels.persistentvolumeclaim }} has less than ${percent(t.prometheusVolumeFreeRatio)} free space.`,
        description: 'Increase observability.prometheusStorageSize (the gp3 StorageClass allows expansion) or shorten observability.prometheusRetention.',
      },
    },
    {
      alert: 'PrometheusVolumeFullIn4Days',
      expr: `predict_linear(kubelet_volume_stats_available_bytes{${prometheusVolume}}[6h], 4 * 24 * 3600) < 0`,
      for: '1h',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Prometheus volume {{ $labels.persistentvolumeclaim }} will be full within 4 days at the current rate.',
        description: 'Prometheus stops ingesting when its volume is full. Increase observability.prometheusStorageSize now.',
      },
    },
  ];
}

/** A problem in a rule expression, naming the rule. */
export class InvalidRuleError extends Error {
  override name = 'InvalidRuleError';
}

/** Parses every expression and checks its metric names; throws InvalidRuleError on the first problem. */
export function checkRules(rules: readonly Rule[]): void {
  for (const rule of rules) {
    const name = rule.alert ?? rule.record ?? '(unnamed)';
    let parsed;
    try {
      parsed = parsePromQL(String(rule.expr));
    } catch (error) {
      throw new InvalidRuleError(`rule ${name}: ${(error as Error).message}`);
    }
    if (parsed.type !== 'instant' && parsed.type !== 'scalar') throw new InvalidRuleError(`rule ${name}: the expression must return an instant vector, not a ${parsed.type}`);
    const unknown = parsed.metrics.filter((m) => !KNOWN_METRICS.has(m));
    if (unknown.length > 0) throw new InvalidRuleError(`rule ${name}: unknown metric(s) ${unknown.join(', ')} (add them to modules/observability/metrics.ts with their source)`);
  }
}

/** The PrometheusRule object, checked. */
export function platformPrometheusRule(props: PlatformRulesProps = {}): PrometheusRule {
  const namespace = props.namespace ?? MONITORING_NAMESPACE;
  const recording = recordingRules();
  const cost = costRuleGroups();
  const alerts = [...alertRules(props.thresholds, namespace), ...costAlertRules()];
  checkRules([...recording, ...cost.flatMap((g) => g.rules ?? []), ...alerts]);
  return new PrometheusRule({
    metadata: { name: props.name ?? 'spark-platform', namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } },
    spec: {
      groups: [
        { name: 'spark-platform.recording', rules: recording },
        ...cost,
        { name: 'spark-platform.alerts', rules: alerts },
      ],
    },
  });
}
