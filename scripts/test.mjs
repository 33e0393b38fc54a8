#!/usr/bin/env node
// `npm test` after `tsc -b`: runs jest (native ES modules, see jest.config.mjs) and prints one
// plain line last, "N passed, N failed", after everything jest prints. Arguments are passed to
// jest (`npm test -- test/network.test.ts`). Exits with jest's status, and non-zero when nothing
// passed or a test file could not run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// jest's package exports do not list its bin script: resolve the package, then the file beside it.
const jest = join(dirname(createRequire(import.meta.url).resolve('jest/package.json')), 'bin', 'jest.js');
const dir = mkdtempSync(join(tmpdir(), 'jest-summary-'));
const summaryFile = join(dir, 'summary.json');
try {
  const result = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--experimental-vm-modules', jest, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, JEST_SUMMARY_FILE: summaryFile },
  });
  let summary;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    summary = undefined;
  }
  if (!summary) {
    console.log(`0 passed, 1 failed (jest exited ${result.status ?? result.signal} before reporting results)`);
    process.exitCode = 1;
  } else {
    console.log(summary.line);
    process.exitCode = result.status === 0 && summary.failed === 0 && summary.passed > 0 ? 0 : result.status || 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
