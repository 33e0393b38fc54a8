import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CUR_COLUMNS, curUserTagKey, exportQueryStatement, JOB_COST_COLUMNS, tenantCostByJobSql } from '../modules/cost/cur.js';
import { costReportsBucketName, dataExportName } from '../modules/cost/names.js';
import { TENANT_TAG_KEY, UNTAGGABLE_AWS_RESOURCE_TYPES } from '../modules/guardrails/tags.js';
import { explainQueryFailure, main as costCli, period, renderCostTable, type CostQuery } from '../scripts/cost.js';
import { COST_ALLOCATION_TAG_KEYS } from '../stacks/cost/stack.js';
import { STACK_LAYERS, stackLayer } from '../stacks/lib/platform-stack.js';
import { stackDefinitions } from '../stacks/registry.js';
import { hasTagsArgument } from './support/guardrails.js';
import { testTerraform } from './support/terraform.js';
import { compiledScript, FIXTURE_REPO, resourcesOf, SOURCE_ROOT, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };

const prod = testEnvironment({}, 'prod');
const cost = synthStack('cost', prod);
const only = (tf: TerraformJson, type: string): Record<string, unknown> => {
  const all = Object.values(resourcesOf(tf, type));
  assert.equal(all.length, 1, `one ${type}`);
  return all[0]!;
};

/** Every AWS resource of a stack that takes tags, with the tags it ends up with (its own over its provider's default tags). */
function effectiveTags(tf: TerraformJson): { address: string; tags: Record<string, unknown> }[] {
  const providers = tf.provider?.aws ?? [];
  const defaults = (alias?: string) => {
    const provider = providers.find((p) => (alias ? p.alias === alias : p.alias === undefined));
    return ((provider?.default_tags as { tags?: Record<string, unknown> }[] | undefined)?.[0]?.tags ?? {}) as Record<string, unknown>;
  };
  return Object.entries(tf.resource ?? {})
    .filter(([type]) => type.startsWith('aws_') && hasTagsArgument(type) !== false)
    .flatMap(([type, resources]) =>
      Object.entries(resources).map(([name, body]) => {
        const alias = typeof body.provider === 'string' ? body.provider.replace(/^aws\./, '') : undefined;
        return { address: `${type}.${name}`, tags: { ...defaults(alias), ...((body.tags as Record<string, unknown>) ?? {}) } };
      }),
    );
}

describe('platform:tenant and platform:layer tags', () => {
  it('tags every AWS resource of every tenant stack with its tenant, for a tenant added as a folder too', () => {
    const root = temporaryRoot({
      keepFixtureTenants: true,
      tenants: { newcomer: { name: 'newcomer', owners: ['arn:aws:iam::111122223333:role/newcomer'], quota: { cpu: '8', memory: '32Gi' } } },
    });
    const environment = testEnvironment();
    const tenants = stackDefinitions(root, environment).filter((d) => d.name.startsWith('tenant-')).map((d) => d.name);
    expect(tenants).toEqual(['tenant-analytics', 'tenant-newcomer', 'tenant-risk-models']);
    for (const name of tenants) {
      const tf = synthStack(name, environment, root);
      const resources = effectiveTags(tf);
      assert.ok(resources.length >= 8, `${name}: ${resources.length} taggable resources`);
      for (const { address, tags } of resources) {
        assert.equal(tags[TENANT_TAG_KEY], name.slice('tenant-'.length), `${name} ${address}`);
        assert.equal(tags['platform:layer'], 'tenant', `${name} ${address}`);
      }
      // Untaggable types are settings of a tagged resource (bucket policy, role policy, ...).
      for (const type of Object.keys(tf.resource ?? {}).filter((t) => t.startsWith('aws_') && hasTagsArgument(t) === false)) assert.ok(UNTAGGABLE_AWS_RESOURCE_TYPES.has(type), type);
    }
  });

  it('tags every platform resource with its layer, the layer of its Nx project', () => {
    for (const definition of stackDefinitions(FIXTURE_REPO, prod).filter((d) => !d.name.startsWith('tenant-'))) {
      const project = JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', definition.name, 'project.json'), 'utf8')) as { tags: string[] };
      assert.ok(project.tags.includes(`layer:${STACK_LAYERS[definition.name]}`), `${definition.name}: STACK_LAYERS says ${STACK_LAYERS[definition.name]}, project.json ${project.tags.join(', ')}`);
    }
    for (const { address, tags } of effectiveTags(synthStack('cluster'))) assert.equal(tags['platform:layer'], 'cluster', address);
    for (const { address, tags } of effectiveTags(cost)) assert.equal(tags['platform:layer'], 'cost', address);
    assert.equal(stackLayer('tenant-x'), 'tenant');
  });

  it('leaves room for the platform tags within the 10 tags of an S3 object: at most 4 environment tags', () => {
    const tenant = synthStack('tenant-risk-models', prod);
    const objects = Object.values(resourcesOf(tenant, 'aws_s3_object'));
    const defaults = (tenant.provider!.aws![0]!.default_tags as { tags: Record<string, string> }[])[0]!.tags;
    assert.ok(objects.length > 0 && Object.keys(defaults).length <= 10, `${Object.keys(defaults).length} default tags`);
    assert.throws(() => testEnvironment({ tags: { a: '1', b: '2', c: '3', d: '4', e: '5' } }), /tags: expected at most 4 tags/);
  });

  it('activates the platform tags and the EMR job labels as cost allocation tags only when the environment says so, through us-east-1', () => {
    const tags = Object.values(resourcesOf(cost, 'aws_ce_cost_allocation_tag'));
    expect(tags.map((t) => t.tag_key).sort()).toEqual([...COST_ALLOCATION_TAG_KEYS].sort());
    for (const tag of tags) {
      assert.equal(tag.status, 'Active');
      assert.equal(tag.provider, 'aws.us_east_1');
    }
    for (const key of [TENANT_TAG_KEY, 'platform:layer', 'emr-containers.amazonaws.com/job.id']) assert.ok(COST_ALLOCATION_TAG_KEYS.includes(key), key);
    assert.deepEqual(resourcesOf(synthStack('cost'), 'aws_ce_cost_allocation_tag'), {});
  });
});

describe('cost stack (CUR 2.0 export, Athena)', () => {
  const bucketName = costReportsBucketName({ clusterName: 'spark-prod', accountId: '444455556666', region: 'us-west-2' });

  it('is AWS only, depends on the state bucket alone, and holds nothing while the flags are off', () => {
    const definition = stackDefinitions(FIXTURE_REPO, prod).find((d) => d.name === 'cost')!;
    assert.equal(definition.awsOnly, true);
    const project = JSON.parse(readFileSync(join(SOURCE_ROOT, 'stacks', 'cost', 'project.json'), 'utf8')) as { implicitDependencies: string[] };
    assert.deepEqual(project.implicitDependencies, ['workspace', 'bootstrap']);
    assert.deepEqual(Object.keys(cost.terraform.required_providers), ['aws']);
    assert.equal(cost.data?.terraform_remote_state, undefined, 'reads no other state');
    const dev = synthStack('cost');
    assert.equal(dev.resource, undefined);
    assert.equal(dev.output!.database!.value, '');
  });

  it('exports CUR 2.0 with split cost allocation data and resource ids, daily, as Parquet, from us-east-1 into the regional bucket', () => {
    const exported = only(cost, 'aws_bcmdataexports_export') as { provider: string; depends_on: string[]; export: Record<string, any>[] };
    assert.equal(exported.provider, 'aws.us_east_1');
    const east = cost.provider!.aws!.find((p) => p.alias === 'us_east_1')!;
    assert.equal(east.region, 'us-east-1');
    assert.deepEqual(east.allowed_account_ids, ['444455556666']);
    const spec = exported.export[0]!;
    assert.equal(spec.name, dataExportName('spark-prod'));
    assert.equal(spec.data_query[0].query_statement, exportQueryStatement());
    assert.deepEqual(spec.data_query[0].table_configurations, {
      COST_AND_USAGE_REPORT: { TIME_GRANULARITY: 'DAILY', INCLUDE_RESOURCES: 'TRUE', INCLUDE_SPLIT_COST_ALLOCATION_DATA: 'TRUE', INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY: 'FALSE' },
    });
    assert.deepEqual(spec.destination_configurations[0].s3_destination[0].s3_output_configurations, [{ format: 'PARQUET', compression: 'PARQUET', output_type: 'CUSTOM', overwrite: 'OVERWRITE_REPORT' }]);
    assert.equal(spec.destination_configurations[0].s3_destination[0].s3_region, 'us-west-2');
    assert.deepEqual(spec.refresh_cadence, [{ frequency: 'SYNCHRONOUS' }]);
    assert.ok(exported.depends_on.some((d) => d.startsWith('aws_s3_bucket_policy.')));
    for (const column of ['line_item_resource_id', 'line_item_operation', 'split_line_item_split_cost', 'split_line_item_unused_cost', 'resource_tags', 'line_item_unblended_cost']) {
      assert.ok(exportQueryStatement().includes(column), column);
    }
  });

  it('lets only Data Exports of this account write into the bucket, which stays private, TLS-only and kept on destroy', () => {
    const bucket = only(cost, 'aws_s3_bucket');
    assert.equal(bucket.bucket, bucketName);
    assert.deepEqual(bucket.lifecycle, { prevent_destroy: true });
    const policy = JSON.parse(only(cost, 'aws_s3_bucket_policy').policy as string) as { Statement: Statement[] };
    assert.equal(policy.Statement[0]!.Sid, 'DenyInsecureTransport');
    assert.deepEqual(policy.Statement[1], {
      Sid: 'EnableAWSDataExportsToWriteToS3AndCheckPolicy',
      Effect: 'Allow',
      Principal: { Service: ['billingreports.amazonaws.com', 'bcm-data-exports.amazonaws.com'] },
      Action: ['s3:PutObject', 's3:GetBucketPolicy'],
      Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`],
      Condition: {
        StringLike: {
          'aws:SourceAccount': '444455556666',
          'aws:SourceArn': ['arn:aws:cur:us-east-1:444455556666:definition/*', 'arn:aws:bcm-data-exports:us-east-1:444455556666:export/*'],
        },
      },
    });
    const block = only(cost, 'aws_s3_bucket_public_access_block');
    for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.equal(block[flag], true, flag);
    assert.deepEqual(only(cost, 'aws_s3_bucket_ownership_controls').rule, { object_ownership: 'BucketOwnerEnforced' });
  });

  it('describes the export to Glue (Parquet, partition projection by billing period) and defines the job cost view the way Athena stores views', () => {
    const tables = Object.values(resourcesOf(cost, 'aws_glue_catalog_table'));
    const cur = tables.find((t) => t.name === 'cur2') as Record<string, any>;
    const location = `s3://${bucketName}/cur2/${dataExportName('spark-prod')}/data/`;
    assert.equal(cur.storage_descriptor.location, location);
    assert.equal(cur.parameters['projection.enabled'], 'true');
    assert.equal(cur.parameters['projection.billing_period.format'], 'yyyy-MM');
    // $$ is Terraform's escape of $: Athena receives ${billing_period}.
    assert.equal(cur.parameters['storage.location.template'], `${location}BILLING_PERIOD=$\${billing_period}/`);
    assert.deepEqual(cur.partition_keys, [{ name: 'billing_period', type: 'string', comment: 'YYYY-MM (the export folder BILLING_PERIOD=YYYY-MM)' }]);
    assert.deepEqual(cur.storage_descriptor.columns, CUR_COLUMNS.map((c) => ({ name: c.name, type: c.type })));
    assert.equal(cur.storage_descriptor.ser_de_info.serialization_library, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');

    const view = tables.find((t) => t.name === 'job_cost') as Record<string, any>;
    assert.equal(view.table_type, 'VIRTUAL_VIEW');
    assert.deepEqual(view.parameters, { presto_view: 'true', comment: 'Presto View' });
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.view_original_text)![1]!;
    const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { originalSql: string; catalog: string; schema: string; columns: { name: string; type: string }[] };
    assert.equal(definition.catalog, 'awsdatacatalog');
    assert.equal(definition.schema, 'spark_prod_cost');
    assert.deepEqual(definition.columns, JOB_COST_COLUMNS.map((c) => ({ name: c.name, type: c.trinoType })));
    assert.deepEqual(view.storage_descriptor.columns, JOB_COST_COLUMNS.map((c) => ({ name: c.name, type: c.glueType })));
    // Every output column is cast to the declared type (a mismatch makes Athena call the view stale).
    for (const column of JOB_COST_COLUMNS) assert.ok(definition.originalSql.includes(`CAST(${column.name} AS ${column.trinoType}) AS ${column.name}`), column.name);
  });

  it('attributes compute by namespace from the pod ARN, jobs by their label, and the EMR uplift by the job run ARN', () => {
    const sql = (JSON.parse(Buffer.from(/Presto View: (\S+)/.exec(String(Object.values(resourcesOf(cost, 'aws_glue_catalog_table')).find((t) => t.name === 'job_cost')!.view_original_text))![1]!, 'base64').toString()) as { originalSql: string }).originalSql;
    assert.ok(sql.includes("line_item_operation = 'EKSPod-EC2'"));
    assert.ok(sql.includes("split_part(line_item_resource_id, '/', 2) = 'spark-prod'"), 'pods of this cluster only');
    assert.ok(sql.includes("split_part(line_item_resource_id, '/', 3) AS tenant"), 'namespace from arn:aws:eks:...:pod/<cluster>/<namespace>/...');
    assert.ok(sql.includes(`element_at(resource_tags, '${curUserTagKey('emr-containers.amazonaws.com/job.id')}')`));
    assert.equal(curUserTagKey('emr-containers.amazonaws.com/job.id'), 'user_emr_containers_amazonaws_com_job_id');
    assert.equal(curUserTagKey(TENANT_TAG_KEY), 'user_platform_tenant');
    assert.ok(sql.includes("WHERE u.line_item_resource_id LIKE 'arn:%:emr-containers:%:/virtualclusters/%/jobruns/%'"));
    assert.ok(sql.includes("AND coalesce(line_item_resource_id, '') NOT LIKE 'arn:%:emr-containers:%:/virtualclusters/%/jobruns/%'"), 'a tagged job run is not counted twice');
    assert.ok(sql.includes("JOIN job_tenant j ON j.job_id = split_part(u.line_item_resource_id, '/', 5)"), 'uplift matched on the job run id of its ARN');
    assert.ok(!/resource_tags\[/.test(sql), 'map lookups use element_at (a missing key is NULL, not an error)');
  });

  it('runs queries in a workgroup that keeps encrypted results in the bucket, with named queries and a reader policy scoped to them', () => {
    const workgroup = only(cost, 'aws_athena_workgroup') as Record<string, any>;
    assert.equal(workgroup.name, 'spark-prod-cost');
    assert.equal(workgroup.configuration.enforce_workgroup_configuration, true);
    assert.deepEqual(workgroup.configuration.result_configuration, { output_location: `s3://${bucketName}/athena-results/`, encryption_configuration: { encryption_option: 'SSE_S3' } });
    const named = Object.values(resourcesOf(cost, 'aws_athena_named_query'));
    assert.equal(named.length, 3);
    assert.ok(named.some((q) => String(q.query).startsWith('CREATE OR REPLACE VIEW "spark_prod_cost"."job_cost" AS')));
    const reader = JSON.parse(only(cost, 'aws_iam_policy').policy as string) as { Statement: Statement[] };
    assert.deepEqual(reader.Statement.map((s) => s.Resource), [
      ['arn:aws:athena:us-west-2:444455556666:workgroup/spark-prod-cost'],
      ['arn:aws:glue:us-west-2:444455556666:catalog', 'arn:aws:glue:us-west-2:444455556666:database/spark_prod_cost', 'arn:aws:glue:us-west-2:444455556666:table/spark_prod_cost/*'],
      [`arn:aws:s3:::${bucketName}`],
      [`arn:aws:s3:::${bucketName}/cur2/*`],
      [`arn:aws:s3:::${bucketName}/athena-results/*`],
    ]);
    assert.match(String(cost.output!.workgroup!.value), /^\$\{aws_athena_workgroup\.analytics_workgroup_[0-9A-F]{8}\.name\}$/);
  });
});

const { terraformTest, need: needTerraform } = testTerraform();

describe('cost stack against the provider schema', () => {
  terraformTest(
    'passes terraform validate offline (export, bucket policy, Glue, Athena, cost allocation tags)',
    () => {
      const terraform = needTerraform();
      const dir = mkdtempSync(join(tmpdir(), 'cost-validate-'));
      writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify({ ...cost, terraform: { ...cost.terraform, backend: undefined } }));
      terraform.run(['init', '-backend=false', '-input=false', '-no-color'], dir);
      const result = terraform.run(['validate', '-no-color'], dir);
      assert.match(result.stdout, /The configuration is valid/);
    },
    120_000,
  );
});

describe('npm run cost', () => {
  const root = temporaryRoot();
  const prodRoot = () => root;
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  };

  it('--dry-run prints the SQL of a tenant for a period (the compiled command, no AWS access)', () => {
    const result = spawnSync(process.execPath, [compiledScript('cost.js'), '--tenant', 'analytics', '--env', 'prod', '--month', '2026-02', '--dry-run', '--root', prodRoot()], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const expected = tenantCostByJobSql({ database: 'spark_prod_cost', view: 'job_cost', tenant: 'analytics', from: '2026-02-01', to: '2026-02-28' });
    assert.equal(result.stdout, `-- Athena workgroup spark-prod-cost, database spark_prod_cost, region us-west-2: cost of tenant analytics from 2026-02-01 to 2026-02-28\n${expected};\n`);
    assert.ok(expected.includes("WHERE tenant = 'analytics'"));
    assert.ok(expected.includes("billing_period BETWEEN '2026-02' AND '2026-02'"), 'reads only the partitions of the period');
    assert.equal(result.stderr, '');
  });

  it('says clearly when the export is not enabled, and exits 2 without calling AWS', async () => {
    const { io, err } = capture();
    let called = false;
    const code = await costCli(['--tenant', 'analytics', '--root', prodRoot()], io, async () => {
      called = true;
      return { columns: [], rows: [] };
    });
    assert.equal(code, 2);
    assert.equal(called, false);
    assert.match(err.join('\n'), /the CUR 2\.0 export is not enabled for environment dev: set cost\.dataExport: true in environments\/dev\.yaml, deploy the cost stack/);
    const dry = capture();
    assert.equal(await costCli(['--tenant', 'analytics', '--root', prodRoot(), '--dry-run'], dry.io), 0);
    assert.match(dry.err.join('\n'), /^note: the CUR 2\.0 export is not enabled/);
  });

  it('rejects bad flags naming the flag, what was expected and what was found', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--tenant: expected a tenant name/],
      [['--tenant', 'Analytics'], /--tenant: expected a tenant name \(a DNS label such as analytics\), found "Analytics"/],
      [['--tenant', 'analytics', '--from', '2026-02-30'], /--from: expected a date YYYY-MM-DD, found "2026-02-30"/],
      [['--tenant', 'analytics', '--from', '2026-03-02', '--to', '2026-03-01'], /--from: expected a day on or before --to \(2026-03-01\), found 2026-03-02/],
      [['--tenant', 'analytics', '--month', '2026-13'], /--month: expected YYYY-MM, found "2026-13"/],
      [['--tenant', 'analytics', '--month', '2026-01', '--from', '2026-01-02'], /--month: expected either --month or --from\/--to, found both/],
      [['--tenant', 'analytics', '--frm', 'x'], /Unknown option '--frm'/],
    ];
    for (const [args, message] of cases) {
      const { io, err } = capture();
      assert.equal(await costCli([...args, '--env', 'prod', '--root', prodRoot(), '--dry-run'], io), 2, args.join(' '));
      assert.match(err.join('\n'), message, args.join(' '));
    }
    assert.deepEqual(period({}, '2026-11-20'), { from: '2026-11-01', to: '2026-11-20' });
    assert.deepEqual(period({ month: '2024-02' }), { from: '2024-02-01', to: '2024-02-29' });
  });

  it('runs the query in the cost workgroup and prints one line per job with a total', async () => {
    const { io, out } = capture();
    const queries: CostQuery[] = [];
    const columns = ['job_id', 'virtual_cluster_id', 'first_day', 'last_day', 'compute_usd', 'emr_uplift_usd', 'other_usd', 'idle_share_usd', 'total_usd'];
    const code = await costCli(['--tenant', 'analytics', '--env', 'prod', '--from', '2026-11-01', '--to', '2026-11-03', '--root', prodRoot()], io, async (query) => {
      queries.push(query);
      return { columns, rows: [['0000000abc', 'vc1', '2026-11-01', '2026-11-02', '10.5', '2.25', '0', '1', '12.75'], ['', '', '2026-11-01', '2026-11-03', '0.5', '0', '3', '0', '3.5']] };
    });
    assert.equal(code, 0);
    assert.deepEqual({ ...queries[0]!, sql: undefined }, { sql: undefined, database: 'spark_prod_cost', workgroup: 'spark-prod-cost', region: 'us-west-2' });
    assert.equal(out[0], 'Cost of tenant analytics, 2026-11-01 to 2026-11-03 (prod, CUR 2.0 export, USD):');
    assert.match(out[3]!, /^0000000abc\s+vc1\s+2026-11-01\.\.2026-11-02\s+10\.50\s+2\.25\s+0\.00\s+1\.00\s+12\.75$/);
    assert.match(out[4]!, /^\(no job: other pods and tagged resources\)/);
    assert.match(out[5]!, /^TOTAL\s+11\.00\s+2\.25\s+3\.00\s+1\.00\s+16\.25$/);
    assert.equal(renderCostTable({ columns, rows: [] }).length, 3);
  });

  it('turns Athena failures into what to do', async () => {
    const scope = { database: 'spark_prod_cost', workgroup: 'spark-prod-cost' };
    assert.match(explainQueryFailure('WorkGroup spark-prod-cost is not found.', scope), /deploy the cost stack/);
    assert.match(explainQueryFailure("TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.spark_prod_cost.job_cost' does not exist", scope), /spark_prod_cost\.job_cost\) is missing: deploy the cost stack/);
    assert.match(explainQueryFailure('View is stale or in invalid state', scope), /named query "\(re\)create the job cost view"/);
    assert.match(explainQueryFailure('User is not authorized to perform: athena:StartQueryExecution', scope), /reader policy/);
    const { io, err } = capture();
    const code = await costCli(['--tenant', 'analytics', '--env', 'prod', '--root', prodRoot()], io, async () => {
      throw new Error('credentials expired');
    });
    assert.equal(code, 1);
    assert.match(err[0]!, /^cost: credentials expired/);
  });
});

describe('CUR SQL helpers', () => {
  it('quotes values and refuses identifiers and dates it cannot trust', () => {
    assert.throws(() => tenantCostByJobSql({ database: 'db', view: 'v', tenant: 'a', from: '2026-1-1', to: '2026-01-02' }), /not a YYYY-MM-DD date/);
    assert.throws(() => tenantCostByJobSql({ database: 'db"; DROP', view: 'v', tenant: 'a', from: '2026-01-01', to: '2026-01-02' }), /not a plain Athena identifier/);
    assert.ok(tenantCostByJobSql({ database: 'db', view: 'v', tenant: "o'hara", from: '2026-01-01', to: '2026-01-02' }).includes("tenant = 'o''hara'"));
  });
});
