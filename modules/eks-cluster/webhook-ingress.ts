/**
 * Lets the EKS control plane reach an admission webhook served on the nodes' own addresses (a
 * host-network pod, such as the YuniKorn admission controller on 9089). The control plane's ENIs
 * and every node of this platform carry the EKS cluster security group (managed node groups get it
 * by default; Karpenter's node classes select it by its discovery tag). EKS creates that group with
 * an allow-all rule from itself, which covers the port today; this rule states the requirement on
 * its own, so it survives a tightening of that default rule, and a plan review shows why the port
 * is open.
 */
import { Construct } from 'constructs';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';

export interface ControlPlaneWebhookIngressProps {
  /** The EKS cluster security group (on the control plane ENIs). */
  readonly clusterSecurityGroupId: string;
  /**
   * Security group of the nodes running the webhook.
   * @default the cluster security group (the nodes carry it)
   */
  readonly nodeSecurityGroupId?: string;
  /** TCP port of the webhook on the node. */
  readonly port: number;
  /** Why the port is open (shown in the AWS console and plans). */
  readonly description: string;
}

export class ControlPlaneWebhookIngress extends Construct {
  readonly rule: VpcSecurityGroupIngressRule;

  constructor(scope: Construct, id: string, props: ControlPlaneWebhookIngressProps) {
    super(scope, id);
    if (!Number.isInteger(props.port) || props.port < 1 || props.port > 65535) throw new Error(`webhook port must be 1-65535, found ${props.port}`);
    this.rule = new VpcSecurityGroupIngressRule(this, 'rule', {
      securityGroupId: props.nodeSecurityGroupId ?? props.clusterSecurityGroupId,
      referencedSecurityGroupId: props.clusterSecurityGroupId,
      ipProtocol: 'tcp',
      fromPort: props.port,
      toPort: props.port,
      description: props.description,
    });
  }
}
