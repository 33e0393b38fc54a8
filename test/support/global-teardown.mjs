/** Runs once after every test file: stops the scenario-plan run if still going, removes the run's temporary directory and all it holds. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PLANS_PID_FILE, RUN_TMP_ENV } from './isolation.mjs';

export default function globalTeardown() {
  const runTmp = process.env[RUN_TMP_ENV];
  if (!runTmp) return;
  // Still running (a run stopped early, or no test waited for it): stop it and its terraform.
  if (!existsSync(join(runTmp, 'scenario-plans', 'result.json'))) {
    try {
      process.kill(-Number(readFileSync(join(runTmp, PLANS_PID_FILE), 'utf8')));
    } catch {
      // Never started, or ended between the check and the kill.
    }
  }
  rmSync(runTmp, { recursive: true, force: true });
}
