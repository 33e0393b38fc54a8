/**
 * A PromQL parser sufficient to check the expressions the platform ships (alerts, recording rules,
 * dashboard queries) without a Prometheus at hand: tokens and literals, balanced parentheses,
 * brackets and braces, label matchers (operators, quoted values, regexes that compile), known
 * functions and aggregation operators with their argument types (a range vector where `rate`
 * needs one), binary operators with `bool`/`on`/`ignoring`/`group_left`/`group_right`, ranges,
 * subqueries, `offset` and `@`. It returns the metric names the expression reads, so callers can
 * check them against the list of known metrics.
 *
 * Grammar and function signatures: prometheus/prometheus promql/parser/generated_parser.y,
 * lex.go and functions.go.
 */

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

/** Functions of Prometheus 3.x (promql/parser/functions.go), with their argument types. */
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

type TokenKind = 'number' | 'duration' | 'string' | 'ident' | 'op' | 'punct' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_])/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_])/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_:]*/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPERATORS = ['==', '!=', '<=', '>=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@'];
const PUNCT = ['(', ')', '{', '}', '[', ']', ',', ':'];

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    const rest = expr.slice(i);
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === '\\' && c !== '`') j++;
        if (expr[j] === '\n' && c !== '`') throw new PromQLError('unterminated string', expr, i);
        j++;
      }
      if (j >= expr.length) throw new PromQLError('unterminated string', expr, i);
      tokens.push({ kind: 'string', text: expr.slice(i, j + 1), pos: i });
      i = j + 1;
      continue;
    }
    const duration = DURATION.exec(rest);
    if (duration) {
      tokens.push({ kind: 'duration', text: duration[0], pos: i });
      i += duration[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && /[0-9.]/.test(c)) {
      tokens.push({ kind: 'number', text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    throw new PromQLError(`unexpected character ${JSON.stringify(c)}`, expr, i);
  }
  tokens.push({ kind: 'eof', text: '', pos: expr.length });
  return tokens;
}

const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<=': 3,
  '<': 3,
  '>=': 3,
  '>': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};
const COMPARISONS = new Set(['==', '!=', '<=', '<', '>=', '>']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2']);

class Parser {
  private i = 0;
  readonly metrics = new Set<string>();
  readonly functions = new Set<string>();

  constructor(
    private readonly expr: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.i++;
    return token;
  }

  private fail(message: string, token: Token = this.peek()): never {
    throw new PromQLError(message, this.expr, token.pos);
  }

  private expect(text: string): Token {
    const token = this.next();
    if (token.text !== text || (token.kind !== 'punct' && token.kind !== 'op')) {
      this.fail(`expected "${text}" but found ${token.kind === 'eof' ? 'the end of the expression' : JSON.stringify(token.text)}`, token);
    }
    return token;
  }

  private isPunct(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'punct' && token.text === text;
  }

  parse(): ValueType {
    const type = this.expression(0);
    if (this.peek().kind !== 'eof') this.fail(`unexpected ${JSON.stringify(this.peek().text)} after a complete expression`);
    return type;
  }

  private binaryOperator(): string | undefined {
    const token = this.peek();
    if (token.kind === 'op' && token.text in BINARY_PRECEDENCE) return token.text;
    if (token.kind === 'ident' && ['and', 'or', 'unless', 'atan2'].includes(token.text)) return token.text;
    return undefined;
  }

  private expression(minPrecedence: number): ValueType {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOperator();
      if (!op) return left;
      const precedence = BINARY_PRECEDENCE[op]!;
      if (precedence < minPrecedence) return left;
      const opToken = this.next();
      let returnBool = false;
      if (this.peek().kind === 'ident' && this.peek().text === 'bool') {
        if (!COMPARISONS.has(op)) this.fail('"bool" is only allowed after a comparison operator');
        this.next();
        returnBool = true;
      }
      let matching = false;
      if (this.peek().kind === 'ident' && (this.peek().text === 'on' || this.peek().text === 'ignoring')) {
        this.next();
        this.labelList();
        matching = true;
        if (this.peek().kind === 'ident' && (this.peek().text === 'group_left' || this.peek().text === 'group_right')) {
          if (SET_OPERATORS.has(op)) this.fail(`no grouping modifier is allowed with "${op}"`);
          this.next();
          if (this.isPunct('(')) this.labelList();
        }
      }
      const right = this.expression(op === '^' ? precedence : precedence + 1);
      left = this.binaryType(op, left, right, opToken, returnBool, matching);
    }
  }

  private binaryType(op: string, left: ValueType, right: ValueType, token: Token, returnBool: boolean, matching: boolean): ValueType {
    for (const side of [left, right]) {
      if (side === 'string' || side === 'range') this.fail(`binary "${op}" needs scalar or instant vector operands, not a ${side === 'range' ? 'range vector' : 'string'}`, token);
    }
    if (SET_OPERATORS.has(op) && (left !== 'instant' || right !== 'instant')) this.fail(`"${op}" is only defined between instant vectors`, token);
    if (left === 'scalar' && right === 'scalar') {
      if (COMPARISONS.has(op) && !returnBool) this.fail(`comparisons between scalars need "bool"`, token);
      if (matching) this.fail('vector matching (on/ignoring) needs vector operands', token);
      return 'scalar';
    }
    if (matching && (left !== 'instant' || right !== 'instant')) this.fail('vector matching (on/ignoring) is only allowed between instant vectors', token);
    return 'instant';
  }

  private unary(): ValueType {
    const token = this.peek();
    if (token.kind === 'op' && (token.text === '-' || token.text === '+')) {
      this.next();
      const operand = this.expression(BINARY_PRECEDENCE['^']!);
      if (operand !== 'scalar' && operand !== 'instant') this.fail(`unary "${token.text}" needs a scalar or an instant vector`, token);
      return operand;
    }
    return this.postfix(this.primary());
  }

  private postfix(initial: { type: ValueType; selector: boolean }): ValueType {
    let { type } = initial;
    let selector = initial.selector;
    for (;;) {
      if (this.isPunct('[')) {
        const open = this.next();
        const range = this.next();
        if (range.kind !== 'duration') this.fail('expected a duration such as 5m inside [ ]', range);
        if (this.isPunct(':')) {
          this.next();
          if (this.peek().kind === 'duration') this.next();
          this.expect(']');
          if (type !== 'instant') this.fail('subqueries need an instant vector expression', open);
          type = 'range';
        } else {
          this.expect(']');
          if (!selector) this.fail('a range [..] can only follow a vector selector (use a subquery [range:step] for expressions)', open);
          type = 'range';
        }
        selector = false;
        continue;
      }
      const token = this.peek();
      if (token.kind === 'ident' && token.text === 'offset') {
        this.next();
        if (this.peek().kind === 'op' && this.peek().text === '-') this.next();
        if (this.next().kind !== 'duration') this.fail('expected a duration after "offset"', token);
        if (type !== 'instant' && type !== 'range') this.fail('"offset" needs a vector', token);
        selector = false;
        continue;
      }
      if (token.kind === 'op' && token.text === '@') {
        this.next();
        const at = this.next();
        if (at.kind === 'ident' && (at.text === 'start' || at.text === 'end')) {
          this.expect('(');
          this.expect(')');
        } else if (at.kind !== 'number') {
          this.fail('expected a timestamp, start() or end() after "@"', at);
        }
        selector = false;
        continue;
      }
      return type;
    }
  }

  private primary(): { type: ValueType; selector: boolean } {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
        this.next();
        return { type: 'scalar', selector: false };
      case 'string':
        this.next();
        return { type: 'string', selector: false };
      case 'duration':
        return this.fail('a duration is only allowed in a range, a subquery or after "offset"');
      case 'eof':
        return this.fail('unexpected end of the expression');
      case 'punct':
        if (token.text === '(') {
          this.next();
          const type = this.expression(0);
          this.expect(')');
          return { type, selector: false };
        }
        if (token.text === '{') {
          this.vectorSelector(undefined);
          return { type: 'instant', selector: true };
        }
        return this.fail(`unexpected ${JSON.stringify(token.text)}`);
      case 'op':
        return this.fail(`unexpected operator ${JSON.stringify(token.text)}`);
      case 'ident':
        return this.identifier();
    }
  }

  private identifier(): { type: ValueType; selector: boolean } {
    const token = this.next();
    const name = token.text;
    const lower = name.toLowerCase();
    if (name in AGGREGATIONS && (this.isPunct('(') || (this.peek().kind === 'ident' && (this.peek().text === 'by' || this.peek().text === 'without')))) {
      return { type: this.aggregation(name), selector: false };
    }
    if (this.isPunct('(')) {
      const signature = FUNCTIONS[name];
      if (!signature) this.fail(`unknown function "${name}"`, token);
      return { type: this.call(name, signature, token), selector: false };
    }
    if (lower === 'inf' || lower === 'nan') return { type: 'scalar', selector: false };
    if (KEYWORDS.has(name)) this.fail(`unexpected keyword "${name}"`, token);
    if (name in FUNCTIONS) this.fail(`function "${name}" needs its arguments in parentheses`, token);
    this.vectorSelector(name);
    return { type: 'instant', selector: true };
  }

  private aggregation(name: string): ValueType {
    this.functions.add(name);
    let grouped = false;
    if (this.peek().kind === 'ident' && (this.peek().text === 'by' || this.peek().text === 'without')) {
      this.next();
      this.labelList();
      grouped = true;
    }
    const open = this.expect('(');
    const parameter = AGGREGATIONS[name];
    if (parameter) {
      const type = this.expression(0);
      if (type !== parameter) this.fail(`the first argument of "${name}" must be a ${parameter}, not a ${describe(type)}`, open);
      this.expect(',');
    }
    const type = this.expression(0);
    if (type !== 'instant') this.fail(`"${name}" aggregates an instant vector, not a ${describe(type)}`, open);
    this.expect(')');
    if (!grouped && this.peek().kind === 'ident' && (this.peek().text === 'by' || this.peek().text === 'without')) {
      this.next();
      this.labelList();
    }
    return 'instant';
  }

  private call(name: string, signature: FunctionSignature, token: Token): ValueType {
    this.functions.add(name);
    this.expect('(');
    const types: ValueType[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        types.push(this.expression(0));
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    this.expect(')');
    const required = signature.args.filter((a) => !a.endsWith('?') && !a.endsWith('...')).length;
    const variadic = signature.args.some((a) => a.endsWith('...'));
    if (types.length < required || (!variadic && types.length > signature.args.length)) {
      this.fail(`"${name}" takes ${variadic ? `at least ${required}` : signature.args.length === required ? required : `${required} to ${signature.args.length}`} argument(s), found ${types.length}`, token);
    }
    types.forEach((type, index) => {
      const declared = signature.args[Math.min(index, signature.args.length - 1)]!;
      const expected = declared.replace(/\?|\.\.\./g, '') as ValueType;
      if (type !== expected) this.fail(`argument ${index + 1} of "${name}" must be a ${describe(expected)}, not a ${describe(type)}`, token);
    });
    return signature.returns;
  }

  private labelList(): string[] {
    this.expect('(');
    const labels: string[] = [];
    while (!this.isPunct(')')) {
      const label = this.next();
      if (label.kind !== 'ident' || !LABEL_NAME.test(label.text)) this.fail('expected a label name', label);
      labels.push(label.text);
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(')')) this.fail('expected "," or ")" in a label list');
    }
    this.expect(')');
    return labels;
  }

  private vectorSelector(name: string | undefined): void {
    let nameFromMatcher: string | undefined;
    let nonEmptyMatcher = false;
    if (this.isPunct('{')) {
      this.next();
      while (!this.isPunct('}')) {
        const label = this.next();
        if (label.kind !== 'ident' || !LABEL_NAME.test(label.text)) this.fail('expected a label name in a label matcher', label);
        const op = this.next();
        if (op.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text)) this.fail('expected a label matching operator (=, !=, =~, !~)', op);
        const value = this.next();
        if (value.kind !== 'string') this.fail('expected a quoted label value', value);
        const text = unquote(value.text);
        if (op.text === '=~' || op.text === '!~') checkRegex(text, this.expr, value.pos);
        if (label.text === '__name__') {
          if (op.text !== '=') this.fail('match metric names with __name__="..." so the name can be checked', label);
          nameFromMatcher = text;
        }
        const matchesEmpty = op.text === '=' ? text === '' : op.text === '!=' ? text !== '' : safeRegexMatchesEmpty(text, op.text === '!~');
        if (!matchesEmpty) nonEmptyMatcher = true;
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct('}')) this.fail('expected "," or "}" in a label matcher list');
      }
      this.expect('}');
    }
    if (name && nameFromMatcher) this.fail(`metric name given twice (${name} and __name__="${nameFromMatcher}")`);
    const metric = name ?? nameFromMatcher;
    if (!metric && !nonEmptyMatcher) this.fail('a vector selector needs a metric name or a matcher that does not match the empty string');
    if (metric) this.metrics.add(metric);
  }
}

function describe(type: ValueType): string {
  return type === 'instant' ? 'instant vector' : type === 'range' ? 'range vector' : type;
}

function unquote(token: string): string {
  const body = token.slice(1, -1);
  if (token.startsWith('`')) return body;
  return body.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" })[c] ?? `\\${c}`);
}

function checkRegex(pattern: string, expr: string, pos: number): void {
  // RE2 flags such as (?i) are not JavaScript syntax; strip them before compiling.
  try {
    new RegExp(`^(?:${pattern.replace(/^\(\?[imsU]+\)/, '')})$`);
  } catch (error) {
    throw new PromQLError(`invalid regular expression ${JSON.stringify(pattern)} (${(error as Error).message})`, expr, pos);
  }
}

function safeRegexMatchesEmpty(pattern: string, negated: boolean): boolean {
  const matches = new RegExp(`^(?:${pattern.replace(/^\(\?[imsU]+\)/, '')})$`).test('');
  return negated ? !matches : matches;
}

/** Parses an expression; throws PromQLError naming the position of the first problem. */
export function parsePromQL(expr: string): ParsedQuery {
  if (expr.trim() === '') throw new PromQLError('empty expression', expr, 0);
  const parser = new Parser(expr, tokenize(expr));
  const type = parser.parse();
  return { type, metrics: [...parser.metrics].sort(), functions: [...parser.functions].sort() };
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
