/**
 * The IAM role EMR on EKS jobs run as: a literal role name (EMR derives its service account names
 * from it), a trust policy that admits only EMR's service accounts in one namespace, and the
 * permissions passed in. With `pod-identity`, the three EKS Pod Identity associations EMR needs.
 */
import { Construct } from 'constructs';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { type PolicyDocument, policyJson } from '../iam/policy.js';
import { assertLiteralRoleName, EMR_SPARK_COMPONENTS, emrIrsaTrust, emrPodIdentityServiceAccounts, emrPodIdentityTrust } from './identity.js';

/** IRSA: the cluster's OIDC provider issues tokens to EMR's service accounts. */
export interface IrsaJobIdentity {
  readonly type: 'irsa';
  readonly oidcProviderArn: string;
  /** Issuer without scheme, as used in the trust condition keys. */
  readonly oidcIssuerHostPath: string;
}

/** EKS Pod Identity (EMR 7.3.0+): one association per EMR service account. */
export interface PodIdentityJobIdentity {
  readonly type: 'pod-identity';
  readonly clusterName: string;
  readonly clusterArn: string;
}

export type JobIdentity = IrsaJobIdentity | PodIdentityJobIdentity;

export interface EmrJobExecutionRoleProps {
  /** Literal IAM role name (no token, no prefix): EMR's service account names encode it. */
  readonly roleName: string;
  /** Namespace of the virtual cluster whose jobs may assume the role. */
  readonly namespace: string;
  readonly accountId: string;
  readonly identity: JobIdentity;
  /** What jobs may do (inline policy `job-permissions`). */
  readonly permissions: PolicyDocument;
  /**
   * Role description.
   * @default 'EMR on EKS job execution role for namespace <namespace>'
   */
  readonly description?: string;
  /**
   * Maximum session duration in seconds (long Spark jobs refresh credentials themselves).
   * @default 3600
   */
  readonly maxSessionDuration?: number;
}

export class EmrJobExecutionRole extends Construct {
  readonly role: IamRole;
  readonly roleName: string;
  /** Pod Identity associations (empty for IRSA). */
  readonly podIdentityAssociations: EksPodIdentityAssociation[] = [];

  constructor(scope: Construct, id: string, props: EmrJobExecutionRoleProps) {
    super(scope, id);
    assertLiteralRoleName(props.roleName);
    this.roleName = props.roleName;
    const { identity } = props;
    const trust =
      identity.type === 'irsa'
        ? emrIrsaTrust({
            oidcProviderArn: identity.oidcProviderArn,
            oidcIssuerHostPath: identity.oidcIssuerHostPath,
            namespace: props.namespace,
            accountId: props.accountId,
            roleName: props.roleName,
          })
        : emrPodIdentityTrust({ clusterArn: identity.clusterArn, namespace: props.namespace, accountId: props.accountId, roleName: props.roleName });

    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      description: props.description ?? `EMR on EKS job execution role for namespace ${props.namespace}`,
      assumeRolePolicy: policyJson(trust),
      maxSessionDuration: props.maxSessionDuration ?? 3600,
    });
    new IamRolePolicy(this, 'permissions', { role: this.role.id, name: 'job-permissions', policy: policyJson(props.permissions) });

    if (identity.type === 'pod-identity') {
      const serviceAccounts = emrPodIdentityServiceAccounts(props.accountId, props.roleName);
      EMR_SPARK_COMPONENTS.forEach((component, i) => {
        const serviceAccount = serviceAccounts[i]!;
        this.podIdentityAssociations.push(
          new EksPodIdentityAssociation(this, `pod-identity-${component}`, {
            clusterName: identity.clusterName,
            namespace: props.namespace,
            serviceAccount,
            roleArn: this.role.arn,
          }),
        );
      });
    }
  }
}
