/**
 * Namespace-as-a-service for one tenant: the namespace and, inside it, the platform-owned quotas
 * (compute, forbidden PriorityClasses, concurrent Spark drivers), LimitRange and NetworkPolicies
 * (see namespace-objects.ts for what each one does and why).
 */
import { Construct } from 'constructs';
import { KubernetesObject } from '../k8s/manifest.js';
import {
  computeQuota,
  containerLimitRange,
  DEFAULT_MAX_CONCURRENT_JOBS,
  type ExposedServiceType,
  type NetworkAllowance,
  priorityClassQuota,
  sparkDriverQuota,
  TENANT_PRIORITY_CLASSES,
  type TenantQuota,
  tenantNamespace,
  tenantNetworkPolicies,
} from './namespace-objects.js';

export interface TenantNamespaceProps {
  /** Tenant name = namespace name. */
  readonly tenant: string;
  readonly quota: TenantQuota;
  /** Pod Security Standards version pinned by the PSA labels. @default 'latest' */
  readonly podSecurityVersion?: string;
  /** Shown as a namespace annotation. @default none */
  readonly description?: string;
  /** Open egress to the EKS Pod Identity agent. @default false */
  readonly podIdentityAgent?: boolean;
  /** Namespace allowed to scrape the Spark UI port. @default PLATFORM_NAMESPACES.monitoring */
  readonly monitoringNamespace?: string;
  /** PriorityClasses pods of the namespace may name. @default TENANT_PRIORITY_CLASSES */
  readonly allowedPriorityClasses?: readonly string[];
  /** Pods with the driver PriorityClass at once (quota `spark-drivers`). @default DEFAULT_MAX_CONCURRENT_JOBS */
  readonly maxConcurrentJobs?: number;
  /** Service types allowed beyond ClusterIP and ExternalName (namespace labels). @default none */
  readonly serviceTypes?: readonly ExposedServiceType[];
  /** Extra egress (platform-owned NetworkPolicy `allow-declared-egress`). @default none */
  readonly egress?: readonly NetworkAllowance[];
  /** Extra ingress (platform-owned NetworkPolicy `allow-declared-ingress`). @default none */
  readonly ingress?: readonly NetworkAllowance[];
}

export class TenantNamespace extends Construct {
  readonly name: string;
  /** The namespace manifest: everything namespaced (and the virtual cluster) depends on it. */
  readonly namespace: KubernetesObject;
  readonly objects: KubernetesObject[] = [];

  constructor(scope: Construct, id: string, props: TenantNamespaceProps) {
    super(scope, id);
    this.name = props.tenant;
    this.namespace = new KubernetesObject(this, 'namespace', {
      object: tenantNamespace({
        tenant: props.tenant,
        ...(props.podSecurityVersion ? { podSecurityVersion: props.podSecurityVersion } : {}),
        ...(props.description ? { description: props.description } : {}),
        ...(props.serviceTypes ? { serviceTypes: props.serviceTypes } : {}),
      }),
    });
    const inNamespace = [
      computeQuota(props.tenant, props.quota),
      priorityClassQuota(props.tenant, props.allowedPriorityClasses ?? TENANT_PRIORITY_CLASSES),
      sparkDriverQuota(props.tenant, props.maxConcurrentJobs ?? DEFAULT_MAX_CONCURRENT_JOBS),
      containerLimitRange(props.tenant),
      ...tenantNetworkPolicies({
        tenant: props.tenant,
        podIdentityAgent: props.podIdentityAgent ?? false,
        ...(props.egress ? { egress: props.egress } : {}),
        ...(props.ingress ? { ingress: props.ingress } : {}),
        ...(props.monitoringNamespace ? { monitoringNamespace: props.monitoringNamespace } : {}),
      }),
    ];
    for (const object of inNamespace) {
      const id = `${object.kind.toLowerCase()}-${object.metadata!.name!}`;
      this.objects.push(new KubernetesObject(this, id, { object, dependsOn: [this.namespace.manifest] }));
    }
  }
}
