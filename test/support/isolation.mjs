/**
 * What a caller's shell may export that would change what the product does, and so must never
 * reach a test: the selected environment, CI mode, Terraform and AWS settings, cdktf's output
 * and context variables, Nx's daemon and cloud switches. Test infrastructure variables stay:
 * TF_PROVIDER_MIRROR and TERRAFORM_BIN (where the offline Terraform is) and
 * SKIP_TERRAFORM_VALIDATE (turn its absence into skips).
 */
export const RUN_TMP_ENV = 'SPARK_PLATFORM_TEST_TMP';

/**
 * The date every test (and every synth a test starts) checks EKS support dates against
 * (PLATFORM_TODAY, stacks/lib/kubernetes-support.ts), so no result depends on the day the tests
 * run. Tests of the support logic pass their own dates.
 */
export const TEST_TODAY = '2026-12-01';

const KEEP = new Set(['TF_PROVIDER_MIRROR', 'TERRAFORM_BIN', 'SKIP_TERRAFORM_VALIDATE']);
const DROP_EXACT = new Set(['PLATFORM_ENV', 'PLATFORM_SYNTH_STATS', 'PLATFORM_TODAY', 'CI', 'CHECKPOINT_DISABLE']);
const DROP_PREFIXES = ['TF_', 'AWS_', 'CDKTF_', 'NX_', 'GITHUB_', 'RUNNER_', 'MOTO_'];

/** Removes the caller's product-affecting variables from `env`, pins the date and pins Nx to local, quiet runs. */
export function isolateEnvironment(env) {
  for (const name of Object.keys(env)) {
    if (KEEP.has(name)) continue;
    if (DROP_EXACT.has(name) || DROP_PREFIXES.some((prefix) => name.startsWith(prefix))) delete env[name];
  }
  Object.assign(env, { PLATFORM_TODAY: TEST_TODAY, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true' });
  return env;
}
