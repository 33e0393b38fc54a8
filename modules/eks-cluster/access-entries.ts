/**
 * One IAM principal's cluster-wide Kubernetes access: an EKS access entry (STANDARD) and one
 * access policy association. Used for principals that live outside this stack (the CI roles).
 *
 * EKS binds an access entry to the role's unique id, not its ARN: a role deleted and re-created
 * under the same name keeps a dead entry (EKS user guide, creating access entries). Passing the
 * role's unique id makes Terraform replace the entry (and its association) whenever the role is
 * re-created.
 */
import { Construct } from 'constructs';
import { TerraformResource } from 'cdktf';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association/index.js';

/**
 * EKS access policies used by the platform (EKS user guide, access policy permissions):
 * - clusterAdmin: every verb on every resource.
 * - adminView: get, list and watch on every resource of every API group, Secrets included, and
 *   nothing else. A plan of the Helm and Kubernetes stacks needs exactly that: the helm provider
 *   reads its releases from `sh.helm.release.v1.*` Secrets, the kubernetes provider reads CRDs,
 *   admission policies and other cluster-scoped objects. `AmazonEKSViewPolicy` is not enough (no
 *   Secrets, no cluster-scoped kinds); `AmazonEKSEditPolicy`/`AdminPolicy` can write.
 */
export const EKS_ACCESS_POLICIES = {
  clusterAdmin: 'AmazonEKSClusterAdminPolicy',
  adminView: 'AmazonEKSAdminViewPolicy',
} as const;

export function accessPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${name}`;
}

/**
 * A resource's address as `replace_triggered_by` takes it. cdktf 0.21 renders a resource passed
 * there as "${type.name}", which Terraform's JSON syntax rejects ("Invalid expression").
 */
function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

/**
 * A `terraform_data` resource whose `triggers_replace` changes when `values` do. Not cdktf's
 * DataResource: that class adds a validation running `terraform version` at every synth, which
 * costs a process per stack and makes synth fail on machines without Terraform.
 */
function replacementTrigger(scope: Construct, id: string, values: Record<string, string>): TerraformResource {
  const trigger = new TerraformResource(scope, id, { terraformResourceType: 'terraform_data', terraformGeneratorMetadata: { providerName: 'terraform' } });
  trigger.addOverride('triggers_replace', values);
  return trigger;
}

export interface ClusterAccessProps {
  readonly clusterName: string;
  /** IAM role ARN (a path is allowed; service-linked roles are not). */
  readonly principalArn: string;
  /** Name of the EKS access policy, associated with cluster scope. */
  readonly accessPolicy: string;
  /**
   * The role's unique id (`AROA...`): a new value re-creates the entry.
   * @default the entry follows the ARN only
   */
  readonly principalId?: string;
  /** @default 'aws' */
  readonly partition?: string;
}

export class ClusterAccess extends Construct {
  readonly entry: EksAccessEntry;
  readonly association: EksAccessPolicyAssociation;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const principal = props.principalId ? replacementTrigger(this, 'principal', { principal_id: props.principalId }) : undefined;
    this.entry = new EksAccessEntry(this, 'entry', {
      clusterName: props.clusterName,
      principalArn: props.principalArn,
      type: 'STANDARD',
      ...(principal ? { lifecycle: { replaceTriggeredBy: [address(principal)] } } : {}),
    });
    this.association = new EksAccessPolicyAssociation(this, 'policy', {
      clusterName: props.clusterName,
      principalArn: this.entry.principalArn,
      policyArn: accessPolicyArn(props.partition ?? 'aws', props.accessPolicy),
      accessScope: { type: 'cluster' },
      lifecycle: { replaceTriggeredBy: [address(this.entry)] },
    });
  }
}
