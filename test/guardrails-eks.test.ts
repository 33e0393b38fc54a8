import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { EKS_LOG_TYPES } from '../modules/guardrails/eks.js';
import { CONTROL_PLANE_LOG_TYPES } from '../modules/eks-cluster/cluster.js';
import { evaluate, problems, violations } from './support/guardrails.js';

const cluster = (overrides: Record<string, unknown> = {}) => ({
  aws_eks_cluster: {
    c: {
      name: 'spark',
      vpc_config: { subnet_ids: ['subnet-1'], endpoint_private_access: true, endpoint_public_access: false },
      encryption_config: { resources: ['secrets'], provider: { key_arn: '${aws_kms_key.k.arn}' } },
      enabled_cluster_log_types: [...EKS_LOG_TYPES],
      ...overrides,
    },
  },
});

const launchTemplate = (overrides: Record<string, unknown> = {}) => ({
  name: 'system',
  metadata_options: { http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 },
  block_device_mappings: [{ device_name: '/dev/xvda', ebs: { encrypted: 'true', volume_size: 50, volume_type: 'gp3' } }],
  ...overrides,
});

describe('guardrails: EKS and EC2', () => {
  it('passes a private, encrypted, fully logged cluster', () => {
    for (const rule of ['EKS-001', 'EKS-002', 'EKS-003', 'EKS-004']) assert.deepEqual(violations(rule, cluster()), [], rule);
    assert.deepEqual([...EKS_LOG_TYPES], [...CONTROL_PLANE_LOG_TYPES], 'the rule checks the log types the cluster module enables');
  });

  it('EKS-001: requires the private endpoint', () => {
    assert.deepEqual(problems('EKS-001', cluster({ vpc_config: { subnet_ids: [], endpoint_private_access: false } })), [
      'aws_eks_cluster.c: vpc_config.endpoint_private_access is not true',
    ]);
  });

  it('EKS-002: rejects a public endpoint open to 0.0.0.0/0 (or the provider default) outside dev, allows it in dev', () => {
    const open = cluster({ vpc_config: { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['0.0.0.0/0'] } });
    assert.deepEqual(problems('EKS-002', open, { environment: 'prod' }), ['aws_eks_cluster.c: public endpoint allows 0.0.0.0/0 in environment prod']);
    assert.deepEqual(problems('EKS-002', open, { environment: 'dev' }), []);
    const defaulted = cluster({ vpc_config: { endpoint_private_access: true } });
    assert.deepEqual(problems('EKS-002', defaulted, { environment: 'staging' }), [
      'aws_eks_cluster.c: public endpoint is on with no public_access_cidrs (the provider default is 0.0.0.0/0) in environment staging',
    ]);
    const office = cluster({ vpc_config: { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['203.0.113.0/24'] } });
    assert.deepEqual(problems('EKS-002', office, { environment: 'prod' }), []);
  });

  it('EKS-003: requires envelope encryption of secrets with a KMS key', () => {
    assert.deepEqual(problems('EKS-003', cluster({ encryption_config: undefined })), ['aws_eks_cluster.c: cluster has no encryption_config for "secrets" with a KMS key_arn']);
  });

  it('EKS-004: requires all five control-plane log types', () => {
    assert.deepEqual(problems('EKS-004', cluster({ enabled_cluster_log_types: ['api', 'audit'] })), [
      'aws_eks_cluster.c: control-plane log types authenticator, controllerManager, scheduler are not enabled',
    ]);
  });

  it('EKS-006: fails outside dev once the Kubernetes version is past the end of standard support (date injected)', () => {
    // 1.33 left standard support on 2026-07-29; 1.36 is in it until 2027-08-02.
    assert.deepEqual(problems('EKS-006', cluster({ version: '1.33' }), { today: '2026-12-01' }), [
      'aws_eks_cluster.c: Kubernetes 1.33 left EKS standard support on 2026-07-29 (checked on 2026-12-01) in environment prod',
    ]);
    assert.deepEqual(violations('EKS-006', cluster({ version: '1.36' }), { today: '2026-12-01' }), []);
    // The end day itself is past (extended support is billed from 00:00 UTC that day).
    assert.deepEqual(violations('EKS-006', cluster({ version: '1.36' }), { today: '2027-08-01' }), []);
    assert.equal(problems('EKS-006', cluster({ version: '1.36' }), { today: '2027-08-02' }).length, 1);
    // Older than every listed version: past the oldest row's date.
    assert.deepEqual(problems('EKS-006', cluster({ version: '1.29' }), { today: '2026-12-01', environment: 'staging' }), [
      'aws_eks_cluster.c: Kubernetes 1.29 (older than 1.32, the oldest version listed) left EKS standard support on 2026-03-23 (checked on 2026-12-01) in environment staging',
    ]);
    // dev may lag (synth still warns); a version newer than the table has no known date.
    assert.deepEqual(violations('EKS-006', cluster({ version: '1.33' }), { today: '2026-12-01', environment: 'dev' }), []);
    assert.deepEqual(violations('EKS-006', cluster({ version: '1.37' }), { today: '2026-12-01' }), []);
    // Suppressible, with a reason, like every rule.
    const suppressed = evaluate(cluster({ version: '1.33' }), { today: '2026-12-01', suppressions: [{ ruleId: 'EKS-006', reason: 'upgrade to 1.34 planned for 2026-12-10, extended support paid until then', constructPath: 'test' }] });
    assert.deepEqual(suppressed.violations.filter((v) => v.ruleId === 'EKS-006'), []);
    assert.equal(suppressed.suppressed.filter((v) => v.ruleId === 'EKS-006').length, 1);
  });

  it('EKS-005: requires node groups to use a launch template of the stack (by id or name)', () => {
    const withTemplate = { aws_launch_template: { lt: launchTemplate() }, aws_eks_node_group: { ng: { launch_template: { id: '${aws_launch_template.lt.id}', version: '1' } } } };
    assert.deepEqual(violations('EKS-005', withTemplate), []);
    const byName = { aws_launch_template: { lt: launchTemplate() }, aws_eks_node_group: { ng: { launch_template: { name: 'system', version: '1' } } } };
    assert.deepEqual(violations('EKS-005', byName), []);
    assert.deepEqual(problems('EKS-005', { aws_eks_node_group: { ng: { node_group_name: 'x' } } }), [
      'aws_eks_node_group.ng: node group has no launch_template (the EKS default allows IMDS hop limit 2)',
    ]);
    assert.deepEqual(problems('EKS-005', { aws_eks_node_group: { ng: { launch_template: { id: 'lt-0123456789abcdef0', version: '1' } } } }), [
      'aws_eks_node_group.ng: node group launch template is not an aws_launch_template of this stack, so its metadata options cannot be verified',
    ]);
  });

  it('EC2-001: requires IMDSv2 and hop limit 1 on launch templates and instances', () => {
    assert.deepEqual(violations('EC2-001', { aws_launch_template: { lt: launchTemplate() } }), []);
    const v1 = { aws_launch_template: { lt: launchTemplate({ metadata_options: { http_tokens: 'optional', http_put_response_hop_limit: 2 } }) } };
    assert.deepEqual(problems('EC2-001', v1), [
      'aws_launch_template.lt: metadata_options.http_tokens is "optional", not "required"',
      'aws_launch_template.lt: metadata_options.http_put_response_hop_limit is 2, not 1',
    ]);
    assert.equal(problems('EC2-001', { aws_instance: { i: { ami: 'ami-1' } } }).length, 2);
    assert.deepEqual(violations('EC2-001', { aws_launch_template: { lt: launchTemplate({ metadata_options: { http_endpoint: 'disabled' } }) } }), []);
  });

  it('EC2-002: requires encrypted EBS volumes', () => {
    assert.deepEqual(violations('EC2-002', { aws_launch_template: { lt: launchTemplate() } }), []);
    const plain = { aws_launch_template: { lt: launchTemplate({ block_device_mappings: [{ device_name: '/dev/xvda', ebs: { volume_size: 50 } }] }) } };
    assert.deepEqual(problems('EC2-002', plain), ['aws_launch_template.lt: EBS volume /dev/xvda is not encrypted']);
    assert.deepEqual(problems('EC2-002', { aws_launch_template: { lt: launchTemplate({ block_device_mappings: undefined }) } }), [
      'aws_launch_template.lt: launch template sets no EBS block device mapping, so the root volume encryption depends on the AMI',
    ]);
    assert.deepEqual(problems('EC2-002', { aws_instance: { i: { root_block_device: { encrypted: true } } } }), []);
  });
});

describe('guardrails: network, logs, SQS', () => {
  it('NET-001: reports ingress from 0.0.0.0/0 or ::/0 in every security group rule form', () => {
    const resources = {
      aws_security_group: { sg: { name: 'x', ingress: [{ protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['0.0.0.0/0'] }] } },
      aws_security_group_rule: { r: { type: 'ingress', protocol: 'tcp', from_port: 443, to_port: 443, ipv6_cidr_blocks: ['::/0'], security_group_id: 'sg-1' } },
      aws_vpc_security_group_ingress_rule: { v: { ip_protocol: '-1', cidr_ipv4: '0.0.0.0/0', security_group_id: 'sg-1' } },
    };
    assert.deepEqual(problems('NET-001', resources), [
      'aws_security_group.sg: inline ingress allows tcp port 22 from 0.0.0.0/0',
      'aws_security_group_rule.r: ingress rule allows tcp port 443 from ::/0',
      'aws_vpc_security_group_ingress_rule.v: ingress rule allows all traffic from 0.0.0.0/0',
    ]);
  });

  it('NET-001: passes ingress from the VPC CIDR and egress to anywhere', () => {
    const resources = {
      aws_vpc_security_group_ingress_rule: { v: { ip_protocol: 'tcp', from_port: 443, to_port: 443, cidr_ipv4: '10.10.0.0/16', security_group_id: 'sg-1' } },
      aws_security_group_rule: { e: { type: 'egress', protocol: '-1', from_port: 0, to_port: 0, cidr_blocks: ['0.0.0.0/0'], security_group_id: 'sg-1' } },
    };
    assert.deepEqual(violations('NET-001', resources), []);
  });

  it('NET-002: requires flow logs on every VPC', () => {
    assert.deepEqual(problems('NET-002', { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } } }), ['aws_vpc.v: VPC has no aws_flow_log']);
    assert.deepEqual(violations('NET-002', { aws_vpc: { v: { cidr_block: '10.0.0.0/16' } }, aws_flow_log: { f: { vpc_id: '${aws_vpc.v.id}', traffic_type: 'ALL' } } }), []);
  });

  it('LOG-001: requires a retention on log groups', () => {
    assert.deepEqual(problems('LOG-001', { aws_cloudwatch_log_group: { g: { name: '/x' } } }), ['aws_cloudwatch_log_group.g: log group has no retention_in_days (events are kept forever)']);
    assert.deepEqual(problems('LOG-001', { aws_cloudwatch_log_group: { g: { name: '/x', retention_in_days: 0 } } }), [
      'aws_cloudwatch_log_group.g: log group has retention_in_days = 0 (events are kept forever)',
    ]);
    assert.deepEqual(violations('LOG-001', { aws_cloudwatch_log_group: { g: { name: '/x', retention_in_days: 30 } } }), []);
  });

  it('SQS-001: requires encryption at rest', () => {
    assert.deepEqual(problems('SQS-001', { aws_sqs_queue: { q: { name: 'q' } } }), ['aws_sqs_queue.q: queue sets neither sqs_managed_sse_enabled = true nor kms_master_key_id']);
    assert.deepEqual(violations('SQS-001', { aws_sqs_queue: { q: { name: 'q', sqs_managed_sse_enabled: true } } }), []);
    assert.deepEqual(violations('SQS-001', { aws_sqs_queue: { q: { name: 'q', kms_master_key_id: 'alias/aws/sqs' } } }), []);
  });
});
