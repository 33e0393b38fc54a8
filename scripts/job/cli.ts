/**
 * `npm run job -- <submit|status|cancel> --tenant <name> ...`: EMR on EKS jobs for a tenant.
 *
 *   submit  (--entry-point s3://.../job.py [--arg A]... | --sql s3://.../report.sql [--hivevar K=V]...
 *            | --template <job> [--param K=V]...)
 *           [--name N] [--conf k=v]... [--zone AZ] [--min-executors N] [--max-executors N]
 *           [--max-attempts N] [--signature S] [--release-label L] [--client-token T] [--dry-run]
 *   status  --id <job-run-id>
 *   cancel  --id <job-run-id>
 *
 * Common: --tenant <name> [--env <name>] [--outputs <terraform output -json file>]
 *         [--virtual-cluster-id <id>]
 *
 * The tenant's settings come from its tenant file and the environment (the same derivation the
 * tenant stack uses), overlaid with the deployed stack's outputs: `--outputs`, or
 * `terraform output -json` in cdktf.out/stacks/tenant-<name> (needs `terraform init` there).
 * `--template <job>` starts tenants/<tenant>/jobs/<job>.yaml with its parameters' defaults,
 * overridden by `--param K=V` (rendered like the EMR job template the stack creates).
 * `--dry-run` prints the StartJobRun request JSON and needs no AWS access.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../stacks/lib/config-file.js';
import { loadEnvironment, selectedEnvironmentName } from '../../stacks/lib/environment.js';
import { loadTenantSetWithJobs } from '../../stacks/lib/job-templates.js';
import { tenantStackName } from '../../stacks/tenant/contract.js';
import { type ConfigurationOverrides, tenantJobSettings } from '../../stacks/tenant/job-settings.js';
import { JobTemplateParameterError } from '../../stacks/tenant/job-templates.js';
import { repositoryRoot } from '../lib/paths.js';
import { findTerraform } from '../lib/terraform.js';
import { buildStartJobRunRequest, buildTemplateJobRunRequest, type JobDriverOptions, JobRequestError, logLocations, type RunOptions, type TenantRuntime } from './request.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Shown when the virtual cluster id is not known (dry run before the tenant is deployed). */
export const UNKNOWN_VIRTUAL_CLUSTER = 'VIRTUAL_CLUSTER_ID';

const USAGE = `usage: npm run job -- <submit|status|cancel> --tenant <name> [options] (see scripts/job/cli.ts)`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

function keyValues(flag: string, values: readonly string[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of values ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag}: expected key=value, found ${JSON.stringify(item)}`);
    result[item.slice(0, at)] = item.slice(at + 1);
  }
  return result;
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: expected a whole number, found ${JSON.stringify(value)}`);
  return Number(value);
}

/** Reads `terraform output -json` (or a flat name -> value map) into string values. */
export function parseOutputs(text: string, source: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${source}: expected the JSON of \`terraform output -json\`, found text that is not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${source}: expected a JSON object of outputs`);
  const values: Record<string, string> = {};
  for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const value = entry && typeof entry === 'object' && 'value' in entry ? (entry as { value: unknown }).value : entry;
    if (typeof value === 'string') values[key] = value;
  }
  return values;
}

function terraformOutputs(root: string, tenant: string): Record<string, string> {
  const dir = join(root, 'cdktf.out', 'stacks', tenantStackName(tenant));
  if (!existsSync(dir)) throw new UsageError(`no synthesized stack in ${dir}: run \`npm run synth\`, or pass --outputs <file>`);
  const result = spawnSync(findTerraform(), ['output', '-json'], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new UsageError(`terraform output failed in ${dir} (run \`terraform init\` there with credentials, or pass --outputs <file>):\n${result.stderr}`);
  }
  return parseOutputs(result.stdout, `terraform output in ${dir}`);
}

export async function main(argv: readonly string[], io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || !['submit', 'status', 'cancel'].includes(command)) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        tenant: { type: 'string' },
        env: { type: 'string' },
        root: { type: 'string' },
        outputs: { type: 'string' },
        'virtual-cluster-id': { type: 'string' },
        'entry-point': { type: 'string' },
        arg: { type: 'string', multiple: true },
        sql: { type: 'string' },
        hivevar: { type: 'string', multiple: true },
        conf: { type: 'string', multiple: true },
        name: { type: 'string' },
        zone: { type: 'string' },
        'min-executors': { type: 'string' },
        'max-executors': { type: 'string' },
        signature: { type: 'string' },
        'max-attempts': { type: 'string' },
        template: { type: 'string' },
        param: { type: 'string', multiple: true },
        'release-label': { type: 'string' },
        'client-token': { type: 'string' },
        'dry-run': { type: 'boolean' },
        id: { type: 'string' },
      },
    });
    if (!values.tenant) throw new UsageError('--tenant: expected a tenant name (a folder under tenants/)');
    const root = values.root ?? repositoryRoot();
    const environment = loadEnvironment(root, values.env ?? selectedEnvironmentName());
    const tenants = loadTenantSetWithJobs(root, environment);
    const tenant = tenants.tenants.find((t) => t.name === values.tenant);
    if (!tenant) {
      const elsewhere = tenants.outside.find((t) => t.name === values.tenant);
      if (elsewhere) throw new UsageError(`--tenant: ${values.tenant} is not in environment ${environment.name} (${elsewhere.file} lists ${elsewhere.environments.join(', ')})`);
      throw new UsageError(`--tenant: expected one of the tenants under tenants/, found ${JSON.stringify(values.tenant)}`);
    }

    const derived = tenantJobSettings(environment, tenant);
    const dryRun = command === 'submit' && values['dry-run'] === true;
    const outputs = values.outputs
      ? parseOutputs(readFileSync(values.outputs, 'utf8'), values.outputs)
      : dryRun
        ? {}
        : terraformOutputs(root, tenant.name);
    const virtualClusterId = values['virtual-cluster-id'] ?? outputs.virtualClusterId ?? (dryRun ? UNKNOWN_VIRTUAL_CLUSTER : undefined);
    if (!virtualClusterId) throw new UsageError(`the outputs of ${tenantStackName(tenant.name)} have no virtualClusterId: is the stack deployed?`);
    if (virtualClusterId === UNKNOWN_VIRTUAL_CLUSTER) {
      io.err(`note: virtual cluster id unknown until ${tenantStackName(tenant.name)} is deployed; pass --outputs or --virtual-cluster-id`);
    }
    const runtime: TenantRuntime = {
      ...derived,
      virtualClusterId,
      executionRoleArn: outputs.executionRoleArn ?? derived.executionRoleArn,
      configurationOverrides: outputs.configurationOverrides
        ? (JSON.parse(outputs.configurationOverrides) as ConfigurationOverrides)
        : derived.configurationOverrides,
      retryPolicy: outputs.retryPolicyConfiguration ? (JSON.parse(outputs.retryPolicyConfiguration) as { maxAttempts: number }) : derived.retryPolicy,
    };

    if (command === 'submit') {
      const sources = [values['entry-point'], values.sql, values.template].filter(Boolean).length;
      if (sources !== 1) {
        throw new UsageError('submit: expected exactly one of --entry-point <s3 uri> (spark-submit), --sql <s3 uri of a .sql file> (spark-sql) or --template <job> (tenants/<tenant>/jobs/<job>.yaml)');
      }
      if ((values.sql || values.template) && values.arg) throw new UsageError('--arg: only for --entry-point jobs; pass --hivevar K=V to SQL jobs, --param K=V to templates');
      if ((values['entry-point'] || values.template) && values.hivevar) throw new UsageError('--hivevar: only for --sql jobs');
      if (!values.template && values.param) throw new UsageError('--param: only for --template jobs');
      const minExecutors = integer('--min-executors', values['min-executors']);
      const maxExecutors = integer('--max-executors', values['max-executors']);
      const maxAttempts = integer('--max-attempts', values['max-attempts']);
      const run = (defaultName: string): RunOptions => ({
        name: values.name ?? defaultName.slice(0, 64),
        conf: keyValues('--conf', values.conf),
        clientToken: values['client-token'] ?? randomUUID(),
        ...(values['release-label'] ? { releaseLabel: values['release-label'] } : {}),
        ...(values.zone ? { zone: values.zone } : {}),
        ...(minExecutors !== undefined ? { minExecutors } : {}),
        ...(maxExecutors !== undefined ? { maxExecutors } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        ...(values.signature ? { signature: values.signature } : {}),
      });
      let request;
      if (values.template) {
        const template = tenant.jobTemplates.find((t) => t.name === values.template);
        if (!template) {
          const known = tenant.jobTemplates.map((t) => t.name);
          throw new UsageError(`--template: expected a job of tenants/${tenant.name}/jobs/ (${known.length > 0 ? known.join(', ') : 'it has none'}), found ${JSON.stringify(values.template)}`);
        }
        request = buildTemplateJobRunRequest(runtime, template, keyValues('--param', values.param), run(`${tenant.name}-${template.name}`));
      } else {
        const driver: JobDriverOptions = values.sql
          ? { type: 'spark-sql', entryPoint: values.sql, hivevars: keyValues('--hivevar', values.hivevar) }
          : { type: 'spark-submit', entryPoint: values['entry-point']!, arguments: values.arg ?? [] };
        const entryName = driver.entryPoint.split('/').pop()!.replace(/\.[^.]+$/, '').replace(/[^\w.-]/g, '-');
        request = buildStartJobRunRequest(runtime, { ...run(`${tenant.name}-${entryName}`), driver });
      }
      if (dryRun) {
        io.out(JSON.stringify(request, null, 2));
        return EXIT_OK;
      }
      const sdk = await import('@aws-sdk/client-emr-containers');
      const client = new sdk.EMRContainersClient({ region: environment.region });
      const response = await client.send(new sdk.StartJobRunCommand(request));
      io.out(`submitted job run ${response.id} (${response.name}) to virtual cluster ${response.virtualClusterId}`);
      for (const line of logLocations(runtime, response.id!)) io.out(line);
      io.out(`follow it: npm run job -- status --tenant ${tenant.name} --id ${response.id}`);
      return EXIT_OK;
    }

    if (!values.id) throw new UsageError(`${command}: expected --id <job-run-id>`);
    const sdk = await import('@aws-sdk/client-emr-containers');
    const client = new sdk.EMRContainersClient({ region: environment.region });
    if (command === 'status') {
      const { jobRun } = await client.send(new sdk.DescribeJobRunCommand({ id: values.id, virtualClusterId }));
      io.out(`${jobRun?.id} ${jobRun?.name}: ${jobRun?.state}${jobRun?.stateDetails ? ` (${jobRun.stateDetails})` : ''}${jobRun?.failureReason ? `, failure: ${jobRun.failureReason}` : ''}`);
      for (const line of logLocations(runtime, values.id)) io.out(line);
      return jobRun?.state === 'FAILED' ? EXIT_FAILED : EXIT_OK;
    }
    await client.send(new sdk.CancelJobRunCommand({ id: values.id, virtualClusterId }));
    io.out(`cancel requested for job run ${values.id}`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError || error instanceof JobRequestError || error instanceof JobTemplateParameterError || error instanceof ConfigError) {
      io.err(`job: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof TypeError && /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(String((error as NodeJS.ErrnoException).code ?? error.message))) {
      io.err(`job: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    io.err(`job: ${(error as Error).message}`);
    return EXIT_FAILED;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await main(process.argv.slice(2));
}
