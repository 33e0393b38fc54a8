/**
 * `npm run cost -- --tenant <name> [options]`: a tenant's billed cost for a period, by job, from
 * the Athena view over the CUR 2.0 export (the `cost` stack, `cost.dataExport` in the environment).
 *
 *   --tenant <name>          the tenant (namespace)
 *   --from YYYY-MM-DD        first day (default: the first day of this month, UTC)
 *   --to YYYY-MM-DD          last day, inclusive (default: today, UTC)
 *   --month YYYY-MM          shorthand for the whole month (instead of --from/--to)
 *   --env <name>             environment (default PLATFORM_ENV, then dev)
 *   --dry-run                print the SQL and where it would run; no AWS access
 *
 * Rows: one per EMR job run of the tenant (compute = its pods' split cost allocation share of the
 * nodes, EMR uplift = the EMR on EKS charge of the job run), plus a row without a job for its
 * other pods and its tagged resources (bucket, key, logs). Runs with the caller's AWS credentials
 * (a role with the cost stack's reader policy), through the AWS SDK v3 Athena client.
 */
import { parseArgs } from 'node:util';
import { ISO_DATE, tenantCostByJobSql } from '../modules/cost/cur.js';
import { athenaWorkgroupName, costDatabaseName, JOB_COST_VIEW } from '../modules/cost/names.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadEnvironment, selectedEnvironmentName } from '../stacks/lib/environment.js';
import { loadTenants, TENANT_NAME } from '../stacks/lib/tenant-config.js';
import { repositoryRoot } from './lib/paths.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const USAGE = 'usage: npm run cost -- --tenant <name> [--from YYYY-MM-DD] [--to YYYY-MM-DD | --month YYYY-MM] [--env <name>] [--dry-run]';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface CostQuery {
  readonly sql: string;
  readonly database: string;
  readonly workgroup: string;
  readonly region: string;
}

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Runs one query and returns its rows (the AWS SDK by default; tests pass their own). */
export type QueryRunner = (query: CostQuery) => Promise<QueryResult>;

export class CostUsageError extends Error {
  override name = 'CostUsageError';
}

/** A failed Athena query, with what to do about it when the cause is known. */
export class CostQueryError extends Error {
  override name = 'CostQueryError';
}

/** Athena's reason for a failed query -> what the platform team should do. */
export function explainQueryFailure(reason: string, query: Pick<CostQuery, 'database' | 'workgroup'>): string {
  if (/workgroup/i.test(reason) && /not found|does not exist/i.test(reason)) {
    return `Athena workgroup ${query.workgroup} does not exist: deploy the cost stack (npx nx run cost:deploy) with cost.dataExport: true (${reason})`;
  }
  if (/(SCHEMA|DATABASE)_NOT_FOUND|TABLE_NOT_FOUND|does not exist|not found/i.test(reason)) {
    return `the cost database or view (${query.database}.${JOB_COST_VIEW}) is missing: deploy the cost stack (npx nx run cost:deploy) (${reason})`;
  }
  if (/stale|invalid state/i.test(reason)) {
    return `Athena reports the view ${query.database}.${JOB_COST_VIEW} as stale: run the named query "(re)create the job cost view" of workgroup ${query.workgroup} once (${reason})`;
  }
  if (/AccessDenied|not authorized/i.test(reason)) {
    return `access denied: attach the cost stack's reader policy (output readerPolicyArn) to your role (${reason})`;
  }
  return reason;
}

async function sdkRunner(query: CostQuery): Promise<QueryResult> {
  const sdk = await import('@aws-sdk/client-athena');
  const client = new sdk.AthenaClient({ region: query.region });
  let started;
  try {
    started = await client.send(
      new sdk.StartQueryExecutionCommand({ QueryString: query.sql, WorkGroup: query.workgroup, QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: query.database } }),
    );
  } catch (error) {
    throw new CostQueryError(explainQueryFailure((error as Error).message, query));
  }
  const id = started.QueryExecutionId!;
  const deadline = Date.now() + 10 * 60 * 1000;
  for (;;) {
    const { QueryExecution: execution } = await client.send(new sdk.GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = execution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new CostQueryError(`query ${id} ${state.toLowerCase()}: ${explainQueryFailure(execution?.Status?.StateChangeReason ?? 'no reason given', query)}`);
    }
    if (Date.now() > deadline) throw new CostQueryError(`query ${id} still ${state} after 10 minutes (see it in the Athena console, workgroup ${query.workgroup})`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const rows: string[][] = [];
  let columns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new sdk.GetQueryResultsCommand({ QueryExecutionId: id, ...(nextToken ? { NextToken: nextToken } : {}) }));
    if (columns.length === 0) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
    for (const row of page.ResultSet?.Rows ?? []) rows.push((row.Data ?? []).map((d) => d.VarCharValue ?? ''));
    nextToken = page.NextToken;
  } while (nextToken);
  // The first row of the first page is the header.
  return { columns, rows: rows.slice(1) };
}

function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The period of the flags: `--month`, or `--from`/`--to` (defaults: this month to date). */
export function period(values: { from?: string | undefined; to?: string | undefined; month?: string | undefined }, today: string = utcToday()): { from: string; to: string } {
  if (values.month !== undefined) {
    if (values.from !== undefined || values.to !== undefined) throw new CostUsageError('--month: expected either --month or --from/--to, found both');
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month)) throw new CostUsageError(`--month: expected YYYY-MM, found ${JSON.stringify(values.month)}`);
    const [year, month] = values.month.split('-').map(Number) as [number, number];
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return { from: `${values.month}-01`, to: `${values.month}-${String(last).padStart(2, '0')}` };
  }
  const from = values.from ?? `${today.slice(0, 7)}-01`;
  const to = values.to ?? today;
  for (const [flag, day] of [['--from', from], ['--to', to]] as const) {
    if (!ISO_DATE.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
      throw new CostUsageError(`${flag}: expected a date YYYY-MM-DD, found ${JSON.stringify(day)}`);
    }
  }
  if (from > to) throw new CostUsageError(`--from: expected a day on or before --to (${to}), found ${from}`);
  return { from, to };
}

const usd = (value: string) => {
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(2) : value;
};

/** The result as a plain text table with a total line. */
export function renderCostTable(result: QueryResult): string[] {
  const index = (name: string) => result.columns.indexOf(name);
  const headers = ['job', 'virtual cluster', 'days', 'compute', 'EMR uplift', 'other', 'idle share', 'total (USD)'];
  const moneyColumns = ['compute_usd', 'emr_uplift_usd', 'other_usd', 'idle_share_usd', 'total_usd'];
  const totals = moneyColumns.map(() => 0);
  const lines = result.rows.map((row) => {
    const money = moneyColumns.map((c, i) => {
      const value = Number(row[index(c)] ?? 0);
      totals[i]! += Number.isFinite(value) ? value : 0;
      return usd(row[index(c)] ?? '0');
    });
    const job = row[index('job_id')] || '(no job: other pods and tagged resources)';
    const days = `${row[index('first_day')] ?? ''}..${row[index('last_day')] ?? ''}`;
    return [job, row[index('virtual_cluster_id')] ?? '', days, ...money];
  });
  lines.push(['TOTAL', '', '', ...totals.map((t) => t.toFixed(2))]);
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: readonly string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [format(headers), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)];
}

export async function main(argv: readonly string[], io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) }, runQuery: QueryRunner = sdkRunner): Promise<number> {
  try {
    let values;
    try {
      values = parseArgs({
        args: [...argv],
        strict: true,
        options: {
          tenant: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          month: { type: 'string' },
          env: { type: 'string' },
          root: { type: 'string' },
          'dry-run': { type: 'boolean' },
        },
      }).values;
    } catch (error) {
      throw new CostUsageError(`${(error as Error).message}\n${USAGE}`);
    }
    const tenant = values.tenant;
    if (!tenant) throw new CostUsageError(`--tenant: expected a tenant name\n${USAGE}`);
    if (!TENANT_NAME.test(tenant)) throw new CostUsageError(`--tenant: expected a tenant name (a DNS label such as analytics), found ${JSON.stringify(tenant)}`);
    const root = values.root ?? repositoryRoot();
    const environment = loadEnvironment(root, values.env ?? selectedEnvironmentName());
    const { from, to } = period(values);
    const query: CostQuery = {
      sql: tenantCostByJobSql({ database: costDatabaseName(environment.clusterName), view: JOB_COST_VIEW, tenant, from, to }),
      database: costDatabaseName(environment.clusterName),
      workgroup: athenaWorkgroupName(environment.clusterName),
      region: environment.region,
    };
    if (!loadTenants(root, environment).some((t) => t.name === tenant)) {
      io.err(`note: ${tenant} is not a folder under tenants/ (showing what the bill has for it, e.g. a removed tenant)`);
    }
    const notEnabled = `the CUR 2.0 export is not enabled for environment ${environment.name}: set cost.dataExport: true in ${environment.file}, deploy the cost stack (npx nx run cost:deploy), opt in to split cost allocation data in the Billing console, and allow up to 24 hours for the first delivery`;
    if (values['dry-run']) {
      if (!environment.cost.dataExport) io.err(`note: ${notEnabled}`);
      io.out(`-- Athena workgroup ${query.workgroup}, database ${query.database}, region ${query.region}: cost of tenant ${tenant} from ${from} to ${to}`);
      io.out(`${query.sql};`);
      return EXIT_OK;
    }
    if (!environment.cost.dataExport) throw new CostUsageError(notEnabled);
    const result = await runQuery(query);
    io.out(`Cost of tenant ${tenant}, ${from} to ${to} (${environment.name}, CUR 2.0 export, USD):`);
    if (result.rows.length === 0) {
      io.out(
        `no cost rows for ${tenant} in this period. The export lags usage by up to 24 hours (and a new export by up to 24 hours more); compute rows need split cost allocation data, job ids need the EMR job labels activated as cost allocation tags (cost.activateAllocationTags).`,
      );
      return EXIT_OK;
    }
    for (const line of renderCostTable(result)) io.out(line);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CostUsageError || error instanceof ConfigError) {
      io.err(`cost: ${error.message}`);
      return EXIT_USAGE;
    }
    io.err(`cost: ${(error as Error).message}`);
    return EXIT_FAILED;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await main(process.argv.slice(2));
}
