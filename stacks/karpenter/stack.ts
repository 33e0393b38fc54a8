import type { Construct } from 'constructs';
import { karpenterChartValues } from '../../modules/karpenter/helm-values.js';
import { KarpenterRelease } from '../../modules/karpenter/release.js';
import { KARPENTER_INFRA } from '../karpenter-infra/contract.js';
import { readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { PlatformStack } from '../lib/platform-stack.js';

/**
 * Layer 3b: Karpenter in the cluster (namespace, `karpenter-crd` chart, `karpenter` chart) on the
 * system nodes. Its CRDs are in this state so that the `capacity` state, which holds NodePools and
 * EC2NodeClasses, is planned only after they exist.
 */
export class KarpenterStack extends PlatformStack {
  readonly release: KarpenterRelease;

  constructor(scope: Construct, environment: Environment) {
    super(scope, 'karpenter', { environment });
    const { cluster } = connectToCluster(this, { helm: true });
    const infra = readOutputs(this, KARPENTER_INFRA);
    const version = environment.compute.karpenterVersion;
    this.release = new KarpenterRelease(this, 'karpenter', {
      version,
      values: karpenterChartValues({
        clusterName: cluster.clusterName,
        clusterEndpoint: cluster.clusterEndpoint,
        interruptionQueueName: infra.interruptionQueueName,
        region: environment.region,
        version,
      }),
    });
  }
}
