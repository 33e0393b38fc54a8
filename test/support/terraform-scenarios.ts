/**
 * Real Terraform plans for several scenarios at the cost of one plan. Each scenario is a module
 * instance of one root configuration, over one prior state; terraform runs three times in all
 * (init, plan, show) instead of three times per scenario. Every provider start loads the AWS
 * provider's schema (seconds of CPU each), which made per-scenario plans the slowest tests.
 *
 * A scenario's plan is the root plan's resource changes under `module.<scenario>.`, with that
 * prefix removed, so addresses read as in a stack of its own (what plan-review and the plan
 * comparison see in CI). Nothing else of the plan is rewritten.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OfflineTerraform } from '../../scripts/lib/terraform.js';
import { parsePlan, type TerraformPlan } from '../../scripts/plan-review/review.js';

/** One resource of the prior state, inside a scenario's module. */
export interface ScenarioStateResource {
  readonly type: string;
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  /** Schema version of the resource type in the pinned provider (state must match it). @default 0 */
  readonly schemaVersion?: number;
}

export interface Scenario {
  /** Source folder of the module, relative to the root configuration (`./<scenario>` for its own files). */
  readonly source: string;
  /** Module inputs. @default none */
  readonly inputs?: Record<string, unknown>;
  /** Resources this scenario already has in the prior state. @default none */
  readonly state?: readonly ScenarioStateResource[];
}

export interface ScenarioPlans {
  /** The working directory holding the root configuration, its state and the plan. */
  readonly dir: string;
  readonly plans: ReadonlyMap<string, TerraformPlan>;
}

const AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]';

/**
 * Plans every scenario in `dir` (created), where `modules` are written first: folder name ->
 * file name -> Terraform JSON. The AWS provider never calls AWS (no refresh, skipped checks).
 */
export function planScenarios(
  tf: OfflineTerraform,
  dir: string,
  modules: Record<string, Record<string, unknown>>,
  scenarios: Record<string, Scenario>,
  region = 'us-west-2',
): ScenarioPlans {
  for (const [folder, files] of Object.entries(modules)) {
    mkdirSync(join(dir, folder), { recursive: true });
    for (const [file, json] of Object.entries(files)) writeFileSync(join(dir, folder, file), `${JSON.stringify(json, null, 2)}\n`);
  }
  writeFileSync(
    join(dir, 'main.tf.json'),
    JSON.stringify({
      terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '5.100.0' } } },
      provider: { aws: { region, skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true } },
      module: Object.fromEntries(Object.entries(scenarios).map(([name, s]) => [name, { source: s.source, ...s.inputs }])),
    }),
  );
  const resources = Object.entries(scenarios).flatMap(([name, s]) =>
    (s.state ?? []).map((r) => ({
      mode: 'managed',
      module: `module.${name}`,
      type: r.type,
      name: r.name,
      provider: AWS_PROVIDER,
      instances: [{ schema_version: r.schemaVersion ?? 0, attributes: r.attributes, sensitive_attributes: [] }],
    })),
  );
  writeFileSync(join(dir, 'terraform.tfstate'), JSON.stringify({ version: 4, terraform_version: '1.11.0', serial: 1, lineage: '5b7c2f0e-13b0-4c1e-9a51-test-scenarios', outputs: {}, resources }));
  tf.run(['init', '-input=false', '-no-color'], dir);
  tf.run(['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=p.tfplan'], dir);
  const all = parsePlan(tf.run(['show', '-json', 'p.tfplan'], dir).stdout, join(dir, 'p.tfplan'));
  return { dir, plans: new Map(Object.keys(scenarios).map((name) => [name, scenarioPlan(all, name)])) };
}

/** One scenario's plan: the module instance's resource changes, addressed as in a stack of its own. */
export function scenarioPlan(plan: TerraformPlan, module: string): TerraformPlan {
  const prefix = `module.${module}.`;
  return {
    ...plan,
    resource_changes: plan.resource_changes
      .filter((rc) => rc.address.startsWith(prefix))
      .map(({ module_address: _module, ...rc }) => ({ ...rc, address: rc.address.slice(prefix.length) })),
  };
}
