import type { Construct } from 'constructs';
import { DataAwsKmsAlias } from '@cdktf/provider-aws/lib/data-aws-kms-alias/index.js';
import { GithubActionsAccess } from '../../modules/account/github-actions-access.js';
import { ciRoleNames, repositoryPath } from '../../modules/account/names.js';
import { SpotServiceLinkedRole } from '../../modules/account/spot-service-linked-role.js';
import { bucketKeyAliasName } from '../../modules/storage/secure-bucket.js';
import { publishOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack, stateKeyPrefix } from '../lib/platform-stack.js';
import { ACCOUNT } from './contract.js';

/**
 * Layer 0b, right after `bootstrap`: what the account needs before the platform and its CI can
 * run. The EC2 Spot service-linked role (`createSpotServiceLinkedRole`), and with a `ci` section
 * the GitHub OIDC provider, the plan and deploy roles. Their EKS access entries live in `cluster`
 * (the cluster does not exist yet), which reads the roles from this stack's outputs. AWS only.
 */
export class AccountStack extends PlatformStack {
  readonly spotServiceLinkedRole?: SpotServiceLinkedRole;
  readonly githubActions?: GithubActionsAccess;

  constructor(scope: Construct, environment: Environment) {
    super(scope, ACCOUNT.stack, { environment });
    if (environment.createSpotServiceLinkedRole) this.spotServiceLinkedRole = new SpotServiceLinkedRole(this, 'spot-service-linked-role');

    const { ci } = environment;
    if (ci) {
      // The key bootstrap created for the state bucket, found by its alias (bootstrap keeps local state).
      const stateKmsKey = new DataAwsKmsAlias(this, 'state-key', { name: bucketKeyAliasName(environment.stateBucket) });
      const names = ciRoleNames(environment.clusterName);
      this.githubActions = new GithubActionsAccess(this, 'github-actions', {
        repository: ci.githubRepository,
        githubEnvironment: environment.name,
        deployBranch: ci.deployBranch,
        ...(ci.oidcProviderArn ? { existingOidcProviderArn: ci.oidcProviderArn } : {}),
        planRoleName: names.plan,
        deployRoleName: names.deploy,
        partition: this.partition,
        state: { bucket: environment.stateBucket, keyPrefix: stateKeyPrefix(environment), kmsKeyArn: stateKmsKey.targetKeyArn },
        // observability-infra refreshes the Grafana secret's version and observability opens it as
        // an ephemeral value during plan: both read `<cluster>/grafana-admin`. Platform secrets are
        // all named `<cluster>/...`.
        planSecretArns: [`arn:${this.partition}:secretsmanager:${environment.region}:${environment.accountId}:secret:${environment.clusterName}/*`],
      });
    }

    const github = this.githubActions;
    publishOutputs(this, ACCOUNT, {
      githubOidcProviderArn: github?.oidcProviderArn ?? '',
      githubRepository: ci ? repositoryPath(ci.githubRepository) : '',
      deployBranch: ci?.deployBranch ?? '',
      githubEnvironment: ci ? environment.name : '',
      planRoleArn: github?.planRole.arn ?? '',
      planRoleUniqueId: github?.planRole.uniqueId ?? '',
      deployRoleArn: github?.deployRole.arn ?? '',
      deployRoleUniqueId: github?.deployRole.uniqueId ?? '',
      spotServiceLinkedRoleArn: this.spotServiceLinkedRole?.role.arn ?? '',
    });
  }
}
