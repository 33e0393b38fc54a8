/**
 * Names of the account-level CI resources, shared by the `account` stack and the environment
 * validation (which must know the CI roles' ARNs before anything is deployed).
 */

/** The GitHub Actions OIDC issuer, as IAM names the provider (`oidc-provider/<host>`). */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`;
/** The audience aws-actions/configure-aws-credentials requests. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

export interface CiRoleNames {
  /** Role pull-request plans assume (read-only). */
  readonly plan: string;
  /** Role the deploy workflow assumes. */
  readonly deploy: string;
}

/** Literal role names, so the ARNs are known at synth time (`<cluster>-github-plan`, `-github-deploy`). */
export function ciRoleNames(clusterName: string): CiRoleNames {
  return { plan: `${clusterName}-github-plan`, deploy: `${clusterName}-github-deploy` };
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** `owner/repo` of a repository setting that may carry immutable ids (`owner@1/repo@2`). */
export function repositoryPath(githubRepository: string): string {
  return githubRepository.replace(/@\d+/g, '');
}
