/** Test helpers: run the guardrail rule pack over hand-written Terraform JSON. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateStack, formatFinding, type StackGuardrailResult } from '../../modules/guardrails/engine.js';
import type { Suppression } from '../../modules/guardrails/suppressions.js';
import { TEST_TODAY } from './isolation.mjs';
import { SOURCE_ROOT } from './repo.js';

type Body = Record<string, unknown>;
export type Resources = Record<string, Record<string, Body>>;

export interface FixtureOptions {
  /** @default 'prod' (rules relaxed in dev are strict) */
  readonly environment?: string;
  /** @default 'test' */
  readonly stack?: string;
  readonly data?: Resources;
  /** Replaces the default aws provider block (which has the platform default tags). */
  readonly providers?: Record<string, Body[]>;
  readonly suppressions?: readonly Suppression[];
  /** Date rules about support dates compare with. @default TEST_TODAY */
  readonly today?: string;
}

/** A stack's Terraform JSON: the given resources plus an aws provider with the platform default tags. */
export function stackJson(resources: Resources, options: FixtureOptions = {}): Record<string, unknown> {
  const stack = options.stack ?? 'test';
  const environment = options.environment ?? 'prod';
  return {
    provider: options.providers ?? { aws: [{ region: 'us-west-2', default_tags: [{ tags: { 'platform:environment': environment, 'platform:stack': stack } }] }] },
    resource: resources,
    ...(options.data ? { data: options.data } : {}),
  };
}

export function evaluate(resources: Resources, options: FixtureOptions = {}): StackGuardrailResult {
  return evaluateStack(stackJson(resources, options), {
    stackName: options.stack ?? 'test',
    environmentName: options.environment ?? 'prod',
    suppressions: options.suppressions ?? [],
    today: options.today ?? TEST_TODAY,
  });
}

/** Formatted violations of one rule: `[RULE] stack/address: message. Fix: ...`. */
export function violations(ruleId: string, resources: Resources, options: FixtureOptions = {}): string[] {
  return evaluate(resources, options)
    .violations.filter((v) => v.ruleId === ruleId)
    .map(formatFinding);
}

/** `address: message` of one rule's violations (without the fix text), for compact assertions. */
export function problems(ruleId: string, resources: Resources, options: FixtureOptions = {}): string[] {
  return evaluate(resources, options)
    .violations.filter((v) => v.ruleId === ruleId)
    .map((v) => `${v.address}: ${v.message}`);
}

/** A policy document as the JSON string resources carry. */
export function policy(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** The companion resources SecureBucket creates for bucket `b`, so a test can remove or weaken one. */
export function secureBucket(name = 'b', overrides: Partial<Record<string, Body | undefined>> = {}): Resources {
  const ref = `\${aws_s3_bucket.${name}.id}`;
  const arn = `\${aws_s3_bucket.${name}.arn}`;
  const parts: Record<string, Body | undefined> = {
    aws_s3_bucket: { bucket: `bucket-${name}` },
    aws_s3_bucket_public_access_block: { bucket: ref, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    aws_s3_bucket_server_side_encryption_configuration: {
      bucket: ref,
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: '${aws_kms_key.k.arn}' }, bucket_key_enabled: true }],
    },
    aws_s3_bucket_versioning: { bucket: ref, versioning_configuration: { status: 'Enabled' } },
    aws_s3_bucket_ownership_controls: { bucket: ref, rule: { object_ownership: 'BucketOwnerEnforced' } },
    aws_s3_bucket_lifecycle_configuration: {
      bucket: ref,
      rule: [{ id: 'abort', status: 'Enabled', filter: [{}], abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }] }],
    },
    aws_s3_bucket_policy: {
      bucket: ref,
      policy: policy({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    },
    ...overrides,
  };
  const resources: Resources = {};
  for (const [type, body] of Object.entries(parts)) {
    if (body === undefined) continue;
    resources[type] = { [type === 'aws_s3_bucket' ? name : `${name}_${type.replace('aws_s3_bucket_', '')}`]: body };
  }
  return resources;
}

/** Whether the provider schema (the generated cdktf bindings) gives a resource type a top-level `tags` argument. */
export function hasTagsArgument(type: string): boolean | undefined {
  const file = join(SOURCE_ROOT, 'node_modules', '@cdktf', 'provider-aws', 'lib', type.replace(/^aws_/, '').replace(/_/g, '-'), 'index.d.ts');
  if (!existsSync(file)) return undefined;
  const source = readFileSync(file, 'utf8');
  const config = /export interface \w+Config extends cdktf\.TerraformMetaArguments \{([\s\S]*?)\n\}/.exec(source);
  return config ? /\n\s+readonly tags\?:/.test(config[1]!) : undefined;
}

