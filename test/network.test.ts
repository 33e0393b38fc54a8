import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { VpcIpv4CidrBlockAssociation } from '@cdktf/provider-aws/lib/vpc-ipv4-cidr-block-association/index.js';
import { cidrContains, cidrsOverlap, cidrSubnet, parseCidr } from '../modules/network/cidr.js';
import { subnetLayout } from '../modules/network/network.js';
import { resourceLike, resourcesOf, synthStack, synthText, testEnvironment, type TerraformJson } from './support/synth.js';

describe('CIDR arithmetic', () => {
  it('splits like terraform cidrsubnet', () => {
    assert.equal(cidrSubnet('10.10.0.0/16', 3, 0), '10.10.0.0/19');
    assert.equal(cidrSubnet('10.10.0.0/16', 3, 7), '10.10.224.0/19');
    assert.equal(cidrSubnet('100.64.0.0/16', 3, 2), '100.64.64.0/19');
  });
  it('rejects host bits and checks containment and overlap', () => {
    assert.equal(parseCidr('10.0.0.1/16'), undefined);
    assert.equal(cidrContains('100.64.0.0/10', '100.64.0.0/16'), true);
    assert.equal(cidrContains('100.64.0.0/10', '100.128.0.0/16'), false);
    assert.equal(cidrsOverlap('10.0.0.0/16', '10.0.128.0/17'), true);
    assert.equal(cidrsOverlap('10.0.0.0/16', '10.1.0.0/16'), false);
  });
  it('lays out disjoint subnets for 6 AZs in a /20', () => {
    const layout = subnetLayout('10.0.0.0/20', '100.64.0.0/20', 6);
    const all = [...layout.nodeCidrs, ...layout.publicCidrs];
    for (const [i, a] of all.entries()) {
      assert.ok(cidrContains('10.0.0.0/20', a));
      for (const b of all.slice(i + 1)) assert.equal(cidrsOverlap(a, b), false, `${a} overlaps ${b}`);
    }
    for (const pod of layout.podCidrs) assert.ok(cidrContains('100.64.0.0/20', pod));
  });
});

describe('network stack (dev)', () => {
  const text = synthText('network');
  const tf = JSON.parse(text) as TerraformJson;
  const subnets = Object.values(resourcesOf(tf, 'aws_subnet'));
  const tier = (t: string) => subnets.filter((s) => (s.tags as Record<string, string>)['platform:subnet-tier'] === t);

  it('uses its own state key with encryption and S3-native locking', () => {
    assert.deepEqual(tf.terraform.backend, {
      s3: {
        bucket: 'spark-platform-tfstate-111122223333-dev',
        key: 'dev/network.tfstate',
        region: 'us-west-2',
        encrypt: true,
        // SSE-KMS with the state bucket's key (bootstrap), named by its alias.
        kms_key_id: 'arn:aws:kms:us-west-2:111122223333:alias/s3/spark-platform-tfstate-111122223333-dev',
        use_lockfile: true,
      },
    });
  });

  it('pins the AWS provider to the account and tags everything', () => {
    expect(text).toHaveProviderWithProperties(AwsProvider, { region: 'us-west-2', allowed_account_ids: ['111122223333'] });
    const provider = tf.provider!.aws![0]!;
    const tags = (provider.default_tags as { tags: Record<string, string> }[])[0]!.tags;
    assert.equal(tags['platform:stack'], 'network');
    assert.equal(tags['platform:environment'], 'dev');
    assert.equal(tags['cost-center'], 'data-platform');
  });

  it('creates the VPC and associates the secondary pod CIDR', () => {
    expect(text).toHaveResourceWithProperties(Vpc, { cidr_block: '10.10.0.0/16', enable_dns_hostnames: true, enable_dns_support: true });
    expect(text).toHaveResourceWithProperties(VpcIpv4CidrBlockAssociation, { cidr_block: '100.64.0.0/16' });
    assert.equal(Object.keys(resourcesOf(tf, 'aws_vpc')).length, 1);
  });

  it('creates public, node and pod subnets in every AZ', () => {
    for (const t of ['public', 'nodes', 'pods']) {
      assert.deepEqual(tier(t).map((s) => s.availability_zone), ['us-west-2a', 'us-west-2b', 'us-west-2c'], t);
    }
    assert.deepEqual(tier('nodes').map((s) => s.cidr_block), ['10.10.0.0/19', '10.10.32.0/19', '10.10.64.0/19']);
    assert.deepEqual(tier('pods').map((s) => s.cidr_block), ['100.64.0.0/19', '100.64.32.0/19', '100.64.64.0/19']);
    assert.deepEqual(tier('public').map((s) => s.cidr_block), ['10.10.224.0/22', '10.10.228.0/22', '10.10.232.0/22']);
  });

  it('tags subnets for load balancers and Karpenter discovery (nodes only, never pods)', () => {
    for (const s of tier('public')) assert.equal((s.tags as Record<string, string>)['kubernetes.io/role/elb'], '1');
    for (const s of tier('nodes')) {
      const tags = s.tags as Record<string, string>;
      assert.equal(tags['kubernetes.io/role/internal-elb'], '1');
      assert.equal(tags['karpenter.sh/discovery'], 'spark-dev');
    }
    for (const s of tier('pods')) assert.equal((s.tags as Record<string, string>)['karpenter.sh/discovery'], undefined);
    for (const s of tier('public')) assert.equal(s.map_public_ip_on_launch, false);
  });

  it('uses one NAT gateway in dev (single) and one per AZ in prod', () => {
    assert.equal(Object.keys(resourcesOf(tf, 'aws_nat_gateway')).length, 1);
    const prod = synthStack('network', testEnvironment({}, 'prod'));
    assert.equal(Object.keys(resourcesOf(prod, 'aws_nat_gateway')).length, 3);
    assert.equal(Object.keys(resourcesOf(tf, 'aws_route_table')).length, 4);
  });

  it('routes node and pod subnets through the private route table of their AZ', () => {
    const associations = Object.keys(resourcesOf(tf, 'aws_route_table_association'));
    for (const az of ['us-west-2a', 'us-west-2b', 'us-west-2c']) {
      assert.ok(associations.some((id) => id.includes(`nodes-rta-${az}`)));
      assert.ok(associations.some((id) => id.includes(`pods-rta-${az}`)));
    }
  });

  it('creates the S3 gateway endpoint and the interface endpoints nodes and Spark need', () => {
    const endpoints = Object.values(resourcesOf(tf, 'aws_vpc_endpoint'));
    const gateway = endpoints.filter((e) => e.vpc_endpoint_type === 'Gateway');
    assert.deepEqual(gateway.map((e) => e.service_name), ['com.amazonaws.us-west-2.s3']);
    const interfaces = endpoints.filter((e) => e.vpc_endpoint_type === 'Interface').map((e) => e.service_name);
    for (const service of ['ecr.api', 'ecr.dkr', 'sts', 'logs', 'ec2', 'eks', 'eks-auth', 'sqs']) {
      assert.ok(interfaces.includes(`com.amazonaws.us-west-2.${service}`), service);
    }
    for (const e of endpoints.filter((x) => x.vpc_endpoint_type === 'Interface')) assert.equal(e.private_dns_enabled, true);
  });

  it('allows only HTTPS from the VPC and pod CIDRs into the endpoints', () => {
    const rules = Object.values(resourcesOf(tf, 'aws_vpc_security_group_ingress_rule'));
    assert.deepEqual(rules.map((r) => [r.cidr_ipv4, r.from_port, r.to_port, r.ip_protocol]).sort(), [
      ['10.10.0.0/16', 443, 443, 'tcp'],
      ['100.64.0.0/16', 443, 443, 'tcp'],
    ]);
  });

  it('locks the default security group and ships flow logs with retention', () => {
    const defaultSg = resourceLike(tf, 'aws_default_security_group', 'default-sg');
    assert.equal(defaultSg.ingress, undefined);
    assert.equal(defaultSg.egress, undefined);
    const flowLog = resourceLike(tf, 'aws_flow_log', 'flow-log');
    assert.equal(flowLog.traffic_type, 'ALL');
    assert.equal(resourceLike(tf, 'aws_cloudwatch_log_group', 'flow-logs').retention_in_days, 30);
    const policy = JSON.parse(resourceLike(tf, 'aws_iam_role_policy', 'flow-logs-policy').policy as string);
    assert.deepEqual(policy.Statement[0].Action, ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams']);
    assert.ok(!JSON.stringify(policy).includes('"*"'));
  });

  it('publishes the outputs the cluster stack reads', () => {
    assert.deepEqual(Object.keys(tf.output!).sort(), [
      'availabilityZones', 'endpointSecurityGroupId', 'nodeSubnetIds', 'podCidr', 'podSubnetIds', 'publicSubnetIds', 'vpcCidr', 'vpcId',
    ]);
  });
});
