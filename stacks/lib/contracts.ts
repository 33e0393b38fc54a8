/**
 * Typed remote-state contracts between stacks. A producer publishes exactly the outputs its
 * contract names; a consumer reads them through `DataTerraformRemoteStateS3` with the same names
 * and types, so renaming an output breaks compilation, not a deploy.
 */
import { DataTerraformRemoteStateS3, TerraformOutput } from 'cdktf';
import type { PlatformStack } from './platform-stack.js';
import { stateKey } from './platform-stack.js';

export type OutputKind = 'string' | 'list' | 'sensitive-string';

export interface StackContract<O extends Record<string, OutputKind>> {
  /** The producing stack's name (and so its state key). */
  readonly stack: string;
  readonly outputs: O;
  /** What each output means, for `terraform output` readers. */
  readonly descriptions: { readonly [K in keyof O]: string };
}

export type ContractValues<O extends Record<string, OutputKind>> = {
  readonly [K in keyof O]: O[K] extends 'list' ? string[] : string;
};

export function defineContract<O extends Record<string, OutputKind>>(contract: StackContract<O>): StackContract<O> {
  return contract;
}

/** Publishes every output of the contract from its producing stack. */
export function publishOutputs<O extends Record<string, OutputKind>>(
  stack: PlatformStack,
  contract: StackContract<O>,
  values: ContractValues<O>,
): void {
  if (stack.stackName !== contract.stack) {
    throw new Error(`contract for stack "${contract.stack}" published from stack "${stack.stackName}"`);
  }
  for (const key of Object.keys(contract.outputs) as (keyof O & string)[]) {
    const output = new TerraformOutput(stack, `output-${key}`, {
      value: values[key],
      description: contract.descriptions[key],
      sensitive: contract.outputs[key] === 'sensitive-string',
    });
    output.overrideLogicalId(key);
  }
}

const readers = new WeakMap<PlatformStack, Map<string, DataTerraformRemoteStateS3>>();

/** The upstream stacks a stack reads state from (its deploy-order dependencies). */
export function remoteStateDependencies(stack: PlatformStack): string[] {
  return [...(readers.get(stack)?.keys() ?? [])].sort();
}

/** Reads a producer's outputs from its S3 state (one data source per producer and consumer). */
export function readOutputs<O extends Record<string, OutputKind>>(stack: PlatformStack, contract: StackContract<O>): ContractValues<O> {
  let byStack = readers.get(stack);
  if (!byStack) readers.set(stack, (byStack = new Map()));
  let state = byStack.get(contract.stack);
  if (!state) {
    state = new DataTerraformRemoteStateS3(stack, `remote-state-${contract.stack}`, {
      bucket: stack.environment.stateBucket,
      key: stateKey(stack.environment, contract.stack),
      region: stack.environment.region,
      encrypt: true,
    });
    byStack.set(contract.stack, state);
  }
  const values: Record<string, string | string[]> = {};
  for (const [key, kind] of Object.entries(contract.outputs)) {
    values[key] = kind === 'list' ? state.getList(key) : state.getString(key);
  }
  return values as ContractValues<O>;
}
