import { defineContract } from '../lib/contracts.js';

/** What the `network` stack publishes. Subnet lists are in the environment's AZ order. */
export const NETWORK = defineContract({
  stack: 'network',
  outputs: {
    vpcId: 'string',
    vpcCidr: 'string',
    podCidr: 'string',
    publicSubnetIds: 'list',
    nodeSubnetIds: 'list',
    podSubnetIds: 'list',
    availabilityZones: 'list',
    endpointSecurityGroupId: 'string',
  },
  descriptions: {
    vpcId: 'VPC id',
    vpcCidr: 'Primary VPC CIDR (nodes, load balancers, endpoints)',
    podCidr: 'Secondary VPC CIDR for pods (custom networking)',
    publicSubnetIds: 'Public subnet ids, in availability-zone order',
    nodeSubnetIds: 'Private node subnet ids, in availability-zone order',
    podSubnetIds: 'Pod subnet ids (secondary CIDR), in availability-zone order',
    availabilityZones: 'Availability zones, in the order of the subnet lists',
    endpointSecurityGroupId: 'Security group of the interface VPC endpoints',
  },
});
