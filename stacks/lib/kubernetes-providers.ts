/**
 * Kubernetes and Helm providers for in-cluster stacks, configured from the `cluster` stack's
 * remote state. Credentials come from `aws eks get-token` at plan/apply time (the deploying
 * identity needs an access entry), so no token is ever stored in state.
 */
import { HelmProvider } from '@cdktf/provider-helm/lib/provider/index.js';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
import { Fn } from 'cdktf';
import { CLUSTER } from '../cluster/contract.js';
import { type ContractValues, readOutputs } from './contracts.js';
import type { PlatformStack } from './platform-stack.js';

export interface ClusterConnection {
  readonly cluster: ContractValues<typeof CLUSTER.outputs>;
  readonly kubernetes: KubernetesProvider;
  readonly helm?: HelmProvider;
}

function execConfig(stack: PlatformStack, clusterName: string) {
  return {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: 'aws',
    args: ['eks', 'get-token', '--cluster-name', clusterName, '--region', stack.environment.region, '--output', 'json'],
  };
}

/** Adds the kubernetes provider (and helm, when `helm` is true) pointed at the platform cluster. */
export function connectToCluster(stack: PlatformStack, options: { helm?: boolean } = {}): ClusterConnection {
  const cluster = readOutputs(stack, CLUSTER);
  const host = cluster.clusterEndpoint;
  const clusterCaCertificate = Fn.base64decode(cluster.clusterCertificateAuthority);
  const kubernetes = new KubernetesProvider(stack, 'kubernetes', {
    host,
    clusterCaCertificate,
    exec: [execConfig(stack, cluster.clusterName)],
  });
  const helm = options.helm
    ? new HelmProvider(stack, 'helm', { kubernetes: { host, clusterCaCertificate, exec: execConfig(stack, cluster.clusterName) } })
    : undefined;
  return { cluster, kubernetes, ...(helm ? { helm } : {}) };
}
