/**
 * A tenant's daily cost budget (`cost.dailyBudgetUsd` of its tenant file) as a recorded series:
 * one PrometheusRule that the tenant's own stack creates in the tenant's namespace, read by the
 * platform's TenantDailyCostOverBudget alert (cost-rules.ts). Adding or changing a budget touches
 * only that tenant's state.
 */
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1Rule as Rule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { RECORDED } from './metrics.js';
import { checkRules } from './rules.js';

export interface TenantBudgetRuleProps {
  /** Tenant = namespace (the rule object lives there and labels the series with it). */
  readonly tenant: string;
  /** Daily budget in USD. */
  readonly dailyBudgetUsd: number;
}

/** The budget of one tenant as a recorded series, for the platform's TenantDailyCostOverBudget alert. */
export function tenantBudgetRule(props: TenantBudgetRuleProps): Rule {
  if (!Number.isFinite(props.dailyBudgetUsd) || props.dailyBudgetUsd <= 0) throw new Error(`tenant ${props.tenant}: daily budget must be a number > 0, found ${props.dailyBudgetUsd}`);
  return { record: RECORDED.tenantDailyBudget, expr: `vector(${props.dailyBudgetUsd})`, labels: { namespace: props.tenant } };
}

/**
 * The PrometheusRule of a tenant's budget, in the tenant's namespace (labelled managed-by
 * platform, so the tenancy admission policy keeps the team from editing it).
 */
export function tenantBudgetPrometheusRule(props: TenantBudgetRuleProps): PrometheusRule {
  const rule = tenantBudgetRule(props);
  checkRules([rule]);
  return new PrometheusRule({
    metadata: { name: 'cost-budget', namespace: props.tenant, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM } },
    spec: { groups: [{ name: `tenant.${props.tenant}.cost-budget`, rules: [rule] }] },
  });
}
