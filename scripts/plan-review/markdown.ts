/**
 * Markdown rendering of a `PlanReview` (see review.ts) for a pull-request comment or CI job summary.
 *
 * Layout: verdict line, one counts table for all stacks, the high-risk findings, then one section per
 * stack with destroys/replacements first, IAM changes, public ingress, tenant quotas, updates, creates.
 * No-ops are only counted. Markers a reviewer can search for: STATEFUL, TERRAFORM STATE BUCKET,
 * IAM WIDENING, IAM WILDCARD, ADMIN POLICY, PUBLIC INGRESS.
 */
import {
  EXIT_HIGH_RISK,
  KNOWN_AFTER_APPLY,
  highRiskFindings,
  type ChangeKind,
  type Finding,
  type IamChange,
  type PlanReview,
  type PolicyDelta,
  type ResourceChangeSummary,
  type StackReview,
  type StatementDiff,
} from './review.js';

/** Above this many creates (or updates) in a stack, the list is folded into a `<details>` block. */
export const FOLD_AFTER = 20;

/** At most this many changed attributes are listed per updated resource. */
export const MAX_ATTRIBUTES = 12;

const FINDING_LABELS: Record<Finding['kind'], string> = {
  'stateful-destroy': 'STATEFUL DESTROY',
  'stateful-replace': 'STATEFUL REPLACE',
  'iam-wildcard': 'IAM WILDCARD',
  'iam-admin-policy': 'ADMIN POLICY',
  'public-ingress': 'PUBLIC INGRESS',
};

const DELTA_LABELS: [keyof PolicyDelta, string][] = [
  ['actions', 'actions'],
  ['notActions', 'NotAction'],
  ['resources', 'resources'],
  ['notResources', 'NotResource'],
  ['principals', 'principals'],
  ['notPrincipals', 'NotPrincipal'],
];

export function renderMarkdown(review: PlanReview): string {
  const lines: string[] = ['# Terraform plan review', ''];
  const high = highRiskFindings(review.findings);
  if (high.length > 0) {
    lines.push(`**HIGH RISK**: ${high.length} finding${high.length === 1 ? '' : 's'} need a reviewer's sign-off (exit ${EXIT_HIGH_RISK}).`);
  } else {
    lines.push('No high-risk changes found.');
  }
  lines.push('');
  lines.push('| Stack | Create | Update | Replace | Destroy | No-op (hidden) |', '|---|---:|---:|---:|---:|---:|');
  for (const stack of review.stacks) {
    const c = stack.counts;
    lines.push(`| ${cell(code(stack.stack))} | ${c.create} | ${c.update} | ${c.replace} | ${c.destroy} | ${c['no-op']} |`);
  }
  lines.push('');
  if (high.length > 0) {
    lines.push('## High-risk findings', '');
    for (const f of high) lines.push(`- **${FINDING_LABELS[f.kind]}** ${code(f.stack)} ${code(f.address)}: ${f.message}`);
    lines.push('');
  }
  for (const stack of review.stacks) lines.push(...renderStack(stack));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function renderStack(stack: StackReview): string[] {
  const c = stack.counts;
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.replace} to replace`, `${c.destroy} to destroy`];
  if (c.read) parts.push(`${c.read} to read`);
  if (c.forget) parts.push(`${c.forget} to forget`);
  const lines = [`## Stack ${code(stack.stack)}`, '', `${parts.join(', ')} (${c['no-op']} unchanged, hidden).`, ''];
  for (const note of stack.notes) lines.push(`> **Note:** ${note}`, '');
  if (stack.changes.length === 0) return [...lines, 'No changes.', ''];

  const byKind = (...kinds: ChangeKind[]) => stack.changes.filter((ch) => kinds.includes(ch.kind));
  const destructive = byKind('destroy', 'replace');
  if (destructive.length > 0) {
    lines.push('### Destroy and replace', '');
    for (const ch of destructive) lines.push(`- ${destructiveLine(ch)}`);
    lines.push('');
  }
  if (stack.iam.length > 0) {
    lines.push('### IAM changes', '');
    for (const iam of stack.iam) lines.push(...renderIam(iam));
    lines.push('');
  }
  if (stack.ingress.length > 0) {
    lines.push('### Security groups', '');
    for (const ing of stack.ingress) lines.push(`- **PUBLIC INGRESS** ${code(ing.address)} (${ing.kind}): ${ing.rule}`);
    lines.push('');
  }
  if (stack.quotas.length > 0) {
    lines.push('### Tenant quotas', '', '| Quota | Key | Before | After |', '|---|---|---|---|');
    for (const q of stack.quotas) {
      for (const e of q.entries) lines.push(`| ${cell(code(q.quota))} | ${cell(code(e.key))} | ${cell(e.before)} | ${cell(e.after)} |`);
    }
    lines.push('');
  }
  const updates = byKind('update');
  if (updates.length > 0) {
    lines.push('### Update in place', '');
    lines.push(...fold(updates.flatMap(updateLines), updates.length, 'updates'));
    lines.push('');
  }
  const creates = byKind('create');
  if (creates.length > 0) {
    lines.push('### Create', '');
    lines.push(...fold(creates.map((ch) => `- ${code(ch.address)}${notes(ch)}`), creates.length, 'creates'));
    lines.push('');
  }
  const other = byKind('read', 'forget');
  if (other.length > 0) {
    lines.push('### Read and forget', '');
    for (const ch of other) lines.push(`- **${ch.kind.toUpperCase()}** ${code(ch.address)}${notes(ch)}`);
    lines.push('');
  }
  return lines;
}

function destructiveLine(ch: ResourceChangeSummary): string {
  let line = `**${ch.kind === 'destroy' ? 'DESTROY' : 'REPLACE'}** ${code(ch.address)}`;
  if (ch.stateful) line += ch.stateBucket ? ' **STATEFUL: TERRAFORM STATE BUCKET**' : ' **STATEFUL**';
  if (ch.kind === 'replace') {
    line += ch.replacePaths.length > 0 ? `, forced by ${ch.replacePaths.map(code).join(', ')}` : ', forced by (not reported)';
    if (ch.actions[0] === 'create') line += ' (create before destroy)';
  }
  return line + notes(ch);
}

function updateLines(ch: ResourceChangeSummary): string[] {
  const lines = [`- ${code(ch.address)}${ch.stateful ? ' (stateful)' : ''}${notes(ch)}`];
  const known = ch.attributes.filter((a) => a.after !== KNOWN_AFTER_APPLY);
  const unknown = ch.attributes.filter((a) => a.after === KNOWN_AFTER_APPLY);
  for (const a of known.slice(0, MAX_ATTRIBUTES)) lines.push(`  - ${code(a.path)}: ${shown(a.before)} -> ${shown(a.after)}`);
  if (known.length > MAX_ATTRIBUTES) lines.push(`  - ... and ${known.length - MAX_ATTRIBUTES} more attribute changes`);
  if (unknown.length > 0) lines.push(`  - ${KNOWN_AFTER_APPLY}: ${unknown.map((a) => code(a.path)).join(', ')}`);
  return lines;
}

function renderIam(iam: IamChange): string[] {
  const flags: string[] = [];
  if (iam.wildcards.length > 0) flags.push('**IAM WILDCARD**');
  if (iam.adminPolicies.length > 0) flags.push('**ADMIN POLICY**');
  if (iam.widening) flags.push('**IAM WIDENING**');
  const lines = [`- ${code(iam.address)} (${iam.kind})${flags.length ? ` ${flags.join(' ')}` : ''}`];
  for (const { attribute, diff } of iam.documents) {
    for (const note of diff.notes) lines.push(`  - ${code(attribute)}: ${note}`);
    for (const s of diff.statements) lines.push(...renderStatement(attribute, s));
  }
  for (const g of iam.attachmentsAdded) lines.push(`  - policy ARN added: ${code(g.policyArn)} to ${g.target}`);
  for (const g of iam.attachmentsRemoved) lines.push(`  - policy ARN removed: ${code(g.policyArn)} from ${g.target}`);
  return lines;
}

function renderStatement(attribute: string, s: StatementDiff): string[] {
  const title = `${s.effect}${s.sid ? ` (Sid ${code(s.sid)})` : ''}`;
  const lines = [`  - ${code(attribute)} ${title}${s.widening ? ' (widening)' : ''}:`];
  for (const [key, label] of DELTA_LABELS) {
    if (s.added[key].length) lines.push(`    - added ${label}: ${s.added[key].map(code).join(', ')}`);
    if (s.removed[key].length) lines.push(`    - removed ${label}: ${s.removed[key].map(code).join(', ')}`);
  }
  if (s.conditionChanged) lines.push('    - Condition changed');
  return lines;
}

function fold(items: string[], count: number, what: string): string[] {
  if (count <= FOLD_AFTER) return items;
  return ['<details>', `<summary>${count} ${what}</summary>`, '', ...items, '', '</details>'];
}

function notes(ch: ResourceChangeSummary): string {
  return ch.notes.length > 0 ? ` (${ch.notes.join('; ')})` : '';
}

/** Values as code; the `(none)`/`(sensitive)`/`(known after apply)`-style markers as plain text. */
function shown(value: string): string {
  return /^\(.*\)$/.test(value) ? value : code(value);
}

/** Inline code that survives backticks in the text. */
export function code(text: string): string {
  if (!text.includes('`')) return `\`${text}\``;
  return `\`\` ${text} \`\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
