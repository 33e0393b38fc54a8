/**
 * cdktf's jest matchers (registered by test/support/jest-setup.ts) for the `expect` that
 * `@jest/globals` exports: cdktf declares them only on the global `jest.Matchers`. They take the
 * JSON text of `Testing.synth` (see `synthText`) and a provider construct class, and compare
 * snake_case properties; nested objects and arrays must match exactly (arrays element by element).
 */
import type { TerraformConstructor } from 'cdktf/lib/testing/matchers.js';

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>> {
    toHaveResource(resourceConstructor: TerraformConstructor): R;
    toHaveResourceWithProperties(resourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
    toHaveDataSource(dataSourceConstructor: TerraformConstructor): R;
    toHaveDataSourceWithProperties(dataSourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
    toHaveProvider(providerConstructor: TerraformConstructor): R;
    toHaveProviderWithProperties(providerConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
  }
}
