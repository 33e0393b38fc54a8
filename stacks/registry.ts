/**
 * Every stack of the platform, in deploy order. Each entry is one Terraform state and one Nx
 * project (`stacks/<name>/project.json`, tenants inferred from `tenants/<name>/tenant.yaml`).
 */
import type { Construct } from 'constructs';
import { AccountStack } from './account/stack.js';
import { BootstrapStack } from './bootstrap/stack.js';
import { CapacityStack } from './capacity/stack.js';
import { ClusterStack } from './cluster/stack.js';
import { CostStack } from './cost/stack.js';
import { KarpenterStack } from './karpenter/stack.js';
import { KarpenterInfraStack } from './karpenter-infra/stack.js';
import type { Environment } from './lib/environment.js';
import type { PlatformStack } from './lib/platform-stack.js';
import { loadTenantsWithJobs, type TenantWithJobs } from './lib/job-templates.js';
import { NetworkStack } from './network/stack.js';
import { ObservabilityStack } from './observability/stack.js';
import { ObservabilityConfigStack } from './observability-config/stack.js';
import { ObservabilityInfraStack } from './observability-infra/stack.js';
import { TenancyStack } from './tenancy/stack.js';
import { tenantStackName } from './tenant/contract.js';
import { TenantStack } from './tenant/stack.js';

export interface StackDefinition {
  readonly name: string;
  /** Whether every provider of the stack is in the offline mirror (AWS only), so CI can validate it. */
  readonly awsOnly: boolean;
  /** Configuration files (relative to the repository root) whose content shapes the stack. */
  readonly inputs: readonly string[];
  create(scope: Construct): PlatformStack;
}

/**
 * Reads every configuration file the stacks need and returns their definitions, or throws
 * ConfigError. `tenants`: the environment's tenants (with their job templates) when the caller
 * already loaded them.
 */
export function stackDefinitions(root: string, environment: Environment, tenants: readonly TenantWithJobs[] = loadTenantsWithJobs(root, environment)): StackDefinition[] {
  // Every tenant file (and job template) is validated before any stack exists: one bad file fails the whole synth.
  const platformInputs = [environment.file];
  return [
    { name: 'bootstrap', awsOnly: true, inputs: platformInputs, create: (scope) => new BootstrapStack(scope, environment) },
    { name: 'account', awsOnly: true, inputs: platformInputs, create: (scope) => new AccountStack(scope, environment) },
    { name: 'network', awsOnly: true, inputs: platformInputs, create: (scope) => new NetworkStack(scope, environment) },
    { name: 'cluster', awsOnly: true, inputs: platformInputs, create: (scope) => new ClusterStack(scope, environment) },
    { name: 'karpenter-infra', awsOnly: true, inputs: platformInputs, create: (scope) => new KarpenterInfraStack(scope, environment) },
    { name: 'karpenter', awsOnly: false, inputs: platformInputs, create: (scope) => new KarpenterStack(scope, environment) },
    { name: 'capacity', awsOnly: false, inputs: platformInputs, create: (scope) => new CapacityStack(scope, environment) },
    { name: 'observability-infra', awsOnly: true, inputs: platformInputs, create: (scope) => new ObservabilityInfraStack(scope, environment) },
    { name: 'observability', awsOnly: false, inputs: platformInputs, create: (scope) => new ObservabilityStack(scope, environment) },
    { name: 'observability-config', awsOnly: false, inputs: platformInputs, create: (scope) => new ObservabilityConfigStack(scope, environment) },
    { name: 'tenancy', awsOnly: false, inputs: platformInputs, create: (scope) => new TenancyStack(scope, environment) },
    { name: 'cost', awsOnly: true, inputs: platformInputs, create: (scope) => new CostStack(scope, environment) },
    // One stack per tenants/<name>/tenant.yaml, after every platform stack.
    ...tenants.map(
      (tenant): StackDefinition => ({
        name: tenantStackName(tenant.name),
        awsOnly: false,
        inputs: [environment.file, tenant.file, ...tenant.jobTemplates.map((job) => job.file)],
        create: (scope) => new TenantStack(scope, environment, tenant, tenant.jobTemplates),
      }),
    ),
  ];
}
