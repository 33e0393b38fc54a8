/** CloudWatch Logs rules: every log group has a retention period. */
import { type Rule, types } from './rule.js';

export const logGroupRetention: Rule = {
  id: 'LOG-001',
  title: 'CloudWatch log groups set a retention period',
  description: 'Without retention_in_days a log group keeps (and bills) every event forever, including sensitive job output.',
  fix: 'Set retention_in_days on the aws_cloudwatch_log_group (the environment\'s logRetentionDays).',
  appliesTo: types('aws_cloudwatch_log_group'),
  check: (resource) => {
    const days = resource.body.retention_in_days;
    if (days === undefined || days === null) return ['log group has no retention_in_days (events are kept forever)'];
    if (days === 0 || days === '0') return ['log group has retention_in_days = 0 (events are kept forever)'];
    return [];
  },
};

export const LOG_RULES: readonly Rule[] = [logGroupRetention];
