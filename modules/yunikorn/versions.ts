/**
 * YuniKorn releases the platform knows: the Kubernetes minor versions each one supports, and
 * whether its chart was confirmed in the chart repository index. The chart version is also the
 * image tag suffix (`scheduler-<v>`, `admission-<v>`, `web-<v>`): the release tooling rewrites the
 * chart's `-latest` tags to `-<v>` when it packages a release (apache/yunikorn-release
 * `release-tools/build-release.py`).
 */

export interface YunikornRelease {
  /** Oldest and newest Kubernetes minor version the release supports ("1.24"). */
  readonly kubernetes: { readonly min: string; readonly max: string };
  /** Whether the chart version was seen in the repository index, and where. */
  readonly chartConfirmed: boolean;
  /** Where the facts above come from. */
  readonly source: string;
}

export const YUNIKORN_RELEASES: Readonly<Record<string, YunikornRelease>> = {
  '1.8.0': {
    kubernetes: { min: '1.24', max: '1.34' },
    chartConfirmed: true,
    source:
      'apache/yunikorn-release gh-pages index.yaml @ 5db1583 (chart 1.8.0, created 2026-02-04, the newest entry) and index.md "Supported K8s versions" (1.33.x and 1.34.x supported from 1.8.0); chart README at tag v1.8.0',
  },
  '1.9.0': {
    kubernetes: { min: '1.24', max: '1.35' },
    chartConfirmed: false,
    source:
      'apache/yunikorn-site release-announce/1.9.0 (released 2026-07-29: adds Kubernetes 1.35; 1.36 "not supported" although it passed the e2e suites) and get_started/version.md. Its chart entry was not in the stored index snapshot: confirm with `helm search repo yunikorn/yunikorn --versions` before using it',
  },
};

/** The pinned default: the newest release whose chart was confirmed in the index. */
export const DEFAULT_YUNIKORN_VERSION = '1.8.0';

function minor(version: string): number {
  const match = /^1\.(\d+)$/.exec(version);
  if (!match) throw new Error(`not a Kubernetes minor version such as 1.33: ${JSON.stringify(version)}`);
  return Number(match[1]);
}

/** Whether a release supports a Kubernetes minor version. */
export function supportsKubernetes(release: YunikornRelease, kubernetesVersion: string): boolean {
  const v = minor(kubernetesVersion);
  return v >= minor(release.kubernetes.min) && v <= minor(release.kubernetes.max);
}

/** Known releases that support a Kubernetes minor version. */
export function releasesSupporting(kubernetesVersion: string): string[] {
  return Object.entries(YUNIKORN_RELEASES)
    .filter(([, release]) => supportsKubernetes(release, kubernetesVersion))
    .map(([version]) => version);
}
