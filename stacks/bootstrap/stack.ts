import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { SecureBucket } from '../../modules/storage/secure-bucket.js';
import type { Environment } from '../lib/environment.js';
import { PlatformStack } from '../lib/platform-stack.js';

export const BOOTSTRAP_STACK = 'bootstrap';

/**
 * Layer 0, applied once per environment with local state: the S3 bucket that holds every other
 * stack's state (S3-native locking needs no DynamoDB table).
 */
export class BootstrapStack extends PlatformStack {
  readonly stateBucket: SecureBucket;

  constructor(scope: Construct, environment: Environment) {
    super(scope, BOOTSTRAP_STACK, { environment, backend: 'local' });
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
