import type { Construct } from 'constructs';
import { Network } from '../../modules/network/network.js';
import { publishOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { NETWORK } from './contract.js';

/** Layer 1: the VPC. AWS provider only, so it validates and plans offline. */
export class NetworkStack extends PlatformStack {
  readonly network: Network;

  constructor(scope: Construct, environment: Environment) {
    super(scope, NETWORK.stack, { environment });
    this.network = new Network(this, 'network', {
      name: environment.clusterName,
      region: environment.region,
      accountId: environment.accountId,
      partition: this.partition,
      availabilityZones: environment.availabilityZones,
      vpcCidr: environment.vpcCidr,
      podCidr: environment.podCidr,
      clusterName: environment.clusterName,
      natGateways: environment.natGateways,
      interfaceEndpoints: environment.interfaceEndpoints,
      flowLogRetentionDays: environment.logRetentionDays,
    });
    const n = this.network;
    publishOutputs(this, NETWORK, {
      vpcId: n.vpc.id,
      vpcCidr: environment.vpcCidr,
      podCidr: environment.podCidr,
      publicSubnetIds: n.publicSubnets.map((s) => s.id),
      nodeSubnetIds: n.nodeSubnets.map((s) => s.id),
      podSubnetIds: n.podSubnets.map((s) => s.id),
      availabilityZones: [...environment.availabilityZones],
      endpointSecurityGroupId: n.endpointSecurityGroup.id,
    });
  }
}
