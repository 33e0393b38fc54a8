/**
 * EKS and EC2 rules: private control plane endpoint, no open public endpoint outside dev, envelope
 * encryption of secrets, every control-plane log type, and nodes launched with IMDSv2 (hop limit 1,
 * so pods cannot reach the node role's credentials) and encrypted EBS volumes.
 */
import { pastStandardSupport, supportStatus } from '../eks-cluster/versions.js';
import { type Rule, types } from './rule.js';
import { block, blocks, isTrue, strings } from './terraform.js';

/** Every control-plane log type EKS can ship to CloudWatch. */
export const EKS_LOG_TYPES: readonly string[] = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/** Environments that may run a Kubernetes version past the end of EKS standard support (synth still warns). */
export const OUT_OF_SUPPORT_ENVIRONMENTS: readonly string[] = ['dev'];

/** Environments whose public API endpoint may be open to 0.0.0.0/0 (laptops without a VPN). */
export const OPEN_PUBLIC_ENDPOINT_ENVIRONMENTS: readonly string[] = ['dev'];

export const eksPrivateEndpoint: Rule = {
  id: 'EKS-001',
  title: 'EKS clusters enable the private API endpoint',
  description: 'With the private endpoint off, nodes and in-VPC tooling reach the API server over the internet.',
  fix: 'Set vpc_config.endpoint_private_access = true on the aws_eks_cluster.',
  appliesTo: types('aws_eks_cluster'),
  check: (resource) => (isTrue(block(resource.body.vpc_config)?.endpoint_private_access) ? [] : ['vpc_config.endpoint_private_access is not true']),
};

export const eksPublicEndpointRestricted: Rule = {
  id: 'EKS-002',
  title: 'The public API endpoint is not open to 0.0.0.0/0 outside dev',
  description: 'An API endpoint reachable from anywhere relies on credentials alone; outside dev it must be private or limited to office/CI CIDRs.',
  fix: 'Set publicEndpointCidrs in the environment file to your office/VPN/CI egress CIDRs, or to [] for a private-only endpoint.',
  appliesTo: types('aws_eks_cluster'),
  check: (resource, context) => {
    if (OPEN_PUBLIC_ENDPOINT_ENVIRONMENTS.includes(context.environmentName)) return [];
    const vpc = block(resource.body.vpc_config) ?? {};
    // The provider defaults endpoint_public_access to true and public_access_cidrs to 0.0.0.0/0.
    if (vpc.endpoint_public_access === false || vpc.endpoint_public_access === 'false') return [];
    const cidrs = strings(vpc.public_access_cidrs);
    if (cidrs.length === 0) return [`public endpoint is on with no public_access_cidrs (the provider default is 0.0.0.0/0) in environment ${context.environmentName}`];
    return cidrs.includes('0.0.0.0/0') ? [`public endpoint allows 0.0.0.0/0 in environment ${context.environmentName}`] : [];
  },
};

export const eksSecretsEncryption: Rule = {
  id: 'EKS-003',
  title: 'EKS clusters encrypt Kubernetes secrets with a KMS key',
  description: 'Envelope encryption keeps secrets in etcd encrypted with a key whose use is logged and can be revoked.',
  fix: 'Add encryption_config { resources = ["secrets"], provider { key_arn = <KMS key ARN> } } to the aws_eks_cluster.',
  appliesTo: types('aws_eks_cluster'),
  check: (resource) => {
    const configs = blocks(resource.body.encryption_config);
    const ok = configs.some((c) => strings(c.resources).includes('secrets') && typeof block(c.provider)?.key_arn === 'string' && block(c.provider)!.key_arn !== '');
    return ok ? [] : ['cluster has no encryption_config for "secrets" with a KMS key_arn'];
  },
};

export const eksControlPlaneLogs: Rule = {
  id: 'EKS-004',
  title: 'EKS clusters ship all five control-plane log types',
  description: 'api, audit, authenticator, controllerManager and scheduler logs are what an incident responder needs to see who did what.',
  fix: 'Set enabled_cluster_log_types to ["api", "audit", "authenticator", "controllerManager", "scheduler"] and create the /aws/eks/<cluster>/cluster log group with retention first.',
  appliesTo: types('aws_eks_cluster'),
  check: (resource) => {
    const enabled = strings(resource.body.enabled_cluster_log_types);
    const missing = EKS_LOG_TYPES.filter((t) => !enabled.includes(t));
    return missing.length > 0 ? [`control-plane log types ${missing.join(', ')} are not enabled`] : [];
  },
};

export const eksVersionInStandardSupport: Rule = {
  id: 'EKS-006',
  title: 'EKS clusters outside dev run a Kubernetes version in standard support',
  description:
    'Past the end of standard support a cluster either pays extended support (about six times the cluster-hour price) or, with support type STANDARD, is upgraded by EKS outside Terraform, with nodes and add-ons left behind. Versions and dates: modules/eks-cluster/versions.ts.',
  fix: 'Upgrade kubernetesVersion one minor version at a time (README: "Upgrading Kubernetes and add-ons"); to stay on purpose, suppress EKS-006 on the cluster with the reason and the planned date.',
  appliesTo: types('aws_eks_cluster'),
  check: (resource, context) => {
    if (OUT_OF_SUPPORT_ENVIRONMENTS.includes(context.environmentName)) return [];
    const version = resource.body.version;
    if (typeof version !== 'string') return [];
    const status = supportStatus(version, context.today);
    if (!pastStandardSupport(status)) return [];
    const basis = status.basis !== version ? ` (older than ${status.basis}, the oldest version listed)` : '';
    return [`Kubernetes ${version}${basis} left EKS standard support on ${status.endOfStandardSupport} (checked on ${context.today}) in environment ${context.environmentName}`];
  },
};

export const eksNodeGroupLaunchTemplate: Rule = {
  id: 'EKS-005',
  title: 'Managed node groups use a launch template defined in the same stack',
  description: "EKS's default launch template leaves the IMDS hop limit at 2, so pods can use the node role; only a launch template in the stack can be checked for IMDSv2 and hop limit 1 (EC2-001).",
  fix: 'Create an aws_launch_template with metadata_options { http_tokens = "required", http_put_response_hop_limit = 1 } and pass launch_template { id = <its id>, version = <its latest_version> } to the node group.',
  appliesTo: types('aws_eks_node_group'),
  check: (resource, context) => {
    const template = block(resource.body.launch_template);
    if (!template) return ['node group has no launch_template (the EKS default allows IMDS hop limit 2)'];
    const byId = context.index.referenced(template.id, 'aws_launch_template');
    const byName =
      typeof template.name === 'string'
        ? (context.index.referenced(template.name, 'aws_launch_template') ?? context.index.ofType('aws_launch_template').find((lt) => lt.body.name === template.name))
        : undefined;
    return byId || byName ? [] : ['node group launch template is not an aws_launch_template of this stack, so its metadata options cannot be verified'];
  },
};

export const ec2Imdsv2: Rule = {
  id: 'EC2-001',
  title: 'Launch templates and instances require IMDSv2 with hop limit 1',
  description: 'IMDSv1 is open to SSRF; a hop limit above 1 lets containers reach the instance metadata service and the node role credentials.',
  fix: 'Set metadata_options { http_endpoint = "enabled", http_tokens = "required", http_put_response_hop_limit = 1 }.',
  appliesTo: types('aws_launch_template', 'aws_instance'),
  check: (resource) => {
    const options = block(resource.body.metadata_options);
    if (options?.http_endpoint === 'disabled') return [];
    const problems: string[] = [];
    if (options?.http_tokens !== 'required') problems.push(`metadata_options.http_tokens is ${JSON.stringify(options?.http_tokens ?? null)}, not "required"`);
    const hops = options?.http_put_response_hop_limit;
    if (hops !== 1 && hops !== '1') problems.push(`metadata_options.http_put_response_hop_limit is ${JSON.stringify(hops ?? null)}, not 1`);
    return problems;
  },
};

export const ec2EbsEncrypted: Rule = {
  id: 'EC2-002',
  title: 'EBS volumes of launch templates and instances are encrypted',
  description: 'Node root volumes hold container images, logs and emptyDir data (shuffle, spill) that may contain tenant data.',
  fix: 'Give every block_device_mappings entry ebs { encrypted = true } (and for instances root_block_device { encrypted = true }).',
  appliesTo: types('aws_launch_template', 'aws_instance'),
  check: (resource) => {
    const body = resource.body;
    if (resource.type === 'aws_launch_template') {
      const mappings = blocks(body.block_device_mappings).filter((m) => block(m.ebs) !== undefined);
      if (mappings.length === 0) return ['launch template sets no EBS block device mapping, so the root volume encryption depends on the AMI'];
      return mappings.filter((m) => !isTrue(block(m.ebs)!.encrypted)).map((m) => `EBS volume ${String(m.device_name ?? '(unnamed)')} is not encrypted`);
    }
    const volumes: Record<string, unknown>[] = [...blocks(body.root_block_device).map((v) => ({ ...v, device_name: v.device_name ?? 'root' })), ...blocks(body.ebs_block_device)];
    if (blocks(body.root_block_device).length === 0) volumes.push({ device_name: 'root (default)', encrypted: false });
    return volumes.filter((v) => !isTrue(v.encrypted)).map((v) => `EBS volume ${String(v.device_name)} is not encrypted`);
  },
};

export const EKS_RULES: readonly Rule[] = [
  eksPrivateEndpoint,
  eksPublicEndpointRestricted,
  eksSecretsEncryption,
  eksControlPlaneLogs,
  eksNodeGroupLaunchTemplate,
  eksVersionInStandardSupport,
  ec2Imdsv2,
  ec2EbsEncrypted,
];
