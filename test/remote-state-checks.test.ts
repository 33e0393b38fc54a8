/**
 * A stack whose upstream was destroyed (its state emptied) or predates an output must fail its plan
 * with a message naming the upstream stack and the outputs it needs, not Terraform's generic
 * "object with no attributes". Run with real Terraform, offline: the synthesized remote-state read
 * of a stack, pointed at a local state file (the built-in `terraform` provider needs no download).
 * The precondition (the state object exists at all) lists S3 objects, so it is exercised by
 * `npm run e2e` against the emulator; here its shape is checked by test/workspace.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { findTerraform } from '../scripts/lib/terraform.js';
import { synthStack } from './support/synth.js';

const terraform = findTerraform();

/** Plans the stack's read of `upstream` against a local state holding `outputs`; returns exit code and flattened output. */
function planRead(stack: string, upstream: string, outputs: Record<string, unknown>): { status: number; text: string } {
  const tf = synthStack(stack);
  const id = `remote-state-${upstream}`;
  const read = structuredClone(tf.data!.terraform_remote_state![id]!) as Record<string, unknown> & { lifecycle: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'remote-state-'));
  mkdirSync(dir, { recursive: true });
  const state = join(dir, 'upstream.tfstate');
  writeFileSync(
    state,
    JSON.stringify({
      version: 4,
      terraform_version: '1.11.4',
      serial: 3,
      lineage: 'e2e-test',
      outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v, type: Array.isArray(v) ? ['list', 'string'] : 'string' }])),
      resources: [],
    }),
  );
  delete read.lifecycle.precondition;
  const referenced = [...JSON.stringify(tf).matchAll(new RegExp(`data\\.terraform_remote_state\\.${id}\\.outputs\\.(\\w+)`, 'g'))].map((m) => m[1]!);
  const config = {
    data: { terraform_remote_state: { [id]: { ...read, backend: 'local', config: { path: state } } } },
    output: Object.fromEntries([...new Set(referenced)].map((name) => [name, { value: `\${data.terraform_remote_state.${id}.outputs.${name}}` }])),
  };
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(config));
  const env = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
  const init = spawnSync(terraform, ['init', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8', env });
  assert.equal(init.status, 0, init.stderr);
  const plan = spawnSync(terraform, ['plan', '-input=false', '-no-color'], { cwd: dir, encoding: 'utf8', env });
  return { status: plan.status ?? 1, text: `${plan.stdout}${plan.stderr}`.replace(/[│╷╵]/g, ' ').replace(/\s+/g, ' ') };
}

describe('remote-state reads of a missing upstream', () => {
  it('fail naming the upstream stack, its state and the output needed when the upstream was destroyed', () => {
    const { status, text } = planRead('karpenter-infra', 'cluster', {});
    assert.notEqual(status, 0);
    assert.ok(
      text.includes('Stack "karpenter-infra" needs output(s) clusterName of stack "cluster", but the state s3://spark-platform-tfstate-111122223333-dev/dev/cluster.tfstate lacks them: "cluster" was destroyed, or predates these outputs. Deploy it first: npx cdktf deploy cluster --ignore-missing-stack-dependencies'),
      text,
    );
    assert.doesNotMatch(text, /object with no attributes.*Unsupported attribute/);
  });

  it('name only the outputs that are missing', () => {
    const { status, text } = planRead('cluster', 'network', { nodeSubnetIds: ['subnet-1'] });
    assert.notEqual(status, 0);
    assert.match(text, /Stack "cluster" needs output\(s\) podSubnetIds of stack "network"/);
  });

  it('pass when the upstream state has every output the stack reads', () => {
    const { status, text } = planRead('cluster', 'network', { nodeSubnetIds: ['subnet-1', 'subnet-2', 'subnet-3'], podSubnetIds: ['subnet-4', 'subnet-5', 'subnet-6'] });
    assert.equal(status, 0, text);
  });
});
