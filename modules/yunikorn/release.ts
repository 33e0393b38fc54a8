/**
 * Apache YuniKorn in the cluster: its namespace, the generated configuration (ConfigMap
 * `yunikorn-configs`: queues and the namespaces the admission controller processes) and the
 * `yunikorn` chart (scheduler, web UI, admission controller), pinned.
 *
 * The configuration is created before the chart, so the scheduler starts with the tenant queues
 * and the admission controller with the tenant namespaces; afterwards both hot-reload it. The
 * chart does not manage `yunikorn-configs` (it is meant for configuration that changes over time),
 * so a tenant change is an in-place update of that one object, never a Helm upgrade (which
 * restarts the host-network admission controller with a Recreate rollout).
 */
import { Construct } from 'constructs';
import { Release } from '@cdktf/provider-helm/lib/release/index.js';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { KubernetesObject } from '../k8s/manifest.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import type { YunikornChartValues } from './helm-values.js';
import { CONFIG_MAPS, YUNIKORN_CHART, YUNIKORN_CHART_REPOSITORY, YUNIKORN_DEPLOYMENTS, YUNIKORN_NAMESPACE, YUNIKORN_RELEASE } from './names.js';

/** Kubernetes refuses ConfigMaps whose data exceeds 1 MiB. */
export const CONFIG_MAP_LIMIT_BYTES = 1024 * 1024;

export class ConfigurationTooLargeError extends Error {
  override name = 'ConfigurationTooLargeError';
}

/** The ConfigMap `yunikorn-configs`, refusing data Kubernetes would refuse. */
export function generatedConfigMap(data: Readonly<Record<string, string>>, namespace: string = YUNIKORN_NAMESPACE): ConfigMap {
  const bytes = Object.entries(data).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
  if (bytes > CONFIG_MAP_LIMIT_BYTES) {
    throw new ConfigurationTooLargeError(
      `ConfigMap ${namespace}/${CONFIG_MAPS.generated} would hold ${bytes} bytes; Kubernetes accepts at most ${CONFIG_MAP_LIMIT_BYTES} (some 2,200 to 2,500 tenant queues): split the tenants across clusters`,
    );
  }
  return new ConfigMap({
    metadata: {
      name: CONFIG_MAPS.generated,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM },
      annotations: { 'spark-platform.io/generated-from': 'tenants/*/tenant.yaml (stack yunikorn); do not edit' },
    },
    data: { ...data },
  });
}

/**
 * Keeps one admission controller up through voluntary disruptions (system node group rollouts,
 * drains): with none, pod webhooks fail open. The chart has no PodDisruptionBudget; the scheduler
 * (one replica) gets none, which would block every drain of its node.
 */
export function admissionControllerDisruptionBudget(namespace: string = YUNIKORN_NAMESPACE): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name: YUNIKORN_DEPLOYMENTS.admissionController, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } },
    spec: {
      minAvailable: 1,
      selector: { matchLabels: { app: 'yunikorn', component: YUNIKORN_DEPLOYMENTS.admissionController, release: YUNIKORN_RELEASE } },
    },
  });
}

export interface YunikornReleaseProps {
  /** Chart version (exact, e.g. `1.8.0`). */
  readonly version: string;
  readonly values: YunikornChartValues;
  /** Data of the generated ConfigMap `yunikorn-configs`. */
  readonly configuration: Readonly<Record<string, string>>;
  /**
   * Namespace of the release (created here).
   * @default 'yunikorn'
   */
  readonly namespace?: string;
  /**
   * Chart repository.
   * @default 'https://apache.github.io/yunikorn-release'
   */
  readonly repository?: string;
  /**
   * Seconds Helm waits for the scheduler and admission controller to become ready.
   * @default 600
   */
  readonly timeoutSeconds?: number;
}

export class YunikornRelease extends Construct {
  readonly namespace: KubernetesObject;
  readonly configuration: KubernetesObject;
  readonly release: Release;
  readonly admissionDisruptionBudget: KubernetesObject;

  constructor(scope: Construct, id: string, props: YunikornReleaseProps) {
    super(scope, id);
    if (!/^\d+\.\d+\.\d+$/.test(props.version)) throw new Error(`YuniKorn chart version must be exact (x.y.z), found ${JSON.stringify(props.version)}`);
    const namespace = props.namespace ?? YUNIKORN_NAMESPACE;

    this.namespace = new KubernetesObject(this, 'namespace', {
      object: new Namespace({
        metadata: {
          name: namespace,
          labels: {
            [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM,
            // The admission controller runs on the host network (the EKS control plane calls it on
            // the node address), which only the privileged level allows.
            'pod-security.kubernetes.io/enforce': 'privileged',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': 'restricted',
            'pod-security.kubernetes.io/warn-version': 'latest',
          },
          annotations: { 'spark-platform.io/pod-security-reason': 'the YuniKorn admission controller runs on the host network (port 9089)' },
        },
      }),
    });

    this.configuration = new KubernetesObject(this, 'configuration', {
      object: generatedConfigMap(props.configuration, namespace),
      dependsOn: [this.namespace.manifest],
    });

    this.release = new Release(this, 'release', {
      name: YUNIKORN_RELEASE,
      namespace,
      repository: props.repository ?? YUNIKORN_CHART_REPOSITORY,
      chart: YUNIKORN_CHART,
      version: props.version,
      values: [JSON.stringify(props.values)],
      wait: true,
      timeout: props.timeoutSeconds ?? 600,
      cleanupOnFail: true,
      maxHistory: 10,
      dependsOn: [this.configuration.manifest],
    });

    this.admissionDisruptionBudget = new KubernetesObject(this, 'admission-disruption-budget', {
      object: admissionControllerDisruptionBudget(namespace),
      dependsOn: [this.namespace.manifest],
    });
  }
}
