import assert from 'node:assert/strict';
import { checkedName } from '../modules/karpenter/names.js';
import { describe, it } from '@jest/globals';
import { NODE_ROLE_MANAGED_POLICIES } from '../modules/eks-cluster/cluster.js';
import type { PolicyDocument, PolicyStatement } from '../modules/iam/policy.js';
import { karpenterControllerPolicies } from '../modules/karpenter/controller-policy.js';
import { INTERRUPTION_EVENTS } from '../modules/karpenter/interruption.js';
import { KARPENTER_INFRA } from '../stacks/karpenter-infra/contract.js';
import { resourceLike, resourcesOf, synthStack, testEnvironment } from './support/synth.js';

const tf = synthStack('karpenter-infra');
const ref = (type: string, idPart: string, attribute: string) => {
  const ids = Object.keys(resourcesOf(tf, type)).filter((id) => id.includes(idPart));
  assert.equal(ids.length, 1, `${type} ${idPart}`);
  return `\${${type}.${ids[0]}.${attribute}}`;
};
const QUEUE_ARN = ref('aws_sqs_queue', 'interruption_queue', 'arn');
const NODE_ROLE_ARN = ref('aws_iam_role', 'node-role', 'arn');
const CLUSTER_NAME_REF = '${data.terraform_remote_state.remote-state-cluster.outputs.clusterName}';

const policies = Object.values(resourcesOf(tf, 'aws_iam_policy'));
const statements: PolicyStatement[] = policies.flatMap((p) => (JSON.parse(p.policy as string) as PolicyDocument).Statement);
const statement = (sid: string) => {
  const found = statements.filter((s) => s.Sid === sid);
  assert.equal(found.length, 1, `one statement ${sid}`);
  return found[0]!;
};
const ec2 = (type: string) => `arn:aws:ec2:us-west-2:111122223333:${type}/*`;
const LAUNCHED = [ec2('fleet'), ec2('instance'), ec2('volume'), ec2('network-interface'), ec2('launch-template'), ec2('spot-instances-request')];
const INSTANCE_PROFILES = 'arn:aws:iam::111122223333:instance-profile/*';

describe('karpenter-infra stack (dev)', () => {
  it('has its own state key and reads the cluster state', () => {
    const backend = tf.terraform.backend!.s3 as Record<string, unknown>;
    assert.equal(backend.key, 'dev/karpenter-infra.tfstate');
    assert.equal(backend.use_lockfile, true);
    const remotes = Object.values(tf.data!.terraform_remote_state!).map((r) => (r.config as Record<string, unknown>).key);
    assert.deepEqual(remotes, ['dev/cluster.tfstate']);
    assert.deepEqual(Object.keys(tf.provider!), ['aws'], 'AWS provider only (offline terraform validate)');
  });

  it('publishes the KARPENTER_INFRA contract', () => {
    assert.deepEqual(Object.keys(tf.output!).sort(), Object.keys(KARPENTER_INFRA.outputs).sort());
    assert.equal(tf.output!.interruptionQueueName!.value, ref('aws_sqs_queue', 'interruption_queue', 'name'));
    assert.equal(tf.output!.nodeRoleName!.value, ref('aws_iam_role', 'node-role', 'name'));
    assert.equal(tf.output!.controllerRoleArn!.value, ref('aws_iam_role', 'controller_role', 'arn'));
  });

  it('creates an SSE-encrypted interruption queue keeping messages 300 s', () => {
    const queue = resourceLike(tf, 'aws_sqs_queue', 'interruption_queue');
    assert.deepEqual(
      { name: queue.name, retention: queue.message_retention_seconds, sse: queue.sqs_managed_sse_enabled },
      { name: 'spark-dev-karpenter', retention: 300, sse: true },
    );
  });

  it('lets only the five EventBridge rules (and SQS) send to the queue, and denies non-TLS access', () => {
    const policy = JSON.parse(resourceLike(tf, 'aws_sqs_queue_policy', 'queue-policy').policy as string) as PolicyDocument;
    const ruleArns = INTERRUPTION_EVENTS.map((e) => ref('aws_cloudwatch_event_rule', `rule-${e.id}_`, 'arn'));
    assert.deepEqual(policy.Statement, [
      {
        Sid: 'AllowEventBridgeRules',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: QUEUE_ARN,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
      },
      { Sid: 'AllowSqsService', Effect: 'Allow', Principal: { Service: 'sqs.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE_ARN },
      {
        Sid: 'DenyNonTlsRequests',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: QUEUE_ARN,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it('routes all five interruption event types to the queue', () => {
    const patterns = Object.values(resourcesOf(tf, 'aws_cloudwatch_event_rule')).map((r) => JSON.parse(r.event_pattern as string) as unknown);
    assert.deepEqual(
      patterns.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        { source: ['aws.ec2'], 'detail-type': ['EC2 Capacity Reservation Instance Interruption Warning'] },
        { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
        { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
        { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
        { source: ['aws.health'], 'detail-type': ['AWS Health Event'] },
      ],
    );
    for (const event of INTERRUPTION_EVENTS) {
      const target = resourceLike(tf, 'aws_cloudwatch_event_target', `target-${event.id}_`);
      assert.equal(target.arn, QUEUE_ARN, event.id);
      assert.equal(target.rule, ref('aws_cloudwatch_event_rule', `rule-${event.id}_`, 'name'), event.id);
    }
  });

  it('binds the controller role to karpenter/karpenter with EKS Pod Identity, trusted for that cluster and service account only', () => {
    const association = resourceLike(tf, 'aws_eks_pod_identity_association', 'controller_pod-identity');
    assert.deepEqual(
      { cluster: association.cluster_name, namespace: association.namespace, sa: association.service_account, role: association.role_arn },
      { cluster: CLUSTER_NAME_REF, namespace: 'karpenter', sa: 'karpenter', role: ref('aws_iam_role', 'controller_role', 'arn') },
    );
    const role = resourceLike(tf, 'aws_iam_role', 'controller_role');
    assert.equal(role.name, 'spark-dev-karpenter-controller');
    assert.deepEqual(JSON.parse(role.assume_role_policy as string), {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:SourceAccount': '111122223333',
              'aws:RequestTag/kubernetes-namespace': 'karpenter',
              'aws:RequestTag/kubernetes-service-account': 'karpenter',
            },
            ArnEquals: { 'aws:SourceArn': 'arn:aws:eks:us-west-2:111122223333:cluster/spark-dev' },
          },
        },
      ],
    });
  });

  it('attaches exactly the five controller policies to the controller role', () => {
    const attached = Object.values(resourcesOf(tf, 'aws_iam_role_policy_attachment'))
      .filter((a) => a.role === ref('aws_iam_role', 'controller_role', 'name'))
      .map((a) => a.policy_arn)
      .sort();
    const created = Object.keys(resourcesOf(tf, 'aws_iam_policy'))
      .map((id) => `\${aws_iam_policy.${id}.arn}`)
      .sort();
    assert.deepEqual(attached, created);
    assert.deepEqual(policies.map((p) => p.name).sort(), [
      'spark-dev-karpenter-eks-integration',
      'spark-dev-karpenter-iam-integration',
      'spark-dev-karpenter-interruption',
      'spark-dev-karpenter-node-lifecycle',
      'spark-dev-karpenter-resource-discovery',
    ]);
    for (const p of policies) assert.ok((p.policy as string).length < 6144, `${String(p.name)} fits a managed policy`);
  });

  it('scopes instance launches and deletions to what Karpenter tagged for this cluster', () => {
    const owned = { 'aws:ResourceTag/kubernetes.io/cluster/spark-dev': 'owned' };
    assert.deepEqual(statement('AllowScopedEC2InstanceAccessActions'), {
      Sid: 'AllowScopedEC2InstanceAccessActions',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
      Resource: [
        'arn:aws:ec2:us-west-2::image/*',
        'arn:aws:ec2:us-west-2::snapshot/*',
        ec2('security-group'),
        ec2('subnet'),
        ec2('capacity-reservation'),
        ec2('placement-group'),
      ],
    });
    assert.deepEqual(statement('AllowScopedEC2LaunchTemplateAccessActions').Condition, {
      StringEquals: owned,
      StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
    });
    const create = statement('AllowScopedEC2InstanceActionsWithTags');
    assert.deepEqual([create.Action, create.Resource], [['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'], LAUNCHED]);
    assert.deepEqual(create.Condition, {
      StringEquals: { 'aws:RequestTag/kubernetes.io/cluster/spark-dev': 'owned', 'aws:RequestTag/eks:eks-cluster-name': 'spark-dev' },
      StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
    });
    const tagOnCreate = statement('AllowScopedResourceCreationTagging');
    assert.deepEqual([tagOnCreate.Action, tagOnCreate.Resource], ['ec2:CreateTags', LAUNCHED]);
    assert.deepEqual(tagOnCreate.Condition!.StringEquals!['ec2:CreateAction'], ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate']);
    const retag = statement('AllowScopedResourceTagging');
    assert.equal(retag.Resource, ec2('instance'));
    assert.deepEqual(retag.Condition!['ForAllValues:StringEquals'], { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] });
    assert.deepEqual(statement('AllowScopedDeletion'), {
      Sid: 'AllowScopedDeletion',
      Effect: 'Allow',
      Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      Resource: [ec2('instance'), ec2('launch-template')],
      Condition: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
    });
  });

  it('passes only the Karpenter node role, only to EC2, and manages only its own instance profiles', () => {
    assert.deepEqual(statement('AllowPassingInstanceRole'), {
      Sid: 'AllowPassingInstanceRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: NODE_ROLE_ARN,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    assert.equal(statements.filter((s) => [s.Action].flat().includes('iam:PassRole')).length, 1);
    assert.deepEqual(statement('AllowScopedInstanceProfileCreationActions'), {
      Sid: 'AllowScopedInstanceProfileCreationActions',
      Effect: 'Allow',
      Action: 'iam:CreateInstanceProfile',
      Resource: INSTANCE_PROFILES,
      Condition: {
        StringEquals: {
          'aws:RequestTag/kubernetes.io/cluster/spark-dev': 'owned',
          'aws:RequestTag/eks:eks-cluster-name': 'spark-dev',
          'aws:RequestTag/topology.kubernetes.io/region': 'us-west-2',
        },
        StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    });
    assert.deepEqual(statement('AllowScopedInstanceProfileTagActions').Condition, {
      StringEquals: {
        'aws:ResourceTag/kubernetes.io/cluster/spark-dev': 'owned',
        'aws:ResourceTag/topology.kubernetes.io/region': 'us-west-2',
        'aws:RequestTag/kubernetes.io/cluster/spark-dev': 'owned',
        'aws:RequestTag/eks:eks-cluster-name': 'spark-dev',
        'aws:RequestTag/topology.kubernetes.io/region': 'us-west-2',
      },
      StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*', 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
    });
    assert.deepEqual(statement('AllowScopedInstanceProfileActions'), {
      Sid: 'AllowScopedInstanceProfileActions',
      Effect: 'Allow',
      Action: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
      Resource: INSTANCE_PROFILES,
      Condition: {
        StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/spark-dev': 'owned', 'aws:ResourceTag/topology.kubernetes.io/region': 'us-west-2' },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    });
    assert.deepEqual(statement('AllowInstanceProfileReadActions').Resource, INSTANCE_PROFILES);
  });

  it('reads only its own queue and describes only its own cluster', () => {
    assert.deepEqual(statement('AllowInterruptionQueueActions'), {
      Sid: 'AllowInterruptionQueueActions',
      Effect: 'Allow',
      Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      Resource: QUEUE_ARN,
    });
    assert.deepEqual(statement('AllowAPIServerEndpointDiscovery'), {
      Sid: 'AllowAPIServerEndpointDiscovery',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: 'arn:aws:eks:us-west-2:111122223333:cluster/spark-dev',
    });
    assert.equal(statement('AllowSSMReadActions').Resource, 'arn:aws:ssm:us-west-2::parameter/aws/service/*');
  });

  it('uses "*" only for read actions that have no resource-level permissions, held to the region', () => {
    const wildcard = statements.filter((s) => [s.Resource].flat().includes('*'));
    assert.deepEqual(wildcard.map((s) => s.Sid), ['AllowRegionalReadActions', 'AllowPricingReadActions', 'AllowUnscopedInstanceProfileListAction']);
    for (const s of wildcard) {
      for (const action of [s.Action].flat()) assert.match(action, /^(ec2:Describe|pricing:Get|iam:List)/, `${s.Sid}: ${action}`);
    }
    assert.deepEqual(statement('AllowRegionalReadActions').Condition, { StringEquals: { 'aws:RequestedRegion': 'us-west-2' } });
    assert.ok(statements.every((s) => s.Effect === 'Allow' && !JSON.stringify(s.Action).includes('*')), 'no wildcard actions');
  });

  it('creates the node role with the four node policies and an EC2_LINUX access entry', () => {
    const role = resourceLike(tf, 'aws_iam_role', 'node-role');
    assert.equal(role.name, 'spark-dev-karpenter-node');
    assert.deepEqual(JSON.parse(role.assume_role_policy as string).Statement, [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const attached = Object.values(resourcesOf(tf, 'aws_iam_role_policy_attachment'))
      .filter((a) => a.role === ref('aws_iam_role', 'node-role', 'name'))
      .map((a) => a.policy_arn)
      .sort();
    assert.deepEqual(attached, NODE_ROLE_MANAGED_POLICIES.map((p) => `arn:aws:iam::aws:policy/${p}`).sort());
    const entry = resourceLike(tf, 'aws_eks_access_entry', 'node-access-entry');
    assert.deepEqual({ cluster: entry.cluster_name, principal: entry.principal_arn, type: entry.type }, { cluster: CLUSTER_NAME_REF, principal: NODE_ROLE_ARN, type: 'EC2_LINUX' });
  });
});

describe('Karpenter controller policies (unit)', () => {
  it('follow the partition (aws-cn: ARNs and the EC2 service principal)', () => {
    const cn = karpenterControllerPolicies({
      clusterName: 'c',
      region: 'cn-north-1',
      accountId: '111122223333',
      partition: 'aws-cn',
      nodeRoleArn: 'arn:aws-cn:iam::111122223333:role/c-karpenter-node',
      interruptionQueueArn: 'arn:aws-cn:sqs:cn-north-1:111122223333:c-karpenter',
    });
    const pass = cn.iamIntegration.Statement.find((s) => s.Sid === 'AllowPassingInstanceRole')!;
    assert.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com.cn' } });
    assert.equal(cn.eksIntegration.Statement[0]!.Resource, 'arn:aws-cn:eks:cn-north-1:111122223333:cluster/c');
    const resources = Object.values(cn).flatMap((d: PolicyDocument) => d.Statement.flatMap((s) => [s.Resource ?? []].flat()));
    assert.ok(resources.every((r) => r === '*' || r.startsWith('arn:aws-cn:')), resources.join(' '));
  });

  it('refuses names AWS would reject (IAM role and EventBridge rule names are at most 64 characters)', () => {
    // The module refuses what AWS would; the environment schema caps clusterName so it never gets there.
    assert.throws(() => checkedName('eventRule', `c${'x'.repeat(50)}-karpenter-spot-interruption`), /eventRule name "cx+-karpenter-spot-interruption" is 79 characters; AWS allows 64/);
    assert.throws(() => testEnvironment({ clusterName: `c${'x'.repeat(50)}` }), /clusterName: expected an EKS cluster name of 1-32 characters/);
    // The longest cluster name the schema allows fits every derived name.
    assert.doesNotThrow(() => synthStack('karpenter-infra', testEnvironment({ clusterName: `c${'x'.repeat(31)}` })));
  });
});
