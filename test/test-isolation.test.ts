/**
 * The test run's own guarantees (test/support/global-setup.mjs): what the caller exported cannot
 * change a result, and everything a test writes lands in the run's temporary directory, which is
 * removed when the run ends (no `cdktf.outdir.*` left in the system temporary directory).
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { isolateEnvironment, RUN_TMP_ENV, TEST_TODAY } from './support/isolation.mjs';

describe('test isolation', () => {
  it("removes the caller's PLATFORM_ENV, CI, TF_*, AWS_*, CDKTF_*, GITHUB_* and pins Nx to local runs", () => {
    for (const name of Object.keys(process.env)) {
      assert.ok(!/^(PLATFORM_ENV|CI|AWS_.*|CDKTF_.*|GITHUB_.*)$/.test(name), `${name} reached the tests`);
      if (name.startsWith('TF_')) assert.equal(name, 'TF_PROVIDER_MIRROR', `${name} reached the tests`);
    }
    assert.equal(process.env.NX_DAEMON, 'false');
    assert.equal(process.env.NX_NO_CLOUD, 'true');
    assert.equal(process.env.PLATFORM_TODAY, TEST_TODAY, 'EKS support checks see a pinned date, not the day the tests run');
  });

  it('keeps what locates the offline Terraform, drops the rest', () => {
    const env = isolateEnvironment({
      PLATFORM_ENV: 'prod',
      CI: 'true',
      TF_LOG: 'TRACE',
      TF_CLI_ARGS_plan: '-refresh=false',
      TF_PROVIDER_MIRROR: '/opt/tf-plugins',
      TERRAFORM_BIN: '/usr/bin/terraform',
      AWS_PROFILE: 'prod-admin',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      CDKTF_OUTDIR: '/elsewhere',
      NX_DAEMON: 'true',
      PLATFORM_TODAY: '2030-01-01',
      PATH: '/usr/bin',
    });
    assert.deepEqual(env, {
      TF_PROVIDER_MIRROR: '/opt/tf-plugins',
      TERRAFORM_BIN: '/usr/bin/terraform',
      PATH: '/usr/bin',
      PLATFORM_TODAY: TEST_TODAY,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NX_SKIP_NX_CACHE: 'true',
    });
  });

  it("writes temporary files, cdktf's test output included, only inside the run's directory", () => {
    const runTmp = process.env[RUN_TMP_ENV];
    assert.ok(runTmp, `${RUN_TMP_ENV} is set by the global setup`);
    assert.equal(tmpdir(), runTmp);
    const app = Testing.app();
    assert.ok(app.outdir.startsWith(`${runTmp}/`), app.outdir);
  });
});
