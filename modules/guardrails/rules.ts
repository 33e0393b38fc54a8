/** The platform's guardrail rule pack: every rule family, in report order. */
import { EKS_RULES } from './eks.js';
import { IAM_RULES } from './iam.js';
import { KMS_RULES } from './kms.js';
import { KUBERNETES_RULES } from './kubernetes.js';
import { LOG_RULES } from './logs.js';
import { NETWORK_RULES } from './network.js';
import type { Rule } from './rule.js';
import { S3_RULES } from './s3.js';
import { SECRET_RULES } from './secrets.js';
import { SQS_RULES } from './sqs.js';
import { TAG_RULES } from './tags.js';

export const ALL_RULES: readonly Rule[] = [
  ...S3_RULES,
  ...KMS_RULES,
  ...IAM_RULES,
  ...EKS_RULES,
  ...KUBERNETES_RULES,
  ...LOG_RULES,
  ...SECRET_RULES,
  ...TAG_RULES,
  ...NETWORK_RULES,
  ...SQS_RULES,
];
