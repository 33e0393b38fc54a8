/**
 * Suppressing a guardrail for one construct (and everything beneath it), with a written reason.
 *
 *   suppressRule(this.controllerPolicy, 'IAM-002', 'ec2:RunInstances needs ... because ...');
 *
 * The suppression is stored as construct metadata (type SUPPRESSION_METADATA_TYPE), so it lives
 * next to the code that needs it and shows up in the construct tree; the synth lists every
 * suppression with its reason and writes them to cdktf.out/guardrails.json. A reason shorter than
 * MIN_REASON_LENGTH characters, or an unknown rule id, is itself a violation (GR-001).
 */
import { TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';

export const SUPPRESSION_METADATA_TYPE = 'spark-platform/guardrail-suppression';

/** Minimum length of a suppression reason (after trimming). */
export const MIN_REASON_LENGTH = 20;

export interface Suppression {
  readonly ruleId: string;
  readonly reason: string;
  /** Path of the construct the suppression was put on; it covers this path and everything below. */
  readonly constructPath: string;
}

/** Constructs carrying suppressions, per stack, so collecting them needs no walk over the construct tree. */
const suppressed = new WeakMap<IConstruct, Set<IConstruct>>();

/** Suppresses `ruleId` for `scope` and everything beneath it. `reason` says why the finding is acceptable. */
export function suppressRule(scope: IConstruct, ruleId: string, reason: string): void {
  scope.node.addMetadata(SUPPRESSION_METADATA_TYPE, { ruleId, reason }, { stackTrace: false });
  const stack = TerraformStack.of(scope);
  let set = suppressed.get(stack);
  if (!set) suppressed.set(stack, (set = new Set()));
  set.add(scope);
}

/** Every suppression placed inside a stack, in the order they were added. */
export function suppressionsOf(stack: IConstruct): Suppression[] {
  const out: Suppression[] = [];
  for (const scope of suppressed.get(stack) ?? []) {
    for (const entry of scope.node.metadata) {
      if (entry.type !== SUPPRESSION_METADATA_TYPE) continue;
      const data = entry.data as { ruleId?: unknown; reason?: unknown };
      out.push({ ruleId: String(data.ruleId ?? ''), reason: typeof data.reason === 'string' ? data.reason : '', constructPath: scope.node.path });
    }
  }
  return out;
}

/** Whether a suppression placed at `constructPath` covers a resource at `resourcePath`. */
export function covers(constructPath: string, resourcePath: string): boolean {
  return resourcePath === constructPath || resourcePath.startsWith(`${constructPath}/`);
}
