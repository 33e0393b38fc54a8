import type { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { ClusterAccess, EKS_ACCESS_POLICIES } from '../../modules/eks-cluster/access-entries.js';
import { EksClusterConstruct } from '../../modules/eks-cluster/cluster.js';
import { ControlPlaneWebhookIngress } from '../../modules/eks-cluster/webhook-ingress.js';
import { ADMISSION_WEBHOOK_PORT } from '../../modules/yunikorn/names.js';
import { ACCOUNT } from '../account/contract.js';
import { publishOutputs, readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { usesYunikorn } from '../lib/scheduling-config.js';
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
      supportType: environment.supportType,
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
    if (usesYunikorn(environment)) {
      new ControlPlaneWebhookIngress(this, 'yunikorn-admission-webhook', {
        clusterSecurityGroupId: this.eks.clusterSecurityGroupId,
        port: ADMISSION_WEBHOOK_PORT,
        description: 'YuniKorn admission webhook (host network, system nodes) from the EKS control plane',
      });
    }
    const { cluster } = this.eks;

    // The CI roles of the account stack: plans read everything (Helm release Secrets included) and
    // write nothing; deploys administer the cluster. Here, because the cluster did not exist when
    // the account stack created the roles.
    if (environment.ci) {
      const account = readOutputs(this, ACCOUNT);
      new ClusterAccess(this, 'ci-plan-access', {
        clusterName: cluster.name,
        principalArn: account.planRoleArn,
        principalId: account.planRoleUniqueId,
        accessPolicy: EKS_ACCESS_POLICIES.adminView,
        partition: this.partition,
      });
      new ClusterAccess(this, 'ci-deploy-access', {
        clusterName: cluster.name,
        principalArn: account.deployRoleArn,
        principalId: account.deployRoleUniqueId,
        accessPolicy: EKS_ACCESS_POLICIES.clusterAdmin,
        partition: this.partition,
      });
    }
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
