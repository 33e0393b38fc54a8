/**
 * The Karpenter v1 controller's IAM policies: the upstream policy set of
 * aws/karpenter-provider-aws (v1.14 CloudFormation reference: node lifecycle, IAM integration, EKS
 * integration, interruption, resource discovery), tightened where the upstream template leaves
 * room: EC2 ARNs pinned to this account and region, `iam:PassRole` on the one node role for EC2
 * only, SQS on the one queue, `eks:DescribeCluster` on the one cluster. Instance, launch template
 * and instance-profile actions are scoped by the tags Karpenter itself puts on what it creates
 * (`kubernetes.io/cluster/<name>: owned`, `eks:eks-cluster-name`, `karpenter.sh/nodepool`,
 * `karpenter.k8s.aws/ec2nodeclass`), so the controller cannot touch anything else.
 */
import { ec2ServicePrincipal, type PolicyDocument, policyDocument } from '../iam/policy.js';

export interface ControllerPolicyProps {
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** ARN of the Karpenter node role (the only role the controller may pass). */
  readonly nodeRoleArn: string;
  /** ARN of the interruption queue. */
  readonly interruptionQueueArn: string;
}

/** The policies by purpose, each small enough for one managed policy (6,144 characters). */
export interface ControllerPolicies {
  readonly nodeLifecycle: PolicyDocument;
  readonly iamIntegration: PolicyDocument;
  readonly eksIntegration: PolicyDocument;
  readonly interruption: PolicyDocument;
  readonly resourceDiscovery: PolicyDocument;
}

export function karpenterControllerPolicies(props: ControllerPolicyProps): ControllerPolicies {
  const partition = props.partition ?? 'aws';
  const { region, accountId, clusterName } = props;
  const ec2 = (type: string) => `arn:${partition}:ec2:${region}:${accountId}:${type}/*`;
  // AMIs and their snapshots are owned by AWS (or whoever published them), so no account in the ARN.
  const publicEc2 = (type: string) => `arn:${partition}:ec2:${region}::${type}/*`;
  const instanceProfiles = `arn:${partition}:iam::${accountId}:instance-profile/*`;
  const clusterArn = `arn:${partition}:eks:${region}:${accountId}:cluster/${clusterName}`;
  const clusterTag = `kubernetes.io/cluster/${clusterName}`;
  const launched = [ec2('fleet'), ec2('instance'), ec2('volume'), ec2('network-interface'), ec2('launch-template'), ec2('spot-instances-request')];
  const ec2Service = ec2ServicePrincipal(partition);

  const nodeLifecycle = policyDocument(
    {
      Sid: 'AllowScopedEC2InstanceAccessActions',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      Resource: [
        publicEc2('image'),
        publicEc2('snapshot'),
        ec2('security-group'),
        ec2('subnet'),
        ec2('capacity-reservation'),
        ec2('placement-group'),
      ],
    },
    {
      Sid: 'AllowScopedEC2LaunchTemplateAccessActions',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      Resource: ec2('launch-template'),
      Condition: {
        StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned' },
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowScopedEC2InstanceActionsWithTags',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      Resource: launched,
      Condition: {
        StringEquals: { [`aws:RequestTag/${clusterTag}`]: 'owned', 'aws:RequestTag/eks:eks-cluster-name': clusterName },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowScopedResourceCreationTagging',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: launched,
      Condition: {
        StringEquals: {
          [`aws:RequestTag/${clusterTag}`]: 'owned',
          'aws:RequestTag/eks:eks-cluster-name': clusterName,
          'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'],
        },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      },
    },
    {
      Sid: 'AllowScopedResourceTagging',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: ec2('instance'),
      Condition: {
        StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned' },
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        StringEqualsIfExists: { 'aws:RequestTag/eks:eks-cluster-name': clusterName },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
      },
    },
    {
      Sid: 'AllowScopedDeletion',
      Effect: 'Allow',
      Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      Resource: [ec2('instance'), ec2('launch-template')],
      Condition: {
        StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned' },
        StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
      },
    },
  );

  const iamIntegration = policyDocument(
    {
      Sid: 'AllowPassingInstanceRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: props.nodeRoleArn,
      Condition: { StringEquals: { 'iam:PassedToService': ec2Service } },
    },
    {
      Sid: 'AllowScopedInstanceProfileCreationActions',
      Effect: 'Allow',
      Action: 'iam:CreateInstanceProfile',
      Resource: instanceProfiles,
      Condition: {
        StringEquals: {
          [`aws:RequestTag/${clusterTag}`]: 'owned',
          'aws:RequestTag/eks:eks-cluster-name': clusterName,
          'aws:RequestTag/topology.kubernetes.io/region': region,
        },
        StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    },
    {
      Sid: 'AllowScopedInstanceProfileTagActions',
      Effect: 'Allow',
      Action: 'iam:TagInstanceProfile',
      Resource: instanceProfiles,
      Condition: {
        StringEquals: {
          [`aws:ResourceTag/${clusterTag}`]: 'owned',
          'aws:ResourceTag/topology.kubernetes.io/region': region,
          [`aws:RequestTag/${clusterTag}`]: 'owned',
          'aws:RequestTag/eks:eks-cluster-name': clusterName,
          'aws:RequestTag/topology.kubernetes.io/region': region,
        },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*', 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    },
    {
      Sid: 'AllowScopedInstanceProfileActions',
      Effect: 'Allow',
      Action: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
      Resource: instanceProfiles,
      Condition: {
        StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned', 'aws:ResourceTag/topology.kubernetes.io/region': region },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    },
  );

  const eksIntegration = policyDocument({ Sid: 'AllowAPIServerEndpointDiscovery', Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: clusterArn });

  const interruption = policyDocument({
    Sid: 'AllowInterruptionQueueActions',
    Effect: 'Allow',
    Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
    Resource: props.interruptionQueueArn,
  });

  const resourceDiscovery = policyDocument(
    {
      Sid: 'AllowRegionalReadActions',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeCapacityReservations',
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribePlacementGroups',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSpotPriceHistory',
        'ec2:DescribeSubnets',
      ],
      // `*` required: EC2 Describe* actions support no resource-level permissions; held to this region.
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': region } },
    },
    {
      Sid: 'AllowSSMReadActions',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      // Public parameters that resolve the AL2023 alias to an AMI id.
      Resource: `arn:${partition}:ssm:${region}::parameter/aws/service/*`,
    },
    // `*` required: the Price List API has no resources to scope to.
    { Sid: 'AllowPricingReadActions', Effect: 'Allow', Action: 'pricing:GetProducts', Resource: '*' },
    // `*` required: iam:ListInstanceProfiles lists account-wide and takes no resource ARN (upstream grants it unscoped).
    { Sid: 'AllowUnscopedInstanceProfileListAction', Effect: 'Allow', Action: 'iam:ListInstanceProfiles', Resource: '*' },
    { Sid: 'AllowInstanceProfileReadActions', Effect: 'Allow', Action: 'iam:GetInstanceProfile', Resource: instanceProfiles },
  );

  return { nodeLifecycle, iamIntegration, eksIntegration, interruption, resourceDiscovery };
}
