/**
 * An S3 bucket with the settings a security review expects: owner-enforced object ownership,
 * versioning, KMS encryption with bucket keys, public access blocked, a TLS-only bucket policy
 * and lifecycle rules (incomplete multipart uploads aborted, old versions expired).
 */
import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { type PolicyStatement, policyDocument, policyJson } from '../iam/policy.js';

/** Alias of the key a SecureBucket creates for itself (the state bucket's key is found by it). */
export function bucketKeyAliasName(bucketName: string): string {
  return `alias/s3/${bucketName}`;
}

export interface SecureBucketProps {
  /** Exact bucket name (globally unique). */
  readonly bucketName: string;
  /**
   * KMS key ARN for SSE-KMS. When omitted the bucket gets its own key, with rotation enabled.
   * @default a new KMS key
   */
  readonly kmsKeyArn?: string;
  /**
   * Days after which noncurrent object versions are deleted.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days after which incomplete multipart uploads are aborted (S3A committers leave them behind).
   * @default 7
   */
  readonly abortIncompleteMultipartUploadDays?: number;
  /**
   * Objects under these prefixes (`''` = the whole bucket) expire after so many days (current
   * versions; the noncurrent-version rule then removes them).
   * @default none
   */
  readonly expirations?: readonly { readonly prefix: string; readonly days: number }[];
  /**
   * Let `terraform destroy` delete a bucket that still holds objects.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /**
   * Terraform refuses any plan that destroys the bucket, or the KMS key created for it (the data
   * is unreadable without it). Use for state and data buckets.
   * @default false
   */
  readonly preventDestroy?: boolean;
  /** Extra bucket policy statements, merged after the TLS-only deny. @default [] */
  readonly extraPolicyStatements?: readonly PolicyStatement[];
  /**
   * Default encryption. `AES256` (SSE-S3) only for buckets an AWS service writes into as another
   * principal where no KMS key policy for it is documented (the Spot data feed, Data Exports):
   * the caller suppresses guardrail S3-002 with the reason.
   * @default 'aws:kms'
   */
  readonly serverSideEncryption?: 'aws:kms' | 'AES256';
  /**
   * Object ownership. `BucketOwnerPreferred` keeps ACLs working, only for deliveries that grant
   * through ACLs (the Spot data feed): the caller suppresses guardrail S3-006 with the reason.
   * @default 'BucketOwnerEnforced'
   */
  readonly objectOwnership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred';
}

export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  /** The key created for this bucket, when none was passed in. */
  readonly kmsKey?: KmsKey;
  readonly policy: S3BucketPolicy;
  readonly ownershipControls: S3BucketOwnershipControls;
  private readonly keyArn?: string;

  /** The bucket's KMS key (throws for an SSE-S3 bucket, which has none). */
  get kmsKeyArn(): string {
    if (this.keyArn === undefined) throw new Error(`bucket ${this.node.path} is encrypted with SSE-S3 (AES256) and has no KMS key`);
    return this.keyArn;
  }

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, 'bucket', {
      bucket: props.bucketName,
      forceDestroy: props.forceDestroy ?? false,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
    const kms = (props.serverSideEncryption ?? 'aws:kms') === 'aws:kms';
    if (!kms) {
      if (props.kmsKeyArn) throw new Error(`bucket ${props.bucketName}: kmsKeyArn is only used with serverSideEncryption 'aws:kms'`);
    } else if (props.kmsKeyArn) {
      this.keyArn = props.kmsKeyArn;
    } else {
      this.kmsKey = new KmsKey(this, 'key', {
        description: `Encryption of s3://${props.bucketName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
      });
      new KmsAlias(this, 'key-alias', { name: bucketKeyAliasName(props.bucketName), targetKeyId: this.kmsKey.keyId });
      this.keyArn = this.kmsKey.arn;
    }
    this.ownershipControls = new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: props.objectOwnership ?? 'BucketOwnerEnforced' },
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketVersioning(this, 'versioning', {
      bucket: this.bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [
        kms
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.keyArn }, bucketKeyEnabled: true }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
      ],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: this.bucket.id,
      rule: [
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          filter: [{}],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: props.abortIncompleteMultipartUploadDays ?? 7 }],
        },
        {
          id: 'expire-noncurrent-versions',
          status: 'Enabled',
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays ?? 90 }],
        },
        ...(props.expirations ?? []).map((rule) => ({
          id: `expire-${rule.prefix.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'all'}-after-${rule.days}-days`,
          status: 'Enabled',
          filter: [{ prefix: rule.prefix }],
          expiration: [{ days: rule.days }],
        })),
      ],
    });
    this.policy = new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      policy: policyJson(
        policyDocument(
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          ...(props.extraPolicyStatements ?? []),
        ),
      ),
      // A policy put before the public access block could be judged public and rejected.
      dependsOn: [publicAccess],
    });
  }
}
