/** IPv4 CIDR arithmetic, done at synth time so subnet layouts are literal and reviewable in plans. */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns undefined for anything else, including host bits set. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = (((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!) >>> 0;
  if (base % blockSize(prefix) !== 0) return undefined;
  return { base, prefix };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const b = cidr.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${cidr.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

function mustParse(text: string): Ipv4Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`invalid IPv4 CIDR "${text}"`);
  return cidr;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = mustParse(outer);
  const i = mustParse(inner);
  return i.prefix >= o.prefix && i.base >= o.base && i.base + blockSize(i.prefix) <= o.base + blockSize(o.prefix);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = mustParse(a);
  const y = mustParse(b);
  return x.base < y.base + blockSize(y.prefix) && y.base < x.base + blockSize(x.prefix);
}

/**
 * The `index`-th block of `cidr` split by `newBits` more prefix bits, like Terraform's
 * `cidrsubnet(cidr, newBits, index)`.
 */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const parent = mustParse(cidr);
  const prefix = parent.prefix + newBits;
  if (prefix > 28) throw new Error(`cidrSubnet: /${prefix} from ${cidr} is smaller than the /28 AWS allows`);
  if (index < 0 || index >= 2 ** newBits) throw new Error(`cidrSubnet: index ${index} out of range for ${newBits} new bits`);
  return formatCidr({ base: (parent.base + index * blockSize(prefix)) >>> 0, prefix });
}
