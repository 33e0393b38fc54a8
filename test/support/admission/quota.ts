/**
 * The ResourceQuota admission check for a new pod, limited to what tenant isolation rests on: the
 * pod-count limit (`pods`, `count/pods`) of every quota of the namespace whose scopes match the
 * pod, with PriorityClass scope selectors evaluated as kubernetes does
 * (`pkg/quota/v1/evaluator/core/pods.go`, `podMatchesScopeFunc`): `Exists` is "the pod names a
 * class", every other operator is a label selector over the one-label set
 * `{PriorityClass: <spec.priorityClassName>}`, so `NotIn` matches a pod that names no class.
 * Quotas without scopes match every pod. Terminated pods (Succeeded, Failed) do not count.
 *
 * Not modelled: CPU and memory totals (they share capacity, they do not isolate), other scopes
 * (Terminating, BestEffort...: a quota using one throws), and concurrent admissions.
 */
import { selectorMatches } from './vap.js';
import type { KubeObject } from './vap.js';

type ScopeRequirement = { scopeName: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] };

function priorityClassOf(pod: KubeObject): string {
  return ((pod.spec as { priorityClassName?: string } | undefined)?.priorityClassName ?? '') as string;
}

function scopeMatches(requirement: ScopeRequirement, pod: KubeObject): boolean {
  if (requirement.scopeName !== 'PriorityClass') throw new Error(`ResourceQuota scope ${requirement.scopeName} is not modelled by this harness`);
  if (requirement.operator === 'Exists') return priorityClassOf(pod) !== '';
  if (requirement.operator === 'DoesNotExist') throw new Error('PriorityClass scope operator DoesNotExist is not modelled by this harness');
  return selectorMatches({ matchExpressions: [{ key: 'PriorityClass', operator: requirement.operator, ...(requirement.values ? { values: requirement.values } : {}) }] }, { PriorityClass: priorityClassOf(pod) });
}

/** Whether a quota counts this pod (every scope and scope selector requirement matches). */
export function quotaMatchesPod(quota: KubeObject, pod: KubeObject): boolean {
  const spec = quota.spec as { scopes?: string[]; scopeSelector?: { matchExpressions?: ScopeRequirement[] } };
  if ((spec.scopes ?? []).length > 0) throw new Error(`ResourceQuota ${quota.metadata?.name}: spec.scopes are not modelled by this harness`);
  return (spec.scopeSelector?.matchExpressions ?? []).every((r) => scopeMatches(r, pod));
}

function terminated(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The quota admission decision for creating `pod` next to `existing` pods: undefined when admitted. */
export function quotaDenial(pod: KubeObject, quotas: readonly KubeObject[], existing: readonly KubeObject[]): string | undefined {
  for (const quota of quotas) {
    const hard = (quota.spec as { hard?: Record<string, string> }).hard ?? {};
    const limit = hard.pods ?? hard['count/pods'];
    if (limit === undefined || !quotaMatchesPod(quota, pod)) continue;
    const used = existing.filter((p) => !terminated(p) && quotaMatchesPod(quota, p)).length;
    if (used + 1 > Number(limit)) {
      return `pods "${pod.metadata?.name ?? ''}" is forbidden: exceeded quota: ${quota.metadata?.name}, requested: pods=1, used: pods=${used}, limited: pods=${limit}`;
    }
  }
  return undefined;
}
