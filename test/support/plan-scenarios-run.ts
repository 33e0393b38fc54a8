/**
 * Background job of the jest global setup: plans every test scenario with one terraform run
 * (test/support/plan-scenarios.ts) into the directory given as the only argument, then writes
 * result.json there ({ ok } or { ok: false, error }). Runs compiled, from dist/, so it needs no
 * TypeScript loader.
 */
import { offlineTerraform } from '../../scripts/lib/terraform.js';
import { writeResult, writeScenarioPlans } from './plan-scenarios.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: plan-scenarios-run.js <directory>');
  process.exitCode = 2;
} else {
  try {
    writeScenarioPlans(offlineTerraform(), dir);
    writeResult(dir, { ok: true });
  } catch (error) {
    writeResult(dir, { ok: false, error: (error as Error).message });
  }
}
