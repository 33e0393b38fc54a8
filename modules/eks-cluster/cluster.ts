/**
 * The EKS cluster: control plane with envelope encryption and all log types, access entries
 * (no aws-auth ConfigMap edits), the IAM OIDC provider for IRSA, the Pod Identity agent, a
 * Graviton `system` managed node group for controllers, and pinned managed add-ons with VPC CNI
 * custom networking.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { Ec2Tag } from '@cdktf/provider-aws/lib/ec2-tag/index.js';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association/index.js';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon/index.js';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import { managedPolicyArn, podIdentityTrust, policyDocument, policyJson, serviceTrust } from '../iam/policy.js';
import { POOL_LABEL, SYSTEM_POOL, SYSTEM_TAINT } from '../scheduling/system-nodes.js';
import type { SupportType } from './versions.js';
import { corednsConfiguration, ebsCsiConfiguration, metricsServerConfiguration, vpcCniConfiguration } from './addons.js';

/** Every control-plane log type EKS can ship to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'] as const;

/** Policies of every EC2 node role (managed node groups and Karpenter nodes). */
export const NODE_ROLE_MANAGED_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEKS_CNI_Policy',
  'AmazonEC2ContainerRegistryPullOnly',
  'AmazonSSMManagedInstanceCore',
] as const;

export interface AddonVersionPins {
  readonly vpcCni: string;
  readonly coredns: string;
  readonly kubeProxy: string;
  readonly podIdentityAgent: string;
  readonly ebsCsiDriver: string;
  readonly metricsServer: string;
}

export interface SystemNodeGroupProps {
  /** Graviton instance types. */
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  /** Root volume size (encrypted gp3). */
  readonly diskSizeGiB: number;
  /**
   * Kubelet max pods; prefix delegation gives each ENI /28 prefixes, so the ENI-based default
   * would waste the node.
   * @default 110
   */
  readonly maxPods?: number;
}

export interface EksClusterProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /**
   * `upgrade_policy.support_type`: what EKS does at the end of standard support. STANDARD upgrades
   * the control plane itself and never bills extended support; EXTENDED keeps the version 12 more
   * months at the extended-support rate. (The EKS API's own default is EXTENDED.)
   * @default 'STANDARD'
   */
  readonly supportType?: SupportType;
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Private subnets of the control-plane ENIs and the system node group. */
  readonly nodeSubnetIds: readonly string[];
  /** Pod subnet per availability zone (custom networking). */
  readonly podSubnetsByZone: Readonly<Record<string, string>>;
  /** CIDRs allowed to reach the public API endpoint; empty means private endpoint only. */
  readonly publicEndpointCidrs: readonly string[];
  /** IAM roles that get cluster-admin through access entries. */
  readonly adminRoleArns: readonly string[];
  /** Retention of the control-plane log group. */
  readonly logRetentionDays: number;
  readonly addonVersions: AddonVersionPins;
  readonly systemNodeGroup: SystemNodeGroupProps;
}

export class EksClusterConstruct extends Construct {
  readonly cluster: EksCluster;
  readonly secretsKey: KmsKey;
  readonly oidcProvider: IamOpenidConnectProvider;
  /** The cluster's OIDC issuer URL, with its scheme (`https://oidc.eks.<region>.amazonaws.com/id/<id>`). */
  readonly oidcIssuerUrl: string;
  /** Issuer without the scheme (`oidc.eks.<region>.amazonaws.com/id/<id>`), as IRSA conditions use it. */
  readonly oidcIssuerHostPath: string;
  readonly clusterSecurityGroupId: string;
  readonly systemNodeRole: IamRole;
  readonly systemNodeGroup: EksNodeGroup;
  readonly addons: Record<string, EksAddon> = {};

  constructor(scope: Construct, id: string, props: EksClusterProps) {
    super(scope, id);
    const partition = props.partition ?? 'aws';
    const policy = (name: string) => managedPolicyArn(partition, name);

    this.secretsKey = new KmsKey(this, 'secrets-key', {
      description: `Envelope encryption of Kubernetes secrets in ${props.clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    new KmsAlias(this, 'secrets-key-alias', { name: `alias/eks/${props.clusterName}/secrets`, targetKeyId: this.secretsKey.keyId });

    const clusterRole = new IamRole(this, 'cluster-role', {
      name: `${props.clusterName}-cluster`,
      assumeRolePolicy: policyJson(
        policyDocument({ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
      ),
    });
    new IamRolePolicyAttachment(this, 'cluster-policy', { role: clusterRole.name, policyArn: policy('AmazonEKSClusterPolicy') });
    new IamRolePolicy(this, 'cluster-secrets-key', {
      role: clusterRole.id,
      name: 'secrets-envelope-encryption',
      policy: policyJson(
        policyDocument({
          Effect: 'Allow',
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:DescribeKey', 'kms:CreateGrant'],
          Resource: this.secretsKey.arn,
        }),
      ),
    });

    const controlPlaneLogs = new CloudwatchLogGroup(this, 'control-plane-logs', {
      // EKS writes to exactly this name; creating it first lets us set the retention.
      name: `/aws/eks/${props.clusterName}/cluster`,
      retentionInDays: props.logRetentionDays,
    });

    const publicAccess = props.publicEndpointCidrs.length > 0;
    this.cluster = new EksCluster(this, 'cluster', {
      name: props.clusterName,
      version: props.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: [...props.nodeSubnetIds],
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccess,
        ...(publicAccess ? { publicAccessCidrs: [...props.publicEndpointCidrs] } : {}),
      },
      accessConfig: {
        // API for access entries; CONFIG_MAP kept because EMR on EKS virtual clusters rely on it.
        authenticationMode: 'API_AND_CONFIG_MAP',
        bootstrapClusterCreatorAdminPermissions: false,
      },
      encryptionConfig: { resources: ['secrets'], provider: { keyArn: this.secretsKey.arn } },
      enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
      // Every add-on is an EKS managed add-on below, pinned; no unmanaged defaults to drift.
      bootstrapSelfManagedAddons: false,
      upgradePolicy: { supportType: props.supportType ?? 'STANDARD' },
      dependsOn: [controlPlaneLogs],
    });
    this.clusterSecurityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;

    // Karpenter selects node security groups by this tag.
    new Ec2Tag(this, 'cluster-sg-discovery-tag', {
      resourceId: this.clusterSecurityGroupId,
      key: 'karpenter.sh/discovery',
      value: props.clusterName,
    });

    props.adminRoleArns.forEach((principalArn, i) => {
      const entry = new EksAccessEntry(this, `admin-entry-${i}`, { clusterName: this.cluster.name, principalArn, type: 'STANDARD' });
      new EksAccessPolicyAssociation(this, `admin-policy-${i}`, {
        clusterName: this.cluster.name,
        principalArn: entry.principalArn,
        policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: 'cluster' },
      });
    });

    this.oidcIssuerUrl = this.cluster.identity.get(0).oidc.get(0).issuer;
    this.oidcProvider = new IamOpenidConnectProvider(this, 'oidc', {
      url: this.oidcIssuerUrl,
      clientIdList: ['sts.amazonaws.com'],
    });
    // The provider's `url` attribute is the issuer without its scheme (IAM stores it so); it also
    // makes every IRSA trust wait for the OIDC provider.
    this.oidcIssuerHostPath = Fn.replace(this.oidcProvider.url, 'https://', '');

    // Add-ons that nodes need to become Ready are created before the node group.
    const addon = (name: string, addonName: string, version: string, extra: Partial<ConstructorParameters<typeof EksAddon>[2]> = {}) => {
      const created = new EksAddon(this, `addon-${name}`, {
        clusterName: this.cluster.name,
        addonName,
        addonVersion: version,
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
        ...extra,
      });
      this.addons[addonName] = created;
      return created;
    };
    const vpcCni = addon('vpc-cni', 'vpc-cni', props.addonVersions.vpcCni, {
      configurationValues: JSON.stringify(
        vpcCniConfiguration({
          region: props.region,
          podSubnetsByZone: props.podSubnetsByZone,
          podSecurityGroupIds: [this.clusterSecurityGroupId],
        }),
      ),
    });
    const kubeProxy = addon('kube-proxy', 'kube-proxy', props.addonVersions.kubeProxy);
    const podIdentityAgent = addon('pod-identity-agent', 'eks-pod-identity-agent', props.addonVersions.podIdentityAgent);

    this.systemNodeRole = new IamRole(this, 'system-node-role', {
      name: `${props.clusterName}-system-node`,
      assumeRolePolicy: policyJson(serviceTrust('ec2.amazonaws.com')),
    });
    const nodePolicies = NODE_ROLE_MANAGED_POLICIES.map(
      (name) => new IamRolePolicyAttachment(this, `system-node-${name}`, { role: this.systemNodeRole.name, policyArn: policy(name) }),
    );

    const ng = props.systemNodeGroup;
    const nodeConfig = [
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="//"',
      '',
      '--//',
      'Content-Type: application/node.eks.aws',
      '',
      '---',
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  kubelet:',
      '    config:',
      `      maxPods: ${ng.maxPods ?? 110}`,
      '--//--',
      '',
    ].join('\n');
    const launchTemplate = new LaunchTemplate(this, 'system-launch-template', {
      name: `${props.clusterName}-system`,
      description: 'System node group: IMDSv2 only, hop limit 1 (pods cannot use the node role), encrypted gp3',
      updateDefaultVersion: true,
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', ebs: { volumeSize: ng.diskSizeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } },
      ],
      userData: Buffer.from(nodeConfig).toString('base64'),
      tagSpecifications: [{ resourceType: 'instance', tags: { Name: `${props.clusterName}-system` } }],
    });

    this.systemNodeGroup = new EksNodeGroup(this, 'system-nodes', {
      clusterName: this.cluster.name,
      nodeGroupName: 'system',
      // Follows the control plane: a version bump upgrades the cluster first, then rolls these nodes.
      version: this.cluster.version,
      nodeRoleArn: this.systemNodeRole.arn,
      subnetIds: [...props.nodeSubnetIds],
      amiType: 'AL2023_ARM_64_STANDARD',
      capacityType: 'ON_DEMAND',
      instanceTypes: [...ng.instanceTypes],
      scalingConfig: { minSize: ng.minSize, desiredSize: ng.desiredSize, maxSize: ng.maxSize },
      updateConfig: { maxUnavailable: 1 },
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.toString() },
      labels: { [POOL_LABEL]: SYSTEM_POOL },
      taint: [{ key: SYSTEM_TAINT.key, value: SYSTEM_TAINT.value, effect: 'NO_SCHEDULE' }],
      lifecycle: { ignoreChanges: ['scaling_config[0].desired_size'] },
      dependsOn: [vpcCni, kubeProxy, podIdentityAgent, ...nodePolicies],
    });

    // Add-ons whose pods need a node come after the node group.
    addon('coredns', 'coredns', props.addonVersions.coredns, {
      configurationValues: JSON.stringify(corednsConfiguration()),
      dependsOn: [this.systemNodeGroup],
    });
    addon('metrics-server', 'metrics-server', props.addonVersions.metricsServer, {
      configurationValues: JSON.stringify(metricsServerConfiguration()),
      dependsOn: [this.systemNodeGroup],
    });
    const ebsCsiRole = new IamRole(this, 'ebs-csi-role', {
      name: `${props.clusterName}-ebs-csi-driver`,
      assumeRolePolicy: policyJson(
        podIdentityTrust({
          clusterArn: this.cluster.arn,
          accountId: props.accountId,
          namespace: 'kube-system',
          serviceAccounts: ['ebs-csi-controller-sa'],
        }),
      ),
    });
    const ebsPolicy = new IamRolePolicyAttachment(this, 'ebs-csi-policy', {
      role: ebsCsiRole.name,
      policyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`,
    });
    addon('ebs-csi-driver', 'aws-ebs-csi-driver', props.addonVersions.ebsCsiDriver, {
      configurationValues: JSON.stringify(ebsCsiConfiguration()),
      podIdentityAssociation: [{ roleArn: ebsCsiRole.arn, serviceAccount: 'ebs-csi-controller-sa' }],
      dependsOn: [this.systemNodeGroup, podIdentityAgent, ebsPolicy],
    });
  }
}
