/** KMS rules: customer managed keys rotate their key material. */
import { type Rule, types } from './rule.js';
import { isTrue } from './terraform.js';

/** Key specs that support automatic rotation (asymmetric and HMAC keys cannot rotate). */
const ROTATABLE_KEY_SPECS = ['SYMMETRIC_DEFAULT'];

export const kmsRotation: Rule = {
  id: 'KMS-001',
  title: 'Symmetric KMS keys have automatic rotation enabled',
  description: 'Rotation limits how much data one key version protects and is expected by most compliance frameworks.',
  fix: 'Set enable_key_rotation = true on the aws_kms_key (optionally rotation_period_in_days).',
  appliesTo: types('aws_kms_key'),
  check: (resource) => {
    const spec = resource.body.customer_master_key_spec ?? resource.body.key_spec ?? 'SYMMETRIC_DEFAULT';
    if (typeof spec === 'string' && !ROTATABLE_KEY_SPECS.includes(spec)) return [];
    return isTrue(resource.body.enable_key_rotation) ? [] : ['symmetric key does not enable automatic rotation'];
  },
};

export const KMS_RULES: readonly Rule[] = [kmsRotation];
