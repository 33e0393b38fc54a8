/**
 * The pods and objects one EMR on EKS job creates in a tenant namespace, built from what the
 * platform really hands EMR: the tenant's pod templates as the tenant stack writes them to S3, and
 * the StartJobRun request the job CLI builds (Spark conf, job submitter classification).
 *
 * Who creates what (EMR on EKS development guide; public analyses of EMR 6.x/7.x job pods):
 * - EMR, as its service-linked role, creates the job's ConfigMaps, Secret, service accounts, Roles
 *   and RoleBindings and a batch/v1 Job; the Job controller creates the job submitter (job runner)
 *   pod, running as the `spark-client` service account and placed by the `emr-job-submitter`
 *   classification;
 * - spark-submit in that pod creates the driver pod (template merged with Spark's own settings) and
 *   its headless Service; the driver (service account `spark-driver`) creates the executors
 *   (service account `spark-executor`).
 * - Spark merges the template: its labels and annotations, node selector (plus
 *   `spark.kubernetes.[driver.|executor.]node.selector.*`), tolerations, affinity and PriorityClass
 *   stay; Spark sets names, service account, images, ports, resources, volumes and `restartPolicy`.
 *   EMR adds its log-shipping sidecar (`emr-container-fluentd`) when the job has a
 *   monitoringConfiguration, which every job of this platform has.
 * Container images, resources and the job runner's container names are representative: no
 * policy reads them, and only a live cluster shows them exactly (see README, isolation limits).
 */
import type { StartJobRunRequest } from '@aws-sdk/client-emr-containers';
import { emrPodIdentityServiceAccounts } from '../../../modules/emr-on-eks/identity.js';
import { SPARK_CONTAINERS } from '../../../modules/tenant/pod-templates.js';
import { type Identity, JOB_CONTROLLER, serviceAccount } from './identities.js';
import type { KubeObject } from './vap.js';

type Json = Record<string, unknown>;

export interface EmrJob {
  /** Namespace = tenant name. */
  readonly namespace: string;
  readonly accountId: string;
  /** Literal name of the tenant's job execution role (EMR encodes it in service account names). */
  readonly executionRoleName: string;
  readonly virtualClusterId: string;
  /** The tenant's pod templates, parsed from the S3 objects of its stack. */
  readonly driverTemplate: KubeObject;
  readonly executorTemplate: KubeObject;
  /** What the job CLI submits. */
  readonly request: StartJobRunRequest;
  /** EMR's job run id. */
  readonly jobId: string;
}

export interface EmrServiceAccounts {
  readonly client: string;
  readonly driver: string;
  readonly executor: string;
}

export function emrServiceAccounts(job: Pick<EmrJob, 'accountId' | 'executionRoleName'>): EmrServiceAccounts {
  const [client, driver, executor] = emrPodIdentityServiceAccounts(job.accountId, job.executionRoleName) as [string, string, string];
  return { client, driver, executor };
}

/** The identities that send the job's pod requests. */
export function emrCreators(job: EmrJob): { jobRunner: Identity; driver: Identity; executors: Identity } {
  const accounts = emrServiceAccounts(job);
  return { jobRunner: JOB_CONTROLLER, driver: serviceAccount(job.namespace, accounts.client), executors: serviceAccount(job.namespace, accounts.driver) };
}

/** Every `--conf key=value` of the job driver parameters, over the `spark-defaults` classification. */
export function sparkConf(request: StartJobRunRequest): Record<string, string> {
  const defaults = request.configurationOverrides?.applicationConfiguration?.find((c) => c.classification === 'spark-defaults')?.properties ?? {};
  const parameters = request.jobDriver?.sparkSubmitJobDriver?.sparkSubmitParameters ?? request.jobDriver?.sparkSqlJobDriver?.sparkSqlParameters ?? '';
  const conf: Record<string, string> = { ...defaults };
  for (const match of parameters.matchAll(/--conf ([^=\s]+)=('(?:[^']|'"'"')*'|\S+)/g)) {
    const raw = match[2]!;
    conf[match[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'"'"'/g, "'") : raw;
  }
  return conf;
}

function prefixed(conf: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(conf).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

const EMR_LABELS = (job: EmrJob) => ({
  'emr-containers.amazonaws.com/job.id': job.jobId,
  'emr-containers.amazonaws.com/virtual-cluster-id': job.virtualClusterId,
});

const EMR_IMAGE = '895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.12.0:latest';
const FLUENTD = (job: EmrJob): Json => ({
  name: 'emr-container-fluentd',
  image: '895885662937.dkr.ecr.us-west-2.amazonaws.com/fluentd/emr-7.12.0:latest',
  resources: { requests: { cpu: '200m', memory: '512Mi' }, limits: { memory: '512Mi' } },
  volumeMounts: [
    { name: 'config-volume', mountPath: '/etc/fluent/fluent.conf', subPath: 'fluent.conf' },
    { name: 'emr-container-application-log-dir', mountPath: '/var/log/spark/user' },
  ],
  env: [{ name: 'JOB_ID', value: job.jobId }],
});
const SPARK_SECURITY = { runAsUser: 999, runAsGroup: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const EMR_VOLUMES = (job: EmrJob): Json[] => [
  { name: 'emr-container-communicate', emptyDir: {} },
  { name: 'emr-container-application-log-dir', emptyDir: {} },
  { name: 'emr-container-event-log-dir', emptyDir: {} },
  { name: 'temp-data-dir', emptyDir: {} },
  { name: 'mnt-dir', emptyDir: {} },
  { name: 'home-dir', emptyDir: {} },
  { name: 'config-volume', configMap: { name: `fluentd-${job.virtualClusterId}-${job.jobId}` } },
  { name: 'spark-defaults', configMap: { name: `${job.jobId}-spark-defaults` } },
  { name: 'emr-container-s3', secret: { secretName: `emr-containers-s3-${job.virtualClusterId}-${job.jobId}` } },
];

/** The job submitter pod, as the Job controller creates it from EMR's Job. */
export function jobRunnerPod(job: EmrJob): KubeObject {
  const submitter = job.request.configurationOverrides?.applicationConfiguration?.find((c) => c.classification === 'emr-job-submitter')?.properties ?? {};
  const nodeSelector = prefixed(submitter, 'jobsubmitter.node.selector.');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${job.jobId}-x2v9q`,
      namespace: job.namespace,
      labels: { ...EMR_LABELS(job), 'job-name': job.jobId, 'batch.kubernetes.io/job-name': job.jobId, 'batch.kubernetes.io/controller-uid': '5c0d6f0e-1b7a-4d9e-9a3f-0c2e7b1d4a11' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.jobId, uid: '5c0d6f0e-1b7a-4d9e-9a3f-0c2e7b1d4a11', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      serviceAccountName: emrServiceAccounts(job).client,
      restartPolicy: 'Never',
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      securityContext: { fsGroup: 65534 },
      containers: [
        { name: 'job-runner', image: EMR_IMAGE, securityContext: SPARK_SECURITY, volumeMounts: [{ name: 'emr-container-communicate', mountPath: '/var/log/fluentd' }] },
        { ...FLUENTD(job), name: 'job-runner-logging', resources: { requests: { cpu: '100m', memory: '200Mi' } } },
      ],
      volumes: EMR_VOLUMES(job),
    },
  };
}

function sparkPod(job: EmrJob, role: 'driver' | 'executor', index = 1): KubeObject {
  const template = structuredClone(role === 'driver' ? job.driverTemplate : job.executorTemplate) as Json & { metadata?: Json; spec: Json };
  const conf = sparkConf(job.request);
  const appId = `spark-${job.jobId}`;
  const templateMetadata = template.metadata ?? {};
  const labels = {
    ...((templateMetadata.labels as Record<string, string> | undefined) ?? {}),
    ...EMR_LABELS(job),
    'emr-containers.amazonaws.com/component': role,
    'spark-app-selector': appId,
    'spark-app-name': job.request.name ?? 'job',
    'spark-role': role,
    'spark-version': '3.5.6-amzn-1',
    ...(role === 'executor' ? { 'spark-exec-id': String(index), 'spark-exec-resourceprofile-id': '0' } : {}),
  };
  const annotations = { ...((templateMetadata.annotations as Record<string, string> | undefined) ?? {}), ...prefixed(conf, `spark.kubernetes.${role}.annotation.`) };
  const nodeSelector = {
    ...((template.spec.nodeSelector as Record<string, string> | undefined) ?? {}),
    ...prefixed(conf, 'spark.kubernetes.node.selector.'),
    ...prefixed(conf, `spark.kubernetes.${role}.node.selector.`),
  };
  const templateContainers = (template.spec.containers as Json[] | undefined) ?? [];
  const main = templateContainers.find((c) => c.name === SPARK_CONTAINERS[role]) ?? { name: SPARK_CONTAINERS[role] };
  const accounts = emrServiceAccounts(job);
  const volumes: Json[] = [...((template.spec.volumes as Json[] | undefined) ?? []), ...EMR_VOLUMES(job)];
  if (role === 'executor') {
    const pvc = conf['spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName'];
    volumes.push(pvc ? { name: 'spark-local-dir-1', persistentVolumeClaim: { claimName: `${appId}-exec-${index}-pvc-0` } } : { name: 'spark-local-dir-1', emptyDir: {} });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: role === 'driver' ? `${appId}-driver` : `${appId}-exec-${index}`,
      namespace: job.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(role === 'executor' ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: `${appId}-driver`, uid: '9e3b2d1c-7f4a-4c0e-8d6b-2a1f0e9c8b7d', controller: true }] } : {}),
    },
    spec: {
      ...template.spec,
      nodeSelector,
      serviceAccountName: role === 'driver' ? accounts.driver : accounts.executor,
      restartPolicy: 'Never',
      securityContext: { fsGroup: 65534 },
      containers: [
        {
          ...main,
          image: EMR_IMAGE,
          args: role === 'driver' ? ['driver', '--properties-file', '/usr/lib/spark/conf/spark.properties'] : ['executor'],
          ports: role === 'driver' ? [{ name: 'driver-rpc-port', containerPort: 7078 }, { name: 'blockmanager', containerPort: 7079 }, { name: 'spark-ui', containerPort: 4040 }] : [{ name: 'blockmanager', containerPort: 7079 }],
          resources: { requests: { cpu: '1', memory: '4505Mi' }, limits: { memory: '4505Mi' } },
          securityContext: SPARK_SECURITY,
          volumeMounts: [
            { name: 'emr-container-communicate', mountPath: '/var/log/fluentd' },
            { name: 'emr-container-application-log-dir', mountPath: '/var/log/spark/user' },
            { name: 'spark-defaults', mountPath: '/usr/lib/spark/conf/spark-defaults.conf', subPath: 'spark-defaults.conf' },
            ...(role === 'executor' ? [{ name: 'spark-local-dir-1', mountPath: '/data/spark-local' }] : []),
          ],
        },
        ...templateContainers.filter((c) => c !== main),
        FLUENTD(job),
      ],
      volumes,
    },
  };
}

export function driverPod(job: EmrJob): KubeObject {
  return sparkPod(job, 'driver');
}

export function executorPod(job: EmrJob, index = 1): KubeObject {
  return sparkPod(job, 'executor', index);
}

/** The driver's headless Service (spark-submit creates it beside the driver pod). */
export function driverService(job: EmrJob): KubeObject {
  const appId = `spark-${job.jobId}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${appId}-driver-svc`, namespace: job.namespace, labels: { 'spark-app-selector': appId } },
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      selector: { 'spark-app-selector': appId, 'spark-role': 'driver' },
      ports: [
        { name: 'driver-rpc-port', port: 7078, targetPort: 7078, protocol: 'TCP' },
        { name: 'blockmanager', port: 7079, targetPort: 7079, protocol: 'TCP' },
        { name: 'spark-ui', port: 4040, targetPort: 4040, protocol: 'TCP' },
      ],
    },
  };
}

/** What EMR itself (its service-linked identity) creates before the job runs. */
export function emrJobObjects(job: EmrJob): KubeObject[] {
  const labels = { ...EMR_LABELS(job), 'emr-containers.amazonaws.com/job.configuration': 'true' };
  const accounts = emrServiceAccounts(job);
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${job.jobId}-spark-defaults`, namespace: job.namespace, labels }, data: { 'spark-defaults.conf': '' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `podtemplate-${job.jobId}`, namespace: job.namespace, labels }, data: {} },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `emr-containers-s3-${job.virtualClusterId}-${job.jobId}`, namespace: job.namespace, labels }, type: 'Opaque' },
    ...Object.values(accounts).map((name): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: job.namespace } })),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `emr-containers-role-spark-driver`, namespace: job.namespace },
      rules: [{ apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims'], verbs: ['*'] }],
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: job.jobId, namespace: job.namespace, labels: EMR_LABELS(job) },
      spec: { backoffLimit: 0, template: { spec: { serviceAccountName: accounts.client, restartPolicy: 'Never', containers: [{ name: 'job-runner', image: EMR_IMAGE }] } } },
    },
  ];
}
