/**
 * EC2NodeClasses (typed with `@kubernetes-models/karpenter`): how Karpenter launches a node.
 *
 * - `general`: gp3 root volume only (drivers, general workloads).
 * - `spark-nvme`: `instanceStorePolicy: RAID0` stripes the instance-store NVMe disks and puts
 *   kubelet and containerd on them, so pod `emptyDir` volumes, and with them Spark local dirs
 *   (shuffle, spill), land on NVMe without hostPath; the root volume only holds the OS.
 *
 * Both: a pinned AL2023 alias (never `@latest`, which drifts every node on each AMI release),
 * subnets and security groups by discovery tag, IMDSv2 only with hop limit 1 (pods cannot reach
 * the node role's credentials), encrypted gp3 root, no public IPs, kubelet `maxPods` sized for
 * VPC CNI prefix delegation.
 */
import { EC2NodeClass } from '@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass';
import { SUBNET_TAGS } from '../network/network.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM, NODE_CLASSES } from '../scheduling/spark-pools.js';

/** A pinned AL2023 alias: `al2023@v20260714`. */
export const PINNED_AL2023_ALIAS = /^al2023@v\d{8}$/;

/** The AL2023 EKS AMI release the node classes use unless an environment pins another one. */
export const DEFAULT_AMI_ALIAS = 'al2023@v20260714';

/** Tag keys Karpenter reserves on EC2NodeClass `tags` (it sets them itself). */
const RESERVED_TAG_KEYS = ['eks:eks-cluster-name', 'karpenter.sh/nodepool', 'karpenter.sh/nodeclaim', 'karpenter.k8s.aws/ec2nodeclass'];

export interface NodeClassProps {
  /** Cluster name: the value of the `karpenter.sh/discovery` tag on node subnets and the cluster security group. */
  readonly clusterName: string;
  /** Name of the IAM role of Karpenter nodes (Karpenter manages its instance profile). */
  readonly nodeRoleName: string;
  /**
   * Pinned AL2023 AMI alias.
   * @default DEFAULT_AMI_ALIAS
   */
  readonly amiAlias?: string;
  /**
   * Tag key that selects subnets and security groups (value: `clusterName`).
   * @default 'karpenter.sh/discovery'
   */
  readonly discoveryTagKey?: string;
  /**
   * Kubelet max pods. Prefix delegation gives each ENI /28 prefixes, so the ENI-based default
   * (which `reservedENIs` lowers further with custom networking) would waste the node.
   * @default 110
   */
  readonly maxPods?: number;
  /**
   * Root volume of `general` nodes (images, logs, emptyDir), GiB.
   * @default 100
   */
  readonly generalRootVolumeGiB?: number;
  /**
   * Root volume of `spark-nvme` nodes (OS only: kubelet and containerd are on the NVMe RAID0), GiB.
   * @default 40
   */
  readonly nvmeRootVolumeGiB?: number;
  /**
   * Tags on every instance, volume and network interface Karpenter launches (the AWS provider's
   * default tags do not reach them).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

function nodeClass(props: NodeClassProps, name: string, rootVolumeGiB: number, raid0: boolean): EC2NodeClass {
  const amiAlias = props.amiAlias ?? DEFAULT_AMI_ALIAS;
  if (!PINNED_AL2023_ALIAS.test(amiAlias)) {
    throw new Error(`EC2NodeClass ${name}: amiAlias: expected a pinned AL2023 alias such as ${DEFAULT_AMI_ALIAS}, found ${JSON.stringify(amiAlias)}`);
  }
  const tags = props.tags ?? {};
  const reserved = Object.keys(tags).filter((k) => RESERVED_TAG_KEYS.includes(k) || k.startsWith('kubernetes.io/cluster'));
  if (reserved.length > 0) throw new Error(`EC2NodeClass ${name}: tags: Karpenter sets ${reserved.join(', ')} itself`);
  const discovery = { [props.discoveryTagKey ?? SUBNET_TAGS.karpenterDiscovery]: props.clusterName };
  return new EC2NodeClass({
    metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } },
    spec: {
      amiSelectorTerms: [{ alias: amiAlias }],
      role: props.nodeRoleName,
      subnetSelectorTerms: [{ tags: discovery }],
      securityGroupSelectorTerms: [{ tags: discovery }],
      associatePublicIPAddress: false,
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          rootVolume: true,
          ebs: { volumeSize: `${rootVolumeGiB}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
        },
      ],
      ...(raid0 ? { instanceStorePolicy: 'RAID0' as const } : {}),
      kubelet: { maxPods: props.maxPods ?? 110 },
      ...(Object.keys(tags).length > 0 ? { tags: { ...tags } } : {}),
    },
  });
}

/** The `general` and `spark-nvme` EC2NodeClasses. */
export function sparkNodeClasses(props: NodeClassProps): { general: EC2NodeClass; sparkNvme: EC2NodeClass } {
  return {
    general: nodeClass(props, NODE_CLASSES.general, props.generalRootVolumeGiB ?? 100, false),
    sparkNvme: nodeClass(props, NODE_CLASSES.sparkNvme, props.nvmeRootVolumeGiB ?? 40, true),
  };
}
