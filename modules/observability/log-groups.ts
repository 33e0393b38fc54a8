/**
 * CloudWatch log group naming, shared by the tenant stacks (which own each tenant's group: EMR
 * job logs and container logs) and the log shipper (which writes container logs into them).
 */

/** Prefix of every log group the platform creates for an environment. */
export function platformLogGroupPrefix(environmentName: string): string {
  return `/spark-platform/${environmentName}`;
}

/** The log group of one tenant namespace: EMR job logs and the namespace's container logs. */
export function tenantLogGroupName(environmentName: string, tenant: string): string {
  return `${platformLogGroupPrefix(environmentName)}/tenants/${tenant}`;
}

/** Container logs of every platform (non-tenant) namespace. */
export function platformContainerLogGroupName(environmentName: string): string {
  return `${platformLogGroupPrefix(environmentName)}/platform`;
}
