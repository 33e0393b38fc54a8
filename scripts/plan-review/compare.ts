/**
 * The reviewed plan is the applied plan: compares, for one stack, the plan a reviewer approved on
 * the pull request with the plan deploy is about to apply (both `terraform show -json` output).
 *
 * Compared (managed resources only: data sources are re-read by every plan and change nothing):
 * - which resources change, by address (deposed objects included), and with which actions;
 * - which root module outputs change, and how (downstream stacks read them);
 * - for a resource with the same actions in both, the attributes plan-review flags
 *   (`reviewedValues`): IAM policy documents (as parsed JSON), policy attachments and access-policy
 *   associations, security-group rules, tenant quotas. Their planned values are compared, and
 *   "known after apply" counts as a value of its own;
 * - an errored or incomplete plan on either side is a difference.
 * A reviewed change that is no longer planned (typically applied by an earlier, interrupted run of
 * the same deploy) is reported but is not a difference: nothing unreviewed gets applied, and a
 * deploy can be re-run after a partial failure.
 * Other attribute values may differ (an id an upstream apply produced, a timestamp): the reviewer
 * approved the kind of change, and the flagged attributes are the ones reviewed value by value.
 *
 * Pure functions; `renderComparisons` writes the Markdown for the deploy run summary.
 */
import {
  changeKind,
  diffPolicyDocuments,
  IAM_ATTACHMENT_TYPES,
  IAM_POLICY_DOCUMENT_ATTRIBUTES,
  KNOWN_AFTER_APPLY,
  renderValue,
  stableJson,
  type PlanResourceChange,
  type PolicyDelta,
  type TerraformPlan,
} from './review.js';

/** Exit code of a comparison that found differences (0: same, 2: unreadable input). */
export const EXIT_DIFFERENT = 4;

/** Attributes of policy attachments and EKS access-policy associations that say who gets what. */
const ATTACHMENT_ATTRIBUTES = ['policy_arn', 'role', 'user', 'group', 'roles', 'users', 'groups', 'principal_arn', 'cluster_name', 'access_scope'];

/** Security-group rule attributes, per resource type. */
const SECURITY_GROUP_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_security_group: ['ingress', 'egress'],
  aws_security_group_rule: ['type', 'protocol', 'from_port', 'to_port', 'cidr_blocks', 'ipv6_cidr_blocks', 'prefix_list_ids', 'source_security_group_id', 'self'],
  aws_vpc_security_group_ingress_rule: ['ip_protocol', 'from_port', 'to_port', 'cidr_ipv4', 'cidr_ipv6', 'prefix_list_id', 'referenced_security_group_id'],
  aws_vpc_security_group_egress_rule: ['ip_protocol', 'from_port', 'to_port', 'cidr_ipv4', 'cidr_ipv6', 'prefix_list_id', 'referenced_security_group_id'],
};

export type DifferenceKind = 'not-reviewed' | 'not-planned-now' | 'actions' | 'attribute' | 'output' | 'plan';

export interface PlanDifference {
  readonly kind: DifferenceKind;
  /** Resource address, `output.<name>`, or `(plan)`. */
  readonly address: string;
  /** What the reviewed plan said (actions, or the attribute's value). */
  readonly reviewed: string;
  /** What the plan about to be applied says. */
  readonly now: string;
  /** The attribute, for attribute differences. */
  readonly attribute?: string;
  /** One line of Markdown inline text saying what differs, for IAM documents statement by statement. */
  readonly detail?: string;
}

export interface PlanComparison {
  readonly stack: string;
  readonly same: boolean;
  /** What stops the stack: anything planned now that the reviewer did not see as such. */
  readonly differences: readonly PlanDifference[];
  /** Reviewed changes that are not planned any more (already applied): reported, not blocking. */
  readonly noLongerPlanned: readonly PlanDifference[];
  /** Resource and output changes in the plan about to be applied (0: nothing to apply). */
  readonly changes: number;
  /** False when there was no reviewed plan for the stack. */
  readonly reviewed: boolean;
}

interface Change {
  readonly address: string;
  readonly actions: readonly string[];
  readonly rc: PlanResourceChange;
}

/** Changes of managed resources, no-ops left out, by address (a deposed object is its own entry). */
function managedChanges(plan: TerraformPlan): Map<string, Change> {
  const changes = new Map<string, Change>();
  for (const rc of plan.resource_changes) {
    if (rc.mode === 'data' || changeKind(rc.change.actions) === 'no-op') continue;
    const address = rc.deposed ? `${rc.address} (deposed ${rc.deposed})` : rc.address;
    changes.set(address, { address, actions: rc.change.actions, rc });
  }
  return changes;
}

function outputChanges(plan: TerraformPlan): Map<string, readonly string[]> {
  const outputs = new Map<string, readonly string[]>();
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    const actions = Array.isArray(change?.actions) ? change.actions : [];
    if (changeKind(actions) !== 'no-op') outputs.set(name, actions);
  }
  return outputs;
}

/** The number of changes a plan would apply: managed resources and root outputs. */
export function planChangeCount(plan: TerraformPlan): number {
  return managedChanges(plan).size + outputChanges(plan).size;
}

const actionsText = (actions: readonly string[] | undefined): string => (actions && actions.length > 0 ? actions.join(', ') : 'no change');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** A planned value with its unknown markers: "known after apply" is a value of its own. */
interface Planned {
  readonly value: unknown;
  readonly unknown: unknown;
}

function planned(rc: PlanResourceChange, path: readonly string[]): Planned {
  let value: unknown = rc.change.after;
  let unknown: unknown = rc.change.after_unknown;
  for (const key of path) {
    value = field(value, key);
    unknown = unknown === true ? true : field(unknown, key);
  }
  return { value: value ?? null, unknown: unknown ?? false };
}

function parsedDocument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The flagged attributes of a resource change, by attribute name (see the header). */
export function reviewedValues(rc: PlanResourceChange): Map<string, Planned & { document?: boolean }> {
  const values = new Map<string, Planned & { document?: boolean }>();
  for (const attribute of IAM_POLICY_DOCUMENT_ATTRIBUTES[rc.type] ?? []) {
    const p = planned(rc, [attribute]);
    values.set(attribute, { value: parsedDocument(p.value), unknown: p.unknown, document: true });
  }
  if ((IAM_ATTACHMENT_TYPES as readonly string[]).includes(rc.type)) {
    for (const attribute of ATTACHMENT_ATTRIBUTES) if (isRecord(rc.change.after) && attribute in rc.change.after) values.set(attribute, planned(rc, [attribute]));
  }
  for (const attribute of SECURITY_GROUP_ATTRIBUTES[rc.type] ?? []) values.set(attribute, planned(rc, [attribute]));
  if (rc.type === 'kubernetes_manifest' && field(field(rc.change.after, 'manifest'), 'kind') === 'ResourceQuota') {
    values.set('manifest.spec.hard', planned(rc, ['manifest', 'spec', 'hard']));
  }
  if (rc.type === 'kubernetes_resource_quota' || rc.type === 'kubernetes_resource_quota_v1') values.set('spec', planned(rc, ['spec']));
  return values;
}

const plannedText = (p: Planned): string => (p.unknown === true ? KNOWN_AFTER_APPLY : renderValue(p.value));

const DELTA_NAMES: [keyof PolicyDelta, string][] = [
  ['actions', 'actions'],
  ['notActions', 'NotAction'],
  ['resources', 'resources'],
  ['notResources', 'NotResource'],
  ['principals', 'principals'],
  ['notPrincipals', 'NotPrincipal'],
];

/** What the new document grants or stops granting compared with the reviewed one, statement by statement. */
function documentDetail(reviewed: Planned, now: Planned): string {
  if (reviewed.unknown === true || now.unknown === true) return `reviewed ${plannedText(reviewed)}, now ${plannedText(now)}`;
  const diff = diffPolicyDocuments(reviewed.value, now.value);
  const parts: string[] = [];
  for (const statement of diff.statements) {
    const items: string[] = [];
    for (const [key, name] of DELTA_NAMES) {
      if (statement.added[key].length > 0) items.push(`added ${name} ${statement.added[key].map((v) => `\`${v}\``).join(', ')}`);
      if (statement.removed[key].length > 0) items.push(`removed ${name} ${statement.removed[key].map((v) => `\`${v}\``).join(', ')}`);
    }
    if (statement.conditionChanged) items.push('condition changed');
    parts.push(`${statement.effect}${statement.sid ? ` (Sid ${statement.sid})` : ''}: ${items.join('; ')}`);
  }
  return parts.length > 0 ? parts.join(' / ') : 'the document differs';
}

/**
 * Compares the reviewed plan of a stack (undefined: there is none) with the plan about to be
 * applied. Without a reviewed plan, only a plan with no changes is the same.
 */
export function comparePlans(stack: string, reviewed: TerraformPlan | undefined, now: TerraformPlan): PlanComparison {
  const differences: PlanDifference[] = [];
  const nowChanges = managedChanges(now);
  const nowOutputs = outputChanges(now);
  const changes = nowChanges.size + nowOutputs.size;
  if (now.errored || now.complete === false) {
    differences.push({ kind: 'plan', address: '(plan)', reviewed: '', now: now.errored ? 'errored' : 'incomplete (deferred changes)' });
  }
  if (!reviewed) {
    for (const change of nowChanges.values()) differences.push({ kind: 'not-reviewed', address: change.address, reviewed: 'no reviewed plan', now: actionsText(change.actions) });
    for (const [name, actions] of nowOutputs) differences.push({ kind: 'not-reviewed', address: `output.${name}`, reviewed: 'no reviewed plan', now: actionsText(actions) });
    return { stack, same: differences.length === 0, differences, noLongerPlanned: [], changes, reviewed: false };
  }
  if (reviewed.errored || reviewed.complete === false) {
    differences.push({ kind: 'plan', address: '(plan)', reviewed: reviewed.errored ? 'errored' : 'incomplete (deferred changes)', now: '' });
  }
  const noLongerPlanned: PlanDifference[] = [];
  const reviewedChanges = managedChanges(reviewed);
  const addresses = [...new Set([...reviewedChanges.keys(), ...nowChanges.keys()])].sort();
  for (const address of addresses) {
    const before = reviewedChanges.get(address);
    const after = nowChanges.get(address);
    if (!before) {
      differences.push({ kind: 'not-reviewed', address, reviewed: 'no change', now: actionsText(after!.actions) });
      continue;
    }
    if (!after) {
      noLongerPlanned.push({ kind: 'not-planned-now', address, reviewed: actionsText(before.actions), now: 'no change' });
      continue;
    }
    if (stableJson(before.actions) !== stableJson(after.actions)) {
      differences.push({ kind: 'actions', address, reviewed: actionsText(before.actions), now: actionsText(after.actions) });
      continue;
    }
    const reviewedAttributes = reviewedValues(before.rc);
    const nowAttributes = reviewedValues(after.rc);
    for (const attribute of [...new Set([...reviewedAttributes.keys(), ...nowAttributes.keys()])].sort()) {
      const r = reviewedAttributes.get(attribute) ?? { value: null, unknown: false };
      const n = nowAttributes.get(attribute) ?? { value: null, unknown: false };
      if (stableJson([r.value, r.unknown]) === stableJson([n.value, n.unknown])) continue;
      const document = reviewedAttributes.get(attribute)?.document === true || nowAttributes.get(attribute)?.document === true;
      differences.push({
        kind: 'attribute',
        address,
        attribute,
        reviewed: document ? '(policy document)' : plannedText(r),
        now: document ? '(policy document)' : plannedText(n),
        ...(document ? { detail: documentDetail(r, n) } : {}),
      });
    }
  }
  const reviewedOutputs = outputChanges(reviewed);
  for (const name of [...new Set([...reviewedOutputs.keys(), ...nowOutputs.keys()])].sort()) {
    const r = reviewedOutputs.get(name);
    const n = nowOutputs.get(name);
    if (stableJson(r ?? []) === stableJson(n ?? [])) continue;
    (n ? differences : noLongerPlanned).push({ kind: n ? 'output' : 'not-planned-now', address: `output.${name}`, reviewed: actionsText(r), now: actionsText(n) });
  }
  return { stack, same: differences.length === 0, differences, noLongerPlanned, changes, reviewed: true };
}

const KIND_TEXT: Record<DifferenceKind, string> = {
  'not-reviewed': 'planned now, not in the reviewed plan',
  'not-planned-now': 'in the reviewed plan, not planned now',
  actions: 'different actions',
  attribute: 'different value',
  output: 'output changes differently',
  plan: 'plan not complete',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown for the deploy run summary: one table per stack whose plan differs. */
export function renderComparison(comparison: PlanComparison): string {
  const gone = comparison.noLongerPlanned.map((d) => `\`${d.address}\` (${d.reviewed})`).join(', ');
  const goneNote = gone ? `Reviewed changes no longer planned (already applied?), not applied again: ${gone}.\n` : '';
  if (comparison.same) return `Stack \`${comparison.stack}\`: the plan matches the reviewed plan (${comparison.changes} change${comparison.changes === 1 ? '' : 's'}).\n${goneNote}`;
  const lines = [
    `Stack \`${comparison.stack}\`: **the plan differs from the ${comparison.reviewed ? 'reviewed plan' : 'reviewed plans (none covers this stack)'}**; not applied.`,
    '',
    '| what | where | reviewed | now |',
    '|---|---|---|---|',
  ];
  for (const d of comparison.differences) {
    const where = d.attribute ? `\`${d.address}\` \`${d.attribute}\`` : `\`${d.address}\``;
    const now = d.detail ? `${d.now} (${d.detail})` : d.now;
    lines.push(`| ${KIND_TEXT[d.kind]} | ${cell(where)} | ${cell(d.reviewed)} | ${cell(now)} |`);
  }
  return `${lines.join('\n')}\n${goneNote ? `\n${goneNote}` : ''}`;
}
