/**
 * Job-run notifications of one EMR on EKS virtual cluster: an EventBridge rule on EMR on EKS's
 * "EMR Job Run State Change" events of that virtual cluster (only the chosen states), delivering
 * to an SNS topic encrypted with its own KMS key (email and SQS subscribers), and optionally to
 * further SNS topics. Only this rule may publish to the topic.
 *
 * EMR on EKS sends the events to the account's default event bus by itself (source
 * `aws.emr-containers`, detail-type `EMR Job Run State Change`, `detail.virtualClusterId`,
 * `detail.state`, `detail.id`, `detail.name`: EMR on EKS Development Guide, "Monitor jobs with
 * Amazon CloudWatch Events", and the EventBridge events reference for Amazon EMR Containers).
 */
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { type PolicyDocument, policyDocument, policyJson } from '../iam/policy.js';
import type { AccountScope } from './policies.js';

export const EMR_CONTAINERS_EVENT_SOURCE = 'aws.emr-containers';
export const JOB_RUN_STATE_CHANGE = 'EMR Job Run State Change';

/** Terminal job-run states worth a notification. */
export type NotifiedJobRunState = 'FAILED' | 'CANCELLED' | 'COMPLETED';

/** The EventBridge pattern: job-run state changes of one virtual cluster, in the given states. */
export function jobRunEventPattern(virtualClusterId: string, states: readonly NotifiedJobRunState[]): Record<string, unknown> {
  return {
    source: [EMR_CONTAINERS_EVENT_SOURCE],
    'detail-type': [JOB_RUN_STATE_CHANGE],
    detail: { virtualClusterId: [virtualClusterId], state: [...states] },
  };
}

/** `arn:<partition>:events:<region>:<account>:rule/<name>` of a rule on the default bus. */
export function eventRuleArn(scope: AccountScope, ruleName: string): string {
  return `arn:${scope.partition}:events:${scope.region}:${scope.accountId}:rule/${ruleName}`;
}

/** Topic policy: only the rule (by its ARN, on this account's bus) may publish, over TLS. */
export function topicPolicy(topicArn: string, ruleArn: string): PolicyDocument {
  return policyDocument(
    {
      Sid: 'PublishFromTheJobRunRuleOnly',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    },
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  );
}

/**
 * Key policy of the topic's key: the account administers it through IAM; EventBridge may use it to
 * publish to the encrypted topic, for this rule only (the AWS managed `alias/aws/sns` key cannot be
 * used by EventBridge, so the topic needs a customer managed key).
 */
export function topicKeyPolicy(scope: AccountScope, ruleArn: string): PolicyDocument {
  return policyDocument(
    {
      Sid: 'AccountAdministersTheKeyThroughIam',
      Effect: 'Allow',
      Principal: { AWS: `arn:${scope.partition}:iam::${scope.accountId}:root` },
      Action: 'kms:*',
      // A key policy's Resource is always the key itself ("*" means "this key").
      Resource: '*',
    },
    {
      Sid: 'EventBridgePublishesToTheEncryptedTopic',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    },
  );
}

export interface JobNotificationsProps extends AccountScope {
  /** Virtual cluster whose job runs notify (its id, as in the events' `detail.virtualClusterId`). */
  readonly virtualClusterId: string;
  /** Name of the SNS topic (and of its key alias). */
  readonly topicName: string;
  /** Name of the EventBridge rule (1-64 characters). */
  readonly ruleName: string;
  /** States that notify. */
  readonly states: readonly NotifiedJobRunState[];
  /** Email subscriptions (each address confirms once). @default [] */
  readonly emails?: readonly string[];
  /** SQS queues subscribed with raw delivery (the EventBridge event as the message). @default [] */
  readonly sqsQueueArns?: readonly string[];
  /** Further SNS topics the rule targets directly. @default [] */
  readonly snsTopicArns?: readonly string[];
  /** Rule description. @default derived from the virtual cluster */
  readonly description?: string;
}

export class JobNotifications extends Construct {
  readonly topic: SnsTopic;
  readonly key: KmsKey;
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: JobNotificationsProps) {
    super(scope, id);
    const ruleArn = eventRuleArn(props, props.ruleName);
    this.key = new KmsKey(this, 'key', {
      description: `Encryption of SNS topic ${props.topicName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyJson(topicKeyPolicy(props, ruleArn)),
    });
    new KmsAlias(this, 'key-alias', { name: `alias/sns/${props.topicName}`, targetKeyId: this.key.keyId });
    this.topic = new SnsTopic(this, 'topic', { name: props.topicName, kmsMasterKeyId: this.key.arn });
    new SnsTopicPolicy(this, 'topic-policy', { arn: this.topic.arn, policy: policyJson(topicPolicy(this.topic.arn, ruleArn)) });

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: props.ruleName,
      description: props.description ?? `EMR on EKS job runs of virtual cluster ${props.virtualClusterId}: ${props.states.join(', ')}`,
      eventPattern: JSON.stringify(jobRunEventPattern(props.virtualClusterId, props.states)),
    });
    new CloudwatchEventTarget(this, 'target-topic', { rule: this.rule.name, arn: this.topic.arn, targetId: 'tenant-topic' });
    (props.snsTopicArns ?? []).forEach((arn, i) => {
      new CloudwatchEventTarget(this, `target-sns-${i}`, { rule: this.rule.name, arn, targetId: `sns-${i}` });
    });
    (props.emails ?? []).forEach((email, i) => {
      new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email });
    });
    (props.sqsQueueArns ?? []).forEach((queue, i) => {
      new SnsTopicSubscription(this, `sqs-${i}`, { topicArn: this.topic.arn, protocol: 'sqs', endpoint: queue, rawMessageDelivery: true });
    });
  }
}
