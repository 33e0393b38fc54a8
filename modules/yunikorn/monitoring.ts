/**
 * What Prometheus scrapes and evaluates, and what Grafana shows, for YuniKorn: the scheduler's
 * ServiceMonitor, a PrometheusRule (tenant queue recording rules; alerts when the admission
 * controller or the scheduler is unavailable, when the pod webhook fails open, and when a tenant
 * waits below its guarantee) and the "Batch scheduling" dashboard. Expressions are parsed and their
 * metric names checked against modules/observability/metrics.ts when the objects are built, like
 * every other rule and dashboard of the platform.
 *
 * The objects live in the monitoring namespace (the ServiceMonitor selects the yunikorn namespace
 * by name), so the observability-config state holds them without depending on the yunikorn state.
 */
import { join } from 'node:path';
import { Construct } from 'constructs';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1Rule as Rule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { KubernetesObject } from '../k8s/manifest.js';
import { MONITORING_NAMESPACE } from '../observability/constants.js';
import { type Dashboard, dashboardConfigMap, defaultDashboardsDir, loadDashboards } from '../observability/dashboards.js';
import { ksmLabel, YUNIKORN_RECORDED } from '../observability/metrics.js';
import { checkRules } from '../observability/rules.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { SPARK_POD_LABELS } from '../tenant/pod-templates.js';
import { MUTATING_WEBHOOK_NAME, TENANTS_QUEUE, YUNIKORN_DEPLOYMENTS, YUNIKORN_NAMESPACE, YUNIKORN_RELEASE, YUNIKORN_SERVICE } from './names.js';

const platformLabels = { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM };

/** Dashboards of the batch scheduler (a subfolder of the dashboards folder: loaded only with YuniKorn). */
export const YUNIKORN_DASHBOARD_FILES = ['batch-scheduling.json'] as const;

export function yunikornDashboardsDir(): string {
  return join(defaultDashboardsDir(), 'yunikorn');
}

export function loadYunikornDashboards(dir: string = yunikornDashboardsDir()): Dashboard[] {
  return loadDashboards(dir, YUNIKORN_DASHBOARD_FILES);
}

export interface YunikornServiceMonitorProps {
  /** @default 'yunikorn' */
  readonly yunikornNamespace?: string;
  /** @default MONITORING_NAMESPACE */
  readonly namespace?: string;
  /** @default '30s' */
  readonly interval?: string;
}

/** The scheduler's metrics (port `yunikorn-core`; the chart's `yunikorn-service` port is the web UI). */
export function yunikornServiceMonitor(props: YunikornServiceMonitorProps = {}): ServiceMonitor {
  const yunikornNamespace = props.yunikornNamespace ?? YUNIKORN_NAMESPACE;
  return new ServiceMonitor({
    metadata: { name: 'yunikorn', namespace: props.namespace ?? MONITORING_NAMESPACE, labels: platformLabels },
    spec: {
      namespaceSelector: { matchNames: [yunikornNamespace] },
      selector: { matchLabels: { app: 'yunikorn', release: YUNIKORN_RELEASE } },
      endpoints: [{ port: YUNIKORN_SERVICE.metricsPortName, path: YUNIKORN_SERVICE.metricsPath, interval: props.interval ?? '30s' }],
    },
  });
}

/** Tenant queues only, in PromQL (brackets instead of backslashes: no escaping through JSON and YAML). */
const TENANT_QUEUES = `${TENANTS_QUEUE.replace(/\./g, '[.]')}[.].+`;
const TENANT_FROM_QUEUE = `${TENANTS_QUEUE.replace(/\./g, '[.]')}[.](.+)`;

/** Recording rules (group `yunikorn.recording`). */
export function yunikornRecordingRules(): Rule[] {
  const roleLabel = ksmLabel('label', SPARK_POD_LABELS.role);
  const tenantLabel = ksmLabel('label', TENANT_NAMESPACE_LABEL);
  return [
    {
      record: YUNIKORN_RECORDED.queueResource,
      expr: `max by (tenant, state, resource) (
  label_replace(yunikorn_queue_resource{queue=~"${TENANT_QUEUES}"}, "tenant", "$1", "queue", "${TENANT_FROM_QUEUE}")
)`,
    },
    {
      record: YUNIKORN_RECORDED.queueApplications,
      expr: `max by (tenant, state) (
  label_replace(yunikorn_queue_app{queue=~"${TENANT_QUEUES}"}, "tenant", "$1", "queue", "${TENANT_FROM_QUEUE}")
)`,
    },
    {
      // A Spark job waits while its driver is Pending: in its queue (over max or maxapplications),
      // for gang placeholders, or for a node.
      record: YUNIKORN_RECORDED.driverWait,
      expr: `label_replace(
  max by (namespace) (
    (time() - max by (namespace, pod) (kube_pod_created))
    * on (namespace, pod) group_left ()
    (max by (namespace, pod) (kube_pod_status_phase{phase="Pending"}) == 1)
    * on (namespace, pod) group_left ()
    max by (namespace, pod) (kube_pod_labels{${roleLabel}="driver"})
  )
  * on (namespace) group_left ()
  max by (namespace) (kube_namespace_labels{${tenantLabel}!=""}),
  "tenant", "$1", "namespace", "(.+)"
)`,
    },
  ];
}

export interface YunikornAlertProps {
  /** @default 'yunikorn' */
  readonly yunikornNamespace?: string;
  /**
   * Minutes a tenant may wait below its guarantee with pending pods before the alert fires.
   * @default 30
   */
  readonly guaranteeNotMetMinutes?: number;
}

/** Alerting rules (group `yunikorn.alerts`). */
export function yunikornAlertRules(props: YunikornAlertProps = {}): Rule[] {
  const ns = props.yunikornNamespace ?? YUNIKORN_NAMESPACE;
  const available = (deployment: string) => {
    const selector = `kube_deployment_status_replicas_available{namespace="${ns}", deployment="${deployment}"}`;
    return `(max by (namespace, deployment) (${selector}) < 1) or absent(${selector})`;
  };
  const queue = (state: string) => `${YUNIKORN_RECORDED.queueResource}{state="${state}"}`;
  const minutes = props.guaranteeNotMetMinutes ?? 30;
  return [
    {
      alert: 'YuniKornAdmissionControllerUnavailable',
      expr: available(YUNIKORN_DEPLOYMENTS.admissionController),
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The YuniKorn admission controller has no available replica.',
        description: `Its pod webhook fails open: new pods in tenant namespaces that do not name the scheduler themselves go to the default scheduler, outside the tenant queues (no guarantee, max or ordering). Check \`kubectl -n ${ns} get pods -l component=${YUNIKORN_DEPLOYMENTS.admissionController}\` and that the control plane reaches the system nodes on TCP 9089.`,
      },
    },
    {
      alert: 'YuniKornWebhookFailingOpen',
      expr: `sum(increase(apiserver_admission_webhook_fail_open_count{name="${MUTATING_WEBHOOK_NAME}"}[10m])) > 0`,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The API server admitted {{ $value | humanize }} pod(s) in 10 minutes without the YuniKorn webhook (failure policy Ignore).',
        description: `Those pods skipped queue placement. Usual causes: admission controller down or restarting (its host-network Deployment upgrades with Recreate), or TCP 9089 blocked between the control plane and the system nodes.`,
      },
    },
    {
      alert: 'YuniKornSchedulerUnavailable',
      expr: available(YUNIKORN_DEPLOYMENTS.scheduler),
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The YuniKorn scheduler has no available replica.',
        description: `Every Spark pod (they name the yunikorn scheduler) stays Pending until it is back; nothing falls back to the default scheduler. \`kubectl -n ${ns} logs deploy/${YUNIKORN_DEPLOYMENTS.scheduler} -c yunikorn-scheduler-k8s\`.`,
      },
    },
    {
      alert: 'TenantBelowGuaranteeWithPendingWork',
      expr: `(
  max by (tenant, resource) (${queue('guaranteed')})
  - max by (tenant, resource) (${queue('allocated')} or ${queue('guaranteed')} * 0)
) > 0
and on (tenant, resource)
(max by (tenant, resource) (${queue('pending')}) > 0)`,
      for: `${minutes}m`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `Tenant {{ $labels.tenant }} has waited ${minutes} minutes below its guaranteed {{ $labels.resource }} with pods pending.`,
        description:
          'Preemption should reclaim the guarantee from tenants above theirs, and Karpenter should add nodes: check the NodePool limits (Karpenter dashboard), pods YuniKorn may not preempt (drivers, allow-preemption: "false"), and the queue in the YuniKorn web UI.',
      },
    },
  ];
}

export interface YunikornRulesProps extends YunikornAlertProps {
  /** @default MONITORING_NAMESPACE */
  readonly namespace?: string;
}

/** The PrometheusRule object, checked. */
export function yunikornPrometheusRule(props: YunikornRulesProps = {}): PrometheusRule {
  const recording = yunikornRecordingRules();
  const alerts = yunikornAlertRules(props);
  checkRules([...recording, ...alerts]);
  return new PrometheusRule({
    metadata: { name: 'yunikorn', namespace: props.namespace ?? MONITORING_NAMESPACE, labels: platformLabels },
    spec: {
      groups: [
        { name: 'yunikorn.recording', rules: recording },
        { name: 'yunikorn.alerts', rules: alerts },
      ],
    },
  });
}

export interface YunikornMonitoringProps extends YunikornRulesProps {
  /** @default yunikornDashboardsDir() */
  readonly dashboardsDir?: string;
}

/** ServiceMonitor, PrometheusRule and dashboard ConfigMaps of the batch scheduler. */
export class YunikornMonitoring extends Construct {
  readonly objects: KubernetesObject[] = [];

  constructor(scope: Construct, id: string, props: YunikornMonitoringProps = {}) {
    super(scope, id);
    const add = (objectId: string, object: ConstructorParameters<typeof KubernetesObject>[2]['object']) => {
      this.objects.push(new KubernetesObject(this, objectId, { object }));
    };
    add('service-monitor', yunikornServiceMonitor(props.yunikornNamespace ? { yunikornNamespace: props.yunikornNamespace } : {}));
    add('rules', yunikornPrometheusRule(props));
    for (const dashboard of loadYunikornDashboards(props.dashboardsDir)) add(`dashboard-${dashboard.uid}`, dashboardConfigMap(dashboard));
  }
}
