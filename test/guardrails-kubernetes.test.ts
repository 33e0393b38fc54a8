import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { sparkNodeClasses } from '../modules/karpenter/node-classes.js';
import { MANAGED_BY_LABEL, TENANT_NAMESPACE_LABEL } from '../modules/scheduling/spark-pools.js';
import { isPlaintextSecret } from '../modules/guardrails/secrets.js';
import { problems, violations } from './support/guardrails.js';

const manifest = (object: Record<string, unknown>) => ({ manifest: object });

function nodeClassResources(spec: Record<string, unknown> = {}) {
  const { general } = sparkNodeClasses({ clusterName: 'spark-dev', nodeRoleName: 'node-role' });
  const json = JSON.parse(JSON.stringify(general.toJSON())) as { spec: Record<string, unknown> };
  return { kubernetes_manifest: { nc: manifest({ ...json, spec: { ...json.spec, ...spec } }) } };
}

/** A compliant tenant namespace with its quota, limit range and policies; `omit` drops objects by kind. */
function tenant(name = 'analytics', options: { omit?: string[]; namespaceLabels?: Record<string, string>; extra?: Record<string, unknown>[] } = {}) {
  const labels = { [TENANT_NAMESPACE_LABEL]: name, [MANAGED_BY_LABEL]: 'platform' };
  const objects: Record<string, unknown>[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: options.namespaceLabels ?? { ...labels, 'pod-security.kubernetes.io/enforce': 'baseline' } },
    },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute', namespace: name, labels }, spec: { hard: { 'requests.cpu': '400', 'requests.memory': '1600Gi', pods: '2000' } } },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults', namespace: name, labels }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '256Mi' } }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: name, labels }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'spark-drivers', namespace: name, labels },
      spec: { hard: { pods: '20' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['spark-driver-high'] }] } },
    },
    ...(options.extra ?? []),
  ].filter((o) => !(options.omit ?? []).includes(o.kind as string));
  return { kubernetes_manifest: Object.fromEntries(objects.map((o, i) => [`${name}_${String(o.kind).toLowerCase()}_${i}`, manifest(o)])) };
}

describe('guardrails: Karpenter EC2NodeClass', () => {
  it('passes the platform node classes', () => {
    for (const rule of ['KAR-001', 'KAR-002', 'KAR-003']) assert.deepEqual(violations(rule, nodeClassResources()), [], rule);
  });

  it('KAR-001: requires httpTokens required and hop limit 1', () => {
    assert.deepEqual(problems('KAR-001', nodeClassResources({ metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'optional', httpPutResponseHopLimit: 2 } })), [
      'kubernetes_manifest.nc: EC2NodeClass general spec.metadataOptions.httpTokens is "optional", not "required"',
      'kubernetes_manifest.nc: EC2NodeClass general spec.metadataOptions.httpPutResponseHopLimit is 2, not 1',
    ]);
    // Karpenter's defaults are not relied upon: the settings must be explicit.
    assert.equal(problems('KAR-001', nodeClassResources({ metadataOptions: undefined })).length, 2);
  });

  it('KAR-002: rejects an @latest AMI alias', () => {
    assert.deepEqual(problems('KAR-002', nodeClassResources({ amiSelectorTerms: [{ alias: 'al2023@latest' }] })), [
      'kubernetes_manifest.nc: EC2NodeClass general selects AMI alias "al2023@latest"',
    ]);
  });

  it('KAR-003: requires encrypted EBS block device mappings', () => {
    assert.deepEqual(problems('KAR-003', nodeClassResources({ blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: '100Gi', volumeType: 'gp3' } }] })), [
      'kubernetes_manifest.nc: EC2NodeClass general volume /dev/xvda is not encrypted',
    ]);
  });
});

describe('guardrails: tenant namespaces', () => {
  it('passes a tenant namespace with PSA baseline, quota, limit range and default deny', () => {
    for (const rule of ['K8S-001', 'K8S-002', 'K8S-003', 'K8S-004', 'K8S-005']) assert.deepEqual(violations(rule, tenant()), [], rule);
  });

  it('ignores namespaces without the tenant label', () => {
    const platform = { kubernetes_manifest: { ns: manifest({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'karpenter' } }) } };
    for (const rule of ['K8S-001', 'K8S-002', 'K8S-003', 'K8S-004', 'K8S-005']) assert.deepEqual(violations(rule, platform), [], rule);
  });

  it('K8S-001: requires the PSA enforce label at baseline or restricted', () => {
    assert.deepEqual(problems('K8S-001', tenant('analytics', { namespaceLabels: { [TENANT_NAMESPACE_LABEL]: 'analytics', 'pod-security.kubernetes.io/enforce': 'privileged' } })), [
      'kubernetes_manifest.analytics_namespace_0: tenant namespace analytics has pod-security.kubernetes.io/enforce="privileged", expected one of baseline, restricted',
    ]);
    assert.equal(problems('K8S-001', tenant('analytics', { namespaceLabels: { [TENANT_NAMESPACE_LABEL]: 'analytics' } })).length, 1);
  });

  it('K8S-002: requires an unscoped ResourceQuota bounding cpu and memory (a PriorityClass-scoped quota does not count)', () => {
    const scopedOnly = tenant('analytics', {
      omit: ['ResourceQuota'],
      extra: [
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'priority', namespace: 'analytics' },
          spec: { hard: { pods: '0' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'Exists' }] } },
        },
      ],
    });
    assert.deepEqual(problems('K8S-002', scopedOnly), ['kubernetes_manifest.analytics_namespace_0: tenant namespace analytics has no unscoped ResourceQuota bounding cpu and memory in this stack']);
  });

  it('K8S-002: a quota in another namespace does not count', () => {
    const elsewhere = { kubernetes_manifest: { ...tenant('a', { omit: ['ResourceQuota'] }).kubernetes_manifest, ...tenant('b').kubernetes_manifest } };
    assert.deepEqual(problems('K8S-002', elsewhere), ['kubernetes_manifest.a_namespace_0: tenant namespace a has no unscoped ResourceQuota bounding cpu and memory in this stack']);
  });

  it('K8S-003: requires a LimitRange with a Container limit', () => {
    assert.deepEqual(problems('K8S-003', tenant('analytics', { omit: ['LimitRange'] })), [
      'kubernetes_manifest.analytics_namespace_0: tenant namespace analytics has no LimitRange with a Container limit in this stack',
    ]);
  });

  it('K8S-004: requires a default-deny NetworkPolicy; an allow policy or a one-direction deny does not count', () => {
    const allowOnly = tenant('analytics', {
      omit: ['NetworkPolicy'],
      extra: [
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'same', namespace: 'analytics' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-in', namespace: 'analytics' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'some', namespace: 'analytics' }, spec: { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Ingress', 'Egress'] } },
      ],
    });
    assert.deepEqual(problems('K8S-004', allowOnly), [
      'kubernetes_manifest.analytics_namespace_0: tenant namespace analytics has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules) in this stack',
    ]);
  });

  it('K8S-005: requires a quota on pods of the driver PriorityClass; a quota on other classes or without a pod count does not count', () => {
    const quota = (matchExpressions: unknown[], hard: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'other', namespace: 'analytics' },
      spec: { hard, scopeSelector: { matchExpressions } },
    });
    const without = tenant('analytics', {
      omit: ['ResourceQuota'],
      extra: [
        { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute', namespace: 'analytics' }, spec: { hard: { 'requests.cpu': '1', 'requests.memory': '1Gi' } } },
        quota([{ scopeName: 'PriorityClass', operator: 'NotIn', values: ['spark-driver-high'] }], { pods: '0' }),
        quota([{ scopeName: 'PriorityClass', operator: 'In', values: ['spark-driver-high'] }], { 'requests.cpu': '10' }),
      ],
    });
    assert.deepEqual(problems('K8S-005', without), ['kubernetes_manifest.analytics_namespace_0: tenant namespace analytics has no ResourceQuota capping pods of PriorityClass spark-driver-high in this stack']);
  });

  it('resolves namespaces given as references to typed kubernetes_*_v1 resources', () => {
    const typed = {
      kubernetes_namespace_v1: { ns: { metadata: [{ name: 'risk', labels: { [TENANT_NAMESPACE_LABEL]: 'risk', 'pod-security.kubernetes.io/enforce': 'restricted' } }] } },
      kubernetes_resource_quota_v1: { q: { metadata: [{ name: 'q', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}' }], spec: [{ hard: { 'limits.cpu': '10', 'limits.memory': '10Gi' } }] } },
      kubernetes_limit_range_v1: { l: { metadata: [{ name: 'l', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}' }], spec: [{ limit: [{ type: 'Container', default: { cpu: '1' } }] }] } },
      kubernetes_network_policy_v1: {
        d: { metadata: [{ name: 'd', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}' }], spec: [{ pod_selector: [{}], policy_types: ['Ingress', 'Egress'] }] },
      },
    };
    for (const rule of ['K8S-001', 'K8S-002', 'K8S-003', 'K8S-004']) assert.deepEqual(violations(rule, typed), [], rule);
    const typedDriverQuota = {
      ...typed,
      kubernetes_resource_quota_v1: {
        ...typed.kubernetes_resource_quota_v1,
        d: {
          metadata: [{ name: 'd', namespace: '${kubernetes_namespace_v1.ns.metadata[0].name}' }],
          spec: [{ hard: { pods: '5' }, scope_selector: [{ match_expression: [{ scope_name: 'PriorityClass', operator: 'In', values: ['spark-driver-high'] }] }] }],
        },
      },
    };
    assert.deepEqual(violations('K8S-005', typedDriverQuota), []);
  });
});

describe('guardrails: secrets', () => {
  const release = (body: Record<string, unknown>) => ({ helm_release: { r: { name: 'grafana', chart: 'grafana', ...body } } });

  it('SEC-001: reports literal credentials in values, set and set_sensitive without printing them', () => {
    const found = problems(
      'SEC-001',
      release({
        values: ['grafana:\n  adminPassword: hunter2\n  admin:\n    existingSecret: grafana-admin\nalertmanager:\n  config:\n    global:\n      slack_api_url: https://x\n      api_token: abc123\n'],
        set: [{ name: 'auth.clientSecret', value: 's3cr3t' }],
        set_sensitive: [{ name: 'db.password', value: 'p4ss' }],
      }),
    );
    assert.deepEqual(found, [
      'helm_release.r: values[0] sets grafana.adminPassword to a literal value',
      'helm_release.r: values[0] sets alertmanager.config.global.api_token to a literal value',
      'helm_release.r: set "auth.clientSecret" is a literal value',
      'helm_release.r: set_sensitive "db.password" is a literal value',
    ]);
    assert.ok(found.every((p) => !/hunter2|abc123|s3cr3t|p4ss/.test(p)), 'messages never contain the secret');
  });

  it('SEC-001: passes references, secret names, booleans and empty values', () => {
    const ok = release({
      values: [
        JSON.stringify({
          serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': '${aws_iam_role.r.arn}' }, automountServiceAccountToken: true },
          admin: { existingSecret: 'grafana-admin', passwordKey: 'admin-password' },
          adminPassword: '',
          settings: { interruptionQueue: '${data.terraform_remote_state.x.outputs.queue}' },
          secret: 'tls-cert',
        }),
      ],
      set_sensitive: [{ name: 'db.password', value: '${aws_secretsmanager_secret_version.db.secret_string}' }],
    });
    assert.deepEqual(violations('SEC-001', ok), []);
    assert.equal(isPlaintextSecret('existingSecret', 'name'), false);
    assert.equal(isPlaintextSecret('apiKey', 'abc'), true);
    assert.equal(isPlaintextSecret('token', '{{ .Values.token }}'), false);
  });

  it('SEC-002: reports Secrets with literal data, passes references', () => {
    const secret = (data: Record<string, string>) => ({ kubernetes_manifest: { s: manifest({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'x' }, stringData: data }) } });
    assert.deepEqual(problems('SEC-002', secret({ password: 'p4ss' })), ['kubernetes_manifest.s: Secret db sets stringData.password to a literal value']);
    assert.deepEqual(violations('SEC-002', secret({ password: '${random_password.db.result}' })), []);
    assert.deepEqual(problems('SEC-002', { kubernetes_secret_v1: { s: { metadata: [{ name: 'db' }], data: { token: 'abc' } } } }), [
      'kubernetes_secret_v1.s: kubernetes_secret_v1 sets data.token to a literal value',
    ]);
  });

  it('SEC-003: reports literal Secrets Manager and SecureString values, passes generated and write-only references', () => {
    assert.deepEqual(problems('SEC-003', { aws_secretsmanager_secret_version: { v: { secret_id: '${aws_secretsmanager_secret.s.id}', secret_string: '{"password":"p4ss"}' } } }), [
      'aws_secretsmanager_secret_version.v: secret_string is a literal value',
    ]);
    const generated = {
      aws_secretsmanager_secret_version: {
        v: { secret_id: '${aws_secretsmanager_secret.s.id}', secret_string_wo: '${jsonencode({"p" = ephemeral.aws_secretsmanager_random_password.p.random_password})}', secret_string_wo_version: 1 },
      },
    };
    assert.deepEqual(violations('SEC-003', generated), []);
    assert.deepEqual(problems('SEC-003', { aws_ssm_parameter: { p: { name: '/x', type: 'SecureString', value: 'token' } } }), ['aws_ssm_parameter.p: value is a literal value']);
    assert.deepEqual(violations('SEC-003', { aws_ssm_parameter: { p: { name: '/x', type: 'String', value: 'us-west-2' } } }), []);
  });
});
