/**
 * Configuration documents of the EKS managed add-ons. EKS validates `configuration_values`
 * against each add-on's JSON schema (`aws eks describe-addon-configuration`); environment values
 * of vpc-cni must be strings.
 */
import { SYSTEM_PLACEMENT } from '../scheduling/system-nodes.js';

export interface VpcCniSettings {
  readonly region: string;
  /** Pod subnet per availability zone; ENIConfigs are named after the zone. */
  readonly podSubnetsByZone: Readonly<Record<string, string>>;
  /** Security groups pod ENIs get (the cluster security group). */
  readonly podSecurityGroupIds: readonly string[];
  /** @default true */
  readonly prefixDelegation?: boolean;
  /** @default true */
  readonly networkPolicy?: boolean;
}

/**
 * vpc-cni: custom networking (pods in the secondary CIDR, nodes in the primary), ENIConfigs per
 * zone created by the add-on itself so they exist before any node joins, prefix delegation, and
 * the network policy agent (without it NetworkPolicies are silently not enforced).
 */
export function vpcCniConfiguration(settings: VpcCniSettings): Record<string, unknown> {
  const prefixDelegation = settings.prefixDelegation ?? true;
  return {
    env: {
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
      ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
      ENABLE_PREFIX_DELEGATION: String(prefixDelegation),
      ...(prefixDelegation ? { WARM_PREFIX_TARGET: '1' } : {}),
      AWS_VPC_K8S_CNI_EXTERNALSNAT: 'false',
    },
    enableNetworkPolicy: String(settings.networkPolicy ?? true),
    eniConfig: {
      create: true,
      region: settings.region,
      subnets: Object.fromEntries(
        Object.entries(settings.podSubnetsByZone).map(([zone, subnet]) => [zone, { id: subnet, securityGroups: [...settings.podSecurityGroupIds] }]),
      ),
    },
  };
}

export interface CorednsSettings {
  /** @default 2 */
  readonly minReplicas?: number;
  /** @default 10 */
  readonly maxReplicas?: number;
}

export function corednsConfiguration(settings: CorednsSettings = {}): Record<string, unknown> {
  return {
    autoScaling: { enabled: true, minReplicas: settings.minReplicas ?? 2, maxReplicas: settings.maxReplicas ?? 10 },
    nodeSelector: SYSTEM_PLACEMENT.nodeSelector,
    tolerations: SYSTEM_PLACEMENT.tolerations,
  };
}

export function metricsServerConfiguration(): Record<string, unknown> {
  return { nodeSelector: SYSTEM_PLACEMENT.nodeSelector, tolerations: SYSTEM_PLACEMENT.tolerations };
}

export function ebsCsiConfiguration(): Record<string, unknown> {
  return { controller: { nodeSelector: SYSTEM_PLACEMENT.nodeSelector, tolerations: SYSTEM_PLACEMENT.tolerations } };
}
