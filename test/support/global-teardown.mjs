/** Runs once after every test file: removes the run's temporary directory and all it holds. */
import { rmSync } from 'node:fs';
import { RUN_TMP_ENV } from './isolation.mjs';

export default function globalTeardown() {
  const runTmp = process.env[RUN_TMP_ENV];
  if (runTmp) rmSync(runTmp, { recursive: true, force: true });
}
