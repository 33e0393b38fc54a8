/**
 * What Prometheus scrapes beyond the kube-prometheus-stack defaults, as typed prometheus-operator
 * objects:
 *
 * - Spark drivers in every namespace (`namespaceSelector.any`, pods labelled `spark-role=driver`),
 *   so a new tenant is scraped without touching the observability stacks. PodMonitor cannot
 *   select namespaces by label (its namespaceSelector only has `any` and `matchNames`), so the
 *   tenant is the namespace (tenant name = namespace name): each series gets `tenant=<namespace>`,
 *   and dashboards list tenants from `kube_namespace_labels` (namespaces labelled
 *   `spark-platform.io/tenant`). The tenant NetworkPolicies let the monitoring namespace in on the
 *   Spark UI port.
 * - Karpenter's controller Service (`http-metrics`, 8080).
 */
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1RelabelConfig as RelabelConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RelabelConfig';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { KARPENTER_NAMESPACE } from '../karpenter/names.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { SPARK_POD_LABELS } from '../tenant/pod-templates.js';
import { MONITORING_NAMESPACE, SPARK_METRICS_PATHS, SPARK_UI_PORT_NAME, TENANT_METRIC_LABEL } from './constants.js';
import { SPARK_DRIVER_METRIC_PREFIX, SPARK_DRIVER_RAW_NAME } from './metrics.js';

export interface SparkPodMonitorProps {
  /**
   * Namespace of the PodMonitor object itself.
   * @default MONITORING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Scrape interval.
   * @default '30s'
   */
  readonly interval?: string;
  /**
   * Per-scrape sample limit of one driver (a runaway application cannot flood Prometheus).
   * @default 20000
   */
  readonly sampleLimit?: number;
}

const platformLabels = { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM };

/** `tenant` = namespace of the scraped pod. */
const TENANT_RELABELING: RelabelConfig = { sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: TENANT_METRIC_LABEL, action: 'replace' };

/** Rewrites `metrics_<app id>_driver_<rest>` to `spark_driver_<rest>` (stable names across jobs). */
export const SPARK_DRIVER_NAME_RELABELING: RelabelConfig = {
  sourceLabels: ['__name__'],
  regex: SPARK_DRIVER_RAW_NAME,
  targetLabel: '__name__',
  replacement: `${SPARK_DRIVER_METRIC_PREFIX}$1`,
  action: 'replace',
};

/** The PodMonitor of every Spark driver's two Prometheus endpoints. */
export function sparkDriversPodMonitor(props: SparkPodMonitorProps = {}): PodMonitor {
  const interval = props.interval ?? '30s';
  return new PodMonitor({
    metadata: { name: 'spark-drivers', namespace: props.namespace ?? MONITORING_NAMESPACE, labels: platformLabels },
    spec: {
      namespaceSelector: { any: true },
      selector: { matchLabels: { [SPARK_POD_LABELS.role]: 'driver' } },
      // spark-app-selector (the application id, shared by the driver and its executors) becomes the
      // spark_app_selector label of every series.
      podTargetLabels: [SPARK_POD_LABELS.appSelector],
      sampleLimit: props.sampleLimit ?? 20000,
      podMetricsEndpoints: [
        {
          port: SPARK_UI_PORT_NAME,
          path: SPARK_METRICS_PATHS.driver,
          interval,
          relabelings: [TENANT_RELABELING],
          metricRelabelings: [SPARK_DRIVER_NAME_RELABELING],
        },
        {
          port: SPARK_UI_PORT_NAME,
          path: SPARK_METRICS_PATHS.executors,
          interval,
          relabelings: [TENANT_RELABELING],
        },
      ],
    },
  });
}

export interface KarpenterServiceMonitorProps {
  /**
   * Namespace of the Karpenter controller (and of this ServiceMonitor).
   * @default KARPENTER_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Helm release name of the Karpenter chart (its Service carries `app.kubernetes.io/instance`).
   * @default 'karpenter'
   */
  readonly releaseName?: string;
  /**
   * Scrape interval.
   * @default '30s'
   */
  readonly interval?: string;
}

/** The ServiceMonitor of the Karpenter controller (chart Service port `http-metrics` = controller.metrics.port 8080). */
export function karpenterServiceMonitor(props: KarpenterServiceMonitorProps = {}): ServiceMonitor {
  const namespace = props.namespace ?? KARPENTER_NAMESPACE;
  return new ServiceMonitor({
    metadata: { name: 'karpenter', namespace, labels: platformLabels },
    spec: {
      namespaceSelector: { matchNames: [namespace] },
      selector: { matchLabels: { 'app.kubernetes.io/name': 'karpenter', 'app.kubernetes.io/instance': props.releaseName ?? 'karpenter' } },
      endpoints: [{ port: 'http-metrics', path: '/metrics', interval: props.interval ?? '30s' }],
    },
  });
}
