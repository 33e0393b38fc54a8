/**
 * IAM policy documents as typed values. Documents are built in code and serialized with
 * `policyJson`, so tests can assert statements, actions and resources exactly.
 */

export type Condition = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  /** Only with `Deny` (an Allow with NotResource grants every future resource; guardrail IAM-003). */
  readonly NotResource?: string | string[];
  readonly Principal?: '*' | Record<string, string | string[]>;
  readonly Condition?: Condition;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

export function policyJson(document: PolicyDocument): string {
  return JSON.stringify(document);
}

/** Trust policy for an AWS service principal, optionally pinned to the calling account. */
export function serviceTrust(service: string, sourceAccount?: string): PolicyDocument {
  return policyDocument({
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sts:AssumeRole',
    ...(sourceAccount ? { Condition: { StringEquals: { 'aws:SourceAccount': sourceAccount } } } : {}),
  });
}

export interface PodIdentityTrustProps {
  /** ARN of the EKS cluster whose Pod Identity agent may assume the role. */
  readonly clusterArn: string;
  readonly accountId: string;
  readonly namespace: string;
  /** Service account names (exact). */
  readonly serviceAccounts: readonly string[];
}

/**
 * Trust for EKS Pod Identity, scoped to one cluster, one namespace and named service accounts
 * through the session tags the Pod Identity agent sets.
 */
export function podIdentityTrust(props: PodIdentityTrustProps): PolicyDocument {
  const serviceAccounts = [...props.serviceAccounts];
  return policyDocument({
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:SourceAccount': props.accountId,
        'aws:RequestTag/kubernetes-namespace': props.namespace,
        'aws:RequestTag/kubernetes-service-account': serviceAccounts.length === 1 ? serviceAccounts[0]! : serviceAccounts,
      },
      ArnEquals: { 'aws:SourceArn': props.clusterArn },
    },
  });
}

/** The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`). */
export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.includes('-gov-') ? 'aws-us-gov' : 'aws';
}

/** The EC2 service principal of a partition (China regions use their own domain). */
export function ec2ServicePrincipal(partition: string): string {
  return partition === 'aws-cn' ? 'ec2.amazonaws.com.cn' : 'ec2.amazonaws.com';
}

/** The ARN of an AWS managed policy. */
export function managedPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:iam::aws:policy/${name}`;
}
