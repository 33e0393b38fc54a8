/**
 * Value formats of Karpenter v1 NodePools that the typed models do not check (the CRD enforces
 * them with patterns and CEL rules at apply time, which is too late for a plan review): durations,
 * disruption budgets and their cron schedules. Used by the NodePool builders and by the
 * environment schema, so a bad value fails at synth and names the field.
 */

/** `expireAfter` / `consolidateAfter`: Go durations in h, m, s, or `Never`. */
export const DURATION_OR_NEVER = /^(([0-9]+(s|m|h))+|Never)$/;

/** `terminationGracePeriod`: a Go duration in h, m, s (no `Never`). */
export const DURATION = /^([0-9]+(s|m|h))+$/;

/** `budgets[].duration`: hours and/or minutes only. */
export const BUDGET_DURATION = /^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$/;

/** `budgets[].nodes`: a node count or a percentage. */
export const BUDGET_NODES = /^((100|[0-9]{1,2})%|[0-9]+)$/;

/** The reasons a budget can be limited to. */
export const DISRUPTION_REASONS = ['Underutilized', 'Empty', 'Drifted'] as const;
export type DisruptionReason = (typeof DISRUPTION_REASONS)[number];

/** Seconds in a duration accepted by {@link DURATION} (or {@link BUDGET_DURATION}); `undefined` for `Never` or malformed text. */
export function durationSeconds(text: string): number | undefined {
  if (!DURATION.test(text) && !BUDGET_DURATION.test(text)) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, amount, u] of text.matchAll(/([0-9]+)([hms])/g)) total += Number(amount) * unit[u!]!;
  return total;
}

const CRON_MACROS = ['@annually', '@yearly', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface CronField {
  readonly min: number;
  readonly max: number;
  /** Names accepted for values (index 0 = `min`). */
  readonly names?: readonly string[];
  /** Whether `?` may stand for "any" (day of month, day of week). */
  readonly question?: boolean;
}

const CRON_FIELDS: readonly CronField[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31, question: true },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS, question: true },
];

function cronValue(text: string, field: CronField): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return index >= 0 ? field.min + index : undefined;
}

function validCronField(text: string, field: CronField): boolean {
  return text.split(',').every((item) => {
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0 || range === undefined || range === '') return false;
    if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) > 0)) return false;
    if (range === '*' || (range === '?' && field.question)) return true;
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    const values = bounds.map((b) => cronValue(b, field));
    if (values.some((v) => v === undefined)) return false;
    return values.length === 1 || values[0]! <= values[1]!;
  });
}

/**
 * Whether `text` is a schedule Karpenter accepts for a disruption budget: the standard five-field
 * cron syntax (minute hour day-of-month month day-of-week, in UTC: time zones are not supported),
 * with ranges, lists, steps and month/day names, or one of the `@daily`-style macros.
 */
export function isCronSchedule(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed !== text || text === '') return false;
  if (text.startsWith('@')) return CRON_MACROS.includes(text);
  const fields = text.split(/\s+/);
  return fields.length === CRON_FIELDS.length && fields.every((f, i) => validCronField(f, CRON_FIELDS[i]!));
}
