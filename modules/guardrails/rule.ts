/**
 * The guardrail rule contract. A rule inspects one synthesized Terraform resource (plus, through
 * the context's index, the rest of its stack) and says what is wrong with it, in words a platform
 * engineer can act on. Rules are pure: no I/O, no mutation of the resources they read.
 */
import type { StackIndex, TfResource } from './terraform.js';

export type { StackIndex, TfResource } from './terraform.js';

/** What a rule sees besides the resource: where it is and the indexed rest of its stack. */
export interface RuleContext {
  /** Name of the stack (= Terraform state) being checked. */
  readonly stackName: string;
  /** Name of the environment (`dev`, `prod`, ...): some rules are relaxed in `dev` only. */
  readonly environmentName: string;
  /** Every resource, data source and provider of the stack, indexed once per stack. */
  readonly index: StackIndex;
  /** The date the check is made for (YYYY-MM-DD, UTC): rules about support dates compare with it. */
  readonly today: string;
}

/** A problem found by a rule; `fix` overrides the rule's generic fix when it can be more specific. */
export interface RuleProblem {
  readonly message: string;
  readonly fix?: string;
}

export interface Rule {
  /** Stable id, `<FAMILY>-<NNN>`, e.g. `S3-001`: what suppressions and reviewers refer to. */
  readonly id: string;
  /** One line: what the rule requires. */
  readonly title: string;
  /** Why a security reviewer cares. */
  readonly description: string;
  /** How to fix a violation, in general terms. */
  readonly fix: string;
  /**
   * Resource types the rule inspects (`aws_s3_bucket`, `kubernetes_manifest`, ...); providers are
   * offered as the pseudo type `provider.<name>` (e.g. `provider.aws`).
   */
  appliesTo(resourceType: string): boolean;
  /** What is wrong with `resource` (empty when nothing is). */
  check(resource: TfResource, context: RuleContext): readonly (string | RuleProblem)[];
}

/** `appliesTo` for a fixed list of types. */
export function types(...names: string[]): (resourceType: string) => boolean {
  const set = new Set(names);
  return (resourceType) => set.has(resourceType);
}
