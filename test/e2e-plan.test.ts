/**
 * The pure logic of `npm run e2e` (scripts/e2e/plan.ts): what is deployed to the emulator and what
 * is left out (with reasons), the reads checked, the orders, the re-plan verdict and the summary
 * line. The run itself (`npm run e2e`) needs moto and minutes; it is not part of `npm test`.
 */
import assert from 'node:assert/strict';
import { describe, expect, it } from '@jest/globals';
import { EmulatorUnavailableError, findMotoPython, MOTO_INSTALL_HINT } from '../scripts/e2e/emulator.js';
import { jobRunRules, jobRunSampleEvents } from '../scripts/e2e/event-patterns.js';
import { KNOWN_DIFFS, MISSING_APIS } from '../scripts/e2e/gaps.js';
import {
  dependencyOrder,
  destroyWaves,
  prepareStack,
  remoteStateReads,
  replanChanges,
  stackMode,
  summaryLine,
  withoutMissingApis,
} from '../scripts/e2e/plan.js';
import { synthStack } from './support/synth.js';

const cluster = synthStack('cluster');
const tenant = synthStack('tenant-risk-models');
const capacity = synthStack('capacity');

describe('e2e: the deployed copy', () => {
  it('deploys AWS-only stacks whole, the AWS part of mixed stacks, and nothing of in-cluster stacks', () => {
    expect(stackMode({ name: 'cluster', awsOnly: true }, cluster)).toBe('aws');
    expect(stackMode({ name: 'tenant-risk-models', awsOnly: false }, tenant)).toBe('aws-part');
    expect(stackMode({ name: 'capacity', awsOnly: false }, capacity)).toBe('in-cluster');
    const prepared = prepareStack({ name: 'capacity', awsOnly: false }, capacity);
    assert.equal(prepared.config, undefined);
    assert.equal(prepared.inClusterResources, Object.values(capacity.resource ?? {}).flatMap((r) => Object.keys(r)).length);
  });

  it('leaves out every resource whose API the emulator lacks, by name and with its reason, and nothing else', () => {
    const prepared = prepareStack({ name: 'cluster', awsOnly: true }, cluster);
    const types = [...new Set(prepared.dropped.map((d) => d.type))].sort();
    expect(types).toEqual(['aws_ec2_tag', 'aws_eks_access_entry', 'aws_eks_access_policy_association', 'aws_eks_addon', 'aws_vpc_security_group_ingress_rule']);
    // The control plane's webhook rule (YuniKorn, 9089) is on the cluster security group the emulator lacks.
    const webhookRules = prepared.dropped.filter((d) => d.type === 'aws_vpc_security_group_ingress_rule');
    assert.equal(webhookRules.length, 1);
    assert.match(webhookRules[0]!.address, /^aws_vpc_security_group_ingress_rule\.yunikorn-admission-webhook_rule_/);
    assert.equal(prepared.dropped.filter((d) => d.type === 'aws_eks_addon').length, 6);
    for (const d of prepared.dropped) assert.ok(d.reason.length > 10 && d.address.startsWith(`${d.type}.`), d.address);
    const kept = prepared.config!.resource!;
    assert.ok(kept.aws_eks_cluster && kept.aws_eks_node_group && kept.aws_iam_openid_connect_provider);
    // The node group waited for the add-ons: that ordering goes, the node group stays.
    const nodeGroup = Object.values(kept.aws_eks_node_group!)[0]!;
    assert.ok(!JSON.stringify(nodeGroup.depends_on ?? []).includes('aws_eks_addon'));
    assert.equal(prepared.droppedOutputs.length, 0, 'every output of cluster is still published');
  });

  it('cascades to what references a left-out resource, and drops outputs that would dangle', () => {
    const json = {
      resource: {
        aws_eks_access_entry: { entry: { principal_arn: 'arn:aws:iam::1:role/x' } },
        aws_eks_access_policy_association: { policy: { principal_arn: '${aws_eks_access_entry.entry.principal_arn}' } },
        aws_iam_role: { role: { name: 'r', depends_on: ['aws_eks_access_entry.entry'] }, role2: { name: 'aws_eks_access_entry.entry-like text is not a reference to entry2' } },
      },
      output: { principal: { value: '${aws_eks_access_policy_association.policy.id}' }, role: { value: '${aws_iam_role.role.arn}' } },
    };
    const { config, dropped, droppedOutputs } = withoutMissingApis(json as never, [{ type: 'aws_eks_access_entry', reason: 'no API' }]);
    expect(dropped.map((d) => d.address)).toEqual(['aws_eks_access_entry.entry', 'aws_eks_access_policy_association.policy']);
    assert.match(dropped[1]!.reason, /references aws_eks_access_entry\.entry/);
    expect(Object.keys(config.resource!)).toEqual(['aws_iam_role']);
    assert.equal(config.resource!.aws_iam_role!.role!.depends_on, undefined);
    expect(droppedOutputs.map((d) => d.address)).toEqual(['output.principal']);
    expect(Object.keys(config.output!)).toEqual(['role']);
  });

  it('keeps the AWS part of a tenant: Kubernetes objects and their provider go, the AWS resources and remote-state checks stay', () => {
    const prepared = prepareStack({ name: 'tenant-risk-models', awsOnly: false }, tenant);
    const config = prepared.config!;
    assert.ok(prepared.inClusterResources > 0);
    assert.ok(!JSON.stringify(config).includes('kubernetes_'), 'no kubernetes resource or provider left');
    assert.ok(config.resource!.aws_emrcontainers_virtual_cluster && config.resource!.aws_s3_bucket && config.data!.terraform_remote_state && config.data!.aws_s3_objects);
    expect([...new Set(prepared.dropped.map((d) => d.type))].sort()).toEqual([
      'aws_eks_access_entry',
      'aws_eks_access_policy_association',
      'aws_eks_pod_identity_association',
      'aws_emrcontainers_job_template',
      'aws_iam_policy',
    ]);
    // The submitter policy names the job templates' ARNs: it goes with them, saying why.
    const policy = prepared.dropped.find((d) => d.type === 'aws_iam_policy')!;
    // Outputs naming them go too, from the configuration and from cdktf's output metadata (the CLI
    // fails rendering a mapped output that does not exist).
    expect(prepared.droppedOutputs.map((d) => d.address).sort()).toEqual(['output.jobTemplateIds', 'output.submitterPolicyArn']);
    // The metadata as cdktf writes it into cdk.tf.json (Testing.synth leaves it out).
    const outputs = Object.fromEntries(Object.keys(tenant.output!).map((name) => [`output-${name}`, name]));
    const withMetadata = { ...tenant, '//': { metadata: { stackName: 'tenant-risk-models' }, outputs: { 'tenant-risk-models': outputs } } };
    const mapped = (prepareStack({ name: 'tenant-risk-models', awsOnly: false }, withMetadata).config as { '//': { outputs: Record<string, Record<string, string>> } })['//'].outputs;
    expect(Object.values(mapped['tenant-risk-models']!).sort()).toEqual(Object.keys(config.output!).sort());
    for (const name of ['jobTemplateIds', 'submitterPolicyArn']) {
      assert.ok(!(name in config.output!) && !Object.values(mapped['tenant-risk-models']!).includes(name), name);
      assert.ok(Object.values(outputs).includes(name), `(control) ${name} is mapped in the synthesized stack`);
    }
    assert.match(policy.reason, /^references aws_emrcontainers_job_template\..+, which is left out$/);
  });

  it('keeps the emulator gaps as data: every entry has a reason', () => {
    for (const gap of [...MISSING_APIS, ...KNOWN_DIFFS]) assert.ok(gap.type.startsWith('aws_') && gap.reason.length > 10, gap.type);
  });
});

describe('e2e: checks and orders', () => {
  it('finds every remote-state output a stack reads, with its upstream stack', () => {
    expect(remoteStateReads(tenant as never, 'dev')).toEqual([
      { upstream: 'cluster', outputs: ['clusterArn', 'clusterCertificateAuthority', 'clusterEndpoint', 'clusterName'] },
    ]);
    expect(remoteStateReads(cluster as never, 'dev')).toEqual([
      { upstream: 'account', outputs: ['deployRoleArn', 'deployRoleUniqueId', 'planRoleArn', 'planRoleUniqueId'] },
      { upstream: 'network', outputs: ['nodeSubnetIds', 'podSubnetIds'] },
    ]);
    expect(remoteStateReads(synthStack('network') as never, 'dev')).toEqual([]);
  });

  it('orders deploys by dependencies and destroys in waves, backwards', () => {
    const deps = new Map([
      ['bootstrap', []],
      ['network', ['bootstrap']],
      ['cluster', ['network']],
      ['karpenter-infra', ['cluster']],
      ['tenant-a', ['cluster']],
    ]);
    expect(dependencyOrder(['tenant-a', 'cluster', 'karpenter-infra', 'network', 'bootstrap'], deps)).toEqual(['bootstrap', 'network', 'cluster', 'tenant-a', 'karpenter-infra']);
    expect(destroyWaves(['bootstrap', 'network', 'cluster', 'karpenter-infra', 'tenant-a'], deps)).toEqual([['tenant-a', 'karpenter-infra'], ['cluster'], ['network'], ['bootstrap']]);
    assert.throws(() => dependencyOrder(['a', 'b'], new Map([['a', ['b']], ['b', ['a']]])), /dependency cycle among a, b/);
  });

  it('judges a re-plan: no-ops and reads are clean, any other change fails unless it is a known emulator diff', () => {
    const plan = {
      resource_changes: [
        { address: 'aws_vpc.a', type: 'aws_vpc', change: { actions: ['no-op'], before: {}, after: {} } },
        { address: 'data.aws_s3_objects.b', type: 'aws_s3_objects', change: { actions: ['read'] } },
        {
          address: 'aws_eks_cluster.c',
          type: 'aws_eks_cluster',
          change: { actions: ['delete', 'create'], before: { name: 'x', access_config: [], tags: {} }, after: { name: 'x', access_config: [{ authentication_mode: 'API' }], tags: null }, after_unknown: { arn: true }, replace_paths: [['access_config', 0, 'authentication_mode']] },
        },
        { address: 'aws_iam_role.d', type: 'aws_iam_role', change: { actions: ['create'], before: null, after: { name: 'r' } } },
        { address: 'aws_iam_role.e', type: 'aws_iam_role', change: { actions: ['update'], before: { policy: 'a' }, after: {}, after_unknown: { policy: true } } },
        { address: 'aws_iam_openid_connect_provider.f', type: 'aws_iam_openid_connect_provider', change: { actions: ['create', 'delete'], before: { url: 'x' }, after: {}, after_unknown: { url: true, arn: true }, replace_paths: [['url']] } },
      ],
      output_changes: { same: { actions: ['no-op'] }, arn: { actions: ['update'], after_unknown: true }, renamed: { actions: ['update'], before: 'a', after: 'b', after_unknown: false } },
    };
    const strict = replanChanges(plan, []);
    expect(strict.map((c) => c.address)).toEqual(['aws_eks_cluster.c', 'aws_iam_role.d', 'aws_iam_role.e', 'aws_iam_openid_connect_provider.f', 'output.arn', 'output.renamed']);
    expect(strict[0]!.attributes).toEqual(['access_config']); // a replacement is judged by what forces it
    assert.ok(strict.every((c) => c.tolerated === undefined), 'with no known diff, values that only become unknown fail too');
    const known = replanChanges(plan, [{ type: 'aws_eks_cluster', attributes: ['access_config'], reason: 'emulator' }]);
    expect(known.filter((c) => !c.tolerated).map((c) => c.address)).toEqual(['aws_iam_role.d', 'output.renamed']);
    assert.match(known.find((c) => c.address === 'output.arn')!.tolerated!, /aws_eks_cluster\.c/);
    const otherAttribute = replanChanges(plan, [{ type: 'aws_eks_cluster', attributes: ['version'], reason: 'emulator' }]);
    assert.equal(otherAttribute[0]!.tolerated, undefined, 'a known diff covers only its attributes');
  });

  it('prints one summary line with the counts and what the emulator lacks', () => {
    const deployed = [prepareStack({ name: 'cluster', awsOnly: true }, cluster), prepareStack({ name: 'tenant-risk-models', awsOnly: false }, tenant)];
    const line = summaryLine({ deployed, resources: 120, inCluster: [prepareStack({ name: 'capacity', awsOnly: false }, capacity)], tolerated: [], kept: ['bootstrap'], seconds: 431 });
    assert.equal(line.split('\n').length, 1);
    const match = /^e2e: 2 stacks deployed \(120 resources\), (\d+) skipped \(emulator lacks: (.+)\), remote-state reads only for 1 in-cluster stacks and (\d+) in-cluster resources of 1 mixed stacks, re-plan clean, destroyed \(kept by prevent_destroy, per runbook: bootstrap\), 7m11s$/.exec(line);
    assert.ok(match, line);
    assert.equal(Number(match[1]), deployed[0]!.dropped.length + deployed[1]!.dropped.length);
    assert.equal(match[2], 'aws_ec2_tag, 4 aws_eks_access_entry, 4 aws_eks_access_policy_association, 6 aws_eks_addon, aws_vpc_security_group_ingress_rule, 3 aws_eks_pod_identity_association, aws_emrcontainers_job_template, aws_iam_policy');
    assert.equal(Number(match[3]), deployed[1]!.inClusterResources);
    const tolerated = replanChanges(
      { resource_changes: [{ address: 'aws_eks_cluster.c', type: 'aws_eks_cluster', change: { actions: ['update'], before: { access_config: [] }, after: { access_config: [{}] } } }], output_changes: { arn: { actions: ['update'], after_unknown: true } } },
      [{ type: 'aws_eks_cluster', attributes: ['access_config'], reason: 'r' }],
    ).map((c) => ({ ...c, address: `cluster/${c.address}` }));
    const diffs = summaryLine({ deployed, resources: 1, inCluster: [], tolerated, kept: [], seconds: 59 });
    assert.match(diffs, /re-plan clean but 1 known emulator diffs \(cluster\/aws_eks_cluster\) and 1 changes following them, destroyed, 0m59s$/);
  });
});

describe('e2e: job-run notification rules, exercised on the emulator bus', () => {
  it('are found by their pattern (EMR on EKS job-run state changes), in tenants that ask for notifications only', () => {
    const rules = jobRunRules('tenant-risk-models', tenant);
    expect(rules.map((r) => r.name)).toEqual(['spark-dev-risk-models-job-runs']);
    assert.match(rules[0]!.address, /^tenant-risk-models\/aws_cloudwatch_event_rule\./);
    expect(jobRunRules('tenant-analytics', synthStack('tenant-analytics'))).toEqual([]);
    expect(jobRunRules('x', { resource: { aws_cloudwatch_event_rule: { r: { name: 'other', event_pattern: '{"source":["aws.ec2"]}' } } } })).toEqual([]);
  });

  it('are checked against every state: those named must match, the others, another virtual cluster and another source must not', () => {
    const pattern = { source: ['aws.emr-containers'], 'detail-type': ['EMR Job Run State Change'], detail: { virtualClusterId: ['vc0risk0000000000000000001'], state: ['FAILED', 'CANCELLED'] } };
    const samples = jobRunSampleEvents(pattern, { accountId: '111122223333', region: 'us-west-2' });
    expect(samples.filter((s) => s.shouldMatch).map((s) => s.label)).toEqual(['FAILED of its virtual cluster', 'CANCELLED of its virtual cluster']);
    expect(samples.filter((s) => !s.shouldMatch).map((s) => s.label)).toEqual([
      'PENDING of its virtual cluster',
      'SUBMITTED of its virtual cluster',
      'RUNNING of its virtual cluster',
      'CANCEL_PENDING of its virtual cluster',
      'COMPLETED of its virtual cluster',
      'FAILED of another virtual cluster',
      'FAILED from source aws.emr',
    ]);
    const other = samples.find((s) => s.label === 'FAILED of another virtual cluster')!.event as { detail: { virtualClusterId: string } };
    assert.notEqual(other.detail.virtualClusterId, 'vc0risk0000000000000000001');
    for (const { event } of samples) expect(Object.keys(event).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    // Each its own job-run id: a routed event tells which sample it was.
    assert.equal(new Set(samples.map((s) => (s.event.detail as { id: string }).id)).size, samples.length);
    assert.throws(() => jobRunSampleEvents({ source: ['aws.emr-containers'] }, { accountId: '1', region: 'r' }), /not a job-run pattern/);
  });
});

describe('e2e: the emulator', () => {
  it('fails with the install hint when moto is not installed', () => {
    assert.throws(
      () => findMotoPython({ PATH: '/nonexistent', MOTO_PYTHON: '/nonexistent/python3' }),
      (e: unknown) => e instanceof EmulatorUnavailableError && e.message.includes(MOTO_INSTALL_HINT) && MOTO_INSTALL_HINT === 'pip install "moto[server]"',
    );
  });
});
