/**
 * OpenCost (CNCF; the cost model behind per-tenant and per-job cost in Grafana): values of its
 * chart and the ServiceMonitor of its metrics. Every key set here exists in the values of chart
 * opencost 2.5.17; the chart's defaults hold for everything else.
 *
 * - Reads the platform's Prometheus (kube-prometheus-stack) through `opencost.prometheus.internal`,
 *   whose defaults (`prometheus-server` in `prometheus-system` on port 80) are all overridden.
 * - Prices: on-demand from AWS's public price list (no IAM; egress through the NAT), Spot from
 *   the EC2 Spot data feed. The feed location reaches OpenCost through the chart's custom pricing
 *   ConfigMap, whose keys OpenCost matches against Go field names: `spotDataBucket`,
 *   `spotDataRegion`, `spotDataPrefix` and `projectID` work there, the `awsSpotData*` spelling of
 *   OpenCost's JSON file does not (it is rejected as an unknown field). S3 credentials come from
 *   EKS Pod Identity (the `opencost` role of observability-infra); no keys in the values.
 * - Its MCP server (on by default in the chart) is off, and nothing is exposed: the UI and API are
 *   ClusterIP only (`kubectl port-forward`).
 */
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1RelabelConfig as RelabelConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RelabelConfig';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { SYSTEM_PLACEMENT } from '../scheduling/system-nodes.js';
import { MONITORING_NAMESPACE, RELEASES, SERVICE_ACCOUNTS } from './constants.js';

/** Ports of the OpenCost Service (chart 2.5.17): the cost model API and metrics, and the UI. */
export const OPENCOST_PORTS = { api: { name: 'http', port: 9003 }, ui: { name: 'http-ui', port: 9090 } } as const;

export interface OpenCostPrometheus {
  /** Service of the Prometheus server. */
  readonly serviceName: string;
  readonly namespace: string;
  readonly port: number;
}

export interface OpenCostSpotDataFeed {
  readonly bucket: string;
  readonly region: string;
  /** Prefix of the feed files (no slashes around it). */
  readonly prefix: string;
  /** Account the feed files are named after (OpenCost's `projectID`). */
  readonly accountId: string;
}

export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

export interface OpenCostValuesProps {
  /** EKS cluster name: OpenCost's cluster id. */
  readonly clusterName: string;
  readonly prometheus: OpenCostPrometheus;
  /**
   * The Spot data feed OpenCost reads Spot prices from.
   * @default none (Spot nodes priced from OpenCost's default Spot estimates)
   */
  readonly spotDataFeed?: OpenCostSpotDataFeed;
  /**
   * Cost model container resources. Memory grows with pods and nodes; 1,000 tenants with
   * thousands of executor pods stay well inside the limit.
   * @default requests 200m / 1Gi, limits 1 CPU / 3Gi
   */
  readonly exporterResources?: ResourceSettings;
  /**
   * UI container resources.
   * @default requests 20m / 64Mi, limits 200m / 256Mi
   */
  readonly uiResources?: ResourceSettings;
}

/** The OpenCost service of kube-prometheus-stack's Prometheus, in the monitoring namespace. */
export function kubePrometheusStackPrometheus(namespace: string = MONITORING_NAMESPACE): OpenCostPrometheus {
  return { serviceName: `${RELEASES.kubePrometheusStack}-prometheus`, namespace, port: 9090 };
}

/** Values of the `opencost` chart. */
export function openCostValues(props: OpenCostValuesProps): Record<string, unknown> {
  const feed = props.spotDataFeed;
  return {
    // The name EKS Pod Identity binds the Spot feed role to (observability-infra).
    serviceAccount: { create: true, name: SERVICE_ACCOUNTS.openCost },
    service: { enabled: true, type: 'ClusterIP' },
    opencost: {
      exporter: {
        defaultClusterId: props.clusterName,
        resources: props.exporterResources ?? { requests: { cpu: '200m', memory: '1Gi' }, limits: { cpu: '1', memory: '3Gi' } },
        securityContext: { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } },
      },
      mcp: { enabled: false },
      prometheus: {
        internal: { enabled: true, serviceName: props.prometheus.serviceName, namespaceName: props.prometheus.namespace, port: props.prometheus.port },
        external: { enabled: false },
        amp: { enabled: false },
      },
      ui: {
        enabled: true,
        resources: props.uiResources ?? { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
        ingress: { enabled: false },
      },
      metrics: {
        // Scraped by the typed ServiceMonitor of observability-config (openCostServiceMonitor).
        serviceMonitor: { enabled: false },
        // OpenCost copies some kube-state-metrics series for itself (node capacity in cores and
        // bytes, pod and namespace labels); kube-prometheus-stack runs kube-state-metrics, so only
        // those collectors, and the ServiceMonitor drops the copies kube-state-metrics also has.
        kubeStateMetrics: { emitKsmV1Metrics: false, emitKsmV1MetricsOnly: true },
      },
      carbonCost: { enabled: false },
      ...(feed
        ? {
            customPricing: {
              enabled: true,
              createConfigmap: true,
              provider: 'aws',
              costModel: {
                description: 'AWS list prices; Spot prices from the EC2 Spot data feed',
                spotDataBucket: feed.bucket,
                spotDataRegion: feed.region,
                spotDataPrefix: feed.prefix,
                projectID: feed.accountId,
              },
            },
          }
        : {}),
      nodeSelector: { ...SYSTEM_PLACEMENT.nodeSelector },
      tolerations: SYSTEM_PLACEMENT.tolerations.map((t) => ({ ...t })),
    },
  };
}

/**
 * Series OpenCost emits that kube-state-metrics (kube-prometheus-stack) also emits, under the same
 * names and labels but another job: scraped twice, they would double every count and break
 * one-to-one joins on pods and namespaces. kube-state-metrics stays the source; OpenCost's own
 * queries read its series too. Kept: the node capacity series in cores and bytes that only
 * OpenCost emits, and every cost metric.
 */
export const OPENCOST_DUPLICATE_KSM_SERIES = [
  'kube_node_labels',
  'kube_node_status_allocatable',
  'kube_node_status_capacity',
  'kube_node_status_condition',
  'kube_namespace_labels',
  'kube_namespace_annotations',
  'kube_pod_labels',
  'kube_pod_owner',
  'kube_persistentvolume_capacity_bytes',
  'kube_persistentvolume_status_phase',
  'kube_deployment_spec_replicas',
  'kube_deployment_status_replicas_available',
] as const;

export const OPENCOST_DROP_DUPLICATES: RelabelConfig = {
  sourceLabels: ['__name__'],
  regex: `(${OPENCOST_DUPLICATE_KSM_SERIES.join('|')})`,
  action: 'drop',
};

export interface OpenCostServiceMonitorProps {
  /**
   * Namespace of OpenCost (and of this ServiceMonitor).
   * @default MONITORING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Scrape interval.
   * @default '1m' (OpenCost recomputes prices and allocations every minute)
   */
  readonly interval?: string;
}

/**
 * The ServiceMonitor of OpenCost's `/metrics` (Service port `http`, 9003). `honorLabels`: its
 * series describe other pods and nodes (`namespace`, `pod`, `node`), which must not be replaced by
 * the labels of the OpenCost target itself.
 */
export function openCostServiceMonitor(props: OpenCostServiceMonitorProps = {}): ServiceMonitor {
  const namespace = props.namespace ?? MONITORING_NAMESPACE;
  return new ServiceMonitor({
    metadata: { name: RELEASES.openCost, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } },
    spec: {
      namespaceSelector: { matchNames: [namespace] },
      selector: { matchLabels: { 'app.kubernetes.io/name': 'opencost', 'app.kubernetes.io/instance': RELEASES.openCost } },
      endpoints: [
        {
          port: OPENCOST_PORTS.api.name,
          path: '/metrics',
          interval: props.interval ?? '1m',
          scrapeTimeout: '30s',
          honorLabels: true,
          metricRelabelings: [OPENCOST_DROP_DUPLICATES],
        },
      ],
    },
  });
}
