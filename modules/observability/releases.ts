/**
 * The observability charts in the cluster: namespaces (Pod Security levels the components need),
 * the Grafana admin Secret, kube-prometheus-stack, OpenCost, the Vertical Pod Autoscaler and
 * Fluent Bit, all pinned. The custom resources that need the Prometheus Operator CRDs this state installs
 * (PodMonitors, ServiceMonitors, PrometheusRules) are in the next state, `observability-config`.
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Release } from '@cdktf/provider-helm/lib/release/index.js';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { KubernetesObject } from '../k8s/manifest.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { CHARTS, LOGGING_NAMESPACE, MONITORING_NAMESPACE, RELEASES, VPA_NAMESPACE } from './constants.js';
import { GrafanaAdminKubernetesSecret } from './grafana-admin.js';
import { type AmpRemoteWrite, assertNoTerraformTemplates, fluentBitValues, kubePrometheusStackValues, vpaValues } from './helm-values.js';
import { kubePrometheusStackPrometheus, openCostValues, type OpenCostSpotDataFeed } from './opencost.js';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** A platform namespace with Pod Security Admission labels. */
export function platformNamespace(name: string, enforce: PodSecurityLevel, why: string): Namespace {
  return new Namespace({
    metadata: {
      name,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM,
        'pod-security.kubernetes.io/enforce': enforce,
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
      },
      annotations: { 'spark-platform.io/pod-security-reason': why },
    },
  });
}

export interface ObservabilityReleasesProps {
  /** Environment name (log group names). */
  readonly environmentName: string;
  readonly clusterName: string;
  readonly region: string;
  /** Prometheus TSDB retention (`15d`). */
  readonly prometheusRetention: string;
  /** Prometheus volume size (`100Gi`). */
  readonly prometheusStorageSize: string;
  /** StorageClass of the Prometheus and Alertmanager volumes. */
  readonly storageClassName: string;
  /** Secrets Manager secret holding the Grafana admin login. */
  readonly grafanaAdminSecretArn: string;
  /**
   * Version of the Grafana admin password (re-syncs the Kubernetes Secret when bumped).
   * @default 1
   */
  readonly grafanaAdminPasswordVersion?: number;
  /**
   * Remote write to AMP.
   * @default none
   */
  readonly ampRemoteWrite?: AmpRemoteWrite;
  /**
   * The EC2 Spot data feed OpenCost prices Spot nodes from (its read role is bound to OpenCost's
   * service account by observability-infra).
   * @default none (OpenCost's default Spot estimates)
   */
  readonly openCostSpotDataFeed?: OpenCostSpotDataFeed;
  /**
   * Seconds Helm waits for each release to become ready.
   * @default 900
   */
  readonly timeoutSeconds?: number;
}

export class ObservabilityReleases extends Construct {
  readonly namespaces: Record<'monitoring' | 'logging' | 'vpa', KubernetesObject>;
  readonly grafanaAdmin: GrafanaAdminKubernetesSecret;
  readonly kubePrometheusStack: Release;
  readonly openCost: Release;
  readonly vpa: Release;
  readonly fluentBit: Release;

  constructor(scope: Construct, id: string, props: ObservabilityReleasesProps) {
    super(scope, id);
    const timeout = props.timeoutSeconds ?? 900;
    this.namespaces = {
      monitoring: new KubernetesObject(this, 'monitoring-namespace', {
        object: platformNamespace(MONITORING_NAMESPACE, 'privileged', 'node-exporter needs hostNetwork, hostPID and hostPath'),
      }),
      logging: new KubernetesObject(this, 'logging-namespace', {
        object: platformNamespace(LOGGING_NAMESPACE, 'privileged', 'Fluent Bit reads container logs through hostPath'),
      }),
      vpa: new KubernetesObject(this, 'vpa-namespace', {
        object: platformNamespace(VPA_NAMESPACE, 'baseline', 'VPA components run unprivileged'),
      }),
    };

    this.grafanaAdmin = new GrafanaAdminKubernetesSecret(this, 'grafana-admin', {
      secretArn: props.grafanaAdminSecretArn,
      version: props.grafanaAdminPasswordVersion ?? 1,
      namespace: MONITORING_NAMESPACE,
      dependsOn: [this.namespaces.monitoring.manifest],
    });

    const release = (releaseId: string, chart: (typeof CHARTS)[keyof typeof CHARTS], name: string, namespace: string, values: unknown, dependsOn: ITerraformDependable[]) =>
      new Release(this, releaseId, {
        name,
        namespace,
        repository: chart.repository,
        chart: chart.name,
        version: chart.version,
        values: [assertNoTerraformTemplates(chart.name, values)],
        wait: true,
        timeout,
        cleanupOnFail: true,
        maxHistory: 10,
        dependsOn,
      });

    this.kubePrometheusStack = release(
      'kube-prometheus-stack',
      CHARTS.kubePrometheusStack,
      RELEASES.kubePrometheusStack,
      MONITORING_NAMESPACE,
      kubePrometheusStackValues({
        clusterName: props.clusterName,
        retention: props.prometheusRetention,
        storageSize: props.prometheusStorageSize,
        storageClassName: props.storageClassName,
        ...(props.ampRemoteWrite ? { ampRemoteWrite: props.ampRemoteWrite } : {}),
      }),
      [this.namespaces.monitoring.manifest, this.grafanaAdmin.secret],
    );
    // After kube-prometheus-stack: OpenCost queries its Prometheus from the start.
    this.openCost = release(
      'opencost',
      CHARTS.openCost,
      RELEASES.openCost,
      MONITORING_NAMESPACE,
      openCostValues({
        clusterName: props.clusterName,
        prometheus: kubePrometheusStackPrometheus(MONITORING_NAMESPACE),
        ...(props.openCostSpotDataFeed ? { spotDataFeed: props.openCostSpotDataFeed } : {}),
      }),
      [this.kubePrometheusStack],
    );
    this.vpa = release('vpa', CHARTS.vpa, RELEASES.vpa, VPA_NAMESPACE, vpaValues(), [this.namespaces.vpa.manifest]);
    this.fluentBit = release(
      'aws-for-fluent-bit',
      CHARTS.fluentBit,
      RELEASES.fluentBit,
      LOGGING_NAMESPACE,
      fluentBitValues({ environmentName: props.environmentName, region: props.region }),
      [this.namespaces.logging.manifest],
    );
  }
}
