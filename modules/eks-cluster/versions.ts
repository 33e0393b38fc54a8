/**
 * Amazon EKS Kubernetes versions: when each leaves standard and extended support, and which AL2023
 * node image release first ships it. The environment validation, the synth warning and the
 * EKS-006 guardrail all read this one table.
 *
 * Sources (checked 2026-12-01):
 * - 1.32 to 1.35 dates: AWS EKS User Guide, "Understand the Kubernetes version lifecycle on EKS"
 *   (release calendar).
 * - 1.36: "Kubernetes 1.36 is now available in Amazon EKS" (AWS EKS release notes for versions in
 *   standard support); its end dates (2027-08-02 / 2028-08-02) were seen only in copies of the AWS
 *   calendar and What's New post, and follow the documented rule (14 months standard, 12 extended).
 * - First AL2023 release per version: awslabs/amazon-eks-ami CHANGELOG.md ("AMI Release vYYYYMMDD").
 * Before a first deploy confirm with `aws eks describe-cluster-versions` (`endOfStandardSupportDate`,
 * `endOfExtendedSupportDate`); add a row here when AWS releases a version.
 */

export interface EksVersionLifecycle {
  /** Day the version became available on EKS (YYYY-MM-DD, UTC). */
  readonly releasedOnEks: string;
  /** First day without standard support: extended support (billed) starts at 00:00 UTC that day. */
  readonly endOfStandardSupport: string;
  /** First day without extended support: EKS then upgrades the control plane itself. */
  readonly endOfExtendedSupport: string;
  /** First awslabs/amazon-eks-ami release (`vYYYYMMDD`) with AL2023 nodes of this version. */
  readonly firstAl2023Release: string;
}

export const EKS_VERSIONS: Readonly<Record<string, EksVersionLifecycle>> = {
  '1.32': { releasedOnEks: '2025-01-23', endOfStandardSupport: '2026-03-23', endOfExtendedSupport: '2027-03-23', firstAl2023Release: 'v20241225' },
  '1.33': { releasedOnEks: '2025-05-29', endOfStandardSupport: '2026-07-29', endOfExtendedSupport: '2027-07-29', firstAl2023Release: 'v20250519' },
  '1.34': { releasedOnEks: '2025-10-02', endOfStandardSupport: '2026-12-02', endOfExtendedSupport: '2027-12-02', firstAl2023Release: 'v20250915' },
  '1.35': { releasedOnEks: '2026-01-27', endOfStandardSupport: '2027-03-27', endOfExtendedSupport: '2028-03-27', firstAl2023Release: 'v20260114' },
  '1.36': { releasedOnEks: '2026-06-02', endOfStandardSupport: '2027-08-02', endOfExtendedSupport: '2028-08-02', firstAl2023Release: 'v20260610' },
};

/**
 * The version new environments start on: the newest EKS version whose whole dependency set is
 * confirmed (add-on builds, an AL2023 release, a Karpenter release documented as compatible).
 * 1.37 is reported on EKS only by third parties and needs Karpenter 1.15 and an AMI release not
 * confirmed here.
 */
export const DEFAULT_KUBERNETES_VERSION = '1.36';

/** How long before the end of standard support synth starts warning. */
export const SUPPORT_WARNING_DAYS = 60;

/** `upgrade_policy.support_type` of an EKS cluster. */
export const SUPPORT_TYPES = ['STANDARD', 'EXTENDED'] as const;
export type SupportType = (typeof SUPPORT_TYPES)[number];

export type SupportPhase =
  /** In standard support, more than SUPPORT_WARNING_DAYS left. */
  | 'standard'
  /** In standard support, SUPPORT_WARNING_DAYS or fewer left. */
  | 'ending'
  /** Past the end of standard support, in (billed) extended support. */
  | 'extended'
  /** Past the end of extended support. */
  | 'ended'
  /** Newer than every version in EKS_VERSIONS: dates unknown here. */
  | 'unknown';

export interface SupportStatus {
  readonly version: string;
  readonly phase: SupportPhase;
  /** The row the dates come from (an older version inherits the oldest row's dates as an upper bound). */
  readonly basis?: string;
  readonly endOfStandardSupport?: string;
  readonly endOfExtendedSupport?: string;
  /** Whole days from `today` to the end of standard support (negative once past it). */
  readonly daysToEndOfStandardSupport?: number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export function utcDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** `1.36` -> 36; NaN for anything that is not `1.<minor>`. */
export function kubernetesMinor(version: string): number {
  const match = /^1\.(\d+)$/.exec(version);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Where `version` stands on `today` (YYYY-MM-DD, UTC). A version older than every row is past
 * the dates of the oldest row (versions leave support in release order); a newer one is `unknown`.
 */
export function supportStatus(version: string, today: string, table: Readonly<Record<string, EksVersionLifecycle>> = EKS_VERSIONS): SupportStatus {
  if (!isIsoDate(today)) throw new Error(`supportStatus: today must be a date written YYYY-MM-DD, found ${JSON.stringify(today)}`);
  const minor = kubernetesMinor(version);
  const known = Object.keys(table).sort((a, b) => kubernetesMinor(a) - kubernetesMinor(b));
  let basis: string | undefined = table[version] ? version : undefined;
  if (!basis && known.length > 0 && minor < kubernetesMinor(known[0]!)) basis = known[0];
  if (!basis) return { version, phase: 'unknown' };
  const row = table[basis]!;
  const days = daysBetween(today, row.endOfStandardSupport);
  const phase: SupportPhase =
    today >= row.endOfExtendedSupport ? 'ended' : today >= row.endOfStandardSupport ? 'extended' : days <= SUPPORT_WARNING_DAYS ? 'ending' : 'standard';
  return {
    version,
    phase,
    basis,
    endOfStandardSupport: row.endOfStandardSupport,
    endOfExtendedSupport: row.endOfExtendedSupport,
    daysToEndOfStandardSupport: days,
  };
}

/** Whether the version is past the end of standard support (the EKS-006 guardrail fails outside dev). */
export function pastStandardSupport(status: SupportStatus): boolean {
  return status.phase === 'extended' || status.phase === 'ended';
}

/**
 * The warning synth prints for a version near or past the end of standard support (undefined when
 * nothing needs saying). It names the date and what the cluster's support type makes EKS do.
 */
export function supportWarning(status: SupportStatus, supportType: SupportType): string | undefined {
  const { version } = status;
  const older = status.basis !== undefined && status.basis !== version ? ` (older than ${status.basis}, the oldest version listed)` : '';
  const fix = 'Upgrade one minor version at a time (README: "Upgrading Kubernetes and add-ons").';
  switch (status.phase) {
    case 'standard':
      return undefined;
    case 'unknown':
      return (
        `Kubernetes ${version}: no EKS support dates are known for it (modules/eks-cluster/versions.ts lists ${Object.keys(EKS_VERSIONS).join(', ')}). ` +
        `Confirm the version with \`aws eks describe-cluster-versions --cluster-versions ${version}\` and add its dates to the table.`
      );
    case 'ending': {
      const days = status.daysToEndOfStandardSupport!;
      const consequence =
        supportType === 'STANDARD'
          ? `on that day EKS upgrades the control plane to the next version by itself (supportType STANDARD), outside Terraform`
          : `from that day the cluster is billed for extended support (supportType EXTENDED)`;
      return `Kubernetes ${version} leaves EKS standard support on ${status.endOfStandardSupport} (in ${days} day${days === 1 ? '' : 's'}): ${consequence}. ${fix}`;
    }
    case 'extended': {
      const consequence =
        supportType === 'STANDARD'
          ? `with supportType STANDARD EKS upgrades the control plane by itself, outside Terraform; a cluster already in extended support cannot be switched to STANDARD until it runs a version in standard support`
          : `the cluster is billed for extended support until it is upgraded; extended support ends on ${status.endOfExtendedSupport}`;
      return `Kubernetes ${version}${older} left EKS standard support on ${status.endOfStandardSupport}: ${consequence}. ${fix}`;
    }
    case 'ended':
      return `Kubernetes ${version}${older} left EKS extended support on ${status.endOfExtendedSupport} (standard support ended on ${status.endOfStandardSupport}): EKS upgrades the control plane by itself; nodes and add-ons stay behind. ${fix}`;
  }
}

/** The AMI release date of a pinned alias (`al2023@v20260714` -> `v20260714`), or undefined. */
export function al2023Release(alias: string): string | undefined {
  return /^al2023@(v\d{8})$/.exec(alias)?.[1];
}
