/**
 * Whether NetworkPolicies allow one connection, by the semantics of `networking.k8s.io/v1`
 * (kubernetes/api `networking/v1/types.go` and the NetworkPolicy concept page): a pod selected by
 * no policy of a direction is open in that direction; once selected, only the union of the
 * selecting policies' rules is allowed (policies are additive). A connection needs the source's
 * egress and the destination's ingress. A rule with no peers matches every peer, with no ports
 * every port. `podSelector` peers are pods of the policy's namespace, `namespaceSelector` peers
 * pods of matching namespaces (both: the intersection), `ipBlock` peers addresses in the CIDR and
 * outside its `except`.
 *
 * Not modelled: named ports (throws), how a CNI treats ipBlock for pod addresses (pods here match
 * ipBlocks only through an explicit `ip`), and what only the VPC CNI network policy agent can
 * show: that it enforces these rules on the nodes.
 */
import { cidrContains } from '../../../modules/network/cidr.js';
import { selectorMatches, type KubeObject, type LabelSelector } from './vap.js';

export interface PodEndpoint {
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ip?: string;
}

/** A pod, or an address outside the cluster. */
export type Endpoint = { readonly pod: PodEndpoint } | { readonly ip: string };

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  ports?: { port?: number | string; endPort?: number; protocol?: string }[];
  from?: Peer[];
  to?: Peer[];
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

function inCidr(ip: string, cidr: string): boolean {
  return cidrContains(cidr, `${ip}/32`);
}

function peerMatches(peer: Peer, policyNamespace: string, endpoint: Endpoint, namespaceLabels: (name: string) => Record<string, string>): boolean {
  if (peer.ipBlock) {
    const ip = 'ip' in endpoint ? endpoint.ip : endpoint.pod.ip;
    return ip !== undefined && inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c));
  }
  if (!('pod' in endpoint)) return false;
  const { pod } = endpoint;
  const namespaceOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, namespaceLabels(pod.namespace)) : pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, pod.labels ?? {}) : true;
  return namespaceOk && podOk;
}

function portMatches(rule: Rule, port: number, protocol: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((p) => {
    if (typeof p.port === 'string') throw new Error(`named port ${p.port} is not modelled by this harness`);
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
  });
}

function policyTypes(spec: PolicySpec): ('Ingress' | 'Egress')[] {
  return spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** Names of the policies that allow `pod`'s traffic in one direction, or undefined when none selects the pod (open). */
function allowedBy(
  direction: 'Ingress' | 'Egress',
  pod: PodEndpoint,
  other: Endpoint,
  port: number,
  protocol: string,
  policies: readonly KubeObject[],
  namespaceLabels: (name: string) => Record<string, string>,
): { selected: boolean; by: string[] } {
  const selecting = policies.filter((p) => p.metadata?.namespace === pod.namespace && policyTypes(p.spec as PolicySpec).includes(direction) && selectorMatches((p.spec as PolicySpec).podSelector, pod.labels ?? {}));
  const by = selecting
    .filter((p) => {
      const spec = p.spec as PolicySpec;
      const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
      return rules.some((rule) => {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, pod.namespace, other, namespaceLabels));
        return peerOk && portMatches(rule, port, protocol);
      });
    })
    .map((p) => p.metadata!.name!);
  return { selected: selecting.length > 0, by };
}

export interface ConnectionDecision {
  readonly allowed: boolean;
  /** Policies allowing the source's egress (empty when denied; undefined when the source is not a pod or not isolated). */
  readonly egress?: readonly string[];
  readonly ingress?: readonly string[];
}

export function connectionAllowed(connection: Connection, policies: readonly KubeObject[], namespaceLabels: (name: string) => Record<string, string>): ConnectionDecision {
  const protocol = connection.protocol ?? 'TCP';
  let allowed = true;
  let egress: string[] | undefined;
  let ingress: string[] | undefined;
  if ('pod' in connection.from) {
    const result = allowedBy('Egress', connection.from.pod, connection.to, connection.port, protocol, policies, namespaceLabels);
    if (result.selected) {
      egress = result.by;
      allowed &&= result.by.length > 0;
    }
  }
  if ('pod' in connection.to) {
    const result = allowedBy('Ingress', connection.to.pod, connection.from, connection.port, protocol, policies, namespaceLabels);
    if (result.selected) {
      ingress = result.by;
      allowed &&= result.by.length > 0;
    }
  }
  return { allowed, ...(egress ? { egress } : {}), ...(ingress ? { ingress } : {}) };
}
