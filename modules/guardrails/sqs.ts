/** SQS rules: queues are encrypted at rest. */
import { type Rule, types } from './rule.js';
import { isTrue } from './terraform.js';

export const sqsEncryption: Rule = {
  id: 'SQS-001',
  title: 'SQS queues are encrypted at rest',
  description: 'Messages (e.g. Karpenter interruption events) sit in the queue until read; SSE keeps them encrypted at rest.',
  fix: 'Set sqs_managed_sse_enabled = true, or kms_master_key_id to a KMS key, on the aws_sqs_queue.',
  appliesTo: types('aws_sqs_queue'),
  check: (resource) => {
    const kms = resource.body.kms_master_key_id;
    if (typeof kms === 'string' && kms !== '') return [];
    return isTrue(resource.body.sqs_managed_sse_enabled) ? [] : ['queue sets neither sqs_managed_sse_enabled = true nor kms_master_key_id'];
  },
};

export const SQS_RULES: readonly Rule[] = [sqsEncryption];
