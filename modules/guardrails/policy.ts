/**
 * IAM policy documents as the guardrails see them: parsed from the literal JSON string a resource
 * carries (what `policyJson` in modules/iam/policy.ts writes; token references inside it are plain
 * `${...}` strings), or converted from an `aws_iam_policy_document` data source it references.
 * Every statement is normalised to lists so rules need no shape checks.
 */
import { blocks, isRecord, strings, type StackIndex, type TfResource } from './terraform.js';

export interface NormalizedStatement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** `'*'` for `Principal: "*"`, otherwise principal type -> identifiers; undefined when absent. */
  readonly principal?: '*' | Readonly<Record<string, readonly string[]>>;
  readonly notPrincipal?: '*' | Readonly<Record<string, readonly string[]>>;
  /** Operator -> condition key -> values. */
  readonly conditions: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

export type ParsedPolicy = { readonly ok: true; readonly statements: readonly NormalizedStatement[] } | { readonly ok: false; readonly reason: string };

/** Resource type -> attributes holding identity policies (what a principal may do). */
export const IDENTITY_POLICY_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_iam_policy: ['policy'],
  aws_iam_role_policy: ['policy'],
  aws_iam_user_policy: ['policy'],
  aws_iam_group_policy: ['policy'],
};

/** Resource type -> attributes holding resource policies (who may use the resource). */
export const RESOURCE_POLICY_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_s3_bucket_policy: ['policy'],
  aws_sqs_queue_policy: ['policy'],
  aws_sqs_queue: ['policy'],
  aws_sns_topic_policy: ['policy'],
  aws_sns_topic: ['policy'],
  aws_kms_key: ['policy'],
  aws_ecr_repository_policy: ['policy'],
  aws_cloudwatch_log_resource_policy: ['policy_document'],
};

/** Identity policy documents of a resource, including an `aws_iam_role`'s `inline_policy` blocks. */
export function identityPolicies(resource: TfResource): { readonly attribute: string; readonly value: unknown }[] {
  if (resource.type === 'aws_iam_role') {
    return blocks(resource.body.inline_policy)
      .map((b, i) => ({ attribute: `inline_policy[${i}]${typeof b.name === 'string' ? ` (${b.name})` : ''}`, value: b.policy }))
      .filter((p) => p.value !== undefined);
  }
  return (IDENTITY_POLICY_ATTRIBUTES[resource.type] ?? []).map((attribute) => ({ attribute, value: resource.body[attribute] })).filter((p) => p.value !== undefined);
}

export function resourcePolicies(resource: TfResource): { readonly attribute: string; readonly value: unknown }[] {
  return (RESOURCE_POLICY_ATTRIBUTES[resource.type] ?? []).map((attribute) => ({ attribute, value: resource.body[attribute] })).filter((p) => p.value !== undefined);
}

function principalOf(value: unknown): NormalizedStatement['principal'] {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  if (!isRecord(value)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(value)) out[type] = strings(ids);
  return out;
}

function conditionsOf(value: unknown): NormalizedStatement['conditions'] {
  if (!isRecord(value)) return {};
  const out: Record<string, Record<string, string[]>> = {};
  for (const [operator, keys] of Object.entries(value)) {
    if (!isRecord(keys)) continue;
    const entries: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(keys)) entries[key] = Array.isArray(values) ? values.map(String) : [String(values)];
    out[operator] = entries;
  }
  return out;
}

function normalize(statement: Record<string, unknown>): NormalizedStatement {
  return {
    ...(typeof statement.Sid === 'string' ? { sid: statement.Sid } : {}),
    effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
    actions: strings(statement.Action),
    notActions: strings(statement.NotAction),
    resources: strings(statement.Resource),
    notResources: strings(statement.NotResource),
    principal: principalOf(statement.Principal),
    notPrincipal: principalOf(statement.NotPrincipal),
    conditions: conditionsOf(statement.Condition),
  };
}

function fromJsonString(text: string): ParsedPolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, reason: `is not a literal JSON policy document (found ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)})` };
  }
  if (!isRecord(document)) return { ok: false, reason: 'is not a JSON object' };
  const raw = document.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (!list.every(isRecord)) return { ok: false, reason: 'has a Statement that is not an object' };
  return { ok: true, statements: list.map(normalize) };
}

/** `principals`/`not_principals` blocks of an aws_iam_policy_document. */
function documentPrincipals(value: unknown): NormalizedStatement['principal'] {
  const list = blocks(value);
  if (list.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const p of list) {
    const type = typeof p.type === 'string' ? p.type : '';
    const ids = strings(p.identifiers);
    if (type === '*' && ids.includes('*')) return '*';
    out[type] = [...(out[type] ?? []), ...ids];
  }
  return out;
}

/** Converts an `aws_iam_policy_document` data source (with its source documents) to statements. */
function fromPolicyDocument(document: TfResource, index: StackIndex, depth: number): ParsedPolicy {
  const statements: NormalizedStatement[] = [];
  for (const source of [...strings(document.body.source_policy_documents), ...strings(document.body.override_policy_documents)]) {
    const parsed = parsePolicyValue(source, index, depth + 1);
    if (!parsed.ok) return { ok: false, reason: `source document of ${document.address} ${parsed.reason}` };
    statements.push(...parsed.statements);
  }
  for (const s of blocks(document.body.statement)) {
    const conditions: Record<string, Record<string, string[]>> = {};
    for (const c of blocks(s.condition)) {
      const test = String(c.test ?? '');
      conditions[test] = { ...(conditions[test] ?? {}), [String(c.variable ?? '')]: strings(c.values) };
    }
    statements.push({
      ...(typeof s.sid === 'string' ? { sid: s.sid } : {}),
      effect: s.effect === 'Deny' ? 'Deny' : 'Allow',
      actions: strings(s.actions),
      notActions: strings(s.not_actions),
      resources: strings(s.resources),
      notResources: strings(s.not_resources),
      principal: documentPrincipals(s.principals),
      notPrincipal: documentPrincipals(s.not_principals),
      conditions,
    });
  }
  return { ok: true, statements };
}

function parsePolicyValue(value: unknown, index: StackIndex, depth = 0): ParsedPolicy {
  if (depth > 4) return { ok: false, reason: 'nests policy documents too deeply' };
  if (isRecord(value)) {
    const list = Array.isArray(value.Statement) ? value.Statement : [value.Statement];
    return list.every(isRecord) ? { ok: true, statements: list.map(normalize) } : { ok: false, reason: 'has a Statement that is not an object' };
  }
  if (typeof value !== 'string') return { ok: false, reason: 'is not a policy document' };
  const document = index.referenced(value, 'aws_iam_policy_document');
  if (document && document.kind === 'data') return fromPolicyDocument(document, index, depth);
  return fromJsonString(value);
}

/** Parses a policy attribute once per stack (several rules read the same document). */
export function parsePolicy(resource: TfResource, attribute: string, value: unknown, index: StackIndex): ParsedPolicy {
  return index.memo(`policy:${resource.address}:${attribute}`, () => parsePolicyValue(value, index));
}

const patternCache = new Map<string, RegExp>();

/** Whether `pattern` (IAM wildcards `*` and `?`) matches `value`, case-insensitively as IAM actions do. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let regex = patternCache.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    patternCache.set(pattern, regex);
  }
  return regex.test(value);
}

/** Condition values of a key under any of the operators (e.g. StringEquals and StringLike). */
export function conditionValues(statement: NormalizedStatement, keyMatches: (key: string) => boolean, operators?: readonly string[]): { operator: string; key: string; values: readonly string[] }[] {
  const found: { operator: string; key: string; values: readonly string[] }[] = [];
  for (const [operator, keys] of Object.entries(statement.conditions)) {
    if (operators && !operators.includes(operator)) continue;
    for (const [key, values] of Object.entries(keys)) if (keyMatches(key)) found.push({ operator, key, values });
  }
  return found;
}

/** A short label for a statement in messages: its Sid, or its position. */
export function statementLabel(statement: NormalizedStatement, i: number): string {
  return statement.sid ? `statement "${statement.sid}"` : `statement ${i + 1}`;
}
