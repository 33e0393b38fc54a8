/**
 * Values of the three observability charts, as typed builders. Every key set here exists in the
 * chart at the pinned version (kube-prometheus-stack 88.5.3 with its subcharts grafana 12.11.1,
 * kube-state-metrics 8.4.0 and prometheus-node-exporter 4.56.1; FairwindsOps vpa 5.0.0;
 * aws-for-fluent-bit 0.2.0); the charts' defaults hold for everything else.
 */
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1RemoteWriteSpec as RemoteWriteSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RemoteWriteSpec';
import { EMR_JOB_LABELS } from '../emr-on-eks/job-labels.js';
import { TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { SYSTEM_PLACEMENT } from '../scheduling/system-nodes.js';
import { SPARK_POD_LABELS, VERTICAL_AUTOSCALING } from '../tenant/pod-templates.js';
import { NODE_POOL_LABELS } from './cost-rules.js';
import { GRAFANA_ADMIN_SECRET, GRAFANA_DASHBOARD_LABEL, GRAFANA_FOLDER_ANNOTATION, IMAGES, SERVICE_ACCOUNTS } from './constants.js';
import { platformContainerLogGroupName, tenantLogGroupName } from './log-groups.js';
import { VPA_READ_RULE, vpaCustomResourceStateConfig } from './vpa-metrics.js';

/** Tolerates every taint: for DaemonSets that must run on every node (Spark, system, tenant-dedicated). */
export const TOLERATE_EVERYTHING: readonly { readonly operator: 'Exists' }[] = [{ operator: 'Exists' }];

const systemNodes = () => ({ nodeSelector: { ...SYSTEM_PLACEMENT.nodeSelector }, tolerations: SYSTEM_PLACEMENT.tolerations.map((t) => ({ ...t })) });

/** `100Gi` -> `85GiB`: the size-based retention Prometheus enforces before its volume is full. */
export function retentionSizeFor(storageSize: string, ratio = 0.85): string {
  const match = /^([1-9][0-9]*)Gi$/.exec(storageSize);
  if (!match) throw new Error(`Prometheus storage size must be a whole number of Gi, such as 100Gi (found ${JSON.stringify(storageSize)})`);
  return `${Math.max(1, Math.floor(Number(match[1]) * ratio))}GiB`;
}

export interface AmpRemoteWrite {
  /** Remote write URL of the AMP workspace (`<prometheus_endpoint>api/v1/remote_write`). */
  readonly url: string;
  /** Region of the workspace (SigV4 signing region). */
  readonly region: string;
}

export interface KubePrometheusStackValuesProps {
  /** Cluster name: the `cluster` external label of every series (remote write keeps clusters apart). */
  readonly clusterName: string;
  /** Prometheus TSDB retention, a Prometheus duration such as `15d`. */
  readonly retention: string;
  /** Size of Prometheus' persistent volume, such as `100Gi`. */
  readonly storageSize: string;
  /** StorageClass of the Prometheus and Alertmanager volumes. */
  readonly storageClassName: string;
  /**
   * Size of Alertmanager's volume (silences and notification log).
   * @default '5Gi'
   */
  readonly alertmanagerStorageSize?: string;
  /**
   * Remote write to Amazon Managed Service for Prometheus (SigV4 with the Prometheus service
   * account's Pod Identity credentials).
   * @default none
   */
  readonly ampRemoteWrite?: AmpRemoteWrite;
  /**
   * Resource requests of the Prometheus server.
   * @default { cpu: '500m', memory: '2Gi' }
   */
  readonly prometheusRequests?: { readonly cpu: string; readonly memory: string };
}

/** The remote-write entry for AMP: SigV4 signing with the default credential chain (Pod Identity). */
export function ampRemoteWriteSpec(amp: AmpRemoteWrite): RemoteWriteSpec {
  return {
    name: 'amazon-managed-prometheus',
    url: amp.url,
    sigv4: { region: amp.region },
    queueConfig: { maxSamplesPerSend: 1000, maxShards: 200, capacity: 2500 },
  };
}

/** kube-prometheus-stack: Prometheus, Alertmanager, Grafana, kube-state-metrics, node-exporter. */
export function kubePrometheusStackValues(props: KubePrometheusStackValuesProps): Record<string, unknown> {
  const volume = (size: string) => ({
    volumeClaimTemplate: { spec: { storageClassName: props.storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } },
  });
  return {
    crds: { enabled: true },
    // EKS runs the control plane: controller-manager, scheduler and etcd cannot be scraped, and
    // kube-proxy serves its metrics on 127.0.0.1 only. Their monitors and rules would only ever alert.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    defaultRules: {
      create: true,
      rules: { etcd: false, kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false, windows: false },
    },
    prometheusOperator: {
      ...systemNodes(),
      admissionWebhooks: { patch: systemNodes() },
    },
    prometheus: {
      serviceAccount: { create: true, name: SERVICE_ACCOUNTS.prometheus },
      prometheusSpec: {
        ...systemNodes(),
        retention: props.retention,
        retentionSize: retentionSizeFor(props.storageSize),
        storageSpec: volume(props.storageSize),
        externalLabels: { cluster: props.clusterName },
        resources: { requests: { ...(props.prometheusRequests ?? { cpu: '500m', memory: '2Gi' }) } },
        // Pick up PodMonitors, ServiceMonitors, PrometheusRules, Probes and ScrapeConfigs from every
        // namespace, whatever their labels (the chart otherwise selects only its own release's).
        podMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        podMonitorSelector: {},
        podMonitorNamespaceSelector: {},
        serviceMonitorSelector: {},
        serviceMonitorNamespaceSelector: {},
        ruleSelector: {},
        ruleNamespaceSelector: {},
        remoteWrite: props.ampRemoteWrite ? [ampRemoteWriteSpec(props.ampRemoteWrite)] : [],
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        ...systemNodes(),
        storage: volume(props.alertmanagerStorageSize ?? '5Gi'),
      },
    },
    grafana: {
      ...systemNodes(),
      // The admin login comes from a Secret (grafana-admin-secret.ts); no password in the values.
      admin: { existingSecret: GRAFANA_ADMIN_SECRET.name, userKey: GRAFANA_ADMIN_SECRET.userKey, passwordKey: GRAFANA_ADMIN_SECRET.passwordKey },
      defaultDashboardsTimezone: 'utc',
      sidecar: {
        dashboards: {
          enabled: true,
          label: GRAFANA_DASHBOARD_LABEL.key,
          labelValue: GRAFANA_DASHBOARD_LABEL.value,
          searchNamespace: 'ALL',
          folderAnnotation: GRAFANA_FOLDER_ANNOTATION,
          provider: { allowUiUpdates: false, foldersFromFilesStructure: true },
        },
      },
    },
    'kube-state-metrics': {
      ...systemNodes(),
      // Labels and annotations the dashboards join on: tenant namespaces, Spark roles and
      // application ids, the EMR vertical autoscaling signature of drivers, the EMR job of every
      // job pod and the pool of every node (cost per job and per NodePool, cost-rules.ts).
      metricLabelsAllowlist: [
        `namespaces=[${TENANT_NAMESPACE_LABEL}]`,
        `pods=[${SPARK_POD_LABELS.role},${SPARK_POD_LABELS.appSelector},${VERTICAL_AUTOSCALING.label},${EMR_JOB_LABELS.jobId},${EMR_JOB_LABELS.virtualClusterId}]`,
        `nodes=[${NODE_POOL_LABELS.karpenter},${NODE_POOL_LABELS.nodeGroup}]`,
      ],
      metricAnnotationsAllowList: [`pods=[${VERTICAL_AUTOSCALING.signature},${VERTICAL_AUTOSCALING.mode}]`],
      customResourceState: { enabled: true, config: vpaCustomResourceStateConfig() },
      rbac: { extraRules: [VPA_READ_RULE] },
    },
    'prometheus-node-exporter': {
      // A DaemonSet on every node, Spark and tenant-dedicated nodes included.
      tolerations: [...TOLERATE_EVERYTHING],
      priorityClassName: 'system-node-critical',
    },
  };
}

/** FairwindsOps vpa: recommender, updater and admission controller on the system nodes. */
export function vpaValues(): Record<string, unknown> {
  const component = (extra: Record<string, unknown> = {}) => ({ enabled: true, image: { tag: IMAGES.vpa.tag, pullPolicy: 'IfNotPresent' }, ...systemNodes(), ...extra });
  return {
    recommender: component({ extraArgs: { v: '2', 'pod-recommendation-min-cpu-millicores': 15, 'pod-recommendation-min-memory-mb': 100 } }),
    updater: component(),
    admissionController: component({ certGen: systemNodes() }),
    // metrics-server is the EKS add-on of the cluster stack.
    'metrics-server': { enabled: false },
  };
}

export interface FluentBitValuesProps {
  readonly environmentName: string;
  readonly region: string;
}

/**
 * Top-level record key under which Fluent Bit's kubernetes filter puts namespace metadata when
 * `Namespace_Labels` (or `Namespace_Annotations`) is on: `{"name": <namespace>, "labels": {...},
 * "annotations": {...}}`, next to (not inside) the pod's `kubernetes` map. Source: fluent-bit
 * plugins/filter_kubernetes (kube_meta.c `merge_namespace_meta` packs name/labels/annotations;
 * kubernetes.c appends that map as "kubernetes_namespace"), and the filter's documentation
 * ("Kubernetes namespace meta": "namespace meta will be stored in a kubernetes_namespace record
 * key"), Fluent Bit 3.x/4.x (aws-for-fluent-bit 3.2.1 ships 4.2.2).
 */
export const NAMESPACE_META_KEY = 'kubernetes_namespace';

/**
 * Record accessor of the tenant of a log record: the `spark-platform.io/tenant` label of the pod's
 * namespace, from the namespace metadata the kubernetes filter adds (`Namespace_Labels On`).
 * Records from namespaces without the label make the template fail, and the `cloudwatch_logs`
 * output falls back to `log_group_name` (the platform log group).
 */
export const TENANT_RECORD_ACCESSOR = `$${NAMESPACE_META_KEY}['labels']['${TENANT_NAMESPACE_LABEL}']`;

/**
 * aws-for-fluent-bit: a DaemonSet on every node shipping container logs to CloudWatch Logs with
 * the `cloudwatch_logs` output: tenant namespaces to their tenant's log group, everything else to
 * the platform group. Groups are created (with retention) by Terraform, never by Fluent Bit.
 */
export function fluentBitValues(props: FluentBitValuesProps): Record<string, unknown> {
  return {
    image: { repository: IMAGES.fluentBit.repository, tag: IMAGES.fluentBit.tag, pullPolicy: 'IfNotPresent' },
    serviceAccount: { create: true, name: SERVICE_ACCOUNTS.fluentBit },
    priorityClassName: 'system-node-critical',
    tolerations: [...TOLERATE_EVERYTHING],
    filter: {
      // Appended to the chart's kubernetes filter: namespace labels on every record.
      extraFilters: 'Namespace_Labels On',
    },
    cloudWatch: { enabled: false },
    firehose: { enabled: false },
    kinesis: { enabled: false },
    elasticsearch: { enabled: false },
    cloudWatchLogs: {
      enabled: true,
      match: 'kube.*',
      region: props.region,
      logGroupName: platformContainerLogGroupName(props.environmentName),
      logGroupTemplate: tenantLogGroupName(props.environmentName, TENANT_RECORD_ACCESSOR),
      logStreamPrefix: 'containers.',
      logStreamTemplate: "$kubernetes['namespace_name'].$kubernetes['pod_name'].$kubernetes['container_name']",
      // A string on purpose: the chart drops the setting when the value is falsy, which would leave
      // the plugin's default; "false" renders `auto_create_group false` explicitly.
      autoCreateGroup: 'false',
    },
  };
}

/**
 * Helm values travel through Terraform strings, where `${` and `%{` start template sequences.
 * Throws when a value would be interpolated by Terraform instead of reaching the chart.
 */
export function assertNoTerraformTemplates(chart: string, values: unknown): string {
  const json = JSON.stringify(values);
  // cdktf tokens (values from other stacks) are meant to become Terraform references.
  const literal = json.replace(/\$\{TfToken\[[^\]]+\]\}/g, '');
  if (literal.includes('${') || literal.includes('%{')) throw new Error(`values of chart ${chart} contain "\${" or "%{", which Terraform would interpolate`);
  return json;
}
