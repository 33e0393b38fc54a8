/**
 * The gang-scheduling placeholder pods YuniKorn creates for an application, as the scheduler's
 * service account sends them to the API server. Modelled on apache/yunikorn-k8shim v1.8.0
 * `pkg/cache/placeholder.go` (`newPlaceholder`) and `pkg/common/constants/constants.go`, and
 * written from YuniKorn's own names (not the platform's constants), so a platform mistake in the
 * task groups shows up here:
 * - one pod per member of each task group in the originating pod's `yunikorn.apache.org/task-groups`
 *   annotation (the driver), named `tg-<application>-<group>-<suffix>`;
 * - labels: the group's `labels`, `yunikorn.apache.org/app-id` and `yunikorn.apache.org/queue`;
 * - annotations: the group's `annotations`, `internal.yunikorn.apache.org/placeholder: "true"`,
 *   `yunikorn.apache.org/task-group-name`, the task groups and scheduling policy parameters;
 * - spec: `runAsUser` 1000 / `runAsGroup` 3000, one `pause` container with requests = limits = the
 *   group's `minResource`, `restartPolicy: Never`, `schedulerName: yunikorn`, the group's node
 *   selector, tolerations and affinity, **the originating pod's `priorityClassName`** (every group,
 *   the executor group included), `terminationGracePeriodSeconds: 0`, owned by the originating pod.
 */
import type { Identity } from './identities.js';
import { serviceAccount } from './identities.js';
import type { KubeObject } from './vap.js';

type Json = Record<string, unknown>;

/** The scheduler's identity (chart 1.8.0: Deployment yunikorn-scheduler, service account yunikorn-admin). */
export const YUNIKORN_SCHEDULER: Identity = serviceAccount('yunikorn', 'yunikorn-admin');

interface TaskGroup {
  name: string;
  minMember: number;
  minResource: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: Json[];
  affinity?: Json;
  topologySpreadConstraints?: Json[];
}

/** The placeholders of an application whose originating pod (the driver) declares task groups. */
export function gangPlaceholders(originator: KubeObject): KubeObject[] {
  const metadata = originator.metadata as { name: string; namespace: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  const spec = originator.spec as { priorityClassName?: string };
  const annotations = metadata.annotations ?? {};
  const definition = annotations['yunikorn.apache.org/task-groups'];
  if (!definition) throw new Error(`pod ${metadata.name} declares no task groups`);
  const groups = JSON.parse(definition) as TaskGroup[];
  // Application id: label yunikorn.apache.org/app-id, then applicationId, then spark-app-selector (constants.AppIdLabelKeys).
  const labels = metadata.labels ?? {};
  const appId = labels['yunikorn.apache.org/app-id'] ?? labels.applicationId ?? labels['spark-app-selector'];
  if (!appId) throw new Error(`pod ${metadata.name} has no application id label`);
  const queue = labels['yunikorn.apache.org/queue'] ?? labels.queue ?? 'root.default';
  const policy = annotations['yunikorn.apache.org/schedulingPolicyParameters'];
  return groups.flatMap((group) =>
    Array.from({ length: group.minMember }, (_, i): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `tg-${appId.slice(0, 28)}-${group.name}-${String(i).padStart(5, '0')}`,
        namespace: metadata.namespace,
        labels: { ...group.labels, 'yunikorn.apache.org/app-id': appId, 'yunikorn.apache.org/queue': queue },
        annotations: {
          ...group.annotations,
          'internal.yunikorn.apache.org/placeholder': 'true',
          'yunikorn.apache.org/task-group-name': group.name,
          'yunikorn.apache.org/task-groups': definition,
          ...(policy ? { 'yunikorn.apache.org/schedulingPolicyParameters': policy } : {}),
        },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: metadata.name, uid: metadata.uid ?? '7d3c0e2a-5b1f-4c8e-9a6d-1e2f3a4b5c6d', controller: false }],
      },
      spec: {
        securityContext: { runAsUser: 1000, runAsGroup: 3000 },
        containers: [
          {
            name: 'pause',
            image: 'registry.k8s.io/pause:3.7',
            imagePullPolicy: 'IfNotPresent',
            resources: { requests: { ...group.minResource }, limits: { ...group.minResource } },
          },
        ],
        restartPolicy: 'Never',
        schedulerName: 'yunikorn',
        ...(group.nodeSelector ? { nodeSelector: group.nodeSelector } : {}),
        ...(group.tolerations ? { tolerations: group.tolerations } : {}),
        ...(group.affinity ? { affinity: group.affinity } : {}),
        ...(group.topologySpreadConstraints ? { topologySpreadConstraints: group.topologySpreadConstraints } : {}),
        ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
        terminationGracePeriodSeconds: 0,
      },
    })),
  );
}
