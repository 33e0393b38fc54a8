/** Pieces of `npm run bootstrap` (scripts/bootstrap.ts) that tests exercise on their own. */

/**
 * Terraform override file that swaps bootstrap's S3 backend for local state during its first
 * apply (the bucket does not exist yet). Terraform merges `*_override.tf.json` files last and a
 * backend block in an override replaces the configuration's backend.
 */
export const LOCAL_BACKEND_OVERRIDE = 'local_backend_override.tf.json';

export function localBackendOverride(statePath: string): string {
  return `${JSON.stringify({ terraform: { backend: { local: { path: statePath } } } }, null, 2)}\n`;
}

/** Whether `terraform init` with the S3 backend failed because the state bucket does not exist (yet). */
export function isMissingBucket(initOutput: string): boolean {
  return /S3 bucket "[^"]*" does not exist|NoSuchBucket/i.test(initOutput);
}
