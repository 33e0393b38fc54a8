/**
 * A model of one environment's cluster as the platform's stacks leave it, to replay API requests
 * against: the admission policies and bindings of the `tenancy` stack, the PriorityClasses of
 * `capacity`, and for every tenant folder its namespace, quotas, LimitRange, NetworkPolicies and
 * pod templates, all read from the synthesized Terraform JSON (what `terraform apply` would send).
 *
 * `admit()` runs a request through the API server's chain and reports every layer that denies it
 * (the API server stops at the first; listing all shows which controls overlap):
 * authorization of IAM principals (EKS access entries, authorizer.ts) and of impersonation, the
 * mutating plugins for new pods (pod-defaults.ts), Pod Security (pod-security.ts), the
 * ValidatingAdmissionPolicies (vap.ts) and the ResourceQuota pod limits (quota.ts).
 * `connection()` evaluates the NetworkPolicies (network-policy.ts).
 */
import { parse } from 'yaml';
import type { Environment } from '../../../stacks/lib/environment.js';
import { loadTenants, type TenantConfig } from '../../../stacks/lib/tenant-config.js';
import { tenantStackName } from '../../../stacks/tenant/contract.js';
import { tenantJobSettings, type TenantJobSettings } from '../../../stacks/tenant/job-settings.js';
import { PLATFORM_NAMESPACES } from '../../../modules/scheduling/namespaces.js';
import { FIXTURE_REPO, resourcesOf, synthStack, testEnvironment, type TerraformJson } from '../synth.js';
import { authorizationRequest, authorize, type AccessEntry } from './authorizer.js';
import type { Identity } from './identities.js';
import { connectionAllowed, type Connection, type ConnectionDecision } from './network-policy.js';
import { defaultedPod, PriorityClassNotFound } from './pod-defaults.js';
import { podSecurityDenial } from './pod-security.js';
import { quotaDenial } from './quota.js';
import { evaluatePolicies, type AdmissionAttributes, type GroupVersionResource, type KubeObject, type Operation } from './vap.js';

/** Kind -> [group, version, resource, namespaced] for the objects the tests send. */
const RESOURCES: Readonly<Record<string, readonly [string, string, string, boolean]>> = {
  Pod: ['', 'v1', 'pods', true],
  Service: ['', 'v1', 'services', true],
  ConfigMap: ['', 'v1', 'configmaps', true],
  Secret: ['', 'v1', 'secrets', true],
  ServiceAccount: ['', 'v1', 'serviceaccounts', true],
  PersistentVolumeClaim: ['', 'v1', 'persistentvolumeclaims', true],
  ResourceQuota: ['', 'v1', 'resourcequotas', true],
  LimitRange: ['', 'v1', 'limitranges', true],
  Binding: ['', 'v1', 'bindings', true],
  Namespace: ['', 'v1', 'namespaces', false],
  NetworkPolicy: ['networking.k8s.io', 'v1', 'networkpolicies', true],
  Job: ['batch', 'v1', 'jobs', true],
  Deployment: ['apps', 'v1', 'deployments', true],
  Role: ['rbac.authorization.k8s.io', 'v1', 'roles', true],
  RoleBinding: ['rbac.authorization.k8s.io', 'v1', 'rolebindings', true],
  ClusterRoleBinding: ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false],
  PriorityClass: ['scheduling.k8s.io', 'v1', 'priorityclasses', false],
  NodePool: ['karpenter.sh', 'v1', 'nodepools', false],
  ValidatingAdmissionPolicy: ['admissionregistration.k8s.io', 'v1', 'validatingadmissionpolicies', false],
};

/** Kubernetes' own PriorityClasses (every cluster has them). */
const SYSTEM_PRIORITY_CLASSES: KubeObject[] = [
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-cluster-critical' }, value: 2000000000, preemptionPolicy: 'PreemptLowerPriority' },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-node-critical' }, value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' },
];

export interface ApiRequest {
  readonly user: Identity;
  readonly operation: Operation;
  /** The new object (CREATE, UPDATE). */
  readonly object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  readonly oldObject?: KubeObject;
  /** A subresource: `binding` (with a Binding object), `status`, `ephemeralcontainers`. */
  readonly subResource?: string;
  /** The resource when it is not the object's own (pods for pods/binding). */
  readonly resource?: GroupVersionResource;
}

export interface AdmissionDecision {
  readonly allowed: boolean;
  /** Every layer that denies, once each: `authorization`, `impersonation`, `priority`, `pod-security`, `policy:<name>`, `quota:<name>`. */
  readonly deniedBy: readonly string[];
  readonly messages: readonly string[];
  /** Policies whose validations ran. */
  readonly evaluatedPolicies: readonly string[];
}

export interface AdmitOptions {
  /** Pods already in the namespace (for quota usage). @default none */
  readonly existingPods?: readonly KubeObject[];
}

/** One tenant as its stack deploys it. */
export interface DeployedTenant {
  readonly config: TenantConfig;
  readonly settings: TenantJobSettings;
  readonly namespace: KubeObject;
  /** Quotas, LimitRange, NetworkPolicies. */
  readonly objects: readonly KubeObject[];
  readonly driverTemplate: KubeObject;
  readonly executorTemplate: KubeObject;
}

function manifests(tf: TerraformJson): KubeObject[] {
  return Object.values(resourcesOf(tf, 'kubernetes_manifest')).map((r) => r.manifest as KubeObject);
}

function withNameLabel(namespace: KubeObject): KubeObject {
  const name = namespace.metadata!.name!;
  // The API server labels every namespace with its name (NamespaceDefaultLabelName).
  return { ...namespace, metadata: { ...namespace.metadata, labels: { ...namespace.metadata?.labels, 'kubernetes.io/metadata.name': name } } };
}

function deployTenant(environment: Environment, root: string, tenant: TenantConfig): DeployedTenant {
  const tf = synthStack(tenantStackName(tenant.name), environment, root);
  const all = manifests(tf);
  const template = (role: string) => parse(Object.values(resourcesOf(tf, 'aws_s3_object')).find((o) => o.key === `pod-templates/${role}.yaml`)!.content as string) as KubeObject;
  return {
    config: tenant,
    settings: tenantJobSettings(environment, tenant),
    namespace: withNameLabel(all.find((m) => m.kind === 'Namespace')!),
    objects: all.filter((m) => m.metadata?.namespace === tenant.name),
    driverTemplate: template('driver'),
    executorTemplate: template('executor'),
  };
}

export interface PlatformClusterParts {
  readonly environment: Environment;
  readonly admissionObjects: readonly KubeObject[];
  readonly priorityClasses: readonly KubeObject[];
  readonly tenants: readonly DeployedTenant[];
}

export class PlatformCluster {
  readonly environment: Environment;
  readonly policies: readonly KubeObject[];
  readonly bindings: readonly KubeObject[];
  readonly tenants: ReadonlyMap<string, DeployedTenant>;
  readonly namespaces: ReadonlyMap<string, KubeObject>;
  readonly priorityClasses: ReadonlyMap<string, KubeObject>;

  /**
   * The cluster of a repository root: synthesizes `tenancy`, `capacity` and every tenant stack of
   * `root` (default: the fixture repository) for `environment`.
   */
  static fromRepository(root: string = FIXTURE_REPO, environment: Environment = testEnvironment()): PlatformCluster {
    const tenants = loadTenants(root, environment).map((t) => deployTenant(environment, root, t));
    return new PlatformCluster({
      environment,
      admissionObjects: manifests(synthStack('tenancy', environment, root)),
      priorityClasses: manifests(synthStack('capacity', environment, root)).filter((m) => m.kind === 'PriorityClass'),
      tenants,
    });
  }

  constructor(parts: PlatformClusterParts) {
    this.environment = parts.environment;
    this.policies = parts.admissionObjects.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
    this.bindings = parts.admissionObjects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    this.tenants = new Map(parts.tenants.map((t) => [t.config.name, t]));
    const platform = Object.values(PLATFORM_NAMESPACES).map((name): KubeObject => withNameLabel({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
    this.namespaces = new Map([...platform, ...parts.tenants.map((t) => t.namespace)].map((ns) => [ns.metadata!.name!, ns]));
    this.priorityClasses = new Map([...SYSTEM_PRIORITY_CLASSES, ...parts.priorityClasses].map((pc) => [pc.metadata!.name!, pc]));
  }

  /** The same cluster with other admission objects (e.g. the tenancy policies built with other options). */
  withAdmissionObjects(objects: readonly KubeObject[]): PlatformCluster {
    return new PlatformCluster({ environment: this.environment, admissionObjects: objects, priorityClasses: [...this.priorityClasses.values()], tenants: [...this.tenants.values()] });
  }

  tenant(name: string): DeployedTenant {
    const tenant = this.tenants.get(name);
    if (!tenant) throw new Error(`no tenant ${name} in this cluster (tenants: ${[...this.tenants.keys()].join(', ')})`);
    return tenant;
  }

  /** A platform-owned object of a tenant namespace, as deployed. */
  platformObject(tenant: string, kind: string, name: string): KubeObject {
    const object = this.tenant(tenant).objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!object) throw new Error(`tenant ${tenant} has no ${kind} ${name}`);
    return object;
  }

  private namespaceObjects(namespace: string, kind: string): KubeObject[] {
    return [...(this.tenants.get(namespace)?.objects ?? [])].filter((o) => o.kind === kind);
  }

  attributes(request: ApiRequest): AdmissionAttributes {
    const object = request.object ?? null;
    const oldObject = request.oldObject ?? null;
    const subject = object ?? oldObject;
    if (!subject?.kind) throw new Error('a request needs an object or an old object with a kind');
    const known = RESOURCES[subject.kind];
    if (!known && !request.resource) throw new Error(`kind ${subject.kind} is not in the harness's resource table`);
    const [group, version, resource, namespaced] = known ?? [request.resource!.group, request.resource!.version, request.resource!.resource, true];
    const name = subject.metadata?.name ?? '';
    return {
      operation: request.operation,
      kind: { group, version, kind: subject.kind },
      resource: request.resource ?? { group, version, resource },
      subResource: request.subResource ?? '',
      name,
      // For Namespace requests the attributes carry the namespace's own name.
      namespace: subject.kind === 'Namespace' ? name : namespaced ? (subject.metadata?.namespace ?? '') : '',
      userInfo: { username: request.user.username, ...(request.user.groups ? { groups: request.user.groups } : {}) },
      object,
      oldObject,
    };
  }

  /** Runs a request through authorization and admission; reports every layer that denies it. */
  admit(request: ApiRequest, options: AdmitOptions = {}): AdmissionDecision {
    const deniedBy: string[] = [];
    const messages: string[] = [];
    const deny = (by: string, message: string) => {
      if (!deniedBy.includes(by)) deniedBy.push(by);
      messages.push(message);
    };
    let attributes = this.attributes(request);
    const entries = [request.user.accessEntry, request.user.impersonatedBy?.accessEntry].filter((e): e is AccessEntry => e !== undefined);

    if (request.user.impersonatedBy) {
      const impersonator = request.user.impersonatedBy;
      const [, , namespace, name] = request.user.username.split(':');
      const decision = authorize(entries, impersonator.username, { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: namespace ?? '', name: name ?? '' });
      if (decision === 'deny') deny('impersonation', `${impersonator.username} cannot impersonate ${request.user.username}`);
    }
    if (authorize(entries, request.user.username, authorizationRequest(attributes)) === 'deny') {
      deny('authorization', `${request.user.username} cannot ${attributes.operation.toLowerCase()} ${attributes.resource.resource} in ${attributes.namespace || 'the cluster'}`);
    }

    const isPodCreate = attributes.resource.resource === 'pods' && attributes.subResource === '' && attributes.operation === 'CREATE';
    if (isPodCreate) {
      try {
        const pod = defaultedPod(attributes.object!, { limitRanges: this.namespaceObjects(attributes.namespace, 'LimitRange'), priorityClasses: this.priorityClasses });
        attributes = { ...attributes, object: pod };
      } catch (error) {
        if (!(error instanceof PriorityClassNotFound)) throw error;
        deny('priority', error.message);
      }
      const psa = podSecurityDenial(attributes.object!, this.namespaces.get(attributes.namespace));
      if (psa) deny('pod-security', psa);
    }

    const policies = evaluatePolicies(this.policies, this.bindings, attributes, (name) => this.namespaces.get(name));
    for (const denial of policies.denials) deny(`policy:${denial.policy}`, denial.message);

    if (isPodCreate && !deniedBy.includes('priority')) {
      const quotas = this.namespaceObjects(attributes.namespace, 'ResourceQuota');
      const message = quotaDenial(attributes.object!, quotas, options.existingPods ?? []);
      if (message) deny(`quota:${/exceeded quota: ([^,]+)/.exec(message)![1]}`, message);
    }
    return { allowed: deniedBy.length === 0, deniedBy, messages, evaluatedPolicies: policies.evaluated };
  }

  /** Whether the NetworkPolicies of every tenant namespace allow a connection. */
  connection(connection: Connection): ConnectionDecision {
    const policies = [...this.tenants.values()].flatMap((t) => t.objects.filter((o) => o.kind === 'NetworkPolicy'));
    // Namespaces outside the platform (an orchestrator's, say) carry at least their name label.
    return connectionAllowed(connection, policies, (name) => this.namespaces.get(name)?.metadata?.labels ?? { 'kubernetes.io/metadata.name': name });
  }
}
