/**
 * The retained data of a tenant stack (`data.retainOnDelete: true`): its data bucket, the bucket's
 * settings and its KMS key, everything under the `RETAINED_DATA_ID` construct. `npm run tenant-data`
 * releases them from the stack's state before a destroy, and adopts them back (terraform import)
 * when a tenant of the same name is added again, so its bucket and key alias do not collide.
 */
import { RETAINED_DATA_ID } from '../../stacks/tenant/contract.js';

export interface TerraformResource {
  /** `<type>.<logical id>`, as in `terraform state list`. */
  readonly address: string;
  readonly type: string;
  readonly body: Record<string, unknown>;
}

type StackJson = { resource?: Record<string, Record<string, Record<string, unknown>>> };

/**
 * Every resource of the tenant stack's retained data construct (cdktf derives the logical ids of a
 * construct's children from its id: `data_bucket_<hash>`, `data_key_<hash>`...), bucket first, then
 * the key alias and key, then the rest.
 */
export function retainedResources(stackJson: StackJson): TerraformResource[] {
  const prefix = `${RETAINED_DATA_ID}_`;
  const found: TerraformResource[] = [];
  for (const [type, instances] of Object.entries(stackJson.resource ?? {})) {
    for (const [name, body] of Object.entries(instances)) {
      if (name.startsWith(prefix)) found.push({ address: `${type}.${name}`, type, body });
    }
  }
  const rank = (type: string) => ['aws_s3_bucket', 'aws_kms_alias', 'aws_kms_key'].indexOf(type);
  const order = (r: TerraformResource) => (rank(r.type) === -1 ? 3 : rank(r.type));
  return found.sort((a, b) => order(a) - order(b) || a.address.localeCompare(b.address));
}

/** Bucket settings resources, imported by the bucket's name. */
const BUCKET_SCOPED = new Set([
  'aws_s3_bucket',
  'aws_s3_bucket_ownership_controls',
  'aws_s3_bucket_public_access_block',
  'aws_s3_bucket_versioning',
  'aws_s3_bucket_server_side_encryption_configuration',
  'aws_s3_bucket_lifecycle_configuration',
  'aws_s3_bucket_policy',
]);

export class TenantDataError extends Error {
  override name = 'TenantDataError';
}

/**
 * The `terraform import` id of a retained resource. The KMS key's id is random: it is read from the
 * imported alias (`keyIdFromAlias`), so the alias is imported first.
 */
export function importId(resource: TerraformResource, retained: readonly TerraformResource[], keyIdFromAlias?: string): string {
  if (BUCKET_SCOPED.has(resource.type)) {
    const bucket = retained.find((r) => r.type === 'aws_s3_bucket')?.body.bucket;
    if (typeof bucket !== 'string' || bucket.includes('${')) throw new TenantDataError(`${resource.address}: the data bucket has no literal name to import by`);
    return bucket;
  }
  if (resource.type === 'aws_kms_alias' && typeof resource.body.name === 'string') return resource.body.name;
  if (resource.type === 'aws_kms_key') {
    if (!keyIdFromAlias) throw new TenantDataError(`${resource.address}: import the key alias first (the key id is read from it)`);
    return keyIdFromAlias;
  }
  throw new TenantDataError(`${resource.address}: no import rule for ${resource.type}; import it by hand (terraform import)`);
}
