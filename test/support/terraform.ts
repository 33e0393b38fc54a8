/**
 * Offline terraform for tests. Tests that need it fail when terraform or the provider mirror is
 * missing, unless SKIP_TERRAFORM_VALIDATE=1: then they are skipped, and listed as skipped.
 */
import { test } from '@jest/globals';
import { offlineTerraform, TerraformUnavailableError, type OfflineTerraform } from '../../scripts/lib/terraform.js';

export interface TestTerraform {
  /** The runner, undefined when terraform or the mirror is missing. */
  readonly terraform: OfflineTerraform | undefined;
  /** `test`, or `test.skip` when terraform is missing and SKIP_TERRAFORM_VALIDATE=1. */
  readonly terraformTest: typeof test | typeof test.skip;
  /** The runner; a missing terraform fails the test that asks for it. */
  need(): OfflineTerraform;
}

export function testTerraform(): TestTerraform {
  let terraform: OfflineTerraform | undefined;
  let missing = '';
  try {
    terraform = offlineTerraform();
  } catch (error) {
    if (!(error instanceof TerraformUnavailableError)) throw error;
    missing = error.message;
  }
  const skip = terraform === undefined && process.env.SKIP_TERRAFORM_VALIDATE === '1';
  if (skip) console.warn(`SKIPPED: terraform unavailable (${missing}); unset SKIP_TERRAFORM_VALIDATE to make these tests fail`);
  return {
    terraform,
    terraformTest: skip ? test.skip : test,
    need() {
      if (terraform) return terraform;
      throw new Error(`terraform unavailable: ${missing} (set SKIP_TERRAFORM_VALIDATE=1 to skip these tests)`);
    },
  };
}
