/**
 * How EMR on EKS job pods get the job execution role: the service account names EMR creates for a
 * job and the exact trust policy they need (what `aws emr-containers update-role-trust-policy`
 * writes for IRSA), or the EKS Pod Identity associations for `pod-identity`.
 */
import { type PolicyDocument, podIdentityTrust, policyDocument } from '../iam/policy.js';

/**
 * EMR's encoding of a role name in service account names: the name's UTF-8 bytes read as one
 * big-endian unsigned integer, written in base 36 with the digits 0-9a-z.
 */
export function base36(text: string): string {
  let value = 0n;
  for (const byte of new TextEncoder().encode(text)) value = (value << 8n) | BigInt(byte);
  return value.toString(36);
}

/** A literal IAM role name: EMR's service account names are derived from it at synth time. */
export function assertLiteralRoleName(roleName: string): void {
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) {
    throw new Error(`job execution role name must be a literal IAM role name (1-64 characters: letters, digits, +=,.@_-), got "${roleName}"`);
  }
}

/** The suffix shared by every service account EMR creates for jobs running as `roleName`. */
export function emrServiceAccountSuffix(accountId: string, roleName: string): string {
  assertLiteralRoleName(roleName);
  return `${accountId}-${base36(roleName)}`;
}

/** `system:serviceaccount:<ns>:emr-containers-sa-*-*-<account>-<base36(role)>`: every EMR job SA. */
export function emrIrsaSubject(namespace: string, accountId: string, roleName: string): string {
  return `system:serviceaccount:${namespace}:emr-containers-sa-*-*-${emrServiceAccountSuffix(accountId, roleName)}`;
}

/** The Spark roles EMR creates service accounts for (job submitter client, driver, executors). */
export const EMR_SPARK_COMPONENTS = ['client', 'driver', 'executor'] as const;

/** The exact service account names EMR uses for StartJobRun jobs (Pod Identity needs them exactly). */
export function emrPodIdentityServiceAccounts(accountId: string, roleName: string): string[] {
  const suffix = emrServiceAccountSuffix(accountId, roleName);
  return EMR_SPARK_COMPONENTS.map((component) => `emr-containers-sa-spark-${component}-${suffix}`);
}

export interface EmrIrsaTrustProps {
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: string;
  /** Issuer without scheme (`oidc.eks.<region>.amazonaws.com/id/<id>`), as in condition keys. */
  readonly oidcIssuerHostPath: string;
  readonly namespace: string;
  readonly accountId: string;
  /** The literal name of the role being trusted. */
  readonly roleName: string;
}

/** IRSA trust limited to the service accounts EMR creates for this role in this namespace. */
export function emrIrsaTrust(props: EmrIrsaTrustProps): PolicyDocument {
  return policyDocument({
    Effect: 'Allow',
    Principal: { Federated: props.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringLike: { [`${props.oidcIssuerHostPath}:sub`]: emrIrsaSubject(props.namespace, props.accountId, props.roleName) },
      StringEquals: { [`${props.oidcIssuerHostPath}:aud`]: 'sts.amazonaws.com' },
    },
  });
}

export interface EmrPodIdentityTrustProps {
  readonly clusterArn: string;
  readonly namespace: string;
  readonly accountId: string;
  readonly roleName: string;
}

/** Pod Identity trust limited to this cluster, namespace and EMR's three service accounts. */
export function emrPodIdentityTrust(props: EmrPodIdentityTrustProps): PolicyDocument {
  return podIdentityTrust({
    clusterArn: props.clusterArn,
    accountId: props.accountId,
    namespace: props.namespace,
    serviceAccounts: emrPodIdentityServiceAccounts(props.accountId, props.roleName),
  });
}
