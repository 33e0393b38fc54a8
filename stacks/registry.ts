/**
 * Every stack of the platform, in deploy order. Each entry is one Terraform state and one Nx
 * project (`stacks/<name>/project.json`, tenants inferred from `tenants/<name>/tenant.yaml`).
 */
import type { Construct } from 'constructs';
import { BootstrapStack } from './bootstrap/stack.js';
import { ClusterStack } from './cluster/stack.js';
import type { Environment } from './lib/environment.js';
import type { PlatformStack } from './lib/platform-stack.js';
import { NetworkStack } from './network/stack.js';

export interface StackDefinition {
  readonly name: string;
  /** Whether every provider of the stack is in the offline mirror (AWS only), so CI can validate it. */
  readonly awsOnly: boolean;
  create(scope: Construct): PlatformStack;
}

/** Reads every configuration file the stacks need and returns their definitions, or throws ConfigError. */
export function stackDefinitions(_root: string, environment: Environment): StackDefinition[] {
  return [
    { name: 'bootstrap', awsOnly: true, create: (scope) => new BootstrapStack(scope, environment) },
    { name: 'network', awsOnly: true, create: (scope) => new NetworkStack(scope, environment) },
    { name: 'cluster', awsOnly: true, create: (scope) => new ClusterStack(scope, environment) },
  ];
}
