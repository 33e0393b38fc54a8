/**
 * The EC2 Spot Instance data feed: a bucket and the account's feed subscription, so OpenCost can
 * price Spot nodes at what each instance-hour was charged instead of a list estimate.
 *
 * When the subscription is created, EC2 grants the AWS data feed account FULL_CONTROL on the
 * bucket through its ACL and writes each file with its own ACL. So this bucket keeps ACLs working
 * (object ownership BucketOwnerPreferred) and S3-managed encryption, and Terraform never manages
 * its ACL (that would remove EC2's grant and stop delivery). AWS allows one feed per account.
 */
import { Construct } from 'constructs';
import { SpotDatafeedSubscription } from '@cdktf/provider-aws/lib/spot-datafeed-subscription/index.js';
import { suppressRule } from '../guardrails/suppressions.js';
import { type PolicyDocument, policyDocument } from '../iam/policy.js';
import { SecureBucket } from '../storage/secure-bucket.js';

export interface SpotDataFeedProps {
  /** Exact bucket name. */
  readonly bucketName: string;
  /** Prefix of the feed files (no leading or trailing slash). */
  readonly prefix: string;
  /**
   * Days feed files are kept (OpenCost reads today's and yesterday's).
   * @default 30
   */
  readonly retentionDays?: number;
}

/**
 * Reading the feed, as OpenCost does: list the prefix, get the files. Nothing else of the bucket.
 */
export function spotDataFeedReadPolicy(bucketArn: string, prefix: string): PolicyDocument {
  return policyDocument(
    {
      Sid: 'ListSpotDataFeed',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucketArn],
      Condition: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
    },
    {
      Sid: 'ReadSpotDataFeed',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [`${bucketArn}/${prefix}/*`],
    },
  );
}

export class SpotDataFeed extends Construct {
  readonly bucket: SecureBucket;
  readonly subscription: SpotDatafeedSubscription;
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: SpotDataFeedProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(props.prefix)) throw new Error(`Spot data feed prefix must have no leading or trailing slash, found ${JSON.stringify(props.prefix)}`);
    this.prefix = props.prefix;
    this.bucket = new SecureBucket(this, 'feed', {
      bucketName: props.bucketName,
      forceDestroy: true,
      serverSideEncryption: 'AES256',
      objectOwnership: 'BucketOwnerPreferred',
      expirations: [{ prefix: `${props.prefix}/`, days: props.retentionDays ?? 30 }],
      noncurrentVersionExpirationDays: 7,
    });
    suppressRule(
      this.bucket,
      'S3-002',
      'EC2 writes the Spot data feed as the AWS data feed account through an ACL grant it adds itself; no KMS key policy is documented for it, so the feed bucket uses SSE-S3 (AES256).',
    );
    suppressRule(
      this.bucket,
      'S3-006',
      'The Spot data feed is delivered through ACLs (EC2 grants the data feed account FULL_CONTROL on subscribe), which BucketOwnerEnforced disables; BucketOwnerPreferred keeps the objects owned by this account.',
    );
    this.subscription = new SpotDatafeedSubscription(this, 'subscription', {
      bucket: this.bucket.bucket.bucket,
      prefix: props.prefix,
      // ACLs enabled and public access blocked first: the subscription edits the bucket ACL.
      dependsOn: [this.bucket.ownershipControls, this.bucket.policy],
    });
  }
}
