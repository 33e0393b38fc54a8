import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { parser } from '@prometheus-io/lezer-promql';
import { parsePromQL, PromQLError, substituteGrafanaVariables } from '../modules/observability/promql.js';

describe('PromQL checker', () => {
  it('parses selectors, aggregations, functions, vector matching, ranges, subqueries, offset and @', () => {
    const cases: [string, string, string[]][] = [
      ['up', 'instant', ['up']],
      ['{__name__="up", job!~"kube.*"}', 'instant', ['up']],
      ['sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))', 'instant', ['container_cpu_usage_seconds_total']],
      ['sum(rate(x_total[5m])) by (a, b)', 'instant', ['x_total']],
      ['topk(5, sum without (instance) (up))', 'instant', ['up']],
      ['count_values("version", karpenter_build_info)', 'instant', ['karpenter_build_info']],
      ['histogram_quantile(0.99, sum by (le) (rate(karpenter_interruption_message_queue_duration_seconds_bucket[10m])))', 'instant', ['karpenter_interruption_message_queue_duration_seconds_bucket']],
      ['a / on (namespace, pod) group_left (signature) b', 'instant', ['a', 'b']],
      ['a * ignoring (type) group_right () b', 'instant', ['a', 'b']],
      ['(a > bool 0.9) and on (x) b unless c or d', 'instant', ['a', 'b', 'c', 'd']],
      ['max_over_time(rate(x_total[1m])[1h:5m])', 'instant', ['x_total']],
      ['x offset 1h', 'instant', ['x']],
      ['rate(x[5m] offset -1h)', 'instant', ['x']],
      ['x @ 1609746000', 'instant', ['x']],
      ['x @ start()', 'instant', ['x']],
      ['predict_linear(v[6h], 4 * 24 * 3600) < 0', 'instant', ['v']],
      ['-x ^ 2 + 1', 'instant', ['x']],
      ['2 ^ 3 ^ 2', 'scalar', []],
      ['1 > bool 2', 'scalar', []],
      ['vector(1) or absent(up)', 'instant', ['up']],
      ['label_replace(up, "dst", "$1", "src", "(.*)")', 'instant', ['up']],
      ['label_join(up, "x", "-", "a", "b", "c")', 'instant', ['up']],
      ['round(x, 0.5) + scalar(y) + time()', 'instant', ['x', 'y']],
      ['sum(x{a=~"(?i)foo|bar"}) or vector(0)', 'instant', ['x']],
      ['x{a=`raw\\d`}', 'instant', ['x']],
      ['Inf > bool NaN', 'scalar', []],
      ['namespace:spark_running_drivers:count', 'instant', ['namespace:spark_running_drivers:count']],
      ['sum(x) # a comment', 'instant', ['x']],
    ];
    for (const [expr, type, metrics] of cases) {
      const parsed = parsePromQL(expr);
      assert.equal(parsed.type, type, expr);
      assert.deepEqual(parsed.metrics, metrics, expr);
    }
  });

  it('reports what is wrong and where', () => {
    const cases: [string, RegExp][] = [
      ['sum(rate(x[5m])', /expected "\)" but found the end of the expression/],
      ['sum(x))', /unexpected "\)" after a complete expression/],
      ['x{a="b"', /expected "}" but found the end of the expression/],
      ['x{a="b" c="d"}', /expected "," or "}" in a label matcher list, found "c"/],
      ['x[5m', /expected "\]"/],
      ['x{a=b}', /expected a quoted label value, found "b"/],
      ['x{a=="b"}', /expected a quoted label value, found "="/],
      ['x{a}', /expected a label matching operator \(=, !=, =~, !~\), found "}"/],
      ['x{"a"="b"}', /expected a label name in a label matcher/],
      ['x{a="unterminated}', /unterminated string/],
      ['rate(x)', /argument 1 of "rate" must be a range vector, not a instant vector/],
      ['sum(x[5m])', /"sum" aggregates an instant vector, not a range vector/],
      ['histogram_quantile(x)', /"histogram_quantile" takes 2 argument\(s\), found 1/],
      ['frobnicate(x)', /unknown function "frobnicate"/],
      ['rate(sum(x)[5m])', /a range \[\.\.\] can only follow a vector selector/],
      ['x + "s"', /binary "\+" needs scalar or instant vector operands, not a string/],
      ['x[5m] + 1', /not a range vector/],
      ['1 and x', /"and" is only defined between instant vectors/],
      ['1 > 2', /comparisons between scalars need "bool"/],
      ['x and on (a) group_left b', /no grouping modifier is allowed with "and"/],
      ['x + bool y', /"bool" is only allowed after a comparison operator/],
      ['x{a=~"(unclosed"}', /invalid regular expression/],
      ['{a=~".*"}', /needs a metric name or a matcher that does not match the empty string/],
      ['{__name__=~"x.*"}', /match metric names with __name__="\.\.\."/],
      ['x offset', /expected a duration after "offset", found the end of the expression/],
      ['sum by (a b) (x)', /expected "," or "\)" in a label list, found "b"/],
      ['5m', /a duration is only allowed in a range/],
      ['x $tenant', /unexpected "\$"/],
      ['', /empty expression/],
      ['topk(x, y)', /the first argument of "topk" must be a scalar/],
      ['rate', /function "rate" needs its arguments in parentheses/],
    ];
    for (const [expr, message] of cases) {
      assert.throws(() => parsePromQL(expr), (error: unknown) => error instanceof PromQLError && message.test(error.message), expr);
    }
    assert.throws(() => parsePromQL('sum(x'), /at position 5: sum\(x>>>/);
  });

  it('checks on top of the official grammar what it leaves to Prometheus (types, arity, ranges), and refuses experimental syntax', () => {
    // The official grammar accepts each of these without an error node; Prometheus's Go parser
    // rejects them when it loads the rule, and so does the check.
    const cases: [string, RegExp][] = [
      ['rate(x)', /argument 1 of "rate" must be a range vector/],
      ['rate(x[5m], y)', /"rate" takes 1 argument\(s\), found 2/],
      ['topk(x)', /"topk" takes a scalar parameter and an instant vector, found 1 argument/],
      ['histogram_quantile(0.9)', /"histogram_quantile" takes 2 argument\(s\), found 1/],
      ['abs(x[5m])', /argument 1 of "abs" must be a instant vector, not a range vector/],
      ['rate(sum(x)[5m])', /a range \[\.\.\] can only follow a vector selector/],
      ['"a" + 1', /not a string/],
      ['x[5m + 1m]', /expected a duration such as 5m inside \[ \]/],
      ['x </ 3', /the "<\/" operator needs a Prometheus feature flag/],
      ['histogram_quantiles(x, 0.5)', /function "histogram_quantiles" is not available/],
      ['x{"a"="b"}', /expected a label name/],
    ];
    for (const [expr, message] of cases) {
      let errorNodes = 0;
      parser.parse(expr).iterate({ enter: (node) => { if (node.type.isError) errorNodes++; } });
      assert.equal(errorNodes, 0, `${expr}: the grammar itself accepts it`);
      assert.throws(() => parsePromQL(expr), (error: unknown) => error instanceof PromQLError && message.test(error.message), expr);
    }
  });

  it('replaces Grafana interval variables, and only those', () => {
    assert.equal(substituteGrafanaVariables('rate(x[$__rate_interval]) + rate(y[${__interval}])'), 'rate(x[5m]) + rate(y[5m])');
    assert.equal(substituteGrafanaVariables('x{ns=~"$tenant"}'), 'x{ns=~"$tenant"}');
    assert.deepEqual(parsePromQL(substituteGrafanaVariables('sum(rate(x{ns=~"$tenant"}[$__rate_interval]))')).metrics, ['x']);
  });
});
