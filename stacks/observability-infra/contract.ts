import { defineContract } from '../lib/contracts.js';

/** What the `observability-infra` stack publishes for the in-cluster observability stack. */
export const OBSERVABILITY_INFRA = defineContract({
  stack: 'observability-infra',
  outputs: {
    platformLogGroupName: 'string',
    fluentBitRoleArn: 'string',
    grafanaAdminSecretArn: 'string',
    ampWorkspaceArn: 'string',
    ampRemoteWriteUrl: 'string',
    prometheusRoleArn: 'string',
    spotDataFeedBucket: 'string',
    openCostRoleArn: 'string',
  },
  descriptions: {
    platformLogGroupName: 'CloudWatch log group of the container logs of platform (non-tenant) namespaces',
    fluentBitRoleArn: 'IAM role of Fluent Bit (EKS Pod Identity, logging/aws-for-fluent-bit)',
    grafanaAdminSecretArn: 'Secrets Manager secret with the Grafana admin login (value never in state)',
    ampWorkspaceArn: 'Amazon Managed Service for Prometheus workspace ARN (empty when observability.ampRemoteWrite is off)',
    ampRemoteWriteUrl: 'AMP remote write URL (empty when observability.ampRemoteWrite is off)',
    prometheusRoleArn: 'IAM role of the Prometheus server for AMP remote write (empty when off)',
    spotDataFeedBucket: 'Bucket of the EC2 Spot Instance data feed OpenCost reads (empty when cost.spotDataFeed is off)',
    openCostRoleArn: 'IAM role of OpenCost (EKS Pod Identity) reading the Spot data feed (empty when cost.spotDataFeed is off)',
  },
});
