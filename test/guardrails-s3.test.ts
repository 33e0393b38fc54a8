import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { s3PublicAccessBlocked } from '../modules/guardrails/s3.js';
import { policy, problems, secureBucket, violations } from './support/guardrails.js';

describe('guardrails: S3 and KMS', () => {
  it('passes a bucket with every SecureBucket companion resource', () => {
    for (const rule of ['S3-001', 'S3-002', 'S3-003', 'S3-004', 'S3-005', 'S3-006']) {
      assert.deepEqual(violations(rule, secureBucket()), [], rule);
    }
  });

  it('S3-001: reports a bucket without a public access block, and a block that leaves settings off', () => {
    assert.deepEqual(violations('S3-001', secureBucket('b', { aws_s3_bucket_public_access_block: undefined })), [
      `[S3-001] test/aws_s3_bucket.b: bucket has no aws_s3_bucket_public_access_block. Fix: ${s3PublicAccessBlocked.fix}`,
    ]);
    const weak = secureBucket('b', {
      aws_s3_bucket_public_access_block: { bucket: '${aws_s3_bucket.b.id}', block_public_acls: true, block_public_policy: false, ignore_public_acls: true },
    });
    assert.deepEqual(problems('S3-001', weak), ['aws_s3_bucket_public_access_block.b_public_access_block: public access block leaves block_public_policy, restrict_public_buckets off']);
  });

  it('S3-001: links companion resources by the literal bucket name as well as by reference', () => {
    const byName = secureBucket('b', {
      aws_s3_bucket_public_access_block: { bucket: 'bucket-b', block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    });
    assert.deepEqual(violations('S3-001', byName), []);
    // A block for another bucket does not count.
    const other = secureBucket('b', {
      aws_s3_bucket_public_access_block: { bucket: 'some-other-bucket', block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    });
    assert.deepEqual(problems('S3-001', other), ['aws_s3_bucket.b: bucket has no aws_s3_bucket_public_access_block']);
  });

  it('S3-002: requires SSE-KMS, not SSE-S3', () => {
    assert.deepEqual(problems('S3-002', secureBucket('b', { aws_s3_bucket_server_side_encryption_configuration: undefined })), [
      'aws_s3_bucket.b: bucket has no aws_s3_bucket_server_side_encryption_configuration',
    ]);
    const aes = secureBucket('b', {
      aws_s3_bucket_server_side_encryption_configuration: { bucket: '${aws_s3_bucket.b.id}', rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] },
    });
    assert.deepEqual(problems('S3-002', aes), ['aws_s3_bucket_server_side_encryption_configuration.b_server_side_encryption_configuration: default encryption uses "AES256", not aws:kms']);
  });

  it('S3-003: requires a bucket policy that denies s3:* to everyone without TLS', () => {
    assert.deepEqual(problems('S3-003', secureBucket('b', { aws_s3_bucket_policy: undefined })), ['aws_s3_bucket.b: bucket has no bucket policy denying non-TLS requests']);
    const allowOnly = secureBucket('b', {
      aws_s3_bucket_policy: {
        bucket: '${aws_s3_bucket.b.id}',
        policy: policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 's3:GetObject', Resource: '${aws_s3_bucket.b.arn}/*' }),
      },
    });
    assert.deepEqual(problems('S3-003', allowOnly), ['aws_s3_bucket.b: bucket policy has no Deny of s3:* for Principal "*" with Bool aws:SecureTransport "false"']);
    const jsonencoded = secureBucket('b', { aws_s3_bucket_policy: { bucket: '${aws_s3_bucket.b.id}', policy: '${jsonencode(local.policy)}' } });
    assert.deepEqual(problems('S3-003', jsonencoded), ['aws_s3_bucket.b: bucket policy cannot be read at synth, so its TLS-only deny cannot be verified']);
  });

  it('S3-003: reads a policy built with an aws_iam_policy_document data source', () => {
    const resources = secureBucket('b', { aws_s3_bucket_policy: { bucket: '${aws_s3_bucket.b.id}', policy: '${data.aws_iam_policy_document.tls.json}' } });
    const data = {
      aws_iam_policy_document: {
        tls: {
          statement: [
            {
              effect: 'Deny',
              actions: ['s3:*'],
              resources: ['${aws_s3_bucket.b.arn}', '${aws_s3_bucket.b.arn}/*'],
              principals: [{ type: '*', identifiers: ['*'] }],
              condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
            },
          ],
        },
      },
    };
    assert.deepEqual(violations('S3-003', resources, { data }), []);
  });

  it('S3-004: requires versioning Enabled', () => {
    assert.deepEqual(problems('S3-004', secureBucket('b', { aws_s3_bucket_versioning: undefined })), ['aws_s3_bucket.b: bucket has no aws_s3_bucket_versioning']);
    const suspended = secureBucket('b', { aws_s3_bucket_versioning: { bucket: '${aws_s3_bucket.b.id}', versioning_configuration: { status: 'Suspended' } } });
    assert.deepEqual(problems('S3-004', suspended), ['aws_s3_bucket_versioning.b_versioning: versioning status is "Suspended", not "Enabled"']);
  });

  it('S3-005: requires a whole-bucket lifecycle rule aborting incomplete multipart uploads', () => {
    assert.deepEqual(problems('S3-005', secureBucket('b', { aws_s3_bucket_lifecycle_configuration: undefined })), [
      'aws_s3_bucket.b: bucket has no enabled whole-bucket lifecycle rule with abort_incomplete_multipart_upload',
    ]);
    const prefixOnly = secureBucket('b', {
      aws_s3_bucket_lifecycle_configuration: {
        bucket: '${aws_s3_bucket.b.id}',
        rule: [{ id: 'tmp', status: 'Enabled', filter: [{ prefix: 'tmp/' }], abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] }],
      },
    });
    assert.equal(problems('S3-005', prefixOnly).length, 1);
    const disabled = secureBucket('b', {
      aws_s3_bucket_lifecycle_configuration: {
        bucket: '${aws_s3_bucket.b.id}',
        rule: [{ id: 'abort', status: 'Disabled', filter: [{}], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] }],
      },
    });
    assert.equal(problems('S3-005', disabled).length, 1);
  });

  it('S3-006: requires BucketOwnerEnforced object ownership', () => {
    assert.deepEqual(problems('S3-006', secureBucket('b', { aws_s3_bucket_ownership_controls: undefined })), ['aws_s3_bucket.b: bucket has no aws_s3_bucket_ownership_controls']);
    const preferred = secureBucket('b', { aws_s3_bucket_ownership_controls: { bucket: '${aws_s3_bucket.b.id}', rule: { object_ownership: 'ObjectWriter' } } });
    assert.deepEqual(problems('S3-006', preferred), ['aws_s3_bucket_ownership_controls.b_ownership_controls: object ownership is "ObjectWriter", not "BucketOwnerEnforced"']);
  });

  it('KMS-001: requires rotation on symmetric keys only', () => {
    assert.deepEqual(problems('KMS-001', { aws_kms_key: { k: { description: 'x' } } }), ['aws_kms_key.k: symmetric key does not enable automatic rotation']);
    assert.deepEqual(problems('KMS-001', { aws_kms_key: { k: { enable_key_rotation: true } } }), []);
    assert.deepEqual(problems('KMS-001', { aws_kms_key: { k: { customer_master_key_spec: 'RSA_2048', key_usage: 'SIGN_VERIFY' } } }), []);
  });
});
