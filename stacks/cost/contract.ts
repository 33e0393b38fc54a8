import { defineContract } from '../lib/contracts.js';

/** What the `cost` stack publishes (empty strings for what `cost.dataExport` leaves out). */
export const COST = defineContract({
  stack: 'cost',
  outputs: {
    reportsBucket: 'string',
    dataExportArn: 'string',
    database: 'string',
    workgroup: 'string',
    jobCostView: 'string',
    readerPolicyArn: 'string',
  },
  descriptions: {
    reportsBucket: 'Bucket of the CUR 2.0 export (cur2/) and of Athena query results (athena-results/)',
    dataExportArn: 'ARN of the CUR 2.0 data export (us-east-1)',
    database: 'Glue database of the cost table and views',
    workgroup: 'Athena workgroup of cost queries (npm run cost)',
    jobCostView: 'Athena view of cost per day, tenant, job and kind of cost',
    readerPolicyArn: "Managed policy to attach to the roles that run cost queries (npm run cost)",
  },
});
