/**
 * Names, keys and ports of Apache YuniKorn that the platform relies on: the chart, its objects, the
 * queue layout, and the pod labels and annotations YuniKorn reads. Everything that talks to
 * YuniKorn (the yunikorn stack, tenant pod templates, monitoring) refers to these constants.
 *
 * Sources: apache/yunikorn-k8shim `pkg/common/constants/constants.go` and
 * `pkg/admission/webhook_manager.go` (tags v1.8.0 and v1.9.0), apache/yunikorn-release
 * `helm-charts/yunikorn/templates/*` (tag v1.8.0).
 */
import { PLATFORM_NAMESPACES } from '../scheduling/namespaces.js';

/** Namespace of the scheduler and the admission controller (a reserved, non-tenant name). */
export const YUNIKORN_NAMESPACE = PLATFORM_NAMESPACES.yunikorn;

/** The Helm chart repository (served from the gh-pages branch of apache/yunikorn-release). */
export const YUNIKORN_CHART_REPOSITORY = 'https://apache.github.io/yunikorn-release';
export const YUNIKORN_CHART = 'yunikorn';
/** Release name: the chart labels its objects `release: <name>` (the ServiceMonitor selects on it). */
export const YUNIKORN_RELEASE = 'yunikorn';

/**
 * Service account of the scheduler (chart value `serviceAccount`, set explicitly by the platform):
 * it creates the gang-scheduling placeholder pods in tenant namespaces, so the tenancy admission
 * policies name it (`platformPodCreators`).
 */
export const SCHEDULER_SERVICE_ACCOUNT = 'yunikorn-admin';

/** The Kubernetes username of the scheduler (`system:serviceaccount:<namespace>:<account>`). */
export const SCHEDULER_USERNAME = `system:serviceaccount:${PLATFORM_NAMESPACES.yunikorn}:${SCHEDULER_SERVICE_ACCOUNT}`;

/** `spec.schedulerName` of pods YuniKorn schedules. */
export const SCHEDULER_NAME = 'yunikorn';

/** Deployments of the chart (kube-state-metrics reports their available replicas). */
export const YUNIKORN_DEPLOYMENTS = {
  scheduler: 'yunikorn-scheduler',
  admissionController: 'yunikorn-admission-controller',
} as const;

/**
 * The admission controller's webhook port: fixed (`HTTPPort = 9089`), on the node's address when
 * `admissionController.hostNetwork` is true (the chart default), so the EKS control plane must
 * reach the nodes on it.
 */
export const ADMISSION_WEBHOOK_PORT = 9089;

/** The mutating webhook the admission controller registers at run time (`failurePolicy: Ignore`). */
export const MUTATING_WEBHOOK_NAME = 'admission-webhook.yunikorn.mutate-pods';

/** Scheduler Service `yunikorn-service`: REST API and Prometheus metrics on port `yunikorn-core` (9080). */
export const YUNIKORN_SERVICE = { name: 'yunikorn-service', metricsPortName: 'yunikorn-core', metricsPort: 9080, metricsPath: '/ws/v1/metrics' } as const;

/**
 * ConfigMaps YuniKorn reads (both polled and merged key by key, `yunikorn-configs` winning):
 * `yunikorn-defaults` is rendered by the chart from `yunikornDefaults`; `yunikorn-configs` is not
 * created by the chart and holds what the platform generates from the tenant folders.
 */
export const CONFIG_MAPS = { defaults: 'yunikorn-defaults', generated: 'yunikorn-configs' } as const;

/** ConfigMap keys of the generated configuration. */
export const CONFIG_KEYS = {
  /** `<service.policyGroup>.yaml`, with the default policy group `queues`. */
  queues: 'queues.yaml',
  processNamespaces: 'admissionController.filtering.processNamespaces',
  bypassNamespaces: 'admissionController.filtering.bypassNamespaces',
  generateUniqueAppId: 'admissionController.filtering.generateUniqueAppId',
  placeholderImage: 'service.placeholderImage',
} as const;

/** The one partition the Kubernetes shim supports. */
export const PARTITION = 'default';
/** Parent queue of every tenant queue. */
export const TENANTS_QUEUE = 'root.tenants';

/** The leaf queue of a tenant (= its namespace, placed there by the `tag: namespace` rule). */
export function tenantQueuePath(tenant: string): string {
  return `${TENANTS_QUEUE}.${tenant}`;
}

/** Pod labels and annotations YuniKorn reads or writes. */
export const YUNIKORN_KEYS = {
  /** Label: the queue of the pod's application (full path). */
  queueLabel: 'yunikorn.apache.org/queue',
  /**
   * Label YuniKorn puts on placeholder pods (and reads first for the application id). Pod
   * templates never set it: every job would share one application. Spark's own
   * `spark-app-selector` label is the application id of Spark pods.
   */
  appIdLabel: 'yunikorn.apache.org/app-id',
  /** Annotation (originator pod): JSON list of task groups. */
  taskGroups: 'yunikorn.apache.org/task-groups',
  /** Annotation: the task group a pod belongs to. */
  taskGroupName: 'yunikorn.apache.org/task-group-name',
  /** Annotation: space-separated `key=value` gang parameters. */
  schedulingPolicyParameters: 'yunikorn.apache.org/schedulingPolicyParameters',
  /** Annotation: `"false"` asks YuniKorn not to preempt the pod. */
  allowPreemption: 'yunikorn.apache.org/allow-preemption',
} as const;

/**
 * Keys of `schedulingPolicyParameters`. Unknown keys are silently ignored, and AWS examples
 * misspell the timeout `placeholderTimeoutSeconds`: these are the shim's constants.
 */
export const SCHEDULING_POLICY_KEYS = { placeholderTimeout: 'placeholderTimeoutInSeconds', gangStyle: 'gangSchedulingStyle' } as const;
