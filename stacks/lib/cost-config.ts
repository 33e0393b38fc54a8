/**
 * The `cost` section of an environment file: where cost data comes from besides OpenCost's
 * estimate (which is always on, in the observability layer). Every field has a default, so an
 * environment file only lists what it changes.
 */
import { z } from 'zod';

export const CostSchema = z
  .strictObject({
    spotDataFeed: z
      .boolean()
      .default(true)
      .describe(
        'Create the EC2 Spot Instance data feed (a bucket and the subscription, in observability-infra) so OpenCost prices Spot nodes at what they really cost. AWS allows one feed per account: set false in every other environment sharing the account (OpenCost then uses list Spot prices).',
      ),
    dataExport: z
      .boolean()
      .default(false)
      .describe(
        'The cost stack: a CUR 2.0 data export with split cost allocation data for EKS, its bucket, and the Athena database, table and views that give cost per tenant and per job (npm run cost).',
      ),
    activateAllocationTags: z
      .boolean()
      .default(false)
      .describe(
        'Activate the platform tags (platform:tenant, platform:layer, ...) and the EMR job labels as cost allocation tags (cost stack). Only in the payer (management) account; Billing must have seen each tag first (up to 24 hours after the resources are tagged).',
      ),
  })
  .describe('Billing-accurate cost data: Spot data feed, CUR 2.0 export with Athena, cost allocation tags.');

export type CostSettings = z.output<typeof CostSchema>;
