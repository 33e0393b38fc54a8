/**
 * Which Kubernetes versions each Karpenter minor release supports, from upstream's compatibility
 * matrix: aws/karpenter-provider-aws hack/docs/compatibilitymatrix_gen/compatibility.yaml and
 * website/content/en/docs/upgrading/compatibility.md at v1.14.1 (1.2 to 1.14), and
 * website/content/en/v1.15/upgrading/compatibility.md (1.15 supports 1.37). Every listed release
 * supports Kubernetes 1.26 and later at the low end, below what EKS still offers.
 */
import { kubernetesMinor } from '../eks-cluster/versions.js';

/** Karpenter minor release -> newest Kubernetes minor it supports. */
export const KARPENTER_MAX_KUBERNETES: Readonly<Record<string, string>> = {
  '1.2': '1.32',
  '1.3': '1.32',
  '1.4': '1.32',
  '1.5': '1.33',
  '1.6': '1.34',
  '1.7': '1.34',
  '1.8': '1.34',
  '1.9': '1.35',
  '1.10': '1.35',
  '1.11': '1.35',
  '1.12': '1.35',
  '1.13': '1.36',
  '1.14': '1.36',
  '1.15': '1.37',
};

const minorOf = (karpenterVersion: string) => /^1\.(\d+)\./.exec(`${karpenterVersion}.`)?.[1];

/** The oldest Karpenter minor release documented for a Kubernetes version, or undefined when none is. */
export function minimumKarpenterFor(kubernetesVersion: string): string | undefined {
  const wanted = kubernetesMinor(kubernetesVersion);
  return Object.entries(KARPENTER_MAX_KUBERNETES)
    .filter(([, max]) => kubernetesMinor(max) >= wanted)
    .map(([release]) => release)
    .sort((a, b) => Number(minorOf(a)) - Number(minorOf(b)))[0];
}

/**
 * Why `karpenterVersion` cannot run `kubernetesVersion` according to upstream, or undefined when it
 * can (or when the release is newer than the table: upstream adds support, it does not drop it
 * within EKS's window).
 */
export function karpenterIncompatibility(karpenterVersion: string, kubernetesVersion: string): string | undefined {
  const minor = minorOf(karpenterVersion);
  if (minor === undefined) return undefined;
  const release = `1.${minor}`;
  const max = KARPENTER_MAX_KUBERNETES[release];
  const releases = Object.keys(KARPENTER_MAX_KUBERNETES).map((r) => Number(minorOf(r)));
  const minimum = minimumKarpenterFor(kubernetesVersion);
  if (max === undefined) {
    if (Number(minor) > Math.max(...releases)) return undefined;
    return `Karpenter ${release}.x predates the releases upstream documents for current EKS versions; use ${minimum ?? 'a newer release'} or later`;
  }
  if (kubernetesMinor(max) >= kubernetesMinor(kubernetesVersion)) return undefined;
  return `Karpenter ${release}.x supports Kubernetes up to ${max} (upstream compatibility matrix); Kubernetes ${kubernetesVersion} needs ${minimum ? `Karpenter ${minimum} or later` : 'a Karpenter release that documents it'}`;
}
