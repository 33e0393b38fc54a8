import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association/index.js';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { CONTROL_PLANE_LOG_TYPES, NODE_ROLE_MANAGED_POLICIES } from '../modules/eks-cluster/cluster.js';
import { resourceLike, resourcesOf, synthStack, synthText, testEnvironment, type TerraformJson } from './support/synth.js';

const text = synthText('cluster');
const tf = JSON.parse(text) as TerraformJson;
const cluster = resourceLike(tf, 'aws_eks_cluster', 'cluster');
const addons = Object.fromEntries(Object.values(resourcesOf(tf, 'aws_eks_addon')).map((a) => [a.addon_name as string, a]));
const config = (name: string) => JSON.parse(addons[name]!.configuration_values as string) as Record<string, any>;

describe('cluster stack (dev)', () => {
  it('uses its own state key and reads the network state (and the account state for the CI roles)', () => {
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/cluster.tfstate');
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).use_lockfile, true);
    const remotes = Object.values(tf.data!.terraform_remote_state!);
    for (const remote of remotes) assert.equal(remote.backend, 's3');
    assert.deepEqual(remotes.map((r) => (r.config as Record<string, unknown>).key).sort(), ['dev/account.tfstate', 'dev/network.tfstate']);
  });

  it('creates the cluster with the environment version and API_AND_CONFIG_MAP access (EMR on EKS needs it)', () => {
    expect(text).toHaveResourceWithProperties(EksCluster, {
      name: 'spark-dev',
      version: '1.36',
      access_config: { authentication_mode: 'API_AND_CONFIG_MAP', bootstrap_cluster_creator_admin_permissions: false },
      bootstrap_self_managed_addons: false,
    });
    assert.equal(cluster.name, 'spark-dev');
  });

  it('encrypts secrets with a rotated KMS key and ships every control-plane log type', () => {
    const key = resourceLike(tf, 'aws_kms_key', 'secrets-key');
    assert.equal(key.enable_key_rotation, true);
    const encryption = cluster.encryption_config as { resources: string[]; provider: { key_arn: string } };
    assert.deepEqual(encryption.resources, ['secrets']);
    assert.match(encryption.provider.key_arn, /aws_kms_key\.eks_secrets-key_.*\.arn/);
    assert.deepEqual(cluster.enabled_cluster_log_types, [...CONTROL_PLANE_LOG_TYPES]);
    const logGroup = resourceLike(tf, 'aws_cloudwatch_log_group', 'control-plane-logs');
    assert.equal(logGroup.name, '/aws/eks/spark-dev/cluster');
    assert.equal(logGroup.retention_in_days, 30);
  });

  it('keeps the private endpoint and opens the public one only to the listed CIDRs', () => {
    assert.deepEqual(
      { ...(cluster.vpc_config as Record<string, unknown>), subnet_ids: undefined },
      { endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['203.0.113.0/24'], subnet_ids: undefined },
    );
    const prod = resourceLike(synthStack('cluster', testEnvironment({}, 'prod')), 'aws_eks_cluster', 'cluster');
    const prodVpc = prod.vpc_config as Record<string, unknown>;
    assert.equal(prodVpc.endpoint_public_access, false);
    assert.equal(prodVpc.public_access_cidrs, undefined);
  });

  it('grants cluster admin to the admin roles through access entries, not aws-auth', () => {
    const entries = Object.entries(resourcesOf(tf, 'aws_eks_access_entry')).filter(([id]) => id.startsWith('eks_admin-entry'));
    assert.deepEqual(entries.map(([, e]) => [e.principal_arn, e.type]), [['arn:aws:iam::111122223333:role/platform-admins', 'STANDARD']]);
    const admin = Object.entries(resourcesOf(tf, 'aws_eks_access_policy_association')).filter(([id]) => id.startsWith('eks_admin-policy'));
    assert.equal(admin.length, 1);
    expect(text).toHaveResourceWithProperties(EksAccessPolicyAssociation, {
      policy_arn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      access_scope: { type: 'cluster' },
    });
  });

  it('creates the IAM OIDC provider for IRSA', () => {
    const oidc = resourceLike(tf, 'aws_iam_openid_connect_provider', 'oidc');
    assert.deepEqual(oidc.client_id_list, ['sts.amazonaws.com']);
    assert.match(oidc.url as string, /aws_eks_cluster\.eks_cluster_.*\.identity\[0\]\.oidc\[0\]\.issuer/);
  });

  it('runs a Graviton AL2023 system node group, labelled and tainted for platform components', () => {
    const ng = resourceLike(tf, 'aws_eks_node_group', 'system-nodes');
    assert.equal(ng.ami_type, 'AL2023_ARM_64_STANDARD');
    assert.equal(ng.capacity_type, 'ON_DEMAND');
    // Upgrading kubernetesVersion rolls the system nodes after the control plane.
    assert.match(ng.version as string, /aws_eks_cluster\.eks_cluster_.*\.version/);
    assert.deepEqual(ng.instance_types, ['m7g.large', 'm6g.large']);
    assert.deepEqual(ng.labels, { 'spark-platform.io/pool': 'system' });
    assert.deepEqual(ng.taint, [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' }]);
    assert.deepEqual(ng.scaling_config, { min_size: 2, desired_size: 2, max_size: 4 });
    const lt = resourceLike(tf, 'aws_launch_template', 'system-launch-template');
    assert.deepEqual(lt.metadata_options, { http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1, instance_metadata_tags: 'disabled' });
    const ebs = (lt.block_device_mappings as { ebs: Record<string, unknown> }[])[0]!.ebs;
    assert.equal(ebs.volume_type, 'gp3');
    assert.equal(ebs.encrypted, 'true');
    assert.match(Buffer.from(lt.user_data as string, 'base64').toString(), /kind: NodeConfig[\s\S]*maxPods: 110/);
    const attachments = Object.values(resourcesOf(tf, 'aws_iam_role_policy_attachment'))
      .map((a) => a.policy_arn as string)
      .filter((arn) => NODE_ROLE_MANAGED_POLICIES.some((p) => arn.endsWith(`/${p}`)));
    assert.equal(attachments.length, NODE_ROLE_MANAGED_POLICIES.length);
  });

  it('pins every managed add-on version', () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(addons).map(([name, a]) => [name, a.addon_version])),
      {
        'vpc-cni': 'v1.22.4-eksbuild.3',
        'kube-proxy': 'v1.36.0-eksbuild.14',
        'eks-pod-identity-agent': 'v1.3.10-eksbuild.3',
        coredns: 'v1.14.3-eksbuild.3',
        'metrics-server': 'v0.9.0-eksbuild.5',
        'aws-ebs-csi-driver': 'v1.64.0-eksbuild.1',
      },
    );
  });

  it('configures vpc-cni for custom networking, prefix delegation and network policy enforcement', () => {
    const cni = config('vpc-cni');
    assert.deepEqual(cni.env, {
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
      ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
      ENABLE_PREFIX_DELEGATION: 'true',
      WARM_PREFIX_TARGET: '1',
      AWS_VPC_K8S_CNI_EXTERNALSNAT: 'false',
    });
    for (const value of Object.values(cni.env)) assert.equal(typeof value, 'string');
    assert.equal(cni.enableNetworkPolicy, 'true');
    // ENIConfigs named after each AZ come with the add-on, before any node joins.
    assert.equal(cni.eniConfig.create, true);
    assert.deepEqual(Object.keys(cni.eniConfig.subnets), ['us-west-2a', 'us-west-2b', 'us-west-2c']);
    assert.match(cni.eniConfig.subnets['us-west-2b'].id, /element\(.*podSubnetIds.*, 1\)/);
    assert.equal(cni.eniConfig.subnets['us-west-2a'].securityGroups.length, 1);
  });

  it('orders add-ons: networking before the node group, the rest after it', () => {
    const ng = resourceLike(tf, 'aws_eks_node_group', 'system-nodes');
    const dependsOn = (ng.depends_on as string[]).join(' ');
    for (const id of ['addon-vpc-cni', 'addon-kube-proxy', 'addon-pod-identity-agent']) assert.match(dependsOn, new RegExp(id));
    for (const name of ['coredns', 'metrics-server', 'aws-ebs-csi-driver']) {
      assert.ok((addons[name]!.depends_on as string[]).some((d) => d.includes('system-nodes')), name);
    }
  });

  it('autoscales CoreDNS and keeps add-on controllers on the system nodes', () => {
    assert.deepEqual(config('coredns').autoScaling, { enabled: true, minReplicas: 2, maxReplicas: 10 });
    for (const [name, placement] of [['coredns', config('coredns')], ['metrics-server', config('metrics-server')], ['aws-ebs-csi-driver', config('aws-ebs-csi-driver').controller]] as const) {
      assert.deepEqual(placement.nodeSelector, { 'spark-platform.io/pool': 'system' }, name);
      assert.deepEqual(placement.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }], name);
    }
  });

  it('gives the EBS CSI driver a Pod Identity role scoped to its service account', () => {
    const ebs = addons['aws-ebs-csi-driver']!;
    assert.deepEqual((ebs.pod_identity_association as Record<string, unknown>[])[0]!.service_account, 'ebs-csi-controller-sa');
    const role = resourceLike(tf, 'aws_iam_role', 'ebs-csi-role');
    const trust = JSON.parse(role.assume_role_policy as string);
    assert.deepEqual(trust.Statement[0].Principal, { Service: 'pods.eks.amazonaws.com' });
    assert.deepEqual(trust.Statement[0].Action, ['sts:AssumeRole', 'sts:TagSession']);
    assert.equal(trust.Statement[0].Condition.StringEquals['aws:RequestTag/kubernetes-namespace'], 'kube-system');
    assert.equal(trust.Statement[0].Condition.StringEquals['aws:RequestTag/kubernetes-service-account'], 'ebs-csi-controller-sa');
  });

  it('lets the cluster role use only its secrets key', () => {
    const policy = JSON.parse(resourceLike(tf, 'aws_iam_role_policy', 'cluster-secrets-key').policy as string);
    assert.match(policy.Statement[0].Resource, /aws_kms_key\.eks_secrets-key_.*\.arn/);
  });

  it('tags the cluster security group for Karpenter discovery', () => {
    const tag = resourceLike(tf, 'aws_ec2_tag', 'cluster-sg-discovery-tag');
    assert.deepEqual([tag.key, tag.value], ['karpenter.sh/discovery', 'spark-dev']);
  });

  it('publishes the OIDC issuer URL with its scheme, and the host path without it', () => {
    // The OIDC provider's `url` attribute is stored without the scheme: the URL output comes from the cluster.
    assert.match(tf.output!.oidcIssuerUrl!.value as string, /^\$\{aws_eks_cluster\.eks_cluster_[A-F0-9]+\.identity\[0\]\.oidc\[0\]\.issuer\}$/);
    assert.match(tf.output!.oidcIssuerHostPath!.value as string, /^\$\{replace\(aws_iam_openid_connect_provider\.eks_oidc_[A-F0-9]+\.url, "https:\/\/", ""\)\}$/);
  });

  it('publishes what the in-cluster and tenant stacks need', () => {
    for (const name of ['clusterName', 'clusterEndpoint', 'clusterCertificateAuthority', 'oidcProviderArn', 'oidcIssuerHostPath', 'clusterSecurityGroupId', 'podSubnetIds', 'secretsKmsKeyArn']) {
      assert.ok(tf.output![name], name);
    }
  });
});
