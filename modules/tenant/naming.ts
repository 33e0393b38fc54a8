/**
 * Names of a tenant's AWS and Kubernetes objects. Deterministic (a re-synth never renames, so
 * never replaces, anything), within each service's limits, and unique per cluster.
 */
import { createHash } from 'node:crypto';

/** Kubernetes group every owner of tenant `<name>` gets (`spark-platform:tenant:<name>`). */
export const TENANT_GROUP_PREFIX = 'spark-platform:tenant:';

export function tenantGroup(tenant: string): string {
  return `${TENANT_GROUP_PREFIX}${tenant}`;
}

/**
 * `text` if it fits in `max` characters, else a prefix of it plus `-` and 8 hex characters of its
 * SHA-256, so two long names that share a prefix still differ.
 */
export function boundedName(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${text.slice(0, max - hash.length - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/** S3 general purpose bucket names (3-63 characters, no reserved prefixes or suffixes). */
export const S3_BUCKET_NAME = /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|--x-s3|--table-s3)$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export interface TenantNameScope {
  /** EKS cluster name (unique per account and region, like the cluster's own IAM role). */
  readonly clusterName: string;
  readonly tenant: string;
}

function lowerDns(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

/**
 * `<cluster>-<tenant>-<account>-<region>`: globally unique because account and region are in it,
 * shortened with a hash of the cluster and tenant part when longer than 63 characters.
 */
export function tenantBucketName(scope: TenantNameScope & { readonly accountId: string; readonly region: string }): string {
  const suffix = `-${scope.accountId}-${scope.region}`;
  const head = boundedName(lowerDns(`${scope.clusterName}-${scope.tenant}`), 63 - suffix.length);
  const name = `${head}${suffix}`;
  if (!S3_BUCKET_NAME.test(name)) throw new Error(`derived tenant bucket name "${name}" is not a valid S3 bucket name`);
  return name;
}

/** IAM role names are at most 64 characters; EMR encodes this literal name in service account names. */
export function jobExecutionRoleName(scope: TenantNameScope): string {
  return boundedName(`${scope.clusterName}-${scope.tenant}-emr-job`, 64);
}

/** Managed policy the tenant's owners attach to submit jobs. */
export function submitterPolicyName(scope: TenantNameScope): string {
  return boundedName(`${scope.clusterName}-${scope.tenant}-emr-submit`, 128);
}

/** EMR virtual cluster names are 1-64 characters of `[0-9A-Za-z_./#-]`. */
export function virtualClusterName(scope: TenantNameScope): string {
  return boundedName(`${scope.clusterName}-${scope.tenant}`, 64);
}

/** Dedicated NodePool of a tenant for one Spark role. */
export function tenantPoolName(tenant: string, role: 'driver' | 'executor'): string {
  return `tenant-${tenant}-${role}`;
}
