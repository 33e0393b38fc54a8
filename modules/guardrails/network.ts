/** Network rules: no security group ingress from the whole internet, flow logs on every VPC. */
import { type Rule, types } from './rule.js';
import { blocks, strings } from './terraform.js';

/** CIDRs meaning "anywhere". */
export const ANYWHERE_CIDRS: readonly string[] = ['0.0.0.0/0', '::/0'];

function openCidrs(values: readonly string[]): string[] {
  return values.filter((cidr) => ANYWHERE_CIDRS.includes(cidr));
}

function describePorts(rule: Record<string, unknown>): string {
  const protocol = String(rule.protocol ?? rule.ip_protocol ?? '');
  if (protocol === '-1' || protocol === 'all') return 'all traffic';
  const from = rule.from_port;
  const to = rule.to_port;
  return from === to ? `${protocol} port ${String(from)}` : `${protocol} ports ${String(from)}-${String(to)}`;
}

export const securityGroupNoPublicIngress: Rule = {
  id: 'NET-001',
  title: 'Security groups allow no ingress from 0.0.0.0/0 or ::/0',
  description: 'Cluster, node and endpoint security groups reachable from the whole internet turn every exposed port into an attack surface.',
  fix: 'Allow ingress only from the VPC/pod CIDRs, a prefix list or another security group; put public entry points behind a load balancer whose own group is managed by the load balancer controller.',
  appliesTo: types('aws_security_group', 'aws_default_security_group', 'aws_security_group_rule', 'aws_vpc_security_group_ingress_rule'),
  check: (resource) => {
    const body = resource.body;
    switch (resource.type) {
      case 'aws_security_group':
      case 'aws_default_security_group':
        return blocks(body.ingress).flatMap((rule) => {
          const open = openCidrs([...strings(rule.cidr_blocks), ...strings(rule.ipv6_cidr_blocks)]);
          return open.length > 0 ? [`inline ingress allows ${describePorts(rule)} from ${open.join(', ')}`] : [];
        });
      case 'aws_security_group_rule': {
        if (body.type !== 'ingress') return [];
        const open = openCidrs([...strings(body.cidr_blocks), ...strings(body.ipv6_cidr_blocks)]);
        return open.length > 0 ? [`ingress rule allows ${describePorts(body)} from ${open.join(', ')}`] : [];
      }
      default: {
        const open = openCidrs([...strings(body.cidr_ipv4), ...strings(body.cidr_ipv6)]);
        return open.length > 0 ? [`ingress rule allows ${describePorts(body)} from ${open.join(', ')}`] : [];
      }
    }
  },
};

export const vpcFlowLogs: Rule = {
  id: 'NET-002',
  title: 'Every VPC has flow logs',
  description: 'Flow logs are the only record of which addresses talked to which, for incident response and for debugging security groups and network policies.',
  fix: 'Add an aws_flow_log with vpc_id = the VPC, traffic_type "ALL", to a log group with retention (the Network construct does this).',
  appliesTo: types('aws_vpc'),
  check: (resource, context) =>
    (context.index.linkedBy('aws_flow_log', 'vpc_id', 'aws_vpc').get(resource.address) ?? []).length > 0 ? [] : ['VPC has no aws_flow_log'],
};

export const NETWORK_RULES: readonly Rule[] = [securityGroupNoPublicIngress, vpcFlowLogs];
