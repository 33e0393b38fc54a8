/** Names and pinned versions of the Karpenter installation, shared by the AWS side and the charts. */
import { PLATFORM_NAMESPACES } from '../scheduling/namespaces.js';

/** Namespace of the Karpenter controller (and of both Helm releases). */
export const KARPENTER_NAMESPACE = PLATFORM_NAMESPACES.karpenter;

/** Service account of the controller: the Pod Identity association binds the controller role to it. */
export const KARPENTER_SERVICE_ACCOUNT = 'karpenter';

/** OCI registry of the `karpenter` and `karpenter-crd` charts. */
export const KARPENTER_CHART_REPOSITORY = 'oci://public.ecr.aws/karpenter';

/** Karpenter release used unless an environment pins another: both charts and the controller image. */
export const DEFAULT_KARPENTER_VERSION = '1.14.1';

/** Longest names AWS accepts. */
export const NAME_LIMITS = { iamRole: 64, iamPolicy: 128, sqsQueue: 80, eventRule: 64 } as const;

/** Returns `name`, or throws naming the resource kind when AWS would reject its length. */
export function checkedName(kind: keyof typeof NAME_LIMITS, name: string): string {
  const max = NAME_LIMITS[kind];
  if (name.length > max) throw new Error(`${kind} name "${name}" is ${name.length} characters; AWS allows ${max} (use a shorter cluster name)`);
  return name;
}
