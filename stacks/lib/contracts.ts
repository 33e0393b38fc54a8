/**
 * Typed remote-state contracts between stacks. A producer publishes exactly the outputs its
 * contract names; a consumer reads them through `DataTerraformRemoteStateS3` with the same names
 * and types, so renaming an output breaks compilation, not a deploy.
 */
import { DataTerraformRemoteStateS3, Fn, Lazy, TerraformOutput, Token } from 'cdktf';
import { DataAwsS3Objects } from '@cdktf/provider-aws/lib/data-aws-s3-objects/index.js';
import type { PlatformStack } from './platform-stack.js';
import { stateBackendConfig, stateKey } from './platform-stack.js';

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

interface RemoteStateReader {
  readonly state: DataTerraformRemoteStateS3;
  /** Outputs the consuming stack's code used. */
  readonly used: Set<string>;
  /** Every output of the producer's contract, in contract order. */
  readonly outputs: readonly string[];
}

const readers = new WeakMap<PlatformStack, Map<string, RemoteStateReader>>();

/** The upstream stacks a stack reads state from (its deploy-order dependencies). */
export function remoteStateDependencies(stack: PlatformStack): string[] {
  return [...(readers.get(stack)?.keys() ?? [])].sort();
}

/** Every output of `producer` the stack's code used, per upstream stack. */
export function remoteStateReads(stack: PlatformStack): Record<string, string[]> {
  return Object.fromEntries([...(readers.get(stack)?.entries() ?? [])].map(([producer, reader]) => [producer, usedOutputs(reader)]));
}

function usedOutputs(reader: RemoteStateReader): string[] {
  return reader.outputs.filter((name) => reader.used.has(name));
}

/**
 * Checks on a remote-state read, so that a plan whose upstream stack is missing stops with a message
 * that names the upstream stack, where its state should be, the outputs this stack needs and the
 * fix, instead of Terraform's "Unable to find remote state" (no state object: never deployed) or
 * "object with no attributes" on the first reference (an emptied state: destroyed):
 *
 * - a precondition, evaluated before the state is read: the state object exists (an
 *   `aws_s3_objects` listing of its key, which needs only s3:ListBucket on the state bucket);
 * - a postcondition, evaluated as soon as it is read: the state has every output this stack uses.
 */
function missingUpstreamChecks(stack: PlatformStack, producer: string, needs: () => string[]) {
  const key = stateKey(stack.environment, producer);
  const location = `s3://${stack.environment.stateBucket}/${key}`;
  const needed = () => `[${needs().map((name) => JSON.stringify(name)).join(', ')}]`;
  const missing = () => `sort(setsubtract(${needed()}, keys(self.outputs)))`;
  const listing = new DataAwsS3Objects(stack, `remote-state-${producer}-object`, { bucket: stack.environment.stateBucket, prefix: key, maxKeys: 1 });
  // Named alone, cdktf refuses a stack whose own upstream stacks are not named too: they are deployed.
  const fix = `Deploy it first: npx cdktf deploy ${producer} --ignore-missing-stack-dependencies`;
  return {
    precondition: {
      condition: Token.asString(Fn.contains(listing.keys, key)),
      error_message: Lazy.stringValue({
        produce: () => `Stack "${stack.stackName}" needs output(s) ${needs().join(', ')} of stack "${producer}", but its state ${location} does not exist: "${producer}" is not deployed. ${fix}`,
      }),
    },
    postcondition: {
      condition: Lazy.stringValue({ produce: () => `\${length(${missing()}) == 0}` }),
      error_message: Lazy.stringValue({
        produce: () =>
          `Stack "${stack.stackName}" needs output(s) \${join(", ", ${missing()})} of stack "${producer}", ` +
          `but the state ${location} lacks them: "${producer}" was destroyed, or predates these outputs. ${fix}`,
      }),
    },
  };
}

/** Reads a producer's outputs from its S3 state (one data source per producer and consumer). */
export function readOutputs<O extends Record<string, OutputKind>>(stack: PlatformStack, contract: StackContract<O>): ContractValues<O> {
  let byStack = readers.get(stack);
  if (!byStack) readers.set(stack, (byStack = new Map()));
  let reader = byStack.get(contract.stack);
  if (!reader) {
    const state = new DataTerraformRemoteStateS3(stack, `remote-state-${contract.stack}`, stateBackendConfig(stack.environment, contract.stack));
    const created: RemoteStateReader = { state, used: new Set(), outputs: Object.keys(contract.outputs) };
    const checks = missingUpstreamChecks(stack, contract.stack, () => usedOutputs(created));
    state.addOverride('lifecycle.precondition', [checks.precondition]);
    state.addOverride('lifecycle.postcondition', [checks.postcondition]);
    reader = created;
    byStack.set(contract.stack, reader);
  }
  const { state, used } = reader;
  // Getters record which outputs the stack uses, so the postcondition asks exactly for those.
  const values = {};
  for (const [key, kind] of Object.entries(contract.outputs)) {
    Object.defineProperty(values, key, {
      enumerable: true,
      get: () => {
        used.add(key);
        return kind === 'list' ? state.getList(key) : state.getString(key);
      },
    });
  }
  return values as ContractValues<O>;
}
