/**
 * `npm run e2e`: deploys the platform's AWS side to an AWS API emulator through the user's own path
 * (`npm run bootstrap`, `npx cdktf deploy`, `npx cdktf destroy`, `npm run tenant-data`), checks it,
 * and tears it down. Nothing reaches AWS: the environment points Terraform and the cdktf CLI at the
 * emulator (AWS_ENDPOINT_URL, fake credentials, the run's CA, the offline provider mirror).
 *
 *   npm run e2e [-- --env <name>] [--keep]
 *
 * 1. starts moto's server on a free loopback port over HTTPS (fails with the install hint when moto
 *    is missing);
 * 2. `cdktf synth` into a temporary output directory, then prepares the deployed copy there: every
 *    stack the registry marks AWS-only, and the AWS part of mixed stacks, without the resources whose
 *    API the emulator lacks (scripts/e2e/gaps.ts; each listed by name); in-cluster stacks are only
 *    read (helm and kubernetes providers are not installable offline, and no API server runs here);
 * 3. `npm run bootstrap` (first apply with local state, then the state moved into its bucket);
 * 4. a plan of a stack whose upstream is not deployed must fail naming the upstream and its outputs;
 * 5. `cdktf deploy '*'`: every deployed stack, in the dependency order of the manifest;
 * 6. every state object is SSE-KMS with the bootstrap key; every remote-state output any stack
 *    reads (in-cluster stacks included) exists in the deployed upstream state;
 * 7. every deployed stack is planned again: no changes (known emulator differences listed);
 * 8. destroy in reverse dependency order: a destroy refused by prevent_destroy is handled as the
 *    README runbook says (tenant data released, then the stack destroyed; bootstrap kept); stacks
 *    holding names AWS reserves after deletion are deployed again and destroyed again; a retained
 *    tenant is re-added (its data adopted) without collisions; a plan whose upstream was destroyed
 *    must fail naming it;
 * 9. stops the emulator by its PID and prints one summary line last.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateEventBusCommand, DeleteEventBusCommand, DeleteRuleCommand, DescribeRuleCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jobRunEventPattern } from '../../modules/emr-on-eks/job-notifications.js';
import { BOOTSTRAP_STACK } from '../../stacks/bootstrap/stack.js';
import { ConfigError } from '../../stacks/lib/config-file.js';
import { loadEnvironment, selectedEnvironmentName } from '../../stacks/lib/environment.js';
import { stateKey } from '../../stacks/lib/platform-stack.js';
import { repositoryRoot } from '../lib/paths.js';
import { retainedResources } from '../lib/tenant-data.js';
import { findProviderMirror, findTerraform, TerraformUnavailableError } from '../lib/terraform.js';
import { jobRunRules, jobRunSampleEvents } from './event-patterns.js';
import { EmulatorUnavailableError, findMotoPython, startEmulator, type Emulator } from './emulator.js';
import { NAME_RESERVING_TYPES, OUTPUT_EXPECTATIONS } from './gaps.js';
import { dependencyOrder, destroyWaves, type PlannedChange, type PlatformEntry, prepareStack, type PreparedStack, remoteStateReads, replanChanges, summaryLine } from './plan.js';

class E2eFailure extends Error {}

const root = repositoryRoot();
const started = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string) => console.log(`e2e [${clock()}] ${line}`);

interface Run {
  readonly status: number;
  readonly output: string;
  readonly log: string;
}

type StackJson = Parameters<typeof prepareStack>[1];

async function main(): Promise<number> {
  const args = parseArgs({ options: { env: { type: 'string' }, keep: { type: 'boolean' } }, strict: true }).values;
  const environmentName = args.env ?? selectedEnvironmentName();
  let terraform: string;
  let mirror: string;
  let python: string;
  try {
    terraform = findTerraform();
    mirror = findProviderMirror();
    python = findMotoPython();
  } catch (error) {
    if (error instanceof TerraformUnavailableError || error instanceof EmulatorUnavailableError) {
      console.error(`e2e: ${error.message}`);
      return 2;
    }
    throw error;
  }
  let environment;
  try {
    environment = loadEnvironment(root, environmentName);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`e2e: invalid configuration\n${error.message}`);
      return 1;
    }
    throw error;
  }

  const work = mkdtempSync(join(tmpdir(), 'spark-platform-e2e-'));
  const logs = join(work, 'logs');
  const outdir = join(work, 'cdktf.out');
  mkdirSync(join(work, 'emulator'), { recursive: true });
  mkdirSync(logs, { recursive: true });
  mkdirSync(join(work, 'plugin-cache'), { recursive: true });
  say(`work folder ${work}; starting the emulator (${python}, moto server over HTTPS)`);
  const emulator = await startEmulator({ dir: join(work, 'emulator'), accountId: environment.accountId, python });
  say(`emulator ${emulator.endpoint} (pid ${emulator.pid})`);
  // Interrupted (Ctrl-C, CI timeout): the emulator started here is stopped all the same.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`e2e: ${signal}: stopping the emulator (pid ${emulator.pid}); work folder ${work}`);
      void emulator.stop().finally(() => process.exit(130));
    });
  }
  let failed = true;
  try {
    const summary = await scenario({ work, logs, outdir, emulator, terraform, mirror, environment });
    failed = false;
    await emulator.stop();
    say(`emulator stopped (pid ${emulator.pid})`);
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    console.log(summary);
    return 0;
  } catch (error) {
    if (!(error instanceof E2eFailure)) throw error;
    console.error(`e2e: FAILED: ${error.message}\n(logs and the deployed copy are kept in ${work})`);
    return 1;
  } finally {
    if (failed) {
      await emulator.stop();
      console.error(`e2e: emulator stopped (pid ${emulator.pid})`);
    }
  }
}

interface Context {
  readonly work: string;
  readonly logs: string;
  readonly outdir: string;
  readonly emulator: Emulator;
  readonly terraform: string;
  readonly mirror: string;
  readonly environment: ReturnType<typeof loadEnvironment>;
}

async function scenario(context: Context): Promise<string> {
  const { work, logs, outdir, emulator, terraform, mirror, environment } = context;
  const rc = join(work, 'terraform.rc');
  writeFileSync(rc, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\nplugin_cache_dir = ${JSON.stringify(join(work, 'plugin-cache'))}\n`);
  writeFileSync(join(work, 'aws-config'), '');
  // What a user points at the emulator, and nothing of the caller's AWS setup.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('TF_') || key.startsWith('CDKTF_')) delete env[key];
  Object.assign(env, {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_CA_BUNDLE: emulator.caFile,
    SSL_CERT_FILE: emulator.caFile,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: environment.region,
    AWS_DEFAULT_REGION: environment.region,
    AWS_CONFIG_FILE: join(work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    TF_CLI_CONFIG_FILE: rc,
    TF_IN_AUTOMATION: '1',
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    CHECKPOINT_DISABLE: '1',
    PLATFORM_ENV: environment.name,
  });

  let logCount = 0;
  const exec = (label: string, bin: string, argv: readonly string[], cwd = root): Promise<Run> =>
    new Promise((resolve) => {
      const log = join(logs, `${String(++logCount).padStart(2, '0')}-${label.replace(/[^\w.-]+/g, '_')}.log`);
      const child = spawn(bin, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => {
        writeFileSync(log, `$ ${bin} ${argv.join(' ')}\n${output}`);
        resolve({ status: code ?? 1, output, log });
      });
    });
  const tail = (run: Run) => `${run.output.split('\n').slice(-25).join('\n')}\n(full log: ${run.log})`;
  const must = async (label: string, bin: string, argv: readonly string[], cwd?: string): Promise<Run> => {
    const run = await exec(label, bin, argv, cwd);
    if (run.status !== 0) throw new E2eFailure(`${label} failed (exit ${run.status}):\n${tail(run)}`);
    return run;
  };
  const cdktfBin = join(root, 'node_modules', '.bin', 'cdktf');
  const cdktf = (label: string, argv: readonly string[]) => exec(label, cdktfBin, [...argv, '--output', outdir, ...(['deploy', 'diff', 'destroy'].includes(argv[0]!) ? ['--no-color'] : [])]);
  const mustCdktf = async (label: string, argv: readonly string[]) => {
    const run = await cdktf(label, argv);
    if (run.status !== 0) throw new E2eFailure(`npx cdktf ${argv.join(' ')} failed (exit ${run.status}):\n${tail(run)}`);
    return run;
  };
  const stackDir = (name: string) => join(outdir, 'stacks', name);
  const stateList = async (name: string) => (await must(`state-list-${name}`, terraform, ['state', 'list', '-no-color'], stackDir(name))).output.split('\n').filter(Boolean);
  const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
  const original = new Map<string, StackJson>();

  // 2. Synthesize through the CLI, then prepare the deployed copy.
  await mustCdktf('cdktf-synth', ['synth']);
  const platform = readJson<{ stacks: PlatformEntry[] }>(join(outdir, 'platform.json')).stacks;
  const manifestFile = join(outdir, 'manifest.json');
  const manifest = readJson<{ stacks: Record<string, { dependencies: string[] }> }>(manifestFile);
  const missingFromManifest = platform.filter((s) => !manifest.stacks[s.name]);
  if (missingFromManifest.length > 0) throw new E2eFailure(`cdktf synth did not list ${missingFromManifest.map((s) => s.name).join(', ')} in ${manifestFile}`);
  say(`npx cdktf synth: ${platform.length} stacks of environment "${environment.name}" in ${outdir}`);

  const prepared: PreparedStack[] = [];
  for (const entry of platform) {
    const file = join(stackDir(entry.name), 'cdk.tf.json');
    const json = readJson<StackJson>(file);
    original.set(entry.name, json);
    const stack = prepareStack(entry, json);
    prepared.push(stack);
    if (stack.config) writeFileSync(file, `${JSON.stringify(stack.config, null, 2)}\n`);
  }
  const deployed = prepared.filter((s) => s.mode !== 'in-cluster');
  const inCluster = prepared.filter((s) => s.mode === 'in-cluster');
  const names = deployed.map((s) => s.name);
  const dependencies = new Map(names.map((n) => [n, manifest.stacks[n]!.dependencies.filter((d) => names.includes(d))]));
  const order = dependencyOrder(names, dependencies);
  // The deployed copy's manifest: its stacks, and their dependencies among them.
  const copy = readJson<{ stacks: Record<string, { dependencies: string[] }> }>(manifestFile);
  copy.stacks = Object.fromEntries(order.map((n) => [n, { ...manifest.stacks[n]!, dependencies: dependencies.get(n)! }]));
  writeFileSync(manifestFile, `${JSON.stringify(copy, null, 2)}\n`);
  if (!names.includes(BOOTSTRAP_STACK)) throw new E2eFailure(`no ${BOOTSTRAP_STACK} stack to deploy`);
  say(`deploy order: ${order.map((n) => `${n}${prepared.find((s) => s.name === n)!.mode === 'aws-part' ? ' (AWS part)' : ''}`).join(', ')}`);
  for (const stack of deployed) {
    for (const d of stack.dropped) say(`  left out ${stack.name}/${d.address}: ${d.reason}`);
    for (const d of stack.droppedOutputs) say(`  left out ${stack.name}/${d.address}: ${d.reason}`);
    if (stack.inClusterResources > 0) say(`  left out ${stack.inClusterResources} in-cluster resources of ${stack.name} (helm/kubernetes providers: not installable offline, no API server here)`);
  }
  for (const stack of inCluster) say(`  in-cluster stack ${stack.name}: not deployed (helm/kubernetes providers not installable offline, no API server here); its remote-state reads are checked`);

  // 3. Bootstrap, the documented way.
  await must('bootstrap', process.execPath, [join(root, 'dist', 'scripts', 'bootstrap.js'), '--auto-approve', '--outdir', outdir, '--local-state', join(work, 'bootstrap.tfstate'), '--skip-synth']);
  if (existsSync(join(work, 'bootstrap.tfstate'))) throw new E2eFailure('npm run bootstrap left its local state behind');
  say(`npm run bootstrap: applied with local state, state moved into s3://${environment.stateBucket}/${stateKey(environment, BOOTSTRAP_STACK)}`);

  // 4. A plan whose upstream was never deployed names it.
  const readsOf = (name: string) => remoteStateReads(original.get(name)!, environment.name).filter((r) => r.outputs.length > 0);
  const neverDeployed = order.flatMap((d) => readsOf(d).filter((r) => r.upstream !== BOOTSTRAP_STACK && names.includes(r.upstream)).map((r) => ({ downstream: d, ...r })))[0];
  if (neverDeployed) {
    await expectMissingUpstream(cdktf, neverDeployed, 'does not exist');
    say(`npx cdktf diff ${neverDeployed.downstream} before ${neverDeployed.upstream} exists: refused, naming "${neverDeployed.upstream}" and ${neverDeployed.outputs.join(', ')}`);
  }

  // 5. Deploy everything, in the manifest's dependency order.
  await mustCdktf('cdktf-deploy', ['deploy', '*', '--skip-synth', '--auto-approve', '--skip-provider-lock']);
  let resources = 0;
  for (const name of order) {
    const list = await stateList(name);
    // A stack may hold nothing in this environment (cost with every cost flag off): then its state is empty too.
    if (list.length === 0 && prepared.find((s) => s.name === name)!.resources > 0) throw new E2eFailure(`${name}: empty state after cdktf deploy`);
    resources += list.length;
  }
  say(`npx cdktf deploy '*': ${order.length} stacks, ${resources} resources`);

  // 6. State encryption, and every remote-state read resolvable.
  const agent = new https.Agent({ ca: readFileSync(emulator.caFile) });
  const client = { region: environment.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, requestHandler: { httpsAgent: agent } };
  const s3 = new S3Client({ ...client, forcePathStyle: true });
  const kms = new KMSClient(client);
  // `cdktf output` for one stack (the user's way to read outputs), terraform's JSON for the others.
  const outputsFile = join(work, 'outputs.json');
  await mustCdktf('cdktf-output', ['output', BOOTSTRAP_STACK, '--skip-synth', '--skip-provider-lock', '--outputs-file', outputsFile, '--outputs-file-include-sensitive-outputs']);
  const outputs = new Map(Object.entries(readJson<Record<string, Record<string, unknown>>>(outputsFile)));
  if (!outputs.has(BOOTSTRAP_STACK)) throw new E2eFailure(`npx cdktf output ${BOOTSTRAP_STACK} wrote no outputs of ${BOOTSTRAP_STACK} to ${outputsFile}`);
  await pool(order.filter((n) => n !== BOOTSTRAP_STACK), 3, async (name) => {
    const json = JSON.parse((await must(`output-${name}`, terraform, ['output', '-json', '-no-color'], stackDir(name))).output) as Record<string, { value: unknown }>;
    outputs.set(name, Object.fromEntries(Object.entries(json).map(([key, output]) => [key, output.value])));
  });
  const stateKeyArn = String(outputs.get(BOOTSTRAP_STACK)?.stateKmsKeyArn ?? '');
  const expectedKey = (await kms.send(new DescribeKeyCommand({ KeyId: stateKeyArn }))).KeyMetadata?.Arn;
  for (const name of order) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: environment.stateBucket, Key: stateKey(environment, name) }));
    const key = head.SSEKMSKeyId ? (await kms.send(new DescribeKeyCommand({ KeyId: head.SSEKMSKeyId }))).KeyMetadata?.Arn : undefined;
    if (head.ServerSideEncryption !== 'aws:kms' || !expectedKey || key !== expectedKey) {
      throw new E2eFailure(`state of ${name} is encrypted with ${head.ServerSideEncryption ?? 'nothing'} ${head.SSEKMSKeyId ?? ''}, expected aws:kms with the bootstrap key ${expectedKey}`);
    }
  }
  say(`state encryption: ${order.length} state objects are SSE-KMS with the bootstrap key ${expectedKey}`);
  let reads = 0;
  for (const stack of prepared) {
    for (const read of readsOf(stack.name)) {
      const published = outputs.get(read.upstream);
      if (!published) throw new E2eFailure(`${stack.name} reads the state of ${read.upstream}, which the emulator run did not deploy`);
      const missing = read.outputs.filter((o) => !(o in published));
      if (missing.length > 0) throw new E2eFailure(`${stack.name} reads ${missing.join(', ')} from ${read.upstream}, which its deployed state does not have`);
      reads += read.outputs.length;
    }
  }
  for (const expectation of OUTPUT_EXPECTATIONS) {
    const value = outputs.get(expectation.stack)?.[expectation.output];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !expectation.pattern.test(value)) throw new E2eFailure(`${expectation.stack} output ${expectation.output} = ${JSON.stringify(value)}: expected ${expectation.meaning}`);
    say(`${expectation.stack} output ${expectation.output} = ${value}: ${expectation.meaning}`);
  }
  say(`remote state: ${reads} output reads of ${prepared.length} stacks (in-cluster included) resolve in the deployed upstream states`);

  // Job-run notification rules, exercised on the emulator's default bus: each deployed rule's pattern,
  // read back from the emulator, goes into a probe rule on a probe bus whose only target is a probe
  // queue; sample job-run events are put on that bus and the probe rule must route exactly the ones it
  // should. (moto cannot deliver to the deployed rule's SNS target: PutEvents on its bus fails.)
  const events = new EventBridgeClient(client);
  const sqs = new SQSClient(client);
  const probeUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'e2e-job-run-probe' }))).QueueUrl!;
  const probeArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: probeUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const probeRule = 'e2e-job-run-probe';
  const probeBus = 'e2e-job-run-probe';
  await events.send(new CreateEventBusCommand({ Name: probeBus }));
  const probe = async (what: string, pattern: string) => {
    const samples = jobRunSampleEvents(JSON.parse(pattern), environment);
    await events.send(new PutRuleCommand({ Name: probeRule, EventBusName: probeBus, EventPattern: pattern }));
    await events.send(new PutTargetsCommand({ Rule: probeRule, EventBusName: probeBus, Targets: [{ Id: 'e2e-probe', Arn: probeArn }] }));
    try {
      for (let i = 0; i < samples.length; i += 10) {
        const entries = samples.slice(i, i + 10).map(({ event }) => ({
          Source: String(event.source),
          DetailType: String(event['detail-type']),
          Detail: JSON.stringify(event.detail),
          Resources: event.resources as string[],
          EventBusName: probeBus,
        }));
        const put = await events.send(new PutEventsCommand({ Entries: entries }));
        if (put.FailedEntryCount) throw new E2eFailure(`${what}: events:PutEvents refused ${put.FailedEntryCount} sample events: ${JSON.stringify(put.Entries)}`);
      }
      const delivered = new Set<string>();
      for (let empty = 0; empty < 2; ) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: probeUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        if (Messages.length === 0) empty++;
        for (const message of Messages) {
          delivered.add(String((JSON.parse(message.Body ?? '{}') as { detail?: { id?: unknown } }).detail?.id));
          await sqs.send(new DeleteMessageCommand({ QueueUrl: probeUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
      }
      for (const sample of samples) {
        const routed = delivered.has(String((sample.event.detail as { id: string }).id));
        if (routed !== sample.shouldMatch) throw new E2eFailure(`${what}: the rule ${routed ? 'routed' : 'did not route'} ${sample.label}; expected it ${sample.shouldMatch ? 'routed' : 'not routed'} (pattern ${pattern})`);
      }
      return samples;
    } finally {
      await events.send(new RemoveTargetsCommand({ Rule: probeRule, EventBusName: probeBus, Ids: ['e2e-probe'] }));
      await events.send(new DeleteRuleCommand({ Name: probeRule, EventBusName: probeBus }));
    }
  };
  const rules = deployed.flatMap((s) => (s.config ? jobRunRules(s.name, s.config) : []));
  for (const rule of rules) {
    const { EventPattern } = await events.send(new DescribeRuleCommand({ Name: rule.name }));
    if (!EventPattern) throw new E2eFailure(`${rule.address}: the deployed rule ${rule.name} has no event pattern`);
    const samples = await probe(rule.address, EventPattern);
    say(
      `job-run notifications ${rule.address}: of ${samples.length} job-run events put on a probe bus, its deployed pattern (in a probe rule) routes ${samples.filter((s) => s.shouldMatch).map((s) => s.label).join(', ')}, ` +
        `and not the ${samples.filter((s) => !s.shouldMatch).length} others (other states, another virtual cluster, another source)`,
    );
  }
  if (rules.length === 0) {
    // No tenant here asks for notifications: the pattern the module builds, with a sample virtual cluster.
    const samples = await probe('jobRunEventPattern', JSON.stringify(jobRunEventPattern('e2esamplevirtualcluster0001', ['FAILED', 'CANCELLED'])));
    say(`job-run notifications: no tenant of "${environment.name}" has notifications; a rule with the module's pattern (sample virtual cluster) routes ${samples.length} job-run events as expected`);
  }
  await sqs.send(new DeleteQueueCommand({ QueueUrl: probeUrl }));
  await events.send(new DeleteEventBusCommand({ Name: probeBus }));

  // 7. Plan again: no changes.
  const replan = async (name: string): Promise<PlannedChange[]> => {
    const plan = await exec(`replan-${name}`, terraform, ['plan', '-input=false', '-no-color', '-lock-timeout=60s', '-detailed-exitcode', '-out=replan.tfplan'], stackDir(name));
    if (plan.status === 0) return [];
    if (plan.status !== 2) throw new E2eFailure(`re-plan of ${name} failed (exit ${plan.status}):\n${tail(plan)}`);
    const json = await must(`replan-json-${name}`, terraform, ['show', '-json', 'replan.tfplan'], stackDir(name));
    return replanChanges(JSON.parse(json.output));
  };
  const tolerated: PlannedChange[] = [];
  const replanAll = async (stacks: readonly string[]) => {
    const results = await pool(stacks, 3, async (name) => ({ name, changes: await replan(name) }));
    for (const { name, changes } of results) {
      const unexpected = changes.filter((c) => !c.tolerated);
      if (unexpected.length > 0) {
        throw new E2eFailure(`re-plan of ${name} is not clean:\n${unexpected.map((c) => `  ${c.address}: ${c.actions.join('/')}${c.attributes.length ? ` (${c.attributes.join(', ')})` : ''}`).join('\n')}`);
      }
      for (const c of changes.filter((c) => !c.tolerated!.startsWith('values unknown'))) say(`  known emulator diff ${name}/${c.address} (${c.actions.join('/')} of ${c.attributes.join(', ')}): ${c.tolerated}`);
      const following = changes.filter((c) => c.tolerated!.startsWith('values unknown'));
      if (following.length > 0) say(`  and ${following.length} changes of ${name} whose values are unknown until those are applied: ${following.map((c) => c.address).join(', ')}`);
      tolerated.push(...changes.map((c) => ({ ...c, address: `${name}/${c.address}` })));
    }
  };
  await replanAll(order);
  say(`re-plan: no changes in ${order.length} stacks${tolerated.length ? `, but for the known emulator diffs above` : ''}`);

  // 8. Destroy in reverse dependency order, as the runbooks say.
  const kept: string[] = [];
  const destroyArgs = ['--skip-synth', '--auto-approve', '--ignore-missing-stack-dependencies'];
  /** Stacks whose destroy Terraform refused with prevent_destroy in this run (cdktf prefixes each diagnostic with its stack). */
  const refusedIn = (run: Run) => {
    const refused = new Set<string>();
    let current = '';
    for (const line of run.output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').split('\n')) {
      const prefix = /^(\S+)\s{2,}/.exec(line)?.[1];
      if (prefix && names.includes(prefix)) current = prefix;
      if (line.includes('Instance cannot be destroyed') && current) refused.add(current);
    }
    return refused;
  };
  /** After a destroy attempt: destroyed, or refused by prevent_destroy (kept per runbook, or holding retained data). */
  const settle = async (name: string, run: Run, retry = true): Promise<'destroyed' | 'kept' | 'retained'> => {
    const left = await stateList(name);
    if (left.length === 0) return 'destroyed';
    if (!refusedIn(run).has(name) && retry) {
      // The CLI stops the stacks still waiting when another one fails: this one on its own.
      return settle(name, await cdktf(`cdktf-destroy-${name}`, ['destroy', name, ...destroyArgs]), false);
    }
    if (!JSON.stringify(original.get(name)).includes('"prevent_destroy":true') || !refusedIn(run).has(name)) {
      throw new E2eFailure(`npx cdktf destroy ${name} failed and left ${left.length} resources:\n${tail(run)}`);
    }
    if (retainedResources(original.get(name) as never).length > 0) {
      say(`npx cdktf destroy ${name}: refused by prevent_destroy (retained data), as expected`);
      return 'retained';
    }
    kept.push(name);
    say(`npx cdktf destroy ${name}: refused by prevent_destroy (${left.length} resources); kept, as the runbook says`);
    return 'kept';
  };
  const tenantData = (command: 'release' | 'adopt', name: string) =>
    must(`tenant-data-${command}-${name}`, process.execPath, [join(root, 'dist', 'scripts', 'tenant-data.js'), command, name.replace(/^tenant-/, ''), '--outdir', outdir]);
  let readded = false;
  /** The runbook for a tenant with retained data: release it, destroy the rest; the first one is then re-added and removed again. */
  const retainedRunbook = async (name: string) => {
    const bucket = String(retainedResources(original.get(name) as never).find((r) => r.type === 'aws_s3_bucket')?.body.bucket);
    const releaseAndDestroy = async () => {
      await tenantData('release', name);
      await mustCdktf(`cdktf-destroy-${name}`, ['destroy', name, ...destroyArgs]);
      if ((await stateList(name)).length !== 0) throw new E2eFailure(`${name}: resources left in its state after the runbook's destroy`);
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    };
    await releaseAndDestroy();
    say(`npm run tenant-data -- release; npx cdktf destroy ${name}: destroyed, bucket ${bucket} and its key retained`);
    if (readded) return;
    readded = true;
    // Re-added under the same name: after the adoption, the plan keeps every retained resource (no
    // create, replace or destroy: creating the bucket or the key alias again would collide) and
    // creates only the rest. Planned, not applied: applying would repeat the first deploy of the rest.
    await tenantData('adopt', name);
    await must(`readd-plan-${name}`, terraform, ['plan', '-input=false', '-no-color', '-lock-timeout=60s', '-out=readd.tfplan'], stackDir(name));
    const plan = JSON.parse((await must(`readd-plan-json-${name}`, terraform, ['show', '-json', 'readd.tfplan'], stackDir(name))).output);
    // Resources only: outputs cannot collide (they change with the new resources' ids).
    const changes = replanChanges(plan, []).filter((c) => !c.address.startsWith('output.'));
    const retainedAddresses = new Set(retainedResources(original.get(name) as never).map((r) => r.address));
    const kept = (c: PlannedChange) => c.actions.join() === 'update';
    const wrong = changes.filter((c) => (retainedAddresses.has(c.address) ? !kept(c) : c.actions.join() !== 'create'));
    if (wrong.length > 0) throw new E2eFailure(`re-adding ${name} over its retained data plans ${wrong.map((c) => `${c.address}: ${c.actions.join('/')}`).join(', ')}`);
    const updated = changes.filter((c) => retainedAddresses.has(c.address));
    say(
      `${name} re-added over its retained data (npm run tenant-data -- adopt): the plan keeps the ${retainedAddresses.size} retained resources` +
        `${updated.length ? ` (in place: ${updated.map((c) => `${c.address} ${c.attributes.join(', ')}`).join('; ')}; arguments AWS does not return after an import, such as a KMS key's deletion_window_in_days)` : ''}` +
        ` and creates the other ${changes.length - updated.length}: no name collision`,
    );
    await tenantData('release', name);
  };
  /** Stacks holding names AWS reserves after deletion: deployed again right after their destroy, then destroyed again. */
  const redeploy = async (name: string) => {
    const reserving = Object.keys(NAME_RESERVING_TYPES).filter((type) => (original.get(name)?.resource as Record<string, unknown> | undefined)?.[type]);
    if (reserving.length === 0) return;
    await mustCdktf(`cdktf-redeploy-${name}`, ['deploy', name, '--skip-synth', '--auto-approve', '--skip-provider-lock', '--ignore-missing-stack-dependencies']);
    await mustCdktf(`cdktf-destroy-again-${name}`, ['destroy', name, ...destroyArgs]);
    say(`${name} deployed again right after its destroy, and destroyed again: no name collision (${reserving.map((t) => NAME_RESERVING_TYPES[t]).join('; ')})`);
  };
  const followUp = async (name: string, outcome: 'destroyed' | 'kept' | 'retained') => {
    if (outcome === 'retained') await retainedRunbook(name);
    if (outcome === 'destroyed') await redeploy(name);
  };

  const [leaves = [], ...rest] = destroyWaves(order, dependencies);
  // Stacks nothing depends on, together (the CLI checks that none has a dependant left out); then
  // the follow-ups of each, side by side. (With --ignore-missing-stack-dependencies, cdktf 0.21
  // destroys several stacks correctly only one at a time: --parallelism 1.)
  const first = await cdktf('cdktf-destroy-leaves', ['destroy', ...leaves, '--skip-synth', '--auto-approve']);
  const outcomes: (readonly [string, Awaited<ReturnType<typeof settle>>])[] = [];
  for (const name of leaves) outcomes.push([name, await settle(name, first)]);
  say(`npx cdktf destroy ${leaves.join(' ')}: ${outcomes.map(([n, o]) => `${n} ${o}`).join(', ')}`);
  await Promise.all(outcomes.map(([name, outcome]) => followUp(name, outcome)));
  // The rest one at a time, backwards; a refusal stops the CLI, so it is handled and the rest resumed.
  let remaining = rest.flat();
  while (remaining.length > 0) {
    const run = await cdktf('cdktf-destroy-rest', ['destroy', ...remaining, ...destroyArgs, '--parallelism', '1']);
    const done: string[] = [];
    for (const name of remaining) {
      const outcome = await settle(name, run);
      done.push(name);
      await followUp(name, outcome);
      if (outcome !== 'destroyed') break;
    }
    say(`npx cdktf destroy ${done.join(' ')} (one at a time): done`);
    remaining = remaining.filter((n) => !done.includes(n));
  }
  // A plan whose upstream was destroyed names it.
  const destroyedPair = order.flatMap((d) => readsOf(d).filter((r) => r.upstream !== BOOTSTRAP_STACK && names.includes(r.upstream) && !kept.includes(r.upstream)).map((r) => ({ downstream: d, ...r })))[0];
  if (destroyedPair) {
    await expectMissingUpstream(cdktf, destroyedPair, 'lacks them');
    say(`npx cdktf diff ${destroyedPair.downstream} after ${destroyedPair.upstream} was destroyed: refused, naming "${destroyedPair.upstream}" and ${destroyedPair.outputs.join(', ')}`);
  }
  return summaryLine({ deployed, resources, inCluster, tolerated, kept, seconds: (Date.now() - started) / 1000 });
}

async function expectMissingUpstream(
  cdktf: (label: string, argv: readonly string[]) => Promise<Run>,
  pair: { downstream: string; upstream: string; outputs: string[] },
  reason: string,
): Promise<void> {
  const run = await cdktf(`cdktf-diff-missing-${pair.upstream}`, ['diff', pair.downstream, '--skip-synth', '--skip-provider-lock']);
  // Terraform wraps and frames its diagnostics (and cdktf prefixes stack names): compare the words.
  const flat = run.output
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .replace(/[│╷╵]/g, ' ')
    .replace(/\s+/g, ' ');
  const named = flat.includes(`Stack "${pair.downstream}" needs output(s)`) && flat.includes(`of stack "${pair.upstream}"`) && flat.includes(reason);
  if (run.status === 0 || !named || !pair.outputs.every((o) => flat.includes(o))) {
    throw new E2eFailure(`a plan of ${pair.downstream} with ${pair.upstream} ${reason === 'lacks them' ? 'destroyed' : 'not deployed'} must fail naming "${pair.upstream}" and ${pair.outputs.join(', ')} (exit ${run.status}; log ${run.log})`);
  }
}

/** Runs `task` over `items`, at most `size` at a time, keeping the order of results. */
async function pool<T, R>(items: readonly T[], size: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

process.exitCode = await main();
