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
import { cidrContains } from '../network/cidr.js';
import { PLATFORM_NAMESPACES } from '../scheduling/namespaces.js';
import { LABEL_DOMAIN, MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, PRIORITY_CLASSES, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';

/** Port of the Spark UI, where drivers also serve their Prometheus metrics. */
export const SPARK_UI_PORT = 4040;
/** EKS Pod Identity agent (a host-network DaemonSet answering on this link-local address). */
export const POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 } as const;

/**
 * Service types a tenant may be allowed beyond ClusterIP and ExternalName. Both expose pods outside
 * the cluster network policies: NodePort on every node's address, LoadBalancer through an AWS load
 * balancer (internet-facing unless annotated otherwise).
 */
export const EXPOSED_SERVICE_TYPES = ['NodePort', 'LoadBalancer'] as const;
export type ExposedServiceType = (typeof EXPOSED_SERVICE_TYPES)[number];

/**
 * Namespace label allowing one exposed service type (`<prefix><type in lower case>: "true"`), read
 * by the `tenant-services` admission policy. The namespace is platform-owned, so tenants cannot
 * set it themselves.
 */
export const SERVICE_TYPE_LABEL_PREFIX = `${LABEL_DOMAIN}/service-type-`;
export const SERVICE_TYPE_ALLOWED = 'true';

export function serviceTypeLabel(type: ExposedServiceType): string {
  return `${SERVICE_TYPE_LABEL_PREFIX}${type.toLowerCase()}`;
}

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
  /** Service types allowed beyond ClusterIP and ExternalName. @default none */
  readonly serviceTypes?: readonly ExposedServiceType[];
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
        ...Object.fromEntries((options.serviceTypes ?? []).map((type) => [serviceTypeLabel(type), SERVICE_TYPE_ALLOWED])),
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

export const SPARK_DRIVER_QUOTA_NAME = 'spark-drivers';
/** Spark drivers (jobs) a tenant may run at once unless its file says otherwise. */
export const DEFAULT_MAX_CONCURRENT_JOBS = 20;

/**
 * At most `maxConcurrentJobs` pods with the driver PriorityClass (`spark-driver-high`, which may
 * preempt lower priorities) at once: one driver per running job. Terminated pods do not count.
 * The admission policies keep that class for Spark drivers, so this bounds how much one tenant can
 * preempt. A driver beyond it is rejected at creation and its job fails.
 */
export function sparkDriverQuota(tenant: string, maxConcurrentJobs: number): ResourceQuota {
  if (!Number.isInteger(maxConcurrentJobs) || maxConcurrentJobs < 1) throw new Error(`maxConcurrentJobs of tenant ${tenant}: expected an integer >= 1, found ${maxConcurrentJobs}`);
  return new ResourceQuota({
    metadata: { name: SPARK_DRIVER_QUOTA_NAME, namespace: tenant, labels: platformLabels(tenant) },
    spec: {
      hard: { pods: String(maxConcurrentJobs) },
      scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [PRIORITY_CLASSES.sparkDriver] }] },
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
  /** Extra egress the tenant declared (policy `allow-declared-egress`). @default none */
  readonly egress?: readonly NetworkAllowance[];
  /** Extra ingress the tenant declared (policy `allow-declared-ingress`). @default none */
  readonly ingress?: readonly NetworkAllowance[];
}

const namespaceNamed = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

/** Traffic to (egress) or from (ingress) one peer: an IPv4 CIDR or a namespace, on some ports. */
export interface NetworkAllowance {
  /** IPv4 CIDR of the peer. Exactly one of cidr and namespace. */
  readonly cidr?: string;
  /** Namespace of the peer (all its pods). Exactly one of cidr and namespace. */
  readonly namespace?: string;
  readonly ports: readonly number[];
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/**
 * Link-local addresses (IMDS at 169.254.169.254, the Pod Identity agent) are never opened by a
 * declared CIDR: the agent has its own policy, IMDS stays closed.
 */
export const LINK_LOCAL_CIDR = '169.254.0.0/16';

type EgressRule = NonNullable<NonNullable<NonNullable<ConstructorParameters<typeof NetworkPolicy>[0]>['spec']>['egress']>[number];
type NetworkPolicyPeer = NonNullable<EgressRule['to']>[number];

function peer(allowance: NetworkAllowance): NetworkPolicyPeer {
  if ((allowance.cidr === undefined) === (allowance.namespace === undefined)) {
    throw new Error(`network allowance: expected exactly one of cidr and namespace, found ${JSON.stringify(allowance)}`);
  }
  if (allowance.namespace !== undefined) return { namespaceSelector: namespaceNamed(allowance.namespace) };
  const cidr = allowance.cidr!;
  if (cidrContains(LINK_LOCAL_CIDR, cidr)) throw new Error(`network allowance: ${cidr} is link-local (${LINK_LOCAL_CIDR}, IMDS), which stays closed`);
  return { ipBlock: { cidr, ...(cidrContains(cidr, LINK_LOCAL_CIDR) ? { except: [LINK_LOCAL_CIDR] } : {}) } };
}

function ports(allowance: NetworkAllowance): { protocol: 'TCP' | 'UDP' | 'SCTP'; port: number }[] {
  return allowance.ports.map((port) => ({ protocol: allowance.protocol ?? 'TCP', port }));
}

/**
 * Default deny in both directions, then only what Spark on EMR needs:
 * - DNS to CoreDNS (kube-system, `k8s-app: kube-dns`) on UDP and TCP 53;
 * - any traffic between pods of the namespace (driver, executors, job submitter);
 * - ingress from the monitoring namespace to the Spark UI/metrics port;
 * - egress TCP 443 anywhere: AWS APIs (STS for IRSA, S3 through the gateway endpoint, CloudWatch
 *   Logs, Glue) and the Kubernetes API server, which the Spark driver calls to create and watch its
 *   executor pods (the `kubernetes` service forwards to the control-plane ENIs on 443);
 * - with Pod Identity, egress to the agent at 169.254.170.23:80. IMDS is not opened: nodes set
 *   the hop limit to 1 so pods cannot reach it anyway;
 * - what the tenant file declares (`network.egress`, `network.ingress`), as platform-owned
 *   policies: tenants cannot write NetworkPolicies themselves (they are additive, so any policy a
 *   tenant wrote could only widen the default deny).
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
  if (options.egress && options.egress.length > 0) {
    policies.push(
      new NetworkPolicy({
        metadata: metadata('allow-declared-egress'),
        spec: { podSelector: {}, policyTypes: ['Egress'], egress: options.egress.map((a) => ({ to: [peer(a)], ports: ports(a) })) },
      }),
    );
  }
  if (options.ingress && options.ingress.length > 0) {
    policies.push(
      new NetworkPolicy({
        metadata: metadata('allow-declared-ingress'),
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: options.ingress.map((a) => ({ from: [peer(a)], ports: ports(a) })) },
      }),
    );
  }
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
