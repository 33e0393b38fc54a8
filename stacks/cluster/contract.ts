import { defineContract } from '../lib/contracts.js';

/** What the `cluster` stack publishes for the in-cluster and tenant stacks. */
export const CLUSTER = defineContract({
  stack: 'cluster',
  outputs: {
    clusterName: 'string',
    clusterArn: 'string',
    clusterEndpoint: 'string',
    clusterCertificateAuthority: 'string',
    kubernetesVersion: 'string',
    oidcProviderArn: 'string',
    oidcIssuerUrl: 'string',
    oidcIssuerHostPath: 'string',
    clusterSecurityGroupId: 'string',
    secretsKmsKeyArn: 'string',
    systemNodeRoleArn: 'string',
    nodeSubnetIds: 'list',
    podSubnetIds: 'list',
  },
  descriptions: {
    clusterName: 'EKS cluster name',
    clusterArn: 'EKS cluster ARN',
    clusterEndpoint: 'Kubernetes API endpoint',
    clusterCertificateAuthority: 'Base64 PEM of the cluster CA',
    kubernetesVersion: 'Kubernetes minor version',
    oidcProviderArn: 'IAM OIDC provider ARN (IRSA)',
    oidcIssuerUrl: 'OIDC issuer URL (https://...)',
    oidcIssuerHostPath: 'OIDC issuer without scheme, as used in IRSA trust conditions',
    clusterSecurityGroupId: 'Cluster security group (nodes and pod ENIs)',
    secretsKmsKeyArn: 'KMS key encrypting Kubernetes secrets',
    systemNodeRoleArn: 'IAM role of the system node group',
    nodeSubnetIds: 'Private node subnet ids, in availability-zone order',
    podSubnetIds: 'Pod subnet ids, in availability-zone order',
  },
});
