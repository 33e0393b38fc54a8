/**
 * ValidatingAdmissionPolicy evaluation as the API server does it (kubernetes/apiserver v0.34,
 * `pkg/admission/plugin/policy/`), for the policies and bindings the `tenancy` stack deploys.
 *
 * 1. Resources never subject to policies are skipped (`generic/plugin.go`: the admission policy
 *    and binding kinds themselves).
 * 2. The policy's `matchConstraints`, then each binding's `matchResources`, are matched
 *    (`matching/matching.go`): namespaceSelector (always true for cluster-scoped objects other
 *    than namespaces; a Namespace is matched on its own labels), objectSelector (old OR new object),
 *    excludeResourceRules, resourceRules (`webhook/predicates/rules/rules.go`: `pods` is not
 *    `pods/binding`, `pods/*` is both, scope Namespaced excludes namespaces).
 * 3. matchConditions (`webhook/matchconditions/matcher.go`): any false skips the policy, even if
 *    another errored; otherwise an error denies under failurePolicy Fail and skips under Ignore.
 *    `namespaceObject` is null there, as in that source.
 * 4. variables are lazy (cel.ts), then every validation must be exactly `true`; false denies with
 *    messageExpression, else message, else "failed expression: <expr>"; an error denies with
 *    "expression '<expr>' resulted in error: ..." under Fail and admits under Ignore
 *    (`validating/validator.go`).
 * 5. The binding's validationActions apply: Deny rejects, Warn and Audit do not.
 *
 * `object` is null on DELETE, `oldObject` on CREATE; `namespaceObject` is null for cluster-scoped
 * objects and for Namespace objects themselves (`validating/dispatcher.go`).
 *
 * Not modelled (a policy using them fails here instead of being evaluated wrongly): paramKind and
 * params, `authorizer`, auditAnnotations, matchPolicy Equivalent conversion between API versions
 * (requests here use the versions the policies name), CEL cost limits.
 */
import { CelCompileError, compileCel, lazyVariables, toCel, variableReferences } from './cel.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
export type Json = Record<string, unknown>;
export type KubeObject = Json & { apiVersion?: string; kind?: string; metadata?: Json & { name?: string; namespace?: string; labels?: Record<string, string> } };

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

/** What admission sees of one API request (`admission.Attributes`). */
export interface AdmissionAttributes {
  readonly operation: Operation;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** `''` for the main resource. */
  readonly subResource: string;
  readonly name: string;
  /** `''` for cluster-scoped objects; a Namespace's own name for Namespace requests. */
  readonly namespace: string;
  readonly userInfo: UserInfo;
  /** null on DELETE. */
  readonly object: KubeObject | null;
  /** null on CREATE. */
  readonly oldObject: KubeObject | null;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: readonly string[] }[];
}

interface NamedRule {
  apiGroups?: string[];
  apiVersions?: string[];
  operations?: string[];
  resources?: string[];
  scope?: string;
}

interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: NamedRule[];
  excludeResourceRules?: NamedRule[];
  matchPolicy?: string;
}

interface PolicySpec {
  failurePolicy?: 'Fail' | 'Ignore';
  paramKind?: unknown;
  matchConstraints: MatchResources;
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
  validations?: { expression: string; message?: string; messageExpression?: string; reason?: string }[];
  auditAnnotations?: unknown[];
}

interface BindingSpec {
  policyName: string;
  paramRef?: unknown;
  matchResources?: MatchResources;
  validationActions: ('Deny' | 'Warn' | 'Audit')[];
}

export interface PolicyViolation {
  readonly policy: string;
  readonly binding: string;
  readonly message: string;
  readonly reason: string;
  readonly action: 'Deny' | 'Warn' | 'Audit';
}

export interface PolicyResult {
  /** Violations bound with Deny: the request is rejected (the API server answers with the first). */
  readonly denials: readonly PolicyViolation[];
  /** Violations bound with Warn or Audit only. */
  readonly reported: readonly PolicyViolation[];
  /** Policies that matched and whose match conditions held (validations ran). */
  readonly evaluated: readonly string[];
}

/** Looks a namespace up by name (the API server's namespace lister). */
export type NamespaceLookup = (name: string) => KubeObject | undefined;

/** Never subject to ValidatingAdmissionPolicies (apiserver `generic/plugin.go`). */
const EXEMPT_RESOURCES = ['validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'mutatingadmissionpolicies', 'mutatingadmissionpolicybindings'];

function labelsOf(object: KubeObject | null | undefined): Record<string, string> {
  return object?.metadata?.labels ?? {};
}

/** `k8s.io/apimachinery` label selector semantics (NotIn also matches a missing key). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok =
      operator === 'In' ? has && values.includes(labels[key]!) : operator === 'NotIn' ? !has || !values.includes(labels[key]!) : operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}

function isEmpty(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

function ruleMatches(rule: NamedRule, a: AdmissionAttributes): boolean {
  const any = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);
  const scope = rule.scope ?? '*';
  const isNamespace = a.resource.resource === 'namespaces';
  const scopeOk = scope === '*' || (scope === 'Namespaced' ? !isNamespace && a.namespace !== '' : isNamespace || a.namespace === '');
  const resourceOk = (rule.resources ?? []).some((entry) => {
    const [resource, sub = ''] = entry.split('/') as [string, string?];
    return (resource === '*' || resource === a.resource.resource) && (sub === '*' || sub === a.subResource);
  });
  return scopeOk && any(rule.operations, a.operation) && any(rule.apiGroups, a.resource.group) && any(rule.apiVersions, a.resource.version) && resourceOk;
}

function namespaceLabelsFor(a: AdmissionAttributes, lookup: NamespaceLookup): Record<string, string> {
  if (a.resource.resource === 'namespaces' && a.subResource === '' && (a.operation === 'CREATE' || a.operation === 'UPDATE')) return labelsOf(a.object);
  const namespace = lookup(a.namespace);
  if (!namespace) throw new Error(`namespace ${a.namespace} not found (the API server answers 404)`);
  return labelsOf(namespace);
}

/** `matching/matching.go` Matcher.Matches, for a policy's matchConstraints or a binding's matchResources. */
function matches(match: MatchResources | undefined, a: AdmissionAttributes, lookup: NamespaceLookup, isBinding: boolean): boolean {
  if (!match) return true;
  const clusterScoped = a.namespace === '' && a.resource.resource !== 'namespaces';
  if (!clusterScoped && !isEmpty(match.namespaceSelector) && !selectorMatches(match.namespaceSelector, namespaceLabelsFor(a, lookup))) return false;
  if (!isEmpty(match.objectSelector)) {
    const newMatches = a.object !== null && selectorMatches(match.objectSelector, labelsOf(a.object));
    const oldMatches = a.oldObject !== null && selectorMatches(match.objectSelector, labelsOf(a.oldObject));
    if (!newMatches && !oldMatches) return false;
  }
  if ((match.excludeResourceRules ?? []).some((r) => ruleMatches(r, a))) return false;
  const rules = match.resourceRules ?? [];
  if (rules.length === 0) return isBinding;
  return rules.some((r) => ruleMatches(r, a));
}

/** The `request` variable: the AdmissionRequest converted to unstructured (omitempty fields absent). */
export function requestVariable(a: AdmissionAttributes): Json {
  const userInfo: Json = { username: a.userInfo.username };
  if (a.userInfo.uid) userInfo.uid = a.userInfo.uid;
  if (a.userInfo.groups && a.userInfo.groups.length > 0) userInfo.groups = [...a.userInfo.groups];
  if (a.userInfo.extra && Object.keys(a.userInfo.extra).length > 0) userInfo.extra = a.userInfo.extra;
  return {
    kind: { ...a.kind },
    resource: { ...a.resource },
    ...(a.subResource ? { subResource: a.subResource, requestSubResource: a.subResource } : {}),
    requestKind: { ...a.kind },
    requestResource: { ...a.resource },
    ...(a.name ? { name: a.name } : {}),
    ...(a.namespace ? { namespace: a.namespace } : {}),
    operation: a.operation,
    userInfo,
    dryRun: false,
  };
}

/** The `namespaceObject` variable (`CreateNamespaceObject`: metadata, spec and status only). */
function namespaceVariable(a: AdmissionAttributes, lookup: NamespaceLookup): Json | null {
  if (a.namespace === '' || a.resource.resource === 'namespaces') return null;
  const ns = lookup(a.namespace);
  if (!ns) return null;
  return { metadata: ns.metadata ?? {}, ...(ns.spec ? { spec: ns.spec } : {}), ...(ns.status ? { status: ns.status } : {}) };
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** messageExpression results are used only if a non-blank single-line string (`validating/validator.go`). */
function usableMessage(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' && !/[\r\n]/.test(value) && value.length <= 5120 ? value.trim() : undefined;
}

/**
 * Evaluates every policy with its bindings against one request. Throws CelCompileError when a
 * policy would be rejected by the API server (or cannot be evaluated faithfully here).
 */
export function evaluatePolicies(policies: readonly KubeObject[], bindings: readonly KubeObject[], a: AdmissionAttributes, lookup: NamespaceLookup): PolicyResult {
  const denials: PolicyViolation[] = [];
  const reported: PolicyViolation[] = [];
  const evaluated: string[] = [];
  if (EXEMPT_RESOURCES.includes(a.resource.resource) && a.resource.group === 'admissionregistration.k8s.io') return { denials, reported, evaluated };
  const base = { object: toCel(a.object), oldObject: toCel(a.oldObject), request: toCel(requestVariable(a)) };
  for (const policy of policies) {
    const name = policy.metadata!.name!;
    const spec = policy.spec as PolicySpec;
    if (spec.paramKind !== undefined) throw new CelCompileError(`${name}: paramKind is not modelled by this harness`);
    if (spec.auditAnnotations !== undefined) throw new CelCompileError(`${name}: auditAnnotations are not modelled by this harness`);
    const failClosed = (spec.failurePolicy ?? 'Fail') === 'Fail';
    // Compile everything up front, as the API server does when the policy is created.
    for (const condition of spec.matchConditions ?? []) {
      compileCel(condition.expression);
      if (variableReferences(condition.expression).length > 0) throw new CelCompileError(`${name}: match condition ${condition.name} reads variables (not modelled)`);
    }
    const declared = new Set((spec.variables ?? []).map((v) => v.name));
    for (const v of spec.validations ?? []) {
      for (const expression of [v.expression, v.messageExpression].filter((e): e is string => e !== undefined)) {
        compileCel(expression);
        const unknown = variableReferences(expression).filter((n) => !declared.has(n));
        if (unknown.length > 0) throw new CelCompileError(`${name}: reads undeclared variables.${unknown.join(', variables.')}`);
      }
    }
    if (!matches(spec.matchConstraints, a, lookup, false)) continue;
    for (const binding of bindings) {
      const bspec = binding.spec as BindingSpec;
      if (bspec.policyName !== name) continue;
      if (bspec.paramRef !== undefined) throw new CelCompileError(`${binding.metadata!.name}: paramRef is not modelled by this harness`);
      if (!matches(bspec.matchResources, a, lookup, true)) continue;
      const violations: { message: string; reason: string }[] = [];
      // 3. match conditions, with namespaceObject null.
      const conditionActivation = { ...base, namespaceObject: null };
      let skip = false;
      let conditionError: string | undefined;
      for (const condition of spec.matchConditions ?? []) {
        try {
          const value = compileCel(condition.expression).evaluate(conditionActivation);
          if (typeof value !== 'boolean') conditionError ??= `match condition ${condition.name} evaluated to ${String(value)}, not a bool`;
          else if (!value) skip = true;
        } catch (error) {
          conditionError ??= `expression '${condition.expression}' resulted in error: ${errorText(error)}`;
        }
      }
      if (skip) continue;
      if (conditionError !== undefined) {
        if (failClosed) violations.push({ message: conditionError, reason: 'Invalid' });
      } else {
        // 4. variables and validations.
        evaluated.push(name);
        const activationBase = { ...base, namespaceObject: toCel(namespaceVariable(a, lookup)) };
        const activation = { ...activationBase, variables: lazyVariables(spec.variables ?? [], activationBase) };
        for (const v of spec.validations ?? []) {
          try {
            const value = compileCel(v.expression).evaluate(activation);
            if (value === true) continue;
            let message: string | undefined;
            if (v.messageExpression) {
              try {
                message = usableMessage(compileCel(v.messageExpression).evaluate(activation));
              } catch {
                message = undefined; // the API server only logs messageExpression errors
              }
            }
            violations.push({ message: message ?? v.message ?? `failed expression: ${v.expression.trim()}`, reason: v.reason ?? 'Invalid' });
          } catch (error) {
            if (failClosed) violations.push({ message: `expression '${v.expression}' resulted in error: ${errorText(error)}`, reason: 'Invalid' });
          }
        }
      }
      // 5. validation actions.
      for (const violation of violations) {
        for (const action of bspec.validationActions) {
          const entry = { policy: name, binding: binding.metadata!.name!, action, ...violation };
          if (action === 'Deny') denials.push({ ...entry, message: `ValidatingAdmissionPolicy '${name}' with binding '${entry.binding}' denied request: ${violation.message}` });
          else reported.push(entry);
        }
      }
    }
  }
  return { denials, reported, evaluated };
}
