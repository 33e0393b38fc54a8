/**
 * Runs once before any test file. It gives the whole run one temporary directory (TMPDIR points
 * into it, so every mkdtemp, cdktf's `cdktf.outdir.*` folders, Terraform's CLI config and Nx's
 * graph files land there) and removes from the environment what a caller may have exported
 * (PLATFORM_ENV, CI, TF_*, AWS_*, CDKTF_*, ...) so no result depends on it. Workers are started
 * after this runs and inherit both.
 *
 * It also starts, in the background, the one terraform run that makes every real plan the tests
 * use (test/support/plan-scenarios.ts, compiled: `npm test` builds first). Test files wait for its
 * result; global-teardown.mjs stops it if it is still running.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isolateEnvironment, PLANS_PID_FILE, RUN_TMP_ENV } from './isolation.mjs';

const PLANS_DIRECTORY_ENV = 'SPARK_PLATFORM_TEST_PLANS';
const RUNNER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'test', 'support', 'plan-scenarios-run.js');

export default function globalSetup() {
  const runTmp = mkdtempSync(join(tmpdir(), 'spark-platform-jest-'));
  isolateEnvironment(process.env);
  process.env[RUN_TMP_ENV] = runTmp;
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = runTmp;

  const plans = join(runTmp, 'scenario-plans');
  mkdirSync(plans);
  process.env[PLANS_DIRECTORY_ENV] = plans;
  const log = openSync(join(plans, 'run.log'), 'w');
  // Its own process group, so teardown can stop terraform with it.
  const runner = spawn(process.execPath, [RUNNER, plans], { stdio: ['ignore', log, log], env: process.env, detached: true });
  closeSync(log);
  runner.on('error', (error) => writeFileSync(join(plans, 'result.json'), JSON.stringify({ ok: false, error: `cannot start ${RUNNER}: ${error.message}` })));
  runner.on('exit', (code) => {
    if (code !== 0) writeFileSync(join(plans, 'result.json'), JSON.stringify({ ok: false, error: `${RUNNER} exited ${code} (run \`npm test\`, which builds first; log: ${join(plans, 'run.log')})` }));
  });
  runner.unref();
  writeFileSync(join(runTmp, PLANS_PID_FILE), String(runner.pid));
}
