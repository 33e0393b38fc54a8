import type { Construct } from 'constructs';
import { KubernetesObject } from '../../modules/k8s/manifest.js';
import { sparkNodeClasses } from '../../modules/karpenter/node-classes.js';
import { sparkNodePools } from '../../modules/karpenter/node-pools.js';
import { sparkPriorityClasses } from '../../modules/scheduling/priority-classes.js';
import { gp3StorageClass } from '../../modules/storage/storage-classes.js';
import { KARPENTER_INFRA } from '../karpenter-infra/contract.js';
import { readOutputs } from '../lib/contracts.js';
import type { Environment } from '../lib/environment.js';
import { connectToCluster } from '../lib/kubernetes-providers.js';
import { PlatformStack, platformTags } from '../lib/platform-stack.js';

/**
 * Layer 3c: the Spark capacity model. EC2NodeClasses and NodePools (custom resources whose CRDs the
 * `karpenter` state installed), the Spark PriorityClasses and the default gp3 StorageClass.
 */
export class CapacityStack extends PlatformStack {
  readonly objects: Record<string, KubernetesObject> = {};

  constructor(scope: Construct, environment: Environment) {
    super(scope, 'capacity', { environment });
    connectToCluster(this);
    const infra = readOutputs(this, KARPENTER_INFRA);
    const { compute } = environment;

    const classes = sparkNodeClasses({
      // The literal the network and cluster stacks wrote into the discovery tags (same environment).
      clusterName: environment.clusterName,
      nodeRoleName: infra.nodeRoleName,
      amiAlias: compute.amiAlias,
      maxPods: compute.maxPods,
      tags: { ...platformTags(environment, this.stackName), 'platform:managed-by': 'karpenter' },
    });
    const nodeClassManifests = Object.values(classes).map((object) => this.add(object.metadata!.name!, object, 'ec2nodeclass'));

    for (const pool of sparkNodePools({
      spotEnabled: compute.spotEnabled,
      instanceCategories: compute.instanceCategories,
      instanceFamilies: compute.instanceFamilies,
      minInstanceGeneration: compute.minInstanceGeneration,
      instanceCpu: compute.instanceCpu,
      pools: compute.pools,
      disruptionBudget: compute.disruptionBudget,
      ...(compute.executorDisruptionFreeze ? { executorDisruptionFreeze: compute.executorDisruptionFreeze } : {}),
    })) {
      this.add(pool.metadata!.name!, pool, 'nodepool', nodeClassManifests);
    }

    const priorities = sparkPriorityClasses();
    this.add(priorities.driver.metadata!.name!, priorities.driver, 'priorityclass');
    this.add(priorities.executor.metadata!.name!, priorities.executor, 'priorityclass');
    const storage = gp3StorageClass();
    this.add(storage.metadata!.name!, storage, 'storageclass');
  }

  private add(name: string, object: ConstructorParameters<typeof KubernetesObject>[2]['object'], kind: string, after: KubernetesObject[] = []): KubernetesObject {
    const created = new KubernetesObject(this, `${kind}-${name}`, {
      object,
      ...(after.length > 0 ? { dependsOn: after.map((o) => o.manifest) } : {}),
    });
    this.objects[`${kind}/${name}`] = created;
    return created;
  }
}
