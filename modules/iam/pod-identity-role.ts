/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity: the role (trust scoped
 * to the cluster, the namespace and the service account), its permissions, and the Pod Identity
 * association, created after the permissions so pods never start with a role that cannot act.
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { type PolicyDocument, podIdentityTrust, policyJson } from './policy.js';

export interface PodIdentityRoleProps {
  /** Exact role name. */
  readonly roleName: string;
  /** @default no description */
  readonly description?: string;
  /** Cluster name (literal or reference) of the association. */
  readonly clusterName: string;
  /** Cluster ARN the trust is pinned to. */
  readonly clusterArn: string;
  readonly accountId: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Inline policies by name. @default none */
  readonly inlinePolicies?: Readonly<Record<string, PolicyDocument>>;
  /** Managed policy ARNs to attach, by a short purpose used in construct ids. @default none */
  readonly managedPolicies?: Readonly<Record<string, string>>;
}

export class PodIdentityRole extends Construct {
  readonly role: IamRole;
  readonly association: EksPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      ...(props.description ? { description: props.description } : {}),
      assumeRolePolicy: policyJson(
        podIdentityTrust({ clusterArn: props.clusterArn, accountId: props.accountId, namespace: props.namespace, serviceAccounts: [props.serviceAccount] }),
      ),
    });
    const permissions: ITerraformDependable[] = [
      ...Object.entries(props.inlinePolicies ?? {}).map(
        ([name, document]) => new IamRolePolicy(this, `policy-${name}`, { role: this.role.id, name, policy: policyJson(document) }),
      ),
      ...Object.entries(props.managedPolicies ?? {}).map(
        ([purpose, policyArn]) => new IamRolePolicyAttachment(this, `attachment-${purpose}`, { role: this.role.name, policyArn }),
      ),
    ];
    this.association = new EksPodIdentityAssociation(this, 'pod-identity', {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.arn,
      dependsOn: permissions,
    });
  }
}
