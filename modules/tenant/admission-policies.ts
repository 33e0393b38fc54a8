/**
 * Cluster-wide guard rails of namespace-as-a-service, as ValidatingAdmissionPolicies (CEL, built
 * into the API server; no webhook to run). Generic: they read the tenant from the request (the
 * caller's `spark-platform:tenant:<name>` group, the pod's namespace), so adding a tenant edits
 * nothing here.
 *
 * 1. `protect-platform-objects`: users in a tenant group (the owners' access entries put them
 *    there) cannot change or delete objects labelled `MANAGED_BY_LABEL` (the namespace's quotas,
 *    LimitRange and NetworkPolicies), nor create objects carrying that label or add it. EKS's
 *    `AmazonEKSEditPolicy` alone would let them delete the NetworkPolicies.
 * 2. `tenant-node-isolation`: in every namespace, a pod may tolerate or select the tenant node key
 *    only with its own namespace as the value, so no namespace can use another tenant's dedicated
 *    NodePools.
 * 3. `tenant-pod-tolerations`: in tenant namespaces, no wildcard toleration (an empty key with
 *    `Exists` tolerates every taint, dedicated pools included) and no toleration of the system
 *    nodes' taint.
 */
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, TENANT_KEY, TENANT_NAMESPACE_LABEL } from '../scheduling/spark-pools.js';
import { SYSTEM_TAINT } from '../scheduling/system-nodes.js';
import { TENANT_GROUP_PREFIX } from './naming.js';

export const ADMISSION_POLICY_NAMES = {
  protectPlatformObjects: 'spark-platform-protect-platform-objects',
  tenantNodeIsolation: 'spark-platform-tenant-node-isolation',
  tenantPodTolerations: 'spark-platform-tenant-pod-tolerations',
} as const;

/** A CEL string literal. */
export function celString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const metadata = (name: string) => ({ name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } });

/** True for requests made by a tenant's people. */
export const TENANT_USER_CONDITION = `has(request.userInfo.groups) && request.userInfo.groups.exists(g, g.startsWith(${celString(TENANT_GROUP_PREFIX)}))`;

function protectPlatformObjects(): ValidatingAdmissionPolicy {
  const key = celString(MANAGED_BY_LABEL);
  return new ValidatingAdmissionPolicy({
    metadata: metadata(ADMISSION_POLICY_NAMES.protectPlatformObjects),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*/*'], scope: '*' }],
        // Evaluated against the old and the new object: runs when either carries the label.
        objectSelector: { matchExpressions: [{ key: MANAGED_BY_LABEL, operator: 'Exists' }] },
      },
      matchConditions: [{ name: 'tenant-users', expression: TENANT_USER_CONDITION }],
      validations: [
        {
          expression: `request.operation == 'CREATE' || oldObject == null || !has(oldObject.metadata.labels) || !(${key} in oldObject.metadata.labels)`,
          message: `objects labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_PLATFORM} belong to the platform: tenants cannot change or delete them`,
          reason: 'Forbidden',
        },
        {
          expression: `request.operation == 'DELETE' || object == null || !has(object.metadata.labels) || !(${key} in object.metadata.labels)`,
          message: `the label ${MANAGED_BY_LABEL} is reserved for the platform: tenants cannot create objects with it or add it`,
          reason: 'Forbidden',
        },
      ],
    },
  });
}

const POD_RULES = [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE' as const, 'UPDATE' as const], resources: ['pods'] }];

function tenantNodeIsolation(): ValidatingAdmissionPolicy {
  const key = celString(TENANT_KEY);
  const requiredTerms = 'object.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution';
  return new ValidatingAdmissionPolicy({
    metadata: metadata(ADMISSION_POLICY_NAMES.tenantNodeIsolation),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: POD_RULES },
      validations: [
        {
          expression:
            `!has(object.spec.tolerations) || object.spec.tolerations.all(t, !has(t.key) || t.key != ${key} || ` +
            `((!has(t.operator) || t.operator == 'Equal') && has(t.value) && t.value == request.namespace))`,
          message: `pods may tolerate the ${TENANT_KEY} taint only with operator Equal and their own namespace as the value`,
          reason: 'Forbidden',
        },
        {
          expression: `!has(object.spec.nodeSelector) || !(${key} in object.spec.nodeSelector) || object.spec.nodeSelector[${key}] == request.namespace`,
          message: `pods may select ${TENANT_KEY} only with their own namespace as the value`,
          reason: 'Forbidden',
        },
        {
          expression:
            `!has(object.spec.affinity) || !has(object.spec.affinity.nodeAffinity) || !has(${requiredTerms}) || ` +
            `${requiredTerms}.nodeSelectorTerms.all(term, !has(term.matchExpressions) || term.matchExpressions.all(e, e.key != ${key} || ` +
            `(e.operator == 'In' && has(e.values) && e.values.all(v, v == request.namespace))))`,
          message: `required node affinity on ${TENANT_KEY} must be operator In with only the pod's own namespace as value`,
          reason: 'Forbidden',
        },
      ],
    },
  });
}

function tenantPodTolerations(): ValidatingAdmissionPolicy {
  return new ValidatingAdmissionPolicy({
    metadata: metadata(ADMISSION_POLICY_NAMES.tenantPodTolerations),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: POD_RULES },
      validations: [
        {
          expression: `!has(object.spec.tolerations) || object.spec.tolerations.all(t, has(t.key) && t.key != '')`,
          message: 'pods in tenant namespaces cannot tolerate every taint (a toleration needs a key)',
          reason: 'Forbidden',
        },
        {
          expression: `!has(object.spec.tolerations) || object.spec.tolerations.all(t, !has(t.key) || t.key != ${celString(SYSTEM_TAINT.key)})`,
          message: `pods in tenant namespaces cannot tolerate the system nodes' ${SYSTEM_TAINT.key} taint`,
          reason: 'Forbidden',
        },
      ],
    },
  });
}

function binding(policyName: string, namespaceSelector?: { matchExpressions: { key: string; operator: 'Exists' }[] }): ValidatingAdmissionPolicyBinding {
  return new ValidatingAdmissionPolicyBinding({
    metadata: metadata(policyName),
    spec: {
      policyName,
      validationActions: ['Deny'],
      ...(namespaceSelector ? { matchResources: { namespaceSelector } } : {}),
    },
  });
}

/** Every policy of the `tenancy` stack, each followed by its binding. */
export function tenancyAdmissionObjects(): (ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding)[] {
  return [
    protectPlatformObjects(),
    binding(ADMISSION_POLICY_NAMES.protectPlatformObjects),
    tenantNodeIsolation(),
    binding(ADMISSION_POLICY_NAMES.tenantNodeIsolation),
    tenantPodTolerations(),
    binding(ADMISSION_POLICY_NAMES.tenantPodTolerations, { matchExpressions: [{ key: TENANT_NAMESPACE_LABEL, operator: 'Exists' }] }),
  ];
}
