/**
 * Lexical helpers shared by the iptables parser and printer: the argument
 * splitter of `iptables-restore`, the quoting of `iptables-save`, and the
 * libc/libxtables number, address and port conversions with their exact
 * acceptance rules (base-0 `strtoul`, `inet_aton`, `getservbyname`, ...).
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import { servicePort } from './netdb.js';

/** One argument of an iptables command line, with where it started. */
export interface IptablesToken {
  /** The argument after quote removal and escape processing. */
  readonly text: string;
  /** 1-based column of the argument's first character (its opening quote if quoted). */
  readonly column: number;
  /** Whether any part of it was inside double quotes. */
  readonly quoted: boolean;
}

/** iptables' `struct xt_param_buf` holds 1024 bytes including the terminating NUL. */
const MAX_PARAM_LEN = 1023;

/**
 * Splits an iptables argument string the way `iptables-restore` does
 * (`add_param_to_argv` in iptables 1.8.9 `iptables/xshared.c`): arguments are
 * separated by spaces, tabs and newlines; a double quote opens a quoted part
 * in which separators are literal and a backslash takes the next character
 * literally; the closing quote ends the argument (`"a"b` is two arguments,
 * `""` is one empty argument); outside quotes a backslash is an ordinary
 * character. Single quotes are ordinary characters.
 *
 * Divergence: iptables accepts an unterminated quote (the argument then runs
 * to the end of the line, newline included); lbsim refuses it.
 *
 * @param line - the text to split (one line; a trailing newline is a separator)
 * @param fn - `module.function` used to prefix error messages
 * @param lineNumber - 1-based line number for errors
 * @param offset - index in `line` to start at (columns stay relative to `line`)
 * @throws {ParseError} on an unterminated quote or an argument over 1023 bytes
 */
export function tokenizeIptablesArgs(line: string, fn = 'io.iptables.tokenizeIptablesArgs', lineNumber = 1, offset = 0): IptablesToken[] {
  const tokens: IptablesToken[] = [];
  let buf = '';
  let inToken = false;
  let quoted = false;
  let quoteOpen = false;
  let escaped = false;
  let start = 0;
  let quoteStart = 0;
  const push = (): void => {
    if (utf8Length(buf) > MAX_PARAM_LEN) {
      throw new ParseError(`lbsim/${fn}: parameter too long (over ${MAX_PARAM_LEN} bytes)`, line, lineNumber, start + 1);
    }
    tokens.push({ text: buf, column: start + 1, quoted });
    buf = '';
    inToken = false;
    quoted = false;
  };
  for (let i = offset; i < line.length; i++) {
    const c = line[i] as string;
    if (quoteOpen) {
      if (escaped) {
        buf += c;
        escaped = false;
      } else if (c === '\\') {
        escaped = true;
      } else if (c === '"') {
        quoteOpen = false;
        push();
      } else {
        buf += c;
      }
      continue;
    }
    if (c === '"') {
      if (!inToken) {
        inToken = true;
        start = i;
      }
      quoteOpen = true;
      quoted = true;
      quoteStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inToken) push();
      continue;
    }
    if (!inToken) {
      inToken = true;
      start = i;
    }
    buf += c;
  }
  if (quoteOpen) {
    throw new ParseError(`lbsim/${fn}: unterminated quoted string`, line, lineNumber, quoteStart + 1);
  }
  if (inToken) push();
  return tokens;
}

/**
 * Length of a string in UTF-8 bytes (C `strlen` of the argument, Go's
 * `len([]byte(s))`); an unpaired surrogate counts as U+FFFD (3 bytes).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const NO_QUOTE = /^[_\-0-9a-zA-Z]+$/;

/**
 * Quotes a string as `iptables-save` does (`xtables_save_string`, libxtables
 * 1.8.9): printed bare when non-empty and made only of `[_-0-9a-zA-Z]`, else
 * inside double quotes with `"`, `\` and `'` escaped by a backslash. The
 * result starts with the separating space, as in iptables.
 */
export function saveString(value: string): string {
  if (NO_QUOTE.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (m) => `\\${m}`)}"`;
}

/**
 * C `strtoul(text, &end, base)` restricted to what lbsim needs: optional
 * `+`/`-` sign, then digits in `base` (0 = C prefixes: `0x` hex, `0` octal,
 * else decimal). Returns the value (as a double, exact below 2^53;
 * `Infinity` above 2^64 - 1, as strtoul saturates) and the index after the
 * last digit, or null when no digit was read. A `-` sign negates modulo 2^64
 * as strtoul does; callers that bound the value refuse such results.
 */
export function strtoul(text: string, start: number, base: 0 | 10): { value: number; end: number; negative: boolean } | null {
  let i = start;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') {
    negative = text[i] === '-';
    i++;
  }
  let radix: number = base === 0 ? 10 : base;
  if (base === 0 && text[i] === '0') {
    if ((text[i + 1] === 'x' || text[i + 1] === 'X') && isDigit(text.charCodeAt(i + 2), 16)) {
      radix = 16;
      i += 2;
    } else {
      radix = 8;
    }
  }
  const digitsStart = i;
  let value = 0;
  while (i < text.length && isDigit(text.charCodeAt(i), radix)) {
    value = value * radix + digitValue(text.charCodeAt(i));
    i++;
  }
  if (i === digitsStart) return null;
  if (value > 2 ** 64 - 1) value = Infinity;
  return { value, end: i, negative: negative && value !== 0 };
}

function isDigit(c: number, radix: number): boolean {
  if (c >= 48 && c <= 57) return c - 48 < radix;
  if (radix !== 16) return false;
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function digitValue(c: number): number {
  if (c <= 57) return c - 48;
  if (c >= 97) return c - 87;
  return c - 55;
}

/**
 * libxtables `xtables_strtoui(text, NULL, &v, min, max)`: the whole text
 * must be one base-0 number (`0x` hex, leading `0` octal) within
 * [min, max]. Returns the value or -1.
 */
export function strtouiExact(text: string, min: number, max: number): number {
  const r = strtoul(text, 0, 0);
  if (r === null || r.end !== text.length || r.negative) return -1;
  if (r.value < min || r.value > max) return -1;
  return r.value;
}

/**
 * libxtables `xtables_strtoui(text, &end, &v, min, max)` variant that allows
 * trailing text: returns value and end index, or null when no number or out
 * of range.
 */
export function strtouiPrefix(text: string, start: number, min: number, max: number): { value: number; end: number } | null {
  const r = strtoul(text, start, 0);
  if (r === null || r.negative || r.value < min || r.value > max) return null;
  return { value: r.value, end: r.end };
}

/**
 * libxtables `__numeric_to_ipaddr` (1.8.9): up to four dot-separated base-0
 * octets 0..255; with fewer than four, the missing trailing octets are zero
 * (`10.1` is 10.1.0.0), unless `isMask`, which needs all four. Returns the
 * address as uint32 or -1.
 */
export function numericToIpaddr(text: string, isMask: boolean): number {
  // iptables copies into a 20-byte buffer first
  const s = text.length > 19 ? text.slice(0, 19) : text;
  const parts = s.split('.');
  if (parts.length > 4) {
    // the fourth octet would contain a dot: strtoui fails
    return -1;
  }
  if (parts.length < 4 && isMask) return -1;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p === undefined) {
      value = value * 256;
      continue;
    }
    const o = strtouiExact(p, 0, 255);
    if (o < 0) return -1;
    value = value * 256 + o;
  }
  return value >>> 0;
}

/**
 * glibc `inet_aton` (what `getaddrinfo` accepts as a numeric IPv4 host):
 * one to four base-0 parts, the last part filling the remaining bytes
 * (`10.1` is 10.0.0.1, `0x01020304` is 1.2.3.4). Returns uint32 or -1.
 */
export function inetAton(text: string): number {
  if (text.length === 0) return -1;
  const parts = text.split('.');
  if (parts.length > 4) return -1;
  const vals: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p[0] === '+' || p[0] === '-') return -1;
    const r = strtoul(p, 0, 0);
    if (r === null || r.end !== p.length) return -1;
    vals.push(r.value);
  }
  const last = vals[vals.length - 1] as number;
  const lead = vals.slice(0, -1);
  for (const v of lead) if (v > 255) return -1;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][lead.length] as number;
  if (last > lastMax) return -1;
  let value = 0;
  for (const v of lead) value = value * 256 + v;
  value = value * 2 ** (8 * (4 - lead.length)) + last;
  return value >>> 0;
}

/** Netmask of a prefix length (0..32) as uint32. */
export function maskOfPrefix(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Prefix length of a contiguous mask, or -1 (`xtables_ipmask_to_cidr`). */
export function prefixOfMask(mask: number): number {
  const m = mask >>> 0;
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let n = 0;
  for (let v = m; v !== 0; v = (v << 1) >>> 0) n++;
  return n;
}

/**
 * `getservbyname`-style port lookup after a base-0 number: libxtables
 * `xtables_parse_port(text, proto)` (tcp, sctp and multiport use it; `proto`
 * null means any protocol, as the NAT targets' lookups do). Returns the port
 * or -1.
 */
export function parsePortBase0(text: string, proto: string | null): number {
  const n = strtouiExact(text, 0, 65535);
  if (n >= 0) return n;
  return servicePort(text, proto);
}

/**
 * libxtables `xtables_getportbyname` as `XTTYPE_PORTRC` options use it
 * (udp, conntrack ports): `getaddrinfo(NULL, text)` reads a decimal number
 * with `strtoul(…, 10)` and stores it in 16 bits (65536 becomes 0), or looks
 * the name up for any protocol. Returns the port or -1.
 */
export function parsePortGetaddrinfo(text: string): number {
  const r = strtoul(text, 0, 10);
  if (r !== null && r.end === text.length) {
    if (r.value === Infinity) return 0xffff;
    const big = BigInt(r.value);
    const v = r.negative ? (18446744073709551616n - big) % 65536n : big % 65536n;
    return Number(v);
  }
  return servicePort(text, null);
}

/**
 * C `strtod` on a whole string: decimal and hexadecimal floating-point
 * literals with optional sign and exponent. Returns NaN when the text is
 * not entirely one number (lbsim also refuses `inf`/`nan`, which no
 * iptables option range admits).
 */
export function strtodExact(text: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/.exec(text);
  if (m === null) return NaN;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart.length + fracPart.length === 0) return NaN;
  let v = 0;
  for (const ch of intPart) v = v * 16 + parseInt(ch, 16);
  let scale = 1 / 16;
  for (const ch of fracPart) {
    v += parseInt(ch, 16) * scale;
    scale /= 16;
  }
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  v *= 2 ** exp;
  return m[1] === '-' ? -v : v;
}

/** `printf("0x%x", v)` for a uint32. */
export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** `printf("%d", v)` of a uint32 reinterpreted as int32. */
export function signed32(v: number): string {
  return String(v | 0);
}

const FIVE_POW_31 = 5n ** 31n;
const TEN_POW_20 = 10n ** 20n;
const HALF = 5n * 10n ** 19n;

/**
 * `printf("%.11f", k / 2^31)` exactly as glibc prints it (round half to
 * even on the exact binary value), for 0 <= k <= 2^31 — the `statistic`
 * match's probability (libxt_statistic.c). JavaScript's `toFixed` rounds
 * ties away from zero and would differ for k a multiple of 2^19.
 */
export function formatProbability(k: number): string {
  // k / 2^31 = k * 5^31 / 10^31; keep 11 decimals: divide by 10^20
  const scaled = BigInt(k) * FIVE_POW_31;
  let q = scaled / TEN_POW_20;
  const r = scaled % TEN_POW_20;
  if (r > HALF || (r === HALF && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, -11)}.${s.slice(-11)}`;
}

/**
 * Formats an IPv4 uint32 as a dotted quad (`xtables_ipaddr_to_numeric`).
 */
export function dotted(addr: number): string {
  const a = addr >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
