/**
 * Kubernetes rules, on `kubernetes_manifest` objects (what KubernetesObject emits) and the typed
 * `kubernetes_*_v1` resources:
 *
 * - Karpenter EC2NodeClasses: IMDSv2 with hop limit 1, a pinned AMI alias (never `@latest`),
 *   encrypted EBS volumes.
 * - Tenant namespaces (labelled TENANT_NAMESPACE_LABEL): Pod Security Admission `enforce` at least
 *   baseline, and, in the same stack, a CPU/memory ResourceQuota, a LimitRange, a default-deny
 *   NetworkPolicy and a quota on pods of the Spark driver PriorityClass for the namespace.
 */
import { PRIORITY_CLASSES, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { type Rule, type RuleContext, types } from './rule.js';
import { block, blocks, isRecord, parseReference, strings, type StackIndex, type TfResource } from './terraform.js';

type JsonRecord = Record<string, unknown>;

/** A Kubernetes object as the rules see it, whichever resource type declares it. */
export interface KubernetesObjectView {
  readonly resource: TfResource;
  readonly kind: string;
  readonly name: string | undefined;
  /** Namespace, with references to a namespace resource of the stack resolved to its name. */
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: JsonRecord;
}

/** Typed provider resources -> the kind they declare. */
const TYPED_KINDS: Readonly<Record<string, string>> = {
  kubernetes_namespace_v1: 'Namespace',
  kubernetes_namespace: 'Namespace',
  kubernetes_resource_quota_v1: 'ResourceQuota',
  kubernetes_resource_quota: 'ResourceQuota',
  kubernetes_limit_range_v1: 'LimitRange',
  kubernetes_limit_range: 'LimitRange',
  kubernetes_network_policy_v1: 'NetworkPolicy',
  kubernetes_network_policy: 'NetworkPolicy',
};

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function rawView(resource: TfResource): Omit<KubernetesObjectView, 'namespace'> & { rawNamespace: unknown } {
  if (resource.type === 'kubernetes_manifest') {
    const manifest = isRecord(resource.body.manifest) ? resource.body.manifest : {};
    const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
    return {
      resource,
      kind: typeof manifest.kind === 'string' ? manifest.kind : '',
      name: typeof metadata.name === 'string' ? metadata.name : undefined,
      rawNamespace: metadata.namespace,
      labels: stringRecord(metadata.labels),
      spec: isRecord(manifest.spec) ? manifest.spec : {},
    };
  }
  const metadata = block(resource.body.metadata) ?? {};
  return {
    resource,
    kind: TYPED_KINDS[resource.type] ?? '',
    name: typeof metadata.name === 'string' ? metadata.name : undefined,
    rawNamespace: metadata.namespace,
    labels: stringRecord(metadata.labels),
    spec: block(resource.body.spec) ?? {},
  };
}

/** Every Kubernetes object of the stack, computed once per stack. */
export function kubernetesObjects(index: StackIndex): readonly KubernetesObjectView[] {
  return index.memo('kubernetes:objects', () => {
    const raws = [...index.ofType('kubernetes_manifest'), ...Object.keys(TYPED_KINDS).flatMap((t) => index.ofType(t))].map(rawView);
    const namespaceName = new Map(raws.filter((r) => r.kind === 'Namespace').map((r) => [r.resource.address, r.name]));
    return raws.map(({ rawNamespace, ...rest }) => {
      let namespace = typeof rawNamespace === 'string' && !rawNamespace.includes('${') ? rawNamespace : undefined;
      const reference = parseReference(rawNamespace);
      if (reference && reference.kind === 'resource') namespace = namespaceName.get(`${reference.type}.${reference.name}`);
      return { ...rest, namespace };
    });
  });
}

function viewOf(resource: TfResource, context: RuleContext): KubernetesObjectView | undefined {
  const byResource = context.index.memo('kubernetes:by-resource', () => new Map(kubernetesObjects(context.index).map((o) => [o.resource, o])));
  return byResource.get(resource);
}

/** Objects of a kind in a namespace (one pass per stack, then lookups). */
function objectsIn(context: RuleContext, kind: string, namespace: string): readonly KubernetesObjectView[] {
  const byKey = context.index.memo('kubernetes:by-kind-namespace', () => {
    const map = new Map<string, KubernetesObjectView[]>();
    for (const object of kubernetesObjects(context.index)) {
      const key = `${object.kind}/${object.namespace ?? ''}`;
      let list = map.get(key);
      if (!list) map.set(key, (list = []));
      list.push(object);
    }
    return map;
  });
  return byKey.get(`${kind}/${namespace}`) ?? [];
}

const KUBERNETES_TYPES = ['kubernetes_manifest', ...Object.keys(TYPED_KINDS)];

// ---------------------------------------------------------------------------------------------
// Karpenter EC2NodeClass

function nodeClass(resource: TfResource, context: RuleContext): KubernetesObjectView | undefined {
  const view = resource.type === 'kubernetes_manifest' ? viewOf(resource, context) : undefined;
  return view?.kind === 'EC2NodeClass' ? view : undefined;
}

export const nodeClassImdsv2: Rule = {
  id: 'KAR-001',
  title: 'Karpenter EC2NodeClasses require IMDSv2 with hop limit 1',
  description: 'Spark pods run untrusted tenant code; with a hop limit above 1 or IMDSv1 they can read the node role credentials.',
  fix: 'Set spec.metadataOptions { httpEndpoint: enabled, httpTokens: required, httpPutResponseHopLimit: 1 } on the EC2NodeClass (sparkNodeClasses in modules/karpenter/node-classes.ts does).',
  appliesTo: types('kubernetes_manifest'),
  check: (resource, context) => {
    const view = nodeClass(resource, context);
    if (!view) return [];
    const options = isRecord(view.spec.metadataOptions) ? view.spec.metadataOptions : {};
    if (options.httpEndpoint === 'disabled') return [];
    const problems: string[] = [];
    if (options.httpTokens !== 'required') problems.push(`EC2NodeClass ${view.name} spec.metadataOptions.httpTokens is ${JSON.stringify(options.httpTokens ?? null)}, not "required"`);
    if (options.httpPutResponseHopLimit !== 1) {
      problems.push(`EC2NodeClass ${view.name} spec.metadataOptions.httpPutResponseHopLimit is ${JSON.stringify(options.httpPutResponseHopLimit ?? null)}, not 1`);
    }
    return problems;
  },
};

export const nodeClassPinnedAmi: Rule = {
  id: 'KAR-002',
  title: 'Karpenter EC2NodeClasses pin the AMI (no `@latest` alias)',
  description: 'An `@latest` alias drifts and replaces every node on each AMI release, untested and in the middle of Spark jobs.',
  fix: 'Use a versioned alias such as al2023@v20260714 in spec.amiSelectorTerms and bump it deliberately.',
  appliesTo: types('kubernetes_manifest'),
  check: (resource, context) => {
    const view = nodeClass(resource, context);
    if (!view) return [];
    const aliases = blocks(view.spec.amiSelectorTerms).map((t) => t.alias).filter((a): a is string => typeof a === 'string');
    return aliases.filter((a) => a.endsWith('@latest')).map((a) => `EC2NodeClass ${view.name} selects AMI alias ${JSON.stringify(a)}`);
  },
};

export const nodeClassEncryptedVolumes: Rule = {
  id: 'KAR-003',
  title: 'Karpenter EC2NodeClass EBS volumes are encrypted',
  description: 'Node volumes hold images, logs and spilled tenant data.',
  fix: 'Set ebs.encrypted: true on every spec.blockDeviceMappings entry.',
  appliesTo: types('kubernetes_manifest'),
  check: (resource, context) => {
    const view = nodeClass(resource, context);
    if (!view) return [];
    return blocks(view.spec.blockDeviceMappings)
      .filter((m) => isRecord(m.ebs) && m.ebs.encrypted !== true)
      .map((m) => `EC2NodeClass ${view.name} volume ${String(m.deviceName ?? '(unnamed)')} is not encrypted`);
  },
};

// ---------------------------------------------------------------------------------------------
// Tenant namespaces

/** Pod Security Standards levels that forbid privileged pods, host namespaces and hostPath. */
export const ACCEPTED_PSA_LEVELS: readonly string[] = ['baseline', 'restricted'];
export const PSA_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

function tenantNamespace(resource: TfResource, context: RuleContext): KubernetesObjectView | undefined {
  const view = viewOf(resource, context);
  return view?.kind === 'Namespace' && view.labels[TENANT_NAMESPACE_LABEL] !== undefined ? view : undefined;
}

export const tenantNamespacePodSecurity: Rule = {
  id: 'K8S-001',
  title: 'Tenant namespaces enforce Pod Security Admission baseline or restricted',
  description: 'Without an enforce label tenant pods may run privileged, use hostPath or the host network, and escape to the node.',
  fix: `Label the namespace ${PSA_ENFORCE_LABEL}: baseline (or restricted).`,
  appliesTo: types(...KUBERNETES_TYPES),
  check: (resource, context) => {
    const view = tenantNamespace(resource, context);
    if (!view) return [];
    const level = view.labels[PSA_ENFORCE_LABEL];
    return level !== undefined && ACCEPTED_PSA_LEVELS.includes(level)
      ? []
      : [`tenant namespace ${view.name} has ${PSA_ENFORCE_LABEL}=${JSON.stringify(level ?? null)}, expected one of ${ACCEPTED_PSA_LEVELS.join(', ')}`];
  },
};

function hardKeys(spec: JsonRecord): string[] {
  return Object.keys(isRecord(spec.hard) ? spec.hard : {});
}

export const tenantNamespaceQuota: Rule = {
  id: 'K8S-002',
  title: 'Tenant namespaces have a CPU and memory ResourceQuota',
  description: 'Without a quota one tenant can take the whole cluster (and the Karpenter limits) from everyone else.',
  fix: 'Create a ResourceQuota in the namespace, without scopes, whose spec.hard bounds CPU and memory (e.g. requests.cpu, limits.memory).',
  appliesTo: types(...KUBERNETES_TYPES),
  check: (resource, context) => {
    const view = tenantNamespace(resource, context);
    if (!view || !view.name) return [];
    const quotas = objectsIn(context, 'ResourceQuota', view.name).filter((q) => {
      const scoped = strings(q.spec.scopes).length > 0 || q.spec.scopeSelector !== undefined || q.spec.scope_selector !== undefined;
      const keys = hardKeys(q.spec);
      return !scoped && keys.some((k) => k.includes('cpu')) && keys.some((k) => k.includes('memory'));
    });
    return quotas.length > 0 ? [] : [`tenant namespace ${view.name} has no unscoped ResourceQuota bounding cpu and memory in this stack`];
  },
};

export const tenantNamespaceLimitRange: Rule = {
  id: 'K8S-003',
  title: 'Tenant namespaces have a LimitRange for containers',
  description: 'A LimitRange gives containers default requests/limits, so pods without them still count against the quota and cannot starve their node.',
  fix: 'Create a LimitRange in the namespace with a limit of type Container (default and defaultRequest sized for EMR sidecars).',
  appliesTo: types(...KUBERNETES_TYPES),
  check: (resource, context) => {
    const view = tenantNamespace(resource, context);
    if (!view || !view.name) return [];
    const ranges = objectsIn(context, 'LimitRange', view.name).filter((r) => [...blocks(r.spec.limits), ...blocks(r.spec.limit)].some((l) => l.type === 'Container'));
    return ranges.length > 0 ? [] : [`tenant namespace ${view.name} has no LimitRange with a Container limit in this stack`];
  },
};

/** Whether a NetworkPolicy selects every pod and allows nothing in either direction. */
export function isDefaultDeny(spec: JsonRecord): boolean {
  const selector = spec.podSelector ?? spec.pod_selector;
  const selectsAll =
    selector === undefined ||
    (isRecord(selector) && Object.values(selector).every((v) => v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0))) ||
    (Array.isArray(selector) && selector.every((s) => isRecord(s) && Object.values(s).every((v) => v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0))));
  const policyTypes = strings(spec.policyTypes ?? spec.policy_types);
  const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
  return selectsAll && policyTypes.includes('Ingress') && policyTypes.includes('Egress') && empty(spec.ingress) && empty(spec.egress);
}

export const tenantNamespaceDefaultDeny: Rule = {
  id: 'K8S-004',
  title: 'Tenant namespaces have a default-deny NetworkPolicy',
  description: 'Without a default deny every pod may talk to every other tenant and to the node and cloud metadata; allow rules only mean something on top of it.',
  fix: 'Create a NetworkPolicy in the namespace with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress/egress rules, then add explicit allows (DNS, same namespace, monitoring, AWS APIs).',
  appliesTo: types(...KUBERNETES_TYPES),
  check: (resource, context) => {
    const view = tenantNamespace(resource, context);
    if (!view || !view.name) return [];
    return objectsIn(context, 'NetworkPolicy', view.name).some((p) => isDefaultDeny(p.spec))
      ? []
      : [`tenant namespace ${view.name} has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules) in this stack`];
  },
};

/** Whether a quota limits pods of `priorityClass` (a PriorityClass `In` scope naming it, and a pod count). */
function capsPriorityClass(spec: JsonRecord, priorityClass: string): boolean {
  const selector = isRecord(spec.scopeSelector) ? spec.scopeSelector : isRecord(block(spec.scope_selector)) ? block(spec.scope_selector)! : {};
  const expressions = [...blocks(selector.matchExpressions), ...blocks(selector.match_expression)];
  const scoped = expressions.some((e) => (e.scopeName ?? e.scope_name) === 'PriorityClass' && e.operator === 'In' && strings(e.values).includes(priorityClass));
  const keys = hardKeys(spec);
  return scoped && (keys.includes('pods') || keys.includes('count/pods'));
}

export const tenantNamespaceDriverQuota: Rule = {
  id: 'K8S-005',
  title: `Tenant namespaces cap pods of the ${PRIORITY_CLASSES.sparkDriver} PriorityClass`,
  description: `Pods of ${PRIORITY_CLASSES.sparkDriver} may preempt lower priorities; without a PriorityClass-scoped quota one tenant can start any number of them.`,
  fix: `Create a ResourceQuota in the namespace with scopeSelector PriorityClass In [${PRIORITY_CLASSES.sparkDriver}] and hard.pods (sparkDriverQuota in modules/tenant/namespace-objects.ts; quota.maxConcurrentJobs).`,
  appliesTo: types(...KUBERNETES_TYPES),
  check: (resource, context) => {
    const view = tenantNamespace(resource, context);
    if (!view || !view.name) return [];
    return objectsIn(context, 'ResourceQuota', view.name).some((q) => capsPriorityClass(q.spec, PRIORITY_CLASSES.sparkDriver))
      ? []
      : [`tenant namespace ${view.name} has no ResourceQuota capping pods of PriorityClass ${PRIORITY_CLASSES.sparkDriver} in this stack`];
  },
};

export const KUBERNETES_RULES: readonly Rule[] = [
  nodeClassImdsv2,
  nodeClassPinnedAmi,
  nodeClassEncryptedVolumes,
  tenantNamespacePodSecurity,
  tenantNamespaceQuota,
  tenantNamespaceLimitRange,
  tenantNamespaceDefaultDeny,
  tenantNamespaceDriverQuota,
];
