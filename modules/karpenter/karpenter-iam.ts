/**
 * AWS identities of Karpenter:
 * - the controller role, with the least-privilege upstream policy set (see `controller-policy.ts`),
 *   assumed through EKS Pod Identity by exactly one service account in one namespace of one
 *   cluster (no IRSA annotation, no OIDC trust);
 * - the node role of the instances Karpenter launches (worker, CNI, ECR pull-only and SSM core
 *   policies), admitted to the cluster with an `EC2_LINUX` access entry (no aws-auth edits).
 */
import { Construct } from 'constructs';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import type { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { NODE_ROLE_MANAGED_POLICIES } from '../eks-cluster/cluster.js';
import { PodIdentityRole } from '../iam/pod-identity-role.js';
import { ec2ServicePrincipal, managedPolicyArn, policyJson, serviceTrust } from '../iam/policy.js';
import { type ControllerPolicies, karpenterControllerPolicies } from './controller-policy.js';
import { checkedName, KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT } from './names.js';

export interface KarpenterIamProps {
  /** Cluster name as a literal: it goes into role names, ARNs and tag-scoped policy conditions. */
  readonly clusterName: string;
  /**
   * The cluster name as a reference (e.g. read from the cluster stack's state) for the access entry
   * and the Pod Identity association, so they are only planned against an existing cluster.
   * @default clusterName
   */
  readonly clusterNameRef?: string;
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** ARN of the interruption queue the controller reads. */
  readonly interruptionQueueArn: string;
  /**
   * Namespace of the controller's service account.
   * @default 'karpenter'
   */
  readonly namespace?: string;
  /**
   * The controller's service account.
   * @default 'karpenter'
   */
  readonly serviceAccount?: string;
}

export class KarpenterIam extends Construct {
  readonly controllerRole: IamRole;
  readonly nodeRole: IamRole;
  /** The controller's policy documents, by purpose (as attached). */
  readonly controllerPolicies: ControllerPolicies;
  readonly podIdentityAssociation: EksPodIdentityAssociation;
  readonly nodeAccessEntry: EksAccessEntry;

  constructor(scope: Construct, id: string, props: KarpenterIamProps) {
    super(scope, id);
    const partition = props.partition ?? 'aws';
    const clusterRef = props.clusterNameRef ?? props.clusterName;
    const namespace = props.namespace ?? KARPENTER_NAMESPACE;
    const serviceAccount = props.serviceAccount ?? KARPENTER_SERVICE_ACCOUNT;
    const clusterArn = `arn:${partition}:eks:${props.region}:${props.accountId}:cluster/${props.clusterName}`;

    this.nodeRole = new IamRole(this, 'node-role', {
      name: checkedName('iamRole', `${props.clusterName}-karpenter-node`),
      description: `Nodes launched by Karpenter in ${props.clusterName}`,
      assumeRolePolicy: policyJson(serviceTrust(ec2ServicePrincipal(partition))),
    });
    const nodePolicies = NODE_ROLE_MANAGED_POLICIES.map(
      (name) => new IamRolePolicyAttachment(this, `node-${name}`, { role: this.nodeRole.name, policyArn: managedPolicyArn(partition, name) }),
    );
    this.nodeAccessEntry = new EksAccessEntry(this, 'node-access-entry', {
      clusterName: clusterRef,
      principalArn: this.nodeRole.arn,
      type: 'EC2_LINUX',
      dependsOn: nodePolicies,
    });

    this.controllerPolicies = karpenterControllerPolicies({
      clusterName: props.clusterName,
      region: props.region,
      accountId: props.accountId,
      partition,
      nodeRoleArn: this.nodeRole.arn,
      interruptionQueueArn: props.interruptionQueueArn,
    });
    const purposes: Record<keyof ControllerPolicies, string> = {
      nodeLifecycle: 'node-lifecycle',
      iamIntegration: 'iam-integration',
      eksIntegration: 'eks-integration',
      interruption: 'interruption',
      resourceDiscovery: 'resource-discovery',
    };
    const managedPolicies: Record<string, string> = {};
    for (const key of Object.keys(purposes) as (keyof ControllerPolicies)[]) {
      managedPolicies[purposes[key]] = new IamPolicy(this, `controller-${purposes[key]}`, {
        name: checkedName('iamPolicy', `${props.clusterName}-karpenter-${purposes[key]}`),
        description: `Karpenter controller of ${props.clusterName}: ${purposes[key]}`,
        policy: policyJson(this.controllerPolicies[key]),
      }).arn;
    }
    const controller = new PodIdentityRole(this, 'controller', {
      roleName: checkedName('iamRole', `${props.clusterName}-karpenter-controller`),
      description: `Karpenter controller of ${props.clusterName} (EKS Pod Identity: ${namespace}/${serviceAccount})`,
      clusterName: clusterRef,
      clusterArn,
      accountId: props.accountId,
      namespace,
      serviceAccount,
      managedPolicies,
    });
    this.controllerRole = controller.role;
    this.podIdentityAssociation = controller.association;
  }
}
