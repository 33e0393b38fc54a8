import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { SecureBucket } from '../../modules/storage/secure-bucket.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';

export const BOOTSTRAP_STACK = 'bootstrap';

/**
 * Layer 0: the S3 bucket that holds every stack's state (S3-native locking needs no DynamoDB
 * table) and the KMS key that encrypts it. Its own state lives in that bucket too: the first apply
 * runs once with a local backend override, then `npm run bootstrap` migrates the state into the
 * bucket (`terraform init -migrate-state`), so every later `cdktf deploy bootstrap` sees it deployed.
 */
export class BootstrapStack extends PlatformStack {
  readonly stateBucket: SecureBucket;

  constructor(scope: Construct, environment: Environment) {
    super(scope, BOOTSTRAP_STACK, { environment });
    this.stateBucket = new SecureBucket(this, 'state', {
      bucketName: environment.stateBucket,
      preventDestroy: true,
      noncurrentVersionExpirationDays: 90,
      abortIncompleteMultipartUploadDays: 1,
    });
    new TerraformOutput(this, 'state-bucket', { value: this.stateBucket.bucket.bucket }).overrideLogicalId('stateBucket');
    new TerraformOutput(this, 'state-kms-key', { value: this.stateBucket.kmsKeyArn }).overrideLogicalId('stateKmsKeyArn');
  }
}
