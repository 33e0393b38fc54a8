/**
 * Guardrails at synth: every PlatformStack gets a cdktf validation that checks its Terraform JSON
 * against the rule pack in modules/guardrails and fails the synth with one line per violation
 *
 *   [RULE-ID] <stack>/<resource address>: <what is wrong>. Fix: <how>
 *
 * Results are kept per App so `synthesize` can report every stack's violations at once (cdktf
 * stops at the first stack whose validation fails) and write cdktf.out/guardrails.json.
 */
import type { IConstruct, IValidation } from 'constructs';
import { evaluateStack, formatFinding, type GuardrailFinding, type StackGuardrailResult, SUPPRESSION_RULE } from '../../modules/guardrails/engine.js';
import { ALL_RULES } from '../../modules/guardrails/rules.js';
import { suppressionsOf } from '../../modules/guardrails/suppressions.js';
import type { TerraformJson } from '../../modules/guardrails/terraform.js';
import { evaluationDate } from './kubernetes-support.js';

/** What the guardrails need from a stack (PlatformStack implements it). */
export interface GuardedStack extends IConstruct {
  readonly stackName: string;
  readonly environment: { readonly name: string };
  /** The stack's Terraform JSON; the synthesizer's next `toTerraform()` may reuse it. */
  terraformForGuardrails(): TerraformJson;
  /** Drops the JSON kept for the synthesizer (used when the synth is going to fail anyway). */
  discardGuardrailTerraform(): void;
}

/** Guardrail results per App (the construct tree root), keyed by stack name. */
const resultsByApp = new WeakMap<IConstruct, Map<string, StackGuardrailResult>>();

/** Runs the rule pack over a stack and records the result for its App. */
export function checkStack(stack: GuardedStack): StackGuardrailResult {
  const result = evaluateStack(stack.terraformForGuardrails(), {
    stackName: stack.stackName,
    environmentName: stack.environment.name,
    suppressions: suppressionsOf(stack),
    today: evaluationDate(),
  });
  if (result.violations.length > 0) stack.discardGuardrailTerraform();
  const root = stack.node.root;
  let results = resultsByApp.get(root);
  if (!results) resultsByApp.set(root, (results = new Map()));
  results.set(stack.stackName, result);
  return result;
}

/** The validation PlatformStack adds: one error string per unsuppressed violation. */
export function guardrailValidation(stack: GuardedStack): IValidation {
  return { validate: () => checkStack(stack).violations.map(formatFinding) };
}

/** The result recorded for a stack during this App's synth, if its validation ran. */
export function recordedResult(stack: GuardedStack): StackGuardrailResult | undefined {
  return resultsByApp.get(stack.node.root)?.get(stack.stackName);
}

/** Every stack's result, checking the stacks whose validation did not run (cdktf stopped early). */
export function resultsFor(stacks: readonly GuardedStack[]): StackGuardrailResult[] {
  return stacks.map((stack) => recordedResult(stack) ?? checkStack(stack));
}

/** Synth refused: guardrail violations in one or more stacks. The message has one line per violation. */
export class GuardrailViolationError extends Error {
  override name = 'GuardrailViolationError';
  /** Other validation errors cdktf reported in the same run (`[construct path] message`). */
  readonly otherErrors: readonly string[];
  constructor(
    readonly violations: readonly GuardrailFinding[],
    options: { cause?: unknown; otherErrors?: readonly string[] } = {},
  ) {
    super([...violations.map(formatFinding), ...(options.otherErrors ?? [])].join('\n'), { cause: options.cause });
    this.otherErrors = options.otherErrors ?? [];
  }
}

export interface GuardrailReport {
  readonly environment: string;
  readonly rules: readonly { id: string; title: string; description: string; fix: string }[];
  readonly totals: { readonly stacks: number; readonly violations: number; readonly suppressedFindings: number; readonly suppressions: number };
  readonly stacks: readonly GuardrailStackReport[];
}

export interface GuardrailStackReport {
  readonly stack: string;
  readonly resources: number;
  readonly rulesRun: readonly string[];
  readonly violations: number;
  readonly suppressions: readonly { rule: string; construct: string; reason: string; matched: number }[];
  readonly suppressedFindings: readonly { rule: string; resource: string; construct: string; message: string; reason: string }[];
}

export function stackReport(result: StackGuardrailResult): GuardrailStackReport {
  return {
    stack: result.stack,
    resources: result.resources,
    rulesRun: result.rulesRun,
    violations: result.violations.length,
    suppressions: result.suppressions.map((s) => ({ rule: s.ruleId, construct: s.constructPath, reason: s.reason, matched: s.matched })),
    suppressedFindings: result.suppressed.map((f) => ({ rule: f.ruleId, resource: `${f.stack}/${f.address}`, construct: f.constructPath, message: f.message, reason: f.reason })),
  };
}

/** The content of cdktf.out/guardrails.json for stack reports in deploy order. */
export function guardrailReport(environment: string, stacks: readonly GuardrailStackReport[]): GuardrailReport {
  return {
    environment,
    rules: [...ALL_RULES, SUPPRESSION_RULE].map((r) => ({ id: r.id, title: r.title, description: r.description, fix: r.fix })),
    totals: {
      stacks: stacks.length,
      violations: stacks.reduce((n, s) => n + s.violations, 0),
      suppressedFindings: stacks.reduce((n, s) => n + s.suppressedFindings.length, 0),
      suppressions: stacks.reduce((n, s) => n + s.suppressions.length, 0),
    },
    stacks,
  };
}

/**
 * What the synth prints after a successful run: one summary line, then the "Guardrail suppressions"
 * section (rule, stack/resource, reason) and a note for each suppression that matched nothing.
 */
export function guardrailSummary(results: readonly StackGuardrailResult[], reportFile: string): string[] {
  const rules = new Set(results.flatMap((r) => r.rulesRun));
  const suppressed = results.flatMap((r) => r.suppressed);
  const resources = results.reduce((n, r) => n + r.resources, 0);
  const lines = [
    `guardrails: ${rules.size} rule(s) checked ${resources} resource(s) in ${results.length} stack(s): 0 violations, ${suppressed.length} suppressed (report: ${reportFile})`,
  ];
  if (suppressed.length > 0) {
    lines.push('Guardrail suppressions:');
    for (const finding of suppressed) lines.push(`  [${finding.ruleId}] ${finding.stack}/${finding.address}: ${finding.reason}`);
  }
  for (const result of results) {
    for (const s of result.suppressions) {
      if (s.matched === 0) lines.push(`  note: suppression of ${s.ruleId} at ${s.constructPath} matched nothing in this environment (${result.environment})`);
    }
  }
  return lines;
}
