/**
 * Kubernetes resource quantities ("400", "500m", "1.5Gi") as exact numbers, and the forms YuniKorn
 * accepts. Hand-written because no npm package the project trusts parses quantities (the typed
 * Kubernetes models only type them as strings), and because YuniKorn's own parser is stricter than
 * Kubernetes': it takes an integer and a suffix only (apache/yunikorn-core
 * `pkg/common/resources/quantity.go`: `^[0-9]+\s*([mkKMGTPE]i?)?$`), so "0.5" or "1.5Gi" must be
 * written as "500m" and a byte count. Values are exact (BigInt fractions), never floats.
 */

/** Suffix multipliers (Kubernetes `resource.Quantity`: binary Ki..Ei, decimal m, k..E). */
const MULTIPLIERS: Readonly<Record<string, { num: bigint; den: bigint }>> = {
  '': { num: 1n, den: 1n },
  m: { num: 1n, den: 1000n },
  k: { num: 10n ** 3n, den: 1n },
  M: { num: 10n ** 6n, den: 1n },
  G: { num: 10n ** 9n, den: 1n },
  T: { num: 10n ** 12n, den: 1n },
  P: { num: 10n ** 15n, den: 1n },
  E: { num: 10n ** 18n, den: 1n },
  Ki: { num: 1n << 10n, den: 1n },
  Mi: { num: 1n << 20n, den: 1n },
  Gi: { num: 1n << 30n, den: 1n },
  Ti: { num: 1n << 40n, den: 1n },
  Pi: { num: 1n << 50n, den: 1n },
  Ei: { num: 1n << 60n, den: 1n },
};

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** An exact non-negative quantity in base units (cores, bytes): num / den. */
export interface ExactQuantity {
  readonly num: bigint;
  readonly den: bigint;
}

export class InvalidQuantityError extends Error {
  override name = 'InvalidQuantityError';
}

function parts(text: string): { digits: string; scale: number; suffix: string } {
  const match = QUANTITY.exec(text.trim());
  if (!match) throw new InvalidQuantityError(`not a Kubernetes quantity such as "400", "500m" or "1600Gi": ${JSON.stringify(text)}`);
  const [whole = '', fraction = ''] = match[1]!.split('.');
  return { digits: `${whole}${fraction}` || '0', scale: fraction.length, suffix: match[2] ?? '' };
}

/** The exact value of a quantity in base units. */
export function parseQuantity(text: string): ExactQuantity {
  const { digits, scale, suffix } = parts(text);
  const multiplier = MULTIPLIERS[suffix]!;
  return { num: BigInt(digits) * multiplier.num, den: 10n ** BigInt(scale) * multiplier.den };
}

function ceilDiv(num: bigint, den: bigint): bigint {
  return (num + den - 1n) / den;
}

/** Thousandths of the base unit, rounded up (CPU in millicores). */
export function milliValue(text: string): bigint {
  const q = parseQuantity(text);
  return ceilDiv(q.num * 1000n, q.den);
}

/** Whole base units, rounded up (memory in bytes), as Kubernetes rounds fractional bytes. */
export function unitValue(text: string): bigint {
  const q = parseQuantity(text);
  return ceilDiv(q.num, q.den);
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compareQuantities(a: string, b: string): number {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  const left = x.num * y.den;
  const right = y.num * x.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** `factor` times a quantity, keeping its suffix ("400" x 2 = "800", "1.5Gi" x 2 = "3Gi"). */
export function scaleQuantity(text: string, factor: number): string {
  if (!Number.isInteger(factor) || factor < 1) throw new InvalidQuantityError(`scale factor must be a whole number >= 1, found ${factor}`);
  const { digits, scale, suffix } = parts(text);
  const scaled = (BigInt(digits) * BigInt(factor)).toString().padStart(scale + 1, '0');
  const whole = scaled.slice(0, scaled.length - scale);
  const fraction = scale > 0 ? scaled.slice(scaled.length - scale).replace(/0+$/, '') : '';
  return `${whole}${fraction ? `.${fraction}` : ''}${suffix}`;
}

/** Sum of quantities as an exact value. */
export function sumQuantities(terms: readonly { quantity: string; times: number }[]): ExactQuantity {
  let num = 0n;
  let den = 1n;
  for (const term of terms) {
    const q = parseQuantity(term.quantity);
    num = num * q.den + q.num * BigInt(term.times) * den;
    den *= q.den;
  }
  return { num, den };
}

/** Whether an exact value is at most a quantity. */
export function fitsIn(value: ExactQuantity, limit: string): boolean {
  const l = parseQuantity(limit);
  return value.num * l.den <= l.num * value.den;
}

/** What YuniKorn's parser takes as written: an integer and a suffix. */
const YUNIKORN_INTEGER = /^\d+(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/**
 * A CPU quantity as YuniKorn's `vcore`: whole cores ("400", which YuniKorn reads as cores) and
 * millicores ("500m") as written, anything else as integer millicores ("0.5" -> "500m").
 */
export function yunikornVcore(cpu: string): string {
  parts(cpu);
  return /^\d+m?$/.test(cpu.trim()) ? cpu.trim() : `${milliValue(cpu)}m`;
}

/** A memory quantity as YuniKorn's `memory`: "1600Gi" as written, "1.5Gi" as a byte count. */
export function yunikornMemory(memory: string): string {
  parts(memory);
  return YUNIKORN_INTEGER.test(memory.trim()) ? memory.trim() : unitValue(memory).toString();
}

function positive(text: string, suffixes: readonly string[]): boolean {
  const match = QUANTITY.exec(text.trim());
  if (!match || !suffixes.includes(match[2] ?? '')) return false;
  return parseQuantity(text).num > 0n;
}

/** A CPU quantity > 0: whole or decimal cores, or millicores ("400", "0.5", "500m"). */
export function isCpuQuantity(text: string): boolean {
  return positive(text, ['', 'm']);
}

/** A memory quantity > 0 with a unit ("1600Gi", "512Mi", "2T"). */
export function isMemoryQuantity(text: string): boolean {
  return positive(text, ['k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']);
}
