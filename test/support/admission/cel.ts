/**
 * The CEL environment of Kubernetes admission policies, on a real CEL engine.
 *
 * Engine: `@marcbachmann/cel-js` 8.0.0, pinned in package.json (the npm registry's latest,
 * published 2026-08-22, checked with `npm view`; zero dependencies). Chosen over `@bufbuild/cel`
 * for what ValidatingAdmissionPolicies need:
 * - optional syntax (`.?field`, `[?key]`, `orValue`), which the API server has enabled since
 *   Kubernetes 1.28 (`cel.OptionalTypes()` in apiserver `pkg/cel/environment/base.go`); bufbuild
 *   0.6 cannot parse it (its conformance run skips the optionals suite);
 * - lazy `variables` whose errors behave as CEL errors (`variables.x || true` is true when `x`
 *   fails), as the API server's lazy variable map does (`pkg/admission/plugin/cel/composition.go`);
 *   bufbuild reads bindings eagerly and turns an error inside one into a whole-expression error;
 * - a type checker, standing in for the compile step that rejects a policy at creation;
 * - integers are CEL `int` (BigInt) and errors are absorbed by `||`, `&&`, `all` and `exists`
 *   as in cel-go (test/admission-harness.test.ts pins every behaviour the policies rely on).
 * Its gaps are handled here: `cel.bind` and byte helpers it has but Kubernetes does not are
 * rejected, and functions it implements differently from cel-go (`matches` with JavaScript
 * regular expressions instead of RE2, `lowerAscii`/`upperAscii` beyond ASCII) are refused rather
 * than trusted.
 *
 * Kubernetes library functions (`quantity`, `ip`, `cidr`, `url`, `sets`, list helpers...) are
 * listed but not implemented: no policy uses one today. A policy that starts using one fails its
 * compile check here until the function is implemented in this file, faithfully to its source in
 * kubernetes/apiserver `pkg/cel/library/`.
 */
import { type ASTNode, Environment } from '@marcbachmann/cel-js';

/** Variables of the admission CEL environment. `params` and `authorizer` are not modelled. */
export const ADMISSION_VARIABLES = ['object', 'oldObject', 'request', 'namespaceObject', 'variables'] as const;

/**
 * Every function name the API server's environment offers at the compatibility version of the
 * clusters this platform supports (1.30+), with where it comes from. Names only: a use still needs
 * an implementation in the engine (standard and optional functions) or in this file (libraries).
 */
const KUBERNETES_FUNCTIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({
    'CEL standard definitions (cel-spec langdef.md)':
      'has all exists exists_one map filter size contains startsWith endsWith matches int uint double string bytes bool dyn type duration timestamp getFullYear getMonth getDayOfYear getDayOfMonth getDate getDayOfWeek getHours getMinutes getSeconds getMilliseconds',
    'cel-go ext.Strings v2 (base.go, 1.29)': 'charAt indexOf lastIndexOf lowerAscii upperAscii replace split substring trim join format strings.quote',
    'cel-go optional types (base.go, 1.28)': 'optional.of optional.ofNonZeroValue optional.none hasValue value or orValue optMap optFlatMap',
    'cel-go ext.Sets (base.go, 1.29)': 'sets.contains sets.equivalent sets.intersects',
    'apiserver pkg/cel/library lists.go, regex.go, urls.go': 'isSorted sum min max find findAll url isURL getScheme getHost getHostname getPort getEscapedPath getQuery',
    'apiserver pkg/cel/library quantity.go (1.28)': 'quantity isQuantity isInteger asInteger asApproximateFloat sign add sub isLessThan isGreaterThan compareTo',
    'apiserver pkg/cel/library ip.go, cidr.go (1.30)':
      'ip isIP ip.isCanonical family isUnspecified isLoopback isLinkLocalMulticast isLinkLocalUnicast isGlobalUnicast cidr isCIDR containsIP containsCIDR masked prefixLength',
  }).flatMap(([source, names]) => names.split(' ').map((name) => [name, source])),
);

/** Functions the engine implements differently from cel-go: refused rather than trusted. */
const NOT_FAITHFUL: Readonly<Record<string, string>> = {
  matches: 'the engine uses JavaScript regular expressions, the API server RE2',
  find: 'needs RE2',
  findAll: 'needs RE2',
  lowerAscii: 'the engine lowers every Unicode letter, cel-go only A-Z',
  upperAscii: 'the engine raises every Unicode letter, cel-go only a-z',
};

/**
 * Fields of the typed `request` (AdmissionRequest) and `namespaceObject` (Namespace) variables.
 * The API server declares them as object types (apiserver `pkg/admission/plugin/cel/compile.go`,
 * `buildRequestType` and `buildNamespaceType`), so selecting any other field is a compile error,
 * not a runtime one. `true` = a leaf (or a map/list the schema does not type further).
 */
type FieldTree = { readonly [field: string]: FieldTree | true };
const GVK = { group: true, version: true, kind: true } as const;
const GVR = { group: true, version: true, resource: true } as const;
const TYPED_ROOTS: Readonly<Record<string, FieldTree>> = {
  request: {
    kind: GVK,
    resource: GVR,
    subResource: true,
    requestKind: GVK,
    requestResource: GVR,
    requestSubResource: true,
    name: true,
    namespace: true,
    operation: true,
    userInfo: { username: true, uid: true, groups: true, extra: true },
    dryRun: true,
    options: true,
  },
  namespaceObject: {
    metadata: {
      name: true,
      generateName: true,
      namespace: true,
      labels: true,
      annotations: true,
      UID: true,
      creationTimestamp: true,
      deletionGracePeriodSeconds: true,
      deletionTimestamp: true,
      generation: true,
      resourceVersion: true,
      finalizers: true,
    },
    spec: { finalizers: true },
    status: { conditions: true, phase: true },
  },
};

/** Thrown when an expression would not compile on the API server (or this harness cannot evaluate it faithfully). */
export class CelCompileError extends Error {
  override name = 'CelCompileError';
}

/** The variables an expression is evaluated with (null where the API server gives null). */
export interface Activation {
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly request: unknown;
  readonly namespaceObject: unknown;
  /** Lazy: each property is a getter that evaluates the variable once (see lazyVariables). */
  readonly variables?: unknown;
}

export interface CompiledExpression {
  readonly expression: string;
  /** The value, or throws the CEL error (an exception from the engine). */
  evaluate(activation: Activation): unknown;
}

const engine = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: true });
for (const name of ADMISSION_VARIABLES) engine.registerVariable(name, 'dyn');

function children(node: ASTNode): ASTNode[] {
  const args = node.args as unknown;
  const out: ASTNode[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object' && 'op' in value) out.push(value as ASTNode);
  };
  if (node.op !== 'value' && node.op !== 'id') visit(args);
  return out;
}

/** `a.b.c` as ['a', 'b', 'c'] when the chain starts at an identifier, else undefined. */
function selectPath(node: ASTNode): string[] | undefined {
  if (node.op === 'id') return [node.args];
  if (node.op === '.' || node.op === '.?') {
    const [operand, field] = node.args;
    const head = selectPath(operand);
    return head ? [...head, field] : undefined;
  }
  return undefined;
}

function checkTypedSelect(path: string[], expression: string): void {
  let tree: FieldTree | true | undefined = TYPED_ROOTS[path[0]!];
  for (const field of path.slice(1)) {
    if (tree === true || tree === undefined) return;
    if (!(field in tree)) throw new CelCompileError(`${path[0]} has no field ${JSON.stringify(field)} (${path.join('.')}) in: ${expression}`);
    tree = tree[field];
  }
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/**
 * The name a call resolves to: `optional.of` or `sets.contains` when the receiver is an identifier
 * that is neither a variable nor a comprehension's iteration variable, else the plain name.
 */
function calledName(node: ASTNode, locals: ReadonlySet<string>): string | undefined {
  if (node.op === 'call') return node.args[0];
  if (node.op === 'rcall') {
    const [name, receiver] = node.args;
    if (receiver.op === 'id' && !(ADMISSION_VARIABLES as readonly string[]).includes(receiver.args) && !locals.has(receiver.args)) return `${receiver.args}.${name}`;
    return name;
  }
  return undefined;
}

function checkKubernetesEnvironment(root: ASTNode, expression: string): void {
  const walk = (node: ASTNode, locals: ReadonlySet<string>) => {
    const name = calledName(node, locals);
    if (name !== undefined) {
      if (!(name in KUBERNETES_FUNCTIONS)) throw new CelCompileError(`function ${name} is not in the API server's CEL environment (cel.bind, for one, is not): ${expression}`);
      if (name in NOT_FAITHFUL) throw new CelCompileError(`function ${name} is not evaluated faithfully by this harness (${NOT_FAITHFUL[name]}): ${expression}`);
    }
    if (node.op === '.' || node.op === '.?') {
      const path = selectPath(node);
      if (path && !locals.has(path[0]!)) checkTypedSelect(path, expression);
    }
    let inner = locals;
    if (node.op === 'rcall' && MACROS.has(node.args[0]) && node.args[2][0]?.op === 'id') inner = new Set([...locals, node.args[2][0].args]);
    children(node).forEach((child) => walk(child, inner));
  };
  walk(root, new Set());
}

/** Names of the `variables.<name>` an expression reads. */
export function variableReferences(expression: string): string[] {
  const names = new Set<string>();
  const walk = (node: ASTNode) => {
    if ((node.op === '.' || node.op === '.?') && node.args[0].op === 'id' && node.args[0].args === 'variables') names.add(node.args[1]);
    children(node).forEach(walk);
  };
  walk(engine.parse(expression).ast);
  return [...names];
}

const cache = new Map<string, CompiledExpression>();

/**
 * Compiles an expression the way the API server would accept it: it parses, type-checks against
 * the admission variables, uses only functions of the Kubernetes environment, and selects only
 * declared fields of the typed variables. Throws CelCompileError otherwise.
 */
export function compileCel(expression: string): CompiledExpression {
  const cached = cache.get(expression);
  if (cached) return cached;
  let program: ReturnType<Environment['parse']>;
  try {
    program = engine.parse(expression);
  } catch (error) {
    throw new CelCompileError(`does not parse: ${(error as Error).message.split('\n')[0]}: ${expression}`);
  }
  const checked = program.check();
  if (!checked.valid) throw new CelCompileError(`does not type-check: ${checked.error?.message.split('\n')[0]}: ${expression}`);
  checkKubernetesEnvironment(program.ast, expression);
  const compiled: CompiledExpression = { expression, evaluate: (activation) => program(activation as unknown as Record<string, unknown>) };
  cache.set(expression, compiled);
  return compiled;
}

/**
 * A JSON value as the API server hands it to CEL (unstructured): integers become CEL `int`
 * (BigInt), other numbers `double`; absent fields stay absent (`has()` is false), quantities and
 * timestamps stay strings.
 */
export function toCel(value: unknown): unknown {
  // Array.from, not value.map: an array from another realm (structuredClone, Node core under jest)
  // keeps its realm through map(), and the engine would not recognise it as a list.
  if (Array.isArray(value)) return Array.from(value, toCel);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toCel(v)]));
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return value;
}

/**
 * The `variables` map: each variable is evaluated on first access, in the activation of the
 * expression being evaluated (earlier variables are visible to later ones), and its value or
 * error is reused wherever it is referenced. An error surfaces as a CEL error at the use site.
 */
export function lazyVariables(declarations: readonly { name: string; expression: string }[], base: Omit<Activation, 'variables'>): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const results = new Map<string, { value?: unknown; error?: unknown }>();
  for (const [i, { name, expression }] of declarations.entries()) {
    const compiled = compileCel(expression);
    const earlier = new Set(declarations.slice(0, i).map((d) => d.name));
    const unknown = variableReferences(expression).filter((n) => !earlier.has(n));
    if (unknown.length > 0) throw new CelCompileError(`variable ${name} reads variables.${unknown.join(', variables.')}, which are not declared before it`);
    Object.defineProperty(variables, name, {
      enumerable: true,
      get() {
        let result = results.get(name);
        if (!result) {
          try {
            result = { value: compiled.evaluate({ ...base, variables }) };
          } catch (error) {
            result = { error };
          }
          results.set(name, result);
        }
        if ('error' in result) throw result.error;
        return result.value;
      },
    });
  }
  return variables;
}
