/**
 * Values of the `yunikorn` Helm chart, as a typed subset of its values.yaml: every key set here
 * exists in the chart at the pinned version (test/yunikorn-chart.test.ts checks them against the
 * chart's key list). Only keys that exist in both the 1.8 and 1.9 charts are used: the settings the
 * 1.9 chart removed (`configuration`, `placeHolderImage`, `admissionController.processNamespaces`,
 * ...) go into `yunikornDefaults` (ConfigMap `yunikorn-defaults`) or the generated `yunikorn-configs`.
 */
import { SYSTEM_PLACEMENT, type Toleration } from '../scheduling/system-nodes.js';
import { CONFIG_KEYS, SCHEDULER_SERVICE_ACCOUNT, YUNIKORN_DEPLOYMENTS } from './names.js';

export interface ResourceList {
  readonly cpu: string;
  readonly memory: string;
}

export interface Resources {
  readonly requests: ResourceList;
  readonly limits: ResourceList;
}

interface Image {
  readonly repository: string;
  readonly tag: string;
  readonly pullPolicy: 'IfNotPresent' | 'Always';
}

/** The chart values this platform sets (the chart's defaults hold for everything else). */
export interface YunikornChartValues {
  readonly image: Image;
  /** The scheduler's service account: the tenancy admission policies name it (placeholder pods). */
  readonly serviceAccount: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly priorityClassName: string;
  readonly resources: Resources;
  readonly enableWebService: boolean;
  readonly web: { readonly image: Image; readonly resources: Resources };
  readonly embedAdmissionController: boolean;
  readonly admissionController: {
    readonly image: Image;
    readonly replicaCount: number;
    readonly hostNetwork: boolean;
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly tolerations: readonly Toleration[];
    readonly priorityClassName: string;
    readonly affinity: Record<string, unknown>;
    readonly resources: Resources;
  };
  /** Rendered into ConfigMap `yunikorn-defaults` (every value a string). */
  readonly yunikornDefaults: Readonly<Record<string, string>>;
}

/** A regex list (comma-separated, as the admission controller parses it) matching exactly these names. */
export function exactNamespaceRegexes(names: readonly string[]): string {
  for (const name of names) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`not a namespace name: ${JSON.stringify(name)}`);
  }
  // Namespace names have no regex metacharacters besides "-", which is literal outside brackets.
  return names.length > 0 ? [...names].sort().map((name) => `^${name}$`).join(',') : MATCH_NO_NAMESPACE;
}

/**
 * A processNamespaces value that matches no namespace. An empty value would mean "every
 * namespace": the admission controller treats an empty list as no filter.
 */
export const MATCH_NO_NAMESPACE = '^$';

export interface YunikornChartValuesProps {
  /** Chart version; the image tags are `scheduler-<version>`, `admission-<version>`, `web-<version>`. */
  readonly version: string;
  /**
   * Namespaces the admission controller never mutates (besides the ones not listed in the
   * generated processNamespaces): the platform's own.
   */
  readonly bypassNamespaces: readonly string[];
  /**
   * Image repository of the three images (mirror it to ECR when nodes have no internet egress).
   * @default 'apache/yunikorn' (Docker Hub)
   */
  readonly imageRepository?: string;
  /**
   * Image of gang-scheduling placeholder pods (multi-arch; mirror it with the others).
   * @default 'registry.k8s.io/pause:3.7' (YuniKorn's own default, pinned here)
   */
  readonly placeholderImage?: string;
  /**
   * Admission controller replicas. Each binds the webhook port on its node (host network), so
   * they run on different system nodes.
   * @default 2
   */
  readonly admissionControllerReplicas?: number;
  /**
   * Scheduler container resources (one replica: the chart has no scheduler HA). Memory grows with
   * pods and nodes; the 1.8 chart derives GOMEMLIMIT from a 2Gi limit (`goMemoryLimit: 1536MiB`).
   * @default { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } }
   */
  readonly schedulerResources?: Resources;
  /**
   * Admission controller resources (the chart template reads exactly these four values).
   * @default { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '500m', memory: '500Mi' } }
   */
  readonly admissionControllerResources?: Resources;
  /**
   * Web UI container resources.
   * @default { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '200m', memory: '500Mi' } }
   */
  readonly webResources?: Resources;
  /**
   * PriorityClass of the scheduler and admission controller: tenant pods cannot be scheduled
   * without them.
   * @default 'system-cluster-critical'
   */
  readonly priorityClassName?: string;
}

export const DEFAULT_PLACEHOLDER_IMAGE = 'registry.k8s.io/pause:3.7';

export function yunikornChartValues(props: YunikornChartValuesProps): YunikornChartValues {
  if (!/^\d+\.\d+\.\d+$/.test(props.version)) throw new Error(`YuniKorn chart version must be exact (x.y.z), found ${JSON.stringify(props.version)}`);
  const repository = props.imageRepository ?? 'apache/yunikorn';
  // Tags are pinned by version, so a node never needs to pull again (the chart defaults to Always).
  const image = (component: string): Image => ({ repository, tag: `${component}-${props.version}`, pullPolicy: 'IfNotPresent' });
  const systemNodes = () => ({ nodeSelector: { 'kubernetes.io/os': 'linux', ...SYSTEM_PLACEMENT.nodeSelector }, tolerations: SYSTEM_PLACEMENT.tolerations.map((t) => ({ ...t })) });
  const priorityClassName = props.priorityClassName ?? 'system-cluster-critical';
  const replicas = props.admissionControllerReplicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`admission controller replicas must be a whole number >= 1, found ${replicas}`);
  return {
    image: image('scheduler'),
    // The chart default, pinned: the admission policies allow this account's placeholder pods.
    serviceAccount: SCHEDULER_SERVICE_ACCOUNT,
    ...systemNodes(),
    priorityClassName,
    resources: props.schedulerResources ?? { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
    enableWebService: true,
    web: { image: image('web'), resources: props.webResources ?? { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '200m', memory: '500Mi' } } },
    embedAdmissionController: true,
    admissionController: {
      image: image('admission'),
      replicaCount: replicas,
      // Explicit: the webhook is reached on the node address (the cluster stack opens the port).
      hostNetwork: true,
      ...systemNodes(),
      priorityClassName,
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'yunikorn', component: YUNIKORN_DEPLOYMENTS.admissionController } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
      resources: props.admissionControllerResources ?? { requests: { cpu: '100m', memory: '500Mi' }, limits: { cpu: '500m', memory: '500Mi' } },
    },
    yunikornDefaults: {
      [CONFIG_KEYS.placeholderImage]: props.placeholderImage ?? DEFAULT_PLACEHOLDER_IMAGE,
      // Nothing is processed until the generated yunikorn-configs names the tenant namespaces
      // (and nothing is, should that ConfigMap ever be deleted).
      [CONFIG_KEYS.processNamespaces]: MATCH_NO_NAMESPACE,
      [CONFIG_KEYS.bypassNamespaces]: exactNamespaceRegexes(props.bypassNamespaces),
      // Pods without an application id (the EMR job submitters) share one application per
      // namespace: maxapplications counts them once (see the tenant queue).
      [CONFIG_KEYS.generateUniqueAppId]: 'false',
    },
  };
}
