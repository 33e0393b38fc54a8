/**
 * What Prometheus scrapes and evaluates, and what Grafana shows, as Kubernetes objects: the Spark
 * driver PodMonitor, the Karpenter and OpenCost ServiceMonitors, the platform PrometheusRule and one ConfigMap
 * per dashboard. Every object is a typed model validated at synth (KubernetesObject); the rules
 * and dashboards are also parsed as PromQL and checked against the known metrics.
 *
 * Kept in its own state, after the one that installs the chart: PodMonitor, ServiceMonitor and
 * PrometheusRule are custom resources whose CRDs kube-prometheus-stack installs, and
 * `kubernetes_manifest` needs a CRD at plan time.
 */
import { Construct } from 'constructs';
import { KubernetesObject } from '../k8s/manifest.js';
import { dashboardConfigMap, loadDashboards } from './dashboards.js';
import { karpenterServiceMonitor, sparkDriversPodMonitor } from './monitors.js';
import { openCostServiceMonitor } from './opencost.js';
import { type AlertThresholds, platformPrometheusRule } from './rules.js';

export interface ObservabilityConfigProps {
  /**
   * Alert thresholds.
   * @default DEFAULT_THRESHOLDS (rules.ts)
   */
  readonly thresholds?: AlertThresholds;
  /**
   * Folder holding the dashboard JSON files.
   * @default modules/observability/dashboards
   */
  readonly dashboardsDir?: string;
  /**
   * Scrape interval of the Spark drivers.
   * @default '30s'
   */
  readonly sparkScrapeInterval?: string;
}

export class ObservabilityConfig extends Construct {
  readonly objects: KubernetesObject[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityConfigProps = {}) {
    super(scope, id);
    const add = (objectId: string, object: ConstructorParameters<typeof KubernetesObject>[2]['object']) => {
      const created = new KubernetesObject(this, objectId, { object });
      this.objects.push(created);
      return created;
    };
    add('spark-drivers-pod-monitor', sparkDriversPodMonitor(props.sparkScrapeInterval ? { interval: props.sparkScrapeInterval } : {}));
    add('karpenter-service-monitor', karpenterServiceMonitor());
    add('opencost-service-monitor', openCostServiceMonitor());
    add('platform-rules', platformPrometheusRule(props.thresholds ? { thresholds: props.thresholds } : {}));
    for (const dashboard of loadDashboards(props.dashboardsDir)) {
      add(`dashboard-${dashboard.uid}`, dashboardConfigMap(dashboard));
    }
  }
}
