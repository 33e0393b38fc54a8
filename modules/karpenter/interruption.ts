/**
 * Interruption handling for Karpenter: an SQS queue the controller long-polls, fed by EventBridge
 * rules for every event that announces the loss of a node (Spot interruption warnings, rebalance
 * recommendations, scheduled health events, instance state changes, capacity reservation
 * interruptions). Karpenter then cordons and drains the node and launches a replacement ahead of
 * the interruption instead of losing pods abruptly.
 */
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy/index.js';
import { policyDocument, policyJson } from '../iam/policy.js';
import { checkedName } from './names.js';

export interface InterruptionEvent {
  /** Suffix of the rule name and construct id. */
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly description: string;
}

/** The five event types Karpenter handles (aws/karpenter-provider-aws v1 CloudFormation reference template, website/content/en/docs/reference/cloudformation.md). */
export const INTERRUPTION_EVENTS: readonly InterruptionEvent[] = [
  { id: 'health', source: 'aws.health', detailType: 'AWS Health Event', description: 'Scheduled changes (maintenance, retirement) of instances' },
  { id: 'spot-interruption', source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning', description: 'Two-minute Spot interruption warnings' },
  { id: 'rebalance', source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation', description: 'Spot rebalance recommendations (elevated interruption risk)' },
  { id: 'state-change', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification', description: 'Instances stopping or terminating outside Karpenter' },
  {
    id: 'capacity-reservation',
    source: 'aws.ec2',
    detailType: 'EC2 Capacity Reservation Instance Interruption Warning',
    description: 'Interruptions of instances in interruptible capacity reservations',
  },
];

/** The EventBridge pattern of one event type. */
export function eventPattern(event: InterruptionEvent): { source: string[]; 'detail-type': string[] } {
  return { source: [event.source], 'detail-type': [event.detailType] };
}

export interface InterruptionQueueProps {
  /** Queue name (Karpenter's `settings.interruptionQueue`). */
  readonly queueName: string;
  /** Prefix of the EventBridge rule names. */
  readonly ruleNamePrefix: string;
  /**
   * How long an undelivered event is kept: interruption warnings are useless after minutes.
   * @default 300
   */
  readonly messageRetentionSeconds?: number;
}

export class InterruptionQueue extends Construct {
  readonly queue: SqsQueue;
  readonly rules: Record<string, CloudwatchEventRule> = {};

  constructor(scope: Construct, id: string, props: InterruptionQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: checkedName('sqsQueue', props.queueName),
      messageRetentionSeconds: props.messageRetentionSeconds ?? 300,
      sqsManagedSseEnabled: true,
    });

    for (const event of INTERRUPTION_EVENTS) {
      const rule = new CloudwatchEventRule(this, `rule-${event.id}`, {
        name: checkedName('eventRule', `${props.ruleNamePrefix}-${event.id}`),
        description: `Karpenter interruption handling: ${event.description}`,
        eventPattern: JSON.stringify(eventPattern(event)),
      });
      new CloudwatchEventTarget(this, `target-${event.id}`, {
        rule: rule.name,
        targetId: 'KarpenterInterruptionQueueTarget',
        arn: this.queue.arn,
      });
      this.rules[event.id] = rule;
    }

    new SqsQueuePolicy(this, 'queue-policy', {
      queueUrl: this.queue.url,
      policy: policyJson(
        policyDocument(
          {
            Sid: 'AllowEventBridgeRules',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: this.queue.arn,
            // Only these rules may deliver: no other rule in any account can feed Karpenter events.
            Condition: { ArnEquals: { 'aws:SourceArn': INTERRUPTION_EVENTS.map((e) => this.rules[e.id]!.arn) } },
          },
          { Sid: 'AllowSqsService', Effect: 'Allow', Principal: { Service: 'sqs.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: this.queue.arn },
          {
            Sid: 'DenyNonTlsRequests',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sqs:*',
            Resource: this.queue.arn,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ),
      ),
    });
  }
}
