/**
 * The date synth checks EKS support against, and what it says about the configured version.
 *
 * The date is today's UTC date, or `PLATFORM_TODAY` (YYYY-MM-DD) to see what synth will say on
 * another day (and what tests pin). The table and the rules are in modules/eks-cluster/versions.ts;
 * the EKS-006 guardrail fails outside dev once the version is past the end of standard support.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isIsoDate, type SupportType, SUPPORT_TYPES, supportStatus, supportWarning, utcDate } from '../../modules/eks-cluster/versions.js';
import { ConfigError, describeValue } from './config-file.js';

export const TODAY_VARIABLE = 'PLATFORM_TODAY';

/** `PLATFORM_TODAY` when set (validated), else the current UTC date. */
export function evaluationDate(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): string {
  const value = env[TODAY_VARIABLE];
  if (value === undefined || value === '') return utcDate(now);
  if (!isIsoDate(value)) {
    throw new ConfigError([{ file: TODAY_VARIABLE, field: '(value)', expected: 'a date written YYYY-MM-DD, such as 2027-03-01', found: describeValue(value) }]);
  }
  return value;
}

/** The synth warning for a version on a date, or undefined when it is well inside standard support. */
export function kubernetesSupportNotice(kubernetesVersion: string, supportType: SupportType, today: string): string | undefined {
  return supportWarning(supportStatus(kubernetesVersion, today), supportType);
}

interface ConfiguredKubernetes {
  readonly kubernetesVersion: string;
  readonly supportType: SupportType;
}

/**
 * `kubernetesVersion` and `supportType` read from the environment file without validating it: for
 * runs that skip validation because the last synth already validated the same file. Undefined
 * when the file is missing or does not name a version.
 */
export function configuredKubernetes(root: string, environmentName: string): ConfiguredKubernetes | undefined {
  const file = join(root, 'environments', `${environmentName}.yaml`);
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const fields = (data ?? {}) as Record<string, unknown>;
  if (typeof fields.kubernetesVersion !== 'string') return undefined;
  const supportType = SUPPORT_TYPES.find((t) => t === fields.supportType) ?? 'STANDARD';
  return { kubernetesVersion: fields.kubernetesVersion, supportType };
}

const phases = new Map<string, string>();

/**
 * The support phase of the environment's version today (`standard`, `ending`, `extended`, ...):
 * part of every synth fingerprint, so a run on the day the phase changes rebuilds the stacks and
 * re-runs the date-dependent guardrail instead of reusing an earlier verdict.
 */
export function supportPhaseFingerprint(root: string, environmentName: string): string {
  let today: string;
  try {
    today = evaluationDate();
  } catch {
    return 'invalid-date';
  }
  const file = join(root, 'environments', `${environmentName}.yaml`);
  const content = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const key = `${today}\0${content}`;
  let phase = phases.get(key);
  if (phase === undefined) {
    const configured = configuredKubernetes(root, environmentName);
    phase = configured && /^1\.\d+$/.test(configured.kubernetesVersion) ? supportStatus(configured.kubernetesVersion, today).phase : 'none';
    phases.set(key, phase);
  }
  return phase;
}
