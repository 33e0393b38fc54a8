/**
 * Namespaces the platform owns. Tenant names become namespaces, so none of these (and nothing with
 * a reserved prefix) may be used as a tenant name. Platform components import their namespace from
 * here; tenant validation derives its reserved list from the same constants.
 */

export const PLATFORM_NAMESPACES = {
  /** Kubernetes and EKS add-ons (CoreDNS, VPC CNI, Pod Identity agent, metrics-server). */
  kubeSystem: 'kube-system',
  kubePublic: 'kube-public',
  kubeNodeLease: 'kube-node-lease',
  default: 'default',
  /** Karpenter controller. */
  karpenter: 'karpenter',
  /** Prometheus, Grafana and exporters; allowed to scrape the Spark UI/metrics port of tenant pods. */
  monitoring: 'monitoring',
  /** Log shipping (Fluent Bit). */
  logging: 'logging',
  /** Alternative observability namespace names, reserved so no tenant can impersonate them. */
  observability: 'observability',
  prometheus: 'prometheus',
  grafana: 'grafana',
  /** Operator Lifecycle Manager and the operators it installs (EMR vertical autoscaling needs OLM). */
  olm: 'olm',
  operators: 'operators',
  /** Vertical Pod Autoscaler (EMR vertical autoscaling). */
  vpa: 'vpa',
  certManager: 'cert-manager',
  /** Spark-platform wide objects that need a namespace. */
  platform: 'spark-platform',
  /** EMR on EKS managed components (e.g. the Spark operator or Flink operator, when installed). */
  emrContainers: 'emr-containers',
  sparkOperator: 'spark-operator',
  yunikorn: 'yunikorn',
} as const;

/**
 * Prefixes reserved for Kubernetes, AWS and the platform: `kube-*` (Kubernetes), `amazon-*` and
 * `aws-*` (EKS add-ons such as amazon-cloudwatch, amazon-guardduty, aws-observability), `eks-*`,
 * `karpenter*`, `spark-platform*`, `emr-*` (EMR on EKS components) and `system-*` (look-alikes of
 * Kubernetes' own `system-*` PriorityClass and group names).
 */
export const RESERVED_NAMESPACE_PREFIXES = ['kube-', 'amazon-', 'aws-', 'eks-', 'karpenter', 'spark-platform', 'emr-', 'system-'] as const;

/** Why a name cannot be a tenant namespace, or undefined when it can. */
export function reservedNamespaceReason(name: string): string | undefined {
  if ((Object.values(PLATFORM_NAMESPACES) as string[]).includes(name)) return `"${name}" is a platform namespace`;
  const prefix = RESERVED_NAMESPACE_PREFIXES.find((p) => name.startsWith(p));
  return prefix ? `names starting with "${prefix}" are reserved` : undefined;
}

/** Human-readable summary of the reserved names, for error messages. */
export function reservedNamespaceSummary(): string {
  return `${RESERVED_NAMESPACE_PREFIXES.map((p) => `${p}*`).join(', ')}, ${Object.values(PLATFORM_NAMESPACES)
    .filter((n) => !RESERVED_NAMESPACE_PREFIXES.some((p) => n.startsWith(p)))
    .join(', ')}`;
}
