/**
 * Jest reporter behind the closing line of `npm test`: "N passed, N failed" (", N skipped" when
 * some were). A test file that could not run at all (a syntax or import error) counts as one
 * failure, so the line never reads "0 failed" for a broken run. scripts/test.mjs prints the line
 * after jest has exited (jest's own summary comes last otherwise); run directly, jest gets it here.
 */
import { writeFileSync } from 'node:fs';

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    const file = process.env.JEST_SUMMARY_FILE;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped, line }));
    else process.stdout.write(`${line}\n`);
  }
}
