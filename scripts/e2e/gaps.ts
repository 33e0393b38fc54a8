/**
 * What the AWS API emulator (moto 5.2.1) cannot do, as data: the e2e harness applies these to its
 * own copy of the synthesized stacks and to the re-plan, lists every use by name in its output and
 * counts it in the summary. Nothing here changes the product. A new stack needs no edit here unless
 * it uses an API the emulator lacks; a new gap is one entry with its reason.
 */

/** Resources whose AWS API the emulator does not have: left out of the deployed copy. */
export interface MissingApi {
  readonly type: string;
  /** Only resources whose configuration contains this text (e.g. a reference); all of `type` when absent. */
  readonly whenConfigContains?: string;
  readonly reason: string;
}

export const MISSING_APIS: readonly MissingApi[] = [
  { type: 'aws_eks_addon', reason: 'no EKS add-on API (CreateAddon: 404)' },
  { type: 'aws_eks_access_entry', reason: 'no EKS access entry API (CreateAccessEntry: 404)' },
  { type: 'aws_eks_access_policy_association', reason: 'no EKS access policy association API (AssociateAccessPolicy: 404)' },
  { type: 'aws_eks_pod_identity_association', reason: 'no EKS Pod Identity API (CreatePodIdentityAssociation: 404)' },
  { type: 'aws_emrcontainers_job_template', reason: 'no EMR on EKS job template API (CreateJobTemplate: 404)' },
  {
    type: 'aws_spot_datafeed_subscription',
    reason: 'no EC2 Spot data feed API (CreateSpotDatafeedSubscription: NotImplemented); the feed bucket, its policy and the OpenCost role are deployed',
  },
  { type: 'aws_bcmdataexports_export', reason: 'no Billing and Cost Management Data Exports API (bcm-data-exports; cost.dataExport)' },
  { type: 'aws_ce_cost_allocation_tag', reason: 'no Cost Explorer cost allocation tag API (UpdateCostAllocationTagsStatus; cost.activateAllocationTags)' },
  {
    type: 'aws_ec2_tag',
    whenConfigContains: 'cluster_security_group_id',
    reason: 'the emulated EKS cluster has no cluster security group (vpc_config.cluster_security_group_id is empty), so there is nothing to tag',
  },
  {
    type: 'aws_vpc_security_group_ingress_rule',
    whenConfigContains: 'cluster_security_group_id',
    reason: 'the emulated EKS cluster has no cluster security group, so a rule on it (the control plane to webhook port, YuniKorn 9089) has no group (AuthorizeSecurityGroupIngress: InvalidGroup.NotFound)',
  },
];

/**
 * Differences the emulator shows on every plan after a clean apply (its descriptions of some
 * resources are incomplete or carry extra values): tolerated on re-plan for exactly these
 * attributes, each listed by name in the output. Changes that only carry values Terraform cannot
 * know until such a tolerated change is applied (the cluster ARN after a replacement, for example)
 * are tolerated with it; in a stack without a tolerated change they fail the re-plan.
 */
export interface KnownDiff {
  readonly type: string;
  /** Top-level attributes that may differ; a change of any other attribute is a failure. */
  readonly attributes: readonly string[];
  readonly reason: string;
}

export const KNOWN_DIFFS: readonly KnownDiff[] = [
  {
    type: 'aws_eks_cluster',
    attributes: ['access_config'],
    reason: 'the emulated cluster description has no accessConfig, so authentication_mode and bootstrap_cluster_creator_admin_permissions always differ (a forced replacement)',
  },
  {
    type: 'aws_eks_node_group',
    attributes: ['remote_access'],
    reason: 'the emulator adds an SSH key (remote_access.ec2_ssh_key "eksKeypair") to every node group (a forced replacement)',
  },
  {
    type: 'aws_launch_template',
    attributes: ['tag_specifications'],
    reason: 'the emulator reports the launch template\'s own tags as an extra tag specification of resource type "launch-template"',
  },
];

/** Resource types whose name AWS keeps reserved after deletion: the stack is redeployed after its destroy. */
export const NAME_RESERVING_TYPES: Readonly<Record<string, string>> = {
  aws_secretsmanager_secret: 'Secrets Manager keeps a deleted secret\'s name for its recovery window',
};

/** Outputs whose value has a documented shape, checked on the deployed state. */
export interface OutputExpectation {
  readonly stack: string;
  readonly output: string;
  readonly pattern: RegExp;
  readonly meaning: string;
}

export const OUTPUT_EXPECTATIONS: readonly OutputExpectation[] = [
  { stack: 'cluster', output: 'oidcIssuerUrl', pattern: /^https:\/\//, meaning: 'the OIDC issuer URL with its scheme' },
  { stack: 'cluster', output: 'oidcIssuerHostPath', pattern: /^[^:/]+\//, meaning: 'the OIDC issuer without its scheme' },
];
