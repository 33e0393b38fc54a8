/**
 * The Kubernetes objects of namespace-as-a-service, as typed `kubernetes-models` values: the
 * namespace (Pod Security Admission labels), its quotas, its LimitRange and its NetworkPolicies.
 * Every object carries `MANAGED_BY_LABEL=platform`, which the cluster-wide admission policy of the
 * `tenancy` stack protects from the tenant's own users (see admission-policies.ts).
 */
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PLATFORM_NAMESPACES } from '../scheduling/namespaces.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, PRIORITY_CLASSES, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';

/** Port of the Spark UI, where drivers also serve their Prometheus metrics. */
export const SPARK_UI_PORT = 4040;
/** EKS Pod Identity agent (a host-network DaemonSet answering on this link-local address). */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 } as const;

/** Labels on every platform-owned object in a tenant namespace. */
export function platformLabels(tenant: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM, [TENANT_NAMESPACE_LABEL]: tenant };
}

export interface TenantNamespaceOptions {
  readonly tenant: string;
  /**
   * Pod Security Standards version the labels pin (`v1.33`), or `latest`.
   * @default 'latest'
   */
  readonly podSecurityVersion?: string;
  /** Free-text description (annotation). @default none */
  readonly description?: string;
}

/**
 * The namespace: PSA `enforce: baseline` (no hostPath, hostNetwork, privileged; what EMR's pods
 * need), `warn`/`audit: restricted` so tenants see what a stricter level would reject.
 */
export function tenantNamespace(options: TenantNamespaceOptions): Namespace {
  const version = options.podSecurityVersion ?? 'latest';
  return new Namespace({
    metadata: {
      name: options.tenant,
      labels: {
        ...platformLabels(options.tenant),
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': version,
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': version,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': version,
      },
      ...(options.description ? { annotations: { 'spark-platform.io/description': options.description } } : {}),
    },
  });
}

export interface TenantQuota {
  /** requests.cpu, a Kubernetes quantity. */
  readonly cpu: string;
  /** requests.memory, a Kubernetes quantity. */
  readonly memory: string;
  /** Maximum pods. @default no pod count limit */
  readonly pods?: number;
}

export const COMPUTE_QUOTA_NAME = 'compute';
export const PRIORITY_QUOTA_NAME = 'platform-priority-classes';

/** Total CPU and memory requests (and optionally pods) of the namespace. */
export function computeQuota(tenant: string, quota: TenantQuota): ResourceQuota {
  return new ResourceQuota({
    metadata: { name: COMPUTE_QUOTA_NAME, namespace: tenant, labels: platformLabels(tenant) },
    spec: {
      hard: {
        'requests.cpu': quota.cpu,
        'requests.memory': quota.memory,
        ...(quota.pods !== undefined ? { pods: String(quota.pods) } : {}),
      },
    },
  });
}

/** PriorityClasses tenant pods may name: the Spark driver and executor classes. */
export const TENANT_PRIORITY_CLASSES: readonly string[] = [PRIORITY_CLASSES.sparkDriver, PRIORITY_CLASSES.sparkExecutor];

/**
 * Zero pods for any PriorityClass other than the Spark ones: `system-node-critical`,
 * `system-cluster-critical` and every platform class are usable from any namespace unless a quota
 * limits them.
 *
 * The scope is `Exists` AND `NotIn [spark classes]` (scope selector expressions are ANDed): it
 * matches pods that name a class that is not a Spark class. Pods that name no class are not
 * matched and run at priority 0: EMR's job-submitter pod cannot be given a class, and a bare
 * `NotIn` would match the empty class name and block it. This relies on the platform having no
 * `globalDefault` PriorityClass outside the tenant list (the Priority admission plugin would write
 * that class into every pod that names none, and this quota would then reject those pods).
 */
export function priorityClassQuota(tenant: string, allowed: readonly string[] = TENANT_PRIORITY_CLASSES): ResourceQuota {
  return new ResourceQuota({
    metadata: { name: PRIORITY_QUOTA_NAME, namespace: tenant, labels: platformLabels(tenant) },
    spec: {
      hard: { pods: '0' },
      scopeSelector: {
        matchExpressions: [
          { scopeName: 'PriorityClass', operator: 'Exists' },
          { scopeName: 'PriorityClass', operator: 'NotIn', values: [...allowed] },
        ],
      },
    },
  });
}

/**
 * Requests given to containers that set none. The quota on requests makes requests mandatory, and
 * EMR adds containers (log shipping sidecars, the job submitter) that may not set them: these
 * defaults are small enough to fit beside any Spark pod. No default limits: Spark sets its own
 * memory limit, and a default CPU limit would throttle drivers and executors.
 */
export const CONTAINER_DEFAULT_REQUESTS = { cpu: '100m', memory: '256Mi' } as const;

export function containerLimitRange(tenant: string): LimitRange {
  return new LimitRange({
    metadata: { name: 'container-defaults', namespace: tenant, labels: platformLabels(tenant) },
    spec: { limits: [{ type: 'Container', defaultRequest: { ...CONTAINER_DEFAULT_REQUESTS } }] },
  });
}

export interface NetworkPolicyOptions {
  readonly tenant: string;
  /**
   * Namespace allowed to scrape the Spark UI / metrics port.
   * @default PLATFORM_NAMESPACES.monitoring
   */
  readonly monitoringNamespace?: string;
  /**
   * Allow egress to the EKS Pod Identity agent (jobs using Pod Identity).
   * @default false
   */
  readonly podIdentityAgent?: boolean;
}

const namespaceNamed = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

/**
 * Default deny in both directions, then only what Spark on EMR needs:
 * - DNS to CoreDNS (kube-system, `k8s-app: kube-dns`) on UDP and TCP 53;
 * - any traffic between pods of the namespace (driver, executors, job submitter);
 * - ingress from the monitoring namespace to the Spark UI/metrics port;
 * - egress TCP 443 anywhere: AWS APIs (STS for IRSA, S3 through the gateway endpoint, CloudWatch
 *   Logs, Glue) and the Kubernetes API server, which the Spark driver calls to create and watch its
 *   executor pods (the `kubernetes` service forwards to the control-plane ENIs on 443);
 * - with Pod Identity, egress to the agent at 169.254.170.23:80. IMDS is not opened: nodes set
 *   the hop limit to 1 so pods cannot reach it anyway.
 */
export function tenantNetworkPolicies(options: NetworkPolicyOptions): NetworkPolicy[] {
  const { tenant } = options;
  const metadata = (name: string) => ({ name, namespace: tenant, labels: platformLabels(tenant) });
  const policies = [
    new NetworkPolicy({
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }),
    new NetworkPolicy({
      metadata: metadata('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: namespaceNamed(PLATFORM_NAMESPACES.kubeSystem), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    }),
    new NetworkPolicy({
      metadata: metadata('allow-same-namespace'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    }),
    new NetworkPolicy({
      metadata: metadata('allow-monitoring'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: namespaceNamed(options.monitoringNamespace ?? PLATFORM_NAMESPACES.monitoring) }],
            ports: [{ protocol: 'TCP', port: SPARK_UI_PORT }],
          },
        ],
      },
    }),
    new NetworkPolicy({
      metadata: metadata('allow-https-egress'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] }],
      },
    }),
  ];
  if (options.podIdentityAgent) {
    policies.push(
      new NetworkPolicy({
        metadata: metadata('allow-pod-identity-agent'),
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }], ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }] }],
        },
      }),
    );
  }
  return policies;
}
