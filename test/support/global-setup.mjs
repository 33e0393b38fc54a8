/**
 * Runs once before any test file. It gives the whole run one temporary directory (TMPDIR points
 * into it, so every mkdtemp, cdktf's `cdktf.outdir.*` folders, Terraform's CLI config and Nx's
 * graph files land there) and removes from the environment what a caller may have exported
 * (PLATFORM_ENV, CI, TF_*, AWS_*, CDKTF_*, ...) so no result depends on it. Workers are started
 * after this runs and inherit both.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolateEnvironment, RUN_TMP_ENV } from './isolation.mjs';

export default function globalSetup() {
  const runTmp = mkdtempSync(join(tmpdir(), 'spark-platform-jest-'));
  isolateEnvironment(process.env);
  process.env[RUN_TMP_ENV] = runTmp;
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = runTmp;
}
