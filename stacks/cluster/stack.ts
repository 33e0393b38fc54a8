import type { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { EksClusterConstruct } from '../../modules/eks-cluster/cluster.js';
import { publishOutputs, readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { NETWORK } from '../network/contract.js';
import { CLUSTER } from './contract.js';

/** Layer 2: the EKS cluster, its add-ons and the system node group. AWS provider only. */
export class ClusterStack extends PlatformStack {
  readonly eks: EksClusterConstruct;

  constructor(scope: Construct, environment: Environment) {
    super(scope, CLUSTER.stack, { environment });
    const network = readOutputs(this, NETWORK);
    const podSubnetsByZone = Object.fromEntries(environment.availabilityZones.map((az, i) => [az, Fn.element(network.podSubnetIds, i)]));

    this.eks = new EksClusterConstruct(this, 'eks', {
      clusterName: environment.clusterName,
      kubernetesVersion: environment.kubernetesVersion,
      region: environment.region,
      accountId: environment.accountId,
      partition: this.partition,
      nodeSubnetIds: network.nodeSubnetIds,
      podSubnetsByZone,
      publicEndpointCidrs: environment.publicEndpointCidrs,
      adminRoleArns: environment.adminRoleArns,
      logRetentionDays: environment.logRetentionDays,
      addonVersions: environment.addons,
      systemNodeGroup: environment.systemNodeGroup,
    });
    const { cluster } = this.eks;
    publishOutputs(this, CLUSTER, {
      clusterName: cluster.name,
      clusterArn: cluster.arn,
      clusterEndpoint: cluster.endpoint,
      clusterCertificateAuthority: cluster.certificateAuthority.get(0).data,
      kubernetesVersion: cluster.version,
      oidcProviderArn: this.eks.oidcProvider.arn,
      oidcIssuerUrl: this.eks.oidcIssuerUrl,
      oidcIssuerHostPath: this.eks.oidcIssuerHostPath,
      clusterSecurityGroupId: this.eks.clusterSecurityGroupId,
      secretsKmsKeyArn: this.eks.secretsKey.arn,
      systemNodeRoleArn: this.eks.systemNodeRole.arn,
      nodeSubnetIds: network.nodeSubnetIds,
      podSubnetIds: network.podSubnetIds,
    });
  }
}
