import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DEFAULT_TAGS_NOT_APPLIED, UNTAGGABLE_AWS_RESOURCE_TYPES } from '../modules/guardrails/tags.js';
import { hasTagsArgument, problems, violations } from './support/guardrails.js';

describe('guardrails: tags', () => {
  const bucket = (tags?: Record<string, string>, provider?: string) => ({ aws_s3_bucket: { b: { bucket: 'x', ...(tags ? { tags } : {}), ...(provider ? { provider } : {}) } } });

  it('TAG-001: requires default_tags naming this environment and stack on every aws provider block', () => {
    assert.deepEqual(violations('TAG-001', bucket()), []);
    const wrong = { aws: [{ region: 'us-west-2', default_tags: [{ tags: { 'platform:environment': 'dev', 'platform:stack': 'network' } }] }] };
    assert.deepEqual(problems('TAG-001', bucket(), { providers: wrong }), [
      'provider.aws: default_tags platform:environment is "dev", expected "prod"',
      'provider.aws: default_tags platform:stack is "network", expected "test"',
    ]);
    assert.equal(problems('TAG-001', bucket(), { providers: { aws: [{ region: 'us-west-2' }] } }).length, 2);
  });

  it('TAG-002: passes resources covered by default_tags, reports resources on an untagged provider alias or overriding the tags', () => {
    assert.deepEqual(violations('TAG-002', bucket()), []);
    const providers = {
      aws: [
        { region: 'us-west-2', default_tags: [{ tags: { 'platform:environment': 'prod', 'platform:stack': 'test' } }] },
        { region: 'us-east-1', alias: 'east' },
      ],
    };
    assert.deepEqual(problems('TAG-002', bucket(undefined, 'aws.east'), { providers }), [
      "aws_s3_bucket.b: has no platform:environment tag (neither its own tags nor its provider's default_tags)",
      "aws_s3_bucket.b: has no platform:stack tag (neither its own tags nor its provider's default_tags)",
    ]);
    assert.deepEqual(violations('TAG-002', bucket({ 'platform:environment': 'prod', 'platform:stack': 'test' }, 'aws.east'), { providers }), []);
    assert.deepEqual(problems('TAG-002', bucket({ 'platform:stack': 'other' })), ['aws_s3_bucket.b: tags override platform:stack with "other" (expected "test")']);
  });

  it('TAG-002: exempts types that take no tags, and requires tag blocks on Auto Scaling groups', () => {
    const untagged = { aws_iam_role_policy: { p: { role: 'r', policy: '{"Statement":[]}' } } };
    assert.deepEqual(violations('TAG-002', untagged, { providers: { aws: [{ region: 'us-west-2' }] } }), []);
    assert.equal(problems('TAG-002', { aws_autoscaling_group: { g: { max_size: 1, min_size: 0 } } }).length, 2);
    const tagged = { aws_autoscaling_group: { g: { tag: [{ key: 'platform:environment', value: 'prod', propagate_at_launch: true }, { key: 'platform:stack', value: 'test', propagate_at_launch: true }] } } };
    assert.deepEqual(violations('TAG-002', tagged), []);
  });

  it('TAG-003: tenant stacks tag every taggable resource with platform:tenant=<tenant>, through default_tags or their own tags', () => {
    const tenantProvider = (tenant?: string) => ({
      aws: [{ region: 'us-west-2', default_tags: [{ tags: { 'platform:environment': 'prod', 'platform:stack': 'tenant-alpha', ...(tenant ? { 'platform:tenant': tenant } : {}) } }] }],
    });
    const options = (tenant?: string) => ({ stack: 'tenant-alpha', providers: tenantProvider(tenant) });
    assert.deepEqual(violations('TAG-003', bucket(), options('alpha')), []);
    assert.deepEqual(problems('TAG-003', bucket(), options()).sort(), [
      'aws_s3_bucket.b: platform:tenant is null, expected "alpha"',
      'provider.aws: default_tags platform:tenant is null, expected "alpha"',
    ]);
    assert.deepEqual(problems('TAG-003', bucket({ 'platform:tenant': 'beta' }), options('alpha')), ['aws_s3_bucket.b: platform:tenant is "beta", expected "alpha"']);
    assert.deepEqual(violations('TAG-003', { aws_iam_role_policy: { p: { role: 'r', policy: '{}' } } }, options()).filter((v) => v.includes('aws_iam_role_policy')), []);
    // Platform stacks carry no tenant.
    assert.deepEqual(violations('TAG-003', bucket()), []);
  });

  it('keeps the exemption list honest: every exempt type has no tags argument in the AWS provider schema', () => {
    for (const type of UNTAGGABLE_AWS_RESOURCE_TYPES) assert.equal(hasTagsArgument(type), false, `${type} takes tags: remove it from UNTAGGABLE_AWS_RESOURCE_TYPES`);
    for (const type of DEFAULT_TAGS_NOT_APPLIED) assert.equal(hasTagsArgument(type), false, `${type}: default tags do not apply because it has tag blocks, not tags`);
    assert.equal(hasTagsArgument('aws_s3_bucket'), true);
    assert.equal(hasTagsArgument('aws_eks_pod_identity_association'), true);
  });
});
