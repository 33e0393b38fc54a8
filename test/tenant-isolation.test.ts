/**
 * Tenant isolation, proven by behaviour. Realistic API requests (tenant owners, their CI,
 * impersonated service accounts, EMR on EKS and its job pods built from each tenant's synthesized
 * pod templates, Kubernetes controllers, platform admins and Terraform) are replayed against the
 * cluster the stacks deploy: the `tenancy` policies evaluated with a real CEL engine the way the
 * API server does, EKS access-entry authorization, Pod Security `baseline`, the PriorityClass
 * quotas and the NetworkPolicies (test/support/admission/). Each `describe` is one row of the
 * README's isolation table, which names it (`tenant-isolation.test.ts › <describe>`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ADMISSION_POLICY_NAMES, tenancyAdmissionObjects } from '../modules/tenant/admission-policies.js';
import { buildStartJobRunRequest } from '../scripts/job/request.js';
import { type ApiRequest, type AdmitOptions, type DeployedTenant, PlatformCluster } from './support/admission/cluster.js';
import { driverPod, driverService, emrCreators, type EmrJob, emrJobObjects, executorPod, jobRunnerPod } from './support/admission/emr.js';
import { emrService, type Identity, JOB_CONTROLLER, KUBE_SCHEDULER, platformAdmin, RESOURCE_QUOTA_CONTROLLER, serviceAccount, tenantOwner } from './support/admission/identities.js';
import type { Connection } from './support/admission/network-policy.js';
import type { KubeObject } from './support/admission/vap.js';
import { SOURCE_ROOT, synthStack, temporaryRoot } from './support/synth.js';

const cluster = PlatformCluster.fromRepository();
const env = cluster.environment;
const ACCOUNT = env.accountId;

const P = {
  protect: `policy:${ADMISSION_POLICY_NAMES.protectPlatformObjects}`,
  nodeIsolation: `policy:${ADMISSION_POLICY_NAMES.tenantNodeIsolation}`,
  tolerations: `policy:${ADMISSION_POLICY_NAMES.tenantPodTolerations}`,
  scheduling: `policy:${ADMISSION_POLICY_NAMES.tenantPodScheduling}`,
  networkPolicies: `policy:${ADMISSION_POLICY_NAMES.tenantNetworkPolicies}`,
  binding: `policy:${ADMISSION_POLICY_NAMES.tenantPodBinding}`,
  services: `policy:${ADMISSION_POLICY_NAMES.tenantServices}`,
} as const;
/** The pod policies that run on every pod of a tenant namespace. */
const TENANT_POD_POLICIES = [ADMISSION_POLICY_NAMES.tenantNodeIsolation, ADMISSION_POLICY_NAMES.tenantPodTolerations, ADMISSION_POLICY_NAMES.tenantPodScheduling];

// Who sends requests.
const engineer = tenantOwner('analytics', `arn:aws:iam::${ACCOUNT}:role/analytics-engineers`);
const analyticsCi = tenantOwner('analytics', `arn:aws:iam::${ACCOUNT}:role/analytics-ci`, 'github-actions');
const quant = tenantOwner('risk-models', `arn:aws:iam::${ACCOUNT}:role/risk-quants`);
const admin = platformAdmin(env.adminRoleArns[0]!);
const terraform = platformAdmin(env.adminRoleArns[0]!, 'terraform');

type Json = Record<string, unknown>;

function pod(namespace: string, name: string, spec: Json = {}, metadata: Json = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...metadata },
    spec: { containers: [{ name: 'main', image: 'public.ecr.aws/docker/library/busybox:1.37', command: ['sleep', '3600'] }], ...spec },
  };
}

function object(apiVersion: string, kind: string, namespace: string | undefined, name: string, body: Json = {}, labels?: Record<string, string>): KubeObject {
  return { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) }, ...body };
}

const create = (user: Identity, o: KubeObject): ApiRequest => ({ user, operation: 'CREATE', object: o });
const update = (user: Identity, old: KubeObject, next: KubeObject): ApiRequest => ({ user, operation: 'UPDATE', object: next, oldObject: old });
const remove = (user: Identity, old: KubeObject): ApiRequest => ({ user, operation: 'DELETE', oldObject: old });

/** A copy of `o` with changes applied by `edit`. */
function edited(o: KubeObject, edit: (copy: KubeObject & { spec: Json; metadata: Json }) => void): KubeObject {
  const copy = structuredClone(o) as KubeObject & { spec: Json; metadata: Json };
  edit(copy);
  return copy;
}

/** One EMR on EKS job of a tenant, submitted with the job CLI's request. */
function emrJob(tenant: DeployedTenant, jobId: string, zone?: string): EmrJob {
  const virtualClusterId = `vc${tenant.config.name.replace(/-/g, '')}0000000000`.slice(0, 25);
  const request = buildStartJobRunRequest(
    { ...tenant.settings, virtualClusterId },
    {
      name: 'daily-aggregates',
      driver: { type: 'spark-submit', entryPoint: `s3://${tenant.settings.bucket}/code/daily.py`, arguments: [] },
      conf: {},
      clientToken: jobId,
      ...(zone ? { zone } : {}),
    },
  );
  return {
    namespace: tenant.config.name,
    accountId: ACCOUNT,
    executionRoleName: tenant.settings.executionRoleName,
    virtualClusterId,
    driverTemplate: tenant.driverTemplate,
    executorTemplate: tenant.executorTemplate,
    request,
    jobId,
  };
}

const analyticsJob = emrJob(cluster.tenant('analytics'), '0000000abcanalytics01', 'us-west-2a');
const riskJob = emrJob(cluster.tenant('risk-models'), '0000000abcriskmodel01');

/** `count` running drivers of other jobs of the tenant, for quota usage. */
function runningDrivers(tenant: DeployedTenant, count: number, phase = 'Running'): KubeObject[] {
  return Array.from({ length: count }, (_, i) => ({ ...driverPod(emrJob(tenant, `0000000running${String(i).padStart(6, '0')}`)), status: { phase } }));
}

interface Case {
  readonly what: string;
  readonly request: ApiRequest;
  readonly options?: AdmitOptions;
  /** `allowed`, or every layer expected to deny. */
  readonly expect: 'allowed' | readonly string[];
  /** Policies that must have run (an allow must come from evaluation, not from nothing matching). */
  readonly evaluated?: readonly string[];
  /** Text the first denial message must contain. */
  readonly message?: RegExp;
}

/** Every request case, by row (collected when the suite is defined). */
const defined: { row: string; expectAllowed: boolean }[] = [];
/** Every request replayed, with its outcome. */
const replayed: { row: string; what: string; allowed: boolean }[] = [];

function replay(row: string, cases: readonly Case[], target: PlatformCluster = cluster): void {
  for (const c of cases) {
    defined.push({ row, expectAllowed: c.expect === 'allowed' });
    it(c.what, () => {
      const decision = target.admit(c.request, c.options);
      replayed.push({ row, what: c.what, allowed: decision.allowed });
      const summary = { deniedBy: decision.deniedBy, messages: decision.messages };
      if (c.expect === 'allowed') expect(summary).toEqual({ deniedBy: [], messages: [] });
      else expect(summary.deniedBy).toEqual(c.expect);
      if (c.evaluated) expect(decision.evaluatedPolicies).toEqual(expect.arrayContaining([...c.evaluated]));
      if (c.message) expect(decision.messages[0]).toMatch(c.message);
    });
  }
}

/** The rows of the README's isolation table, in its order; its "proved by" column names these. */
const ISOLATION_ROWS = {
  access: 'access is limited to the own namespace',
  platformObjects: 'platform-owned objects cannot be changed or deleted',
  networkPolicies: 'tenants cannot create or widen NetworkPolicies',
  traffic: 'network traffic is limited to the defaults and the tenant file',
  podSecurity: 'privileged pods, hostPath and host network are refused',
  priorityClasses: 'system and platform PriorityClasses are unusable',
  sparkPriority: 'Spark PriorityClasses are for Spark pods, drivers are bounded',
  dedicatedNodes: "no pod lands on another tenant's dedicated nodes",
  nodeName: 'pods cannot skip the scheduler',
  tolerations: 'no tolerate-everything or system-node pods',
  services: 'Services cannot take external IPs or expose pods unless allowed',
  impersonation: "impersonated service accounts are held to the tenant's rules",
  emr: 'EMR on EKS jobs are admitted',
  platform: 'platform admins, Terraform and controllers are not blocked',
  newTenant: 'a tenant added as a folder gets the same isolation',
} as const;

describe(ISOLATION_ROWS.access, () => {
  replay('access', [
    { what: 'an analytics engineer creates a ConfigMap in analytics', request: create(engineer, object('v1', 'ConfigMap', 'analytics', 'job-settings', { data: { a: 'b' } })), expect: 'allowed' },
    { what: 'an analytics engineer creates a pod in risk-models', request: create(engineer, pod('risk-models', 'peek')), expect: ['authorization'] },
    {
      what: 'an analytics engineer binds itself cluster-admin',
      request: create(engineer, object('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, 'me-admin', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] })),
      expect: ['authorization'],
    },
    {
      what: 'an analytics engineer relabels its namespace to privileged Pod Security',
      request: update(engineer, cluster.tenant('analytics').namespace, edited(cluster.tenant('analytics').namespace, (ns) => ((ns.metadata.labels as Json)['pod-security.kubernetes.io/enforce'] = 'privileged'))),
      expect: ['authorization', P.protect],
    },
  ]);
});

const defaultDeny = cluster.platformObject('analytics', 'NetworkPolicy', 'default-deny');
const httpsEgress = cluster.platformObject('analytics', 'NetworkPolicy', 'allow-https-egress');
const computeQuota = cluster.platformObject('analytics', 'ResourceQuota', 'compute');
const limitRange = cluster.platformObject('analytics', 'LimitRange', 'container-defaults');

describe(ISOLATION_ROWS.platformObjects, () => {
  replay('platformObjects', [
    { what: 'an analytics engineer deletes the default-deny NetworkPolicy', request: remove(engineer, defaultDeny), expect: [P.protect], message: /belong to the platform/ },
    {
      what: 'an analytics engineer opens allow-https-egress to every port',
      request: update(engineer, httpsEgress, edited(httpsEgress, (np) => ((np.spec.egress as Json[])[0]!.ports = undefined))),
      expect: [P.protect, P.networkPolicies],
    },
    {
      what: 'an analytics engineer strips the platform label from default-deny',
      request: update(engineer, defaultDeny, edited(defaultDeny, (np) => (np.metadata.labels = {}))),
      expect: [P.protect, P.networkPolicies],
    },
    { what: 'an analytics engineer deletes the compute quota', request: remove(engineer, computeQuota), expect: ['authorization', P.protect] },
    { what: 'an analytics engineer raises the LimitRange defaults', request: update(engineer, limitRange, edited(limitRange, (lr) => ((lr.spec.limits as Json[])[0]!.defaultRequest = { cpu: '8' }))), expect: ['authorization', P.protect] },
    {
      what: 'an analytics engineer creates a ConfigMap carrying the platform label',
      request: create(engineer, object('v1', 'ConfigMap', 'analytics', 'fake-platform', {}, { 'spark-platform.io/managed-by': 'platform' })),
      expect: [P.protect],
      message: /reserved for the platform/,
    },
  ]);
});

describe(ISOLATION_ROWS.networkPolicies, () => {
  const allowAll = object('networking.k8s.io/v1', 'NetworkPolicy', 'analytics', 'allow-all', { spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] } });
  const legacy = object('networking.k8s.io/v1', 'NetworkPolicy', 'analytics', 'old-team-policy', { spec: { podSelector: { matchLabels: { app: 'x' } }, ingress: [{ from: [{ podSelector: {} }] }] } });
  replay('networkPolicies', [
    { what: 'an analytics engineer creates an allow-all NetworkPolicy (it would cancel default-deny)', request: create(engineer, allowAll), expect: [P.networkPolicies], message: /tenants\/analytics\/tenant\.yaml/ },
    {
      what: 'the analytics CI role creates a narrow NetworkPolicy (still additive)',
      request: create(analyticsCi, object('networking.k8s.io/v1', 'NetworkPolicy', 'analytics', 'ui', { spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 4040 }] }] } })),
      expect: [P.networkPolicies],
    },
    { what: 'an analytics engineer widens a NetworkPolicy it made before the policy existed', request: update(engineer, legacy, edited(legacy, (np) => (np.spec.podSelector = {}))), expect: [P.networkPolicies] },
    { what: 'an analytics engineer deletes a NetworkPolicy it made before the policy existed', request: remove(engineer, legacy), expect: 'allowed' },
    { what: 'Terraform applies the declared-egress NetworkPolicy of risk-models', request: create(terraform, cluster.platformObject('risk-models', 'NetworkPolicy', 'allow-declared-egress')), expect: 'allowed' },
  ]);
});

describe(ISOLATION_ROWS.traffic, () => {
  const driver = { namespace: 'analytics', labels: { 'spark-role': 'driver' } };
  const riskExecutor = { namespace: 'risk-models', labels: { 'spark-role': 'executor' } };
  const cases: [string, Connection, boolean][] = [
    ['an analytics driver reaches its own executors', { from: { pod: driver }, to: { pod: { namespace: 'analytics', labels: { 'spark-role': 'executor' } } }, port: 7079 }, true],
    ['an analytics driver reaches a risk-models executor', { from: { pod: driver }, to: { pod: riskExecutor }, port: 7079 }, false],
    ['an analytics pod resolves names with CoreDNS', { from: { pod: driver }, to: { pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } }, port: 53, protocol: 'UDP' }, true],
    ['Prometheus scrapes the Spark UI of an analytics driver', { from: { pod: { namespace: 'monitoring', labels: { app: 'prometheus' } } }, to: { pod: driver }, port: 4040 }, true],
    ['Prometheus reaches the driver RPC port', { from: { pod: { namespace: 'monitoring' } }, to: { pod: driver }, port: 7078 }, false],
    ['an analytics pod calls an AWS API on 443', { from: { pod: driver }, to: { ip: '52.94.133.131' }, port: 443 }, true],
    ['an analytics pod reaches a database on 5432', { from: { pod: driver }, to: { ip: '10.30.4.20' }, port: 5432 }, false],
    ['a risk-models pod reaches its declared database (network.egress)', { from: { pod: riskExecutor }, to: { ip: '10.30.4.20' }, port: 5432 }, true],
    ['a risk-models pod reaches another port of that network', { from: { pod: riskExecutor }, to: { ip: '10.30.4.20' }, port: 22 }, false],
    ['airflow reaches the risk-models Spark UI (network.ingress)', { from: { pod: { namespace: 'airflow' } }, to: { pod: riskExecutor }, port: 4040 }, true],
    ['airflow reaches the analytics Spark UI', { from: { pod: { namespace: 'airflow' } }, to: { pod: driver }, port: 4040 }, false],
    ['a risk-models pod reaches the Pod Identity agent', { from: { pod: riskExecutor }, to: { ip: '169.254.170.23' }, port: 80 }, true],
    ['an analytics (IRSA) pod reaches the Pod Identity agent', { from: { pod: driver }, to: { ip: '169.254.170.23' }, port: 80 }, false],
    ['an analytics pod reaches IMDS', { from: { pod: driver }, to: { ip: '169.254.169.254' }, port: 80 }, false],
  ];
  for (const [what, connection, allowed] of cases) {
    it(what, () => assert.equal(cluster.connection(connection).allowed, allowed));
  }
});

describe(ISOLATION_ROWS.podSecurity, () => {
  replay('podSecurity', [
    { what: 'an analytics engineer runs a privileged pod', request: create(engineer, pod('analytics', 'root', { containers: [{ name: 'main', image: 'busybox:1.37', securityContext: { privileged: true } }] })), expect: ['pod-security'], message: new RegExp(`baseline:v${env.kubernetesVersion.replace('.', '\\.')}.*privileged`) },
    { what: 'an analytics engineer mounts the node filesystem (hostPath)', request: create(engineer, pod('analytics', 'host', { volumes: [{ name: 'root', hostPath: { path: '/' } }] })), expect: ['pod-security'] },
    { what: 'an analytics engineer joins the host network', request: create(engineer, pod('analytics', 'net', { hostNetwork: true })), expect: ['pod-security'] },
    { what: 'an analytics engineer adds SYS_ADMIN', request: create(engineer, pod('analytics', 'caps', { containers: [{ name: 'main', image: 'busybox:1.37', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] })), expect: ['pod-security'] },
    { what: 'an analytics engineer runs a plain pod', request: create(engineer, pod('analytics', 'plain')), expect: 'allowed', evaluated: TENANT_POD_POLICIES },
  ]);
});

describe(ISOLATION_ROWS.priorityClasses, () => {
  replay('priorityClasses', [
    { what: 'an analytics pod asks for system-cluster-critical', request: create(engineer, pod('analytics', 'vip', { priorityClassName: 'system-cluster-critical' })), expect: ['quota:platform-priority-classes'] },
    { what: 'an analytics pod asks for system-node-critical', request: create(engineer, pod('analytics', 'vip2', { priorityClassName: 'system-node-critical' })), expect: ['quota:platform-priority-classes'] },
    { what: 'an analytics pod names a PriorityClass that does not exist', request: create(engineer, pod('analytics', 'typo', { priorityClassName: 'spark-driver-hi' })), expect: ['priority'] },
  ]);
});

const fakeDriverSpec = (tolerations: Json[]) => ({
  priorityClassName: 'spark-driver-high',
  tolerations,
  containers: [{ name: 'spark-kubernetes-driver', image: 'busybox:1.37' }],
});

describe(ISOLATION_ROWS.sparkPriority, () => {
  const analytics = cluster.tenant('analytics');
  const placeholder = pod('analytics', 'tg-driver-placeholder', { priorityClassName: 'spark-driver-high', schedulerName: 'yunikorn' }, { labels: { placeholder: 'true' } });
  replay('sparkPriority', [
    { what: 'an analytics web app runs at spark-driver-high', request: create(engineer, pod('analytics', 'web', { priorityClassName: 'spark-driver-high' })), expect: [P.scheduling], message: /for Spark drivers only/ },
    { what: 'an analytics batch pod runs at spark-executor-low', request: create(engineer, pod('analytics', 'batch', { priorityClassName: 'spark-executor-low' })), expect: [P.scheduling] },
    {
      what: 'a hand-made driver at spark-driver-high tolerates the executor nodes (to preempt executors)',
      request: create(engineer, pod('analytics', 'fake-driver', fakeDriverSpec([{ key: 'spark-platform.io/spark-role', operator: 'Equal', value: 'executor', effect: 'NoSchedule' }]), { labels: { 'spark-role': 'driver' } })),
      expect: [P.scheduling],
      message: /may tolerate spark-platform\.io\/spark-role only with value driver/,
    },
    {
      what: 'a hand-made driver tolerates every Spark role (operator Exists)',
      request: create(engineer, pod('analytics', 'fake-driver-2', fakeDriverSpec([{ key: 'spark-platform.io/spark-role', operator: 'Exists' }]), { labels: { 'spark-role': 'driver' } })),
      expect: [P.scheduling],
    },
    {
      what: 'an analytics driver beyond maxConcurrentJobs (20 running)',
      request: create(emrCreators(analyticsJob).driver, driverPod(analyticsJob)),
      options: { existingPods: runningDrivers(analytics, 20) },
      expect: ['quota:spark-drivers'],
      message: /exceeded quota: spark-drivers, requested: pods=1, used: pods=20, limited: pods=20/,
    },
    { what: 'an analytics driver with 19 running', request: create(emrCreators(analyticsJob).driver, driverPod(analyticsJob)), options: { existingPods: runningDrivers(analytics, 19) }, expect: 'allowed' },
    {
      what: 'an analytics driver with 20 finished drivers (terminated pods do not count)',
      request: create(emrCreators(analyticsJob).driver, driverPod(analyticsJob)),
      options: { existingPods: runningDrivers(analytics, 20, 'Succeeded') },
      expect: 'allowed',
    },
    {
      what: 'a risk-models driver beyond its maxConcurrentJobs of 10',
      request: create(emrCreators(riskJob).driver, driverPod(riskJob)),
      options: { existingPods: runningDrivers(cluster.tenant('risk-models'), 10) },
      expect: ['quota:spark-drivers'],
    },
    { what: 'a gang-scheduling placeholder at spark-driver-high, with no platform pod creator configured', request: create(serviceAccount('yunikorn', 'yunikorn-admin'), placeholder), expect: [P.scheduling] },
  ]);

  describe('with a platform pod creator configured (YuniKorn placeholders)', () => {
    const yunikorn = serviceAccount('yunikorn', 'yunikorn-admin');
    const objects = tenancyAdmissionObjects({ platformPodCreators: [yunikorn.username] }).map((o) => JSON.parse(JSON.stringify(o.toJSON())) as KubeObject);
    const withYunikorn = cluster.withAdmissionObjects(objects);
    replay(
      'sparkPriority',
      [
        { what: "YuniKorn's placeholder at spark-driver-high is admitted", request: create(yunikorn, placeholder), expect: 'allowed', evaluated: TENANT_POD_POLICIES },
        { what: 'the same placeholder from an analytics engineer is not', request: create(engineer, placeholder), expect: [P.scheduling] },
        {
          what: "a YuniKorn placeholder still may not take another tenant's nodes",
          request: create(yunikorn, edited(placeholder, (p) => (p.spec.tolerations = [{ key: 'spark-platform.io/tenant', operator: 'Equal', value: 'risk-models', effect: 'NoSchedule' }]))),
          expect: [P.nodeIsolation],
        },
      ],
      withYunikorn,
    );
  });
});

const riskToleration = { key: 'spark-platform.io/tenant', operator: 'Equal', value: 'risk-models', effect: 'NoSchedule' };

describe(ISOLATION_ROWS.dedicatedNodes, () => {
  const pending = pod('analytics', 'pending', { schedulingGates: [{ name: 'example.com/gate' }] });
  replay('dedicatedNodes', [
    { what: 'an analytics pod tolerates the risk-models taint', request: create(engineer, pod('analytics', 'squat', { tolerations: [riskToleration] })), expect: [P.nodeIsolation] },
    { what: 'an analytics pod tolerates every tenant (operator Exists)', request: create(engineer, pod('analytics', 'squat2', { tolerations: [{ key: 'spark-platform.io/tenant', operator: 'Exists' }] })), expect: [P.nodeIsolation] },
    { what: 'an analytics pod selects the risk-models nodes', request: create(engineer, pod('analytics', 'squat3', { nodeSelector: { 'spark-platform.io/tenant': 'risk-models' } })), expect: [P.nodeIsolation] },
    {
      what: 'an analytics pod requires risk-models nodes by affinity',
      request: create(engineer, pod('analytics', 'squat4', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'spark-platform.io/tenant', operator: 'In', values: ['analytics', 'risk-models'] }] }] } } } })),
      expect: [P.nodeIsolation],
    },
    {
      what: 'an analytics engineer adds the risk-models toleration to a pending pod (UPDATE)',
      request: update(engineer, pending, edited(pending, (p) => (p.spec.tolerations = [riskToleration]))),
      expect: [P.nodeIsolation],
    },
    {
      what: 'an analytics pod stays off every tenant node (DoesNotExist)',
      request: create(engineer, pod('analytics', 'shared-only', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'spark-platform.io/tenant', operator: 'DoesNotExist' }] }] } } } })),
      expect: 'allowed',
      evaluated: TENANT_POD_POLICIES,
    },
    {
      what: 'an analytics pod avoids the risk-models nodes (NotIn)',
      request: create(engineer, pod('analytics', 'not-risk', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'spark-platform.io/tenant', operator: 'NotIn', values: ['risk-models'] }] }] } } } })),
      expect: 'allowed',
    },
    {
      what: 'a platform pod in monitoring stays off tenant nodes (DoesNotExist)',
      request: create(admin, pod('monitoring', 'exporter', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'spark-platform.io/tenant', operator: 'DoesNotExist' }] }] } } } })),
      expect: 'allowed',
      evaluated: [ADMISSION_POLICY_NAMES.tenantNodeIsolation],
    },
    { what: 'a pod in the default namespace tolerates the risk-models taint', request: create(admin, pod('default', 'debug', { tolerations: [riskToleration] })), expect: [P.nodeIsolation] },
  ]);
});

describe(ISOLATION_ROWS.nodeName, () => {
  const scheduled = { ...pod('analytics', 'running', { nodeName: 'ip-10-10-40-12.us-west-2.compute.internal' }, { labels: { app: 'x' } }), status: { phase: 'Running' } };
  const binding = (namespace: string) => object('v1', 'Binding', namespace, 'waiting', { target: { apiVersion: 'v1', kind: 'Node', name: 'ip-10-10-40-12.us-west-2.compute.internal' } });
  const podsBinding = { group: '', version: 'v1', resource: 'pods' };
  replay('nodeName', [
    { what: 'an analytics pod names a risk-models node (spec.nodeName)', request: create(engineer, pod('analytics', 'direct', { nodeName: 'ip-10-10-40-12.us-west-2.compute.internal' })), expect: [P.scheduling], message: /spec\.nodeName/ },
    { what: 'a platform admin debugs with nodeName in a tenant namespace', request: create(admin, pod('analytics', 'debug', { nodeName: 'ip-10-10-40-12.us-west-2.compute.internal' })), expect: [P.scheduling] },
    { what: 'an analytics engineer binds a pod to a node (pods/binding)', request: { ...create(engineer, binding('analytics')), resource: podsBinding, subResource: 'binding' }, expect: ['authorization', P.binding] },
    {
      what: 'an impersonated analytics service account binds a pod (legacy bindings)',
      request: create(serviceAccount('analytics', 'default', engineer), binding('analytics')),
      expect: [P.binding],
    },
    { what: 'the scheduler binds an analytics pod', request: { ...create(KUBE_SCHEDULER, binding('analytics')), resource: podsBinding, subResource: 'binding' }, expect: 'allowed' },
    {
      what: 'the Spark driver relabels its scheduled executor (UPDATE keeps nodeName)',
      request: update(emrCreators(analyticsJob).executors, scheduled, edited(scheduled, (p) => ((p.metadata.labels as Json).app = 'y'))),
      expect: 'allowed',
      evaluated: TENANT_POD_POLICIES,
    },
  ]);
});

describe(ISOLATION_ROWS.tolerations, () => {
  replay('tolerations', [
    { what: 'an analytics pod tolerates every taint', request: create(engineer, pod('analytics', 'everywhere', { tolerations: [{ operator: 'Exists' }] })), expect: [P.tolerations] },
    { what: 'an analytics pod tolerates the system nodes', request: create(engineer, pod('analytics', 'system', { tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }] })), expect: [P.tolerations] },
    { what: 'a kube-system add-on tolerates the system nodes', request: create(admin, pod('kube-system', 'addon', { tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }] })), expect: 'allowed' },
  ]);
});

describe(ISOLATION_ROWS.services, () => {
  const svc = (namespace: string, name: string, spec: Json) => object('v1', 'Service', namespace, name, { spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec } });
  const clusterIp = svc('analytics', 'api', { type: 'ClusterIP' });
  replay('services', [
    { what: 'an analytics Service claims an external IP (CVE-2020-8554)', request: create(engineer, svc('analytics', 'mitm', { type: 'ClusterIP', externalIPs: ['8.8.8.8'] })), expect: [P.services], message: /CVE-2020-8554/ },
    { what: 'an analytics engineer adds an external IP to an existing Service', request: update(engineer, clusterIp, edited(clusterIp, (s) => (s.spec.externalIPs = ['10.10.0.10']))), expect: [P.services] },
    { what: 'an analytics Service of type LoadBalancer', request: create(engineer, svc('analytics', 'ui', { type: 'LoadBalancer' })), expect: [P.services], message: /type LoadBalancer are not allowed in namespace analytics: add LoadBalancer to network\.serviceTypes in tenants\/analytics\/tenant\.yaml/ },
    { what: 'an analytics Service of type NodePort', request: create(engineer, svc('analytics', 'ui2', { type: 'NodePort' })), expect: [P.services] },
    { what: 'a risk-models LoadBalancer (listed in network.serviceTypes)', request: create(quant, svc('risk-models', 'reports', { type: 'LoadBalancer' })), expect: 'allowed', evaluated: [ADMISSION_POLICY_NAMES.tenantServices] },
    { what: 'a risk-models NodePort (not listed)', request: create(quant, svc('risk-models', 'reports2', { type: 'NodePort' })), expect: [P.services] },
    { what: 'an analytics ClusterIP Service', request: create(engineer, clusterIp), expect: 'allowed', evaluated: [ADMISSION_POLICY_NAMES.tenantServices] },
    { what: 'an analytics ExternalName alias', request: create(engineer, svc('analytics', 'warehouse', { type: 'ExternalName', externalName: 'warehouse.example.com', ports: undefined })), expect: 'allowed' },
    {
      what: 'an analytics engineer labels its namespace to allow LoadBalancers',
      request: update(engineer, cluster.tenant('analytics').namespace, edited(cluster.tenant('analytics').namespace, (ns) => ((ns.metadata.labels as Json)['spark-platform.io/service-type-loadbalancer'] = 'true'))),
      expect: ['authorization', P.protect],
    },
  ]);
});

describe(ISOLATION_ROWS.impersonation, () => {
  const asDefault = serviceAccount('analytics', 'default', analyticsCi);
  const asEmrDriver = serviceAccount('analytics', emrCreators(analyticsJob).executors.username.split(':')[3]!, engineer);
  const prometheusRule = object('monitoring.coreos.com/v1', 'PrometheusRule', 'monitoring', 'spark-platform', { spec: { groups: [] } }, { 'spark-platform.io/managed-by': 'platform' });
  replay('impersonation', [
    { what: 'the analytics CI role, as the namespace default service account, deletes default-deny', request: remove(asDefault, defaultDeny), expect: [P.protect] },
    { what: 'an analytics engineer, as the EMR driver service account, deletes the LimitRange', request: remove(asEmrDriver, limitRange), expect: [P.protect] },
    { what: 'an analytics engineer, as the default service account, creates an allow-all NetworkPolicy', request: create(asDefault, object('networking.k8s.io/v1', 'NetworkPolicy', 'analytics', 'sa-allow', { spec: { podSelector: {}, ingress: [{}] } })), expect: [P.networkPolicies] },
    { what: 'an analytics engineer impersonates a risk-models service account', request: create(serviceAccount('risk-models', 'default', engineer), object('v1', 'ConfigMap', 'risk-models', 'x')), expect: ['impersonation'] },
    {
      what: "the Prometheus operator's service account updates a platform-labelled rule in monitoring",
      request: { ...update(serviceAccount('monitoring', 'kube-prometheus-stack-operator'), prometheusRule, prometheusRule), resource: { group: 'monitoring.coreos.com', version: 'v1', resource: 'prometheusrules' } },
      expect: 'allowed',
      evaluated: [ADMISSION_POLICY_NAMES.protectPlatformObjects],
    },
  ]);
});

function emrRequests(job: EmrJob): Case[] {
  const creators = emrCreators(job);
  const t = job.namespace;
  return [
    ...emrJobObjects(job).map((o): Case => ({ what: `${t}: EMR creates ${o.kind} ${o.metadata!.name}`, request: create(emrService(), o), expect: 'allowed' })),
    { what: `${t}: the Job controller creates the job submitter pod`, request: create(JOB_CONTROLLER, jobRunnerPod(job)), expect: 'allowed', evaluated: TENANT_POD_POLICIES },
    { what: `${t}: spark-submit creates the driver pod from the tenant's template`, request: create(creators.driver, driverPod(job)), expect: 'allowed', evaluated: TENANT_POD_POLICIES },
    { what: `${t}: spark-submit creates the driver's headless Service`, request: create(creators.driver, driverService(job)), expect: 'allowed', evaluated: [ADMISSION_POLICY_NAMES.tenantServices] },
    { what: `${t}: the driver creates executor 1 from the tenant's template`, request: create(creators.executors, executorPod(job, 1)), expect: 'allowed', evaluated: TENANT_POD_POLICIES },
    { what: `${t}: the driver creates executor 2`, request: create(creators.executors, executorPod(job, 2)), expect: 'allowed' },
  ];
}

describe(ISOLATION_ROWS.emr, () => {
  replay('emr', [...emrRequests(analyticsJob), ...emrRequests(riskJob)]);

  it("builds EMR's pods from the synthesized templates (placement, class, service accounts)", () => {
    const risk = driverPod(riskJob) as { spec: Json };
    assert.equal(risk.spec.priorityClassName, 'spark-driver-high');
    assert.equal((risk.spec.nodeSelector as Json)['spark-platform.io/tenant'], 'risk-models');
    assert.match(String(risk.spec.serviceAccountName), new RegExp(`^emr-containers-sa-spark-driver-${ACCOUNT}-`));
    assert.equal((jobRunnerPod(analyticsJob).spec as { nodeSelector: Json }).nodeSelector['topology.kubernetes.io/zone'], 'us-west-2a');
  });

  it("takes no decision on EMR's own requests from its Kubernetes username (not documented for access entries)", () => {
    const other = emrService(`arn:aws:sts::${ACCOUNT}:assumed-role/AWSServiceRoleForAmazonEMRContainers/emr-containers`);
    for (const o of [...emrJobObjects(analyticsJob), jobRunnerPod(analyticsJob), driverPod(riskJob)]) {
      assert.deepEqual(cluster.admit(create(other, o)).deniedBy, cluster.admit(create(emrService(), o)).deniedBy);
    }
  });
});

describe(ISOLATION_ROWS.platform, () => {
  const driverClass = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'spark-driver-high', labels: { 'spark-platform.io/managed-by': 'platform' } }, value: 1000000, globalDefault: false } as KubeObject;
  replay('platform', [
    { what: 'Terraform creates the analytics namespace with its labels', request: create(terraform, cluster.tenant('analytics').namespace), expect: 'allowed' },
    { what: 'Terraform raises the analytics compute quota', request: update(terraform, computeQuota, edited(computeQuota, (q) => ((q.spec.hard as Json)['requests.cpu'] = '500'))), expect: 'allowed' },
    { what: 'Terraform replaces default-deny (delete)', request: remove(terraform, defaultDeny), expect: 'allowed' },
    { what: 'Terraform updates the platform PriorityClass (cluster-scoped, labelled)', request: update(terraform, driverClass, driverClass), expect: 'allowed' },
    { what: 'Terraform applies an admission policy of the tenancy stack', request: create(terraform, JSON.parse(JSON.stringify(tenancyAdmissionObjects()[0]!.toJSON())) as KubeObject), expect: 'allowed' },
    { what: 'a platform admin deletes a tenant pod', request: remove(admin, pod('analytics', 'stuck')), expect: 'allowed' },
    {
      what: 'the quota controller updates the analytics quota status',
      request: { ...update(RESOURCE_QUOTA_CONTROLLER, computeQuota, { ...computeQuota, status: { used: { pods: '3' } } }), subResource: 'status' },
      expect: 'allowed',
    },
    { what: 'an analytics engineer cannot delete the PriorityClass (cluster-scoped)', request: remove(engineer, driverClass), expect: ['authorization', P.protect] },
  ]);
});

// A tenant added as a folder: nothing else changes, and it gets the same isolation.
const marketingRoot = temporaryRoot({
  keepFixtureTenants: true,
  tenants: {
    marketing: {
      name: 'marketing',
      owners: [`arn:aws:iam::${ACCOUNT}:role/marketing-engineers`],
      quota: { cpu: '64', memory: '256Gi', maxConcurrentJobs: 2 },
      spark: { dedicatedNodes: true },
      network: { egress: [{ cidr: '10.20.0.0/16', ports: [5432] }], serviceTypes: ['NodePort'] },
    },
  },
});
const withMarketing = PlatformCluster.fromRepository(marketingRoot, env);

describe(ISOLATION_ROWS.newTenant, () => {
  const marketing = withMarketing.tenant('marketing');
  const job = emrJob(marketing, '0000000abcmarketing01', 'us-west-2c');
  const marketer = tenantOwner('marketing', `arn:aws:iam::${ACCOUNT}:role/marketing-engineers`);
  const svc = (type: string) => object('v1', 'Service', 'marketing', `ui-${type.toLowerCase()}`, { spec: { type, selector: { app: 'ui' }, ports: [{ port: 80 }] } });

  it('leaves the tenancy stack unchanged (the policies are generic)', () => {
    assert.deepEqual(synthStack('tenancy', env, marketingRoot).resource, synthStack('tenancy').resource);
  });

  replay(
    'newTenant',
    [
      ...emrRequests(job),
      { what: 'marketing: a third concurrent driver (maxConcurrentJobs 2)', request: create(emrCreators(job).driver, driverPod(job)), options: { existingPods: runningDrivers(marketing, 2) }, expect: ['quota:spark-drivers'] },
      { what: 'marketing: a NodePort Service (listed)', request: create(marketer, svc('NodePort')), expect: 'allowed' },
      { what: 'marketing: a LoadBalancer Service (not listed)', request: create(marketer, svc('LoadBalancer')), expect: [P.services] },
      { what: 'marketing: an engineer tolerates the risk-models nodes', request: create(marketer, pod('marketing', 'squat', { tolerations: [riskToleration] })), expect: [P.nodeIsolation] },
      { what: 'analytics: a pod tolerates the new marketing nodes', request: create(engineer, pod('analytics', 'squat-m', { tolerations: [{ key: 'spark-platform.io/tenant', operator: 'Equal', value: 'marketing' }] })), expect: [P.nodeIsolation] },
      { what: 'marketing: an engineer deletes its default-deny', request: remove(marketer, withMarketing.platformObject('marketing', 'NetworkPolicy', 'default-deny')), expect: [P.protect] },
      { what: 'marketing: an engineer creates a NetworkPolicy', request: create(marketer, object('networking.k8s.io/v1', 'NetworkPolicy', 'marketing', 'mine', { spec: { podSelector: {} } })), expect: [P.networkPolicies] },
    ],
    withMarketing,
  );

  it('opens exactly the declared egress of the new tenant', () => {
    const from = { pod: { namespace: 'marketing', labels: { 'spark-role': 'executor' } } };
    assert.equal(withMarketing.connection({ from, to: { ip: '10.20.8.1' }, port: 5432 }).allowed, true);
    assert.equal(withMarketing.connection({ from, to: { ip: '10.20.8.1' }, port: 5433 }).allowed, false);
    assert.equal(withMarketing.connection({ from, to: { pod: { namespace: 'analytics' } }, port: 7079 }).allowed, false);
  });
});

describe('replayed requests', () => {
  const allowedCount = defined.filter((d) => d.expectAllowed).length;
  it(`cover every row of the isolation table: ${defined.length} requests, ${allowedCount} allowed and ${defined.length - allowedCount} denied`, () => {
    assert.equal(replayed.length, defined.length, 'every request was replayed');
    const rows = new Set(replayed.map((r) => r.row));
    const withRequests = Object.keys(ISOLATION_ROWS).filter((row) => row !== 'traffic');
    expect([...rows].sort()).toEqual(withRequests.sort());
    assert.ok(replayed.length >= 40, `${replayed.length} requests`);
    const allowed = replayed.filter((r) => r.allowed).length;
    assert.ok(allowed > 0 && allowed < replayed.length);
    for (const row of ['access', 'platformObjects', 'networkPolicies', 'podSecurity', 'sparkPriority', 'dedicatedNodes', 'nodeName', 'tolerations', 'services']) {
      const outcomes = new Set(replayed.filter((r) => r.row === row).map((r) => r.allowed));
      assert.ok(outcomes.has(false), `row ${row} has a denied request`);
    }
  });

  it("are named by the README's isolation table, row by row, as are the other tests it cites", () => {
    const readme = readFileSync(join(SOURCE_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Isolation model'), readme.indexOf('### Onboarding a team'));
    const cited = [...section.matchAll(/`([\w.-]+) › ([^`]+)`/g)].map((m) => [m[1]!, m[2]!] as const);
    const self = 'tenant-isolation.test.ts';
    expect(new Set(cited.filter(([file]) => file === self).map(([, name]) => name))).toEqual(new Set(Object.values(ISOLATION_ROWS)));
    for (const [file, name] of cited.filter(([f]) => f !== self)) {
      const source = readFileSync(join(SOURCE_ROOT, 'test', file), 'utf8');
      assert.ok(source.includes(`it('${name}'`), `README cites ${file} › ${name}, which is not a test there`);
    }
  });
});
