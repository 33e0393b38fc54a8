import type { Construct } from 'constructs';
import { KubernetesObject } from '../../modules/k8s/manifest.js';
import { tenancyAdmissionObjects } from '../../modules/tenant/admission-policies.js';
import { SCHEDULER_USERNAME } from '../../modules/yunikorn/names.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { usesYunikorn } from '../lib/scheduling-config.js';

export const TENANCY_STACK = 'tenancy';

/**
 * Layer 3 (in-cluster, before any tenant): the cluster-wide guard rails of namespace-as-a-service,
 * as ValidatingAdmissionPolicies and their bindings. Generic for every tenant, so adding a tenant
 * never changes this stack. Kubernetes provider; reads the `cluster` state. With YuniKorn, its
 * scheduler may create pods at the Spark PriorityClasses in tenant namespaces (gang placeholders).
 */
export class TenancyStack extends PlatformStack {
  readonly objects: KubernetesObject[];

  constructor(scope: Construct, environment: Environment) {
    super(scope, TENANCY_STACK, { environment });
    connectToCluster(this);
    const objects = tenancyAdmissionObjects(usesYunikorn(environment) ? { platformPodCreators: [SCHEDULER_USERNAME] } : {});
    this.objects = [];
    for (const [i, object] of objects.entries()) {
      const name = object.metadata!.name!;
      const id = `${object.kind === 'ValidatingAdmissionPolicy' ? 'policy' : 'binding'}-${name}`;
      // Each binding after its policy: the API server rejects a binding whose policy is missing only
      // at evaluation time, but ordering keeps a half-applied state meaningful.
      const previous = object.kind === 'ValidatingAdmissionPolicyBinding' ? this.objects[i - 1] : undefined;
      this.objects.push(new KubernetesObject(this, id, { object, ...(previous ? { dependsOn: [previous.manifest] } : {}) }));
    }
  }
}
