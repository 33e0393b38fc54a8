/**
 * Jest runs the TypeScript tests from source as native ES modules (the product is ESM, and
 * kubernetes-models is ESM-only), transpiled by SWC. SWC does not type-check: `npm test` runs
 * `tsc -b` (strict) first, which also compiles the scripts that tests run as subprocesses.
 *
 * Isolation: test/support/global-setup.mjs gives the run one temporary directory (removed by
 * global-teardown.mjs) and strips the caller's PLATFORM_ENV, CI, TF_*, AWS_*, CDKTF_*, NX_*.
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  // Sources import their siblings as `./x.js` (NodeNext): resolve those to the `.ts` files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  // Keep jest's transform cache out of the system temporary directory.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // Two cores on the CI machines: one worker per core.
  maxWorkers: 2,
  // Several tests run terraform, Nx or the synth as subprocesses.
  testTimeout: 120_000,
};
