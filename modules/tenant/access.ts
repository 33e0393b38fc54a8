/**
 * Kubernetes access of a tenant's people: one EKS access entry per owner role, in the tenant's
 * group (`spark-platform:tenant:<name>`, which the platform's admission policies key on), with
 * `AmazonEKSEditPolicy` scoped to the tenant namespace only. Edit lets the team run and debug its
 * own workloads (pods, logs, config maps, secrets); it cannot read or change other namespaces or
 * cluster-scoped objects, and the admission policy keeps it off the platform-owned objects.
 */
import { Construct } from 'constructs';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association/index.js';
import { tenantGroup } from './naming.js';

/** ARN of an EKS access policy (they live in the `eks` service namespace of the partition). */
export function eksAccessPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${name}`;
}

export const TENANT_ACCESS_POLICY = 'AmazonEKSEditPolicy';

export interface TenantAccessProps {
  readonly clusterName: string;
  readonly tenant: string;
  /** IAM role ARNs of the team. */
  readonly ownerRoleArns: readonly string[];
  /** @default 'aws' */
  readonly partition?: string;
  /**
   * EKS access policy associated in the namespace.
   * @default TENANT_ACCESS_POLICY (AmazonEKSEditPolicy)
   */
  readonly accessPolicy?: string;
}

/** Stable construct id of an owner: account and role name, so reordering owners changes nothing. */
export function ownerId(roleArn: string): string {
  const match = /^arn:[^:]+:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
  const raw = match ? `${match[1]}-${match[2]}` : roleArn;
  return `owner-${raw.replace(/[^A-Za-z0-9-]+/g, '-')}`;
}

export class TenantAccess extends Construct {
  readonly entries: EksAccessEntry[] = [];
  readonly associations: EksAccessPolicyAssociation[] = [];

  constructor(scope: Construct, id: string, props: TenantAccessProps) {
    super(scope, id);
    const policyArn = eksAccessPolicyArn(props.partition ?? 'aws', props.accessPolicy ?? TENANT_ACCESS_POLICY);
    for (const roleArn of props.ownerRoleArns) {
      const owner = new Construct(this, ownerId(roleArn));
      const entry = new EksAccessEntry(owner, 'entry', {
        clusterName: props.clusterName,
        principalArn: roleArn,
        type: 'STANDARD',
        kubernetesGroups: [tenantGroup(props.tenant)],
      });
      this.entries.push(entry);
      this.associations.push(
        new EksAccessPolicyAssociation(owner, 'policy', {
          clusterName: props.clusterName,
          principalArn: entry.principalArn,
          policyArn,
          accessScope: { type: 'namespace', namespaces: [props.tenant] },
        }),
      );
    }
  }
}
