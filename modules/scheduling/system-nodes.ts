/**
 * Placement of platform components on the managed `system` node group. The rest of the label
 * and taint contract (Spark pools, tenants) lives beside this file.
 */

/** Label domain of every platform-owned node label and taint. */
export const LABEL_DOMAIN = 'spark-platform.io';

/** Node label naming the pool a node belongs to (`system`, `spark-driver`, ...). */
export const POOL_LABEL = `${LABEL_DOMAIN}/pool`;

export const SYSTEM_POOL = 'system';

/**
 * System nodes carry the conventional `CriticalAddonsOnly` taint, which CoreDNS, Karpenter and
 * most add-on charts already tolerate.
 */
export const SYSTEM_TAINT = { key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' } as const;

export interface Toleration {
  readonly key: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Toleration and node selector that put a pod on the system nodes. */
export const SYSTEM_PLACEMENT = {
  nodeSelector: { [POOL_LABEL]: SYSTEM_POOL } as Record<string, string>,
  tolerations: [{ key: SYSTEM_TAINT.key, operator: 'Exists', effect: SYSTEM_TAINT.effect }] as Toleration[],
};
