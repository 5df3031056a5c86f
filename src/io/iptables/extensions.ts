/**
 * The iptables extensions lbsim supports: for each match and target, its
 * options as iptables 1.8.9 declares them (names, aliases, inversion,
 * exclusions), how each option's value is parsed into the AST of
 * `src/netfilter/ast.ts`, and how `iptables-save` prints the result.
 * Every rule below mirrors a named libxtables extension (`extensions/libxt_*.c`,
 * `libipt_*.c` of iptables 1.8.9) and was checked against the real
 * `iptables-save` output (see `test/io/iptables/`).
 *
 * @module
 */

import type {
  AddrMatch,
  AddrTypeName,
  MatchSpec,
  NatRange,
  PortRange,
  PortRangeMatch,
  TargetSpec,
} from '../../netfilter/ast.js';
import {
  dotted,
  formatProbability,
  hex,
  inetAton,
  maskOfPrefix,
  parsePortBase0,
  parsePortGetaddrinfo,
  prefixOfMask,
  saveString,
  signed32,
  strtodExact,
  strtouiExact,
  strtouiPrefix,
  utf8Length,
  type IptablesToken,
} from './lex.js';
import { parseProtocolName } from './protocols.js';

// ------------------------------------------------------------------ framework

/** One long option of an extension (an `xt_option_entry`). */
export interface OptSpec {
  /** Long name without the leading `--`. */
  readonly name: string;
  /** Identity: aliases (`--sport`/`--source-port`) share it. */
  readonly id: string;
  /** Whether the option takes an argument. */
  readonly arg: boolean;
  /** Whether `!` may precede it (`XTOPT_INVERT`). */
  readonly invert?: boolean;
  /** Whether it may be given more than once. */
  readonly multi?: boolean;
  /** Option ids it cannot be combined with. */
  readonly excl?: readonly string[];
  /** Option ids it needs. */
  readonly also?: readonly string[];
  /** Whether the extension requires it. */
  readonly mandatory?: boolean;
  /** Known to iptables but not modelled by lbsim: parsing it is an error. */
  readonly unsupported?: boolean;
}

/** What the rule parser knows while an option is parsed. */
export interface RuleContext {
  /** `-p` number given so far (0 when none). */
  readonly proto: number;
  /** Whether `-p` was inverted. */
  readonly protoInvert: boolean;
}

/** One option occurrence handed to an extension parser. */
export interface OptCall {
  readonly spec: OptSpec;
  /** The argument ('' for options without one). */
  readonly arg: string;
  /** Whether `!` preceded the option. */
  readonly invert: boolean;
  /** Token of the argument (or of the option itself when it has none). */
  readonly argToken: IptablesToken;
  /** Consumes one more argument for options that take two (`--tcp-flags`, `--match-set`). */
  extra(): IptablesToken;
  /** Throws a ParseError at the argument (or at `token`). */
  fail(message: string, token?: IptablesToken): never;
}

/** An extension: its options, its parser and its result. */
export interface ExtensionDef<S, R> {
  readonly name: string;
  readonly options: readonly OptSpec[];
  init(): S;
  parse(state: S, call: OptCall, ctx: RuleContext): void;
  /** Checks the complete option set (`x6_fcheck`) and builds the AST value. */
  final(state: S, fail: (message: string) => never): R;
}

type AnyMatchDef = ExtensionDef<unknown, MatchSpec>;
type AnyTargetDef = ExtensionDef<unknown, TargetSpec>;

function def<S, R>(d: ExtensionDef<S, R>): ExtensionDef<unknown, R> {
  // the state type is private to each extension; the parser only passes it back (methods are bivariant)
  return d;
}

const FULL_PORTS = { min: 0, max: 65535 } as const;

// ------------------------------------------------------------------ values

/**
 * `--sport a[:b]` of tcp/sctp (`parse_tcp_ports` / `parse_sctp_ports`):
 * base-0 numbers or `/etc/services` names for `proto`; an empty side means
 * 0 or 65535; min above max is refused.
 */
function parseTcpLikePorts(call: OptCall, proto: string): PortRange {
  const text = call.arg;
  const colon = text.indexOf(':');
  const one = (s: string): number => {
    const p = parsePortBase0(s, proto);
    if (p < 0) return call.fail(`invalid port/service "${s}"`);
    return p;
  };
  if (colon < 0) {
    const p = one(text);
    return { min: p, max: p };
  }
  const lo = text.slice(0, colon);
  const hi = text.slice(colon + 1);
  const min = lo === '' ? 0 : one(lo);
  const max = hi === '' ? 65535 : one(hi);
  if (min > max) return call.fail(`invalid port range "${text}" (min > max)`);
  return { min, max };
}

/**
 * `XTTYPE_PORTRC` (udp and conntrack ports, libxtables `xtopt_parse_mport`):
 * up to two `:`-separated parts resolved by `getaddrinfo` (decimal only,
 * stored in 16 bits, or a service of any protocol); empty parts keep 0 and
 * 65535; min above max is accepted.
 */
function parsePortRc(call: OptCall): PortRange {
  const parts = call.arg.split(':');
  if (parts.length > 2) return call.fail(`too many components for option "--${call.spec.name}" (max: 2)`);
  const vals = [0, 65535];
  parts.forEach((p, i) => {
    if (p === '') return;
    const v = parsePortGetaddrinfo(p);
    if (v < 0) return call.fail(`port "${p}" does not resolve to anything`);
    vals[i] = v;
  });
  if (parts.length === 1) vals[1] = vals[0] as number;
  return { min: vals[0] as number, max: vals[1] as number };
}

/** `XTTYPE_UINT32RC` (`--ctexpire`): like PORTRC with base-0 32-bit numbers. */
function parseUint32Rc(call: OptCall): { min: number; max: number } {
  const parts = call.arg.split(':');
  if (parts.length > 2) return call.fail(`too many components for option "--${call.spec.name}" (max: 2)`);
  const vals = [0, 0xffffffff];
  parts.forEach((p, i) => {
    if (p === '') return;
    const v = strtouiExact(p, 0, 0xffffffff);
    if (v < 0) return call.fail(`bad value "${p}" for option "--${call.spec.name}"`);
    vals[i] = v;
  });
  if (parts.length === 1) vals[1] = vals[0] as number;
  return { min: vals[0] as number, max: vals[1] as number };
}

function parseUint32(call: OptCall, min = 0, max = 0xffffffff): number {
  const v = strtouiExact(call.arg, min, max);
  if (v < 0) return call.fail(`bad value for option "--${call.spec.name}", or out of range (${min}-${max})`);
  return v;
}

/** `XTTYPE_MARKMASK32`: `value[/mask]`, base-0 32-bit numbers, mask default all ones. */
function parseMarkMask(call: OptCall): { value: number; mask: number } {
  const text = call.arg;
  const a = strtouiPrefix(text, 0, 0, 0xffffffff);
  if (a === null) return call.fail(`bad mark value for option "--${call.spec.name}", or out of range`);
  let end = a.end;
  let mask = 0xffffffff;
  if (text[end] === '/') {
    const b = strtouiPrefix(text, end + 1, 0, 0xffffffff);
    if (b === null) return call.fail(`bad mask value for option "--${call.spec.name}", or out of range`);
    mask = b.value;
    end = b.end;
  }
  if (end !== text.length) return call.fail(`trailing garbage after value for option "--${call.spec.name}"`);
  return { value: a.value, mask };
}

/**
 * `XTTYPE_HOST`: a numeric IPv4 host as `getaddrinfo` reads it (`inet_aton`
 * forms, so `10.1` is 10.0.0.1). Host names would need DNS and are refused.
 */
function parseHost(call: OptCall, text: string): number {
  const a = inetAton(text);
  if (a < 0) return call.fail(`host "${text}" is not a numeric IPv4 address (lbsim resolves no host names)`);
  return a;
}

/**
 * `XTTYPE_HOSTMASK` (conntrack addresses): host as {@link parseHost}, then
 * `/len` (base-0, 0..32) or a dotted mask; a mask that is not contiguous
 * becomes /32 (what iptables 1.8.9 stores, checked with `iptables-save`).
 * The address is kept unmasked, as libxt_conntrack stores it.
 */
function parseHostMask(call: OptCall): AddrMatch {
  const text = call.arg;
  const slash = text.indexOf('/');
  const addr = parseHost(call, slash < 0 ? text : text.slice(0, slash));
  let mask = 0xffffffff;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    const plen = strtouiExact(m, 0, 32);
    if (plen >= 0) mask = maskOfPrefix(plen);
    else {
      const asAddr = inetAton(m);
      if (asAddr < 0) return call.fail(`bad value for option "--${call.spec.name}", neither a valid network mask nor valid CIDR (0-32)`);
      const p = prefixOfMask(asAddr);
      mask = p < 0 ? 0xffffffff : maskOfPrefix(p);
    }
  }
  return { addr, mask, invert: call.invert };
}

/** Parses a comma list of names with C `strncasecmp(item, name, strlen(item))` prefix matching; first name wins. */
function parseNameList(call: OptCall, names: readonly string[], what: string): number[] {
  const out: number[] = [];
  for (const item of call.arg.split(',')) {
    if (item === '') return call.fail(`bad ${what} "${item}"`);
    const upper = item.toUpperCase();
    const idx = names.findIndex((n) => n.startsWith(upper));
    if (idx < 0) return call.fail(`bad ${what} "${item}"`);
    out.push(idx);
  }
  return out;
}

// ------------------------------------------------------------------ printing helpers

function portRange(r: PortRange): string {
  return r.min === r.max ? `${r.min}` : `${r.min}:${r.max}`;
}

function inv(invert: boolean): string {
  return invert ? ' !' : '';
}

/** `xtables_ipmask_to_numeric`: '' for /32, `/len` if contiguous, else `/a.b.c.d`. */
function ipmaskToNumeric(mask: number): string {
  const p = prefixOfMask(mask);
  if (p === 32) return '';
  if (p < 0) return `/${dotted(mask)}`;
  return `/${p}`;
}

// ------------------------------------------------------------------ tcp / udp / sctp

/** TCP flag names in `print_tcpf` order (libxt_tcp.c). */
const TCP_FLAG_NAMES: readonly (readonly [string, number])[] = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];

function parseTcpFlags(call: OptCall, text: string, token: IptablesToken): number {
  let v = 0;
  for (const item of text.split(',')) {
    if (item === '') continue; // strtok skips empty fields
    const f = TCP_FLAG_NAMES.find(([n]) => n === item.toUpperCase());
    if (f === undefined) return call.fail(`unknown TCP flag "${item}"`, token);
    v |= f[1];
  }
  return v;
}

/** `print_tcpf`: flag names in bit order, or NONE. */
function printTcpFlags(flags: number): string {
  const names: string[] = [];
  let f = flags;
  while (f !== 0) {
    const entry = TCP_FLAG_NAMES.find(([, bit]) => (f & bit) !== 0) as readonly [string, number];
    names.push(entry[0]);
    f &= ~entry[1];
  }
  return names.length === 0 ? 'NONE' : names.join(',');
}

interface TcpState {
  sport?: PortRangeMatch;
  dport?: PortRangeMatch;
  tcpFlags?: { mask: number; comp: number; invert: boolean };
  tcpOption?: { option: number; invert: boolean };
}

function setPort(state: { sport?: PortRangeMatch; dport?: PortRangeMatch }, id: string, r: PortRange, invert: boolean, keepFull: boolean): void {
  // tcp_save/udp_save print nothing for 0:65535 (even when inverted), so a
  // non-inverted full range is the same rule as none: drop it to keep the AST canonical.
  if (!keepFull && !invert && r.min === FULL_PORTS.min && r.max === FULL_PORTS.max) return;
  const v = { min: r.min, max: r.max, invert };
  if (id === 'sport') state.sport = v;
  else state.dport = v;
}

const portOpts = (withInvert: boolean): OptSpec[] => [
  { name: 'source-port', id: 'sport', arg: true, invert: withInvert },
  { name: 'sport', id: 'sport', arg: true, invert: withInvert },
  { name: 'destination-port', id: 'dport', arg: true, invert: withInvert },
  { name: 'dport', id: 'dport', arg: true, invert: withInvert },
];

const tcpDef = def<TcpState, MatchSpec>({
  name: 'tcp',
  options: [
    ...portOpts(true),
    { name: 'syn', id: 'flags', arg: false, invert: true },
    { name: 'tcp-flags', id: 'flags', arg: true, invert: true },
    { name: 'tcp-option', id: 'option', arg: true, invert: true },
  ],
  init: () => ({}),
  parse(state, call) {
    switch (call.spec.id) {
      case 'sport':
      case 'dport':
        setPort(state, call.spec.id, parseTcpLikePorts(call, 'tcp'), call.invert, false);
        return;
      case 'flags':
        if (call.spec.name === 'syn') {
          state.tcpFlags = { mask: 0x17, comp: 0x02, invert: call.invert };
        } else {
          const compTok = call.extra();
          const mask = parseTcpFlags(call, call.arg, call.argToken);
          const comp = parseTcpFlags(call, compTok.text, compTok);
          state.tcpFlags = { mask, comp, invert: call.invert };
        }
        return;
      case 'option': {
        const v = strtouiExact(call.arg, 1, 255);
        if (v < 0) return call.fail(`bad TCP option "${call.arg}"`);
        state.tcpOption = { option: v, invert: call.invert };
        return;
      }
    }
  },
  final(state) {
    const f = state.tcpFlags;
    return {
      module: 'tcp',
      ...(state.sport ? { sport: state.sport } : {}),
      ...(state.dport ? { dport: state.dport } : {}),
      // mask 0 and comp 0 is the default; a mask of 0 with comp != 0 never matches and is kept
      ...(f && (f.mask !== 0 || f.comp !== 0 || f.invert) ? { tcpFlags: f } : {}),
      ...(state.tcpOption ? { tcpOption: state.tcpOption } : {}),
    };
  },
});

const udpDef = def<{ sport?: PortRangeMatch; dport?: PortRangeMatch }, MatchSpec>({
  name: 'udp',
  options: portOpts(true),
  init: () => ({}),
  parse(state, call) {
    setPort(state, call.spec.id, parsePortRc(call), call.invert, false);
  },
  final: (state) => ({ module: 'udp', ...(state.sport ? { sport: state.sport } : {}), ...(state.dport ? { dport: state.dport } : {}) }),
});

const sctpDef = def<{ sport?: PortRangeMatch; dport?: PortRangeMatch }, MatchSpec>({
  name: 'sctp',
  options: [...portOpts(true), { name: 'chunk-types', id: 'chunks', arg: true, invert: true, unsupported: true }],
  init: () => ({}),
  parse(state, call) {
    // sctp_save prints every given port option, 0:65535 included
    setPort(state, call.spec.id, parseTcpLikePorts(call, 'sctp'), call.invert, true);
  },
  final: (state) => ({ module: 'sctp', ...(state.sport ? { sport: state.sport } : {}), ...(state.dport ? { dport: state.dport } : {}) }),
});

// ------------------------------------------------------------------ icmp

/** libxtables ICMP type names (iptables 1.8.9), in table order: name, type, code range. */
const ICMP_NAMES: readonly (readonly [string, number, number, number])[] = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['pong', 0, 0, 0xff],
];

interface IcmpState {
  value: { type: number; codeMin: number; codeMax: number; invert: boolean } | null;
}

const icmpMatchDef = def<IcmpState, MatchSpec>({
  name: 'icmp',
  options: [{ name: 'icmp-type', id: 'type', arg: true, invert: true, mandatory: true }],
  init: () => ({ value: null }),
  parse(state, call) {
    const text = call.arg;
    const lower = text.toLowerCase();
    const hits = ICMP_NAMES.filter(([n]) => n.toLowerCase().startsWith(lower));
    let r: { type: number; codeMin: number; codeMax: number };
    if (hits.length > 1) {
      const a = hits[0] as readonly [string, number, number, number];
      const b = hits[1] as readonly [string, number, number, number];
      return call.fail(`ambiguous ICMP type "${text}": "${a[0]}" or "${b[0]}"?`);
    }
    const hit = hits[0];
    if (hit !== undefined) {
      r = { type: hit[1], codeMin: hit[2], codeMax: hit[3] };
    } else {
      const slash = text.indexOf('/');
      const t = strtouiExact(slash < 0 ? text : text.slice(0, slash), 0, 255);
      if (t < 0) return call.fail(`invalid ICMP type "${text}"`);
      if (slash < 0) r = { type: t, codeMin: 0, codeMax: 255 };
      else {
        const c = strtouiExact(text.slice(slash + 1), 0, 255);
        if (c < 0) return call.fail(`unknown ICMP code "${text}"`);
        r = { type: t, codeMin: c, codeMax: c };
      }
    }
    if (r.type === 0xff) r = { type: 0xff, codeMin: 0, codeMax: 255 };
    state.value = { ...r, invert: call.invert };
  },
  final(state, fail) {
    if (state.value === null) return fail('option "--icmp-type" must be specified');
    return { module: 'icmp', ...state.value };
  },
});

// ------------------------------------------------------------------ multiport

/** Protocols multiport accepts (its local `proto_to_name`, libxt_multiport.c). */
const MULTIPORT_PROTOS: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'],
  [17, 'udp'],
  [136, 'udplite'],
  [132, 'sctp'],
  [33, 'dccp'],
]);

interface MultiportState {
  value: { kind: 'sports' | 'dports' | 'ports'; ports: PortRange[]; invert: boolean } | null;
}

const multiportDef = def<MultiportState, MatchSpec>({
  name: 'multiport',
  options: [
    { name: 'source-ports', id: 'sports', arg: true, invert: true, excl: ['dports', 'ports'] },
    { name: 'sports', id: 'sports', arg: true, invert: true, excl: ['dports', 'ports'] },
    { name: 'destination-ports', id: 'dports', arg: true, invert: true, excl: ['sports', 'ports'] },
    { name: 'dports', id: 'dports', arg: true, invert: true, excl: ['sports', 'ports'] },
    { name: 'ports', id: 'ports', arg: true, invert: true, excl: ['sports', 'dports'] },
  ],
  init: () => ({ value: null }),
  parse(state, call, ctx) {
    // check_proto runs while the option is parsed: -p must come first
    if (ctx.protoInvert) return call.fail('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
    const proto = MULTIPORT_PROTOS.get(ctx.proto);
    if (proto === undefined) {
      if (ctx.proto === 0) return call.fail("multiport needs '-p tcp', '-p udp', '-p udplite', '-p sctp' or '-p dccp'");
      return call.fail('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
    }
    // parse_multi_ports_v1: at most 15 slots, a range takes two, min < max
    const ports: PortRange[] = [];
    let slots = 0;
    const items = call.arg.split(',');
    for (const item of items) {
      if (slots >= 15) return call.fail('too many ports specified');
      const colon = item.indexOf(':');
      const one = (s: string): number => {
        const p = parsePortBase0(s, proto);
        if (p < 0) return call.fail(`invalid port/service "${s}" specified`);
        return p;
      };
      if (colon < 0) {
        const p = one(item);
        ports.push({ min: p, max: p });
        slots++;
      } else {
        if (slots === 14) return call.fail('too many ports specified');
        const lo = one(item.slice(0, colon));
        const hi = one(item.slice(colon + 1));
        if (lo >= hi) return call.fail('invalid port range specified');
        ports.push({ min: lo, max: hi });
        slots += 2;
      }
    }
    state.value = { kind: call.spec.id as 'sports' | 'dports' | 'ports', ports, invert: call.invert };
  },
  final(state, fail) {
    if (state.value === null) return fail('multiport: one of --sports, --dports or --ports is required');
    return { module: 'multiport', ...state.value };
  },
});

// ------------------------------------------------------------------ comment

/** Truncates to at most `max` UTF-8 bytes at a character boundary (xtopt string options). */
function truncateBytes(s: string, max: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + len > max) break;
    bytes += len;
    out += ch;
  }
  return out;
}

const commentDef = def<{ comment: string | null }, MatchSpec>({
  name: 'comment',
  options: [{ name: 'comment', id: 'comment', arg: true, mandatory: true }],
  init: () => ({ comment: null }),
  parse(state, call) {
    // XT_MAX_COMMENT_LEN 256: longer comments are cut to 255 bytes
    state.comment = truncateBytes(call.arg, 255);
  },
  final(state, fail) {
    if (state.comment === null) return fail('option "--comment" must be specified');
    return { module: 'comment', comment: state.comment };
  },
});

// ------------------------------------------------------------------ statistic

interface StatisticState {
  mode: 'random' | 'nth' | null;
  probability: number | null;
  every: number | null;
  packet: number | null;
  invert: boolean;
}

const statisticDef = def<StatisticState, MatchSpec>({
  name: 'statistic',
  options: [
    { name: 'mode', id: 'mode', arg: true, mandatory: true },
    { name: 'probability', id: 'probability', arg: true, invert: true, excl: ['every', 'packet'] },
    { name: 'every', id: 'every', arg: true, invert: true, excl: ['probability'], also: ['packet'] },
    { name: 'packet', id: 'packet', arg: true, excl: ['probability'], also: ['every'] },
  ],
  init: () => ({ mode: null, probability: null, every: null, packet: null, invert: false }),
  parse(state, call) {
    switch (call.spec.id) {
      case 'mode':
        if (call.arg === 'random' || call.arg === 'nth') state.mode = call.arg;
        else return call.fail(`bad mode "${call.arg}"`);
        return;
      case 'probability': {
        const p = strtodExact(call.arg);
        if (!(p >= 0 && p <= 1)) return call.fail('bad value for option "--probability", or out of range (0-1)');
        // libxt_statistic.c: probability = lround(0x80000000 * p) (p >= 0, so Math.round is lround)
        state.probability = Math.round(0x80000000 * p);
        if (call.invert) state.invert = true;
        return;
      }
      case 'every':
        state.every = parseUint32(call, 1);
        if (call.invert) state.invert = true;
        return;
      case 'packet':
        state.packet = parseUint32(call);
        return;
    }
  },
  final(state, fail) {
    if (state.mode === 'random') {
      if (state.every !== null || state.packet !== null) return fail('--every and --packet can only be used in nth mode');
      if (state.probability === null) return fail('--probability must be specified when using random mode');
      return { module: 'statistic', mode: 'random', probability: state.probability, invert: state.invert };
    }
    if (state.probability !== null) return fail('--probability can only be used in random mode');
    if (state.every === null || state.packet === null) return fail('--every and --packet must be specified when using nth mode');
    if (state.packet > state.every - 1) return fail('the --packet p must be 0 <= p <= n-1');
    return { module: 'statistic', mode: 'nth', every: state.every, packet: state.packet, invert: state.invert };
  },
});

// ------------------------------------------------------------------ mark

const markDef = def<{ value: { value: number; mask: number; invert: boolean } | null }, MatchSpec>({
  name: 'mark',
  options: [{ name: 'mark', id: 'mark', arg: true, invert: true, mandatory: true }],
  init: () => ({ value: null }),
  parse(state, call) {
    const m = parseMarkMask(call);
    state.value = { value: m.value, mask: m.mask, invert: call.invert };
  },
  final(state, fail) {
    if (state.value === null) return fail('option "--mark" must be specified');
    return { module: 'mark', ...state.value };
  },
});

// ------------------------------------------------------------------ conntrack / state

/** `--ctstate` names in the order `conntrack_ps_state` tries them, with their bits (xt_conntrack). */
const CTSTATE_PARSE: readonly (readonly [string, number])[] = [
  ['INVALID', 1],
  ['NEW', 8],
  ['ESTABLISHED', 2],
  ['RELATED', 4],
  ['UNTRACKED', 64],
  ['SNAT', 256],
  ['DNAT', 512],
];

/** `print_state` order. */
const CTSTATE_PRINT: readonly (readonly [string, number])[] = [
  ['INVALID', 1],
  ['NEW', 8],
  ['RELATED', 4],
  ['ESTABLISHED', 2],
  ['UNTRACKED', 64],
  ['SNAT', 256],
  ['DNAT', 512],
];

const CTSTATUS_PARSE: readonly (readonly [string, number])[] = [
  ['NONE', 0],
  ['EXPECTED', 1],
  ['SEEN_REPLY', 2],
  ['ASSURED', 4],
  ['CONFIRMED', 8],
];

function parseBits(call: OptCall, table: readonly (readonly [string, number])[], what: string): number {
  const idx = parseNameList(
    call,
    table.map(([n]) => n),
    what,
  );
  let v = 0;
  for (const i of idx) v |= (table[i] as readonly [string, number])[1];
  return v;
}

function printBits(bits: number, table: readonly (readonly [string, number])[]): string {
  return table
    .filter(([, b]) => (bits & b) !== 0)
    .map(([n]) => n)
    .join(',');
}

interface ConntrackState {
  ctstate?: { states: number; invert: boolean };
  ctproto?: { proto: number; invert: boolean };
  ctorigsrc?: AddrMatch;
  ctorigdst?: AddrMatch;
  ctreplsrc?: AddrMatch;
  ctrepldst?: AddrMatch;
  ctorigsrcport?: PortRangeMatch;
  ctorigdstport?: PortRangeMatch;
  ctreplsrcport?: PortRangeMatch;
  ctrepldstport?: PortRangeMatch;
  ctstatus?: { status: number; invert: boolean };
  ctexpire?: { min: number; max: number; invert: boolean };
  ctdir?: 'ORIGINAL' | 'REPLY';
}

const CT_ADDR = ['ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst'] as const;
const CT_PORT = ['ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport'] as const;

const conntrackDef = def<ConntrackState, MatchSpec>({
  name: 'conntrack',
  options: [
    { name: 'ctstate', id: 'ctstate', arg: true, invert: true },
    { name: 'ctproto', id: 'ctproto', arg: true, invert: true },
    ...CT_ADDR.map((n) => ({ name: n, id: n, arg: true, invert: true })),
    ...CT_PORT.map((n) => ({ name: n, id: n, arg: true, invert: true })),
    { name: 'ctstatus', id: 'ctstatus', arg: true, invert: true },
    { name: 'ctexpire', id: 'ctexpire', arg: true, invert: true },
    { name: 'ctdir', id: 'ctdir', arg: true },
  ],
  init: () => ({}),
  parse(state, call) {
    const id = call.spec.id;
    switch (id) {
      case 'ctstate':
        state.ctstate = { states: parseBits(call, CTSTATE_PARSE, 'ctstate'), invert: call.invert };
        return;
      case 'ctproto': {
        const p = parseProtocolName(call.arg.toLowerCase());
        if (p < 0) return call.fail(`unknown protocol "${call.arg}" specified`);
        if (p === 0 && call.invert) return call.fail('rule would never match protocol');
        state.ctproto = { proto: p, invert: call.invert };
        return;
      }
      case 'ctstatus':
        state.ctstatus = { status: parseBits(call, CTSTATUS_PARSE, 'ctstatus'), invert: call.invert };
        return;
      case 'ctexpire':
        state.ctexpire = { ...parseUint32Rc(call), invert: call.invert };
        return;
      case 'ctdir': {
        const u = call.arg.toUpperCase();
        if (u === 'ORIGINAL' || u === 'REPLY') state.ctdir = u;
        else return call.fail(`bad value for "--ctdir" option: "${call.arg}"`);
        return;
      }
    }
    if ((CT_ADDR as readonly string[]).includes(id)) {
      state[id as (typeof CT_ADDR)[number]] = parseHostMask(call);
      return;
    }
    state[id as (typeof CT_PORT)[number]] = { ...parsePortRc(call), invert: call.invert };
  },
  final(state, fail) {
    if (Object.keys(state).length === 0) return fail('conntrack: at least one option is required');
    return { module: 'conntrack', ...state };
  },
});

const STATE_PARSE: readonly (readonly [string, number])[] = CTSTATE_PARSE.slice(0, 5);

const stateDef = def<{ value: { states: number; invert: boolean } | null }, MatchSpec>({
  name: 'state',
  options: [{ name: 'state', id: 'state', arg: true, invert: true, mandatory: true }],
  init: () => ({ value: null }),
  parse(state, call) {
    state.value = { states: parseBits(call, STATE_PARSE, 'state'), invert: call.invert };
  },
  final(state, fail) {
    if (state.value === null) return fail('option "--state" must be specified');
    return { module: 'state', ...state.value };
  },
});

// ------------------------------------------------------------------ addrtype

/** `rtn_names` of libxt_addrtype.c, bit i = 1 << i. */
const ADDRTYPE_NAMES: readonly AddrTypeName[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];

interface AddrtypeState {
  srcType?: { types: number; invert: boolean };
  dstType?: { types: number; invert: boolean };
  limitIfaceIn: boolean;
  limitIfaceOut: boolean;
}

const addrtypeDef = def<AddrtypeState, MatchSpec>({
  name: 'addrtype',
  options: [
    { name: 'src-type', id: 'src', arg: true, invert: true },
    { name: 'dst-type', id: 'dst', arg: true, invert: true },
    { name: 'limit-iface-in', id: 'in', arg: false, excl: ['out'] },
    { name: 'limit-iface-out', id: 'out', arg: false, excl: ['in'] },
  ],
  init: () => ({ limitIfaceIn: false, limitIfaceOut: false }),
  parse(state, call) {
    switch (call.spec.id) {
      case 'src':
      case 'dst': {
        let types = 0;
        for (const i of parseNameList(call, ADDRTYPE_NAMES, 'type')) types |= 1 << i;
        if (call.spec.id === 'src') state.srcType = { types, invert: call.invert };
        else state.dstType = { types, invert: call.invert };
        return;
      }
      case 'in':
        state.limitIfaceIn = true;
        return;
      case 'out':
        state.limitIfaceOut = true;
        return;
    }
  },
  final(state, fail) {
    if (state.srcType === undefined && state.dstType === undefined) return fail('addrtype: you must specify --src-type or --dst-type');
    return { module: 'addrtype', ...state };
  },
});

// ------------------------------------------------------------------ recent

interface RecentState {
  command: 'set' | 'rcheck' | 'update' | 'remove' | null;
  name: string;
  side: 'source' | 'dest';
  seconds: number;
  reap: boolean;
  hitcount: number;
  rttl: boolean;
  mask: number;
  invert: boolean;
}

const RECENT_OPS = ['set', 'rcheck', 'update', 'remove'] as const;

const recentDef = def<RecentState, MatchSpec>({
  name: 'recent',
  options: [
    ...RECENT_OPS.map((n) => ({ name: n, id: n, arg: false, invert: true, excl: RECENT_OPS.filter((o) => o !== n) })),
    { name: 'seconds', id: 'seconds', arg: true },
    { name: 'reap', id: 'reap', arg: false, also: ['seconds'] },
    { name: 'hitcount', id: 'hitcount', arg: true },
    { name: 'rttl', id: 'rttl', arg: false, excl: ['set', 'remove'] },
    { name: 'name', id: 'name', arg: true },
    { name: 'rsource', id: 'rsource', arg: false },
    { name: 'rdest', id: 'rdest', arg: false },
    { name: 'mask', id: 'mask', arg: true },
  ],
  init: () => ({
    command: null,
    name: 'DEFAULT',
    side: 'source',
    seconds: 0,
    reap: false,
    hitcount: 0,
    rttl: false,
    mask: 0xffffffff,
    invert: false,
  }),
  parse(state, call) {
    switch (call.spec.id) {
      case 'set':
      case 'rcheck':
      case 'update':
      case 'remove':
        state.command = call.spec.id;
        state.invert = call.invert;
        return;
      case 'seconds':
        state.seconds = parseUint32(call, 1);
        return;
      case 'reap':
        state.reap = true;
        return;
      case 'hitcount':
        state.hitcount = parseUint32(call);
        return;
      case 'rttl':
        state.rttl = true;
        return;
      case 'name':
        // XT_RECENT_NAME_LEN 200
        state.name = truncateBytes(call.arg, 199);
        return;
      case 'rsource':
        state.side = 'source';
        return;
      case 'rdest':
        state.side = 'dest';
        return;
      case 'mask':
        state.mask = parseHost(call, call.arg);
        return;
    }
  },
  final(state, fail) {
    if (state.command === null) return fail("recent: you must specify one of '--set', '--rcheck', '--update' or '--remove'");
    // kernel recent_mt_check (xt_recent.c): refused with EINVAL
    if ((state.command === 'set' || state.command === 'remove') && (state.seconds !== 0 || state.hitcount !== 0 || state.reap || state.rttl)) {
      return fail(`recent: --${state.command} cannot be combined with --seconds, --hitcount, --reap or --rttl (the kernel refuses it)`);
    }
    // xt_check_proc_name: the list name becomes a /proc file name
    if (state.name === '' || state.name === '.' || state.name === '..' || state.name.includes('/')) {
      return fail(`recent: invalid list name "${state.name}" (the kernel refuses it)`);
    }
    return { module: 'recent', ...state, command: state.command };
  },
});

// ------------------------------------------------------------------ set

interface SetState {
  value: { setName: string; dirs: ('src' | 'dst')[]; invert: boolean } | null;
  returnNomatch: boolean;
}

const setDef = def<SetState, MatchSpec>({
  name: 'set',
  options: [
    { name: 'match-set', id: 'match-set', arg: true, invert: true },
    { name: 'set', id: 'match-set', arg: true, invert: true },
    { name: 'return-nomatch', id: 'return-nomatch', arg: false },
    { name: 'update-counters', id: 'update-counters', arg: false, invert: true },
    { name: 'update-subcounters', id: 'update-subcounters', arg: false, invert: true },
    ...['packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt'].map((n) => ({
      name: n,
      id: n,
      arg: true,
      invert: true,
      unsupported: true,
    })),
  ],
  init: () => ({ value: null, returnNomatch: false }),
  parse(state, call) {
    switch (call.spec.id) {
      case 'match-set': {
        const dirTok = call.extra();
        // IPSET_MAXNAMELEN 32
        if (utf8Length(call.arg) > 31) return call.fail(`setname "${call.arg}" too long, max 31 characters`);
        // parse_dirs: comma list, at most IPSET_DIM_MAX (6), items compared on their first 3 characters
        const items = dirTok.text.split(',');
        const dirs: ('src' | 'dst')[] = [];
        for (const item of items) {
          if (dirs.length === 6) return call.fail("can't be more src/dst options than 6", dirTok);
          if (item.startsWith('src')) dirs.push('src');
          else if (item.startsWith('dst')) dirs.push('dst');
          else call.fail("you must specify (the comma separated list of) 'src' or 'dst'", dirTok);
        }
        state.value = { setName: call.arg, dirs, invert: call.invert };
        return;
      }
      case 'return-nomatch':
        state.returnNomatch = true;
        return;
      case 'update-counters':
      case 'update-subcounters':
        // updating counters is the default and prints nothing; only the inverted form changes the rule
        if (call.invert) return call.fail(`option "! --${call.spec.name}" is not supported by lbsim`);
        return;
    }
  },
  final(state, fail) {
    if (state.value === null) return fail('you must specify --match-set');
    return { module: 'set', ...state.value, returnNomatch: state.returnNomatch };
  },
});

// ------------------------------------------------------------------ nfacct

const nfacctDef = def<{ name: string | null }, MatchSpec>({
  name: 'nfacct',
  options: [{ name: 'nfacct-name', id: 'name', arg: true, mandatory: true }],
  init: () => ({ name: null }),
  parse(state, call) {
    // NFACCT_NAME_MAX 32
    if (utf8Length(call.arg) > 31) return call.fail(`nfacct name "${call.arg}" too long, max 31 characters`);
    state.name = call.arg;
  },
  final(state, fail) {
    if (state.name === null) return fail('option "--nfacct-name" must be specified');
    return { module: 'nfacct', name: state.name };
  },
});

// ------------------------------------------------------------------ limit

/** XT_LIMIT_SCALE (xt_limit.h). */
const LIMIT_SCALE = 10000;
/** `rates` of libxt_limit.c, longest unit first. */
const LIMIT_RATES: readonly (readonly ['day' | 'hour' | 'minute' | 'second', string, number])[] = [
  ['day', 'day', LIMIT_SCALE * 24 * 60 * 60],
  ['hour', 'hour', LIMIT_SCALE * 60 * 60],
  ['minute', 'min', LIMIT_SCALE * 60],
  ['second', 'sec', LIMIT_SCALE],
];

/** C `atoi`: leading decimal digits (with optional sign), 0 when none; wraps to uint32 like the `uint32_t r` it is stored in. */
function atoiU32(text: string): number {
  const m = /^[+-]?\d+/.exec(text);
  if (m === null) return 0;
  const v = Number(m[0]);
  return ((v % 4294967296) + 4294967296) % 4294967296;
}

/**
 * The kernel's average period of `--limit n/unit` (`parse_rate`,
 * libxt_limit.c): XT_LIMIT_SCALE * seconds-per-unit / n, integer division.
 * Unit prefixes of `second`/`minute`/`hour`/`day` are accepted, any case.
 * Returns -1 for a bad rate and 0 for a rate above 10000/s.
 */
export function limitPeriod(rate: string): number {
  const slash = rate.indexOf('/');
  let mult = 1;
  if (slash >= 0) {
    const unit = rate.slice(slash + 1).toLowerCase();
    if (unit.length === 0) return -1;
    if ('second'.startsWith(unit)) mult = 1;
    else if ('minute'.startsWith(unit)) mult = 60;
    else if ('hour'.startsWith(unit)) mult = 3600;
    else if ('day'.startsWith(unit)) mult = 86400;
    else return -1;
  }
  const r = atoiU32(rate);
  if (r === 0) return -1;
  return Math.floor((LIMIT_SCALE * mult) / r);
}

/**
 * `print_rate` of libxt_limit.c: the (count, unit) `iptables-save` prints
 * for a kernel average period.
 */
export function limitRateOf(period: number): { count: number; unit: 'second' | 'minute' | 'hour' | 'day' } {
  let i = 1;
  for (; i < LIMIT_RATES.length; i++) {
    const mult = (LIMIT_RATES[i] as readonly [string, string, number])[2];
    if (period > mult || Math.floor(mult / period) < mult % period) break;
  }
  const r = LIMIT_RATES[i - 1] as readonly ['day' | 'hour' | 'minute' | 'second', string, number];
  return { count: Math.floor(r[2] / period), unit: r[0] };
}

/** The period `--limit count/unit` gives (for printing a {@link LimitMatch}). */
function periodOf(count: number, unit: 'second' | 'minute' | 'hour' | 'day'): number {
  const r = LIMIT_RATES.find(([u]) => u === unit) as readonly [string, string, number];
  return Math.floor(r[2] / count);
}

const limitDef = def<{ period: number; burst: number }, MatchSpec>({
  name: 'limit',
  options: [
    { name: 'limit', id: 'limit', arg: true },
    { name: 'limit-burst', id: 'burst', arg: true },
  ],
  // XT_LIMIT_AVG "3/hour", XT_LIMIT_BURST 5
  init: () => ({ period: (LIMIT_SCALE * 3600) / 3, burst: 5 }),
  parse(state, call) {
    if (call.spec.id === 'limit') {
      const p = limitPeriod(call.arg);
      if (p < 0) return call.fail(`bad rate "${call.arg}"`);
      if (p === 0) return call.fail(`rate too fast "${call.arg}"`);
      state.period = p;
    } else {
      state.burst = parseUint32(call, 0, 10000);
    }
  },
  final(state) {
    // the AST keeps the rate as iptables-save prints it (see the report on LimitMatch)
    const r = limitRateOf(state.period);
    return { module: 'limit', count: r.count, unit: r.unit, burst: state.burst };
  },
});

/** Registry of the match extensions lbsim models, by `-m` name. */
export const MATCHES: ReadonlyMap<string, AnyMatchDef> = new Map<string, AnyMatchDef>([
  ['tcp', tcpDef],
  ['udp', udpDef],
  ['sctp', sctpDef],
  ['icmp', icmpMatchDef],
  ['multiport', multiportDef],
  ['comment', commentDef],
  ['statistic', statisticDef],
  ['mark', markDef],
  ['conntrack', conntrackDef],
  ['state', stateDef],
  ['addrtype', addrtypeDef],
  ['recent', recentDef],
  ['set', setDef],
  ['nfacct', nfacctDef],
  ['limit', limitDef],
]);

/** IPv4 match extensions iptables 1.8.9 (Debian) ships that lbsim does not model. */
export const UNSUPPORTED_MATCHES: ReadonlySet<string> = new Set([
  'ah', 'bpf', 'cgroup', 'cluster', 'connbytes', 'connlabel', 'connlimit', 'connmark', 'cpu', 'dccp', 'devgroup',
  'dscp', 'ecn', 'esp', 'hashlimit', 'helper', 'ipcomp', 'iprange', 'ipvs', 'length', 'mac', 'osf', 'owner',
  'physdev', 'pkttype', 'policy', 'quota', 'rateest', 'realm', 'rpfilter', 'socket', 'string', 'tcpmss', 'time',
  'tos', 'ttl', 'u32',
]);

// ------------------------------------------------------------------ targets

/**
 * Protocols NAT port ranges are allowed with (`portok` of libxt_NAT.c,
 * libxt_MASQUERADE.c, libxt_REDIRECT.c in 1.8.9: tcp, udp, sctp, dccp and
 * icmp; an inverted `-p` is not looked at).
 */
const NAT_PORT_PROTOS: ReadonlySet<number> = new Set([6, 17, 132, 33, 1]);

function requirePortProto(call: OptCall, ctx: RuleContext): void {
  if (!NAT_PORT_PROTOS.has(ctx.proto)) return call.fail('need TCP, UDP, SCTP or DCCP with port specification');
}

/** `ports` of MASQUERADE/REDIRECT `--to-ports`: `a[-b]`, base-0 or a service name, min <= max. */
function parseToPorts(call: OptCall, ctx: RuleContext): PortRange {
  requirePortProto(call, ctx);
  const text = call.arg;
  const dash = text.indexOf('-');
  const colon = text.indexOf(':');
  if (colon >= 0 && (dash < 0 || colon < dash)) return call.fail('invalid port:port syntax - use dash');
  const one = (s: string): number => {
    const p = parsePortBase0(s, null);
    if (p < 0) return call.fail(`port "${s}" not valid`);
    return p;
  };
  if (dash < 0) {
    const p = one(text);
    return { min: p, max: p };
  }
  const min = one(text.slice(0, dash));
  const max = one(text.slice(dash + 1));
  if (max < min) return call.fail(`port range "${text}" funky`);
  return { min, max };
}

/**
 * `--to-destination`/`--to-source` (`parse_to`, libxt_NAT.c 1.8.9):
 * `[ip[-ip]][:port[-port]]`. Addresses are strict dotted quads; the first
 * port may be a service name, the second must be a number.
 *
 * Workaround for the AST (see the report): a range with ports and no
 * address is stored with both addresses 0, so an explicit `0.0.0.0` with
 * ports cannot be represented and is refused.
 */
function parseNatRange(call: OptCall, ctx: RuleContext): NatRange {
  const text = call.arg;
  const colon = text.indexOf(':');
  let hasPorts = false;
  let minPort = 0;
  let maxPort = 0;
  if (colon >= 0) {
    requirePortProto(call, ctx);
    const ports = text.slice(colon + 1);
    const dash = ports.indexOf('-');
    const first = dash < 0 ? ports : ports.slice(0, dash);
    if (first.includes(':')) return call.fail(`bad IP address "${text}"`);
    const lo = parsePortBase0(first, null);
    if (first === '' || lo < 0) return call.fail(`port "${first}" not valid`);
    minPort = lo;
    maxPort = lo;
    if (dash >= 0) {
      const rest = ports.slice(dash + 1);
      const hi = strtouiPrefix(rest, 0, 0, 65535);
      if (hi === null) return call.fail(`port "${rest}" not valid`);
      if (hi.end !== rest.length) return call.fail(`garbage after port range: "${rest.slice(hi.end)}"`);
      if (hi.value < lo) return call.fail(`port range "${rest}" funky`);
      maxPort = hi.value;
    }
    hasPorts = true;
    if (colon === 0) return { minAddr: 0, maxAddr: 0, hasPorts, minPort, maxPort };
  }
  const addrs = colon >= 0 ? text.slice(0, colon) : text;
  const dash = addrs.indexOf('-');
  const parseAddr = (s: string): number => {
    if (!/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s)) return call.fail(`bad IP address "${s}"`);
    return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  };
  const minAddr = parseAddr(dash < 0 ? addrs : addrs.slice(0, dash));
  const maxAddr = dash < 0 ? minAddr : parseAddr(addrs.slice(dash + 1));
  if (hasPorts && minAddr === 0 && maxAddr === 0) {
    return call.fail('lbsim cannot represent the address 0.0.0.0 together with ports (NatRange has no "no address" flag)');
  }
  return { minAddr, maxAddr, hasPorts, minPort, maxPort };
}

interface NatState {
  range: NatRange | null;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

const natInit = (): NatState => ({ range: null, random: false, randomFully: false, persistent: false });

function natParse(state: NatState, call: OptCall, ctx: RuleContext): void {
  switch (call.spec.id) {
    case 'to':
      state.range = parseNatRange(call, ctx);
      return;
    case 'random':
      state.random = true;
      return;
    case 'random-fully':
      state.randomFully = true;
      return;
    case 'persistent':
      state.persistent = true;
      return;
  }
}

const dnatDef = def<NatState, TargetSpec>({
  name: 'DNAT',
  options: [
    { name: 'to-destination', id: 'to', arg: true, mandatory: true },
    { name: 'random', id: 'random', arg: false },
    { name: 'persistent', id: 'persistent', arg: false },
  ],
  init: natInit,
  parse: natParse,
  final(state, fail) {
    if (state.range === null) return fail('DNAT: option "--to-destination" must be specified');
    return { kind: 'DNAT', range: state.range, random: state.random, persistent: state.persistent };
  },
});

const snatDef = def<NatState, TargetSpec>({
  name: 'SNAT',
  options: [
    { name: 'to-source', id: 'to', arg: true, mandatory: true },
    { name: 'random', id: 'random', arg: false },
    { name: 'random-fully', id: 'random-fully', arg: false },
    { name: 'persistent', id: 'persistent', arg: false },
  ],
  init: natInit,
  parse: natParse,
  final(state, fail) {
    if (state.range === null) return fail('SNAT: option "--to-source" must be specified');
    return { kind: 'SNAT', range: state.range, random: state.random, randomFully: state.randomFully, persistent: state.persistent };
  },
});

const masqueradeDef = def<{ ports: PortRange | null; random: boolean; randomFully: boolean }, TargetSpec>({
  name: 'MASQUERADE',
  options: [
    { name: 'to-ports', id: 'to-ports', arg: true },
    { name: 'random', id: 'random', arg: false },
    { name: 'random-fully', id: 'random-fully', arg: false },
  ],
  init: () => ({ ports: null, random: false, randomFully: false }),
  parse(state, call, ctx) {
    if (call.spec.id === 'to-ports') state.ports = parseToPorts(call, ctx);
    else if (call.spec.id === 'random') state.random = true;
    else state.randomFully = true;
  },
  final: (state) => ({ kind: 'MASQUERADE', ...state }),
});

const redirectDef = def<{ ports: PortRange | null; random: boolean }, TargetSpec>({
  name: 'REDIRECT',
  options: [
    { name: 'to-ports', id: 'to-ports', arg: true },
    { name: 'random', id: 'random', arg: false },
  ],
  init: () => ({ ports: null, random: false }),
  parse(state, call, ctx) {
    if (call.spec.id === 'to-ports') state.ports = parseToPorts(call, ctx);
    else state.random = true;
  },
  final: (state) => ({ kind: 'REDIRECT', ...state }),
});

const MARK_OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'] as const;

const markTargetDef = def<{ value: number; mask: number; given: boolean }, TargetSpec>({
  name: 'MARK',
  options: MARK_OPS.map((n) => ({ name: n, id: n, arg: true, excl: MARK_OPS.filter((o) => o !== n) })),
  init: () => ({ value: 0, mask: 0, given: false }),
  parse(state, call) {
    // libxt_MARK.c mark_tg_parse (revision 2): every form becomes an xmark
    state.given = true;
    switch (call.spec.id) {
      case 'set-xmark': {
        const m = parseMarkMask(call);
        state.value = m.value;
        state.mask = m.mask;
        return;
      }
      case 'set-mark': {
        const m = parseMarkMask(call);
        state.value = m.value;
        state.mask = (m.value | m.mask) >>> 0;
        return;
      }
      case 'and-mark': {
        const v = parseUint32(call);
        state.value = 0;
        state.mask = ~v >>> 0;
        return;
      }
      case 'or-mark': {
        const v = parseUint32(call);
        state.value = v;
        state.mask = v;
        return;
      }
      case 'xor-mark': {
        const v = parseUint32(call);
        state.value = v;
        state.mask = 0;
        return;
      }
    }
  },
  final(state, fail) {
    if (!state.given) return fail('MARK: one of the --set-xmark, --{and,or,xor,set}-mark options is required');
    return { kind: 'MARK', value: state.value, mask: state.mask };
  },
});

const CONNMARK_OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', 'save-mark', 'restore-mark'] as const;

interface ConnmarkState {
  mode: 'set' | 'save' | 'restore' | null;
  ctmark: number;
  ctmask: number;
  nfmask: number;
}

const connmarkDef = def<ConnmarkState, TargetSpec>({
  name: 'CONNMARK',
  options: [
    ...CONNMARK_OPS.map((n) => ({
      name: n,
      id: n,
      arg: n !== 'save-mark' && n !== 'restore-mark',
      excl: CONNMARK_OPS.filter((o) => o !== n),
    })),
    { name: 'ctmask', id: 'ctmask', arg: true, excl: ['mask'] },
    { name: 'nfmask', id: 'nfmask', arg: true, excl: ['mask'] },
    { name: 'mask', id: 'mask', arg: true, excl: ['ctmask', 'nfmask'] },
  ],
  init: () => ({ mode: null, ctmark: 0, ctmask: 0xffffffff, nfmask: 0xffffffff }),
  parse(state, call) {
    // libxt_CONNMARK.c connmark_tg_parse (revision 1), applied in argument order
    switch (call.spec.id) {
      case 'set-xmark': {
        const m = parseMarkMask(call);
        Object.assign(state, { mode: 'set', ctmark: m.value, ctmask: m.mask });
        return;
      }
      case 'set-mark': {
        const m = parseMarkMask(call);
        Object.assign(state, { mode: 'set', ctmark: m.value, ctmask: (m.value | m.mask) >>> 0 });
        return;
      }
      case 'and-mark':
        Object.assign(state, { mode: 'set', ctmark: 0, ctmask: ~parseUint32(call) >>> 0 });
        return;
      case 'or-mark': {
        const v = parseUint32(call);
        Object.assign(state, { mode: 'set', ctmark: v, ctmask: v });
        return;
      }
      case 'xor-mark':
        Object.assign(state, { mode: 'set', ctmark: parseUint32(call), ctmask: 0 });
        return;
      case 'save-mark':
        state.mode = 'save';
        return;
      case 'restore-mark':
        state.mode = 'restore';
        return;
      case 'ctmask':
        state.ctmask = parseUint32(call);
        return;
      case 'nfmask':
        state.nfmask = parseUint32(call);
        return;
      case 'mask': {
        const v = parseUint32(call);
        state.ctmask = v;
        state.nfmask = v;
        return;
      }
    }
  },
  final(state, fail) {
    if (state.mode === null) return fail('CONNMARK target: no operation specified');
    // canonical: set keeps value/mask (ctmark/ctmask), save/restore keep nfmask/ctmask; the rest is 0
    if (state.mode === 'set') return { kind: 'CONNMARK', mode: 'set', value: state.ctmark, mask: state.ctmask, nfmask: 0, ctmask: 0 };
    return { kind: 'CONNMARK', mode: state.mode, value: 0, mask: 0, nfmask: state.nfmask, ctmask: state.ctmask };
  },
});

/** LOG flag bits (xt_LOG.h). */
export const LogFlag = {
  TCPSEQ: 0x01,
  TCPOPT: 0x02,
  IPOPT: 0x04,
  UID: 0x08,
  MACDECODE: 0x20,
} as const;

const LOG_FLAG_OPTS: readonly (readonly [string, number])[] = [
  ['log-tcp-sequence', LogFlag.TCPSEQ],
  ['log-tcp-options', LogFlag.TCPOPT],
  ['log-ip-options', LogFlag.IPOPT],
  ['log-uid', LogFlag.UID],
  ['log-macdecode', LogFlag.MACDECODE],
];

/** `log_names` of libxt_LOG.c (exact, case-sensitive). */
const LOG_LEVELS: ReadonlyMap<string, number> = new Map([
  ['alert', 1],
  ['crit', 2],
  ['debug', 7],
  ['emerg', 0],
  ['error', 3],
  ['info', 6],
  ['notice', 5],
  ['panic', 0],
  ['warning', 4],
]);

const logDef = def<{ prefix: string | null; level: number; flags: number }, TargetSpec>({
  name: 'LOG',
  options: [
    { name: 'log-level', id: 'level', arg: true },
    { name: 'log-prefix', id: 'prefix', arg: true },
    ...LOG_FLAG_OPTS.map(([n]) => ({ name: n, id: n, arg: false })),
  ],
  init: () => ({ prefix: null, level: 4, flags: 0 }),
  parse(state, call) {
    switch (call.spec.id) {
      case 'level': {
        const n = strtouiExact(call.arg, 0, 7);
        const named = LOG_LEVELS.get(call.arg);
        if (n < 0 && named === undefined) return call.fail(`log level "${call.arg}" unknown`);
        state.level = n >= 0 ? n : (named as number);
        return;
      }
      case 'prefix':
        if (call.arg.length === 0) return call.fail('argument must have a minimum length of 1 characters');
        // xt_log_info.prefix[30]: iptables cuts longer prefixes to 29 bytes
        state.prefix = truncateBytes(call.arg, 29);
        return;
      default:
        state.flags |= (LOG_FLAG_OPTS.find(([n]) => n === call.spec.id) as readonly [string, number])[1];
    }
  },
  final: (state) => ({ kind: 'LOG', ...state }),
});

/** `reject_table` of libipt_REJECT.c in enum order: name, alias. */
const REJECT_TYPES: readonly (readonly [string, string])[] = [
  ['icmp-net-unreachable', 'net-unreach'],
  ['icmp-host-unreachable', 'host-unreach'],
  ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'],
  ['icmp-net-prohibited', 'net-prohib'],
  ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'],
  ['icmp-admin-prohibited', 'admin-prohib'],
];

/** The canonical `--reject-with` names, in kernel enum order. */
export const REJECT_WITH: readonly string[] = REJECT_TYPES.map(([n]) => n);

const rejectDef = def<{ with: string }, TargetSpec>({
  name: 'REJECT',
  options: [{ name: 'reject-with', id: 'with', arg: true }],
  init: () => ({ with: 'icmp-port-unreachable' }),
  parse(state, call) {
    // first entry whose name or alias starts with the argument, any case
    const a = call.arg.toLowerCase();
    const hit = REJECT_TYPES.find(([n, al]) => n.startsWith(a) || al.startsWith(a));
    if (hit === undefined) return call.fail(`unknown reject type "${call.arg}"`);
    state.with = hit[0];
  },
  final: (state) => ({ kind: 'REJECT', rejectWith: state.with }),
});

const ctDef = def<{ notrack: boolean; zone: number }, TargetSpec>({
  name: 'CT',
  options: [
    { name: 'notrack', id: 'notrack', arg: false },
    { name: 'zone', id: 'zone', arg: true },
    ...['helper', 'ctevents', 'expevents', 'zone-orig', 'zone-reply', 'timeout'].map((n) => ({ name: n, id: n, arg: true, unsupported: true })),
  ],
  init: () => ({ notrack: false, zone: 0 }),
  parse(state, call) {
    if (call.spec.id === 'notrack') state.notrack = true;
    else {
      const z = strtouiExact(call.arg, 0, 65535);
      if (z < 0) return call.fail(`cannot parse ${call.arg} as a zone ID`);
      state.zone = z;
    }
  },
  // zone 0 is the default and is not printed
  final: (state) => ({ kind: 'CT', notrack: state.notrack, zone: state.zone === 0 ? null : state.zone }),
});

const notrackDef = def<null, TargetSpec>({
  name: 'NOTRACK',
  options: [],
  init: () => null,
  parse: () => undefined,
  final: () => ({ kind: 'NOTRACK' }),
});

/** Registry of the target extensions lbsim models, by `-j` name. */
export const TARGETS: ReadonlyMap<string, AnyTargetDef> = new Map<string, AnyTargetDef>([
  ['DNAT', dnatDef],
  ['SNAT', snatDef],
  ['MASQUERADE', masqueradeDef],
  ['REDIRECT', redirectDef],
  ['MARK', markTargetDef],
  ['CONNMARK', connmarkDef],
  ['LOG', logDef],
  ['REJECT', rejectDef],
  ['CT', ctDef],
  ['NOTRACK', notrackDef],
]);

/** IPv4 target extensions iptables 1.8.9 (Debian) ships that lbsim does not model. */
export const UNSUPPORTED_TARGETS: ReadonlySet<string> = new Set([
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'DSCP', 'ECN', 'HMARK', 'IDLETIMER', 'LED', 'NETMAP',
  'NFLOG', 'NFQUEUE', 'RATEEST', 'SECMARK', 'SET', 'SYNPROXY', 'TCPMSS', 'TCPOPTSTRIP', 'TEE', 'TOS', 'TPROXY',
  'TRACE', 'TTL', 'ULOG',
]);

/**
 * Tables a target is restricted to by its kernel module (`.table` of the
 * `xt_target`): the kernel refuses it elsewhere with EINVAL.
 */
export const TARGET_TABLE: ReadonlyMap<string, string> = new Map([
  ['DNAT', 'nat'],
  ['SNAT', 'nat'],
  ['MASQUERADE', 'nat'],
  ['REDIRECT', 'nat'],
  ['REJECT', 'filter'],
  ['CT', 'raw'],
  ['NOTRACK', 'raw'],
]);

/** Built-in chains (hooks) a restricted target may be used in (`.hooks` of the `xt_target`). */
export const TARGET_HOOKS: ReadonlyMap<string, readonly string[]> = new Map([
  ['DNAT', ['PREROUTING', 'OUTPUT']],
  ['SNAT', ['POSTROUTING', 'INPUT']],
  ['MASQUERADE', ['POSTROUTING']],
  ['REDIRECT', ['PREROUTING', 'OUTPUT']],
  ['REJECT', ['INPUT', 'FORWARD', 'OUTPUT']],
]);

// ------------------------------------------------------------------ printing

/**
 * One tcp/udp port option. iptables-nft turns an inverted range that touches
 * 0 or 65535 into a one-sided comparison (`! 0:B` is `> B`, `! A:65535` is
 * `< A`, nft-shared.c) and reads it back as the complementary range, not
 * inverted; nft mode prints that form.
 */
function nftPort(name: string, r: PortRangeMatch, nft: boolean): string {
  if (nft && r.invert && r.min !== r.max) {
    if (r.min === 0 && r.max < 65535) return ` --${name} ${portRange({ min: r.max + 1, max: 65535 })}`;
    if (r.max === 65535 && r.min > 0) return ` --${name} ${portRange({ min: 0, max: r.min - 1 })}`;
  }
  return `${inv(r.invert)} --${name} ${portRange(r)}`;
}

/**
 * `iptables-save` text of one match, starting with ` -m name`. `backend`
 * selects iptables-nft-save's form where it differs (see {@link nftPort}).
 */
export function printMatch(m: MatchSpec, backend: 'legacy' | 'nft' = 'legacy'): string {
  const nft = backend === 'nft';
  switch (m.module) {
    case 'tcp': {
      let s = ' -m tcp';
      const port = (name: string, r: PortRangeMatch | undefined): void => {
        if (r && (r.min !== 0 || r.max !== 65535)) s += nftPort(name, r, nft);
      };
      port('sport', m.sport);
      port('dport', m.dport);
      if (m.tcpOption) s += `${inv(m.tcpOption.invert)} --tcp-option ${m.tcpOption.option}`;
      if (m.tcpFlags && (m.tcpFlags.mask !== 0 || m.tcpFlags.invert)) {
        s += `${inv(m.tcpFlags.invert)} --tcp-flags ${printTcpFlags(m.tcpFlags.mask)} ${printTcpFlags(m.tcpFlags.comp)}`;
      }
      return s;
    }
    case 'udp': {
      let s = ' -m udp';
      if (m.sport && (m.sport.min !== 0 || m.sport.max !== 65535)) s += nftPort('sport', m.sport, nft);
      if (m.dport && (m.dport.min !== 0 || m.dport.max !== 65535)) s += nftPort('dport', m.dport, nft);
      return s;
    }
    case 'sctp': {
      let s = ' -m sctp';
      if (m.sport) s += `${inv(m.sport.invert)} --sport ${portRange(m.sport)}`;
      if (m.dport) s += `${inv(m.dport.invert)} --dport ${portRange(m.dport)}`;
      return s;
    }
    case 'icmp': {
      let s = ` -m icmp${inv(m.invert)} --icmp-type `;
      if (m.type === 0xff) return `${s}any`;
      s += `${m.type}`;
      if (m.codeMin !== 0 || m.codeMax !== 0xff) s += `/${m.codeMin}`;
      return s;
    }
    case 'multiport':
      return ` -m multiport${inv(m.invert)} --${m.kind} ${m.ports.map(portRange).join(',')}`;
    case 'comment':
      return ` -m comment --comment${saveString(m.comment)}`;
    case 'statistic':
      if (m.mode === 'random') return ` -m statistic --mode random${inv(m.invert)} --probability ${formatProbability(m.probability)}`;
      return ` -m statistic --mode nth${inv(m.invert)} --every ${m.every} --packet ${m.packet}`;
    case 'mark':
      return ` -m mark${inv(m.invert)} --mark ${hex(m.value)}${m.mask >>> 0 !== 0xffffffff ? `/${hex(m.mask)}` : ''}`;
    case 'conntrack': {
      let s = ' -m conntrack';
      if (m.ctstate) s += `${inv(m.ctstate.invert)} --ctstate ${printBits(m.ctstate.states, CTSTATE_PRINT)}`;
      if (m.ctproto) s += `${inv(m.ctproto.invert)} --ctproto ${m.ctproto.proto}`;
      for (const k of CT_ADDR) {
        const a = m[k];
        if (a) s += `${inv(a.invert)} --${k} ${dotted(a.addr)}${ipmaskToNumeric(a.mask)}`;
      }
      for (const k of CT_PORT) {
        const p = m[k];
        if (p) s += `${inv(p.invert)} --${k} ${portRange(p)}`;
      }
      if (m.ctstatus) {
        const st = printBits(m.ctstatus.status, CTSTATUS_PARSE.slice(1));
        s += `${inv(m.ctstatus.invert)} --ctstatus ${st === '' ? 'NONE' : st}`;
      }
      if (m.ctexpire) {
        const e = m.ctexpire;
        s += `${inv(e.invert)} --ctexpire ${e.min === e.max ? `${e.min}` : `${e.min}:${e.max}`}`;
      }
      if (m.ctdir) s += ` --ctdir ${m.ctdir}`;
      return s;
    }
    case 'state':
      return ` -m state${inv(m.invert)} --state ${printBits(m.states, CTSTATE_PRINT)}`;
    case 'addrtype': {
      let s = ' -m addrtype';
      const types = (t: number): string => ADDRTYPE_NAMES.filter((_, i) => (t & (1 << i)) !== 0).join(',');
      if (m.srcType && m.srcType.types !== 0) s += `${inv(m.srcType.invert)} --src-type ${types(m.srcType.types)}`;
      if (m.dstType && m.dstType.types !== 0) s += `${inv(m.dstType.invert)} --dst-type ${types(m.dstType.types)}`;
      if (m.limitIfaceIn) s += ' --limit-iface-in';
      if (m.limitIfaceOut) s += ' --limit-iface-out';
      return s;
    }
    case 'recent': {
      // recent_save (libxt_recent.c, revision 1); the name is printed unquoted
      let s = ` -m recent${inv(m.invert)} --${m.command}`;
      if (m.seconds !== 0) s += ` --seconds ${signed32(m.seconds)}`;
      if (m.reap) s += ' --reap';
      if (m.hitcount !== 0) s += ` --hitcount ${signed32(m.hitcount)}`;
      if (m.rttl) s += ' --rttl';
      s += ` --name ${m.name} --mask ${dotted(m.mask)} --${m.side === 'source' ? 'rsource' : 'rdest'}`;
      return s;
    }
    case 'set':
      return ` -m set${inv(m.invert)} --match-set ${m.setName} ${m.dirs.join(',')}${m.returnNomatch ? ' --return-nomatch' : ''}`;
    case 'nfacct':
      // libxt_nfacct.c prints "--nfacct-name " and xtables_save_string adds its own space
      return ` -m nfacct --nfacct-name ${saveString(m.name)}`;
    case 'limit': {
      const r = limitRateOf(periodOf(m.count, m.unit));
      const unit = (LIMIT_RATES.find(([u]) => u === r.unit) as readonly [string, string, number])[1];
      return ` -m limit --limit ${r.count}/${unit}${m.burst !== 5 ? ` --limit-burst ${m.burst}` : ''}`;
    }
  }
}

function printNatRange(r: NatRange): string {
  let s = '';
  if (!(r.hasPorts && r.minAddr === 0 && r.maxAddr === 0)) {
    s += dotted(r.minAddr);
    if (r.maxAddr !== r.minAddr) s += `-${dotted(r.maxAddr)}`;
  }
  if (r.hasPorts) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
  }
  return s;
}

function printPorts(p: PortRange | null): string {
  if (p === null) return '';
  return ` --to-ports ${p.min}${p.max !== p.min ? `-${p.max}` : ''}`;
}

/** `iptables-save` text of a target, starting with ` -j NAME` (or ` -g` for goto). */
export function printTarget(t: TargetSpec): string {
  switch (t.kind) {
    case 'standard':
      return ` -j ${t.verdict}`;
    case 'jump':
      return ` -j ${t.chain}`;
    case 'goto':
      return ` -g ${t.chain}`;
    case 'REJECT':
      return ` -j REJECT --reject-with ${t.rejectWith}`;
    case 'DNAT':
      return ` -j DNAT${t.range ? ` --to-destination ${printNatRange(t.range)}` : ''}${t.random ? ' --random' : ''}${t.persistent ? ' --persistent' : ''}`;
    case 'SNAT':
      return (
        ` -j SNAT${t.range ? ` --to-source ${printNatRange(t.range)}` : ''}` +
        `${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}${t.persistent ? ' --persistent' : ''}`
      );
    case 'MASQUERADE':
      return ` -j MASQUERADE${printPorts(t.ports)}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}`;
    case 'REDIRECT':
      return ` -j REDIRECT${printPorts(t.ports)}${t.random ? ' --random' : ''}`;
    case 'MARK':
      return ` -j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`;
    case 'CONNMARK':
      if (t.mode === 'set') return ` -j CONNMARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`;
      return ` -j CONNMARK --${t.mode}-mark --nfmask ${hex(t.nfmask)} --ctmask ${hex(t.ctmask)}`;
    case 'LOG': {
      let s = ' -j LOG';
      if (t.prefix !== null && t.prefix !== '') s += ` --log-prefix${saveString(t.prefix)}`;
      if (t.level !== 4) s += ` --log-level ${t.level}`;
      for (const [name, bit] of LOG_FLAG_OPTS) if ((t.flags & bit) !== 0) s += ` --${name}`;
      return s;
    }
    case 'NOTRACK':
      return ' -j NOTRACK';
    case 'CT':
      return ` -j CT${t.notrack ? ' --notrack' : ''}${t.zone !== null && t.zone !== 0 ? ` --zone ${t.zone}` : ''}`;
  }
}
