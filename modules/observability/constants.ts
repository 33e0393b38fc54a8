/**
 * Names and pinned versions of the observability layer, shared by the AWS side
 * (`observability-infra`), the charts (`observability`), the monitors and dashboards
 * (`observability-config`) and the tenant NetworkPolicies (which let the monitoring namespace in).
 */
import { PLATFORM_NAMESPACES } from '../scheduling/namespaces.js';

/**
 * Namespace of Prometheus, Alertmanager, Grafana, kube-state-metrics and node-exporter. Tenant
 * namespaces allow it in on the Spark UI port; it is a reserved (non-tenant) namespace name.
 */
export const MONITORING_NAMESPACE = PLATFORM_NAMESPACES.monitoring;

/** Namespace of the Fluent Bit DaemonSet. */
export const LOGGING_NAMESPACE = PLATFORM_NAMESPACES.logging;

/** Namespace of the Vertical Pod Autoscaler (recommender, updater, admission controller). */
export const VPA_NAMESPACE = PLATFORM_NAMESPACES.vpa;

/** Helm charts of the layer, pinned exactly. */
export const CHARTS = {
  kubePrometheusStack: { name: 'kube-prometheus-stack', version: '88.5.3', repository: 'https://prometheus-community.github.io/helm-charts' },
  vpa: { name: 'vpa', version: '5.0.0', repository: 'https://charts.fairwinds.com/stable' },
  fluentBit: { name: 'aws-for-fluent-bit', version: '0.2.0', repository: 'https://aws.github.io/eks-charts' },
  /**
   * OpenCost 1.120.1 (chart 2.5.17, the release of opencost/opencost-helm-chart tagged
   * opencost-2.5.17; its values pin both images by digest).
   */
  openCost: { name: 'opencost', version: '2.5.17', repository: 'https://opencost.github.io/opencost-helm-chart' },
} as const;

/**
 * Container images whose tag the charts above would otherwise take from a default that is not
 * pinned in the chart (`appVersion` fallbacks): pinned here so a chart re-publish cannot move them.
 */
export const IMAGES = {
  /** aws-for-fluent-bit 3.2.1 = Fluent Bit 4.2.2 (chart 0.2.0 appVersion). */
  fluentBit: { repository: 'public.ecr.aws/aws-observability/aws-for-fluent-bit', tag: '3.2.1' },
  /** Vertical Pod Autoscaler 1.7.1 (FairwindsOps vpa chart 5.0.0 appVersion): recommender, updater, admission controller. */
  vpa: { tag: '1.7.1' },
} as const;

/** Helm release names (they prefix the chart's object names). */
export const RELEASES = {
  kubePrometheusStack: 'kube-prometheus-stack',
  vpa: 'vpa',
  fluentBit: 'aws-for-fluent-bit',
  openCost: 'opencost',
} as const;

/** Service accounts bound to IAM roles through EKS Pod Identity (names set in the chart values). */
export const SERVICE_ACCOUNTS = {
  fluentBit: 'aws-for-fluent-bit',
  /** Prometheus server; only used for AMP remote write. */
  prometheus: 'kube-prometheus-stack-prometheus',
  /** OpenCost; reads the Spot data feed. */
  openCost: 'opencost',
} as const;

/** Kubernetes Secret (in the monitoring namespace) that Grafana reads its admin login from. */
export const GRAFANA_ADMIN_SECRET = {
  name: 'grafana-admin',
  userKey: 'admin-user',
  passwordKey: 'admin-password',
  user: 'admin',
} as const;

/** Label (and value) by which the Grafana sidecar discovers dashboard ConfigMaps in any namespace. */
export const GRAFANA_DASHBOARD_LABEL = { key: 'grafana_dashboard', value: '1' } as const;
/** Annotation the sidecar reads to put a dashboard into a Grafana folder. */
export const GRAFANA_FOLDER_ANNOTATION = 'grafana_folder';
/** Grafana folder of the platform dashboards. */
export const GRAFANA_FOLDER = 'Spark platform';

/** Name of the Spark driver container port serving the UI and the Prometheus endpoints. */
export const SPARK_UI_PORT_NAME = 'spark-ui';
/** Spark UI port (the tenant NetworkPolicies open it to the monitoring namespace). */
export const SPARK_UI_PORT = 4040;

/**
 * Paths of the driver's Prometheus endpoints, as the tenants' Spark configuration sets them:
 * `spark.metrics.conf.*.sink.prometheusServlet.path` (driver metrics system) and
 * `spark.ui.prometheus.enabled=true` (executor summaries, served by the driver).
 */
export const SPARK_METRICS_PATHS = {
  driver: '/metrics/driver/prometheus/',
  executors: '/metrics/executors/prometheus/',
} as const;

/** Label Prometheus attaches to every Spark series: the tenant (= the namespace of the job). */
export const TENANT_METRIC_LABEL = 'tenant';

/**
 * Spark configuration (spark-defaults) every tenant job needs for the `spark-drivers` PodMonitor
 * to find its metrics: the PrometheusServlet sink of the driver's metrics system on
 * `SPARK_METRICS_PATHS.driver`, and the executor summaries on `SPARK_METRICS_PATHS.executors`.
 * (`spark.metrics.namespace` is left to its default, the application id: the PodMonitor rewrites
 * the resulting names to stable `spark_driver_*` names.)
 */
export const SPARK_PROMETHEUS_CONF: Readonly<Record<string, string>> = {
  'spark.ui.prometheus.enabled': 'true',
  'spark.metrics.conf.*.sink.prometheusServlet.class': 'org.apache.spark.metrics.sink.PrometheusServlet',
  'spark.metrics.conf.*.sink.prometheusServlet.path': SPARK_METRICS_PATHS.driver,
};
