/**
 * Plan review library: `terraform show -json` plan -> reviewer model -> risk findings.
 *
 * Pure functions only (no console, no process.exit); `readPlanFile` is the one that touches the disk.
 * `markdown.ts` renders the model and `cli.ts` wires both to the command line.
 *
 * Rules (kept here, next to the code that applies them):
 *
 * - Stack name: the plan file's parent folder name (`cdktf.out/stacks/tenant-alpha/plan.json` ->
 *   `tenant-alpha`), or `name=path` on the command line to override it. See `parsePlanArgument`.
 * - Change kinds: `create`, `update`, `replace` (`["delete","create"]` or `["create","delete"]`),
 *   `destroy`, `no-op` (counted, never listed), plus `read` (data sources) and `forget` (`removed` blocks
 *   with `destroy = false`), which are counted and listed last.
 * - Stateful resources: types in `STATEFUL_RESOURCE_TYPES`, plus the Terraform state bucket: any resource
 *   whose type starts with `aws_s3_bucket` (the bucket and its versioning/encryption/policy siblings)
 *   and whose address or `bucket` attribute (before or after) contains "state", case-insensitively
 *   (`STATE_BUCKET_PATTERN`; it also matches e.g. "statements", which errs on the loud side).
 * - IAM: policy documents named in `IAM_POLICY_DOCUMENT_ATTRIBUTES` are diffed statement group by
 *   statement group. A group is the statement's `Effect` plus its `Sid`; statements without a `Sid` are
 *   pooled per `Effect`. For each group the added and removed actions, resources, principals (and their
 *   `Not*` forms) are listed. "IAM widening" = an Allow gains an action/resource/principal or loses a
 *   NotAction/NotResource, or a Deny loses an action/resource/principal. Creating a policy counts: every
 *   grant in it is new. Attachments (`IAM_ATTACHMENT_TYPES`) are shown as policy ARNs added/removed.
 * - Wildcards: an added Allow action `*` or `<service>:*`, resource `*` or principal `*` is an
 *   "IAM wildcard" (high risk). In `aws_kms_key` policies `Resource: "*"` means "this key", so it is
 *   shown but is not a wildcard finding there (`SELF_SCOPED_RESOURCE_POLICY_TYPES`).
 * - Public ingress: an ingress rule that the plan adds or changes and that allows a CIDR in
 *   `PUBLIC_CIDRS` (aws_security_group `ingress` blocks, aws_security_group_rule of type ingress,
 *   aws_vpc_security_group_ingress_rule). Egress is not reported.
 * - Tenant quotas: `kubernetes_manifest` objects with `kind: ResourceQuota` (and the
 *   `kubernetes_resource_quota[_v1]` resources): every `spec.hard` key whose value changes.
 *
 * High risk (exit code `EXIT_HIGH_RISK` = 3), decided by `highRiskFindings`:
 *   1. destroy or replace of a stateful resource (including the state bucket),
 *   2. an IAM wildcard as defined above,
 *   3. attaching/associating an admin-equivalent managed policy (`ADMIN_POLICY_NAMES`),
 *   4. public ingress.
 * Destroying a non-stateful resource is listed first but is not high risk by itself: such resources are
 * recreated from configuration without data loss. Non-wildcard IAM widening is a notice, not high risk.
 * Exit codes: `EXIT_OK` 0, `EXIT_USAGE` 2 (bad arguments, unreadable / non-JSON / non-plan input),
 * `EXIT_HIGH_RISK` 3. Any other failure is a bug and exits 1 (Node's default for an uncaught error).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_HIGH_RISK = 3;

/** Resource types whose destroy or replace loses data or breaks everything that depends on them. */
export const STATEFUL_RESOURCE_TYPES = [
  'aws_s3_bucket',
  'aws_kms_key',
  'aws_eks_cluster',
  'aws_eks_node_group',
  'aws_cloudwatch_log_group',
  'aws_emrcontainers_virtual_cluster',
  'aws_dynamodb_table',
  'aws_db_instance',
  'aws_efs_file_system',
] as const;

/** Matched against the address and `bucket` attribute of `aws_s3_bucket*` resources. */
export const STATE_BUCKET_PATTERN = /state/i;

/** Resource type -> attributes that hold an IAM policy document as a JSON string. */
export const IAM_POLICY_DOCUMENT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_iam_policy: ['policy'],
  aws_iam_role_policy: ['policy'],
  aws_iam_user_policy: ['policy'],
  aws_iam_group_policy: ['policy'],
  aws_iam_role: ['assume_role_policy'],
  aws_s3_bucket_policy: ['policy'],
  aws_sqs_queue_policy: ['policy'],
  aws_kms_key: ['policy'],
};

/** Resource policies in which `Resource: "*"` only ever means the resource itself. */
export const SELF_SCOPED_RESOURCE_POLICY_TYPES: ReadonlySet<string> = new Set(['aws_kms_key']);

/** Resource types that attach a managed policy to something. */
export const IAM_ATTACHMENT_TYPES = [
  'aws_iam_role_policy_attachment',
  'aws_iam_user_policy_attachment',
  'aws_iam_group_policy_attachment',
  'aws_iam_policy_attachment',
  'aws_eks_access_policy_association',
] as const;

/** Managed policies (matched on the ARN's last path segment) that are admin-equivalent. */
export const ADMIN_POLICY_NAMES = ['AdministratorAccess', 'IAMFullAccess', 'AmazonEKSClusterAdminPolicy'] as const;

export const PUBLIC_CIDRS: ReadonlySet<string> = new Set(['0.0.0.0/0', '::/0']);

export const KNOWN_AFTER_APPLY = '(known after apply)';
export const SENSITIVE = '(sensitive)';
export const ABSENT = '(none)';

// ---------------------------------------------------------------------------------------------
// Input

/** Input that is not a readable terraform plan JSON; the message names the file. */
export class PlanInputError extends Error {
  override name = 'PlanInputError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface PlanResourceChange {
  address: string;
  previous_address?: string;
  module_address?: string;
  mode?: string;
  type: string;
  name?: string;
  index?: unknown;
  deposed?: string;
  provider_name?: string;
  action_reason?: string;
  change: {
    actions: string[];
    before?: unknown;
    after?: unknown;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: unknown[][];
    importing?: unknown;
  };
}

export interface TerraformPlan {
  format_version: string;
  terraform_version?: string;
  resource_changes: PlanResourceChange[];
  /** Root module outputs the plan changes, by name (absent in plans without outputs). */
  output_changes?: Record<string, { actions: string[] }>;
  errored?: boolean;
  complete?: boolean;
}

/** Parses and checks `terraform show -json <planfile>` output. Throws `PlanInputError`. */
export function parsePlan(text: string, file: string): TerraformPlan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PlanInputError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(data)) throw new PlanInputError(file, 'not a terraform plan JSON: the top level is not an object');
  const hint = 'produce it with `terraform show -json <planfile>`';
  if (typeof data.format_version !== 'string') {
    throw new PlanInputError(file, `not a terraform plan JSON: missing "format_version" (${hint})`);
  }
  if (!data.format_version.startsWith('1.')) {
    throw new PlanInputError(file, `unsupported plan format_version "${data.format_version}" (expected 1.x)`);
  }
  let changes = data.resource_changes;
  if (changes === undefined) {
    // Terraform omits resource_changes when the configuration has no resources at all; such a plan
    // still has planned_values. State JSON (`terraform show -json` without a plan) has `values` instead.
    if (!('planned_values' in data)) {
      const what = 'values' in data ? ' (this looks like state JSON, not a plan)' : '';
      throw new PlanInputError(file, `not a terraform plan JSON: missing "resource_changes"${what} (${hint})`);
    }
    changes = [];
  }
  if (!Array.isArray(changes)) throw new PlanInputError(file, '"resource_changes" is not an array');
  changes.forEach((rc: unknown, i) => {
    const where = `resource_changes[${i}]`;
    if (!isRecord(rc) || typeof rc.address !== 'string' || typeof rc.type !== 'string') {
      throw new PlanInputError(file, `${where} has no "address"/"type"`);
    }
    if (!isRecord(rc.change) || !Array.isArray(rc.change.actions)) {
      throw new PlanInputError(file, `${where} (${rc.address}) has no "change.actions" array`);
    }
  });
  return {
    format_version: data.format_version,
    terraform_version: typeof data.terraform_version === 'string' ? data.terraform_version : undefined,
    resource_changes: changes as PlanResourceChange[],
    ...(isRecord(data.output_changes) ? { output_changes: data.output_changes as Record<string, { actions: string[] }> } : {}),
    errored: data.errored === true,
    complete: data.complete !== false,
  };
}

/** Reads and parses a plan file; unreadable files become `PlanInputError` too. */
export function readPlanFile(file: string): TerraformPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new PlanInputError(file, `cannot read plan (${problem})`);
  }
  return parsePlan(text, file);
}

/** `dir/stack/plan.json` -> `stack`; a file at the filesystem root falls back to the file's own name. */
export function defaultStackName(file: string): string {
  const parent = basename(dirname(resolve(file)));
  return parent || basename(file).replace(/\.json$/, '');
}

/**
 * A command-line plan argument: `path`, or `name=path` to override the stack name. The `name=` form is
 * recognised when the part before the first `=` contains no path separator; `exists` lets a file
 * that literally has `=` in its name win.
 */
export function parsePlanArgument(arg: string, exists: (path: string) => boolean = () => false): PlanInput {
  const match = /^([^=/\\]+)=(.+)$/.exec(arg);
  if (match && !exists(arg)) return { stack: match[1]!, file: match[2]! };
  return { stack: defaultStackName(arg), file: arg };
}

export interface PlanInput {
  stack: string;
  file: string;
}

// ---------------------------------------------------------------------------------------------
// Model

export type ChangeKind = 'create' | 'update' | 'replace' | 'destroy' | 'no-op' | 'read' | 'forget';
export const CHANGE_KINDS: readonly ChangeKind[] = ['create', 'update', 'replace', 'destroy', 'no-op', 'read', 'forget'];

export interface AttributeChange {
  path: string;
  before: string;
  after: string;
}

export interface ResourceChangeSummary {
  address: string;
  type: string;
  kind: ChangeKind;
  actions: string[];
  stateful: boolean;
  stateBucket: boolean;
  /** replace_paths rendered as `bucket`, `ingress[0].cidr_blocks`. */
  replacePaths: string[];
  /** Top-level attributes that change (updates only). */
  attributes: AttributeChange[];
  notes: string[];
}

export interface PolicyDelta {
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  principals: string[];
  notPrincipals: string[];
}

export interface StatementDiff {
  effect: string;
  sid?: string;
  added: PolicyDelta;
  removed: PolicyDelta;
  conditionChanged: boolean;
  widening: boolean;
  wildcards: string[];
}

export interface PolicyDocumentDiff {
  /** `unknown` when the new document is only known after apply. */
  status: 'diffed' | 'unknown';
  statements: StatementDiff[];
  notes: string[];
}

export interface AttachmentGrant {
  policyArn: string;
  target: string;
}

export interface IamChange {
  address: string;
  type: string;
  kind: ChangeKind;
  /** Policy documents by attribute (`policy`, `assume_role_policy`). */
  documents: { attribute: string; diff: PolicyDocumentDiff }[];
  attachmentsAdded: AttachmentGrant[];
  attachmentsRemoved: AttachmentGrant[];
  widening: boolean;
  /** Wildcards added to an Allow, e.g. `action *`, `resource *`. */
  wildcards: string[];
  /** Admin-equivalent managed policies added. */
  adminPolicies: string[];
}

export interface IngressFinding {
  address: string;
  kind: ChangeKind;
  cidr: string;
  rule: string;
}

export interface QuotaEntry {
  key: string;
  before: string;
  after: string;
}

export interface QuotaChange {
  address: string;
  kind: ChangeKind;
  quota: string;
  entries: QuotaEntry[];
}

export type FindingKind = 'stateful-destroy' | 'stateful-replace' | 'iam-wildcard' | 'iam-admin-policy' | 'public-ingress';

export interface Finding {
  kind: FindingKind;
  stack: string;
  address: string;
  /** One line of Markdown inline text (code spans in backticks). */
  message: string;
}

export interface StackReview {
  stack: string;
  file: string;
  terraformVersion?: string;
  counts: Record<ChangeKind, number>;
  /** Every change except no-ops: destroys and replaces first (stateful first), then updates, creates, reads, forgets. */
  changes: ResourceChangeSummary[];
  iam: IamChange[];
  ingress: IngressFinding[];
  quotas: QuotaChange[];
  findings: Finding[];
  notes: string[];
}

export interface PlanReview {
  stacks: StackReview[];
  findings: Finding[];
  exitCode: number;
}

// ---------------------------------------------------------------------------------------------
// Review

export function changeKind(actions: readonly string[]): ChangeKind {
  const set = new Set(actions);
  if (set.has('delete') && set.has('create')) return 'replace';
  if (set.has('delete')) return 'destroy';
  if (set.has('create')) return 'create';
  if (set.has('update')) return 'update';
  if (set.has('read')) return 'read';
  if (set.has('forget')) return 'forget';
  return 'no-op';
}

const KIND_ORDER: Record<ChangeKind, number> = { destroy: 0, replace: 0, update: 1, create: 2, read: 3, forget: 4, 'no-op': 5 };

const ACTION_REASONS: Record<string, string> = {
  delete_because_no_resource_config: 'removed from configuration',
  delete_because_no_module: 'its module was removed',
  delete_because_wrong_repetition: 'count/for_each changed shape',
  delete_because_count_index: 'count index no longer exists',
  delete_because_each_key: 'for_each key no longer exists',
  delete_because_no_move_target: 'moved target does not exist',
  replace_because_tainted: 'tainted',
  replace_by_request: 'replace requested (-replace)',
  replace_by_triggers: 'replace_triggered_by',
};

export function isStatefulType(type: string): boolean {
  return (STATEFUL_RESOURCE_TYPES as readonly string[]).includes(type);
}

export function isStateBucket(rc: Pick<PlanResourceChange, 'address' | 'type' | 'change'>): boolean {
  if (!rc.type.startsWith('aws_s3_bucket')) return false;
  const names = [rc.address, field(rc.change.before, 'bucket'), field(rc.change.after, 'bucket')];
  return names.some((n) => typeof n === 'string' && STATE_BUCKET_PATTERN.test(n));
}

/** Reviews one stack's plan. */
export function reviewPlan(plan: TerraformPlan, stack: string, file = ''): StackReview {
  const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  const changes: ResourceChangeSummary[] = [];
  const iam: IamChange[] = [];
  const ingress: IngressFinding[] = [];
  const quotas: QuotaChange[] = [];
  const findings: Finding[] = [];

  for (const rc of plan.resource_changes) {
    const kind = changeKind(rc.change.actions);
    counts[kind] += 1;
    if (kind === 'no-op') continue;
    const address = rc.deposed ? `${rc.address} (deposed ${rc.deposed})` : rc.address;
    const stateBucket = isStateBucket(rc);
    const summary: ResourceChangeSummary = {
      address,
      type: rc.type,
      kind,
      actions: [...rc.change.actions],
      stateful: rc.mode !== 'data' && (isStatefulType(rc.type) || stateBucket),
      stateBucket,
      replacePaths: (rc.change.replace_paths ?? []).map(renderPath),
      attributes: kind === 'update' ? attributeChanges(rc) : [],
      notes: [],
    };
    if (rc.action_reason && ACTION_REASONS[rc.action_reason]) summary.notes.push(ACTION_REASONS[rc.action_reason]!);
    if (rc.previous_address && rc.previous_address !== rc.address) summary.notes.push(`moved from ${rc.previous_address}`);
    if (rc.change.importing) summary.notes.push('imported');
    changes.push(summary);

    if (summary.stateful && (kind === 'destroy' || kind === 'replace')) {
      const what = stateBucket ? 'the Terraform state bucket' : `stateful \`${rc.type}\``;
      const forced = summary.replacePaths.length ? ` (forced by ${summary.replacePaths.map((p) => `\`${p}\``).join(', ')})` : '';
      findings.push({
        kind: kind === 'destroy' ? 'stateful-destroy' : 'stateful-replace',
        stack,
        address,
        message: `${kind === 'destroy' ? 'destroys' : 'replaces'} ${what}${forced}`,
      });
    }

    const iamChange = reviewIam(rc, kind, address);
    if (iamChange) {
      iam.push(iamChange);
      for (const w of iamChange.wildcards) {
        findings.push({ kind: 'iam-wildcard', stack, address, message: `IAM widening adds wildcard \`${w}\`` });
      }
      for (const p of iamChange.adminPolicies) {
        findings.push({ kind: 'iam-admin-policy', stack, address, message: `attaches admin-equivalent policy \`${p}\`` });
      }
    }
    for (const finding of reviewIngress(rc, kind, address)) {
      ingress.push(finding);
      findings.push({ kind: 'public-ingress', stack, address, message: `public ingress ${finding.rule}` });
    }
    const quota = reviewQuota(rc, kind, address);
    if (quota) quotas.push(quota);
  }

  changes.sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      Number(b.stateful) - Number(a.stateful) ||
      compareText(a.address, b.address),
  );
  iam.sort((a, b) => compareText(a.address, b.address));
  const notes: string[] = [];
  if (plan.errored) notes.push('terraform reported errors while planning: this plan is incomplete');
  else if (plan.complete === false) notes.push('the plan is not complete (deferred changes): another plan/apply round follows');
  return { stack, file, terraformVersion: plan.terraform_version, counts, changes, iam, ingress, quotas, findings, notes };
}

/** Reviews several stacks; duplicate stack names get the file appended so sections stay distinct. */
export function reviewPlans(inputs: readonly (PlanInput & { plan: TerraformPlan })[]): PlanReview {
  const seen = new Map<string, number>();
  for (const input of inputs) seen.set(input.stack, (seen.get(input.stack) ?? 0) + 1);
  const stacks = inputs.map((input) =>
    reviewPlan(input.plan, (seen.get(input.stack) ?? 0) > 1 ? `${input.stack} (${input.file})` : input.stack, input.file),
  );
  const findings = stacks.flatMap((s) => s.findings);
  return { stacks, findings, exitCode: exitCodeFor(findings) };
}

/** The findings that make the review high risk (see the header for the rule). */
export function highRiskFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => HIGH_RISK_KINDS.has(f.kind));
}

const HIGH_RISK_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>([
  'stateful-destroy',
  'stateful-replace',
  'iam-wildcard',
  'iam-admin-policy',
  'public-ingress',
]);

export function exitCodeFor(findings: readonly Finding[]): number {
  return highRiskFindings(findings).length > 0 ? EXIT_HIGH_RISK : EXIT_OK;
}

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * Leaf-level attribute changes of an update: nested objects (and lists of equal length) are walked so
 * that `tags.team` or `manifest.data["k"]` shows instead of a truncated blob. Policy documents are
 * summarised (the IAM section diffs them) and quota `spec.hard` keys are left to the quota table.
 */
function attributeChanges(rc: PlanResourceChange): AttributeChange[] {
  const policyAttributes = IAM_POLICY_DOCUMENT_ATTRIBUTES[rc.type] ?? [];
  const skipped = rc.type === 'kubernetes_manifest' ? ['manifest.spec.hard'] : [];
  const result: AttributeChange[] = [];
  const walk = (path: unknown[], before: unknown, after: unknown, unknown: unknown, sb: unknown, sa: unknown): void => {
    const text = renderPath(path);
    if (skipped.some((prefix) => text === prefix || text.startsWith(`${prefix}.`) || text.startsWith(`${prefix}[`))) return;
    if (path.length === 1 && policyAttributes.includes(text)) {
      if (unknown === true || stableJson(before) !== stableJson(after)) {
        result.push({ path: text, before: '(policy document)', after: unknown === true ? KNOWN_AFTER_APPLY : '(see IAM changes)' });
      }
      return;
    }
    if (unknown === true) {
      result.push({ path: text, before: sb === true ? SENSITIVE : renderValue(before), after: KNOWN_AFTER_APPLY });
      return;
    }
    if (sb === true || sa === true) {
      if (stableJson(before) !== stableJson(after)) result.push({ path: text, before: SENSITIVE, after: SENSITIVE });
      return;
    }
    if (isRecord(before) && isRecord(after)) {
      const keys = new Set([...Object.keys(before), ...Object.keys(after), ...(isRecord(unknown) ? Object.keys(unknown) : [])]);
      for (const key of [...keys].sort(compareText)) {
        walk([...path, key], before[key], after[key], field(unknown, key), field(sb, key), field(sa, key));
      }
      return;
    }
    if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
      const at = (v: unknown, i: number): unknown => (Array.isArray(v) ? v[i] : undefined);
      before.forEach((b, i) => walk([...path, i], b, after[i], at(unknown, i), at(sb, i), at(sa, i)));
      return;
    }
    if (isEmptyValue(before) && isEmptyValue(after)) return;
    if (stableJson(before) === stableJson(after)) return;
    const partly = containsTrue(unknown) ? ` (partly ${KNOWN_AFTER_APPLY})` : '';
    result.push({ path: text, before: renderValue(before), after: renderValue(after) + partly });
  };
  const c = rc.change;
  walk([], isRecord(c.before) ? c.before : {}, isRecord(c.after) ? c.after : {}, c.after_unknown, c.before_sensitive, c.after_sensitive);
  return result;
}

function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined;
}

export function renderPath(path: readonly unknown[]): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (typeof step === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(step)) out += out ? `.${step}` : step;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}

/** Compact one-line rendering of a plan value, truncated for reviewers. */
export function renderValue(value: unknown, max = 80): string {
  if (value === undefined || value === null) return ABSENT;
  const text = typeof value === 'string' ? JSON.stringify(value) : stableJson(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// IAM

const EMPTY_DELTA = (): PolicyDelta => ({
  actions: [],
  notActions: [],
  resources: [],
  notResources: [],
  principals: [],
  notPrincipals: [],
});

interface StatementGroup {
  effect: string;
  sid?: string;
  sets: Record<keyof PolicyDelta, Set<string>>;
  conditions: Set<string>;
}

function reviewIam(rc: PlanResourceChange, kind: ChangeKind, address: string): IamChange | undefined {
  if (rc.mode === 'data') return undefined;
  const documentAttributes = IAM_POLICY_DOCUMENT_ATTRIBUTES[rc.type];
  const isAttachment = (IAM_ATTACHMENT_TYPES as readonly string[]).includes(rc.type);
  if (!documentAttributes && !isAttachment) return undefined;
  const change: IamChange = {
    address,
    type: rc.type,
    kind,
    documents: [],
    attachmentsAdded: [],
    attachmentsRemoved: [],
    widening: false,
    wildcards: [],
    adminPolicies: [],
  };
  const before = kind === 'create' ? undefined : rc.change.before;
  const after = kind === 'destroy' ? undefined : rc.change.after;
  for (const attribute of documentAttributes ?? []) {
    const unknownAfter = field(rc.change.after_unknown, attribute) === true && kind !== 'destroy';
    const beforeDoc = field(before, attribute);
    const afterDoc = field(after, attribute);
    if (!unknownAfter && (beforeDoc ?? null) === (afterDoc ?? null)) continue;
    const diff = diffPolicyDocuments(beforeDoc, unknownAfter ? undefined : afterDoc, {
      unknownAfter,
      selfScopedResources: SELF_SCOPED_RESOURCE_POLICY_TYPES.has(rc.type),
    });
    if (diff.status === 'diffed' && diff.statements.length === 0 && diff.notes.length === 0) continue;
    change.documents.push({ attribute, diff });
    for (const s of diff.statements) {
      change.widening ||= s.widening;
      change.wildcards.push(...s.wildcards.map((w) => (s.sid ? `${w} (Sid ${s.sid})` : w)));
    }
  }
  if (isAttachment) {
    const beforeGrants = attachmentGrants(rc.type, before, undefined);
    const afterGrants = attachmentGrants(rc.type, after, kind === 'destroy' ? undefined : rc.change.after_unknown);
    const key = (g: AttachmentGrant) => `${g.policyArn}\u0000${g.target}`;
    const beforeKeys = new Set(beforeGrants.map(key));
    const afterKeys = new Set(afterGrants.map(key));
    change.attachmentsAdded = afterGrants.filter((g) => !beforeKeys.has(key(g)));
    change.attachmentsRemoved = beforeGrants.filter((g) => !afterKeys.has(key(g)));
    if (change.attachmentsAdded.length > 0) change.widening = true;
    change.adminPolicies = [...new Set(change.attachmentsAdded.map((g) => g.policyArn).filter(isAdminPolicyArn))];
  }
  const empty = change.documents.length === 0 && change.attachmentsAdded.length === 0 && change.attachmentsRemoved.length === 0;
  return empty ? undefined : change;
}

export function isAdminPolicyArn(arn: string): boolean {
  const last = arn.split('/').pop() ?? '';
  return (ADMIN_POLICY_NAMES as readonly string[]).includes(last);
}

function attachmentGrants(type: string, values: unknown, unknown: unknown): AttachmentGrant[] {
  if (!isRecord(values)) return [];
  const text = (key: string): string =>
    field(unknown, key) === true ? KNOWN_AFTER_APPLY : typeof values[key] === 'string' ? (values[key] as string) : ABSENT;
  const policyArn = text('policy_arn');
  switch (type) {
    case 'aws_iam_role_policy_attachment':
      return [{ policyArn, target: `role ${text('role')}` }];
    case 'aws_iam_user_policy_attachment':
      return [{ policyArn, target: `user ${text('user')}` }];
    case 'aws_iam_group_policy_attachment':
      return [{ policyArn, target: `group ${text('group')}` }];
    case 'aws_eks_access_policy_association': {
      const scope = Array.isArray(values.access_scope) ? values.access_scope[0] : undefined;
      const scopeType = field(scope, 'type');
      const namespaces = field(scope, 'namespaces');
      const scopeText =
        scopeType === 'namespace' && Array.isArray(namespaces)
          ? `namespaces ${namespaces.join(', ')}`
          : typeof scopeType === 'string'
            ? scopeType
            : 'unknown scope';
      return [{ policyArn, target: `${text('principal_arn')} on cluster ${text('cluster_name')} (${scopeText})` }];
    }
    default: {
      // aws_iam_policy_attachment: one policy to lists of roles, users and groups.
      const grants: AttachmentGrant[] = [];
      for (const [key, label] of [
        ['roles', 'role'],
        ['users', 'user'],
        ['groups', 'group'],
      ] as const) {
        if (field(unknown, key) === true) grants.push({ policyArn, target: `${key} ${KNOWN_AFTER_APPLY}` });
        const list = values[key];
        if (Array.isArray(list)) for (const item of list) grants.push({ policyArn, target: `${label} ${String(item)}` });
      }
      return grants.length > 0 ? grants : [{ policyArn, target: ABSENT }];
    }
  }
}

/**
 * Diffs two policy documents (JSON strings, objects, or null/undefined for "no document").
 * Statements are grouped by Effect + Sid (Sid-less statements pooled per Effect); see the header.
 */
export function diffPolicyDocuments(
  before: unknown,
  after: unknown,
  options: { unknownAfter?: boolean; selfScopedResources?: boolean } = {},
): PolicyDocumentDiff {
  const notes: string[] = [];
  const beforeGroups = policyGroups(before, 'before', notes);
  if (options.unknownAfter) {
    notes.push(`new document is ${KNOWN_AFTER_APPLY}`);
    return { status: 'unknown', statements: [], notes };
  }
  const afterGroups = policyGroups(after, 'after', notes);
  const keys = [...new Set([...beforeGroups.keys(), ...afterGroups.keys()])];
  const statements: StatementDiff[] = [];
  for (const key of keys) {
    const b = beforeGroups.get(key);
    const a = afterGroups.get(key);
    const effect = (a ?? b)!.effect;
    const sid = (a ?? b)!.sid;
    const added = EMPTY_DELTA();
    const removed = EMPTY_DELTA();
    for (const dim of Object.keys(added) as (keyof PolicyDelta)[]) {
      const bs = b?.sets[dim] ?? new Set<string>();
      const as = a?.sets[dim] ?? new Set<string>();
      added[dim] = [...as].filter((x) => !bs.has(x)).sort(compareText);
      removed[dim] = [...bs].filter((x) => !as.has(x)).sort(compareText);
    }
    const conditionChanged = stableJson([...(b?.conditions ?? [])].sort()) !== stableJson([...(a?.conditions ?? [])].sort());
    const nothing = (Object.keys(added) as (keyof PolicyDelta)[]).every((d) => !added[d].length && !removed[d].length);
    if (nothing && !conditionChanged) continue;
    const allow = effect === 'Allow';
    const widening = allow
      ? added.actions.length + added.resources.length + added.principals.length + removed.notActions.length + removed.notResources.length > 0
      : removed.actions.length + removed.resources.length + removed.principals.length + added.notActions.length + added.notResources.length > 0;
    const wildcards: string[] = [];
    if (allow) {
      for (const action of added.actions) if (isWildcardAction(action)) wildcards.push(`action ${action}`);
      if (!options.selfScopedResources) for (const r of added.resources) if (r === '*') wildcards.push('resource *');
      for (const p of added.principals) if (p === '*' || p === 'AWS:*') wildcards.push(`principal ${p}`);
    }
    statements.push({ effect, ...(sid ? { sid } : {}), added, removed, conditionChanged, widening, wildcards });
  }
  statements.sort((x, y) => compareText(x.effect, y.effect) || compareText(x.sid ?? '', y.sid ?? ''));
  return { status: 'diffed', statements, notes };
}

/** `*` or a whole service (`s3:*`). `s3:Get*` is not a wildcard finding (it is listed as an action). */
export function isWildcardAction(action: string): boolean {
  return action === '*' || /^[A-Za-z0-9-]+:\*$/.test(action);
}

function policyGroups(document: unknown, side: string, notes: string[]): Map<string, StatementGroup> {
  const groups = new Map<string, StatementGroup>();
  if (document === undefined || document === null || document === '') return groups;
  let parsed: unknown = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch {
      notes.push(`${side} document is not valid JSON`);
      return groups;
    }
  }
  const raw = isRecord(parsed) ? parsed.Statement : undefined;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  for (const statement of statements) {
    if (!isRecord(statement)) continue;
    const effect = typeof statement.Effect === 'string' ? statement.Effect : 'Allow';
    const sid = typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : undefined;
    const key = `${effect}\u0000${sid ?? ''}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        effect,
        ...(sid ? { sid } : {}),
        sets: {
          actions: new Set(),
          notActions: new Set(),
          resources: new Set(),
          notResources: new Set(),
          principals: new Set(),
          notPrincipals: new Set(),
        },
        conditions: new Set(),
      };
      groups.set(key, group);
    }
    for (const a of stringList(statement.Action)) group.sets.actions.add(a);
    for (const a of stringList(statement.NotAction)) group.sets.notActions.add(a);
    for (const r of stringList(statement.Resource)) group.sets.resources.add(r);
    for (const r of stringList(statement.NotResource)) group.sets.notResources.add(r);
    for (const p of principalList(statement.Principal)) group.sets.principals.add(p);
    for (const p of principalList(statement.NotPrincipal)) group.sets.notPrincipals.add(p);
    if (statement.Condition !== undefined) group.conditions.add(stableJson(statement.Condition));
  }
  return groups;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** `"*"` -> `*`; `{ "AWS": ["arn"], "Service": "eks.amazonaws.com" }` -> `AWS:arn`, `Service:eks.amazonaws.com`. */
function principalList(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([kind, ids]) => stringList(ids).map((id) => `${kind}:${id}`));
}

// ---------------------------------------------------------------------------------------------
// Security groups

function reviewIngress(rc: PlanResourceChange, kind: ChangeKind, address: string): IngressFinding[] {
  if (rc.mode === 'data' || !['create', 'update', 'replace'].includes(kind)) return [];
  const beforeRules = new Set(kind === 'create' ? [] : ingressRules(rc.type, rc.change.before).map((r) => r.key));
  return ingressRules(rc.type, rc.change.after)
    .filter((r) => !beforeRules.has(r.key))
    .map((r) => ({ address, kind, cidr: r.cidr, rule: r.text }));
}

interface PublicRule {
  key: string;
  cidr: string;
  text: string;
}

function ingressRules(type: string, values: unknown): PublicRule[] {
  if (!isRecord(values)) return [];
  const rules: PublicRule[] = [];
  const add = (protocol: unknown, from: unknown, to: unknown, cidrs: unknown[], description: unknown): void => {
    for (const cidr of cidrs) {
      if (typeof cidr !== 'string' || !PUBLIC_CIDRS.has(cidr)) continue;
      const ports = portText(protocol, from, to);
      const desc = typeof description === 'string' && description ? ` ("${description}")` : '';
      rules.push({ key: stableJson([protocol, from, to, cidr]), cidr, text: `${ports} from ${cidr}${desc}` });
    }
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  if (type === 'aws_security_group') {
    for (const rule of list(values.ingress)) {
      if (!isRecord(rule)) continue;
      add(rule.protocol, rule.from_port, rule.to_port, [...list(rule.cidr_blocks), ...list(rule.ipv6_cidr_blocks)], rule.description);
    }
  } else if (type === 'aws_security_group_rule') {
    if (values.type === 'ingress') {
      add(values.protocol, values.from_port, values.to_port, [...list(values.cidr_blocks), ...list(values.ipv6_cidr_blocks)], values.description);
    }
  } else if (type === 'aws_vpc_security_group_ingress_rule') {
    add(values.ip_protocol, values.from_port, values.to_port, [values.cidr_ipv4, values.cidr_ipv6], values.description);
  }
  return rules;
}

function portText(protocol: unknown, from: unknown, to: unknown): string {
  const proto = protocol === undefined || protocol === null ? 'all' : String(protocol);
  if (proto === '-1' || proto === 'all') return 'all traffic';
  if (from === undefined || from === null || from === -1) return `${proto} all ports`;
  if (from === 0 && to === 65535) return `${proto} all ports`;
  return from === to || to === undefined || to === null ? `${proto} port ${String(from)}` : `${proto} ports ${String(from)}-${String(to)}`;
}

// ---------------------------------------------------------------------------------------------
// Quotas

function reviewQuota(rc: PlanResourceChange, kind: ChangeKind, address: string): QuotaChange | undefined {
  const before = kind === 'create' ? undefined : rc.change.before;
  const after = kind === 'destroy' ? undefined : rc.change.after;
  const unknown = kind === 'destroy' ? undefined : rc.change.after_unknown;
  let beforeQuota: QuotaShape | undefined;
  let afterQuota: QuotaShape | undefined;
  let unknownHard: unknown;
  if (rc.type === 'kubernetes_manifest') {
    const manifestOf = (v: unknown): unknown => field(v, 'manifest');
    const isQuota = (m: unknown): boolean => field(m, 'kind') === 'ResourceQuota';
    if (!isQuota(manifestOf(before)) && !isQuota(manifestOf(after))) return undefined;
    beforeQuota = quotaShape(manifestOf(before), (m) => field(m, 'metadata'), (m) => field(field(m, 'spec'), 'hard'));
    afterQuota = quotaShape(manifestOf(after), (m) => field(m, 'metadata'), (m) => field(field(m, 'spec'), 'hard'));
    const u = field(unknown, 'manifest');
    unknownHard = u === true ? true : field(u, 'spec') === true ? true : field(field(u, 'spec'), 'hard');
  } else if (rc.type === 'kubernetes_resource_quota' || rc.type === 'kubernetes_resource_quota_v1') {
    const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : undefined);
    beforeQuota = quotaShape(before, (v) => first(field(v, 'metadata')), (v) => field(first(field(v, 'spec')), 'hard'));
    afterQuota = quotaShape(after, (v) => first(field(v, 'metadata')), (v) => field(first(field(v, 'spec')), 'hard'));
    const u = first(field(unknown, 'spec'));
    unknownHard = field(unknown, 'spec') === true ? true : field(u, 'hard');
  } else {
    return undefined;
  }
  const beforeHard = beforeQuota?.hard ?? {};
  const afterHard = afterQuota?.hard ?? {};
  const keys = [...new Set([...Object.keys(beforeHard), ...Object.keys(afterHard), ...(isRecord(unknownHard) ? Object.keys(unknownHard) : [])])];
  const entries: QuotaEntry[] = [];
  for (const key of keys.sort(compareText)) {
    const unknownValue = unknownHard === true || field(unknownHard, key) === true;
    const b = key in beforeHard ? String(beforeHard[key]) : ABSENT;
    const a = unknownValue ? KNOWN_AFTER_APPLY : key in afterHard ? String(afterHard[key]) : ABSENT;
    if (a !== b) entries.push({ key, before: b, after: a });
  }
  if (unknownHard === true && entries.length === 0) entries.push({ key: '(all)', before: ABSENT, after: KNOWN_AFTER_APPLY });
  if (entries.length === 0) return undefined;
  const quota = afterQuota?.name || beforeQuota?.name || address;
  return { address, kind, quota, entries };
}

interface QuotaShape {
  name: string;
  hard: Record<string, unknown>;
}

function quotaShape(value: unknown, metadataOf: (v: unknown) => unknown, hardOf: (v: unknown) => unknown): QuotaShape | undefined {
  if (!isRecord(value)) return undefined;
  const metadata = metadataOf(value);
  const name = field(metadata, 'name');
  const namespace = field(metadata, 'namespace');
  const hard = hardOf(value);
  return {
    name: typeof name === 'string' ? (typeof namespace === 'string' ? `${namespace}/${name}` : name) : '',
    hard: isRecord(hard) ? hard : {},
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** True when a sensitivity/unknown marker tree contains `true` anywhere. */
function containsTrue(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(containsTrue);
  if (isRecord(value)) return Object.values(value).some(containsTrue);
  return false;
}

/** JSON with sorted object keys, so equal values compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  ) ?? 'null';
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
