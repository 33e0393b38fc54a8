/**
 * Cost in Prometheus: recording rules over OpenCost's metrics that give USD per hour per pod,
 * namespace (tenant), capacity type, EMR job and Spark application, and per NodePool (with its idle
 * part), plus the cost of the last 24 hours per namespace; the alert on a tenant's daily budget;
 * and the one-rule PrometheusRule each tenant stack creates to record its budget.
 *
 * Why recording rules: dashboards at 1,000 tenants would otherwise join every container's
 * allocation with its node's prices at every refresh of every panel; here it is done once a
 * minute, and panels read one series per tenant, job or pool.
 *
 * Why budgets as series: the alert compares two series (`namespace:opencost_cost_usd:sum_24h` and
 * `namespace:tenant_daily_budget_usd:value`) on `namespace`, so a budget reaches Prometheus from the
 * tenant's own stack (its own PrometheusRule, in its namespace) and adding, changing or removing
 * one never edits a platform file or state.
 */
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1Rule as Rule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1RuleGroup as RuleGroup } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RuleGroup';
import { EMR_JOB_LABELS } from '../emr-on-eks/job-labels.js';
import { SPARK_POD_LABELS } from '../tenant/pod-templates.js';
import { ksmLabel, RECORDED } from './metrics.js';

/** Node labels kube-state-metrics exposes for cost by pool (helm-values.ts allow-lists them). */
export const NODE_POOL_LABELS = {
  /** Karpenter puts it on every node it launches. */
  karpenter: 'karpenter.sh/nodepool',
  /** EKS puts it on managed node group nodes (the `system` group). */
  nodeGroup: 'eks.amazonaws.com/nodegroup',
} as const;

/** Evaluation interval of the cost recording rules; OpenCost's metrics are scraped once a minute. */
export const COST_RULE_INTERVAL = '1m';
/** Interval of the 24-hour sums (they read 1,440 samples per namespace; every 5 minutes is enough). */
export const DAILY_COST_RULE_INTERVAL = '5m';

const GIB = 1024 ** 3;
const jobLabel = ksmLabel('label', EMR_JOB_LABELS.jobId);
const appLabel = ksmLabel('label', SPARK_POD_LABELS.appSelector);
const karpenterPoolLabel = ksmLabel('label', NODE_POOL_LABELS.karpenter);
const nodeGroupLabel = ksmLabel('label', NODE_POOL_LABELS.nodeGroup);

/** Recording rules of the cost per minute (group `spark-platform.cost`, in this order: later rules read earlier ones). */
export function costRecordingRules(): Rule[] {
  return [
    {
      // CPU cores and memory GiB allocated (max of request and usage) times the node's prices.
      record: RECORDED.podHourlyCost,
      expr: `sum by (namespace, pod, node) (
  sum by (namespace, pod, node) (container_cpu_allocation)
  * on (node) group_left () max by (node) (node_cpu_hourly_cost)
  + sum by (namespace, pod, node) (container_memory_allocation_bytes) / ${GIB}
  * on (node) group_left () max by (node) (node_ram_hourly_cost)
)`,
    },
    { record: RECORDED.namespaceHourlyCost, expr: `sum by (namespace) (${RECORDED.podHourlyCost})` },
    {
      record: RECORDED.nodeCapacityType,
      expr: `max by (node, capacity_type) (
  label_replace(kubecost_node_is_spot == 1, "capacity_type", "spot", "", "")
  or
  label_replace(kubecost_node_is_spot == 0, "capacity_type", "on-demand", "", "")
) * 0 + 1`,
    },
    {
      record: RECORDED.namespaceCapacityTypeHourlyCost,
      expr: `sum by (namespace, capacity_type) (
  ${RECORDED.podHourlyCost}
  * on (node) group_left (capacity_type) ${RECORDED.nodeCapacityType}
)`,
    },
    {
      // Pods of EMR job runs (job id label) and of Spark applications (spark-app-selector): the job
      // submitter has a job id and no application, Spark outside EMR an application and no job id.
      record: RECORDED.jobHourlyCost,
      expr: `sum by (namespace, emr_job_id, spark_app) (
  ${RECORDED.podHourlyCost}
  * on (namespace, pod) group_left (emr_job_id, spark_app)
  max by (namespace, pod, emr_job_id, spark_app) (
    label_replace(
      label_replace(
        kube_pod_labels{${jobLabel}!=""} or kube_pod_labels{${appLabel}!=""},
        "emr_job_id", "$1", "${jobLabel}", "(.*)"
      ),
      "spark_app", "$1", "${appLabel}", "(.*)"
    )
  )
)`,
    },
    {
      record: RECORDED.nodePool,
      expr: `max by (node, nodepool) (
  label_replace(kube_node_labels{${karpenterPoolLabel}!=""}, "nodepool", "$1", "${karpenterPoolLabel}", "(.+)")
  or
  label_replace(kube_node_labels{${nodeGroupLabel}!=""}, "nodepool", "nodegroup/$1", "${nodeGroupLabel}", "(.+)")
)`,
    },
    {
      record: RECORDED.nodePoolHourlyCost,
      expr: `sum by (nodepool) (
  max by (node) (node_total_hourly_cost)
  * on (node) group_left (nodepool) ${RECORDED.nodePool}
)`,
    },
    {
      // What the nodes cost minus what pods are allocated (nodes without pods are idle entirely).
      record: RECORDED.nodePoolIdleHourlyCost,
      expr: `sum by (nodepool) (
  clamp_min(
    max by (node) (node_total_hourly_cost)
    - on (node) (sum by (node) (${RECORDED.podHourlyCost}) or 0 * max by (node) (node_total_hourly_cost)),
    0
  )
  * on (node) group_left (nodepool) ${RECORDED.nodePool}
)`,
    },
  ];
}

/**
 * USD per namespace over the last 24 hours: the hourly cost sampled every minute (a subquery, so
 * the result does not depend on the rule interval) summed and divided by 60. A namespace without
 * pods for part of the day contributes nothing for that part.
 */
export function dailyCostRecordingRules(): Rule[] {
  return [{ record: RECORDED.namespaceDailyCost, expr: `sum_over_time(${RECORDED.namespaceHourlyCost}[24h:1m]) / 60` }];
}

/** The budget alert: a tenant's cost over the last 24 hours above its `cost.dailyBudgetUsd`. */
export function costAlertRules(): Rule[] {
  return [
    {
      alert: 'TenantDailyCostOverBudget',
      expr: `${RECORDED.namespaceDailyCost} > on (namespace) max by (namespace) (${RECORDED.tenantDailyBudget})`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Tenant {{ $labels.namespace }} cost {{ $value | printf "%.2f" }} USD over the last 24 hours, more than its daily budget.',
        description:
          'Estimated by OpenCost from allocated CPU and memory at list and Spot feed prices. See the Grafana dashboard "Cost by tenant and job" for the jobs behind it; the budget is cost.dailyBudgetUsd in tenants/{{ $labels.namespace }}/tenant.yaml.',
      },
    },
  ];
}

/** The platform's cost rule groups (added to PrometheusRule spark-platform). */
export function costRuleGroups(): RuleGroup[] {
  return [
    { name: 'spark-platform.cost', interval: COST_RULE_INTERVAL, rules: costRecordingRules() },
    { name: 'spark-platform.cost-daily', interval: DAILY_COST_RULE_INTERVAL, rules: dailyCostRecordingRules() },
  ];
}
