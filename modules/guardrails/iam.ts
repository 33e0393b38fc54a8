/**
 * IAM rules: least-privilege identity policies, scoped IRSA and Pod Identity trusts, no public
 * trusts or resource policies, no admin-equivalent managed policies, and policies a reviewer can
 * actually read (literal JSON or an aws_iam_policy_document).
 */
import {
  conditionValues,
  identityPolicies,
  type NormalizedStatement,
  parsePolicy,
  RESOURCE_POLICY_ATTRIBUTES,
  resourcePolicies,
  statementLabel,
  wildcardMatch,
} from './policy.js';
import { type Rule, type RuleContext, type RuleProblem, types } from './rule.js';
import { strings, type TfResource } from './terraform.js';

/**
 * Actions that may be granted on `Resource: "*"`, because AWS offers no resource-level
 * permissions for them (the service authorization reference lists no resource type), so `*` is
 * the only value that works. Keep this list short and explicit: an action that accepts an ARN
 * (e.g. `ssm:GetParameter`, `s3:GetObject`, `kms:Decrypt`, `logs:PutLogEvents`) is NOT here, and
 * must be scoped to exact ARNs. Entries may end in `*` to cover an API family.
 */
export const ACTIONS_REQUIRING_WILDCARD_RESOURCE: readonly string[] = [
  // EC2 read APIs (Karpenter discovery, load balancer controller): no resource-level permissions.
  'ec2:Describe*',
  // Auto Scaling and ELB read APIs: no resource-level permissions.
  'autoscaling:Describe*',
  'elasticloadbalancing:Describe*',
  // The AWS Price List API has no resources at all (Karpenter's pricing).
  'pricing:GetProducts',
  'pricing:DescribeServices',
  'pricing:GetAttributeValues',
  // Account-wide IAM listing; Karpenter's upstream policy grants it on `*` (no ARN narrows a list call).
  'iam:ListInstanceProfiles',
  // Caller identity and ECR login tokens are not tied to a resource.
  'sts:GetCallerIdentity',
  'ecr:GetAuthorizationToken',
  // CloudWatch metric writes/reads and X-Ray segments take no resource ARN.
  'cloudwatch:PutMetricData',
  'cloudwatch:GetMetricData',
  'cloudwatch:ListMetrics',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // Account-level listings.
  'eks:ListClusters',
  'eks:DescribeAddonVersions',
  's3:ListAllMyBuckets',
  'kms:ListAliases',
  'kms:ListKeys',
  'tag:GetResources',
  'emr-containers:ListVirtualClusters',
];

/** Managed policies that grant (or can grant themselves) administrator access. */
export const ADMIN_EQUIVALENT_POLICIES: readonly string[] = ['AdministratorAccess', 'PowerUserAccess', 'IAMFullAccess'];

/** Web identity providers that are not an EKS cluster's OIDC issuer (IRSA rules do not apply to them). */
const NON_EKS_IDENTITY_PROVIDERS = /token\.actions\.githubusercontent\.com|cognito-identity\.amazonaws\.com|accounts\.google\.com|graph\.facebook\.com|www\.amazon\.com/;

const IDENTITY_TYPES = ['aws_iam_policy', 'aws_iam_role_policy', 'aws_iam_user_policy', 'aws_iam_group_policy', 'aws_iam_role'];
const resourcePoliciesTypes: ReadonlySet<string> = new Set(Object.keys(RESOURCE_POLICY_ATTRIBUTES));

/** `*` or `service:*`. */
export function isWildcardAction(action: string): boolean {
  return action === '*' || /^[A-Za-z0-9-]+:\*$/.test(action);
}

/** `*`, or an ARN whose whole resource part is `*` (`arn:aws:s3:::*`, `arn:aws:ec2:us-west-2:111122223333:*`). */
export function isWildcardResource(resource: string): boolean {
  if (resource === '*') return true;
  const parts = resource.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts.slice(5).join(':') === '*';
}

/** Whether an action (which may itself contain wildcards) is covered by the allow-list. */
export function requiresWildcardResource(action: string): boolean {
  return ACTIONS_REQUIRING_WILDCARD_RESOURCE.some((allowed) => wildcardMatch(allowed, action));
}

type StatementCheck = (statement: NormalizedStatement, label: string) => string[];

/** Runs a check over every parsed identity-policy statement of a resource (unparseable ones are IAM-008's). */
function eachIdentityStatement(resource: TfResource, context: RuleContext, check: StatementCheck): string[] {
  const problems: string[] = [];
  for (const { attribute, value } of identityPolicies(resource)) {
    const parsed = parsePolicy(resource, attribute, value, context.index);
    if (!parsed.ok) continue;
    parsed.statements.forEach((statement, i) => {
      for (const problem of check(statement, statementLabel(statement, i))) problems.push(`policy ${attribute} ${problem}`);
    });
  }
  return problems;
}

function eachTrustStatement(resource: TfResource, context: RuleContext, check: StatementCheck): string[] {
  const value = resource.body.assume_role_policy;
  if (value === undefined) return [];
  const parsed = parsePolicy(resource, 'assume_role_policy', value, context.index);
  if (!parsed.ok) return [];
  const problems: string[] = [];
  parsed.statements.forEach((statement, i) => {
    if (statement.effect !== 'Allow') return;
    problems.push(...check(statement, statementLabel(statement, i)).map((p) => `trust policy ${p}`));
  });
  return problems;
}

const quoteList = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(', ');

export const iamWildcardActions: Rule = {
  id: 'IAM-001',
  title: 'IAM policies do not allow `*` or `service:*` actions',
  description: 'A wildcard action grants every current and future API of a service (or of AWS), including destructive and privilege-escalating ones.',
  fix: 'List the exact actions the workload calls (e.g. s3:GetObject, s3:PutObject) instead of `*` or `service:*`.',
  appliesTo: types(...IDENTITY_TYPES),
  check: (resource, context) =>
    eachIdentityStatement(resource, context, (statement, label) => {
      if (statement.effect !== 'Allow') return [];
      const wild = statement.actions.filter(isWildcardAction);
      return wild.length > 0 ? [`${label} allows wildcard action(s) ${quoteList(wild)}`] : [];
    }),
};

export const iamWildcardResources: Rule = {
  id: 'IAM-002',
  title: 'IAM policies do not allow actions on `*` resources unless the action requires it',
  description:
    'Resource "*" lets a principal act on every bucket, key, queue or role in the account. Only actions without resource-level permissions (the explicit allow-list ACTIONS_REQUIRING_WILDCARD_RESOURCE) may use it.',
  fix: 'Scope Resource to the exact ARNs (build them at synth time or reference the resource), or move actions that truly take no resource into their own statement with a comment.',
  appliesTo: types(...IDENTITY_TYPES),
  check: (resource, context) =>
    eachIdentityStatement(resource, context, (statement, label) => {
      if (statement.effect !== 'Allow') return [];
      const wildcards = statement.resources.filter(isWildcardResource);
      if (wildcards.length === 0) return [];
      const scopable = statement.actions.filter((action) => !requiresWildcardResource(action));
      return scopable.length > 0
        ? [`${label} allows ${quoteList(scopable)} on resource ${quoteList(wildcards)}, but these actions support resource-level permissions`]
        : [];
    }),
};

export const iamNotActionNotResource: Rule = {
  id: 'IAM-003',
  title: 'IAM policies do not Allow with NotAction or NotResource',
  description: 'Allow + NotAction/NotResource grants everything except a list, so every new AWS action or resource is granted by default.',
  fix: 'Rewrite the statement as an Allow of the exact Action and Resource lists.',
  appliesTo: types(...IDENTITY_TYPES),
  check: (resource, context) =>
    eachIdentityStatement(resource, context, (statement, label) => {
      if (statement.effect !== 'Allow') return [];
      const used = [statement.notActions.length > 0 ? 'NotAction' : '', statement.notResources.length > 0 ? 'NotResource' : ''].filter(Boolean);
      return used.length > 0 ? [`${label} is an Allow with ${used.join(' and ')}`] : [];
    }),
};

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):(.+)$/;
const grantsAction = (statement: NormalizedStatement, action: string) => statement.actions.some((a) => wildcardMatch(a, action));

export const iamIrsaTrustScoped: Rule = {
  id: 'IAM-004',
  title: 'IRSA trusts are scoped to one namespace and a service account pattern, and to the STS audience',
  description:
    'A web-identity trust on the cluster OIDC provider without a `:sub` condition lets every service account in every namespace assume the role; without `:aud` tokens minted for other audiences are accepted.',
  fix: 'Add StringEquals/StringLike "<issuer>:sub": "system:serviceaccount:<namespace>:<service-account or pattern>" (one literal namespace) and StringEquals "<issuer>:aud": "sts.amazonaws.com" (see emrIrsaTrust in modules/emr-on-eks/identity.ts).',
  appliesTo: types('aws_iam_role'),
  check: (resource, context) =>
    eachTrustStatement(resource, context, (statement, label) => {
      if (!grantsAction(statement, 'sts:AssumeRoleWithWebIdentity')) return [];
      const federated = statement.principal && statement.principal !== '*' ? (statement.principal.Federated ?? []) : [];
      if (federated.some((id) => NON_EKS_IDENTITY_PROVIDERS.test(id))) return [];
      const subs = conditionValues(statement, (key) => key.endsWith(':sub'));
      if (subs.some((s) => NON_EKS_IDENTITY_PROVIDERS.test(s.key))) return [];
      const problems: string[] = [];
      const scoped = subs.filter((s) => s.operator === 'StringEquals' || s.operator === 'StringLike');
      if (scoped.length === 0) {
        problems.push(`${label} allows sts:AssumeRoleWithWebIdentity without a StringEquals/StringLike "<issuer>:sub" condition (any service account of the cluster could assume the role)`);
      } else {
        const namespaces = new Set<string>();
        for (const { values } of scoped) {
          for (const value of values) {
            const match = SERVICE_ACCOUNT_SUBJECT.exec(value);
            if (!match) {
              problems.push(`${label} has :sub value ${JSON.stringify(value)}, not "system:serviceaccount:<namespace>:<service-account>"`);
            } else if (/[*?]/.test(match[1]!)) {
              problems.push(`${label} has :sub value ${JSON.stringify(value)} whose namespace is a wildcard`);
            } else if (match[2] === '*' || match[2] === '') {
              problems.push(`${label} has :sub value ${JSON.stringify(value)} that admits every service account of the namespace`);
            } else {
              namespaces.add(match[1]!);
            }
          }
        }
        if (namespaces.size > 1) problems.push(`${label} trusts service accounts in ${namespaces.size} namespaces (${[...namespaces].sort().join(', ')}); one role per namespace`);
      }
      const aud = conditionValues(statement, (key) => key.endsWith(':aud'), ['StringEquals']);
      if (aud.length === 0 || !aud.every((a) => a.values.length === 1 && a.values[0] === 'sts.amazonaws.com')) {
        problems.push(`${label} has no StringEquals "<issuer>:aud": "sts.amazonaws.com" condition`);
      }
      return problems;
    }),
};

const ARN_OR_STRING_OPERATORS = ['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike'];

export const iamPodIdentityTrustScoped: Rule = {
  id: 'IAM-005',
  title: 'Pod Identity trusts are pinned to the cluster/account or to one namespace and service account',
  description:
    'A trust on pods.eks.amazonaws.com without conditions lets any EKS cluster (in any account, through a Pod Identity association) hand the role to its pods.',
  fix: 'Use podIdentityTrust() from modules/iam/policy.ts: aws:SourceArn = the cluster ARN and aws:SourceAccount, plus aws:RequestTag/kubernetes-namespace (one namespace) and aws:RequestTag/kubernetes-service-account.',
  appliesTo: types('aws_iam_role'),
  check: (resource, context) =>
    eachTrustStatement(resource, context, (statement, label) => {
      const services = statement.principal && statement.principal !== '*' ? (statement.principal.Service ?? []) : [];
      if (!services.includes('pods.eks.amazonaws.com')) return [];
      const pinnedBy = conditionValues(statement, (key) => key === 'aws:SourceArn' || key === 'aws:SourceAccount', ARN_OR_STRING_OPERATORS).filter(
        (c) => c.values.length > 0 && !c.values.includes('*'),
      );
      const namespaceTags = conditionValues(statement, (key) => key === 'aws:RequestTag/kubernetes-namespace');
      const serviceAccountTags = conditionValues(statement, (key) => key === 'aws:RequestTag/kubernetes-service-account');
      const problems: string[] = [];
      if (pinnedBy.length === 0 && (namespaceTags.length === 0 || serviceAccountTags.length === 0)) {
        problems.push(`${label} trusts pods.eks.amazonaws.com without aws:SourceArn/aws:SourceAccount or namespace and service account request-tag conditions`);
      }
      for (const { values } of namespaceTags) {
        if (values.length !== 1 || /[*?]/.test(values[0]!)) {
          problems.push(`${label} admits namespaces ${quoteList(values)}; pin exactly one namespace`);
        }
      }
      return problems;
    }),
};

const principalIsPublic = (principal: NormalizedStatement['principal']) =>
  principal === '*' || (principal !== undefined && (principal.AWS ?? []).includes('*'));

export const iamNoPublicTrust: Rule = {
  id: 'IAM-006',
  title: 'Role trust policies do not trust `Principal: "*"` or `AWS: "*"`',
  description: 'A role that trusts every AWS principal can be assumed from any account in the world.',
  fix: 'Trust the exact service principal, account root or role ARN that needs the role.',
  appliesTo: types('aws_iam_role'),
  check: (resource, context) =>
    eachTrustStatement(resource, context, (statement, label) => (principalIsPublic(statement.principal) ? [`${label} trusts every AWS principal ("*")`] : [])),
};

export const iamNoPublicResourcePolicy: Rule = {
  id: 'IAM-007',
  title: 'Resource policies do not Allow `Principal: "*"` without a condition',
  description: 'An unconditional Allow to "*" in a bucket, queue, topic or key policy makes the resource public.',
  fix: 'Name the principals (accounts, roles, service principals) or add conditions (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID) that pin who may call.',
  appliesTo: (type) => resourcePoliciesTypes.has(type),
  check: (resource, context) => {
    const problems: string[] = [];
    for (const { attribute, value } of resourcePolicies(resource)) {
      const parsed = parsePolicy(resource, attribute, value, context.index);
      if (!parsed.ok) continue;
      parsed.statements.forEach((statement, i) => {
        if (statement.effect === 'Allow' && principalIsPublic(statement.principal) && Object.keys(statement.conditions).length === 0) {
          problems.push(`${attribute} ${statementLabel(statement, i)} allows ${quoteList(statement.actions)} to every principal ("*") without a condition`);
        }
      });
    }
    return problems;
  },
};

export const iamReviewablePolicy: Rule = {
  id: 'IAM-008',
  title: 'Policy documents are literal JSON (or an aws_iam_policy_document) that can be reviewed at synth',
  description: 'A policy assembled by Terraform functions at apply time (jsonencode, templatefile, remote values) cannot be checked by these guardrails or read in a plan review.',
  fix: 'Build the document in code with policyDocument()/policyJson() from modules/iam/policy.ts; token references inside the JSON strings are fine.',
  appliesTo: (type) => IDENTITY_TYPES.includes(type) || resourcePoliciesTypes.has(type),
  check: (resource, context) => {
    const documents = [...identityPolicies(resource), ...resourcePolicies(resource)];
    if (resource.type === 'aws_iam_role' && resource.body.assume_role_policy !== undefined) documents.push({ attribute: 'assume_role_policy', value: resource.body.assume_role_policy });
    const problems: string[] = [];
    for (const { attribute, value } of documents) {
      const parsed = parsePolicy(resource, attribute, value, context.index);
      if (!parsed.ok) problems.push(`${attribute} ${parsed.reason}`);
    }
    return problems;
  },
};

export const iamNoAdminPolicies: Rule = {
  id: 'IAM-009',
  title: 'No administrator-equivalent managed policies are attached',
  description: 'AdministratorAccess, PowerUserAccess and IAMFullAccess let a principal do (or grant itself) anything.',
  fix: 'Attach a policy with the exact actions the principal needs.',
  appliesTo: types('aws_iam_role_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_role', 'aws_iam_role_policy_attachments_exclusive'),
  check: (resource) => {
    const arns = [...strings(resource.body.policy_arn), ...strings(resource.body.managed_policy_arns), ...strings(resource.body.policy_arns)];
    const admin = arns.filter((arn) => ADMIN_EQUIVALENT_POLICIES.some((name) => arn.endsWith(`:policy/${name}`)));
    return admin.map((arn): RuleProblem => ({ message: `attaches administrator-equivalent managed policy ${arn}` }));
  },
};

const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/** `repo:<owner>/<repo>:<context>` (owner and repo possibly with immutable `@<id>`), no wildcard. */
const GITHUB_SUBJECT = /^repo:[A-Za-z0-9-]+(@\d+)?\/[A-Za-z0-9._-]+(@\d+)?:(pull_request|environment:[^*?]+|ref:refs\/(heads|tags)\/[^*?]+)$/;

export const iamGithubTrustScoped: Rule = {
  id: 'IAM-010',
  title: 'GitHub Actions trusts pin one repository and one context in `:sub`, and the STS audience',
  description:
    "A role trusting GitHub's OIDC provider without an exact `token.actions.githubusercontent.com:sub` can be assumed by workflows of any repository on GitHub; a wildcard admits every branch, environment or pull request of the repository.",
  fix: 'StringEquals "token.actions.githubusercontent.com:sub": "repo:<owner>/<repo>:pull_request" (or ":environment:<env>", ":ref:refs/heads/<branch>") and "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" (see modules/account/github-actions-access.ts).',
  appliesTo: types('aws_iam_role'),
  check: (resource, context) =>
    eachTrustStatement(resource, context, (statement, label) => {
      if (!grantsAction(statement, 'sts:AssumeRoleWithWebIdentity')) return [];
      const federated = statement.principal && statement.principal !== '*' ? (statement.principal.Federated ?? []) : [];
      const trustsGithub =
        federated.some((id) => id.includes(GITHUB_OIDC_HOST) || String(context.index.referenced(id, 'aws_iam_openid_connect_provider')?.body.url ?? '').includes(GITHUB_OIDC_HOST)) ||
        conditionValues(statement, (key) => key.startsWith(`${GITHUB_OIDC_HOST}:`)).length > 0;
      if (!trustsGithub) return [];
      const problems: string[] = [];
      const subs = conditionValues(statement, (key) => key === `${GITHUB_OIDC_HOST}:sub`);
      if (!subs.some((s) => s.operator === 'StringEquals')) {
        problems.push(`${label} trusts GitHub Actions without a StringEquals "${GITHUB_OIDC_HOST}:sub" condition (workflows of any repository could assume the role)`);
      }
      for (const { operator, values } of subs) {
        for (const value of values) {
          if (operator !== 'StringEquals' || !GITHUB_SUBJECT.test(value)) {
            problems.push(`${label} has ${operator} :sub value ${JSON.stringify(value)}, not one exact "repo:<owner>/<repo>:<pull_request | environment:<env> | ref:refs/heads/<branch>>"`);
          }
        }
      }
      const aud = conditionValues(statement, (key) => key === `${GITHUB_OIDC_HOST}:aud`, ['StringEquals']);
      if (aud.length === 0 || !aud.every((a) => a.values.length === 1 && a.values[0] === 'sts.amazonaws.com')) {
        problems.push(`${label} has no StringEquals "${GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com" condition`);
      }
      return problems;
    }),
};

export const IAM_RULES: readonly Rule[] = [
  iamWildcardActions,
  iamWildcardResources,
  iamNotActionNotResource,
  iamIrsaTrustScoped,
  iamPodIdentityTrustScoped,
  iamNoPublicTrust,
  iamNoPublicResourcePolicy,
  iamReviewablePolicy,
  iamNoAdminPolicies,
  iamGithubTrustScoped,
];
