/**
 * The AWS side of container log shipping: the platform container log group (tenant groups belong
 * to the tenant stacks), and the IAM role Fluent Bit assumes through EKS Pod Identity, allowed to
 * write log streams into exactly those groups and nothing else. Fluent Bit never creates groups
 * (no `logs:CreateLogGroup`, no `logs:PutRetentionPolicy`): retention is Terraform's.
 */
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import type { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { PodIdentityRole } from '../iam/pod-identity-role.js';
import { type PolicyDocument, policyDocument } from '../iam/policy.js';
import { LOGGING_NAMESPACE, SERVICE_ACCOUNTS } from './constants.js';
import { platformContainerLogGroupName, tenantLogGroupName } from './log-groups.js';

export interface LogGroupArnScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** `arn:<partition>:logs:<region>:<account>:log-group:<name>` (the name may end in a `*` pattern). */
export function logGroupArn(scope: LogGroupArnScope, name: string): string {
  return `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
}

/** The log groups Fluent Bit may write to: the platform group and every tenant group of the environment. */
export function fluentBitLogGroupNames(environmentName: string): string[] {
  return [platformContainerLogGroupName(environmentName), tenantLogGroupName(environmentName, '*')];
}

/**
 * Fluent Bit's permissions: create streams in, describe streams of, and put events into the
 * platform group and the tenant groups (`<prefix>/tenants/*`), in this account and region only.
 */
export function fluentBitLogsPolicy(scope: LogGroupArnScope & { readonly environmentName: string }): PolicyDocument {
  const groups = fluentBitLogGroupNames(scope.environmentName).map((name) => logGroupArn(scope, name));
  return policyDocument(
    {
      Sid: 'LogStreams',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams'],
      Resource: groups.flatMap((group) => [group, `${group}:log-stream:*`]),
    },
    {
      Sid: 'LogEvents',
      Effect: 'Allow',
      Action: ['logs:PutLogEvents'],
      Resource: groups.map((group) => `${group}:log-stream:*`),
    },
  );
}

export interface LogShippingProps {
  /** Environment name: the log group names are derived from it (log-groups.ts). */
  readonly environmentName: string;
  /** EKS cluster name (literal: it names the IAM role). */
  readonly clusterName: string;
  /**
   * Cluster name as a reference to the cluster stack's output, so the association follows the cluster.
   * @default clusterName
   */
  readonly clusterNameRef?: string;
  /** Cluster ARN: the Pod Identity trust accepts sessions of this cluster only. */
  readonly clusterArn: string;
  readonly accountId: string;
  readonly region: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Retention of the platform container log group, in days. */
  readonly retentionDays: number;
  /**
   * Namespace of the Fluent Bit DaemonSet.
   * @default LOGGING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Service account of the DaemonSet.
   * @default SERVICE_ACCOUNTS.fluentBit
   */
  readonly serviceAccount?: string;
}

export class LogShipping extends Construct {
  readonly platformLogGroup: CloudwatchLogGroup;
  readonly role: IamRole;
  readonly podIdentityAssociation: EksPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: LogShippingProps) {
    super(scope, id);
    const partition = props.partition ?? 'aws';
    const namespace = props.namespace ?? LOGGING_NAMESPACE;
    const serviceAccount = props.serviceAccount ?? SERVICE_ACCOUNTS.fluentBit;

    this.platformLogGroup = new CloudwatchLogGroup(this, 'platform-container-logs', {
      name: platformContainerLogGroupName(props.environmentName),
      retentionInDays: props.retentionDays,
    });

    const identity = new PodIdentityRole(this, 'fluent-bit', {
      roleName: `${props.clusterName}-fluent-bit`,
      description: `Fluent Bit (${namespace}/${serviceAccount}) ships container logs to the platform and tenant log groups`,
      clusterName: props.clusterNameRef ?? props.clusterName,
      clusterArn: props.clusterArn,
      accountId: props.accountId,
      namespace,
      serviceAccount,
      inlinePolicies: { 'container-logs': fluentBitLogsPolicy({ partition, region: props.region, accountId: props.accountId, environmentName: props.environmentName }) },
    });
    this.role = identity.role;
    this.podIdentityAssociation = identity.association;
  }
}
