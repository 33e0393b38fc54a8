import type { Construct } from 'constructs';
import { InterruptionQueue } from '../../modules/karpenter/interruption.js';
import { KarpenterIam } from '../../modules/karpenter/karpenter-iam.js';
import { KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT } from '../../modules/karpenter/names.js';
import { CLUSTER } from '../cluster/contract.js';
import { publishOutputs, readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { KARPENTER_INFRA } from './contract.js';

/**
 * Layer 3a: what Karpenter needs from AWS (controller and node roles, Pod Identity association,
 * node access entry, interruption queue and rules). AWS provider only, so it validates offline.
 */
export class KarpenterInfraStack extends PlatformStack {
  readonly interruption: InterruptionQueue;
  readonly iam: KarpenterIam;

  constructor(scope: Construct, environment: Environment) {
    super(scope, KARPENTER_INFRA.stack, { environment });
    const cluster = readOutputs(this, CLUSTER);
    const name = environment.clusterName;

    this.interruption = new InterruptionQueue(this, 'interruption', {
      queueName: `${name}-karpenter`,
      ruleNamePrefix: `${name}-karpenter`,
    });
    this.iam = new KarpenterIam(this, 'karpenter', {
      clusterName: name,
      clusterNameRef: cluster.clusterName,
      region: environment.region,
      accountId: environment.accountId,
      partition: this.partition,
      interruptionQueueArn: this.interruption.queue.arn,
      namespace: KARPENTER_NAMESPACE,
      serviceAccount: KARPENTER_SERVICE_ACCOUNT,
    });

    publishOutputs(this, KARPENTER_INFRA, {
      controllerRoleArn: this.iam.controllerRole.arn,
      nodeRoleName: this.iam.nodeRole.name,
      nodeRoleArn: this.iam.nodeRole.arn,
      interruptionQueueName: this.interruption.queue.name,
      interruptionQueueArn: this.interruption.queue.arn,
    });
  }
}
