/**
 * Tagging rules: cost allocation, ownership and incident response all start from tags. The AWS
 * provider's `default_tags` tag every taggable resource of a stack, so the rules check the provider
 * block first and then every resource that would escape it.
 */
import { type Rule, type RuleContext, types } from './rule.js';
import { block, blocks, isRecord, type TfResource } from './terraform.js';

/** Tags every AWS resource must carry (values: the environment name and the stack name). */
export const REQUIRED_TAG_KEYS = { environment: 'platform:environment', stack: 'platform:stack' } as const;

/**
 * AWS resource types that take no `tags` argument (checked against the provider schema in
 * test/guardrails-tags.test.ts), so neither default_tags nor their own tags can reach them. Add a
 * type here only when the provider really has no `tags` for it.
 */
export const UNTAGGABLE_AWS_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  // S3 bucket settings (the bucket itself is tagged)
  'aws_s3_bucket_policy',
  'aws_s3_bucket_public_access_block',
  'aws_s3_bucket_versioning',
  'aws_s3_bucket_server_side_encryption_configuration',
  'aws_s3_bucket_lifecycle_configuration',
  'aws_s3_bucket_ownership_controls',
  'aws_s3_bucket_notification',
  'aws_s3_bucket_logging',
  'aws_s3_bucket_acl',
  'aws_s3_bucket_cors_configuration',
  'aws_s3_bucket_replication_configuration',
  // KMS
  'aws_kms_alias',
  'aws_kms_grant',
  // IAM inline policies and attachments (roles and managed policies are tagged)
  'aws_iam_role_policy',
  'aws_iam_role_policy_attachment',
  'aws_iam_policy_attachment',
  'aws_iam_user_policy',
  'aws_iam_user_policy_attachment',
  'aws_iam_group_policy',
  'aws_iam_group_policy_attachment',
  // VPC plumbing
  'aws_route',
  'aws_route_table_association',
  'aws_main_route_table_association',
  'aws_vpc_ipv4_cidr_block_association',
  'aws_vpc_endpoint_route_table_association',
  'aws_vpc_endpoint_subnet_association',
  'aws_security_group_rule',
  'aws_network_acl_rule',
  'aws_ec2_tag',
  // EKS
  'aws_eks_access_policy_association',
  // Messaging and events
  'aws_sqs_queue_policy',
  'aws_sqs_queue_redrive_policy',
  'aws_sns_topic_policy',
  'aws_sns_topic_subscription',
  'aws_cloudwatch_event_target',
  // Logs
  'aws_cloudwatch_log_resource_policy',
  'aws_cloudwatch_log_subscription_filter',
  'aws_cloudwatch_log_stream',
  'aws_cloudwatch_log_metric_filter',
  // Cost and analytics (the Spot data feed subscription and cost allocation tags are account
  // settings; Glue tables and Athena saved queries belong to their tagged database and workgroup)
  'aws_spot_datafeed_subscription',
  'aws_ce_cost_allocation_tag',
  'aws_glue_catalog_table',
  'aws_athena_named_query',
  // Others
  'aws_lambda_permission',
  'aws_ecr_repository_policy',
  'aws_ecr_lifecycle_policy',
  'aws_secretsmanager_secret_version',
  'aws_secretsmanager_secret_policy',
]);

/** Taggable resources the provider's default_tags do not reach: they must carry the tags themselves. */
export const DEFAULT_TAGS_NOT_APPLIED: ReadonlySet<string> = new Set(['aws_autoscaling_group']);

function defaultTags(provider: TfResource | undefined): Record<string, unknown> {
  const tags = block(provider?.body.default_tags)?.tags;
  return isRecord(tags) ? tags : {};
}

function expectedTags(context: RuleContext): Record<string, string> {
  return { [REQUIRED_TAG_KEYS.environment]: context.environmentName, [REQUIRED_TAG_KEYS.stack]: context.stackName };
}

export const providerDefaultTags: Rule = {
  id: 'TAG-001',
  title: 'The AWS provider sets default tags naming the environment and the stack',
  description: 'default_tags tag every taggable resource of the stack, so cost and ownership reports and incident responders can tell which environment and state a resource belongs to.',
  fix: 'Subclass PlatformStack (it configures default_tags with platformTags()); for an extra aws provider alias, pass the same defaultTags.',
  appliesTo: types('provider.aws'),
  check: (resource, context) => {
    const tags = defaultTags(resource);
    return Object.entries(expectedTags(context))
      .filter(([key, value]) => tags[key] !== value)
      .map(([key, value]) => `default_tags ${key} is ${JSON.stringify(tags[key] ?? null)}, expected ${JSON.stringify(value)}`);
  },
};

export const resourcesTagged: Rule = {
  id: 'TAG-002',
  title: 'Every taggable AWS resource carries the platform tags',
  description: 'A resource on a provider without default tags, or one that overrides them, drops out of cost allocation and ownership reports.',
  fix: 'Create the resource on the stack\'s default aws provider (which has default_tags), do not override platform:* tags in its own tags, and for aws_autoscaling_group add tag blocks with propagate_at_launch.',
  appliesTo: (type) => type.startsWith('aws_') && !UNTAGGABLE_AWS_RESOURCE_TYPES.has(type),
  check: (resource, context) => {
    const expected = expectedTags(context);
    const own = resource.type === 'aws_autoscaling_group'
      ? Object.fromEntries(blocks(resource.body.tag).map((t) => [String(t.key), t.value]))
      : isRecord(resource.body.tags) ? resource.body.tags : {};
    const inherited = DEFAULT_TAGS_NOT_APPLIED.has(resource.type) ? {} : defaultTags(context.index.providerOf(resource));
    const problems: string[] = [];
    for (const [key, value] of Object.entries(expected)) {
      if (own[key] !== undefined && own[key] !== value) problems.push(`tags override ${key} with ${JSON.stringify(own[key])} (expected ${JSON.stringify(value)})`);
      else if (own[key] === undefined && inherited[key] === undefined) problems.push(`has no ${key} tag (neither its own tags nor its provider's default_tags)`);
    }
    return problems;
  },
};

/** The tag naming the tenant that owns a resource: what showback per tenant groups by. */
export const TENANT_TAG_KEY = 'platform:tenant';

/** The tenant of a tenant stack (`tenant-<name>`, see stacks/tenant/contract.ts), undefined for platform stacks. */
export function tenantOfStack(stackName: string): string | undefined {
  return stackName.startsWith('tenant-') ? stackName.slice('tenant-'.length) : undefined;
}

export const tenantResourcesTagged: Rule = {
  id: 'TAG-003',
  title: 'Every AWS resource of a tenant stack carries platform:tenant=<tenant>',
  description: 'Cost Explorer and the CUR export attribute tenant resources (bucket, keys, logs, roles) to their tenant by this tag; a resource without it is billed to nobody.',
  fix: 'Tenant stacks set it in the provider default_tags (PlatformStack props.tags): create resources on the default aws provider and do not override platform:tenant.',
  appliesTo: (type) => type === 'provider.aws' || (type.startsWith('aws_') && !UNTAGGABLE_AWS_RESOURCE_TYPES.has(type)),
  check: (resource, context) => {
    const tenant = tenantOfStack(context.stackName);
    if (tenant === undefined) return [];
    if (resource.type === 'provider.aws') {
      const tags = defaultTags(resource);
      return tags[TENANT_TAG_KEY] === tenant ? [] : [`default_tags ${TENANT_TAG_KEY} is ${JSON.stringify(tags[TENANT_TAG_KEY] ?? null)}, expected ${JSON.stringify(tenant)}`];
    }
    const own = resource.type === 'aws_autoscaling_group'
      ? Object.fromEntries(blocks(resource.body.tag).map((t) => [String(t.key), t.value]))
      : isRecord(resource.body.tags) ? resource.body.tags : {};
    const inherited = DEFAULT_TAGS_NOT_APPLIED.has(resource.type) ? {} : defaultTags(context.index.providerOf(resource));
    const value = own[TENANT_TAG_KEY] ?? inherited[TENANT_TAG_KEY];
    return value === tenant ? [] : [`${TENANT_TAG_KEY} is ${JSON.stringify(value ?? null)}, expected ${JSON.stringify(tenant)}`];
  },
};

export const TAG_RULES: readonly Rule[] = [providerDefaultTags, resourcesTagged, tenantResourcesTagged];
