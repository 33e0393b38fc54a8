/**
 * Nx settings a pull request must never change by accident. The first interactive Nx command
 * asks whether to share usage data and writes the answer into nx.json; a tenant pull request that
 * commits that rewrite touches a global input, so `nx affected` would plan every stack. nx.json
 * settles the question (`"analytics": false`), so no prompt appears and the file is never written.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, it } from '@jest/globals';
import { temporaryNxWorkspace } from './support/nx-workspace.js';
import { SOURCE_ROOT } from './support/synth.js';

const PROMPT = /sharing usage data/;

/**
 * Runs an Nx command in a pseudo-terminal (util-linux `script`), as a person at a terminal would.
 * Resolves with what it printed when it exits, or as soon as it shows the usage-data prompt (the
 * prompt would wait for an answer; the process group is then stopped).
 */
function interactiveNx(root: string, command: string): Promise<{ output: string; prompted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `node_modules/.bin/nx ${command}`, '/dev/null'], {
      cwd: root,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm' },
    });
    let output = '';
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`nx ${command} neither finished nor prompted within 100 s:\n${output}`));
    }, 100_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (PROMPT.test(output)) {
        clearTimeout(timer);
        stop();
        resolve({ output, prompted: true });
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ output, prompted: PROMPT.test(output) });
    });
  });
}

describe('nx.json', () => {
  // One workspace for both cases: the control edits its nx.json, so it runs last.
  let root: string;
  beforeAll(() => {
    root = temporaryNxWorkspace();
  });

  it('settles the usage-data question, so Nx never prompts or rewrites nx.json', async () => {
    const nx = JSON.parse(readFileSync(join(SOURCE_ROOT, 'nx.json'), 'utf8')) as { analytics?: unknown; neverConnectToCloud?: unknown };
    assert.equal(nx.analytics, false);
    assert.equal(nx.neverConnectToCloud, true);
    const before = readFileSync(join(root, 'nx.json'), 'utf8');
    const { output, prompted } = await interactiveNx(root, 'show projects');
    assert.equal(prompted, false, output);
    assert.match(output, /tenant-analytics/);
    assert.equal(readFileSync(join(root, 'nx.json'), 'utf8'), before);
  });

  it('(control) without the setting, the same interactive command does prompt', async () => {
    const nx = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as Record<string, unknown>;
    delete nx.analytics;
    writeFileSync(join(root, 'nx.json'), JSON.stringify(nx, null, 2));
    const { output, prompted } = await interactiveNx(root, 'show projects');
    assert.equal(prompted, true, output);
  });
});
