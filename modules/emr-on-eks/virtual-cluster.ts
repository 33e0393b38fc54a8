/**
 * An EMR on EKS virtual cluster registered on one namespace. The namespace must exist first (pass
 * it in `dependsOn`). With the cluster's `API_AND_CONFIG_MAP` authentication mode,
 * `CreateVirtualCluster` itself creates the access entry of the EMR service-linked role
 * (`AWSServiceRoleForAmazonEMRContainers`) scoped to the namespace; no aws-auth edit and no RBAC
 * objects are needed (and EKS rejects access entries for service-linked roles made by anyone else).
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { EmrcontainersVirtualCluster } from '@cdktf/provider-aws/lib/emrcontainers-virtual-cluster/index.js';

/** Virtual cluster names: 1-64 characters of `[0-9A-Za-z_./#-]`. */
export const VIRTUAL_CLUSTER_NAME = /^[0-9A-Za-z_./#-]{1,64}$/;

export interface EmrVirtualClusterProps {
  /** Virtual cluster name (1-64 characters of `[0-9A-Za-z_./#-]`). */
  readonly name: string;
  /** Name of the EKS cluster. */
  readonly eksClusterName: string;
  readonly namespace: string;
  /**
   * Resources to create first: at least the namespace.
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
}

export class EmrVirtualCluster extends Construct {
  readonly virtualCluster: EmrcontainersVirtualCluster;

  constructor(scope: Construct, id: string, props: EmrVirtualClusterProps) {
    super(scope, id);
    if (!VIRTUAL_CLUSTER_NAME.test(props.name)) {
      throw new Error(`virtual cluster name must be 1-64 characters of [0-9A-Za-z_./#-], got "${props.name}"`);
    }
    this.virtualCluster = new EmrcontainersVirtualCluster(this, 'virtual-cluster', {
      name: props.name,
      containerProvider: {
        id: props.eksClusterName,
        type: 'EKS',
        info: { eksInfo: { namespace: props.namespace } },
      },
      dependsOn: props.dependsOn ?? [],
    });
  }

  get id(): string {
    return this.virtualCluster.id;
  }

  get arn(): string {
    return this.virtualCluster.arn;
  }
}
