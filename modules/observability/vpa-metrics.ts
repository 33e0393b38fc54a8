/**
 * kube-state-metrics custom-resource-state configuration that turns VerticalPodAutoscaler
 * recommendations into metrics (kube-state-metrics dropped its built-in VPA collector in v2.9).
 * Format: kube-state-metrics docs/metrics/extend/customresourcestate-metrics.md (`metricNamePrefix`,
 * `labelsFromPath`, `each.gauge.path`/`valueFrom`; quantities such as `262144k` are parsed).
 *
 * The EMR vertical autoscaling operator creates one VPA per job signature and labels it with the
 * signature (`kubectl get vpa -l emr-containers.amazonaws.com/dynamic.sizing.signature=<sig>`), so
 * every series carries a `signature` label the EMR dashboard groups by.
 */
import { VERTICAL_AUTOSCALING } from '../tenant/pod-templates.js';

/** Prefix of every VPA metric: `kube_customresource_vpa_<name>`. */
export const VPA_METRIC_PREFIX = 'kube_customresource_vpa';

/** The recommendation bounds the VPA status carries per container. */
export const VPA_RECOMMENDATION_FIELDS = {
  target: 'target',
  lowerbound: 'lowerBound',
  upperbound: 'upperBound',
  uncappedtarget: 'uncappedTarget',
} as const;

const RESOURCES = [
  { resource: 'memory', unit: 'byte' },
  { resource: 'cpu', unit: 'core' },
] as const;

/** Full names of the VPA metrics this configuration defines. */
export function vpaMetricNames(): string[] {
  return [`${VPA_METRIC_PREFIX}_info`, ...Object.keys(VPA_RECOMMENDATION_FIELDS).map((n) => `${VPA_METRIC_PREFIX}_containerrecommendations_${n}`)];
}

/** The `CustomResourceStateMetrics` document kube-state-metrics reads (chart `customResourceState.config`). */
export function vpaCustomResourceStateConfig(): Record<string, unknown> {
  const recommendations = Object.entries(VPA_RECOMMENDATION_FIELDS).flatMap(([name, field]) =>
    RESOURCES.map(({ resource, unit }) => ({
      name: `containerrecommendations_${name}`,
      help: `VPA recommendation (${field}) per container, in ${unit}s.`,
      commonLabels: { resource, unit },
      each: {
        type: 'Gauge',
        gauge: {
          path: ['status', 'recommendation', 'containerRecommendations'],
          labelsFromPath: { container: ['containerName'] },
          valueFrom: [field, resource],
        },
      },
    })),
  );
  return {
    kind: 'CustomResourceStateMetrics',
    spec: {
      resources: [
        {
          groupVersionKind: { group: 'autoscaling.k8s.io', version: 'v1', kind: 'VerticalPodAutoscaler' },
          metricNamePrefix: VPA_METRIC_PREFIX,
          labelsFromPath: {
            namespace: ['metadata', 'namespace'],
            verticalpodautoscaler: ['metadata', 'name'],
            target_kind: ['spec', 'targetRef', 'kind'],
            target_name: ['spec', 'targetRef', 'name'],
            signature: ['metadata', 'labels', VERTICAL_AUTOSCALING.signature],
          },
          metrics: [
            {
              name: 'info',
              help: 'One series per VerticalPodAutoscaler, labelled with its update mode.',
              each: { type: 'Info', info: { labelsFromPath: { update_mode: ['spec', 'updatePolicy', 'updateMode'] } } },
            },
            ...recommendations,
          ],
        },
      ],
    },
  };
}

/** RBAC kube-state-metrics needs to list and watch VPAs (chart `rbac.extraRules`). */
export const VPA_READ_RULE = { apiGroups: ['autoscaling.k8s.io'], resources: ['verticalpodautoscalers'], verbs: ['list', 'watch'] } as const;
