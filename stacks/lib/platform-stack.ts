/**
 * Base class of every platform stack: one CDKTF stack = one Terraform state. It wires the S3
 * backend (state key `<env>/<stack>.tfstate`, SSE-KMS with the state bucket's key, S3-native
 * locking) and the AWS provider (pinned account and region, default tags). Stacks only compose
 * modules on top.
 */
import { S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { partitionOf } from '../../modules/iam/policy.js';
import { bucketKeyAliasName } from '../../modules/storage/secure-bucket.js';
import type { Environment } from './environment.js';
import { type GuardedStack, guardrailValidation } from './guardrails.js';

export interface PlatformStackProps {
  readonly environment: Environment;
  /**
   * Extra default tags of the stack's AWS provider (tenant stacks add `platform:tenant`).
   * @default none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** The key prefix of every state of an environment (`<env>/`). */
export function stateKeyPrefix(environment: Environment): string {
  return `${environment.name}/`;
}

/** The state key of a stack, shared by the backend and by every remote-state reader. */
export function stateKey(environment: Environment, stackName: string): string {
  return `${stateKeyPrefix(environment)}${stackName}.tfstate`;
}

/**
 * The layer of each platform stack, tagged `platform:layer` on its AWS resources (cost by layer in
 * Cost Explorer and the CUR export). Same names as the `layer:<layer>` tag of the stack's Nx
 * project (a test keeps them equal); tenant stacks are layer `tenant`.
 */
export const STACK_LAYERS: Readonly<Record<string, string>> = {
  bootstrap: 'state',
  account: 'account',
  network: 'network',
  cluster: 'cluster',
  'karpenter-infra': 'compute',
  karpenter: 'compute',
  // In-cluster like karpenter: the batch scheduler that places the tenants' Spark pods.
  yunikorn: 'compute',
  capacity: 'compute',
  'observability-infra': 'observability',
  observability: 'observability',
  'observability-config': 'observability',
  tenancy: 'cluster-services',
  cost: 'cost',
};

/** `platform:layer` of a stack: its STACK_LAYERS entry, `tenant` for tenant stacks, else the stack name. */
export function stackLayer(stackName: string): string {
  return stackName.startsWith('tenant-') ? 'tenant' : (STACK_LAYERS[stackName] ?? stackName);
}

/**
 * The KMS key that encrypts every state object: the state bucket's own key, created by `bootstrap`,
 * named by its alias (the key id is only known once bootstrap is applied). S3 resolves the alias
 * when it writes an object; the object then records the key's ARN.
 */
export function stateKmsKeyAliasArn(environment: Environment): string {
  const { region, accountId, stateBucket } = environment;
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:${bucketKeyAliasName(stateBucket)}`;
}

/**
 * S3 backend settings of a stack's state, for its backend and for every `terraform_remote_state`
 * reading it. `encrypt` with `kms_key_id`: without the key id, the S3 backend asks for AES256 and
 * the state key protects nothing.
 */
export function stateBackendConfig(environment: Environment, stackName: string) {
  return {
    bucket: environment.stateBucket,
    key: stateKey(environment, stackName),
    region: environment.region,
    encrypt: true,
    kmsKeyId: stateKmsKeyAliasArn(environment),
  };
}

/** Tags on every AWS resource of a stack (through the provider's default_tags). */
export function platformTags(environment: Environment, stackName: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    'platform:environment': environment.name,
    'platform:stack': stackName,
    'platform:layer': stackLayer(stackName),
    'platform:managed-by': 'cdktf',
    'platform:cluster': environment.clusterName,
    ...environment.tags,
    ...extra,
  };
}

export class PlatformStack extends TerraformStack implements GuardedStack {
  readonly environment: Environment;
  readonly stackName: string;
  readonly awsProvider: AwsProvider;
  private readonly defaultTags: Record<string, string>;
  /** Terraform JSON the guardrails computed, reused by the synthesizer's next toTerraform(). */
  private guardrailTerraform: ReturnType<TerraformStack['toTerraform']> | undefined;

  constructor(scope: Construct, stackName: string, props: PlatformStackProps) {
    super(scope, stackName);
    const { environment } = props;
    this.environment = environment;
    this.stackName = stackName;

    // Every stack, bootstrap included: bootstrap's first apply runs with a local backend override
    // and then moves its state into the bucket it created (scripts/bootstrap.ts).
    const backend = new S3Backend(this, stateBackendConfig(environment, stackName));
    // cdktf 0.21's S3Backend has no useLockfile; S3-native locking needs Terraform >= 1.10.
    backend.addOverride('use_lockfile', true);

    this.defaultTags = platformTags(environment, stackName, props.tags);
    this.awsProvider = new AwsProvider(this, 'aws', {
      region: environment.region,
      allowedAccountIds: [environment.accountId],
      defaultTags: [{ tags: this.defaultTags }],
    });

    // Policy guardrails (modules/guardrails): synth fails with one line per violation.
    this.node.addValidation(guardrailValidation(this));
  }

  /**
   * The stack's Terraform JSON for the guardrail validation. cdktf runs validations right before it
   * serializes the stack, so the next toTerraform() returns this same object instead of resolving
   * the whole tree a second time (nothing changes the stack between the two).
   */
  terraformForGuardrails(): ReturnType<TerraformStack['toTerraform']> {
    this.guardrailTerraform = super.toTerraform();
    return this.guardrailTerraform;
  }

  discardGuardrailTerraform(): void {
    this.guardrailTerraform = undefined;
  }

  override toTerraform(): ReturnType<TerraformStack['toTerraform']> {
    const computed = this.guardrailTerraform;
    if (computed === undefined) return super.toTerraform();
    this.guardrailTerraform = undefined;
    return computed;
  }

  override toHclTerraform(): ReturnType<TerraformStack['toHclTerraform']> {
    this.guardrailTerraform = undefined;
    return super.toHclTerraform();
  }

  /**
   * An aliased AWS provider for another region (APIs that live in one region only, such as Data
   * Exports in us-east-1), with the same account pin and default tags as the stack's provider.
   */
  awsProviderIn(region: string, alias: string): AwsProvider {
    return new AwsProvider(this, `aws-${alias}`, {
      alias,
      region,
      allowedAccountIds: [this.environment.accountId],
      defaultTags: [{ tags: this.defaultTags }],
    });
  }

  /** ARN partition-aware prefix for building exact ARNs at synth time. */
  get partition(): string {
    return partitionOf(this.environment.region);
  }
}
