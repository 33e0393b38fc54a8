/**
 * The example tenant stacks, resource by resource: namespace-as-a-service objects, EMR on EKS
 * (virtual cluster, execution role trust and policy, Pod Identity), access entries, data bucket,
 * log group, pod templates in S3, dedicated NodePools and the output contract.
 */
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { parse } from 'yaml';
import { base36 } from '../modules/emr-on-eks/identity.js';
import type { PolicyDocument, PolicyStatement } from '../modules/iam/policy.js';
import { MANAGED_BY_LABEL, TENANT_KEY } from '../modules/scheduling/spark-pools.js';
import { TENANT_OUTPUTS } from '../stacks/tenant/contract.js';
import { resourceLike, resourcesOf, synthStack, temporaryRoot, type TerraformJson } from './support/synth.js';

const analytics = synthStack('tenant-analytics');
const risk = synthStack('tenant-risk-models');

const CLUSTER_STATE = 'data.terraform_remote_state.remote-state-cluster.outputs';
const ACCOUNT = '111122223333';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };

function manifests(tf: TerraformJson): { id: string; manifest: Manifest; dependsOn: string[] }[] {
  return Object.entries(resourcesOf(tf, 'kubernetes_manifest')).map(([id, r]) => ({
    id,
    manifest: r.manifest as Manifest,
    dependsOn: (r.depends_on as string[] | undefined) ?? [],
  }));
}

function manifest(tf: TerraformJson, kind: string, name: string): Manifest {
  const found = manifests(tf).filter((m) => m.manifest.kind === kind && m.manifest.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0]!.manifest;
}

function policyOf(resource: Record<string, unknown>, field: string): PolicyDocument {
  return JSON.parse(resource[field] as string) as PolicyDocument;
}

function statement(doc: PolicyDocument, sid: string): PolicyStatement {
  const found = doc.Statement.find((s) => s.Sid === sid);
  assert.ok(found, `statement ${sid} in ${JSON.stringify(doc.Statement.map((s) => s.Sid))}`);
  return found;
}

function ref(tf: TerraformJson, type: string, idPart: string, attribute: string): string {
  const id = Object.keys(resourcesOf(tf, type)).find((k) => k.includes(idPart));
  assert.ok(id, `${type} ${idPart}`);
  return `\${${type}.${id}.${attribute}}`;
}

describe('tenant stack: state, providers, dependencies', () => {
  it('has its own state key and the AWS and kubernetes providers', () => {
    assert.equal((analytics.terraform.backend!.s3 as { key: string }).key, 'dev/tenant-analytics.tfstate');
    assert.equal((risk.terraform.backend!.s3 as { key: string }).key, 'dev/tenant-risk-models.tfstate');
    assert.deepEqual(Object.keys(analytics.provider!).sort(), ['aws', 'kubernetes']);
    assert.equal(analytics.provider!.aws![0]!.default_tags && (analytics.provider!.aws![0]!.default_tags as { tags: Record<string, string> }[])[0]!.tags['platform:stack'], 'tenant-analytics');
    assert.deepEqual(Object.keys(analytics.data!.terraform_remote_state!), ['remote-state-cluster']);
  });
});

describe('tenant stack: namespace as a service', () => {
  it('creates the namespace with Pod Security Admission and platform labels', () => {
    const ns = manifest(analytics, 'Namespace', 'analytics');
    assert.deepEqual(ns.metadata.labels, {
      'spark-platform.io/managed-by': 'platform',
      'spark-platform.io/tenant': 'analytics',
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': 'v1.36',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.36',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.36',
    });
  });

  it('creates every namespaced object after the namespace, labelled as platform-owned', () => {
    const all = manifests(analytics);
    const nsId = all.find((m) => m.manifest.kind === 'Namespace')!.id;
    const namespaced = all.filter((m) => m.manifest.kind !== 'Namespace');
    assert.deepEqual(namespaced.map((m) => `${m.manifest.kind}/${m.manifest.metadata.name}`).sort(), [
      'LimitRange/container-defaults',
      'NetworkPolicy/allow-dns',
      'NetworkPolicy/allow-https-egress',
      'NetworkPolicy/allow-monitoring',
      'NetworkPolicy/allow-same-namespace',
      'NetworkPolicy/default-deny',
      'ResourceQuota/compute',
      'ResourceQuota/platform-priority-classes',
      'ResourceQuota/spark-drivers',
    ]);
    for (const m of namespaced) {
      assert.equal(m.manifest.metadata.namespace, 'analytics');
      assert.equal(m.manifest.metadata.labels![MANAGED_BY_LABEL], 'platform');
      assert.deepEqual(m.dependsOn, [`kubernetes_manifest.${nsId}`]);
    }
  });

  it('sets the compute quota from the tenant file', () => {
    assert.deepEqual(manifest(analytics, 'ResourceQuota', 'compute').spec, { hard: { 'requests.cpu': '400', 'requests.memory': '1600Gi', pods: '2000' } });
    assert.deepEqual(manifest(risk, 'ResourceQuota', 'compute').spec, { hard: { 'requests.cpu': '200', 'requests.memory': '800Gi' } });
  });

  it('forbids every PriorityClass but the Spark ones with a zero-pod scoped quota', () => {
    assert.deepEqual(manifest(analytics, 'ResourceQuota', 'platform-priority-classes').spec, {
      hard: { pods: '0' },
      scopeSelector: {
        matchExpressions: [
          { scopeName: 'PriorityClass', operator: 'Exists' },
          { scopeName: 'PriorityClass', operator: 'NotIn', values: ['spark-driver-high', 'spark-executor-low'] },
        ],
      },
    });
  });

  it('caps concurrent Spark drivers with a quota on the driver PriorityClass (maxConcurrentJobs, default 20)', () => {
    const spec = (tf: TerraformJson) => manifest(tf, 'ResourceQuota', 'spark-drivers').spec;
    const scope = { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['spark-driver-high'] }] } };
    assert.deepEqual(spec(analytics), { hard: { pods: '20' }, ...scope });
    assert.deepEqual(spec(risk), { hard: { pods: '10' }, ...scope });
  });

  it('gives containers without requests small defaults and no default limits', () => {
    assert.deepEqual(manifest(analytics, 'LimitRange', 'container-defaults').spec, {
      limits: [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '256Mi' } }],
    });
  });

  it('denies all traffic by default and opens only DNS, the namespace, monitoring on 4040 and HTTPS', () => {
    assert.deepEqual(manifest(analytics, 'NetworkPolicy', 'default-deny').spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    assert.deepEqual(manifest(analytics, 'NetworkPolicy', 'allow-dns').spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    assert.deepEqual(manifest(analytics, 'NetworkPolicy', 'allow-same-namespace').spec, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    assert.deepEqual(manifest(analytics, 'NetworkPolicy', 'allow-monitoring').spec, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 4040 }] }],
    });
    assert.deepEqual(manifest(analytics, 'NetworkPolicy', 'allow-https-egress').spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] }],
    });
  });

  it('turns network.egress and network.ingress into platform-owned policies, and network.serviceTypes into namespace labels', () => {
    assert.equal(manifests(analytics).some((m) => m.manifest.metadata.name.startsWith('allow-declared-')), false);
    assert.deepEqual(manifest(risk, 'NetworkPolicy', 'allow-declared-egress').spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.30.0.0/16' } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    });
    assert.deepEqual(manifest(risk, 'NetworkPolicy', 'allow-declared-ingress').spec, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'airflow' } } }], ports: [{ protocol: 'TCP', port: 4040 }] }],
    });
    assert.equal(manifest(risk, 'NetworkPolicy', 'allow-declared-egress').metadata.labels![MANAGED_BY_LABEL], 'platform');
    assert.equal(manifest(risk, 'Namespace', 'risk-models').metadata.labels!['spark-platform.io/service-type-loadbalancer'], 'true');
    assert.equal(manifest(risk, 'Namespace', 'risk-models').metadata.labels!['spark-platform.io/service-type-nodeport'], undefined);
  });

  it('keeps link-local addresses (IMDS) out of a declared CIDR that spans them', () => {
    const root = temporaryRoot({
      tenants: { wide: { name: 'wide', owners: [`arn:aws:iam::${ACCOUNT}:role/wide`], quota: { cpu: '8', memory: '32Gi' }, network: { egress: [{ cidr: '0.0.0.0/0', ports: [80, 8080] }] } } },
    });
    const tf = synthStack('tenant-wide', undefined, root);
    assert.deepEqual((manifest(tf, 'NetworkPolicy', 'allow-declared-egress').spec as { egress: unknown[] }).egress, [
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 8080 }] },
    ]);
  });

  it('opens the Pod Identity agent only for pod-identity tenants', () => {
    assert.equal(manifests(analytics).some((m) => m.manifest.metadata.name === 'allow-pod-identity-agent'), false);
    assert.deepEqual(manifest(risk, 'NetworkPolicy', 'allow-pod-identity-agent').spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] }],
    });
  });
});

describe('tenant stack: EMR on EKS', () => {
  it('registers the virtual cluster on the namespace, after the namespace exists', () => {
    const nsId = manifests(analytics).find((m) => m.manifest.kind === 'Namespace')!.id;
    const vc = resourceLike(analytics, 'aws_emrcontainers_virtual_cluster', 'virtual-cluster');
    assert.equal(vc.name, 'spark-dev-analytics');
    assert.deepEqual(vc.container_provider, { id: `\${${CLUSTER_STATE}.clusterName}`, type: 'EKS', info: { eks_info: { namespace: 'analytics' } } });
    assert.deepEqual(vc.depends_on, [`kubernetes_manifest.${nsId}`]);
  });

  it('trusts exactly the service accounts EMR creates for the role in the namespace (IRSA)', () => {
    const role = resourceLike(analytics, 'aws_iam_role', 'job-execution');
    assert.equal(role.name, 'spark-dev-analytics-emr-job');
    const encoded = base36('spark-dev-analytics-emr-job');
    assert.deepEqual(policyOf(role, 'assume_role_policy'), {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `\${${CLUSTER_STATE}.oidcProviderArn}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringLike: { [`\${${CLUSTER_STATE}.oidcIssuerHostPath}:sub`]: `system:serviceaccount:analytics:emr-containers-sa-*-*-${ACCOUNT}-${encoded}` },
            StringEquals: { [`\${${CLUSTER_STATE}.oidcIssuerHostPath}:aud`]: 'sts.amazonaws.com' },
          },
        },
      ],
    });
    assert.deepEqual(resourcesOf(analytics, 'aws_eks_pod_identity_association'), {});
  });

  it('uses EKS Pod Identity with the three EMR service accounts for pod-identity tenants', () => {
    const role = resourceLike(risk, 'aws_iam_role', 'job-execution');
    const roleName = 'spark-dev-risk-models-emr-job';
    assert.equal(role.name, roleName);
    const suffix = `${ACCOUNT}-${base36(roleName)}`;
    const accounts = ['client', 'driver', 'executor'].map((c) => `emr-containers-sa-spark-${c}-${suffix}`);
    assert.deepEqual(policyOf(role, 'assume_role_policy').Statement, [
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/kubernetes-namespace': 'risk-models', 'aws:RequestTag/kubernetes-service-account': accounts },
          ArnEquals: { 'aws:SourceArn': `\${${CLUSTER_STATE}.clusterArn}` },
        },
      },
    ]);
    const associations = Object.values(resourcesOf(risk, 'aws_eks_pod_identity_association'));
    assert.deepEqual(
      associations.map((a) => a.service_account).sort(),
      accounts,
    );
    for (const a of associations) {
      assert.equal(a.cluster_name, `\${${CLUSTER_STATE}.clusterName}`);
      assert.equal(a.namespace, 'risk-models');
      assert.equal(a.role_arn, ref(risk, 'aws_iam_role', 'job-execution', 'arn'));
    }
  });

  it('scopes the execution role to the tenant bucket, key and log group (IRSA example, no extra data)', () => {
    const bucketArn = ref(analytics, 'aws_s3_bucket', 'data', 'arn');
    const keyArn = ref(analytics, 'aws_kms_key', 'data', 'arn');
    const logArn = ref(analytics, 'aws_cloudwatch_log_group', 'job-logs', 'arn');
    const policy = policyOf(resourceLike(analytics, 'aws_iam_role_policy', 'job-execution'), 'policy');
    assert.deepEqual(policy.Statement, [
      { Sid: 'TenantBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
      {
        Sid: 'TenantObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `${bucketArn}/*`,
      },
      { Sid: 'PodTemplatesAreManagedByThePlatform', Effect: 'Deny', Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], Resource: `${bucketArn}/pod-templates/*` },
      { Sid: 'TenantBucketKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn },
      { Sid: 'JobLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: [logArn, `${logArn}:*`] },
      { Sid: 'FindJobLogGroup', Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: `arn:aws:logs:us-west-2:${ACCOUNT}:log-group:*` },
    ]);
  });

  it('adds read buckets and Glue databases by exact ARN when the tenant lists them', () => {
    const policy = policyOf(resourceLike(risk, 'aws_iam_role_policy', 'job-execution'), 'policy');
    assert.deepEqual(statement(policy, 'ReadBucketsList'), {
      Sid: 'ReadBucketsList',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: ['arn:aws:s3:::market-data-111122223333-us-west-2'],
    });
    assert.deepEqual(statement(policy, 'ReadBucketsObjects'), {
      Sid: 'ReadBucketsObjects',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: ['arn:aws:s3:::market-data-111122223333-us-west-2/*'],
    });
    const glue = statement(policy, 'GlueDatabases');
    const prefix = `arn:aws:glue:us-west-2:${ACCOUNT}`;
    assert.deepEqual(glue.Resource, [
      `${prefix}:catalog`,
      `${prefix}:database/risk_curated`,
      `${prefix}:table/risk_curated/*`,
      `${prefix}:userDefinedFunction/risk_curated/*`,
      `${prefix}:database/market_reference`,
      `${prefix}:table/market_reference/*`,
      `${prefix}:userDefinedFunction/market_reference/*`,
    ]);
    assert.ok((glue.Action as string[]).includes('glue:GetTable') && (glue.Action as string[]).includes('glue:BatchCreatePartition'));
    assert.equal((glue.Action as string[]).some((a) => a.includes('*')), false);
    assert.deepEqual(statement(policy, 'GlueDefaultDatabase'), {
      Sid: 'GlueDefaultDatabase',
      Effect: 'Allow',
      Action: 'glue:GetDatabase',
      Resource: [`${prefix}:catalog`, `${prefix}:database/default`, `${prefix}:database/global_temp`],
    });
  });

  it('has no wildcard resource except the one AWS requires (DescribeLogGroups)', () => {
    for (const tf of [analytics, risk]) {
      for (const doc of [
        policyOf(resourceLike(tf, 'aws_iam_role_policy', 'job-execution'), 'policy'),
        policyOf(resourceLike(tf, 'aws_iam_policy', 'submitter'), 'policy'),
      ]) {
        for (const s of doc.Statement) {
          const resources = [s.Resource ?? []].flat();
          assert.ok(!resources.includes('*'), `${s.Sid} has Resource "*"`);
          if (resources.some((r) => r.endsWith(':log-group:*'))) assert.equal(s.Sid, 'FindJobLogGroup');
          assert.equal([s.Action].flat().some((a) => a.endsWith(':*')), false, `${s.Sid} uses a service-wide action`);
        }
      }
    }
  });

  it('publishes a submitter policy: StartJobRun on this virtual cluster with this execution role only', () => {
    const submitter = resourceLike(analytics, 'aws_iam_policy', 'submitter');
    assert.equal(submitter.name, 'spark-dev-analytics-emr-submit');
    const vc = ref(analytics, 'aws_emrcontainers_virtual_cluster', 'virtual-cluster', 'arn');
    const role = ref(analytics, 'aws_iam_role', 'job-execution', 'arn');
    const bucketArn = ref(analytics, 'aws_s3_bucket', 'data', 'arn');
    const logArn = ref(analytics, 'aws_cloudwatch_log_group', 'job-logs', 'arn');
    const doc = policyOf(submitter, 'policy');
    assert.deepEqual(doc.Statement.map((s) => s.Sid), [
      'StartJobRunsWithTheTenantRoleOnly',
      'OpenTheSparkUiOfTheTenantJobs',
      'OpenThePersistentSparkUi',
      'ReadTheVirtualCluster',
      'FollowAndCancelJobRuns',
      'TenantBucket',
      'TenantObjects',
      'PodTemplatesAreManagedByThePlatform',
      'TenantBucketKey',
      'ReadJobLogs',
      'Kubeconfig',
    ]);
    assert.deepEqual(statement(doc, 'StartJobRunsWithTheTenantRoleOnly'), {
      Sid: 'StartJobRunsWithTheTenantRoleOnly',
      Effect: 'Allow',
      Action: 'emr-containers:StartJobRun',
      Resource: vc,
      Condition: { ArnEquals: { 'emr-containers:ExecutionRoleArn': role } },
    });
    // The persistent Spark UI of the tenant's own job runs: on its virtual cluster, for its role.
    assert.deepEqual(statement(doc, 'OpenTheSparkUiOfTheTenantJobs'), {
      Sid: 'OpenTheSparkUiOfTheTenantJobs',
      Effect: 'Allow',
      Action: ['elasticmapreduce:CreatePersistentAppUI', 'elasticmapreduce:DescribePersistentAppUI'],
      Resource: vc,
    });
    assert.deepEqual(statement(doc, 'OpenThePersistentSparkUi'), {
      Sid: 'OpenThePersistentSparkUi',
      Effect: 'Allow',
      Action: 'elasticmapreduce:GetPersistentAppUIPresignedURL',
      Resource: [vc, 'arn:aws:elasticmapreduce:us-west-2:111122223333:persistent-app-ui/*'],
      Condition: { ArnEqualsIfExists: { 'elasticmapreduce:ExecutionRoleArn': role } },
    });
    assert.deepEqual(statement(doc, 'ReadTheVirtualCluster').Resource, vc);
    assert.deepEqual(statement(doc, 'FollowAndCancelJobRuns').Resource, `${vc}/jobruns/*`);
    assert.deepEqual(statement(doc, 'FollowAndCancelJobRuns').Action, [
      'emr-containers:DescribeJobRun',
      'emr-containers:CancelJobRun',
      'emr-containers:TagResource',
      'emr-containers:ListTagsForResource',
    ]);
    assert.deepEqual(statement(doc, 'TenantObjects').Resource, `${bucketArn}/*`);
    assert.equal(statement(doc, 'PodTemplatesAreManagedByThePlatform').Effect, 'Deny');
    assert.deepEqual(statement(doc, 'ReadJobLogs').Resource, [logArn, `${logArn}:*`]);
    assert.deepEqual(statement(doc, 'Kubeconfig'), { Sid: 'Kubeconfig', Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: `\${${CLUSTER_STATE}.clusterArn}` });
    assert.equal(doc.Statement.some((s) => [s.Action].flat().includes('iam:PassRole')), false);
  });
});

describe('tenant stack: access', () => {
  it('gives each owner a namespace-scoped Edit access entry in the tenant group', () => {
    const entries = Object.values(resourcesOf(analytics, 'aws_eks_access_entry'));
    assert.deepEqual(entries.map((e) => e.principal_arn).sort(), [
      'arn:aws:iam::111122223333:role/analytics-ci',
      'arn:aws:iam::111122223333:role/analytics-engineers',
    ]);
    for (const e of entries) {
      assert.equal(e.cluster_name, `\${${CLUSTER_STATE}.clusterName}`);
      assert.equal(e.type, 'STANDARD');
      assert.deepEqual(e.kubernetes_groups, ['spark-platform:tenant:analytics']);
    }
    const associations = Object.values(resourcesOf(analytics, 'aws_eks_access_policy_association'));
    assert.equal(associations.length, 2);
    for (const a of associations) {
      assert.equal(a.policy_arn, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy');
      assert.deepEqual(a.access_scope, { type: 'namespace', namespaces: ['analytics'] });
      assert.match(a.principal_arn as string, /^\$\{aws_eks_access_entry\..+\.principal_arn\}$/);
    }
  });
});

describe('tenant stack: data', () => {
  it('creates a deterministic, protected, encrypted bucket (retainOnDelete: true)', () => {
    const bucket = resourceLike(analytics, 'aws_s3_bucket', 'data');
    assert.equal(bucket.bucket, `spark-dev-analytics-${ACCOUNT}-us-west-2`);
    assert.equal(bucket.force_destroy, false);
    assert.deepEqual(bucket.lifecycle, { prevent_destroy: true });
    assert.deepEqual(resourceLike(analytics, 'aws_kms_key', 'data').lifecycle, { prevent_destroy: true });
    assert.equal(resourceLike(analytics, 'aws_kms_key', 'data').enable_key_rotation, true);
    assert.deepEqual(resourceLike(analytics, 'aws_s3_bucket_versioning', 'data').versioning_configuration, { status: 'Enabled' });
    const block = resourceLike(analytics, 'aws_s3_bucket_public_access_block', 'data');
    for (const key of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.equal(block[key], true);
    const sse = resourceLike(analytics, 'aws_s3_bucket_server_side_encryption_configuration', 'data').rule as Record<string, unknown>[];
    assert.deepEqual(sse[0]!.apply_server_side_encryption_by_default, { sse_algorithm: 'aws:kms', kms_master_key_id: ref(analytics, 'aws_kms_key', 'data', 'arn') });
    const rules = resourceLike(analytics, 'aws_s3_bucket_lifecycle_configuration', 'data').rule as Record<string, unknown>[];
    assert.deepEqual(rules.find((r) => r.id === 'abort-incomplete-multipart-uploads')!.abort_incomplete_multipart_upload, [{ days_after_initiation: 7 }]);
    const policy = policyOf(resourceLike(analytics, 'aws_s3_bucket_policy', 'data'), 'policy');
    assert.deepEqual(statement(policy, 'DenyInsecureTransport').Condition, { Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('creates the log group with the environment retention', () => {
    const logs = resourceLike(analytics, 'aws_cloudwatch_log_group', 'job-logs');
    assert.equal(logs.name, '/spark-platform/dev/tenants/analytics');
    assert.equal(logs.retention_in_days, 30);
  });

  it('lets Terraform delete the bucket and its key when retainOnDelete is false', () => {
    const root = temporaryRoot({
      tenants: { scratch: { name: 'scratch', owners: [`arn:aws:iam::${ACCOUNT}:role/scratch`], quota: { cpu: '8', memory: '32Gi' }, data: { retainOnDelete: false } } },
    });
    const tf = synthStack('tenant-scratch', undefined, root);
    const bucket = resourceLike(tf, 'aws_s3_bucket', 'data');
    assert.equal(bucket.force_destroy, true);
    assert.equal(bucket.lifecycle, undefined);
    assert.equal(resourceLike(tf, 'aws_kms_key', 'data').lifecycle, undefined);
  });
});

describe('tenant stack: pod templates and dedicated nodes', () => {
  function template(tf: TerraformJson, role: 'driver' | 'executor') {
    const object = resourceLike(tf, 'aws_s3_object', `${role}-pod-template`);
    assert.equal(object.key, `pod-templates/${role}.yaml`);
    assert.equal(object.bucket, ref(tf, 'aws_s3_bucket', 'data', 'id'));
    assert.equal(object.content_type, 'application/yaml');
    assert.equal(object.server_side_encryption, 'aws:kms');
    assert.match(object.content as string, /^# Pod template of tenant /);
    return parse(object.content as string) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };
  }

  it('writes the default placement for analytics: on-demand Graviton drivers, Spot NVMe executors in the driver zone', () => {
    const driver = template(analytics, 'driver');
    assert.deepEqual(driver.metadata, { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } });
    assert.deepEqual(driver.spec.nodeSelector, { 'spark-platform.io/spark-role': 'driver', 'karpenter.sh/capacity-type': 'on-demand', 'kubernetes.io/arch': 'arm64' });
    assert.equal(driver.spec.priorityClassName, 'spark-driver-high');
    assert.deepEqual(driver.spec.containers, [{ name: 'spark-kubernetes-driver' }]);
    const executor = template(analytics, 'executor');
    assert.deepEqual(executor.spec.nodeSelector, {
      'spark-platform.io/spark-role': 'executor',
      'karpenter.sh/capacity-type': 'spot',
      'kubernetes.io/arch': 'arm64',
      'karpenter.k8s.aws/ec2nodeclass': 'spark-nvme',
    });
    assert.deepEqual(executor.spec.affinity, {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { 'spark-role': 'driver' } }, matchLabelKeys: ['spark-app-selector'], topologyKey: 'topology.kubernetes.io/zone' },
        ],
      },
    });
  });

  it('writes the risk-models placement: own nodes, one zone, on-demand x86, EBS, vertical autoscaling', () => {
    const driver = template(risk, 'driver');
    assert.deepEqual(driver.metadata, {
      labels: { 'emr-containers.amazonaws.com/dynamic.sizing': 'true' },
      annotations: { 'karpenter.sh/do-not-disrupt': 'true', 'emr-containers.amazonaws.com/dynamic.sizing.mode': 'Initial' },
    });
    const executor = template(risk, 'executor');
    assert.deepEqual(executor.spec.nodeSelector, {
      'spark-platform.io/spark-role': 'executor',
      'karpenter.sh/capacity-type': 'on-demand',
      'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': 'us-west-2b',
      [TENANT_KEY]: 'risk-models',
    });
    assert.deepEqual(executor.spec.tolerations, [
      { key: 'spark-platform.io/spark-role', operator: 'Equal', value: 'executor', effect: 'NoSchedule' },
      { key: TENANT_KEY, operator: 'Equal', value: 'risk-models', effect: 'NoSchedule' },
    ]);
    assert.equal(executor.spec.affinity, undefined);
  });

  it('creates the tenant NodePools only with dedicatedNodes', () => {
    assert.equal(manifests(analytics).some((m) => m.manifest.kind === 'NodePool'), false);
    const driver = manifest(risk, 'NodePool', 'tenant-risk-models-driver');
    const executor = manifest(risk, 'NodePool', 'tenant-risk-models-executor');
    for (const [pool, role] of [
      [driver, 'driver'],
      [executor, 'executor'],
    ] as const) {
      const spec = pool.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> }; limits: Record<string, string> };
      assert.deepEqual(spec.template.spec.taints, [
        { key: TENANT_KEY, value: 'risk-models', effect: 'NoSchedule' },
        { key: 'spark-platform.io/spark-role', value: role, effect: 'NoSchedule' },
      ]);
      assert.deepEqual(spec.template.metadata.labels, { 'spark-platform.io/pool': `tenant-risk-models-${role}`, 'spark-platform.io/spark-role': role, [TENANT_KEY]: 'risk-models' });
      assert.deepEqual(spec.limits, { cpu: '200', memory: '800Gi' });
      const requirements = spec.template.spec.requirements as { key: string; operator: string; values?: string[] }[];
      assert.deepEqual(requirements.find((r) => r.key === 'karpenter.sh/capacity-type'), { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] });
      assert.deepEqual(requirements.find((r) => r.key === 'topology.kubernetes.io/zone'), { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-west-2b'] });
      assert.deepEqual(requirements.find((r) => r.key === 'kubernetes.io/arch'), { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] });
      assert.deepEqual(spec.template.spec.nodeClassRef, { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'general' });
    }
  });
});

describe('tenant stack: outputs', () => {
  it('publishes every contract output', () => {
    assert.deepEqual(Object.keys(analytics.output!).sort(), Object.keys(TENANT_OUTPUTS).sort());
    const out = (name: string) => analytics.output![name]!.value;
    assert.equal(out('namespace'), 'analytics');
    assert.equal(out('releaseLabel'), 'emr-7.12.0-latest');
    assert.equal(out('virtualClusterId'), ref(analytics, 'aws_emrcontainers_virtual_cluster', 'virtual-cluster', 'id'));
    assert.equal(out('executionRoleArn'), ref(analytics, 'aws_iam_role', 'job-execution', 'arn'));
    assert.equal(out('submitterPolicyArn'), ref(analytics, 'aws_iam_policy', 'submitter', 'arn'));
    assert.equal(out('driverPodTemplateUri'), `s3://${ref(analytics, 'aws_s3_object', 'driver-pod-template', 'bucket')}/${ref(analytics, 'aws_s3_object', 'driver-pod-template', 'key')}`);
    assert.equal(out('logUri'), `s3://spark-dev-analytics-${ACCOUNT}-us-west-2/logs/`);
  });

  it('publishes configurationOverrides ready for start-job-run', () => {
    const overrides = JSON.parse(analytics.output!.configurationOverrides!.value as string) as {
      applicationConfiguration: { classification: string; properties: Record<string, string> }[];
      monitoringConfiguration: Record<string, unknown>;
    };
    const bucket = `spark-dev-analytics-${ACCOUNT}-us-west-2`;
    assert.deepEqual(overrides.applicationConfiguration, [
      {
        classification: 'spark-defaults',
        properties: {
          'spark.kubernetes.driver.podTemplateFile': `s3://${bucket}/pod-templates/driver.yaml`,
          'spark.kubernetes.executor.podTemplateFile': `s3://${bucket}/pod-templates/executor.yaml`,
          'spark.ui.prometheus.enabled': 'true',
          'spark.metrics.conf.*.sink.prometheusServlet.class': 'org.apache.spark.metrics.sink.PrometheusServlet',
          'spark.metrics.conf.*.sink.prometheusServlet.path': '/metrics/driver/prometheus/',
          // Dynamic allocation with shuffle tracking (no external shuffle service on Kubernetes).
          'spark.dynamicAllocation.enabled': 'true',
          'spark.dynamicAllocation.shuffleTracking.enabled': 'true',
          'spark.dynamicAllocation.minExecutors': '1',
          'spark.dynamicAllocation.initialExecutors': '1',
          'spark.dynamicAllocation.maxExecutors': '50',
          'spark.dynamicAllocation.executorIdleTimeout': '60s',
          'spark.dynamicAllocation.shuffleTracking.timeout': '600s',
          // Graceful decommissioning, with blocks no peer can take spilled to the tenant bucket.
          'spark.decommission.enabled': 'true',
          'spark.storage.decommission.enabled': 'true',
          'spark.storage.decommission.rddBlocks.enabled': 'true',
          'spark.storage.decommission.shuffleBlocks.enabled': 'true',
          'spark.storage.decommission.fallbackStorage.path': `s3://${bucket}/spark-fallback/`,
          'spark.storage.decommission.fallbackStorage.cleanUp': 'true',
          'spark.executor.decommission.forceKillTimeout': '270s',
          // Event logs for the persistent Spark UI and any history server.
          'spark.eventLog.enabled': 'true',
          'spark.eventLog.dir': `s3://${bucket}/spark-events/`,
          'spark.eventLog.rolling.enabled': 'true',
          'spark.eventLog.rolling.maxFileSize': '128m',
        },
      },
      // EMR's job submitter on on-demand capacity (no zone: the tenant pins none).
      { classification: 'emr-job-submitter', properties: { 'jobsubmitter.node.selector.karpenter.sh/capacity-type': 'on-demand' } },
    ]);
    assert.equal(analytics.output!.retryPolicyConfiguration!.value, '{"maxAttempts":1}');
    assert.equal(analytics.output!.jobTemplateIds!.value, '{}');
    assert.equal(analytics.output!.notificationTopicArn!.value, '');
    assert.deepEqual(overrides.monitoringConfiguration, {
      persistentAppUI: 'ENABLED',
      cloudWatchMonitoringConfiguration: { logGroupName: '/spark-platform/dev/tenants/analytics', logStreamNamePrefix: 'jobs' },
      s3MonitoringConfiguration: { logUri: `s3://${bucket}/logs/` },
    });
    const riskOverrides = JSON.parse(risk.output!.configurationOverrides!.value as string) as typeof overrides;
    const riskProps = riskOverrides.applicationConfiguration[0]!.properties;
    assert.equal(riskProps['spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName'], 'OnDemand');
    assert.equal(riskProps['spark.decommission.enabled'], 'true', 'on-demand executors are consolidated, expired and drifted too');
    // Glue databases: the Glue Data Catalog is Spark SQL's metastore, managed tables in the bucket.
    assert.equal(riskProps['spark.sql.catalogImplementation'], 'hive');
    assert.equal(riskProps['spark.hadoop.hive.metastore.client.factory.class'], 'com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory');
    assert.equal(riskProps['spark.sql.warehouse.dir'], `s3://spark-dev-risk-models-${ACCOUNT}-us-west-2/warehouse/`);
    assert.equal(riskProps['spark.dynamicAllocation.maxExecutors'], '100');
    assert.deepEqual(riskOverrides.applicationConfiguration[1], {
      classification: 'emr-job-submitter',
      properties: { 'jobsubmitter.node.selector.karpenter.sh/capacity-type': 'on-demand', 'jobsubmitter.node.selector.topology.kubernetes.io/zone': 'us-west-2b' },
    });
    assert.equal(risk.output!.retryPolicyConfiguration!.value, '{"maxAttempts":2}');
  });
});
