/**
 * Nx settings a pull request must never change by accident. The first interactive Nx command
 * asks whether to share usage data and writes the answer into nx.json; a tenant pull request that
 * commits that rewrite touches a global input, so `nx affected` would plan every stack. nx.json
 * settles the question (`"analytics": false`), so no prompt appears and the file is never written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, it } from '@jest/globals';
import { temporaryNxWorkspace } from './support/nx-workspace.js';
import { SOURCE_ROOT } from './support/synth.js';

const PROMPT = /sharing usage data/;

/** Runs an Nx command in a pseudo-terminal (util-linux `script`), answering "n" to any prompt. */
function interactiveNx(root: string, command: string): string {
  const result = spawnSync('script', ['-qec', `node_modules/.bin/nx ${command}`, '/dev/null'], {
    cwd: root,
    input: 'n\r',
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TERM: 'xterm' },
  });
  assert.equal(result.error, undefined, `script: ${result.error?.message}`);
  return result.stdout;
}

describe('nx.json', () => {
  // One workspace for both cases: the control edits its nx.json, so it runs last.
  let root: string;
  beforeAll(() => {
    root = temporaryNxWorkspace();
  });

  it('settles the usage-data question, so Nx never prompts or rewrites nx.json', () => {
    const nx = JSON.parse(readFileSync(join(SOURCE_ROOT, 'nx.json'), 'utf8')) as { analytics?: unknown; neverConnectToCloud?: unknown };
    assert.equal(nx.analytics, false);
    assert.equal(nx.neverConnectToCloud, true);
    const before = readFileSync(join(root, 'nx.json'), 'utf8');
    const output = interactiveNx(root, 'show projects');
    assert.doesNotMatch(output, PROMPT);
    assert.match(output, /tenant-analytics/);
    assert.equal(readFileSync(join(root, 'nx.json'), 'utf8'), before);
  });

  it('(control) without the setting, the same interactive command does prompt', () => {
    const nx = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as Record<string, unknown>;
    delete nx.analytics;
    writeFileSync(join(root, 'nx.json'), JSON.stringify(nx, null, 2));
    assert.match(interactiveNx(root, 'show projects'), PROMPT);
  });
});
