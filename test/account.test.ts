/**
 * The `account` stack (EC2 Spot service-linked role, GitHub OIDC provider, CI plan and deploy
 * roles), the CI access entries it feeds into `cluster`, and `npm run ci-setup`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { IamServiceLinkedRole } from '@cdktf/provider-aws/lib/iam-service-linked-role/index.js';
import { Testing } from 'cdktf';
import { PLAN_DENIED_DATA_READS } from '../modules/account/github-actions-access.js';
import { SPOT_SERVICE_LINKED_ROLE_ADDRESS, spotServiceLinkedRoleArn } from '../modules/account/spot-service-linked-role.js';
import { ACCOUNT } from '../stacks/account/contract.js';
import { parseEnvironment } from '../stacks/lib/environment.js';
import { AccountStack } from '../stacks/account/stack.js';
import { stackDefinitions } from '../stacks/registry.js';
import { checkStack } from '../stacks/lib/guardrails.js';
import { ciSetupScript, main as ciSetupMain, outputValues, planRoleVariable } from '../scripts/ci-setup.js';
import { compiledScript, FIXTURE_REPO, rawEnvironment, resourceLike, resourcesOf, SOURCE_ROOT, synthStack, synthText, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

const dev = synthStack('account');
const prod = synthStack('account', testEnvironment({}, 'prod'));
const withoutCi = (() => {
  const raw: Record<string, unknown> = { ...rawEnvironment('dev'), createSpotServiceLinkedRole: false };
  delete raw.ci;
  return parseEnvironment(raw, 'environments/dev.yaml');
})();

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; NotResource?: string[]; Principal?: Record<string, string>; Condition?: Record<string, Record<string, string>> };
const documentOf = (body: Record<string, unknown>, attribute = 'policy') => (JSON.parse(body[attribute] as string) as { Statement: Statement[] }).Statement;
const role = (tf: TerraformJson, part: string) => resourceLike(tf, 'aws_iam_role', part);

describe('account stack: EC2 Spot service-linked role', () => {
  it('is an AWS-only stack right after bootstrap, with its own state', () => {
    const names = stackDefinitions(FIXTURE_REPO, testEnvironment()).map((d) => d.name);
    assert.deepEqual(names.slice(0, 3), ['bootstrap', 'account', 'network']);
    assert.equal(stackDefinitions(FIXTURE_REPO, testEnvironment()).find((d) => d.name === 'account')!.awsOnly, true);
    assert.deepEqual(Object.keys(dev.provider ?? {}), ['aws']);
    assert.equal((dev.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/account.tfstate');
    const project = JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', 'account', 'project.json'), 'utf8')) as { implicitDependencies: string[] };
    assert.deepEqual(project.implicitDependencies, ['workspace', 'bootstrap']);
  });

  it('creates AWSServiceRoleForEC2Spot by default, at the address the import runbook names', () => {
    expect(synthText('account')).toHaveResourceWithProperties(IamServiceLinkedRole, { aws_service_name: 'spot.amazonaws.com' });
    const slr = resourcesOf(dev, 'aws_iam_service_linked_role');
    assert.deepEqual(Object.keys(slr), ['spot']);
    assert.equal(SPOT_SERVICE_LINKED_ROLE_ADDRESS, 'aws_iam_service_linked_role.spot');
    assert.deepEqual(slr.spot!.lifecycle, { ignore_changes: ['description'] }, 'an imported role keeps the description EC2 gave it');
    assert.equal(spotServiceLinkedRoleArn('aws', '111122223333'), 'arn:aws:iam::111122223333:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot');
    assert.equal(dev.output!.spotServiceLinkedRoleArn!.value, '${aws_iam_service_linked_role.spot.arn}');
  });

  it('creates no Spot role with createSpotServiceLinkedRole: false (the account has one)', () => {
    const tf = synthStack('account', withoutCi);
    assert.deepEqual(resourcesOf(tf, 'aws_iam_service_linked_role'), {});
    assert.equal(tf.output!.spotServiceLinkedRoleArn!.value, '');
  });
});

describe('account stack: CI access (GitHub Actions OIDC)', () => {
  it('creates the GitHub OIDC provider without thumbprints, or uses the existing one by ARN', () => {
    const provider = resourceLike(dev, 'aws_iam_openid_connect_provider', 'github');
    assert.equal(provider.url, 'https://token.actions.githubusercontent.com');
    assert.deepEqual(provider.client_id_list, ['sts.amazonaws.com']);
    assert.ok(!('thumbprint_list' in provider), 'no thumbprints: a list set once cannot be removed cleanly');
    assert.deepEqual(resourcesOf(prod, 'aws_iam_openid_connect_provider'), {});
    const existing = 'arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com';
    assert.equal(documentOf(role(prod, 'plan-role'), 'assume_role_policy')[0]!.Principal!.Federated, existing);
    assert.equal(prod.output!.githubOidcProviderArn!.value, existing);
  });

  it('trusts the plan role only from pull requests of the repository', () => {
    const plan = role(dev, 'plan-role');
    assert.equal(plan.name, 'spark-dev-github-plan');
    assert.deepEqual(documentOf(plan, 'assume_role_policy'), [
      {
        Effect: 'Allow',
        Principal: { Federated: '${aws_iam_openid_connect_provider.github-actions_github_E884E8CD.arn}' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:example-org/spark-platform:pull_request',
          },
        },
      },
    ]);
  });

  it('trusts the deploy role only from the deploy branch in the GitHub environment of the platform environment', () => {
    const deploy = role(prod, 'deploy-role');
    assert.equal(deploy.name, 'spark-prod-github-deploy');
    assert.deepEqual(documentOf(deploy, 'assume_role_policy')[0]!.Condition, {
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': 'repo:example-org/spark-platform:environment:prod',
        'token.actions.githubusercontent.com:ref': 'refs/heads/main',
      },
    });
    const custom = synthStack('account', testEnvironment({ ci: { githubRepository: 'octo-org@123/octo-repo@456', deployBranch: 'release' } }));
    assert.deepEqual(documentOf(role(custom, 'deploy-role'), 'assume_role_policy')[0]!.Condition!.StringEquals, {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': 'repo:octo-org@123/octo-repo@456:environment:dev',
      'token.actions.githubusercontent.com:ref': 'refs/heads/release',
    });
    assert.equal(custom.output!.githubRepository!.value, 'octo-org/octo-repo', 'gh commands take the plain owner/repo');
  });

  it('gives the plan role read-only access plus exactly what terraform plan needs on the state bucket, its key and the lock files', () => {
    const attachments = Object.values(resourcesOf(dev, 'aws_iam_role_policy_attachment'));
    const planAttachments = attachments.filter((a) => String(a.role).includes('plan-role')).map((a) => a.policy_arn);
    assert.deepEqual(planAttachments, ['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    const bucket = 'arn:aws:s3:::spark-platform-tfstate-111122223333-dev';
    assert.deepEqual(documentOf(resourceLike(dev, 'aws_iam_role_policy', 'plan-state')), [
      { Sid: 'ListStateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket },
      { Sid: 'ReadStates', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/dev/*.tfstate` },
      { Sid: 'LockFiles', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucket}/dev/*.tfstate.tflock` },
      { Sid: 'StateKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: '${data.aws_kms_alias.state-key.target_key_arn}' },
      { Sid: 'SecretsOpenedByPlans', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ['arn:aws:secretsmanager:us-west-2:111122223333:secret:spark-dev/*'] },
    ]);
    // The state key is the one bootstrap created for the bucket, found by its alias.
    assert.deepEqual(Object.values(dev.data!.aws_kms_alias!).map((d) => d.name), ['alias/s3/spark-platform-tfstate-111122223333-dev']);
    // Never the state itself: no PutObject/DeleteObject on *.tfstate.
    for (const statement of documentOf(resourceLike(dev, 'aws_iam_role_policy', 'plan-state'))) {
      const actions = [statement.Action].flat();
      if (actions.some((a) => a === 's3:PutObject' || a === 's3:DeleteObject')) assert.match(String(statement.Resource), /\.tflock$/);
    }
  });

  it('denies the plan role data reads that ReadOnlyAccess allows and no plan needs', () => {
    assert.deepEqual(documentOf(resourceLike(dev, 'aws_iam_role_policy', 'plan-deny')), [
      { Sid: 'NoDataReads', Effect: 'Deny', Action: [...PLAN_DENIED_DATA_READS], Resource: '*' },
      { Sid: 'NoOtherSecrets', Effect: 'Deny', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], NotResource: ['arn:aws:secretsmanager:us-west-2:111122223333:secret:spark-dev/*'] },
    ]);
    assert.ok(PLAN_DENIED_DATA_READS.includes('sqs:ReceiveMessage'), 'a plan must not consume the Karpenter interruption queue');
  });

  it('gives the deploy role administrator access with a recorded suppression, and long enough sessions', () => {
    const attachments = Object.values(resourcesOf(dev, 'aws_iam_role_policy_attachment')).filter((a) => String(a.role).includes('deploy-role'));
    assert.deepEqual(attachments.map((a) => a.policy_arn), ['arn:aws:iam::aws:policy/AdministratorAccess']);
    const stack = new AccountStack(Testing.app({ stackTraces: false }), testEnvironment());
    const result = checkStack(stack);
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.suppressed.map((s) => [s.ruleId, s.address]), [['IAM-009', 'aws_iam_role_policy_attachment.github-actions_deploy-admin_953D0BB2']]);
    assert.ok(result.rulesRun.includes('IAM-010'), 'the GitHub trust rule checked both roles');
    assert.equal(role(dev, 'deploy-role').max_session_duration, 10800);
    assert.equal(role(dev, 'plan-role').max_session_duration, 7200);
  });

  it('publishes the contract outputs; without a ci section it creates no CI resources and publishes empty values', () => {
    assert.deepEqual(Object.keys(dev.output!).sort(), Object.keys(ACCOUNT.outputs).sort());
    assert.equal(dev.output!.planRoleArn!.value, '${aws_iam_role.github-actions_plan-role_307B17A8.arn}');
    assert.equal(dev.output!.deployRoleUniqueId!.value, '${aws_iam_role.github-actions_deploy-role_6EBE3AAC.unique_id}');
    const tf = synthStack('account', withoutCi);
    for (const type of ['aws_iam_role', 'aws_iam_openid_connect_provider', 'aws_iam_role_policy']) assert.deepEqual(resourcesOf(tf, type), {}, type);
    assert.equal(tf.data, undefined);
    for (const [name, output] of Object.entries(tf.output!)) assert.equal(output.value, '', name);
  });
});

describe('cluster stack: EKS access entries of the CI roles', () => {
  const cluster = synthStack('cluster');
  const remote = (output: string) => `\${data.terraform_remote_state.remote-state-account.outputs.${output}}`;

  it('lets the plan role read everything (Helm release Secrets included) and write nothing; the deploy role administers', () => {
    const entries = resourcesOf(cluster, 'aws_eks_access_entry');
    const associations = resourcesOf(cluster, 'aws_eks_access_policy_association');
    const grant = (name: string) => {
      const [entryId, entry] = Object.entries(entries).find(([id]) => id.startsWith(`${name}_entry`))!;
      const association = Object.values(associations).find((a) => String(a.principal_arn).includes(entryId))!;
      return { entryId, entry, association };
    };
    const plan = grant('ci-plan-access');
    assert.equal(plan.entry.principal_arn, remote('planRoleArn'));
    assert.equal(plan.entry.type, 'STANDARD');
    assert.equal(plan.association.policy_arn, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy');
    assert.deepEqual(plan.association.access_scope, { type: 'cluster' });
    const deploy = grant('ci-deploy-access');
    assert.equal(deploy.entry.principal_arn, remote('deployRoleArn'));
    assert.equal(deploy.association.policy_arn, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy');
    // A re-created role (same ARN, new unique id) gets a new entry: EKS binds entries to the role id.
    const triggers = resourcesOf(cluster, 'terraform_data');
    const planTrigger = Object.entries(triggers).find(([id]) => id.startsWith('ci-plan-access_principal'))!;
    assert.deepEqual(planTrigger[1].triggers_replace, { principal_id: remote('planRoleUniqueId') });
    assert.deepEqual(plan.entry.lifecycle, { replace_triggered_by: [`terraform_data.${planTrigger[0]}`] });
    assert.deepEqual(plan.association.lifecycle, { replace_triggered_by: [`aws_eks_access_entry.${plan.entryId}`] });
  });

  it('creates no CI entries and reads no account state without a ci section', () => {
    const tf = synthStack('cluster', withoutCi);
    assert.deepEqual(Object.keys(resourcesOf(tf, 'aws_eks_access_entry')).filter((id) => id.startsWith('ci-')), []);
    assert.deepEqual(Object.keys(tf.data!.terraform_remote_state!), ['remote-state-network']);
  });
});

describe('npm run ci-setup', () => {
  const outputs = {
    githubOidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
    githubRepository: 'example-org/spark-platform',
    deployBranch: 'main',
    githubEnvironment: 'dev',
    planRoleArn: 'arn:aws:iam::111122223333:role/spark-dev-github-plan',
    planRoleUniqueId: 'AROAEXAMPLEPLAN',
    deployRoleArn: 'arn:aws:iam::111122223333:role/spark-dev-github-deploy',
    deployRoleUniqueId: 'AROAEXAMPLEDEPLOY',
    spotServiceLinkedRoleArn: '',
  };
  const terraformOutputJson = Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { sensitive: false, type: 'string', value }]));

  it('reads terraform output -json and cdktf outputs files alike', () => {
    assert.deepEqual(outputValues(terraformOutputJson), outputs);
    assert.deepEqual(outputValues({ account: outputs }), outputs);
  });

  it('prints the gh commands that set the variables the workflows read', () => {
    const script = ciSetupScript(testEnvironment(), outputs);
    assert.equal(planRoleVariable('dev'), 'AWS_PLAN_ROLE_ARN_DEV');
    assert.match(script, /^gh variable set AWS_PLAN_ROLE_ARN_DEV --repo 'example-org\/spark-platform' --body 'arn:aws:iam::111122223333:role\/spark-dev-github-plan'$/m);
    assert.match(script, /^gh variable set AWS_DEPLOY_ROLE_ARN --repo 'example-org\/spark-platform' --env 'dev' --body 'arn:aws:iam::111122223333:role\/spark-dev-github-deploy'$/m);
    assert.match(script, /gh api --method PUT 'repos\/example-org\/spark-platform\/environments\/dev' -F 'deployment_branch_policy\[protected_branches\]=false' -F 'deployment_branch_policy\[custom_branch_policies\]=true'/);
    assert.match(script, /gh api --method POST 'repos\/example-org\/spark-platform\/environments\/dev\/deployment-branch-policies' -f name='main' -f type=branch/);
  });

  it('refuses outputs that are missing or do not match the environment file', () => {
    assert.throws(() => ciSetupScript(testEnvironment(), { ...outputs, planRoleArn: '' }), /the account stack has no output planRoleArn: deploy it first/);
    assert.throws(() => ciSetupScript(testEnvironment(), { ...outputs, githubRepository: 'someone/else' }), /trusts repository "someone\/else" but environments\/dev\.yaml says "example-org\/spark-platform": deploy the account stack again first/);
    assert.throws(() => ciSetupScript(testEnvironment({}, 'prod'), outputs), /trusts environment "dev" but environments\/prod\.yaml says "prod"/);
  });

  it('runs end to end: the printed script calls gh as intended, idempotently', () => {
    const root = temporaryRoot();
    const outputsFile = join(root, 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify(terraformOutputJson));
    const result = spawnSync(process.execPath, [compiledScript('ci-setup.js'), 'dev', '--root', root, '--outputs', outputsFile], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    // A stand-in gh that records its arguments; the branch policy listing answers "main" once it was created.
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const log = join(root, 'gh.log');
    const created = join(root, 'policy-created');
    writeFileSync(
      join(bin, 'gh'),
      [
        '#!/bin/sh',
        `echo "$*" >> '${log}'`,
        `case "$*" in *"--jq"*) [ -f '${created}' ] && echo main;; *"--method POST"*) touch '${created}';; esac`,
        'exit 0',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'gh'), 0o755);
    writeFileSync(join(root, 'setup.sh'), result.stdout);
    for (let run = 0; run < 2; run++) {
      const sh = spawnSync('sh', [join(root, 'setup.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
      assert.equal(sh.status, 0, sh.stderr);
    }
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(calls.filter((c) => c.startsWith('api --method POST')).length, 1, 'the branch policy is created once');
    assert.equal(calls.filter((c) => c.startsWith('variable set AWS_PLAN_ROLE_ARN_DEV')).length, 2);
    assert.equal(calls.filter((c) => c.startsWith('variable set AWS_DEPLOY_ROLE_ARN --repo example-org/spark-platform --env dev')).length, 2);
  });

  it('exits 1 naming the problem when the environment has no ci section or nothing was deployed, printing nothing', () => {
    const run = (root: string, args: string[]) => {
      let out = '';
      let err = '';
      const code = ciSetupMain(['dev', ...args], root, { out: (s) => (out += s), err: (s) => (err += s) });
      return { code, out, err };
    };
    const raw = readFileSync(join(FIXTURE_REPO, 'environments', 'dev.yaml'), 'utf8').replace(/\nci:\n(?: {2}.*\n)+/, '\n');
    const noCi = run(temporaryRoot({ files: { 'environments/dev.yaml': raw } }), ['--outputs', '/nonexistent']);
    assert.deepEqual(noCi, { code: 1, out: '', err: 'ci-setup: environments/dev.yaml has no ci section: CI access is not managed for environment dev\n' });
    const notDeployed = run(temporaryRoot(), []);
    assert.equal(notDeployed.code, 1);
    assert.match(notDeployed.err, /^ci-setup: .*cdktf\.out\/stacks\/account was never initialized: deploy the account stack from this checkout first, or pass --outputs\n$/);
    assert.equal(notDeployed.out, '');
    const badFile = run(temporaryRoot(), ['--outputs', '/nonexistent/outputs.json']);
    assert.equal(badFile.code, 1);
    assert.match(badFile.err, /^ci-setup: --outputs \/nonexistent\/outputs\.json: ENOENT/);
    assert.equal(run(FIXTURE_REPO, ['--bogus']).code, 2);
  });
});
