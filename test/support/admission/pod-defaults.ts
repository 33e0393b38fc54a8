/**
 * What a pod looks like when the validating policies see it: after API defaulting and the mutating
 * admission plugins EKS enables, in kube-apiserver order.
 *
 * - API defaults (`pkg/apis/core/v1/defaults.go`): dnsPolicy, restartPolicy, schedulerName,
 *   terminationGracePeriodSeconds, enableServiceLinks, an empty pod securityContext, container
 *   imagePullPolicy, terminationMessage* and port protocols.
 * - LimitRanger: containers without requests get the LimitRange's `defaultRequest`.
 * - ServiceAccount: `default` when none is named, and the projected API token volume mounted in
 *   every container (unless automountServiceAccountToken is false).
 * - Priority: `spec.priority` and `spec.preemptionPolicy` from the named PriorityClass (0 when the
 *   pod names none: the platform has no globalDefault class); an unknown class is rejected.
 * - DefaultTolerationSeconds: NoExecute tolerations of `not-ready` and `unreachable` for 300 s.
 *
 * Not modelled: mutating webhooks (the platform installs none that touch tenant pods; EMR vertical
 * autoscaling's VPA webhook only changes resources).
 */
import type { KubeObject } from './vap.js';

type Json = Record<string, unknown>;

/** The Priority plugin's answer for an unknown class. */
export class PriorityClassNotFound extends Error {
  override name = 'PriorityClassNotFound';
}

const TOKEN_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function containersOf(spec: Json): Json[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as Json[]) : []));
}

export interface PodDefaultsContext {
  /** LimitRanges of the pod's namespace. */
  readonly limitRanges: readonly KubeObject[];
  /** PriorityClasses of the cluster by name. */
  readonly priorityClasses: ReadonlyMap<string, KubeObject>;
}

/** A defaulted, mutated copy of a pod being created. */
export function defaultedPod(input: KubeObject, context: PodDefaultsContext): KubeObject {
  const pod = structuredClone(input) as KubeObject & { spec: Json; metadata: Json };
  const spec = pod.spec;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.enableServiceLinks ??= true;
  spec.securityContext ??= {};
  for (const container of containersOf(spec)) {
    const image = String(container.image ?? '');
    container.imagePullPolicy ??= image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent';
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    for (const port of (container.ports as Json[] | undefined) ?? []) port.protocol ??= 'TCP';
  }

  // LimitRanger
  for (const range of context.limitRanges) {
    for (const limit of ((range.spec as Json).limits as Json[]) ?? []) {
      if (limit.type !== 'Container' || !limit.defaultRequest) continue;
      for (const container of [...((spec.initContainers as Json[]) ?? []), ...((spec.containers as Json[]) ?? [])]) {
        const resources = ((container.resources as Json | undefined) ?? {}) as Json;
        resources.requests = { ...(limit.defaultRequest as Json), ...((resources.requests as Json | undefined) ?? {}) };
        container.resources = resources;
      }
    }
  }

  // ServiceAccount
  spec.serviceAccountName ??= 'default';
  if (spec.automountServiceAccountToken !== false) {
    const volume = 'kube-api-access-x7k2p';
    spec.volumes = [
      ...((spec.volumes as Json[] | undefined) ?? []),
      { name: volume, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
    ];
    for (const container of [...((spec.initContainers as Json[]) ?? []), ...((spec.containers as Json[]) ?? [])]) {
      container.volumeMounts = [...((container.volumeMounts as Json[] | undefined) ?? []), { name: volume, mountPath: TOKEN_MOUNT, readOnly: true }];
    }
  }

  // Priority
  const className = spec.priorityClassName as string | undefined;
  if (className) {
    const priorityClass = context.priorityClasses.get(className);
    if (!priorityClass) throw new PriorityClassNotFound(`pods "${String(pod.metadata.name ?? '')}" is forbidden: no PriorityClass with name ${className} was found`);
    spec.priority = priorityClass.value as number;
    spec.preemptionPolicy = (priorityClass.preemptionPolicy as string | undefined) ?? 'PreemptLowerPriority';
  } else {
    spec.priority = 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }

  // DefaultTolerationSeconds
  const tolerations = ((spec.tolerations as Json[] | undefined) ?? []).slice();
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    // Any toleration already tolerating the NoExecute taint (a keyless Exists one included) suffices.
    const tolerated = tolerations.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute'));
    if (!tolerated) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec.tolerations = tolerations;
  return pod;
}
