/**
 * Authorization of IAM principals through EKS access entries, as the platform configures them:
 * admins get `AmazonEKSClusterAdminPolicy` on the cluster (everything), each tenant owner
 * `AmazonEKSEditPolicy` scoped to its namespace. The Edit rules below are the table of the EKS user
 * guide, "Review access policy permissions" (AmazonEKSEditPolicy); a namespace-scoped association
 * applies them to requests in the listed namespaces only (and to reading those namespaces).
 *
 * Service accounts and Kubernetes components are authorized by RBAC objects this platform does not
 * own (EMR creates its Roles per job; the bootstrap roles of the control plane): their requests are
 * `not-modelled` here and go on to admission, which is the layer these tests are about.
 */
import type { AdmissionAttributes } from './vap.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'impersonate';

/** One access entry: the IAM principal's Kubernetes username and what is associated with it. */
export interface AccessEntry {
  readonly username: string;
  readonly policy: 'AmazonEKSClusterAdminPolicy' | 'AmazonEKSEditPolicy';
  /** Namespaces of a namespace-scoped association; undefined for cluster scope. */
  readonly namespaces?: readonly string[];
}

const WRITE: readonly Verb[] = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ: readonly Verb[] = ['get', 'list', 'watch'];

/** AmazonEKSEditPolicy (EKS user guide, access-policy-permissions): [api group, resources, verbs]. */
const EDIT_RULES: readonly [string, string, readonly Verb[]][] = [
  ['apps', 'daemonsets deployments deployments/rollback deployments/scale replicasets replicasets/scale statefulsets statefulsets/scale', WRITE],
  ['apps', 'controllerrevisions daemonsets daemonsets/status deployments deployments/scale deployments/status replicasets replicasets/scale replicasets/status statefulsets statefulsets/scale statefulsets/status', READ],
  ['autoscaling', 'horizontalpodautoscalers horizontalpodautoscalers/status', READ],
  ['autoscaling', 'horizontalpodautoscalers', WRITE],
  ['batch', 'cronjobs jobs', WRITE],
  ['batch', 'cronjobs cronjobs/status jobs jobs/status', READ],
  ['discovery.k8s.io', 'endpointslices', READ],
  ['extensions', 'daemonsets deployments deployments/rollback deployments/scale ingresses networkpolicies replicasets replicasets/scale replicationcontrollers/scale', WRITE],
  ['networking.k8s.io', 'ingresses networkpolicies', WRITE],
  ['networking.k8s.io', 'ingresses ingresses/status networkpolicies', READ],
  ['policy', 'poddisruptionbudgets', WRITE],
  ['policy', 'poddisruptionbudgets poddisruptionbudgets/status', READ],
  ['', 'namespaces', READ],
  ['', 'pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy', READ],
  ['', 'serviceaccounts', ['impersonate']],
  ['', 'pods pods/attach pods/exec pods/portforward pods/proxy', WRITE],
  ['', 'configmaps events persistentvolumeclaims replicationcontrollers replicationcontrollers/scale secrets serviceaccounts services services/proxy', WRITE],
  ['', 'configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status', READ],
  ['', 'bindings events limitranges namespaces/status pods/log pods/status replicationcontrollers/status resourcequotas resourcequotas/status', READ],
];

/** The verb of an admission request (PATCH is admitted as UPDATE; this harness sends updates). */
export function verbOf(a: AdmissionAttributes): Verb {
  return a.operation === 'CREATE' ? 'create' : a.operation === 'DELETE' ? 'delete' : a.operation === 'UPDATE' ? 'update' : 'create';
}

export type Authorization = 'allow' | 'deny' | 'not-modelled';

export interface AuthorizationRequest {
  readonly verb: Verb;
  readonly group: string;
  /** `pods`, or `pods/binding` for a subresource. */
  readonly resource: string;
  /** `''` for cluster-scoped resources. */
  readonly namespace: string;
  readonly name?: string;
}

export function authorize(entries: readonly AccessEntry[], username: string, request: AuthorizationRequest): Authorization {
  const entry = entries.find((e) => e.username === username);
  if (!entry) return 'not-modelled';
  if (entry.policy === 'AmazonEKSClusterAdminPolicy' && entry.namespaces === undefined) return 'allow';
  const scope = entry.namespaces ?? [];
  const inScope = request.namespace !== '' ? scope.includes(request.namespace) : request.resource === 'namespaces' && request.name !== undefined && scope.includes(request.name);
  if (!inScope) return 'deny';
  const allowed = EDIT_RULES.some(([group, resources, verbs]) => group === request.group && resources.split(' ').includes(request.resource) && verbs.includes(request.verb));
  return allowed ? 'allow' : 'deny';
}

/** The authorization question an admission request asks. */
export function authorizationRequest(a: AdmissionAttributes): AuthorizationRequest {
  return {
    verb: verbOf(a),
    group: a.resource.group,
    resource: a.subResource ? `${a.resource.resource}/${a.subResource}` : a.resource.resource,
    namespace: a.resource.resource === 'namespaces' ? '' : a.namespace,
    ...(a.name ? { name: a.name } : {}),
  };
}
