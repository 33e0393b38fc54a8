/**
 * The environment file (`environments/<env>.yaml`): the single source of truth for one
 * deployment of the platform. The zod schema below is the contract: it validates files, types
 * the rest of the code, and generates `environments/environment.schema.json` for editors.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { cidrContains, cidrsOverlap, isCidr, parseCidr } from '../../modules/network/cidr.js';
import { ConfigError, type ConfigProblem, describeValue, parseWithSchema, readYamlFile } from './config-file.js';
import { ComputeSchema } from './compute-config.js';
import { CostSchema } from './cost-config.js';
import { ObservabilitySchema } from './observability-config.js';
import { ciRoleNames, GITHUB_OIDC_HOST, roleArn } from '../../modules/account/names.js';
import { al2023Release, DEFAULT_KUBERNETES_VERSION, EKS_VERSIONS, SUPPORT_TYPES } from '../../modules/eks-cluster/versions.js';
import { karpenterIncompatibility } from '../../modules/karpenter/compatibility.js';
import { partitionOf } from '../../modules/iam/policy.js';

import { ENVIRONMENT_VARIABLE } from './environment-name.js';

export { DEFAULT_ENVIRONMENT, ENVIRONMENT_VARIABLE, selectedEnvironmentName } from './environment-name.js';

/**
 * AWS region names: area, optional partition marker, a compass direction, a number. Written as a
 * grammar rather than a list (the SDK's partition list is frozen at its version and misses newer
 * regions), so a typo in the direction (`us-weest-2`) is caught while new regions still pass.
 */
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const S3_BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/** Environment tags that fit next to the platform's own on every resource (S3 objects: 10 tags). */
export const MAX_ENVIRONMENT_TAGS = 4;
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

/**
 * Add-on versions known to work together, per Kubernetes minor version: the defaults of an
 * environment, so an upgrade is the one-line change of `kubernetesVersion` (one minor version at a
 * time: 1.33 -> 1.34 -> 1.35 -> 1.36). Confirm with
 * `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>` before a first
 * deploy, and override per environment under `addons` when AWS publishes fixes.
 *
 * Sources (2026-12-01): kube-proxy and CoreDNS from the AWS EKS User Guide tables (managing
 * kube-proxy, managing CoreDNS: the build listed for each version); vpc-cni v1.22.4-eksbuild.3 from
 * copies of the AWS managing-vpc-cni table (the 1.34-1.36 default; v1.23.x needs network policy
 * agent 1.4.1, which the add-on bundles, but is not yet the default); eks-pod-identity-agent,
 * aws-ebs-csi-driver and metrics-server builds as deployed on these versions (no AWS table lists
 * them; the EBS CSI driver supports every Kubernetes version EKS supports). The `1.33` row is
 * unchanged from earlier releases of this blueprint, so clusters still on 1.33 see no add-on change
 * until they upgrade.
 */
export const DEFAULT_ADDON_VERSIONS: Readonly<Record<string, AddonVersions>> = {
  '1.33': {
    vpcCni: 'v1.20.1-eksbuild.3',
    coredns: 'v1.12.1-eksbuild.2',
    kubeProxy: 'v1.33.0-eksbuild.2',
    podIdentityAgent: 'v1.3.8-eksbuild.2',
    ebsCsiDriver: 'v1.46.0-eksbuild.1',
    metricsServer: 'v0.8.0-eksbuild.1',
  },
  // Transit step for clusters upgrading from 1.33 (1.34 leaves standard support on 2026-12-02).
  // vpc-cni v1.21.1-eksbuild.5 (a managed add-on build seen on live clusters) keeps the VPC CNI
  // to one minor version per upgrade step, as AWS recommends: 1.20 (1.33) -> 1.21 -> 1.22 (1.35).
  '1.34': {
    vpcCni: 'v1.21.1-eksbuild.5',
    coredns: 'v1.13.2-eksbuild.11',
    kubeProxy: 'v1.34.6-eksbuild.13',
    podIdentityAgent: 'v1.3.10-eksbuild.3',
    ebsCsiDriver: 'v1.64.0-eksbuild.1',
    metricsServer: 'v0.8.1-eksbuild.6',
  },
  '1.35': {
    vpcCni: 'v1.22.4-eksbuild.3',
    coredns: 'v1.14.3-eksbuild.3',
    kubeProxy: 'v1.35.3-eksbuild.13',
    podIdentityAgent: 'v1.3.10-eksbuild.3',
    ebsCsiDriver: 'v1.64.0-eksbuild.1',
    metricsServer: 'v0.8.1-eksbuild.6',
  },
  '1.36': {
    vpcCni: 'v1.22.4-eksbuild.3',
    coredns: 'v1.14.3-eksbuild.3',
    kubeProxy: 'v1.36.0-eksbuild.14',
    podIdentityAgent: 'v1.3.10-eksbuild.3',
    ebsCsiDriver: 'v1.64.0-eksbuild.1',
    metricsServer: 'v0.9.0-eksbuild.5',
  },
};

const addonVersion = z.string().regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/, 'an EKS add-on version such as v1.20.1-eksbuild.3');

const AddonVersionsSchema = z.strictObject({
  vpcCni: addonVersion,
  coredns: addonVersion,
  kubeProxy: addonVersion,
  podIdentityAgent: addonVersion,
  ebsCsiDriver: addonVersion,
  metricsServer: addonVersion,
});
export type AddonVersions = z.output<typeof AddonVersionsSchema>;

const cidr = (what: string) => z.string().refine(isCidr, `${what}: an IPv4 CIDR block with no host bits set, such as 10.0.0.0/16`);

const SystemNodeGroupSchema = z
  .strictObject({
    instanceTypes: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*\d[a-z0-9-]*g[a-z0-9-]*\.[a-z0-9]+$/, 'a Graviton (arm64) instance type such as m7g.large'))
      .min(1)
      .default(['m7g.large', 'm6g.large']),
    minSize: z.number().int().min(1).default(2),
    desiredSize: z.number().int().min(1).default(2),
    maxSize: z.number().int().min(1).max(50).default(4),
    diskSizeGiB: z.number().int().min(20).max(1000).default(50),
  })
  .describe('Managed node group for platform controllers (Karpenter, CoreDNS, add-ons, monitoring).');

/** GitHub `owner/repo`, or `owner@<owner id>/repo@<repo id>` for repositories with immutable OIDC subject claims. */
const GITHUB_REPOSITORY = /^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}|[A-Za-z0-9][A-Za-z0-9-]{0,38}@\d+\/(?!\.\.?@)[A-Za-z0-9._-]{1,100}@\d+)$/;
/** A branch name as git allows it (no `refs/heads/` prefix, no wildcards, no `..`, `//` or trailing `/`, `.lock`). */
const GIT_BRANCH = /^(?!refs\/)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._\/-]{1,200}(?<![/.])(?<!\.lock)$/;
const OIDC_PROVIDER_ARN = new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/${GITHUB_OIDC_HOST.replace(/\./g, '\\.')}$`);

const CiSchema = z
  .strictObject({
    githubRepository: z
      .string()
      .regex(GITHUB_REPOSITORY, 'a GitHub repository as owner/repo (or owner@<owner id>/repo@<repo id> when the repository uses immutable OIDC subject claims)')
      .describe('Repository whose workflows plan (pull requests) and deploy (deployBranch) this environment; the CI roles trust only it.'),
    deployBranch: z
      .string()
      .regex(GIT_BRANCH, 'a branch name such as main (no refs/heads/ prefix, no wildcards)')
      .default('main')
      .describe('Branch the deploy workflow runs on (.github/workflows/deploy.yml); the deploy role trusts only runs of it, in the GitHub environment named like this environment.'),
    oidcProviderArn: z
      .string()
      .regex(OIDC_PROVIDER_ARN, `the ARN of the account's GitHub OIDC provider, such as arn:aws:iam::111122223333:oidc-provider/${GITHUB_OIDC_HOST}`)
      .optional()
      .describe('Use the GitHub OIDC provider the account already has (an account holds one per URL) instead of creating it.'),
  })
  .describe('CI access as code (account stack): GitHub OIDC provider, a read-only plan role for pull requests and a deploy role, with their EKS access entries.');

export const EnvironmentSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]{1,19}$/, 'a short lowercase name (2-20 chars: a-z, 0-9, -), such as dev').describe('Environment name, equal to the file name (environments/<name>.yaml).'),
    accountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id as a quoted string, such as "111122223333"').describe('AWS account the environment deploys to (quoted); the provider refuses any other.'),
    region: z.string().regex(AWS_REGION, 'an AWS region such as us-west-2').describe('AWS region.'),
    availabilityZones: z.array(z.string()).min(2).max(6).describe('2 to 6 availability zones of the region: one node, pod and public subnet each.'),
    vpcCidr: cidr('vpcCidr').describe('Primary VPC CIDR (/16 to /20): node, public and endpoint subnets.'),
    podCidr: cidr('podCidr').describe('Secondary CIDR inside 100.64.0.0/10 (/16 to /20) for pods (VPC CNI custom networking).'),
    clusterName: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,31}$/, 'an EKS cluster name of 1-32 characters starting with a letter (a-z, A-Z, 0-9, _, -); longer names overflow the 64-character limit of the IAM role and EventBridge rule names derived from it').describe('EKS cluster name; also the prefix of most resource names.'),
    kubernetesVersion: z
      .string()
      .regex(/^1\.\d{2}$/, `a Kubernetes minor version as a quoted string, such as "${DEFAULT_KUBERNETES_VERSION}"`)
      .describe(`EKS Kubernetes minor version, quoted (e.g. "${DEFAULT_KUBERNETES_VERSION}"). Upgrade one minor version at a time.`),
    supportType: z
      .enum(SUPPORT_TYPES)
      .default('STANDARD')
      .describe(
        'EKS upgrade policy at the end of standard support: STANDARD (EKS upgrades the control plane itself, no extended-support charge) or EXTENDED (12 more months on the version, billed at the extended-support cluster-hour rate).',
      ),
    stateBucket: z.string().regex(S3_BUCKET_NAME, 'an S3 bucket name (3-63 chars: a-z, 0-9, -)').describe('S3 bucket holding every stack state, created by the bootstrap stack.'),
    adminRoleArns: z.array(z.string().regex(IAM_ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::111122223333:role/platform-admins')).min(1).max(20).describe('IAM roles given cluster admin through EKS access entries.'),
    publicEndpointCidrs: z.array(cidr('publicEndpointCidrs')).max(40).default([]).describe('CIDRs allowed to reach the public API endpoint; empty means private endpoint only.'),
    tags: z
      .record(z.string().regex(TAG_KEY, 'a tag key (1-128 chars, not starting with aws:)'), z.string().max(256))
      // S3 objects (the tenants' pod templates) take at most 10 tags, and tenant stacks set 6 platform:* tags.
      .refine((tags) => Object.keys(tags).length <= MAX_ENVIRONMENT_TAGS, `at most ${MAX_ENVIRONMENT_TAGS} tags (S3 objects take 10 tags and tenant stacks set 6 platform:* tags)`)
      .default({})
      .describe('Tags on every AWS resource, besides the platform:* tags.'),
    natGateways: z.enum(['one-per-az', 'single']).default('one-per-az').describe('NAT gateways: one per AZ (resilient) or a single one (cheaper, for dev).'),
    interfaceEndpoints: z
      .array(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a VPC endpoint service short name such as ecr.api'))
      .default(['ecr.api', 'ecr.dkr', 'sts', 'logs', 'ec2', 'eks', 'eks-auth', 'sqs'])
      .describe('Interface VPC endpoints (service short names) so nodes and Spark reach AWS APIs without the NAT.'),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), `a CloudWatch retention in days: one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(90)
      .describe('Retention of platform CloudWatch log groups (control plane, flow logs).'),
    systemNodeGroup: SystemNodeGroupSchema.default(() => SystemNodeGroupSchema.parse({})),
    addons: AddonVersionsSchema.partial().default({}).describe('Pinned EKS add-on versions; defaults exist per Kubernetes version.'),
    createSpotServiceLinkedRole: z
      .boolean()
      .default(true)
      .describe(
        'Create the EC2 Spot service-linked role (AWSServiceRoleForEC2Spot) in the account stack; false when the account already has it (import it, or let another environment of the same account own it).',
      ),
    ci: CiSchema.optional(),
    compute: ComputeSchema.default(() => ComputeSchema.parse({})),
    observability: ObservabilitySchema.default(() => ObservabilitySchema.parse({})),
    cost: CostSchema.default(() => CostSchema.parse({})),
  })
  .superRefine((env, ctx) => {
    // Zones are checked against the region only when the region itself is valid: a misspelt
    // region is reported once, on `region`, not as one error per zone.
    const regionValid = AWS_REGION.test(env.region);
    env.availabilityZones.forEach((az, i) => {
      if (regionValid && !new RegExp(`^${env.region}[a-z]$`).test(az)) {
        ctx.addIssue({ code: 'custom', path: ['availabilityZones', i], message: `an availability zone of region ${env.region} (such as ${env.region}a)` });
      }
    });
    const seen = new Set<string>();
    env.availabilityZones.forEach((az, i) => {
      if (seen.has(az)) ctx.addIssue({ code: 'custom', path: ['availabilityZones', i], message: 'each availability zone listed once' });
      seen.add(az);
    });
    const vpc = parseCidr(env.vpcCidr);
    if (vpc && (vpc.prefix < 16 || vpc.prefix > 20)) {
      ctx.addIssue({ code: 'custom', path: ['vpcCidr'], message: 'a VPC CIDR between /16 and /20 (room for node, public and endpoint subnets in up to 6 AZs)' });
    }
    const pods = parseCidr(env.podCidr);
    if (pods) {
      if (!cidrContains('100.64.0.0/10', env.podCidr)) {
        ctx.addIssue({ code: 'custom', path: ['podCidr'], message: 'a CIDR inside 100.64.0.0/10 (the carrier-grade NAT range EKS custom networking uses for pods)' });
      } else if (pods.prefix < 16 || pods.prefix > 20) {
        ctx.addIssue({ code: 'custom', path: ['podCidr'], message: 'a pod CIDR between /16 and /20 (one pod subnet per AZ is carved from it)' });
      }
      if (vpc && cidrsOverlap(env.vpcCidr, env.podCidr)) {
        ctx.addIssue({ code: 'custom', path: ['podCidr'], message: `a CIDR that does not overlap vpcCidr ${env.vpcCidr}` });
      }
    }
    for (const [i, block] of env.publicEndpointCidrs.entries()) {
      if (block === '0.0.0.0/0' && env.name === 'prod') {
        ctx.addIssue({ code: 'custom', path: ['publicEndpointCidrs', i], message: 'specific office or CI CIDRs (0.0.0.0/0 exposes the prod API endpoint to the internet)' });
      }
    }
    const { systemNodeGroup: ng } = env;
    if (ng.minSize > ng.desiredSize || ng.desiredSize > ng.maxSize) {
      ctx.addIssue({ code: 'custom', path: ['systemNodeGroup', 'desiredSize'], message: `minSize <= desiredSize <= maxSize (minSize ${ng.minSize}, maxSize ${ng.maxSize})` });
    }
    const karpenter = karpenterIncompatibility(env.compute.karpenterVersion, env.kubernetesVersion);
    if (karpenter) {
      ctx.addIssue({ code: 'custom', path: ['compute', 'karpenterVersion'], message: `a Karpenter version that supports Kubernetes ${env.kubernetesVersion} (configured or default: ${env.compute.karpenterVersion}; ${karpenter})` });
    }
    const firstRelease = EKS_VERSIONS[env.kubernetesVersion]?.firstAl2023Release;
    const release = al2023Release(env.compute.amiAlias);
    if (firstRelease && release && release < firstRelease) {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'amiAlias'],
        message: `an AL2023 release that ships Kubernetes ${env.kubernetesVersion} nodes (al2023@${firstRelease} or later; configured or default: ${env.compute.amiAlias})`,
      });
    }
    if (env.ci) {
      const partition = partitionOf(env.region);
      const names = ciRoleNames(env.clusterName);
      const ciRoles = new Set([roleArn(partition, env.accountId, names.plan), roleArn(partition, env.accountId, names.deploy)]);
      env.adminRoleArns.forEach((arn, i) => {
        if (ciRoles.has(arn)) {
          ctx.addIssue({ code: 'custom', path: ['adminRoleArns', i], message: 'a role other than the CI roles (the cluster stack gives them their own access entries, and EKS allows one entry per principal)' });
        }
      });
      const providerAccount = env.ci.oidcProviderArn?.split(':')[4];
      if (providerAccount !== undefined && providerAccount !== env.accountId) {
        ctx.addIssue({ code: 'custom', path: ['ci', 'oidcProviderArn'], message: `an OIDC provider of account ${env.accountId} (accountId)` });
      }
    }
    const defaults = DEFAULT_ADDON_VERSIONS[env.kubernetesVersion];
    if (!defaults) {
      for (const key of Object.keys(AddonVersionsSchema.shape) as (keyof AddonVersions)[]) {
        if (!env.addons[key]) {
          ctx.addIssue({
            code: 'custom',
            path: ['addons', key],
            message: `a pinned add-on version: Kubernetes ${env.kubernetesVersion} has no defaults (defaults exist for ${Object.keys(DEFAULT_ADDON_VERSIONS).join(', ')})`,
          });
        }
      }
    }
  });

export type EnvironmentInput = z.input<typeof EnvironmentSchema>;

/** A validated environment, with defaults applied and add-on versions resolved. */
export type Environment = Omit<z.output<typeof EnvironmentSchema>, 'addons'> & {
  readonly addons: AddonVersions;
  /** The file it was read from, relative to the repository root. */
  readonly file: string;
};

export function environmentFile(root: string, name: string): string {
  return join(root, 'environments', `${name}.yaml`);
}

/** Validates already-parsed data; `file` is only used in messages. */
export function parseEnvironment(raw: unknown, file: string, expectedName?: string): Environment {
  const parsed = parseWithSchema(EnvironmentSchema, raw, file);
  if (expectedName !== undefined && parsed.name !== expectedName) {
    const problem: ConfigProblem = { file, field: 'name', expected: `"${expectedName}" (the file name)`, found: describeValue(parsed.name) };
    throw new ConfigError([problem]);
  }
  const addons = { ...DEFAULT_ADDON_VERSIONS[parsed.kubernetesVersion], ...parsed.addons } as AddonVersions;
  return { ...parsed, addons, file };
}

/** Reads and validates `environments/<name>.yaml` under `root`. */
export function loadEnvironment(root: string, name: string): Environment {
  if (!/^[a-z][a-z0-9-]{1,19}$/.test(name)) {
    throw new ConfigError([{ file: `${ENVIRONMENT_VARIABLE}`, field: '(value)', expected: 'an environment name such as dev or prod', found: describeValue(name) }]);
  }
  const path = environmentFile(root, name);
  const display = relative(root, path);
  if (!existsSync(path)) {
    throw new ConfigError([{ file: display, field: '(file)', expected: `an environment file for ${ENVIRONMENT_VARIABLE}=${name}`, found: 'no such file' }]);
  }
  return parseEnvironment(readYamlFile(path, display), display, name);
}
