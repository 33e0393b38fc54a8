import type { Construct } from 'constructs';
import { DEFAULT_STORAGE_CLASS } from '../../modules/storage/storage-classes.js';
import { SPOT_DATA_FEED_PREFIX, spotDataFeedBucketName } from '../../modules/cost/names.js';
import { ObservabilityReleases } from '../../modules/observability/releases.js';
import { readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { OBSERVABILITY_INFRA } from '../observability-infra/contract.js';
import { OBSERVABILITY_TERRAFORM_VERSION } from '../observability-infra/stack.js';

/**
 * Layer 4b: the observability charts on the system nodes: kube-prometheus-stack (Prometheus on a
 * gp3 volume, Alertmanager, Grafana, kube-state-metrics, node-exporter), OpenCost, the Vertical
 * Pod Autoscaler and Fluent Bit. Its Prometheus Operator CRDs are in this state so that
 * `observability-config`, which holds monitors and rules, is planned only after they exist.
 */
export class ObservabilityStack extends PlatformStack {
  readonly releases: ObservabilityReleases;

  constructor(scope: Construct, environment: Environment) {
    super(scope, 'observability', { environment });
    this.addOverride('terraform.required_version', OBSERVABILITY_TERRAFORM_VERSION);
    const { cluster } = connectToCluster(this, { helm: true });
    const infra = readOutputs(this, OBSERVABILITY_INFRA);
    const settings = environment.observability;
    this.releases = new ObservabilityReleases(this, 'observability', {
      environmentName: environment.name,
      clusterName: cluster.clusterName,
      region: environment.region,
      prometheusRetention: settings.prometheusRetention,
      prometheusStorageSize: settings.prometheusStorageSize,
      // Created by the capacity stack (modules/storage/storage-classes.ts).
      storageClassName: DEFAULT_STORAGE_CLASS,
      grafanaAdminSecretArn: infra.grafanaAdminSecretArn,
      grafanaAdminPasswordVersion: settings.grafanaAdminPasswordVersion,
      ...(settings.ampRemoteWrite ? { ampRemoteWrite: { url: infra.ampRemoteWriteUrl, region: environment.region } } : {}),
      ...(environment.cost.spotDataFeed
        ? {
            openCostSpotDataFeed: {
              // The bucket observability-infra creates (same derivation, a literal in the values).
              bucket: spotDataFeedBucketName({ clusterName: environment.clusterName, accountId: environment.accountId, region: environment.region }),
              region: environment.region,
              prefix: SPOT_DATA_FEED_PREFIX,
              accountId: environment.accountId,
            },
          }
        : {}),
    });
  }
}
