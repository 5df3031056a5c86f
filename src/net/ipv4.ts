import { InvalidArgumentError, ParseError } from '../errors.js';

/**
 * An IPv4 address as an unsigned 32-bit integer in host order
 * (`10.0.0.1` is `0x0a000001`). All of lbsim works on this form; strings
 * exist only at the edges (parsing and printing).
 */
export type IPv4 = number;

/**
 * Parses a dotted-quad IPv4 address strictly: exactly four decimal octets
 * 0..255, no leading zeros ("010" is refused, as inet_pton refuses it), no
 * surrounding junk.
 *
 * @param text - e.g. `"10.0.0.1"`
 * @returns the address as uint32
 * @throws {ParseError} when `text` is not a valid address (the column points at the fault)
 */
export function parseIPv4(text: string): IPv4 {
  const r = tryParseIPv4(text);
  if (r >= 0) return r;
  throw new ParseError(`lbsim/net.parseIPv4: invalid IPv4 address ${JSON.stringify(text)}`, text, 1, -r);
}

/**
 * Like {@link parseIPv4} but returns a negative number (minus the 1-based
 * column of the fault) instead of throwing. For hot parsers.
 *
 * @param text - candidate address
 * @param start - index to start at
 * @param end - index to stop at (exclusive)
 */
export function tryParseIPv4(text: string, start = 0, end: number = text.length): number {
  let value = 0;
  let octets = 0;
  let i = start;
  for (;;) {
    if (i >= end) return -(i + 1);
    let octet = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      digits++;
      i++;
      if (digits > 3) return -(i);
    }
    if (digits === 0) return -(i + 1);
    if (digits > 1 && text.charCodeAt(first) === 48) return -(first + 1);
    if (octet > 255) return -(first + 1);
    value = value * 256 + octet;
    octets++;
    if (octets === 4) break;
    if (i >= end || text.charCodeAt(i) !== 46) return -(i + 1);
    i++;
  }
  if (i !== end) return -(i + 1);
  return value;
}

/**
 * Formats a uint32 address as a dotted quad.
 *
 * @param addr - address as uint32
 * @throws {InvalidArgumentError} when `addr` is not an integer in [0, 2^32)
 */
export function formatIPv4(addr: IPv4): string {
  if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) {
    throw new InvalidArgumentError(`lbsim/net.formatIPv4: address must be an integer in [0, 4294967295] (got ${addr})`);
  }
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Builds an address from four octets (`ipv4(10, 0, 0, 1)`). */
export function ipv4(a: number, b: number, c: number, d: number): IPv4 {
  return (((a & 255) << 24) | ((b & 255) << 16) | ((c & 255) << 8) | (d & 255)) >>> 0;
}

/** The netmask of a prefix length as uint32 (`prefixMask(24)` is `0xffffff00`). */
export function prefixMask(prefixLength: number): IPv4 {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new InvalidArgumentError(
      `lbsim/net.prefixMask: prefix length must be an integer in [0, 32] (got ${prefixLength})`,
    );
  }
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Prefix length of a contiguous netmask, or -1 if the mask is not contiguous
 * (`255.0.255.0`).
 */
export function maskPrefixLength(mask: IPv4): number {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return -1;
  return popcount32(mask);
}

function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** An IPv4 network: base address (host bits zero) and prefix length. */
export interface Cidr {
  /** Network address with host bits cleared. */
  readonly address: IPv4;
  /** Prefix length 0..32. */
  readonly prefixLength: number;
  /** Netmask as uint32. */
  readonly mask: IPv4;
}

/**
 * Parses `a.b.c.d/len` (or a bare address, meaning /32). Host bits set in the
 * address are cleared, as iptables does with `-s 10.0.0.1/8`; use `strict`
 * to refuse them instead.
 *
 * @param text - e.g. `"10.0.0.0/8"`
 * @param strict - refuse addresses with host bits set
 * @throws {ParseError} on malformed text
 */
export function parseCidr(text: string, strict = false): Cidr {
  const slash = text.indexOf('/');
  const addrEnd = slash < 0 ? text.length : slash;
  const addr = tryParseIPv4(text, 0, addrEnd);
  if (addr < 0) {
    throw new ParseError(`lbsim/net.parseCidr: invalid IPv4 address in ${JSON.stringify(text)}`, text, 1, -addr);
  }
  let prefixLength = 32;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(lenText)) {
      throw new ParseError(`lbsim/net.parseCidr: invalid prefix length in ${JSON.stringify(text)}`, text, 1, slash + 2);
    }
    prefixLength = Number(lenText);
  }
  const mask = prefixMask(prefixLength);
  const address = (addr & mask) >>> 0;
  if (strict && address !== addr) {
    throw new ParseError(`lbsim/net.parseCidr: host bits set in ${JSON.stringify(text)}`, text, 1, 1);
  }
  return { address, prefixLength, mask };
}

/** Formats a CIDR as `a.b.c.d/len`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.address)}/${cidr.prefixLength}`;
}

/** Whether `addr` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, addr: IPv4): boolean {
  return ((addr & cidr.mask) >>> 0) === cidr.address;
}
