/**
 * Who sends requests to the cluster, as the API server sees them after authentication.
 *
 * - IAM principals with an EKS access entry: username `arn:aws:sts::<account>:assumed-role/<role>/<session>`
 *   (the access entry's default username for a role), groups = the entry's Kubernetes groups plus
 *   `system:authenticated`.
 * - Service accounts: `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts`,
 *   `system:serviceaccounts:<ns>` and `system:authenticated`; impersonating one (what
 *   `AmazonEKSEditPolicy` allows in the namespace) yields exactly that identity (apiserver
 *   `pkg/endpoints/filters/impersonation.go`).
 * - Control-plane components under their bootstrap names.
 */
import { tenantGroup } from '../../../modules/tenant/naming.js';
import type { AccessEntry } from './authorizer.js';
import type { UserInfo } from './vap.js';

export interface Identity extends UserInfo {
  /** The EKS access entry the identity authenticates through, if any. */
  readonly accessEntry?: AccessEntry;
  /** The identity that impersonates this one (its `impersonate` permission is checked too). */
  readonly impersonatedBy?: Identity;
}

function assumedRole(roleArn: string, session: string): string {
  const match = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!match) throw new Error(`not an IAM role ARN: ${roleArn}`);
  return `arn:${match[1]}:sts::${match[2]}:assumed-role/${match[3]}/${session}`;
}

/** A person or CI job of a tenant (owner role, namespace-scoped AmazonEKSEditPolicy). */
export function tenantOwner(tenant: string, roleArn: string, session = 'alice'): Identity {
  const username = assumedRole(roleArn, session);
  return { username, groups: [tenantGroup(tenant), 'system:authenticated'], accessEntry: { username, policy: 'AmazonEKSEditPolicy', namespaces: [tenant] } };
}

/** A platform admin, or Terraform deploying with an admin role (cluster-wide AmazonEKSClusterAdminPolicy). */
export function platformAdmin(roleArn: string, session = 'platform-admin'): Identity {
  const username = assumedRole(roleArn, session);
  return { username, groups: ['system:authenticated'], accessEntry: { username, policy: 'AmazonEKSClusterAdminPolicy' } };
}

export function serviceAccount(namespace: string, name: string, impersonatedBy?: Identity): Identity {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    ...(impersonatedBy ? { impersonatedBy } : {}),
  };
}

export const KUBE_SCHEDULER: Identity = { username: 'system:kube-scheduler', groups: ['system:authenticated'] };
export const JOB_CONTROLLER = serviceAccount('kube-system', 'job-controller');
export const RESOURCE_QUOTA_CONTROLLER = serviceAccount('kube-system', 'resourcequota-controller');

/**
 * EMR on EKS acting through its service-linked role. The Kubernetes username of the access entry
 * `CreateVirtualCluster` makes is not documented (the legacy aws-auth mapping used
 * `emr-containers`): tests check that no decision depends on it.
 */
export function emrService(username = 'emr-containers'): Identity {
  return { username, groups: ['system:authenticated'] };
}
