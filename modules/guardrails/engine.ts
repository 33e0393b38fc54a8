/**
 * Runs the rule pack over one synthesized stack: builds the stack index once, offers every
 * resource to the rules that apply to its type (dispatch table cached per rule set), applies
 * suppressions and reports violations in the format
 *
 *   [RULE-ID] <stack>/<resource address>: <what is wrong>. Fix: <how>
 */
import { utcDate } from '../eks-cluster/versions.js';
import type { Rule, RuleContext } from './rule.js';
import { ALL_RULES } from './rules.js';
import { covers, MIN_REASON_LENGTH, type Suppression } from './suppressions.js';
import { StackIndex, type TerraformJson, type TfResource } from './terraform.js';

/** The meta-rule for suppressions themselves; it cannot be suppressed. */
export const SUPPRESSION_RULE = {
  id: 'GR-001',
  title: 'Suppressions name a known rule and give a written reason',
  description: `A suppression must say why the finding is acceptable (at least ${MIN_REASON_LENGTH} characters), so reviewers can judge it.`,
  fix: `Pass suppressRule(construct, '<RULE-ID>', '<why this is acceptable, at least ${MIN_REASON_LENGTH} characters>') with an existing rule id.`,
} as const;

export interface GuardrailFinding {
  readonly ruleId: string;
  readonly stack: string;
  /** Terraform address (`aws_iam_role.x`, `provider.aws`); for GR-001 the construct path inside the stack. */
  readonly address: string;
  readonly constructPath: string;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

export interface SuppressedFinding extends GuardrailFinding {
  readonly reason: string;
  /** Path of the construct the suppression was put on. */
  readonly suppressedAt: string;
}

export interface SuppressionReport {
  readonly ruleId: string;
  readonly constructPath: string;
  readonly reason: string;
  /** How many findings it suppressed (0: stale, or the resource is compliant in this environment). */
  readonly matched: number;
}

export interface StackGuardrailResult {
  readonly stack: string;
  readonly environment: string;
  /** Resources and providers checked. */
  readonly resources: number;
  /** Ids of the rules that applied to at least one resource of the stack. */
  readonly rulesRun: readonly string[];
  readonly violations: readonly GuardrailFinding[];
  readonly suppressed: readonly SuppressedFinding[];
  readonly suppressions: readonly SuppressionReport[];
}

export interface EvaluateOptions {
  readonly stackName: string;
  readonly environmentName: string;
  /** @default [] */
  readonly suppressions?: readonly Suppression[];
  /** @default ALL_RULES */
  readonly rules?: readonly Rule[];
  /**
   * The date rules about support dates compare with (YYYY-MM-DD, UTC).
   * @default the current UTC date
   */
  readonly today?: string;
}

/** `[RULE-ID] <stack>/<address>: <what is wrong>. Fix: <how>` */
export function formatFinding(finding: GuardrailFinding): string {
  const message = finding.message.replace(/[.\s]+$/, '');
  return `[${finding.ruleId}] ${finding.stack}/${finding.address}: ${message}. Fix: ${finding.fix}`;
}

const dispatchCache = new WeakMap<readonly Rule[], Map<string, readonly Rule[]>>();

function rulesFor(rules: readonly Rule[], type: string): readonly Rule[] {
  let byType = dispatchCache.get(rules);
  if (!byType) dispatchCache.set(rules, (byType = new Map()));
  let applicable = byType.get(type);
  if (!applicable) byType.set(type, (applicable = rules.filter((rule) => rule.appliesTo(type))));
  return applicable;
}

function relativePath(stack: string, constructPath: string): string {
  return constructPath === stack ? '(stack)' : constructPath.startsWith(`${stack}/`) ? constructPath.slice(stack.length + 1) : constructPath;
}

/** Checks one stack's Terraform JSON against the rules. Pure: reads `terraform`, never changes it. */
export function evaluateStack(terraform: TerraformJson, options: EvaluateOptions): StackGuardrailResult {
  const rules = options.rules ?? ALL_RULES;
  const index = new StackIndex(terraform, options.stackName);
  const context: RuleContext = { stackName: options.stackName, environmentName: options.environmentName, index, today: options.today ?? utcDate(new Date()) };
  const known = new Set([...ALL_RULES, ...rules].map((r) => r.id));

  const violations: GuardrailFinding[] = [];
  const valid: Suppression[] = [];
  for (const suppression of options.suppressions ?? []) {
    const problem = !known.has(suppression.ruleId)
      ? `suppresses unknown rule ${JSON.stringify(suppression.ruleId)}`
      : suppression.reason.trim().length < MIN_REASON_LENGTH
        ? `suppression of ${suppression.ruleId} has a reason of ${suppression.reason.trim().length} characters (${JSON.stringify(suppression.reason.trim())}); at least ${MIN_REASON_LENGTH} are required`
        : undefined;
    if (problem) {
      violations.push({
        ruleId: SUPPRESSION_RULE.id,
        stack: options.stackName,
        address: relativePath(options.stackName, suppression.constructPath),
        constructPath: suppression.constructPath,
        message: problem,
        fix: SUPPRESSION_RULE.fix,
      });
    } else {
      valid.push(suppression);
    }
  }
  const matched = new Map<Suppression, number>(valid.map((s) => [s, 0]));
  const suppressed: SuppressedFinding[] = [];
  const rulesRun = new Set<string>();

  const report = (rule: Rule, resource: TfResource, message: string, fix: string) => {
    const finding: GuardrailFinding = { ruleId: rule.id, stack: options.stackName, address: resource.address, constructPath: resource.constructPath, message, fix };
    const suppression = valid.find((s) => s.ruleId === rule.id && covers(s.constructPath, resource.constructPath));
    if (suppression) {
      matched.set(suppression, matched.get(suppression)! + 1);
      suppressed.push({ ...finding, reason: suppression.reason.trim(), suppressedAt: suppression.constructPath });
    } else {
      violations.push(finding);
    }
  };

  for (const resource of index.checkable) {
    for (const rule of rulesFor(rules, resource.type)) {
      rulesRun.add(rule.id);
      for (const problem of rule.check(resource, context)) {
        if (typeof problem === 'string') report(rule, resource, problem, rule.fix);
        else report(rule, resource, problem.message, problem.fix ?? rule.fix);
      }
    }
  }

  const order = new Map(rules.map((r, i) => [r.id, i]));
  return {
    stack: options.stackName,
    environment: options.environmentName,
    resources: index.checkable.length,
    rulesRun: [...rulesRun].sort((a, b) => order.get(a)! - order.get(b)!),
    violations,
    suppressed,
    suppressions: valid.map((s) => ({ ruleId: s.ruleId, constructPath: s.constructPath, reason: s.reason.trim(), matched: matched.get(s)! })),
  };
}
