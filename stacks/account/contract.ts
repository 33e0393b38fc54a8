import { defineContract } from '../lib/contracts.js';

/**
 * What the `account` stack publishes: the CI roles (read by `cluster` for their EKS access
 * entries, and by `npm run ci-setup` for the GitHub repository variables). Values are empty
 * strings when the environment has no `ci` section or does not create the Spot role.
 */
export const ACCOUNT = defineContract({
  stack: 'account',
  outputs: {
    githubOidcProviderArn: 'string',
    githubRepository: 'string',
    deployBranch: 'string',
    githubEnvironment: 'string',
    planRoleArn: 'string',
    planRoleUniqueId: 'string',
    deployRoleArn: 'string',
    deployRoleUniqueId: 'string',
    spotServiceLinkedRoleArn: 'string',
  },
  descriptions: {
    githubOidcProviderArn: 'IAM OIDC provider of GitHub Actions (created here or the existing one)',
    githubRepository: 'Repository the CI roles trust (owner/repo, or owner@id/repo@id)',
    deployBranch: 'Branch whose runs may assume the deploy role',
    githubEnvironment: 'GitHub environment the deploy job runs in',
    planRoleArn: 'Role of pull-request plans (read-only); repository variable AWS_PLAN_ROLE_ARN_<ENV>',
    planRoleUniqueId: 'Unique id of the plan role (its EKS access entry is replaced when the role is re-created)',
    deployRoleArn: 'Role of the deploy workflow; GitHub environment variable AWS_DEPLOY_ROLE_ARN',
    deployRoleUniqueId: 'Unique id of the deploy role',
    spotServiceLinkedRoleArn: 'EC2 Spot service-linked role created here (empty when createSpotServiceLinkedRole is false)',
  },
});
