/**
 * Cluster-wide guard rails of namespace-as-a-service, as ValidatingAdmissionPolicies (CEL, built
 * into the API server; no webhook to run). Generic: they read the tenant from the request (the
 * caller's identity, the namespace and its platform-owned labels), so adding a tenant edits
 * nothing here.
 *
 * A *tenant principal* is a caller in a tenant group (`spark-platform:tenant:<name>`, where the
 * owners' access entries put their people) or a service account of the tenant namespace the
 * request is in. The second half matters: `AmazonEKSEditPolicy` lets owners impersonate the
 * namespace's service accounts, and such requests carry only the service account's own groups.
 * The Spark driver (which runs the tenant's code) also acts as one of them.
 *
 * | policy                     | where             | what it denies                                                       |
 * |----------------------------|-------------------|----------------------------------------------------------------------|
 * | protect-platform-objects   | everywhere        | tenant principals changing/deleting objects labelled MANAGED_BY_LABEL, or creating/adding that label |
 * | tenant-node-isolation      | every namespace   | tolerating or selecting another namespace's dedicated nodes          |
 * | tenant-pod-tolerations     | tenant namespaces | keyless (tolerate-everything) and system-node tolerations            |
 * | tenant-pod-scheduling      | tenant namespaces | `spec.nodeName` on create (skips the scheduler and so the taints); Spark PriorityClasses on non-Spark pods or with the other role's toleration |
 * | tenant-network-policies    | tenant namespaces | tenant principals creating or changing NetworkPolicies (they are additive: any allow widens the default deny) |
 * | tenant-pod-binding         | tenant namespaces | tenant principals binding pods to nodes (`pods/binding`, `bindings`) |
 * | tenant-services            | tenant namespaces | `externalIPs` (CVE-2020-8554) and NodePort/LoadBalancer Services the tenant file does not allow |
 *
 * Content rules (placement, Services) apply to every caller in tenant namespaces, EMR and the
 * platform included; identity rules apply to tenant principals only. A platform controller that
 * must create non-Spark pods with the Spark PriorityClasses (YuniKorn's gang-scheduling
 * placeholders) is allowed by name through `platformPodCreators`; every placement rule still
 * applies to its pods.
 */
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, PRIORITY_CLASSES, SPARK_ROLE_KEY, type SparkRole, TENANT_KEY, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { SYSTEM_TAINT } from '../scheduling/system-nodes.js';
import { EXPOSED_SERVICE_TYPES, SERVICE_TYPE_ALLOWED, serviceTypeLabel } from './namespace-objects.js';
import { TENANT_GROUP_PREFIX } from './naming.js';
import { SPARK_CONTAINERS, SPARK_POD_LABELS } from './pod-templates.js';

export const ADMISSION_POLICY_NAMES = {
  protectPlatformObjects: 'spark-platform-protect-platform-objects',
  tenantNodeIsolation: 'spark-platform-tenant-node-isolation',
  tenantPodTolerations: 'spark-platform-tenant-pod-tolerations',
  tenantPodScheduling: 'spark-platform-tenant-pod-scheduling',
  tenantNetworkPolicies: 'spark-platform-tenant-network-policies',
  tenantPodBinding: 'spark-platform-tenant-pod-binding',
  tenantServices: 'spark-platform-tenant-services',
} as const;

/** A CEL string literal. */
export function celString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A CEL list of string literals. */
function celStrings(values: readonly string[]): string {
  return `[${values.map(celString).join(', ')}]`;
}

/** Username prefix of service accounts (`system:serviceaccount:<namespace>:<name>`). */
const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';

/** The caller is in a tenant group. */
const IN_TENANT_GROUP = `request.userInfo.?groups.orValue([]).exists(g, g.startsWith(${celString(TENANT_GROUP_PREFIX)}))`;
/**
 * The caller is a service account of the namespace the request is in (impersonated or not).
 * `request` is the AdmissionRequest converted to unstructured, so `namespace` is absent (not
 * empty) for cluster-scoped objects: read it optionally.
 */
const NAMESPACE_SERVICE_ACCOUNT = `request.?namespace.orValue('') != '' && request.userInfo.?username.orValue('').startsWith(${celString(SERVICE_ACCOUNT_USER_PREFIX)} + request.namespace + ':')`;
/** The request's namespace is a tenant namespace (a platform-owned label tenants cannot set). */
const IN_TENANT_NAMESPACE = `namespaceObject != null && namespaceObject.metadata.?labels[?${celString(TENANT_NAMESPACE_LABEL)}].hasValue()`;

/**
 * Cheap pre-filter of identity policies. `namespaceObject` is not available to match conditions,
 * so the tenant-namespace half of the test is the `tenantPrincipal` variable.
 */
const TENANT_PRINCIPAL_CANDIDATE = `${IN_TENANT_GROUP} || (${NAMESPACE_SERVICE_ACCOUNT})`;
/** A tenant principal: in a tenant group, or a service account of the tenant namespace it acts in. */
const TENANT_PRINCIPAL = `${IN_TENANT_GROUP} || ((${NAMESPACE_SERVICE_ACCOUNT}) && ${IN_TENANT_NAMESPACE})`;

type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT' | '*';
interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: Operation[];
  resources: string[];
  scope?: 'Cluster' | 'Namespaced' | '*';
}
interface Validation {
  expression: string;
  message?: string;
  messageExpression?: string;
  reason: 'Forbidden';
}

const metadata = (name: string) => ({ name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } });

function policy(
  name: string,
  spec: { rules: ResourceRule[]; objectSelector?: object; matchConditions?: { name: string; expression: string }[]; variables?: { name: string; expression: string }[]; validations: Validation[] },
): ValidatingAdmissionPolicy {
  return new ValidatingAdmissionPolicy({
    metadata: metadata(name),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: spec.rules, ...(spec.objectSelector ? { objectSelector: spec.objectSelector } : {}) },
      ...(spec.matchConditions ? { matchConditions: spec.matchConditions } : {}),
      ...(spec.variables ? { variables: spec.variables } : {}),
      validations: spec.validations,
    },
  });
}

/** Policies keyed on the caller: run for tenant principals only. */
const IDENTITY = {
  matchConditions: [{ name: 'tenant-principals', expression: TENANT_PRINCIPAL_CANDIDATE }],
  variables: [{ name: 'tenantPrincipal', expression: TENANT_PRINCIPAL }],
};

function protectPlatformObjects(): ValidatingAdmissionPolicy {
  const key = celString(MANAGED_BY_LABEL);
  return policy(ADMISSION_POLICY_NAMES.protectPlatformObjects, {
    rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*/*'], scope: '*' }],
    // Evaluated against the old and the new object: runs when either carries the label.
    objectSelector: { matchExpressions: [{ key: MANAGED_BY_LABEL, operator: 'Exists' }] },
    ...IDENTITY,
    validations: [
      {
        expression: `!variables.tenantPrincipal || request.operation == 'CREATE' || oldObject == null || !oldObject.metadata.?labels[?${key}].hasValue()`,
        message: `objects labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_PLATFORM} belong to the platform: tenants cannot change or delete them`,
        reason: 'Forbidden',
      },
      {
        expression: `!variables.tenantPrincipal || request.operation == 'DELETE' || object == null || !object.metadata.?labels[?${key}].hasValue()`,
        message: `the label ${MANAGED_BY_LABEL} is reserved for the platform: tenants cannot create objects with it or add it`,
        reason: 'Forbidden',
      },
    ],
  });
}

const POD_RULES: ResourceRule[] = [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }];
/** Tolerations can be added by UPDATE, so every toleration rule also runs on updates. */
const TOLERATIONS = { name: 'tolerations', expression: 'object.spec.?tolerations.orValue([])' };

/** `t` tolerates only the taint `key=value` (Equal), not every value of the key. */
const toleratesOnly = (key: string, value: string) =>
  `t.?key.orValue('') != ${celString(key)} || (t.?operator.orValue('Equal') == 'Equal' && t.?value.orValue('') == ${value})`;

function tenantNodeIsolation(): ValidatingAdmissionPolicy {
  const key = celString(TENANT_KEY);
  return policy(ADMISSION_POLICY_NAMES.tenantNodeIsolation, {
    rules: POD_RULES,
    variables: [
      TOLERATIONS,
      { name: 'requiredNodeSelectorTerms', expression: 'object.spec.?affinity.?nodeAffinity.?requiredDuringSchedulingIgnoredDuringExecution.?nodeSelectorTerms.orValue([])' },
    ],
    validations: [
      {
        expression: `variables.tolerations.all(t, ${toleratesOnly(TENANT_KEY, 'request.namespace')})`,
        message: `pods may tolerate the ${TENANT_KEY} taint only with operator Equal and their own namespace as the value`,
        reason: 'Forbidden',
      },
      {
        expression: `object.spec.?nodeSelector[?${key}].orValue(request.namespace) == request.namespace`,
        message: `pods may select ${TENANT_KEY} only with their own namespace as the value`,
        reason: 'Forbidden',
      },
      {
        // Staying off tenant nodes (NotIn, DoesNotExist) is always allowed; asking for them only for
        // the pod's own namespace.
        expression:
          `variables.requiredNodeSelectorTerms.all(term, term.?matchExpressions.orValue([]).all(e, e.key != ${key} || e.operator in ['NotIn', 'DoesNotExist'] || ` +
          `(e.operator == 'In' && e.?values.orValue([]).all(v, v == request.namespace))))`,
        message: `required node affinity on ${TENANT_KEY} may use In only with the pod's own namespace as value (NotIn and DoesNotExist are always allowed)`,
        reason: 'Forbidden',
      },
    ],
  });
}

function tenantPodTolerations(): ValidatingAdmissionPolicy {
  return policy(ADMISSION_POLICY_NAMES.tenantPodTolerations, {
    rules: POD_RULES,
    variables: [TOLERATIONS],
    validations: [
      {
        expression: `variables.tolerations.all(t, t.?key.orValue('') != '')`,
        message: 'pods in tenant namespaces cannot tolerate every taint (a toleration needs a key)',
        reason: 'Forbidden',
      },
      {
        expression: `variables.tolerations.all(t, t.?key.orValue('') != ${celString(SYSTEM_TAINT.key)})`,
        message: `pods in tenant namespaces cannot tolerate the system nodes' ${SYSTEM_TAINT.key} taint`,
        reason: 'Forbidden',
      },
    ],
  });
}

const SPARK_CLASS_OF: Readonly<Record<SparkRole, string>> = { driver: PRIORITY_CLASSES.sparkDriver, executor: PRIORITY_CLASSES.sparkExecutor };

function tenantPodScheduling(platformPodCreators: readonly string[]): ValidatingAdmissionPolicy {
  const roleChecks = (Object.keys(SPARK_CLASS_OF) as SparkRole[]).flatMap((role): Validation[] => {
    const isClass = `variables.priorityClass != ${celString(SPARK_CLASS_OF[role])}`;
    return [
      {
        expression: `${isClass} || variables.platformPodCreator || (variables.sparkRole == ${celString(role)} && object.spec.containers.exists(c, c.name == ${celString(SPARK_CONTAINERS[role])}))`,
        message: `PriorityClass ${SPARK_CLASS_OF[role]} is for Spark ${role}s only (label ${SPARK_POD_LABELS.role}=${role} and a container ${SPARK_CONTAINERS[role]})`,
        reason: 'Forbidden',
      },
      {
        expression: `${isClass} || variables.tolerations.all(t, ${toleratesOnly(SPARK_ROLE_KEY, celString(role))})`,
        message: `pods with PriorityClass ${SPARK_CLASS_OF[role]} may tolerate ${SPARK_ROLE_KEY} only with value ${role} (a ${role} cannot preempt its way onto the other role's nodes)`,
        reason: 'Forbidden',
      },
    ];
  });
  return policy(ADMISSION_POLICY_NAMES.tenantPodScheduling, {
    rules: POD_RULES,
    variables: [
      TOLERATIONS,
      { name: 'priorityClass', expression: `object.spec.?priorityClassName.orValue('')` },
      { name: 'sparkRole', expression: `object.metadata.?labels[?${celString(SPARK_POD_LABELS.role)}].orValue('')` },
      { name: 'platformPodCreator', expression: `request.userInfo.?username.orValue('') in ${celStrings(platformPodCreators)}` },
    ],
    validations: [
      {
        // nodeName cannot change after creation; the scheduler sets it through pods/binding.
        expression: `request.operation != 'CREATE' || object.spec.?nodeName.orValue('') == ''`,
        message: 'pods in tenant namespaces cannot set spec.nodeName: it skips the scheduler, and the kubelet does not enforce NoSchedule taints',
        reason: 'Forbidden',
      },
      ...roleChecks,
    ],
  });
}

function tenantNetworkPolicies(): ValidatingAdmissionPolicy {
  return policy(ADMISSION_POLICY_NAMES.tenantNetworkPolicies, {
    rules: [{ apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['networkpolicies'] }],
    ...IDENTITY,
    validations: [
      {
        expression: '!variables.tenantPrincipal',
        message: 'NetworkPolicies in tenant namespaces belong to the platform: declare extra traffic in the tenant file (network.egress, network.ingress)',
        messageExpression: `'NetworkPolicies are additive, so they belong to the platform in tenant namespaces: declare extra traffic under network.egress / network.ingress in tenants/' + request.namespace + '/tenant.yaml'`,
        reason: 'Forbidden',
      },
    ],
  });
}

function tenantPodBinding(): ValidatingAdmissionPolicy {
  return policy(ADMISSION_POLICY_NAMES.tenantPodBinding, {
    // `bindings` is the legacy form of the same request (POST /api/v1/namespaces/<ns>/bindings).
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods/binding', 'bindings'] }],
    ...IDENTITY,
    validations: [{ expression: '!variables.tenantPrincipal', message: 'tenants cannot bind pods to nodes: the scheduler places them', reason: 'Forbidden' }],
  });
}

function tenantServices(): ValidatingAdmissionPolicy {
  return policy(ADMISSION_POLICY_NAMES.tenantServices, {
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'] }],
    variables: [{ name: 'type', expression: `object.spec.?type.orValue('ClusterIP')` }],
    validations: [
      {
        // What the DenyServiceExternalIPs admission plugin does (EKS does not enable it): no new
        // external IPs; an update may keep or drop existing ones.
        expression: `object.spec.?externalIPs.orValue([]).all(ip, oldObject != null && ip in oldObject.spec.?externalIPs.orValue([]))`,
        message: 'Services in tenant namespaces cannot set spec.externalIPs (kube-proxy would redirect those IPs on every node to the tenant: CVE-2020-8554)',
        reason: 'Forbidden',
      },
      {
        // One clause per exposable type, each reading its namespace label (see serviceTypeLabel).
        expression: [
          `variables.type in ['ClusterIP', 'ExternalName']`,
          ...EXPOSED_SERVICE_TYPES.map(
            (type) => `(variables.type == ${celString(type)} && namespaceObject.metadata.?labels[?${celString(serviceTypeLabel(type))}].orValue('') == ${celString(SERVICE_TYPE_ALLOWED)})`,
          ),
        ].join(' || '),
        messageExpression: `'Services of type ' + variables.type + ' are not allowed in namespace ' + request.namespace + ': add ' + variables.type + ' to network.serviceTypes in tenants/' + request.namespace + '/tenant.yaml'`,
        message: 'Services of this type are not allowed in this tenant namespace: list the type in network.serviceTypes of the tenant file',
        reason: 'Forbidden',
      },
    ],
  });
}

const TENANT_NAMESPACES = { matchExpressions: [{ key: TENANT_NAMESPACE_LABEL, operator: 'Exists' as const }] };

function binding(policyName: string, namespaceSelector?: typeof TENANT_NAMESPACES): ValidatingAdmissionPolicyBinding {
  return new ValidatingAdmissionPolicyBinding({
    metadata: metadata(policyName),
    spec: {
      policyName,
      validationActions: ['Deny'],
      ...(namespaceSelector ? { matchResources: { namespaceSelector } } : {}),
    },
  });
}

export interface TenancyAdmissionOptions {
  /**
   * Usernames of platform controllers that create pods in tenant namespaces on the tenant's behalf
   * and may give pods that are not Spark pods the Spark PriorityClasses, e.g. YuniKorn's
   * gang-scheduling placeholders (`system:serviceaccount:<yunikorn namespace>:<its account>`).
   * Every placement rule still applies to their pods.
   * @default none
   */
  readonly platformPodCreators?: readonly string[];
}

/** Every policy of the `tenancy` stack, each followed by its binding. */
export function tenancyAdmissionObjects(options: TenancyAdmissionOptions = {}): (ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding)[] {
  const creators = options.platformPodCreators ?? [];
  for (const creator of creators) {
    if (!/^[^\s]+$/.test(creator)) throw new Error(`platformPodCreators: expected a Kubernetes username without spaces, found ${JSON.stringify(creator)}`);
  }
  // Bound in every namespace (undefined) or in tenant namespaces only.
  const policies: [ValidatingAdmissionPolicy, typeof TENANT_NAMESPACES | undefined][] = [
    [protectPlatformObjects(), undefined],
    [tenantNodeIsolation(), undefined],
    [tenantPodTolerations(), TENANT_NAMESPACES],
    [tenantPodScheduling(creators), TENANT_NAMESPACES],
    [tenantNetworkPolicies(), TENANT_NAMESPACES],
    [tenantPodBinding(), TENANT_NAMESPACES],
    [tenantServices(), TENANT_NAMESPACES],
  ];
  return policies.flatMap(([vap, namespaces]) => [vap, binding(vap.metadata!.name!, namespaces)]);
}
