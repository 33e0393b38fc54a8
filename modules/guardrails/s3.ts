/**
 * S3 rules. Since AWS provider v4 a bucket's settings are separate resources
 * (`aws_s3_bucket_public_access_block`, `..._server_side_encryption_configuration`, ...) linked by
 * `bucket = ${aws_s3_bucket.x.id}` (or the literal bucket name); the bucket rules resolve those
 * links through the stack index, so a bucket without its companion resource is reported on the
 * bucket itself, and a companion with a weak setting on the companion.
 */
import { conditionValues, parsePolicy } from './policy.js';
import { type Rule, type RuleContext, types } from './rule.js';
import { block, blocks, isTrue, strings, type TfResource } from './terraform.js';

const BUCKET = 'aws_s3_bucket';

/** Companion resources of `bucket`, linked by reference to the bucket or by its literal name. */
function companions(bucket: TfResource, type: string, context: RuleContext): readonly TfResource[] {
  return context.index.linkedBy(type, 'bucket', BUCKET, 'bucket').get(bucket.address) ?? [];
}

const PUBLIC_ACCESS_FLAGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'] as const;

export const s3PublicAccessBlocked: Rule = {
  id: 'S3-001',
  title: 'Every bucket has a public access block with all four settings on',
  description: 'Without a bucket-level public access block a later ACL or policy change can expose objects to the internet.',
  fix: 'Use SecureBucket (modules/storage/secure-bucket.ts), or add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all true.',
  appliesTo: types(BUCKET, 'aws_s3_bucket_public_access_block'),
  check: (resource, context) => {
    if (resource.type === BUCKET) {
      return companions(resource, 'aws_s3_bucket_public_access_block', context).length === 0 ? ['bucket has no aws_s3_bucket_public_access_block'] : [];
    }
    const off = PUBLIC_ACCESS_FLAGS.filter((flag) => !isTrue(resource.body[flag]));
    return off.length > 0 ? [`public access block leaves ${off.join(', ')} off`] : [];
  },
};

const KMS_ALGORITHMS = ['aws:kms', 'aws:kms:dsse'];

function sseAlgorithms(configuration: Record<string, unknown>): string[] {
  return blocks(configuration.rule).flatMap((rule) => blocks(rule.apply_server_side_encryption_by_default).map((d) => String(d.sse_algorithm ?? '')));
}

export const s3KmsEncryption: Rule = {
  id: 'S3-002',
  title: 'Every bucket is encrypted with SSE-KMS by default',
  description: 'SSE-KMS puts reads behind a key policy and CloudTrail-logged key use; SSE-S3 (AES256) cannot be restricted or audited per key.',
  fix: 'Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm "aws:kms", a customer managed key (kms_master_key_id) and bucket_key_enabled (SecureBucket does this).',
  appliesTo: types(BUCKET, 'aws_s3_bucket_server_side_encryption_configuration'),
  check: (resource, context) => {
    if (resource.type === BUCKET) {
      const legacy = block(resource.body.server_side_encryption_configuration);
      if (legacy) return sseAlgorithms(legacy).some((a) => KMS_ALGORITHMS.includes(a)) ? [] : ['bucket encryption (inline) is not aws:kms'];
      return companions(resource, 'aws_s3_bucket_server_side_encryption_configuration', context).length === 0
        ? ['bucket has no aws_s3_bucket_server_side_encryption_configuration']
        : [];
    }
    const algorithms = sseAlgorithms(resource.body);
    if (algorithms.length === 0) return ['encryption configuration sets no default sse_algorithm'];
    const weak = algorithms.filter((a) => !KMS_ALGORITHMS.includes(a));
    return weak.length > 0 ? [`default encryption uses ${weak.map((a) => JSON.stringify(a)).join(', ')}, not aws:kms`] : [];
  },
};

/** Whether a bucket policy denies every S3 action over plain HTTP to everyone. */
function deniesInsecureTransport(policy: TfResource, attribute: string, context: RuleContext): boolean | undefined {
  const parsed = parsePolicy(policy, attribute, policy.body[attribute], context.index);
  if (!parsed.ok) return undefined;
  return parsed.statements.some(
    (s) =>
      s.effect === 'Deny' &&
      (s.principal === '*' || (s.principal !== undefined && (s.principal.AWS ?? []).includes('*'))) &&
      s.actions.some((a) => a === 's3:*' || a === '*') &&
      conditionValues(s, (key) => key === 'aws:SecureTransport', ['Bool', 'BoolIfExists']).some((c) => c.values.includes('false')),
  );
}

export const s3TlsOnly: Rule = {
  id: 'S3-003',
  title: 'Every bucket has a policy denying requests that do not use TLS',
  description: 'Without an aws:SecureTransport deny, clients can read and write objects over plain HTTP.',
  fix: 'Add an aws_s3_bucket_policy with a Deny of s3:* for Principal "*" on the bucket and its objects when Bool aws:SecureTransport is "false" (SecureBucket does this).',
  appliesTo: types(BUCKET),
  check: (resource, context) => {
    const policies = companions(resource, 'aws_s3_bucket_policy', context);
    const verdicts = [
      ...policies.map((p) => deniesInsecureTransport(p, 'policy', context)),
      ...(resource.body.policy !== undefined ? [deniesInsecureTransport(resource, 'policy', context)] : []),
    ];
    if (verdicts.length === 0) return ['bucket has no bucket policy denying non-TLS requests'];
    if (verdicts.includes(true)) return [];
    if (verdicts.includes(undefined)) return ['bucket policy cannot be read at synth, so its TLS-only deny cannot be verified'];
    return ['bucket policy has no Deny of s3:* for Principal "*" with Bool aws:SecureTransport "false"'];
  },
};

export const s3Versioning: Rule = {
  id: 'S3-004',
  title: 'Every bucket has versioning enabled',
  description: 'Versioning keeps overwritten and deleted objects recoverable (state files, job outputs, logs).',
  fix: 'Add an aws_s3_bucket_versioning for the bucket with versioning_configuration.status "Enabled", and a lifecycle rule expiring noncurrent versions.',
  appliesTo: types(BUCKET, 'aws_s3_bucket_versioning'),
  check: (resource, context) => {
    if (resource.type === BUCKET) {
      const legacy = block(resource.body.versioning);
      if (legacy) return isTrue(legacy.enabled) ? [] : ['bucket versioning (inline) is not enabled'];
      return companions(resource, 'aws_s3_bucket_versioning', context).length === 0 ? ['bucket has no aws_s3_bucket_versioning'] : [];
    }
    const status = block(resource.body.versioning_configuration)?.status;
    return status === 'Enabled' ? [] : [`versioning status is ${JSON.stringify(status ?? null)}, not "Enabled"`];
  },
};

/** Whether a lifecycle rule applies to the whole bucket (no prefix, tag or size filter). */
function coversWholeBucket(rule: Record<string, unknown>): boolean {
  if (typeof rule.prefix === 'string' && rule.prefix !== '') return false;
  return blocks(rule.filter).every((filter) => Object.entries(filter).every(([key, value]) => (key === 'prefix' ? value === '' : value === undefined || (Array.isArray(value) && value.length === 0))));
}

export const s3AbortMultipartUploads: Rule = {
  id: 'S3-005',
  title: 'Every bucket aborts incomplete multipart uploads',
  description: 'Failed uploads (Spark S3A committers leave many) keep their parts billed forever unless a lifecycle rule aborts them.',
  fix: 'Add an aws_s3_bucket_lifecycle_configuration rule for the whole bucket (empty filter) with status "Enabled" and abort_incomplete_multipart_upload { days_after_initiation = 7 } (SecureBucket does this).',
  appliesTo: types(BUCKET),
  check: (resource, context) => {
    const lifecycles = companions(resource, 'aws_s3_bucket_lifecycle_configuration', context);
    const rules = [...lifecycles.flatMap((l) => blocks(l.body.rule)), ...blocks(resource.body.lifecycle_rule)];
    const aborts = rules.some(
      (rule) =>
        (rule.status === 'Enabled' || isTrue(rule.enabled)) &&
        coversWholeBucket(rule) &&
        (blocks(rule.abort_incomplete_multipart_upload).some((a) => typeof a.days_after_initiation === 'number') ||
          typeof rule.abort_incomplete_multipart_upload_days === 'number'),
    );
    return aborts ? [] : ['bucket has no enabled whole-bucket lifecycle rule with abort_incomplete_multipart_upload'];
  },
};

export const s3OwnershipEnforced: Rule = {
  id: 'S3-006',
  title: 'Every bucket disables ACLs (object ownership BucketOwnerEnforced)',
  description: 'With ACLs enabled, objects written by other accounts stay theirs and ACL grants can bypass the bucket policy.',
  fix: 'Add an aws_s3_bucket_ownership_controls for the bucket with rule.object_ownership "BucketOwnerEnforced".',
  appliesTo: types(BUCKET, 'aws_s3_bucket_ownership_controls'),
  check: (resource, context) => {
    if (resource.type === BUCKET) {
      return companions(resource, 'aws_s3_bucket_ownership_controls', context).length === 0 ? ['bucket has no aws_s3_bucket_ownership_controls'] : [];
    }
    const ownership = strings(blocks(resource.body.rule).map((r) => r.object_ownership));
    return ownership.length > 0 && ownership.every((o) => o === 'BucketOwnerEnforced')
      ? []
      : [`object ownership is ${ownership.map((o) => JSON.stringify(o)).join(', ') || 'unset'}, not "BucketOwnerEnforced"`];
  },
};

export const S3_RULES: readonly Rule[] = [s3PublicAccessBlocked, s3KmsEncryption, s3TlsOnly, s3Versioning, s3AbortMultipartUploads, s3OwnershipEnforced];
