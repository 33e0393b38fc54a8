/**
 * Every metric name the dashboards, alerts and recording rules of the platform may use, in one
 * place, with where each family comes from. Tests check that every PromQL expression we ship
 * (dashboards/*.json, PrometheusRules) only names metrics listed here, so a renamed upstream
 * metric or a typo fails the build instead of showing an empty panel.
 */
import { vpaMetricNames } from './vpa-metrics.js';

export interface MetricFamily {
  /** Who exposes the metrics. */
  readonly source: string;
  /** Where the names were checked. */
  readonly reference: string;
  readonly names: readonly string[];
  /**
   * Histograms among `names`: a query may also use `<name>_bucket`, `<name>_sum`, `<name>_count`.
   * @default none
   */
  readonly histograms?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Spark
// ---------------------------------------------------------------------------------------------

/**
 * Driver endpoint `/metrics/executors/prometheus/` (`spark.ui.prometheus.enabled=true`, Spark
 * 3.0+): one series per executor (and one for the driver, `executor_id="driver"`), labelled
 * `application_id`, `application_name`, `executor_id`. Names: apache/spark
 * core/src/main/scala/org/apache/spark/status/api/v1/PrometheusResource.scala (the `_bytes` /
 * `_total` suffixes are those of Spark 3.0.0 and later, see docs/monitoring.md "Executor Metrics").
 */
const SPARK_EXECUTOR_PEAK_MEMORY = [
  'JVMHeapMemory',
  'JVMOffHeapMemory',
  'OnHeapExecutionMemory',
  'OffHeapExecutionMemory',
  'OnHeapStorageMemory',
  'OffHeapStorageMemory',
  'OnHeapUnifiedMemory',
  'OffHeapUnifiedMemory',
  'DirectPoolMemory',
  'MappedPoolMemory',
  'ProcessTreeJVMVMemory',
  'ProcessTreeJVMRSSMemory',
  'ProcessTreePythonVMemory',
  'ProcessTreePythonRSSMemory',
  'ProcessTreeOtherVMemory',
  'ProcessTreeOtherRSSMemory',
] as const;

export const SPARK_EXECUTOR_METRICS: MetricFamily = {
  source: 'Spark driver UI, /metrics/executors/prometheus/ (PrometheusResource)',
  reference: 'apache/spark core/src/main/scala/org/apache/spark/status/api/v1/PrometheusResource.scala; docs/monitoring.md',
  names: [
    'spark_info',
    'metrics_executor_rddBlocks',
    'metrics_executor_memoryUsed_bytes',
    'metrics_executor_diskUsed_bytes',
    'metrics_executor_totalCores',
    'metrics_executor_maxTasks',
    'metrics_executor_activeTasks',
    'metrics_executor_failedTasks_total',
    'metrics_executor_completedTasks_total',
    'metrics_executor_totalTasks_total',
    'metrics_executor_totalDuration_seconds_total',
    'metrics_executor_totalGCTime_seconds_total',
    'metrics_executor_totalInputBytes_bytes_total',
    'metrics_executor_totalShuffleRead_bytes_total',
    'metrics_executor_totalShuffleWrite_bytes_total',
    'metrics_executor_maxMemory_bytes',
    'metrics_executor_usedOnHeapStorageMemory_bytes',
    'metrics_executor_usedOffHeapStorageMemory_bytes',
    'metrics_executor_totalOnHeapStorageMemory_bytes',
    'metrics_executor_totalOffHeapStorageMemory_bytes',
    ...SPARK_EXECUTOR_PEAK_MEMORY.map((m) => `metrics_executor_${m}_bytes`),
    'metrics_executor_MinorGCCount_total',
    'metrics_executor_MajorGCCount_total',
    'metrics_executor_MinorGCTime_seconds_total',
    'metrics_executor_MajorGCTime_seconds_total',
  ],
};

/**
 * Prefix the driver PodMonitor gives the driver's own metrics system. Spark's PrometheusServlet
 * names a metric `metrics_<spark.metrics.namespace>_driver_<source>_<name>_<Number|Value|Count>`,
 * where the namespace defaults to the application id, so every job would create new metric names;
 * the PodMonitor rewrites `metrics_<anything>_driver_<rest>` to `spark_driver_<rest>` (the app id
 * is on the series anyway, as the `spark_app_selector` target label).
 */
export const SPARK_DRIVER_METRIC_PREFIX = 'spark_driver_';
/** Regex of the raw driver metric names, with the part kept as `$1`. */
export const SPARK_DRIVER_RAW_NAME = 'metrics_.+_driver_(.+)';

/** Gauges of the driver metrics system (PrometheusServlet writes each as `_Number` and `_Value`). */
const SPARK_DRIVER_GAUGES: Readonly<Record<string, readonly string[]>> = {
  // core/src/main/scala/org/apache/spark/scheduler/DAGSchedulerSource.scala
  DAGScheduler: ['stage_failedStages', 'stage_runningStages', 'stage_waitingStages', 'job_allJobs', 'job_activeJobs'],
  // docs/monitoring.md, "Component instance = Driver", namespace=BlockManager
  BlockManager: [
    'disk_diskSpaceUsed_MB',
    'memory_maxMem_MB',
    'memory_maxOffHeapMem_MB',
    'memory_maxOnHeapMem_MB',
    'memory_memUsed_MB',
    'memory_offHeapMemUsed_MB',
    'memory_onHeapMemUsed_MB',
    'memory_remainingMem_MB',
    'memory_remainingOffHeapMem_MB',
    'memory_remainingOnHeapMem_MB',
  ],
  // docs/monitoring.md, namespace=ExecutorAllocationManager (dynamic allocation only)
  ExecutorAllocationManager: [
    'executors_numberExecutorsToAdd',
    'executors_numberExecutorsPendingToRemove',
    'executors_numberAllExecutors',
    'executors_numberTargetExecutors',
    'executors_numberMaxNeededExecutors',
  ],
};

/** The name a driver gauge has after the PodMonitor's rewrite. */
export function sparkDriverMetric(source: string, metric: string, suffix: 'Value' | 'Number' = 'Value'): string {
  return `${SPARK_DRIVER_METRIC_PREFIX}${source}_${metric}_${suffix}`;
}

export const SPARK_DRIVER_METRICS: MetricFamily = {
  source: 'Spark driver UI, /metrics/driver/prometheus/ (PrometheusServlet sink), renamed by the driver PodMonitor',
  reference: 'apache/spark core/src/main/scala/org/apache/spark/metrics/sink/PrometheusServlet.scala; DAGSchedulerSource.scala; docs/monitoring.md',
  names: Object.entries(SPARK_DRIVER_GAUGES).flatMap(([source, metrics]) =>
    metrics.flatMap((m) => [sparkDriverMetric(source, m, 'Value'), sparkDriverMetric(source, m, 'Number')]),
  ),
};

// ---------------------------------------------------------------------------------------------
// Karpenter v1.14
// ---------------------------------------------------------------------------------------------

export const KARPENTER_METRICS: MetricFamily = {
  source: 'Karpenter controller, service port http-metrics (8080) /metrics',
  reference: 'aws/karpenter-provider-aws website/content/en/v1.14/reference/metrics.md (generated from the code)',
  names: [
    'karpenter_build_info',
    'karpenter_nodeclaims_created_total',
    'karpenter_nodeclaims_terminated_total',
    'karpenter_nodeclaims_disrupted_total',
    'karpenter_nodeclaims_unhealthy_disrupted_total',
    'karpenter_nodes_allocatable',
    'karpenter_nodes_total_pod_requests',
    'karpenter_nodes_total_pod_limits',
    'karpenter_nodes_total_daemon_requests',
    'karpenter_nodes_system_overhead',
    'karpenter_nodes_created_total',
    'karpenter_nodes_terminated_total',
    'karpenter_nodes_drained_total',
    'karpenter_nodes_current_lifetime_seconds',
    'karpenter_pods_state',
    'karpenter_pods_eviction_requests_total',
    'karpenter_voluntary_disruption_decisions_total',
    'karpenter_voluntary_disruption_eligible_nodes',
    'karpenter_scheduler_unschedulable_pods_count',
    'karpenter_scheduler_queue_depth',
    'karpenter_nodepools_usage',
    'karpenter_nodepools_limit',
    'karpenter_nodepools_allowed_disruptions',
    'karpenter_nodepools_cost_total',
    'karpenter_interruption_received_messages_total',
    'karpenter_interruption_deleted_messages_total',
    'karpenter_interruption_instance_status_unhealthy_total',
    'karpenter_interruption_message_queue_duration_seconds',
    'karpenter_cluster_utilization_percent',
    'karpenter_cluster_state_synced',
    'karpenter_cluster_state_node_count',
    'karpenter_cloudprovider_instance_type_offering_price_estimate',
    'karpenter_cloudprovider_instance_type_offering_available',
    'karpenter_cloudprovider_instance_type_cpu_cores',
    'karpenter_cloudprovider_instance_type_memory_bytes',
    'karpenter_cloudprovider_instance_launch_failures_total',
    'karpenter_cloudprovider_instance_termination_failures_total',
    'karpenter_cloudprovider_errors_total',
  ],
  histograms: ['karpenter_interruption_message_queue_duration_seconds'],
};

/** Values of the `message_type` label of `karpenter_interruption_received_messages_total` that mean capacity is going away. */
export const KARPENTER_INTERRUPTION_MESSAGE_TYPES = ['spot_interrupted', 'rebalance_recommendation', 'scheduled_change', 'capacity_reservation_interrupted'] as const;

// ---------------------------------------------------------------------------------------------
// Kubernetes: kube-state-metrics, kubelet/cAdvisor, node-exporter, Prometheus itself
// ---------------------------------------------------------------------------------------------

export const KUBE_STATE_METRICS: MetricFamily = {
  source: 'kube-state-metrics (kube-prometheus-stack subchart 8.4.0)',
  reference: 'kubernetes/kube-state-metrics docs/metrics/workload/pod-metrics.md, policy/resourcequota-metrics.md, cluster/namespace-metrics.md, cluster/node-metrics.md',
  names: [
    'kube_resourcequota',
    'kube_namespace_labels',
    'kube_namespace_status_phase',
    'kube_pod_info',
    'kube_pod_labels',
    'kube_pod_annotations',
    'kube_pod_status_phase',
    'kube_pod_status_unschedulable',
    'kube_pod_created',
    'kube_pod_container_resource_requests',
    'kube_pod_container_resource_limits',
    'kube_pod_container_status_restarts_total',
    'kube_pod_container_status_last_terminated_reason',
    'kube_node_info',
    'kube_node_labels',
    'kube_node_status_allocatable',
  ],
};

export const VPA_CUSTOM_RESOURCE_METRICS: MetricFamily = {
  source: 'kube-state-metrics custom-resource-state config for VerticalPodAutoscalers (vpa-metrics.ts)',
  reference: 'defined in modules/observability/vpa-metrics.ts',
  names: vpaMetricNames(),
};

export const KUBELET_METRICS: MetricFamily = {
  source: 'kubelet /metrics and /metrics/cadvisor (kube-prometheus-stack kubelet ServiceMonitor)',
  reference: 'kubernetes/kubernetes pkg/kubelet/metrics/collectors/volume_stats.go; google/cadvisor docs/storage/prometheus.md',
  names: [
    'kubelet_volume_stats_available_bytes',
    'kubelet_volume_stats_capacity_bytes',
    'kubelet_volume_stats_used_bytes',
    'container_memory_working_set_bytes',
    'container_cpu_usage_seconds_total',
    'container_oom_events_total',
  ],
};

export const NODE_EXPORTER_METRICS: MetricFamily = {
  source: 'prometheus-node-exporter DaemonSet (kube-prometheus-stack subchart 4.56.1)',
  reference: 'prometheus/node_exporter collector/cpu_linux.go, meminfo.go, filesystem_common.go, netdev_common.go',
  names: [
    'node_cpu_seconds_total',
    'node_memory_MemAvailable_bytes',
    'node_memory_MemTotal_bytes',
    'node_filesystem_avail_bytes',
    'node_filesystem_size_bytes',
    'node_network_receive_bytes_total',
    'node_network_transmit_bytes_total',
  ],
};

export const PROMETHEUS_METRICS: MetricFamily = {
  source: 'Prometheus server self-monitoring and the scrape loop',
  reference: 'prometheus/prometheus tsdb/db.go, storage/remote/queue_manager.go; "up" from the scrape loop',
  names: [
    'up',
    'prometheus_tsdb_storage_blocks_bytes',
    'prometheus_tsdb_wal_storage_size_bytes',
    'prometheus_tsdb_head_series',
    'prometheus_remote_storage_samples_failed_total',
  ],
};

// ---------------------------------------------------------------------------------------------
// OpenCost 1.120 (chart 2.5.17), scraped by the ServiceMonitor of opencost.ts
// ---------------------------------------------------------------------------------------------

export const OPENCOST_METRICS: MetricFamily = {
  source: 'OpenCost cost model, service port http (9003) /metrics',
  reference: 'opencost/opencost pkg/costmodel/metrics.go, pkg/metrics/*.go; opencost.io docs/integrations/metrics',
  names: [
    // Prices (USD per hour; RAM per GiB-hour), per node: labels node, instance_type, region, provider_id, arch.
    'node_cpu_hourly_cost',
    'node_ram_hourly_cost',
    'node_gpu_hourly_cost',
    'node_gpu_count',
    'node_total_hourly_cost',
    'kubecost_node_is_spot',
    'pv_hourly_cost',
    // Allocation (max of request and usage), per container: labels namespace, pod, container, node.
    'container_cpu_allocation',
    'container_memory_allocation_bytes',
    'container_gpu_allocation',
    'pod_pvc_allocation',
    'kubecost_cluster_management_cost',
    'kubecost_load_balancer_cost',
    'kubecost_network_zone_egress_cost',
    'kubecost_network_region_egress_cost',
    'kubecost_network_internet_egress_cost',
    // Node capacity series only OpenCost emits (KSM v1 names; kube-state-metrics v2 has kube_node_status_capacity).
    'kube_node_status_capacity_cpu_cores',
    'kube_node_status_capacity_memory_bytes',
    'kube_node_status_allocatable_cpu_cores',
    'kube_node_status_allocatable_memory_bytes',
    'kubecost_pv_info',
    'opencost_build_info',
    'kubecost_http_requests_total',
  ],
};

// ---------------------------------------------------------------------------------------------
// Recording rules of the platform (defined in rules.ts; their own expressions are checked too)
// ---------------------------------------------------------------------------------------------

export const RECORDED = {
  /** Running Spark drivers (= running jobs) per namespace. */
  runningDrivers: 'namespace:spark_running_drivers:count',
  /** Running Spark executors per namespace. */
  runningExecutors: 'namespace:spark_running_executors:count',
  /** used / hard of every ResourceQuota of a tenant namespace, per resource. */
  tenantQuotaUsage: 'namespace_resource:tenant_quota_used:ratio',
  /** Estimated hourly on-demand/Spot price of the Karpenter nodes, per pool, capacity type and zone. */
  nodeHourlyCost: 'nodepool_capacity_type_zone:karpenter_nodes_hourly_cost:sum',
  /** 1 per Spark pod of a vertically autoscaled job, labelled with its job signature and role. */
  podSignature: 'namespace_pod:spark_dynamic_sizing_signature:info',
  /** USD/hour of every pod: OpenCost's CPU and memory allocation times its node's prices (cost-rules.ts). */
  podHourlyCost: 'namespace_pod_node:opencost_cost_usd_per_hour:sum',
  /** USD/hour per namespace (= tenant for tenant namespaces). */
  namespaceHourlyCost: 'namespace:opencost_cost_usd_per_hour:sum',
  /** USD/hour per namespace and capacity type (spot, on-demand). */
  namespaceCapacityTypeHourlyCost: 'namespace_capacity_type:opencost_cost_usd_per_hour:sum',
  /** USD/hour per namespace, EMR job id and Spark application. */
  jobHourlyCost: 'namespace_job:opencost_cost_usd_per_hour:sum',
  /** 1 per node, labelled with its capacity type as OpenCost priced it. */
  nodeCapacityType: 'node:opencost_capacity_type:info',
  /** 1 per node, labelled with its Karpenter NodePool (or `nodegroup/<name>` for managed node groups). */
  nodePool: 'node:nodepool:info',
  /** USD/hour of the nodes of each NodePool. */
  nodePoolHourlyCost: 'nodepool:opencost_node_cost_usd_per_hour:sum',
  /** USD/hour of each NodePool's capacity no pod is allocated. */
  nodePoolIdleHourlyCost: 'nodepool:opencost_idle_cost_usd_per_hour:sum',
  /** USD spent per namespace over the last 24 hours. */
  namespaceDailyCost: 'namespace:opencost_cost_usd:sum_24h',
  /** A tenant's `cost.dailyBudgetUsd`, recorded by its own tenant stack. */
  tenantDailyBudget: 'namespace:tenant_daily_budget_usd:value',
} as const;

export const RECORDING_RULE_METRICS: MetricFamily = {
  source: 'PrometheusRule spark-platform (recording rules)',
  reference: 'modules/observability/rules.ts',
  names: Object.values(RECORDED),
};

/** Every family, in one list. */
export const METRIC_FAMILIES: readonly MetricFamily[] = [
  SPARK_EXECUTOR_METRICS,
  SPARK_DRIVER_METRICS,
  KARPENTER_METRICS,
  KUBE_STATE_METRICS,
  VPA_CUSTOM_RESOURCE_METRICS,
  KUBELET_METRICS,
  NODE_EXPORTER_METRICS,
  PROMETHEUS_METRICS,
  OPENCOST_METRICS,
  RECORDING_RULE_METRICS,
];

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** Every metric name a query may use (histograms expanded to their series). */
export const KNOWN_METRICS: ReadonlySet<string> = new Set(
  METRIC_FAMILIES.flatMap((family) => [
    ...family.names,
    ...(family.histograms ?? []).flatMap((h) => HISTOGRAM_SUFFIXES.map((suffix) => `${h}${suffix}`)),
  ]),
);

/** The family a metric belongs to, or undefined when it is unknown. */
export function metricFamily(name: string): MetricFamily | undefined {
  return METRIC_FAMILIES.find((f) => f.names.includes(name) || (f.histograms ?? []).some((h) => HISTOGRAM_SUFFIXES.some((s) => `${h}${s}` === name)));
}

/**
 * The Prometheus label kube-state-metrics makes of a Kubernetes label or annotation key
 * (`spark-platform.io/tenant` -> `label_spark_platform_io_tenant`): every character outside
 * `[a-zA-Z0-9_]` becomes `_`.
 */
export function ksmLabel(kind: 'label' | 'annotation', key: string): string {
  return `${kind}_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** The target label a PodMonitor `podTargetLabels` entry becomes (same sanitising as Prometheus). */
export function targetLabel(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}
