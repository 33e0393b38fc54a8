/**
 * The PromQL check of everything the platform ships (alerts, recording rules, dashboard queries),
 * without a Prometheus at hand. Syntax is Prometheus's own: the expression is parsed with
 * `@prometheus-io/lezer-promql`, the grammar Prometheus's web UI uses (the code editor of the
 * query page is built on it).
 *
 * That grammar is a syntax tree and nothing more: it accepts `rate(x)`, `topk(x)`,
 * `histogram_quantile(0.9)`, `rate(sum(x)[5m])` or `"a" + 1`, which Prometheus's Go parser
 * rejects when it loads a rule. So the checks Prometheus makes after parsing, which the previous
 * hand-written parser of this module made and its tests assert, are written here on top of the
 * tree, because no npm package exposes them (the only other implementation, the linter of
 * `@prometheus-io/codemirror-promql`, needs a CodeMirror editor state): value types (instant
 * vector, range vector, scalar, string) through every node, function arity and argument types
 * (signatures from prometheus/prometheus promql/parser/functions.go), aggregation parameters,
 * operand types of binary operators, `bool` and vector matching, ranges only on selectors,
 * regular expressions that compile, selectors that name a metric. A few constructs the grammar
 * accepts but the platform's Prometheus does not run without feature flags (duration arithmetic,
 * `fill`, `anchored`/`smoothed`, trim operators, experimental functions) are refused.
 *
 * It returns the metric names an expression reads, so callers check them against the list of
 * known metrics (metrics.ts).
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

export type ValueType = 'scalar' | 'string' | 'instant' | 'range';

export interface ParsedQuery {
  readonly type: ValueType;
  /** Metric names read by the expression (vector selector names and `__name__="..."` matchers). */
  readonly metrics: readonly string[];
  /** Functions and aggregation operators used. */
  readonly functions: readonly string[];
}

export class PromQLError extends Error {
  override name = 'PromQLError';
  constructor(
    message: string,
    readonly expression: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}: ${expression.slice(Math.max(0, position - 30), position)}>>>${expression.slice(position, position + 30)}`);
  }
}

type Arg = ValueType | `${ValueType}?` | `${ValueType}...`;

interface FunctionSignature {
  readonly args: readonly Arg[];
  readonly returns: ValueType;
}

const math1: FunctionSignature = { args: ['instant'], returns: 'instant' };
const overTime: FunctionSignature = { args: ['range'], returns: 'instant' };
const dateFn: FunctionSignature = { args: ['instant?'], returns: 'instant' };

/**
 * Functions of Prometheus 3.x with their argument types (promql/parser/functions.go). The grammar
 * knows every function name, experimental ones included; a name missing here is refused.
 */
export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  abs: math1,
  absent: math1,
  absent_over_time: overTime,
  acos: math1,
  acosh: math1,
  asin: math1,
  asinh: math1,
  atan: math1,
  atanh: math1,
  avg_over_time: overTime,
  ceil: math1,
  changes: overTime,
  clamp: { args: ['instant', 'scalar', 'scalar'], returns: 'instant' },
  clamp_max: { args: ['instant', 'scalar'], returns: 'instant' },
  clamp_min: { args: ['instant', 'scalar'], returns: 'instant' },
  cos: math1,
  cosh: math1,
  count_over_time: overTime,
  day_of_month: dateFn,
  day_of_week: dateFn,
  day_of_year: dateFn,
  days_in_month: dateFn,
  deg: math1,
  delta: overTime,
  deriv: overTime,
  exp: math1,
  floor: math1,
  histogram_avg: math1,
  histogram_count: math1,
  histogram_fraction: { args: ['scalar', 'scalar', 'instant'], returns: 'instant' },
  histogram_quantile: { args: ['scalar', 'instant'], returns: 'instant' },
  histogram_stddev: math1,
  histogram_stdvar: math1,
  histogram_sum: math1,
  double_exponential_smoothing: { args: ['range', 'scalar', 'scalar'], returns: 'instant' },
  hour: dateFn,
  idelta: overTime,
  increase: overTime,
  irate: overTime,
  label_join: { args: ['instant', 'string', 'string', 'string...'], returns: 'instant' },
  label_replace: { args: ['instant', 'string', 'string', 'string', 'string'], returns: 'instant' },
  last_over_time: overTime,
  ln: math1,
  log10: math1,
  log2: math1,
  mad_over_time: overTime,
  max_over_time: overTime,
  min_over_time: overTime,
  minute: dateFn,
  month: dateFn,
  pi: { args: [], returns: 'scalar' },
  predict_linear: { args: ['range', 'scalar'], returns: 'instant' },
  present_over_time: overTime,
  quantile_over_time: { args: ['scalar', 'range'], returns: 'instant' },
  rad: math1,
  rate: overTime,
  resets: overTime,
  round: { args: ['instant', 'scalar?'], returns: 'instant' },
  scalar: { args: ['instant'], returns: 'scalar' },
  sgn: math1,
  sin: math1,
  sinh: math1,
  sort: math1,
  sort_by_label: { args: ['instant', 'string...'], returns: 'instant' },
  sort_by_label_desc: { args: ['instant', 'string...'], returns: 'instant' },
  sort_desc: math1,
  sqrt: math1,
  stddev_over_time: overTime,
  stdvar_over_time: overTime,
  sum_over_time: overTime,
  tan: math1,
  tanh: math1,
  time: { args: [], returns: 'scalar' },
  timestamp: math1,
  vector: { args: ['scalar'], returns: 'instant' },
  year: dateFn,
};

/** Aggregation operators, with the type of their leading parameter when they take one. */
export const AGGREGATIONS: Readonly<Record<string, ValueType | null>> = {
  sum: null,
  min: null,
  max: null,
  avg: null,
  group: null,
  stddev: null,
  stdvar: null,
  count: null,
  count_values: 'string',
  bottomk: 'scalar',
  topk: 'scalar',
  quantile: 'scalar',
  limitk: 'scalar',
  limit_ratio: 'scalar',
};

const COMPARISONS = new Set(['Eql', 'Neq', 'Gtr', 'Gte', 'Lss', 'Lte']);
const SET_OPERATORS = new Set(['And', 'Or', 'Unless']);
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Pow', 'Atan2']);
/** Operator node names -> their PromQL text, for messages. */
const OPERATOR_TEXT: Readonly<Record<string, string>> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Atan2: 'atan2',
  Eql: '==', Neq: '!=', Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=',
  And: 'and', Or: 'or', Unless: 'unless',
};
/** Syntax the grammar accepts for Prometheus feature flags the platform does not turn on. */
const EXPERIMENTAL_NODES: Readonly<Record<string, string>> = {
  AnchoredExpr: '"anchored"',
  SmoothedExpr: '"smoothed"',
  FillModifier: 'fill modifiers',
  TrimUpper: 'the "</" operator',
  TrimLower: 'the ">/" operator',
};

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function describe(type: ValueType): string {
  return type === 'instant' ? 'instant vector' : type === 'range' ? 'range vector' : type;
}

/** Children of a node, comments left out. */
function children(node: SyntaxNode): SyntaxNode[] {
  const result: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.name !== 'LineComment') result.push(child);
  }
  return result;
}

class Checker {
  readonly metrics = new Set<string>();
  readonly functions = new Set<string>();

  constructor(private readonly expr: string) {}

  private text(node: SyntaxNode): string {
    return this.expr.slice(node.from, node.to);
  }

  fail(message: string, at: number | SyntaxNode): never {
    throw new PromQLError(message, this.expr, typeof at === 'number' ? at : at.from);
  }

  /** The first syntax error of the tree, described from where the grammar stopped. */
  syntaxError(top: SyntaxNode): void {
    let error: SyntaxNode | undefined;
    top.cursor().iterate((ref) => {
      if (ref.name === 'StringLiteral') this.unquote(ref.node);
      if (!error && ref.type.isError) error = ref.node;
      return undefined;
    });
    if (!error) return;
    const rest = this.expr.slice(error.from).trimStart();
    const start = this.expr.length - rest.length;
    const atEnd = rest === '' || rest.startsWith('#');
    const found = atEnd ? 'the end of the expression' : JSON.stringify(/^([A-Za-z_][A-Za-z0-9_:]*|\d[\w.]*|"[^"]*"?|'[^']*'?|`[^`]*`?|[=!<>]=?|=~|!~|\S)/.exec(rest)![0]);
    // `name(`: the grammar only knows Prometheus's own function names.
    const before = this.expr.slice(0, start).trimEnd();
    const call = /([A-Za-z_][A-Za-z0-9_:]*)$/.exec(before)?.[1];
    if (rest.startsWith('(') && call && !(call in FUNCTIONS) && !(call in AGGREGATIONS)) this.fail(`unknown function "${call}"`, before.length - call.length);
    const parent = error.parent?.name;
    const previous = error.prevSibling?.name;
    if (parent === 'OffsetExpr') this.fail(`expected a duration after "offset", found ${found}`, start);
    if (parent === 'UnquotedLabelMatcher') {
      this.fail(previous === 'MatchOp' ? `expected a quoted label value, found ${found}` : `expected a label matching operator (=, !=, =~, !~), found ${found}`, start);
    }
    if (parent === 'GroupingLabels' && !atEnd) this.fail(`expected "," or ")" in a label list, found ${found}`, start);
    if (atEnd) {
      const open = this.unclosedBracket(error.from);
      this.fail(open ? `expected "${open}" but found the end of the expression` : 'unexpected end of the expression', this.expr.length);
    }
    if (parent === 'LabelMatchers') this.fail(`expected "," or "}" in a label matcher list, found ${found}`, start);
    if (parent === 'PromQL' && error.prevSibling) this.fail(`unexpected ${found} after a complete expression`, start);
    this.fail(`unexpected ${found}`, start);
  }

  /** The closing bracket of the innermost bracket still open before `position` (strings skipped). */
  private unclosedBracket(position: number): string | undefined {
    const closing: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
    const stack: string[] = [];
    for (let i = 0; i < position; i++) {
      const c = this.expr[i]!;
      if (c === '"' || c === "'" || c === '`') {
        for (i++; i < position && this.expr[i] !== c; i++) if (this.expr[i] === '\\' && c !== '`') i++;
      } else if (c === '#') {
        while (i < position && this.expr[i] !== '\n') i++;
      } else if (c in closing) {
        stack.push(closing[c]!);
      } else if (c === ')' || c === ']' || c === '}') {
        stack.pop();
      }
    }
    return stack.pop();
  }

  /** The value type of an expression node, after checking it. */
  typeOf(node: SyntaxNode): ValueType {
    if (node.name in EXPERIMENTAL_NODES) this.fail(`${EXPERIMENTAL_NODES[node.name]} needs a Prometheus feature flag the platform does not enable`, node);
    switch (node.name) {
      case 'ParenExpr':
        return this.typeOf(children(node)[0]!);
      case 'NumberDurationLiteral': {
        const text = this.text(node).replace(/^[+-]/, '');
        if (DURATION.test(text)) this.fail('a duration is only allowed in a range, a subquery or after "offset"', node);
        return 'scalar';
      }
      case 'StringLiteral':
        this.unquote(node);
        return 'string';
      case 'VectorSelector':
        this.vectorSelector(node);
        return 'instant';
      case 'MatrixSelector':
        return this.matrixSelector(node);
      case 'SubqueryExpr':
        return this.subquery(node);
      case 'OffsetExpr':
        return this.offset(node);
      case 'StepInvariantExpr':
        return this.stepInvariant(node);
      case 'UnaryExpr':
        return this.unary(node);
      case 'BinaryExpr':
        return this.binary(node);
      case 'FunctionCall':
        return this.call(node);
      case 'AggregateExpr':
        return this.aggregation(node);
      default:
        return this.fail(`unexpected ${node.name}`, node);
    }
  }

  private unquote(node: SyntaxNode): string {
    const token = this.text(node);
    const quote = token[0]!;
    if (token.length < 2 || !token.endsWith(quote) || (quote !== '`' && /(^|[^\\])(\\\\)*\\$/.test(token.slice(1, -1)))) this.fail('unterminated string', node);
    const body = token.slice(1, -1);
    if (quote === '`') return body;
    return body.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" })[c] ?? `\\${c}`);
  }

  private checkRegex(pattern: string, node: SyntaxNode): RegExp {
    // RE2 flags such as (?i) are not JavaScript syntax; strip them before compiling.
    try {
      return new RegExp(`^(?:${pattern.replace(/^\(\?[imsU]+\)/, '')})$`);
    } catch (error) {
      return this.fail(`invalid regular expression ${JSON.stringify(pattern)} (${(error as Error).message})`, node);
    }
  }

  private vectorSelector(node: SyntaxNode): void {
    const parts = children(node);
    const identifier = parts.find((p) => p.name === 'Identifier');
    const name = identifier ? this.text(identifier) : undefined;
    if (name !== undefined && name in FUNCTIONS) this.fail(`function "${name}" needs its arguments in parentheses`, identifier!);
    let nameFromMatcher: string | undefined;
    let nonEmptyMatcher = false;
    const matchers = parts.find((p) => p.name === 'LabelMatchers');
    for (const matcher of matchers ? children(matchers) : []) {
      if (matcher.name !== 'UnquotedLabelMatcher') {
        // Quoted (UTF-8) names need Prometheus 3's UTF-8 name validation; the platform's metric and
        // label names are all classic names, so a quoted one is a typo or an unchecked name.
        this.fail('expected a label name in a label matcher (quoted UTF-8 names are not used by the platform)', matcher);
      }
      const [labelNode, opNode, valueNode] = children(matcher);
      const label = this.text(labelNode!);
      if (!LABEL_NAME.test(label)) this.fail('expected a label name in a label matcher', labelNode!);
      const op = this.text(opNode!);
      const value = this.unquote(valueNode!);
      if (op === '=~' || op === '!~') this.checkRegex(value, valueNode!);
      if (label === '__name__') {
        if (op !== '=') this.fail('match metric names with __name__="..." so the name can be checked', labelNode!);
        nameFromMatcher = value;
      }
      const matchesEmpty =
        op === '=' ? value === '' : op === '!=' ? value !== '' : this.checkRegex(value, valueNode!).test('') !== (op === '!~');
      if (!matchesEmpty) nonEmptyMatcher = true;
    }
    if (name !== undefined && nameFromMatcher !== undefined) this.fail(`metric name given twice (${name} and __name__="${nameFromMatcher}")`, node);
    const metric = name ?? nameFromMatcher;
    if (metric === undefined && !nonEmptyMatcher) this.fail('a vector selector needs a metric name or a matcher that does not match the empty string', node);
    if (metric !== undefined) this.metrics.add(metric);
  }

  /** A range or step: one plain duration such as 5m (duration arithmetic is experimental). */
  private duration(node: SyntaxNode, what: string): void {
    const parts = children(node);
    if (parts.length !== 1 || parts[0]!.name !== 'NumberDurationLiteralInDurationContext' || !DURATION.test(this.text(parts[0]!))) {
      this.fail(`expected a duration such as 5m ${what}`, node);
    }
  }

  private matrixSelector(node: SyntaxNode): ValueType {
    const [selector, range] = children(node);
    this.duration(range!, 'inside [ ]');
    if (selector!.name !== 'VectorSelector') this.fail('a range [..] can only follow a vector selector (use a subquery [range:step] for expressions)', range!.from - 1);
    this.typeOf(selector!);
    return 'range';
  }

  private subquery(node: SyntaxNode): ValueType {
    const [inner, ...durations] = children(node);
    durations.forEach((d) => this.duration(d, 'in a subquery'));
    if (this.typeOf(inner!) !== 'instant') this.fail('subqueries need an instant vector expression', durations[0]!.from - 1);
    return 'range';
  }

  private offset(node: SyntaxNode): ValueType {
    const [inner, keyword, duration] = children(node);
    if (!duration) this.fail('expected a duration after "offset"', keyword!);
    const signed = children(duration);
    const value = signed.find((c) => c.name === 'OffsetDurationExpr') ?? duration;
    const literal = children(value);
    if (literal.length !== 1 || !DURATION.test(this.text(literal[0]!))) this.fail('expected a duration after "offset"', keyword!);
    const type = this.typeOf(inner!);
    if (type !== 'instant' && type !== 'range') this.fail('"offset" needs a vector', keyword!);
    return type;
  }

  private stepInvariant(node: SyntaxNode): ValueType {
    const [inner, at, value] = children(node);
    if (value?.name === 'NumberDurationLiteral' && DURATION.test(this.text(value))) this.fail('expected a timestamp, start() or end() after "@"', at!);
    const type = this.typeOf(inner!);
    if (type !== 'instant' && type !== 'range') this.fail('"@" needs a vector', at!);
    return type;
  }

  private unary(node: SyntaxNode): ValueType {
    const [op, operand] = children(node);
    const type = this.typeOf(operand!);
    if (type !== 'scalar' && type !== 'instant') this.fail(`unary "${this.text(op!)}" needs a scalar or an instant vector`, op!);
    return type;
  }

  private binary(node: SyntaxNode): ValueType {
    const parts = children(node);
    const left = parts[0]!;
    const right = parts[parts.length - 1]!;
    const opNode = parts[1]!;
    const op = opNode.name;
    if (op in EXPERIMENTAL_NODES) this.fail(`${EXPERIMENTAL_NODES[op]} needs a Prometheus feature flag the platform does not enable`, opNode);
    const text = OPERATOR_TEXT[op] ?? this.text(opNode);
    const modifiers = parts.slice(2, -1);
    for (const modifier of modifiers) {
      if (modifier.name in EXPERIMENTAL_NODES) this.fail(`${EXPERIMENTAL_NODES[modifier.name]} need a Prometheus feature flag the platform does not enable`, modifier);
    }
    const returnBool = modifiers.some((m) => m.name === 'BoolModifier');
    if (returnBool && !COMPARISONS.has(op)) this.fail('"bool" is only allowed after a comparison operator', modifiers.find((m) => m.name === 'BoolModifier')!);
    const matching = modifiers.find((m) => m.name === 'MatchingModifierClause');
    if (matching) {
      this.labelList(matching);
      const grouping = children(matching).find((c) => c.name === 'GroupLeft' || c.name === 'GroupRight');
      if (grouping && SET_OPERATORS.has(op)) this.fail(`no grouping modifier is allowed with "${text}"`, grouping);
    }
    const leftType = this.typeOf(left);
    const rightType = this.typeOf(right);
    for (const side of [leftType, rightType]) {
      if (side === 'string' || side === 'range') this.fail(`binary "${text}" needs scalar or instant vector operands, not a ${side === 'range' ? 'range vector' : 'string'}`, opNode);
    }
    if (SET_OPERATORS.has(op) && (leftType !== 'instant' || rightType !== 'instant')) this.fail(`"${text}" is only defined between instant vectors`, opNode);
    if (leftType === 'scalar' && rightType === 'scalar') {
      if (COMPARISONS.has(op) && !returnBool) this.fail('comparisons between scalars need "bool"', opNode);
      if (matching) this.fail('vector matching (on/ignoring) needs vector operands', opNode);
      return 'scalar';
    }
    if (matching && (leftType !== 'instant' || rightType !== 'instant')) this.fail('vector matching (on/ignoring) is only allowed between instant vectors', opNode);
    if (!ARITHMETIC.has(op) && !COMPARISONS.has(op) && !SET_OPERATORS.has(op)) this.fail(`unknown operator ${JSON.stringify(text)}`, opNode);
    return 'instant';
  }

  /** Label names of the GroupingLabels under a node (by/without/on/ignoring/group_*). */
  private labelList(node: SyntaxNode): void {
    for (const group of children(node).filter((c) => c.name === 'GroupingLabels')) {
      for (const label of children(group)) {
        if (label.name !== 'LabelName') this.fail('expected a label name in a label list (quoted UTF-8 names are not used by the platform)', label);
      }
    }
  }

  private args(body: SyntaxNode): SyntaxNode[] {
    return children(body);
  }

  private call(node: SyntaxNode): ValueType {
    const [identifier, body] = children(node);
    const name = this.text(identifier!);
    const signature = FUNCTIONS[name];
    if (!signature) this.fail(`function "${name}" is not available in the platform's Prometheus (experimental or unknown)`, node);
    this.functions.add(name);
    const types = this.args(body!).map((arg) => this.typeOf(arg));
    const required = signature.args.filter((a) => !a.endsWith('?') && !a.endsWith('...')).length;
    const variadic = signature.args.some((a) => a.endsWith('...'));
    if (types.length < required || (!variadic && types.length > signature.args.length)) {
      this.fail(`"${name}" takes ${variadic ? `at least ${required}` : signature.args.length === required ? required : `${required} to ${signature.args.length}`} argument(s), found ${types.length}`, node);
    }
    types.forEach((type, index) => {
      const declared = signature.args[Math.min(index, signature.args.length - 1)]!;
      const expected = declared.replace(/\?|\.\.\./g, '') as ValueType;
      if (type !== expected) this.fail(`argument ${index + 1} of "${name}" must be a ${describe(expected)}, not a ${describe(type)}`, node);
    });
    return signature.returns;
  }

  private aggregation(node: SyntaxNode): ValueType {
    const parts = children(node);
    const opNode = parts.find((p) => p.name === 'AggregateOp')!;
    const name = this.text(opNode);
    const parameter = AGGREGATIONS[name];
    if (parameter === undefined) this.fail(`aggregation "${name}" is not available in the platform's Prometheus`, opNode);
    this.functions.add(name);
    const modifier = parts.find((p) => p.name === 'AggregateModifier');
    if (modifier) this.labelList(modifier);
    const body = parts.find((p) => p.name === 'FunctionCallBody')!;
    const args = this.args(body);
    const open = body.from;
    if (parameter) {
      if (args.length !== 2) this.fail(`"${name}" takes a ${describe(parameter)} parameter and an instant vector, found ${args.length} argument(s)`, open);
      const type = this.typeOf(args[0]!);
      if (type !== parameter) this.fail(`the first argument of "${name}" must be a ${describe(parameter)}, not a ${describe(type)}`, open);
    } else if (args.length !== 1) {
      this.fail(`"${name}" takes one instant vector, found ${args.length} argument(s)`, open);
    }
    const type = this.typeOf(args[args.length - 1]!);
    if (type !== 'instant') this.fail(`"${name}" aggregates an instant vector, not a ${describe(type)}`, open);
    return 'instant';
  }
}

/** Parses an expression with the official grammar and checks it; throws PromQLError naming the position of the first problem. */
export function parsePromQL(expr: string): ParsedQuery {
  if (expr.trim() === '') throw new PromQLError('empty expression', expr, 0);
  const top = parser.parse(expr).topNode;
  const checker = new Checker(expr);
  checker.syntaxError(top);
  const [root] = children(top);
  if (!root) throw new PromQLError('empty expression', expr, 0);
  const type = checker.typeOf(root);
  return { type, metrics: [...checker.metrics].sort(), functions: [...checker.functions].sort() };
}

/**
 * Grafana's interval variables, replaced by a representative duration before parsing a dashboard
 * query. Other template variables may only appear inside quoted label values.
 */
export const GRAFANA_INTERVAL_VARIABLES = ['$__rate_interval', '$__interval', '$__range'] as const;

export function substituteGrafanaVariables(expr: string): string {
  let out = expr;
  for (const variable of GRAFANA_INTERVAL_VARIABLES) {
    out = out.split(`\${${variable.slice(1)}}`).join('5m').split(variable).join('5m');
  }
  return out;
}
