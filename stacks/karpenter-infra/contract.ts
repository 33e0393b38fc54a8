import { defineContract } from '../lib/contracts.js';

/** What the `karpenter-infra` stack publishes for the Karpenter install and the capacity stack. */
export const KARPENTER_INFRA = defineContract({
  stack: 'karpenter-infra',
  outputs: {
    controllerRoleArn: 'string',
    nodeRoleName: 'string',
    nodeRoleArn: 'string',
    interruptionQueueName: 'string',
    interruptionQueueArn: 'string',
  },
  descriptions: {
    controllerRoleArn: 'IAM role of the Karpenter controller (EKS Pod Identity)',
    nodeRoleName: 'IAM role of Karpenter nodes (EC2NodeClass spec.role)',
    nodeRoleArn: 'IAM role ARN of Karpenter nodes (EC2_LINUX access entry)',
    interruptionQueueName: 'SQS interruption queue name (Karpenter settings.interruptionQueue)',
    interruptionQueueArn: 'SQS interruption queue ARN',
  },
});
