/**
 * CI access for GitHub Actions through OIDC (no stored keys): the account's GitHub OIDC provider
 * (created, or an existing one by ARN), a read-only plan role for pull requests and a deploy role
 * for one branch in one GitHub environment.
 *
 * Trust (GitHub docs "OpenID Connect reference", subject claim formats; AWS STS validation of
 * GitHub claims, What's New 2026-01):
 * - plan:   `sub = repo:<owner>/<repo>:pull_request` (jobs that reference no environment), and
 *           `aud = sts.amazonaws.com`;
 * - deploy: `sub = repo:<owner>/<repo>:environment:<env>` (the job runs in that GitHub environment,
 *           whose protection rules apply), `ref = refs/heads/<branch>`, and `aud`.
 * Repositories with immutable subject claims (created after 2026-07-15, or opted in) use
 * `owner@<id>/repo@<id>`: pass the repository in that form.
 *
 * Permissions:
 * - plan: the AWS managed ReadOnlyAccess (what refreshing every resource type reads), plus exactly
 *   what `terraform plan` with the S3 backend and `use_lockfile` needs: list the state bucket, read
 *   the environment's state objects (its own and every remote state it reads), write and delete
 *   only the `.tflock` lock objects, and use the state KMS key. Secrets a plan opens (ephemeral
 *   reads) are named explicitly. Reads that return data rather than configuration, and that no
 *   plan of this platform makes, are denied.
 * - deploy: administrator access. It creates IAM roles and policies for every layer, which is
 *   administrator-equivalent whatever its policy says; the controls are its trust (one branch, one
 *   GitHub environment with required reviewers) and the reviewed plan.
 */
import { Construct } from 'constructs';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { suppressRule } from '../guardrails/suppressions.js';
import { managedPolicyArn, type PolicyDocument, policyDocument, policyJson, type PolicyStatement } from '../iam/policy.js';
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, GITHUB_OIDC_URL } from './names.js';

export interface TerraformStateLocation {
  /** State bucket name. */
  readonly bucket: string;
  /** Key prefix of this environment's states (`<env>/`); keys are `<prefix><stack>.tfstate`. */
  readonly keyPrefix: string;
  /** ARN of the KMS key that encrypts the bucket (state and lock objects). */
  readonly kmsKeyArn: string;
}

export interface GithubActionsAccessProps {
  /** `owner/repo`, or `owner@<owner id>/repo@<repo id>` for immutable subject claims. */
  readonly repository: string;
  /** GitHub environment the deploy job runs in (its `environment:`). */
  readonly githubEnvironment: string;
  /**
   * Branch whose runs may deploy.
   * @default 'main'
   */
  readonly deployBranch?: string;
  /**
   * ARN of the account's existing GitHub OIDC provider (an account has at most one per URL).
   * @default a provider is created
   */
  readonly existingOidcProviderArn?: string;
  /** Literal name of the plan role (its ARN must be known at synth time). */
  readonly planRoleName: string;
  /** Literal name of the deploy role. */
  readonly deployRoleName: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** The Terraform state the plan role reads. */
  readonly state: TerraformStateLocation;
  /**
   * Secrets Manager ARNs (patterns allowed) a plan must read: ephemeral reads and secret versions
   * refreshed during plan.
   * @default []
   */
  readonly planSecretArns?: readonly string[];
  /**
   * Longest plan session, in seconds (the plan job's timeout).
   * @default 7200
   */
  readonly planSessionSeconds?: number;
  /**
   * Longest deploy session, in seconds (the deploy job's timeout; credentials must outlive applies).
   * @default 10800
   */
  readonly deploySessionSeconds?: number;
}

/**
 * Reads ReadOnlyAccess grants that return data rather than configuration, which no plan of this
 * platform makes. If you add a resource whose refresh needs one (e.g. `aws_ssm_parameter` reads its
 * value), take it out of this list in the same change.
 */
export const PLAN_DENIED_DATA_READS: readonly string[] = [
  // Receiving changes message visibility: a plan could swallow Karpenter's interruption events.
  'sqs:ReceiveMessage',
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:GetParameterHistory',
  'ec2:GetPasswordData',
  // Job and container logs can hold tenant data.
  'logs:GetLogEvents',
  'logs:FilterLogEvents',
  'logs:StartQuery',
  'logs:StartLiveTail',
];

/** The subject claims each role trusts. */
export function githubSubjects(repository: string, githubEnvironment: string): { plan: string; deploy: string } {
  return { plan: `repo:${repository}:pull_request`, deploy: `repo:${repository}:environment:${githubEnvironment}` };
}

function githubTrust(providerArn: string, conditions: Record<string, string>): PolicyDocument {
  return policyDocument({
    Effect: 'Allow',
    Principal: { Federated: providerArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: Object.fromEntries([['aud', GITHUB_OIDC_AUDIENCE], ...Object.entries(conditions)].map(([claim, value]) => [`${GITHUB_OIDC_HOST}:${claim}`, value])),
    },
  });
}

/** What `terraform plan` needs on the S3 backend with `use_lockfile = true` and SSE-KMS. */
export function planStatePolicy(partition: string, state: TerraformStateLocation, secretArns: readonly string[] = []): PolicyDocument {
  const bucket = `arn:${partition}:s3:::${state.bucket}`;
  const statements: PolicyStatement[] = [
    { Sid: 'ListStateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket },
    // Its own state and every upstream state read through terraform_remote_state.
    { Sid: 'ReadStates', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/${state.keyPrefix}*.tfstate` },
    // S3-native locking writes and deletes `<key>.tflock`; the state itself stays read-only.
    { Sid: 'LockFiles', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucket}/${state.keyPrefix}*.tfstate.tflock` },
    // State and lock objects are encrypted with the bucket's key (Terraform's S3 backend docs list these three).
    { Sid: 'StateKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: state.kmsKeyArn },
  ];
  if (secretArns.length > 0) {
    statements.push({ Sid: 'SecretsOpenedByPlans', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [...secretArns] });
  }
  return policyDocument(...statements);
}

/** Explicit denies next to ReadOnlyAccess (an explicit Deny wins over any Allow). */
export function planDenyPolicy(secretArns: readonly string[] = []): PolicyDocument {
  return policyDocument(
      { Sid: 'NoDataReads', Effect: 'Deny', Action: [...PLAN_DENIED_DATA_READS], Resource: '*' },
      // Any secret other than those plans open.
      {
        Sid: 'NoOtherSecrets',
        Effect: 'Deny',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'],
        ...(secretArns.length > 0 ? { NotResource: [...secretArns] } : { Resource: '*' }),
      },
  );
}

export class GithubActionsAccess extends Construct {
  /** The provider created here, when no existing one was given. */
  readonly oidcProvider?: IamOpenidConnectProvider;
  readonly oidcProviderArn: string;
  readonly planRole: IamRole;
  readonly deployRole: IamRole;

  constructor(scope: Construct, id: string, props: GithubActionsAccessProps) {
    super(scope, id);
    const partition = props.partition ?? 'aws';
    if (props.existingOidcProviderArn) {
      this.oidcProviderArn = props.existingOidcProviderArn;
    } else {
      // No thumbprint_list: AWS validates GitHub's certificate against its trusted CAs, and the
      // provider (>= 5.81) treats the list as optional; a list set once cannot be removed cleanly.
      this.oidcProvider = new IamOpenidConnectProvider(this, 'github', { url: GITHUB_OIDC_URL, clientIdList: [GITHUB_OIDC_AUDIENCE] });
      this.oidcProviderArn = this.oidcProvider.arn;
    }
    const subjects = githubSubjects(props.repository, props.githubEnvironment);
    const secrets = props.planSecretArns ?? [];

    this.planRole = new IamRole(this, 'plan-role', {
      name: props.planRoleName,
      description: `Read-only terraform plan of pull requests of ${props.repository}`,
      assumeRolePolicy: policyJson(githubTrust(this.oidcProviderArn, { sub: subjects.plan })),
      maxSessionDuration: props.planSessionSeconds ?? 7200,
    });
    new IamRolePolicyAttachment(this, 'plan-read-only', { role: this.planRole.name, policyArn: managedPolicyArn(partition, 'ReadOnlyAccess') });
    new IamRolePolicy(this, 'plan-state', { role: this.planRole.id, name: 'terraform-plan-state', policy: policyJson(planStatePolicy(partition, props.state, secrets)) });
    new IamRolePolicy(this, 'plan-deny', { role: this.planRole.id, name: 'deny-data-reads', policy: policyJson(planDenyPolicy(secrets)) });

    this.deployRole = new IamRole(this, 'deploy-role', {
      name: props.deployRoleName,
      description: `terraform apply from ${props.repository}, branch ${props.deployBranch ?? 'main'}, GitHub environment ${props.githubEnvironment}`,
      assumeRolePolicy: policyJson(githubTrust(this.oidcProviderArn, { sub: subjects.deploy, ref: `refs/heads/${props.deployBranch ?? 'main'}` })),
      maxSessionDuration: props.deploySessionSeconds ?? 10800,
    });
    const admin = new IamRolePolicyAttachment(this, 'deploy-admin', { role: this.deployRole.name, policyArn: managedPolicyArn(partition, 'AdministratorAccess') });
    suppressRule(
      admin,
      'IAM-009',
      'The deploy role creates IAM roles and policies for every layer (Karpenter, tenants, add-ons), which is administrator-equivalent whatever policy it has; it is guarded by its trust (one branch, one GitHub environment with required reviewers) and by plan review.',
    );
  }
}
