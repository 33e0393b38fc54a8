/**
 * The platform VPC: public subnets (load balancers, NAT), private node subnets in the primary
 * CIDR, and one pod subnet per AZ in a secondary 100.64.0.0/10 CIDR for VPC CNI custom
 * networking, with NAT, an S3 gateway endpoint, interface endpoints and flow logs.
 */
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { VpcIpv4CidrBlockAssociation } from '@cdktf/provider-aws/lib/vpc-ipv4-cidr-block-association/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { policyDocument, policyJson } from '../iam/policy.js';
import { cidrSubnet, parseCidr } from './cidr.js';

/** Interface endpoints nodes and Spark need to work without the NAT gateway. */
export const DEFAULT_INTERFACE_ENDPOINTS: readonly string[] = ['ecr.api', 'ecr.dkr', 'sts', 'logs', 'ec2', 'eks', 'eks-auth', 'sqs'];

/** Subnet tag keys other components discover subnets by. */
export const SUBNET_TAGS = {
  /** Karpenter's `subnetSelectorTerms` select node subnets with this tag (value: cluster name). */
  karpenterDiscovery: 'karpenter.sh/discovery',
  /** AWS Load Balancer Controller: internet-facing load balancers. */
  publicElb: 'kubernetes.io/role/elb',
  /** AWS Load Balancer Controller: internal load balancers. */
  internalElb: 'kubernetes.io/role/internal-elb',
  /** Our own marker of what a subnet is for: public, nodes or pods. */
  tier: 'platform:subnet-tier',
} as const;

export interface NetworkProps {
  /** Prefix of every Name tag, e.g. the cluster name. */
  readonly name: string;
  readonly region: string;
  /** 2 to 6 availability zones of `region`. */
  readonly availabilityZones: readonly string[];
  /** Primary CIDR (/16 to /20): node, public and endpoint subnets. */
  readonly vpcCidr: string;
  /** Secondary CIDR inside 100.64.0.0/10 (/16 to /20): one pod subnet per AZ. */
  readonly podCidr: string;
  /** Cluster name written into discovery tags. */
  readonly clusterName: string;
  /**
   * One NAT gateway per AZ (an AZ outage does not cut egress of the others) or one in total.
   * @default 'one-per-az'
   */
  readonly natGateways?: 'one-per-az' | 'single';
  /**
   * Interface endpoint service short names (`ecr.api`, `sts`, ...).
   * @default DEFAULT_INTERFACE_ENDPOINTS
   */
  readonly interfaceEndpoints?: readonly string[];
  /**
   * Retention of the VPC flow log group, in days.
   * @default 90
   */
  readonly flowLogRetentionDays?: number;
  /** Account id, used to pin the flow-log role's trust to this account. */
  readonly accountId: string;
  /** ARN partition. @default 'aws' */
  readonly partition?: string;
}

export interface SubnetLayout {
  readonly publicCidrs: string[];
  readonly nodeCidrs: string[];
  readonly podCidrs: string[];
}

/**
 * The subnet plan: the primary CIDR is cut in eight; the first up-to-six eighths are node subnets
 * (one per AZ), the last eighth is cut again for the small public subnets. The pod CIDR is cut in
 * eight as well, one per AZ.
 */
export function subnetLayout(vpcCidr: string, podCidr: string, azCount: number): SubnetLayout {
  if (azCount < 2 || azCount > 6) throw new Error(`subnetLayout: expected 2 to 6 availability zones, found ${azCount}`);
  const indexes = [...Array(azCount).keys()];
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new Error(`subnetLayout: invalid vpcCidr ${vpcCidr}`);
  const publicBlock = cidrSubnet(vpcCidr, 3, 7);
  const publicBits = Math.min(3, 28 - (vpc.prefix + 3));
  return {
    nodeCidrs: indexes.map((i) => cidrSubnet(vpcCidr, 3, i)),
    publicCidrs: indexes.map((i) => cidrSubnet(publicBlock, publicBits, i)),
    podCidrs: indexes.map((i) => cidrSubnet(podCidr, 3, i)),
  };
}

export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[];
  /** Node subnets (primary CIDR), in `availabilityZones` order. */
  readonly nodeSubnets: Subnet[];
  /** Pod subnets (secondary CIDR), in `availabilityZones` order. */
  readonly podSubnets: Subnet[];
  readonly privateRouteTables: RouteTable[];
  readonly endpointSecurityGroup: SecurityGroup;
  readonly layout: SubnetLayout;
  readonly flowLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azs = [...props.availabilityZones];
    const partition = props.partition ?? 'aws';
    this.layout = subnetLayout(props.vpcCidr, props.podCidr, azs.length);
    const nameTag = (suffix: string) => ({ Name: `${props.name}-${suffix}` });

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: props.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: nameTag('vpc'),
    });
    const podCidr = new VpcIpv4CidrBlockAssociation(this, 'pod-cidr', { vpcId: this.vpc.id, cidrBlock: props.podCidr });

    // The VPC's default security group allows all traffic between members: nothing should use it.
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, tags: nameTag('default-deny-all') });

    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: nameTag('igw') });

    this.publicSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `public-${az}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: this.layout.publicCidrs[i]!,
          mapPublicIpOnLaunch: false,
          tags: { ...nameTag(`public-${az}`), [SUBNET_TAGS.publicElb]: '1', [SUBNET_TAGS.tier]: 'public' },
        }),
    );
    this.nodeSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `nodes-${az}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: this.layout.nodeCidrs[i]!,
          tags: {
            ...nameTag(`nodes-${az}`),
            [SUBNET_TAGS.internalElb]: '1',
            [SUBNET_TAGS.karpenterDiscovery]: props.clusterName,
            [SUBNET_TAGS.tier]: 'nodes',
          },
        }),
    );
    this.podSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `pods-${az}`, {
          vpcId: podCidr.vpcId,
          availabilityZone: az,
          cidrBlock: this.layout.podCidrs[i]!,
          tags: { ...nameTag(`pods-${az}`), [SUBNET_TAGS.tier]: 'pods' },
          dependsOn: [podCidr],
        }),
    );

    const publicRoutes = new RouteTable(this, 'public-rt', { vpcId: this.vpc.id, tags: nameTag('public') });
    new Route(this, 'public-default', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
    this.publicSubnets.forEach((subnet, i) => new RouteTableAssociation(this, `public-rta-${azs[i]}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }));

    const natCount = (props.natGateways ?? 'one-per-az') === 'single' ? 1 : azs.length;
    const nats = azs.slice(0, natCount).map((az, i) => {
      const eip = new Eip(this, `nat-eip-${az}`, { domain: 'vpc', tags: nameTag(`nat-${az}`), dependsOn: [igw] });
      return new NatGateway(this, `nat-${az}`, { allocationId: eip.id, subnetId: this.publicSubnets[i]!.id, tags: nameTag(`nat-${az}`) });
    });

    this.privateRouteTables = azs.map((az, i) => {
      const table = new RouteTable(this, `private-rt-${az}`, { vpcId: this.vpc.id, tags: nameTag(`private-${az}`) });
      new Route(this, `private-default-${az}`, {
        routeTableId: table.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nats[Math.min(i, nats.length - 1)]!.id,
      });
      new RouteTableAssociation(this, `nodes-rta-${az}`, { subnetId: this.nodeSubnets[i]!.id, routeTableId: table.id });
      new RouteTableAssociation(this, `pods-rta-${az}`, { subnetId: this.podSubnets[i]!.id, routeTableId: table.id });
      return table;
    });

    new VpcEndpoint(this, 'endpoint-s3', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: this.privateRouteTables.map((t) => t.id),
      tags: nameTag('s3'),
    });

    this.endpointSecurityGroup = new SecurityGroup(this, 'endpoints-sg', {
      name: `${props.name}-vpc-endpoints`,
      description: 'HTTPS from nodes and pods to interface VPC endpoints',
      vpcId: this.vpc.id,
      tags: nameTag('vpc-endpoints'),
    });
    for (const [label, cidr] of [['vpc', props.vpcCidr], ['pods', props.podCidr]] as const) {
      new VpcSecurityGroupIngressRule(this, `endpoints-https-from-${label}`, {
        securityGroupId: this.endpointSecurityGroup.id,
        description: `HTTPS from the ${label} CIDR`,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: cidr,
      });
    }
    new VpcSecurityGroupEgressRule(this, 'endpoints-egress-vpc', {
      securityGroupId: this.endpointSecurityGroup.id,
      description: 'Responses stay inside the VPC',
      ipProtocol: '-1',
      cidrIpv4: props.vpcCidr,
    });

    for (const service of props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS) {
      new VpcEndpoint(this, `endpoint-${service.replace(/\./g, '-')}`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: this.nodeSubnets.map((s) => s.id),
        securityGroupIds: [this.endpointSecurityGroup.id],
        tags: nameTag(service),
      });
    }

    this.flowLogGroup = new CloudwatchLogGroup(this, 'flow-logs', {
      name: `/aws/vpc/${props.name}/flow-logs`,
      retentionInDays: props.flowLogRetentionDays ?? 90,
    });
    const flowLogRole = new IamRole(this, 'flow-logs-role', {
      name: `${props.name}-vpc-flow-logs`,
      assumeRolePolicy: policyJson(
        policyDocument({
          Effect: 'Allow',
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': props.accountId },
            ArnLike: { 'aws:SourceArn': `arn:${partition}:ec2:${props.region}:${props.accountId}:vpc-flow-log/*` },
          },
        }),
      ),
    });
    new IamRolePolicy(this, 'flow-logs-policy', {
      role: flowLogRole.id,
      name: 'write-flow-logs',
      policy: policyJson(
        policyDocument({
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Resource: [this.flowLogGroup.arn, `${this.flowLogGroup.arn}:*`],
        }),
      ),
    });
    new FlowLog(this, 'flow-log', {
      vpcId: this.vpc.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: this.flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      maxAggregationInterval: 60,
      tags: nameTag('flow-log'),
    });
  }
}
