import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { platformContainerLogGroupName, tenantLogGroupName } from '../modules/observability/log-groups.js';
import { fluentBitLogsPolicy } from '../modules/observability/log-shipping.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { parseEnvironment } from '../stacks/lib/environment.js';
import { rawEnvironment, resourceLike, resourcesOf, synthStack, testEnvironment } from './support/synth.js';

const tf = synthStack('observability-infra');
const ampEnv = testEnvironment({ observability: { ampRemoteWrite: true } });
const amp = synthStack('observability-infra', ampEnv);

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, unknown>> };
const policyOf = (resource: Record<string, unknown>, key = 'policy') => JSON.parse(resource[key] as string) as { Statement: Statement[] };

describe('observability-infra stack (AWS side)', () => {
  it('uses its own state, reads the cluster state and requires Terraform >= 1.11 (ephemeral values, write-only arguments)', () => {
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/observability-infra.tfstate');
    assert.equal((tf.terraform as Record<string, unknown>).required_version, '>= 1.11.0');
    assert.deepEqual(Object.keys(tf.data!.terraform_remote_state!), ['remote-state-cluster']);
    assert.deepEqual(Object.keys(tf.terraform.required_providers), ['aws'], 'AWS provider only, so it validates offline');
  });

  it('creates the platform container log group with the environment retention; tenant groups are left to the tenant stacks', () => {
    const groups = Object.values(resourcesOf(tf, 'aws_cloudwatch_log_group'));
    assert.deepEqual(
      groups.map((g) => [g.name, g.retention_in_days]),
      [['/spark-platform/dev/platform', 30]],
    );
    assert.equal(platformContainerLogGroupName('dev'), '/spark-platform/dev/platform');
  });

  it('gives Fluent Bit a Pod Identity role for logging/aws-for-fluent-bit on this cluster only', () => {
    const role = resourceLike(tf, 'aws_iam_role', 'fluent-bit_role');
    assert.equal(role.name, 'spark-dev-fluent-bit');
    const [trust] = policyOf(role, 'assume_role_policy').Statement;
    assert.deepEqual(trust!.Action, ['sts:AssumeRole', 'sts:TagSession']);
    assert.deepEqual(trust!.Condition!.StringEquals, {
      'aws:SourceAccount': '111122223333',
      'aws:RequestTag/kubernetes-namespace': 'logging',
      'aws:RequestTag/kubernetes-service-account': 'aws-for-fluent-bit',
    });
    assert.match(String(trust!.Condition!.ArnEquals!['aws:SourceArn']), /remote-state-cluster\.outputs\.clusterArn/);
    const association = resourceLike(tf, 'aws_eks_pod_identity_association', 'fluent-bit');
    assert.equal(association.namespace, 'logging');
    assert.equal(association.service_account, 'aws-for-fluent-bit');
    assert.match(association.role_arn as string, /aws_iam_role\.log-shipping_fluent-bit_role_.*\.arn/);
  });

  it('lets Fluent Bit write streams into the platform group and the tenant groups only, never create groups', () => {
    const statements = policyOf(resourceLike(tf, 'aws_iam_role_policy', 'fluent-bit_policy-container-logs')).Statement;
    const arn = (name: string) => `arn:aws:logs:us-west-2:111122223333:log-group:${name}`;
    const tenants = tenantLogGroupName('dev', '*');
    assert.equal(tenants, '/spark-platform/dev/tenants/*');
    assert.deepEqual(statements, [
      {
        Sid: 'LogStreams',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams'],
        Resource: [arn('/spark-platform/dev/platform'), `${arn('/spark-platform/dev/platform')}:log-stream:*`, arn(tenants), `${arn(tenants)}:log-stream:*`],
      },
      { Sid: 'LogEvents', Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [`${arn('/spark-platform/dev/platform')}:log-stream:*`, `${arn(tenants)}:log-stream:*`] },
    ]);
    const actions = statements.flatMap((s) => s.Action);
    for (const forbidden of ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:*']) assert.ok(!actions.includes(forbidden), forbidden);
    // The partition and region come from the stack (GovCloud, China).
    const gov = fluentBitLogsPolicy({ partition: 'aws-us-gov', region: 'us-gov-west-1', accountId: '111122223333', environmentName: 'prod' });
    assert.equal((gov.Statement[0]!.Resource as string[])[0], 'arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:/spark-platform/prod/platform');
  });

  it('generates the Grafana admin password in Secrets Manager and never stores it in state', () => {
    const secret = resourceLike(tf, 'aws_secretsmanager_secret', 'grafana-admin');
    assert.equal(secret.name, 'spark-dev/grafana-admin');
    const version = resourceLike(tf, 'aws_secretsmanager_secret_version', 'grafana-admin');
    assert.equal(version.secret_string, undefined, 'no plain secret_string');
    assert.equal(version.secret_string_wo_version, 1);
    assert.match(version.secret_string_wo as string, /^\$\{jsonencode\(\{"admin-user" = "admin", "admin-password" = ephemeral\.aws_secretsmanager_random_password\.grafana-admin_password_[A-F0-9]+\.random_password\}\)\}$/);
    const ephemeral = (tf as Record<string, unknown>).ephemeral as Record<string, Record<string, Record<string, unknown>>>;
    const [password] = Object.values(ephemeral.aws_secretsmanager_random_password!);
    assert.deepEqual(password, { password_length: 32, exclude_punctuation: true, require_each_included_type: true });
    assert.equal(tf.terraform.required_providers.random, undefined, 'no random provider (its result would be in state)');
    assert.equal(tf.data?.aws_secretsmanager_random_password, undefined, 'no data source (its result would be in state)');
  });

  it('deletes the Grafana secret without a recovery window, so observability-infra can be deployed again right after a destroy', () => {
    // A recovery window keeps the name taken: the next create fails with ResourceExistsException until it ends.
    assert.equal(resourceLike(tf, 'aws_secretsmanager_secret', 'grafana-admin').recovery_window_in_days, 0);
  });

  it('rotates the Grafana password when observability.grafanaAdminPasswordVersion is bumped', () => {
    const rotated = synthStack('observability-infra', testEnvironment({ observability: { grafanaAdminPasswordVersion: 2 } }));
    assert.equal(resourceLike(rotated, 'aws_secretsmanager_secret_version', 'grafana-admin').secret_string_wo_version, 2);
  });

  it('creates no AMP workspace by default and publishes empty AMP outputs', () => {
    assert.deepEqual(resourcesOf(tf, 'aws_prometheus_workspace'), {});
    // Fluent Bit and OpenCost (Spot data feed, on by default).
    assert.equal(Object.keys(resourcesOf(tf, 'aws_eks_pod_identity_association')).length, 2);
    assert.equal(tf.output!.ampRemoteWriteUrl!.value, '');
    assert.equal(tf.output!.prometheusRoleArn!.value, '');
    assert.match(tf.output!.grafanaAdminSecretArn!.value as string, /aws_secretsmanager_secret\.grafana-admin_secret_.*\.arn/);
  });

  it('with ampRemoteWrite: a workspace and a Prometheus role allowed aps:RemoteWrite on it only', () => {
    const workspace = resourceLike(amp, 'aws_prometheus_workspace', 'workspace');
    assert.equal(workspace.alias, 'spark-dev');
    const role = resourceLike(amp, 'aws_iam_role', 'prometheus_role');
    assert.equal(role.name, 'spark-dev-prometheus-amp');
    assert.deepEqual(policyOf(role, 'assume_role_policy').Statement[0]!.Condition!.StringEquals, {
      'aws:SourceAccount': '111122223333',
      'aws:RequestTag/kubernetes-namespace': 'monitoring',
      'aws:RequestTag/kubernetes-service-account': 'kube-prometheus-stack-prometheus',
    });
    const statements = policyOf(resourceLike(amp, 'aws_iam_role_policy', 'policy-amp-remote-write')).Statement;
    assert.equal(statements.length, 1);
    assert.deepEqual(statements[0]!.Action, ['aps:RemoteWrite']);
    assert.deepEqual(statements[0]!.Resource, ['${aws_prometheus_workspace.managed-prometheus_workspace_57DBB5DA.arn}']);
    const association = resourceLike(amp, 'aws_eks_pod_identity_association', 'prometheus');
    assert.deepEqual([association.namespace, association.service_account], ['monitoring', 'kube-prometheus-stack-prometheus']);
    assert.equal(amp.output!.ampRemoteWriteUrl!.value, '${aws_prometheus_workspace.managed-prometheus_workspace_57DBB5DA.prometheus_endpoint}api/v1/remote_write');
  });
});

describe('environment: observability section', () => {
  const FILE = 'environments/dev.yaml';
  const problems = (observability: unknown): string => {
    try {
      parseEnvironment({ ...rawEnvironment('dev'), observability }, FILE);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    return assert.fail('expected a ConfigError');
  };

  it('defaults everything: 15d retention, 100Gi volume, AMP off, alert thresholds', () => {
    const env = testEnvironment();
    assert.deepEqual(env.observability, {
      prometheusRetention: '15d',
      prometheusStorageSize: '100Gi',
      ampRemoteWrite: false,
      grafanaAdminPasswordVersion: 1,
      alerts: {
        tenantQuotaPercent: 90,
        podPendingMinutes: 15,
        karpenterLaunchFailuresPer15m: 10,
        interruptionsPer15m: 5,
        nodePoolLimitPercent: 90,
        prometheusVolumeFreePercent: 15,
      },
    });
  });

  it('names the file and the field of a bad value', () => {
    assert.match(problems({ prometheusStorageSize: '100GB' }), /environments\/dev\.yaml: observability\.prometheusStorageSize: expected a volume size such as 100Gi \(a whole number of Gi\), found "100GB"/);
    assert.match(problems({ prometheusStorageSize: '10Gi' }), /observability\.prometheusStorageSize: expected a volume size between 20Gi and 16384Gi, found "10Gi"/);
    assert.match(problems({ prometheusRetention: '15 days' }), /observability\.prometheusRetention: expected a Prometheus retention such as 15d/);
    assert.match(problems({ alerts: { tenantQuotaPercent: 120 } }), /observability\.alerts\.tenantQuotaPercent: expected a number <= 100, found number 120/);
    assert.match(problems({ ampRemotWrite: true }), /observability\.ampRemotWrite: expected no field named "ampRemotWrite"/);
  });
});
