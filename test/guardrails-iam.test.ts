import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { emrIrsaTrust, emrPodIdentityTrust } from '../modules/emr-on-eks/identity.js';
import { ACTIONS_REQUIRING_WILDCARD_RESOURCE, iamWildcardResources, isWildcardResource, requiresWildcardResource } from '../modules/guardrails/iam.js';
import { podIdentityTrust, policyJson, serviceTrust } from '../modules/iam/policy.js';
import { githubSubjects } from '../modules/account/github-actions-access.js';
import { policy, problems, violations } from './support/guardrails.js';

const rolePolicy = (document: string) => ({ aws_iam_role_policy: { p: { role: '${aws_iam_role.r.id}', policy: document } } });
const role = (trust: string, extra: Record<string, unknown> = {}) => ({ aws_iam_role: { r: { name: 'r', assume_role_policy: trust, ...extra } } });

const OIDC = '${data.terraform_remote_state.remote-state-cluster.outputs.oidcIssuerHostPath}';
const irsaStatement = (condition: Record<string, unknown>) => ({
  Effect: 'Allow',
  Principal: { Federated: '${data.terraform_remote_state.remote-state-cluster.outputs.oidcProviderArn}' },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: condition,
});

describe('guardrails: IAM', () => {
  it('IAM-001: reports `*` and `service:*` actions in Allow statements, in every identity policy type and inline policies', () => {
    const bad = policy({ Sid: 'All', Effect: 'Allow', Action: ['s3:*', 's3:GetObject'], Resource: 'arn:aws:s3:::b/*' });
    assert.deepEqual(problems('IAM-001', rolePolicy(bad)), ['aws_iam_role_policy.p: policy policy statement "All" allows wildcard action(s) "s3:*"']);
    assert.deepEqual(problems('IAM-001', { aws_iam_policy: { m: { policy: policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }) } } }), [
      'aws_iam_policy.m: policy policy statement 1 allows wildcard action(s) "*"',
    ]);
    const inline = role(policyJson(serviceTrust('ec2.amazonaws.com')), { inline_policy: [{ name: 'x', policy: bad }] });
    assert.deepEqual(problems('IAM-001', inline), ['aws_iam_role.r: policy inline_policy[0] (x) statement "All" allows wildcard action(s) "s3:*"']);
  });

  it('IAM-001: passes exact and partially-wildcarded actions, and Deny statements', () => {
    const ok = policy(
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:List*'], Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    );
    assert.deepEqual(violations('IAM-001', rolePolicy(ok)), []);
  });

  it('IAM-002: reports `*` resources for actions that support resource-level permissions', () => {
    const bad = policy({ Sid: 'Read', Effect: 'Allow', Action: ['ssm:GetParameter', 'ec2:DescribeInstances'], Resource: '*' });
    assert.deepEqual(violations('IAM-002', rolePolicy(bad)), [
      `[IAM-002] test/aws_iam_role_policy.p: policy policy statement "Read" allows "ssm:GetParameter" on resource "*", but these actions support resource-level permissions. Fix: ${iamWildcardResources.fix}`,
    ]);
    const allBuckets = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*' });
    assert.equal(problems('IAM-002', rolePolicy(allBuckets)).length, 1);
  });

  it('IAM-002: passes allow-listed actions on `*` and scoped ARNs (including ARNs with wildcard paths)', () => {
    const ok = policy(
      { Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'pricing:GetProducts', 'iam:ListInstanceProfiles'], Resource: '*' },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-west-2::parameter/aws/service/*' },
      { Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: 'arn:aws:ec2:us-west-2:111122223333:instance/*' },
    );
    assert.deepEqual(violations('IAM-002', rolePolicy(ok)), []);
    assert.equal(requiresWildcardResource('ec2:Describe*'), true, 'a Describe* family is covered by the allow-list entry');
    assert.equal(requiresWildcardResource('ec2:*'), false);
    assert.equal(requiresWildcardResource('ssm:GetParameter'), false);
    assert.ok(!ACTIONS_REQUIRING_WILDCARD_RESOURCE.includes('ssm:GetParameter'));
    assert.equal(isWildcardResource('arn:aws:ec2:us-west-2:111122223333:*'), true);
    assert.equal(isWildcardResource('arn:aws:iam::111122223333:instance-profile/*'), false);
  });

  it('IAM-003: reports Allow with NotAction or NotResource', () => {
    const bad = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:aws:s3:::b' });
    assert.deepEqual(problems('IAM-003', rolePolicy(bad)), ['aws_iam_role_policy.p: policy policy statement 1 is an Allow with NotAction']);
    const ok = policy({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*' });
    assert.deepEqual(problems('IAM-003', rolePolicy(ok)), []);
  });

  it('IAM-004: passes the exact IRSA trust EMR writes (one namespace, service account pattern, audience)', () => {
    const trust = emrIrsaTrust({
      oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC',
      oidcIssuerHostPath: OIDC,
      namespace: 'analytics',
      accountId: '111122223333',
      roleName: 'analytics-job',
    });
    assert.deepEqual(violations('IAM-004', role(policyJson(trust))), []);
  });

  it('IAM-004: reports IRSA trusts without :sub, with a wildcard namespace, several namespaces, or without :aud', () => {
    assert.deepEqual(problems('IAM-004', role(policy(irsaStatement({ StringEquals: { [`${OIDC}:aud`]: 'sts.amazonaws.com' } })))), [
      'aws_iam_role.r: trust policy statement 1 allows sts:AssumeRoleWithWebIdentity without a StringEquals/StringLike "<issuer>:sub" condition (any service account of the cluster could assume the role)',
    ]);
    const wildNamespace = irsaStatement({ StringLike: { [`${OIDC}:sub`]: 'system:serviceaccount:*:spark' }, StringEquals: { [`${OIDC}:aud`]: 'sts.amazonaws.com' } });
    assert.deepEqual(problems('IAM-004', role(policy(wildNamespace))), [
      'aws_iam_role.r: trust policy statement 1 has :sub value "system:serviceaccount:*:spark" whose namespace is a wildcard',
    ]);
    const twoNamespaces = irsaStatement({
      StringEquals: { [`${OIDC}:sub`]: ['system:serviceaccount:a:spark', 'system:serviceaccount:b:spark'], [`${OIDC}:aud`]: 'sts.amazonaws.com' },
    });
    assert.deepEqual(problems('IAM-004', role(policy(twoNamespaces))), ['aws_iam_role.r: trust policy statement 1 trusts service accounts in 2 namespaces (a, b); one role per namespace']);
    const noAud = irsaStatement({ StringEquals: { [`${OIDC}:sub`]: 'system:serviceaccount:a:spark' } });
    assert.deepEqual(problems('IAM-004', role(policy(noAud))), ['aws_iam_role.r: trust policy statement 1 has no StringEquals "<issuer>:aud": "sts.amazonaws.com" condition']);
    const anySa = irsaStatement({ StringLike: { [`${OIDC}:sub`]: 'system:serviceaccount:a:*' }, StringEquals: { [`${OIDC}:aud`]: 'sts.amazonaws.com' } });
    assert.equal(problems('IAM-004', role(policy(anySa))).length, 1);
  });

  it('IAM-004: leaves non-EKS web identity providers (GitHub OIDC) alone', () => {
    const github = policy({
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:org/repo:*' } },
    });
    assert.deepEqual(violations('IAM-004', role(github)), []);
  });

  it('IAM-005: passes Pod Identity trusts pinned to the cluster, account, namespace and service accounts', () => {
    const trust = podIdentityTrust({ clusterArn: '${aws_eks_cluster.c.arn}', accountId: '111122223333', namespace: 'kube-system', serviceAccounts: ['ebs-csi-controller-sa'] });
    assert.deepEqual(violations('IAM-005', role(policyJson(trust))), []);
    const emr = emrPodIdentityTrust({ clusterArn: 'arn:aws:eks:us-west-2:111122223333:cluster/spark-dev', namespace: 'analytics', accountId: '111122223333', roleName: 'analytics-job' });
    assert.deepEqual(violations('IAM-005', role(policyJson(emr))), []);
  });

  it('IAM-005: reports unconditional Pod Identity trusts and trusts admitting several namespaces', () => {
    const open = policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
    assert.deepEqual(problems('IAM-005', role(open)), [
      'aws_iam_role.r: trust policy statement 1 trusts pods.eks.amazonaws.com without aws:SourceArn/aws:SourceAccount or namespace and service account request-tag conditions',
    ]);
    const many = policy({
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' }, StringLike: { 'aws:RequestTag/kubernetes-namespace': 'team-*' } },
    });
    assert.deepEqual(problems('IAM-005', role(many)), ['aws_iam_role.r: trust policy statement 1 admits namespaces "team-*"; pin exactly one namespace']);
  });

  it('IAM-006: reports trusts of Principal "*" or AWS "*", and passes service and account trusts', () => {
    assert.deepEqual(problems('IAM-006', role(policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }))), [
      'aws_iam_role.r: trust policy statement 1 trusts every AWS principal ("*")',
    ]);
    assert.equal(problems('IAM-006', role(policy({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }))).length, 1);
    assert.deepEqual(violations('IAM-006', role(policyJson(serviceTrust('ec2.amazonaws.com')))), []);
    assert.deepEqual(violations('IAM-006', role(policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'sts:AssumeRole' }))), []);
  });

  it('IAM-007: reports unconditional Allow to "*" in resource policies, passes conditioned or named principals', () => {
    const queue = (document: string) => ({ aws_sqs_queue_policy: { q: { queue_url: '${aws_sqs_queue.q.url}', policy: document } } });
    assert.deepEqual(problems('IAM-007', queue(policy({ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: '${aws_sqs_queue.q.arn}' }))), [
      'aws_sqs_queue_policy.q: policy statement 1 allows "sqs:SendMessage" to every principal ("*") without a condition',
    ]);
    assert.deepEqual(
      violations('IAM-007', queue(policy({ Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'sqs.amazonaws.com'] }, Action: 'sqs:SendMessage', Resource: '${aws_sqs_queue.q.arn}' }))),
      [],
    );
    assert.deepEqual(
      violations('IAM-007', queue(policy({ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: 'x', Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } }))),
      [],
    );
  });

  it('IAM-008: reports policies that are not literal JSON documents', () => {
    assert.deepEqual(problems('IAM-008', rolePolicy('${jsonencode({Statement = []})}')), [
      'aws_iam_role_policy.p: policy is not a literal JSON policy document (found "${jsonencode({Statement = []})}")',
    ]);
    assert.equal(problems('IAM-008', role('${data.terraform_remote_state.x.outputs.trust}')).length, 1);
    assert.deepEqual(violations('IAM-008', rolePolicy(policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '${aws_s3_bucket.b.arn}/*' }))), []);
  });

  it('IAM-009: reports admin-equivalent managed policies, passes scoped ones', () => {
    const attach = (arn: string) => ({ aws_iam_role_policy_attachment: { a: { role: 'r', policy_arn: arn } } });
    assert.deepEqual(problems('IAM-009', attach('arn:aws:iam::aws:policy/AdministratorAccess')), [
      'aws_iam_role_policy_attachment.a: attaches administrator-equivalent managed policy arn:aws:iam::aws:policy/AdministratorAccess',
    ]);
    assert.deepEqual(violations('IAM-009', attach('arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy')), []);
  });

  it('IAM-010: GitHub Actions trusts pin one repository and context, and the audience; the CI roles pass', () => {
    const provider = { aws_iam_openid_connect_provider: { github: { url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] } } };
    const trust = (condition: Record<string, unknown>) =>
      policy({ Effect: 'Allow', Principal: { Federated: '${aws_iam_openid_connect_provider.github.arn}' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition });
    const gh = (claims: Record<string, string>) => Object.fromEntries(Object.entries(claims).map(([k, v]) => [`token.actions.githubusercontent.com:${k}`, v]));
    const check = (condition: Record<string, unknown>) => problems('IAM-010', { ...provider, ...role(trust(condition)) });
    // The roles of the account stack.
    const plan = githubSubjects('o/r', 'prod').plan;
    assert.deepEqual(check({ StringEquals: gh({ aud: 'sts.amazonaws.com', sub: plan }) }), []);
    assert.deepEqual(check({ StringEquals: gh({ aud: 'sts.amazonaws.com', sub: 'repo:o@1/r@2:environment:prod', ref: 'refs/heads/main' }) }), []);
    // Recognized by the provider it references, with no GitHub condition at all.
    assert.deepEqual(check({}), [
      'aws_iam_role.r: trust policy statement 1 trusts GitHub Actions without a StringEquals "token.actions.githubusercontent.com:sub" condition (workflows of any repository could assume the role)',
      'aws_iam_role.r: trust policy statement 1 has no StringEquals "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" condition',
    ]);
    assert.deepEqual(check({ StringEquals: gh({ aud: 'sts.amazonaws.com' }), StringLike: gh({ sub: 'repo:o/*' }) }), [
      'aws_iam_role.r: trust policy statement 1 trusts GitHub Actions without a StringEquals "token.actions.githubusercontent.com:sub" condition (workflows of any repository could assume the role)',
      'aws_iam_role.r: trust policy statement 1 has StringLike :sub value "repo:o/*", not one exact "repo:<owner>/<repo>:<pull_request | environment:<env> | ref:refs/heads/<branch>>"',
    ]);
    assert.equal(check({ StringEquals: gh({ aud: 'sts.amazonaws.com', sub: 'repo:o/r:ref:refs/heads/*' }) }).length, 1);
    // An existing provider given by ARN is recognized from the ARN.
    const byArn = policy({ Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' }, Action: 'sts:AssumeRoleWithWebIdentity' });
    assert.equal(problems('IAM-010', role(byArn)).length, 2);
    // IRSA trusts are IAM-004's, not this rule's.
    assert.deepEqual(violations('IAM-010', role(policy(irsaStatement({ StringEquals: { [`${OIDC}:sub`]: 'system:serviceaccount:a:b', [`${OIDC}:aud`]: 'sts.amazonaws.com' } })))), []);
  });
});
