import type { Construct } from 'constructs';
import { ObservabilityConfig } from '../../modules/observability/config.js';
import { YunikornMonitoring } from '../../modules/yunikorn/monitoring.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { alertThresholds } from '../lib/observability-config.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { usesYunikorn } from '../lib/scheduling-config.js';

/**
 * Layer 4c: what Prometheus scrapes and evaluates and what Grafana shows: the Spark driver
 * PodMonitor (every namespace), the Karpenter ServiceMonitor, the platform PrometheusRule and the
 * dashboard ConfigMaps. Custom resources of CRDs installed by the `observability` state, hence a
 * state of their own (kubernetes_manifest needs the CRDs at plan time).
 */
export class ObservabilityConfigStack extends PlatformStack {
  readonly config: ObservabilityConfig;

  constructor(scope: Construct, environment: Environment) {
    super(scope, 'observability-config', { environment });
    connectToCluster(this);
    this.config = new ObservabilityConfig(this, 'observability-config', { thresholds: alertThresholds(environment.observability) });
    // Batch scheduler metrics, alerts and dashboard (objects in the monitoring namespace only).
    if (usesYunikorn(environment)) new YunikornMonitoring(this, 'yunikorn-monitoring');
  }
}
