/**
 * The fast path of `parseRestore`: recognises, straight from the
 * character codes of the input text, the line shapes that dominate real
 * restore inputs (kube-proxy's `:KUBE-SEP-… - [0:0]` declarations and its
 * `-A` rules with `-s`/`-d`/`-p`/`-i`/`-o`, `-m comment|tcp|udp|statistic`,
 * `-j CHAIN|ACCEPT|DROP|RETURN|QUEUE|DNAT|REJECT`, `-g CHAIN`) and builds
 * their AST without tokens, regular expressions or option tables.
 *
 * It accepts a strict subset of what the general parser
 * (`tokenizeIptablesArgs` + `parseArgs`) accepts and returns exactly the
 * value the general parser would. On anything else — an unusual token
 * shape, another option or module, a number with a leading zero, any
 * condition the general path would report as an error — it returns null
 * and the caller parses the line the general way, so error messages and
 * positions never come from here.
 *
 * Strings stored in the AST (chain names, comments, interface names) are
 * interned per parse and detached from the input text, so the AST neither
 * repeats them nor keeps the whole input alive. Read-only AST parts that
 * repeat (jump targets, `-p` values, network `-s`/`-d` values, bare
 * `tcp`/`udp` matches, `statistic` match lists, empty match lists) are
 * shared between rules; the general path builds equal, separate objects.
 *
 * @module
 */

import type {
  AddrMatch,
  ChainDeclaration,
  Counters,
  IfaceMatch,
  MatchSpec,
  NatRange,
  PortRangeMatch,
  RuleSpec,
  TableCommand,
  TableName,
  TargetSpec,
} from '../../netfilter/ast.js';
import { MAX_CHAIN_NAME } from '../../netfilter/ast.js';
import { TARGETS, UNSUPPORTED_TARGETS } from './extensions.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const C_TAB = 9;
const C_SPACE = 32;
const C_BANG = 33;
const C_QUOTE = 34;
const C_DASH = 45;
const C_DOT = 46;
const C_SLASH = 47;
const C_0 = 48;
const C_9 = 57;
const C_COLON = 58;
const C_TILDE = 126;

/** iptables' `struct xt_param_buf`: an argument of more than 1023 bytes is an error (general path). */
const MAX_PARAM_LEN = 1023;

/** Names the general parser treats specially as a `-j`/`-g`/`-A` argument; the fast path leaves them alone. */
const SPECIAL_NAMES: ReadonlySet<string> = new Set([
  'ACCEPT',
  'DROP',
  'QUEUE',
  'RETURN',
  'CONTINUE',
  'PREROUTING',
  'INPUT',
  'FORWARD',
  'OUTPUT',
  'POSTROUTING',
]);

/** Flag bits kept per interned string. */
const F_KNOWN = 1;
/** A name that may be a `-j`/`-g` target chain: not a verdict, target extension or built-in chain name. */
const F_PLAIN_CHAIN = 2;
/** One of {@link SPECIAL_NAMES}. */
const F_SPECIAL = 4;

// Interner.lookup roles
const ROLE_CHAIN = 0;
const ROLE_TARGET = 1;
const ROLE_OTHER = 2;

/**
 * Copies `text[start, end)` into a flat string of its own. A V8 substring
 * of 13 or more characters is a view that keeps its parent (here the whole
 * restore text) alive; slicing a fresh concatenation flattens it into a new
 * string first, so the result only keeps its own characters.
 */
function detach(text: string, start: number, end: number): string {
  const s = text.slice(start, end);
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** {@link hashChars} of a string with a character the interner refuses. */
const INVALID = 0x7fffffff + 1;

/**
 * FNV-1a hash of `text[start, end)` (int32), or {@link INVALID} when a
 * character is outside printable ASCII or is `"`: every interned string is
 * then one the general tokenizer gives unchanged, whose UTF-8 length is its
 * length, and which has no whitespace but spaces.
 */
function hashChars(text: string, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < C_SPACE || c > C_TILDE || c === C_QUOTE) return INVALID;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h;
}

/**
 * Interns substrings of the input by content (FNV-1a, open addressing; a
 * hit compares natively with `startsWith` and allocates nothing) and stores
 * detached copies. Each string also carries lazily computed flags and a
 * shared `{ kind: 'jump' }` target.
 */
class Interner {
  /** Open addressing over ids + 1 (0 = empty), at most half full. */
  private slots = new Int32Array(4096);
  private readonly strings: string[] = [];
  private hashes = new Int32Array(1024);
  private flags = new Uint8Array(1024);
  private readonly jumps: (TargetSpec | undefined)[] = [];

  /** Recently found ids by a hash of the length and last characters (-1: none). */
  private readonly recent = new Int32Array(1024).fill(-1);
  /** Last id found per role (-A chain, jump target, other): the input tends to name them in declaration order. */
  private readonly cursor = new Int32Array(3).fill(-1);

  /**
   * {@link Interner.id}, first trying (with native comparisons) a small
   * cache of recent names and, for `role`, the last name found and the one
   * interned after it: restore texts mostly name chains in the order they
   * declared them (kube-proxy: `:SVC`, `:SEP…` declarations, then the SVC's
   * jumps to its SEPs in that order, then the SEP rules).
   */
  lookup(text: string, start: number, end: number, role: number): number {
    const len = end - start;
    const h = (len * 961 + text.charCodeAt(end - 1) * 31 + text.charCodeAt(end - 2) * 7 + text.charCodeAt(end - 3)) & 1023;
    const strings = this.strings;
    const r = this.recent[h] as number;
    if (r >= 0) {
      const s = strings[r] as string;
      if (s.length === len && text.startsWith(s, start)) {
        // an -A chain found here is where its rules start; a frequent jump target (KUBE-MARK-MASQ) says nothing
        if (role === ROLE_CHAIN) this.cursor[role] = r;
        return r;
      }
    }
    const c = this.cursor[role] as number;
    if (c >= 0) {
      const s = strings[c] as string;
      if (s.length === len && text.startsWith(s, start)) {
        this.recent[h] = c;
        return c;
      }
      const n = strings[c + 1];
      if (n !== undefined && n.length === len && text.startsWith(n, start)) {
        this.cursor[role] = c + 1;
        this.recent[h] = c + 1;
        return c + 1;
      }
    }
    const id = this.id(text, start, end);
    if (id >= 0) {
      this.cursor[role] = id;
      this.recent[h] = id;
    }
    return id;
  }

  /** Id of the string `text[start, end)`, or -1 when it has a character outside printable ASCII or a `"`. */
  id(text: string, start: number, end: number): number {
    const h = hashChars(text, start, end);
    if (h === INVALID) return -1;
    const len = end - start;
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = this.slots[slot] as number;
      if (v === 0) break;
      const id = v - 1;
      if (this.hashes[id] === h) {
        const s = this.strings[id] as string;
        if (s.length === len && text.startsWith(s, start)) return id;
      }
    }
    return this.insert(text, start, end, h);
  }

  /**
   * Interns `text[start, end)` as a new id without looking it up first (a
   * chain declaration usually names a new chain; a repeated one gets a
   * second id for an equal string, which is harmless). -1 as for {@link Interner.id}.
   */
  add(text: string, start: number, end: number): number {
    const h = hashChars(text, start, end);
    return h === INVALID ? -1 : this.insert(text, start, end, h);
  }

  private insert(text: string, start: number, end: number, h: number): number {
    const id = this.strings.length;
    this.strings.push(detach(text, start, end));
    this.jumps.push(undefined);
    if (id >= this.flags.length) {
      const f = new Uint8Array(this.flags.length * 2);
      f.set(this.flags);
      this.flags = f;
      const hs = new Int32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
    }
    this.hashes[id] = h;
    if ((id + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(this.slots, id);
    return id;
  }

  private place(slots: Int32Array, id: number): void {
    const mask = slots.length - 1;
    let slot = (this.hashes[id] as number) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = id + 1;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    for (let id = 0; id < this.strings.length; id++) this.place(slots, id);
    this.slots = slots;
  }

  str(id: number): string {
    return this.strings[id] as string;
  }

  private flagsOf(id: number): number {
    let f = this.flags[id] as number;
    if (f === 0) {
      const s = this.strings[id] as string;
      f = F_KNOWN;
      if (SPECIAL_NAMES.has(s)) f |= F_SPECIAL;
      else if (!TARGETS.has(s) && !UNSUPPORTED_TARGETS.has(s)) f |= F_PLAIN_CHAIN;
      this.flags[id] = f;
    }
    return f;
  }

  /** Whether the name can be a jump/goto target chain the fast path handles. */
  plainChain(id: number): boolean {
    return (this.flagsOf(id) & F_PLAIN_CHAIN) !== 0;
  }

  /** Whether the name is a verdict, `CONTINUE` or a built-in chain name. */
  special(id: number): boolean {
    return (this.flagsOf(id) & F_SPECIAL) !== 0;
  }

  /** One shared `{ kind: 'jump', chain }` per chain name (AST values are read-only). */
  jump(id: number): TargetSpec {
    let t = this.jumps[id];
    if (t === undefined) {
      t = { kind: 'jump', chain: this.strings[id] as string };
      this.jumps[id] = t;
    }
    return t;
  }
}

// match modules the fast path handles
const M_COMMENT = 1;
const M_TCP = 2;
const M_UDP = 3;
const M_STATISTIC = 4;

// targets
const T_NONE = 0;
const T_STANDARD = 1;
const T_JUMP = 2;
const T_GOTO = 3;
const T_DNAT = 4;
const T_REJECT = 5;

const STANDARD_TARGETS: ReadonlyMap<string, TargetSpec> = new Map<string, TargetSpec>(
  (['ACCEPT', 'DROP', 'QUEUE', 'RETURN'] as const).map((v): [string, TargetSpec] => [v, { kind: 'standard', verdict: v }]),
);

// Shared read-only AST values (the general path builds equal, separate ones).
const PROTO_TCP = { proto: 6, invert: false } as const;
const PROTO_UDP = { proto: 17, invert: false } as const;
const PROTO_SCTP = { proto: 132, invert: false } as const;
const PROTO_ICMP = { proto: 1, invert: false } as const;
const TCP_BARE: MatchSpec = { module: 'tcp' };
const UDP_BARE: MatchSpec = { module: 'udp' };
const NO_MATCHES: readonly MatchSpec[] = [];
const ONLY_TCP: readonly MatchSpec[] = [TCP_BARE];
const ONLY_UDP: readonly MatchSpec[] = [UDP_BARE];

/** Shared non-inverted `-p` values. */
function protoObject(p: number): { readonly proto: number; readonly invert: boolean } {
  return p === 6 ? PROTO_TCP : p === 17 ? PROTO_UDP : p === 132 ? PROTO_SCTP : PROTO_ICMP;
}

/**
 * The fast line parser of one `parseRestore` call. Its fields are the
 * state of the line being parsed (reset per line, so parsing allocates
 * little beyond the AST).
 */
export class FastLineParser {
  private readonly names = new Interner();
  /** `statistic` random matches by probability * 2 + invert, each with its one-element match list. */
  private readonly stats = new Map<number, readonly MatchSpec[]>();
  /** Network (not host) `-s`/`-d` values by address * 128 + prefix * 2 + invert. */
  private readonly nets = new Map<number, AddrMatch>();

  // the line
  private s = '';
  private p = 0;
  private end = 0;
  // current token: [ts, te), quoted or not
  private ts = 0;
  private te = 0;
  private tq = false;
  // number parse result end
  private ne = 0;
  // next ' ', '"' and '\\' at or after the last search (amortised O(n) scans of one string, read forward)
  private scanStr = '';
  private scanFrom = 0;
  private spPos = -1;
  private qPos = -1;
  private bsPos = -1;

  // rule state
  private inv = false;
  private srcSet = false;
  private src: AddrMatch | null = null;
  private dstSet = false;
  private dst: AddrMatch | null = null;
  private inIface: IfaceMatch | null = null;
  private inSet = false;
  private outIface: IfaceMatch | null = null;
  private outSet = false;
  private proto = 0;
  private protoInv = false;
  private protoSet = false;
  private readonly order = new Uint8Array(4);
  private nMods = 0;
  private loaded = 0;
  private comment: string | null = null;
  private portsMod = 0;
  private sportSeen = false;
  private sport: PortRangeMatch | null = null;
  private dportSeen = false;
  private dport: PortRangeMatch | null = null;
  private statMode = false;
  private statProb = -1;
  private statInv = false;
  private jSet = false;
  private tKind = T_NONE;
  private target: TargetSpec | null = null;
  private natRange: NatRange | null = null;
  // address / range scratch
  private va = 0;
  private vm = 0;
  private vb = 0;

  /**
   * `:NAME - …` (a user chain declaration) as `parseChainDeclaration` reads
   * it, or null when the line needs the general path.
   */
  chainDeclaration(s: string, start: number, end: number, line: number): ChainDeclaration | null {
    this.scan(s, start);
    // words() splits on spaces and tabs; the name is the first word after ':'
    let ns = start + 1;
    while (ns < end && isSep(s.charCodeAt(ns))) ns++;
    let ne = this.nextSpace(s, ns);
    if (ne > end) ne = end;
    if (ne === ns || ne - ns > MAX_CHAIN_NAME) return null;
    const c0 = s.charCodeAt(ns);
    if (c0 === C_DASH || c0 === C_BANG) return null;
    // the policy word must be exactly "-" (then the rest of the line is not read)
    let i = ne;
    while (i < end && s.charCodeAt(i) === C_SPACE) i++;
    if (i >= end || s.charCodeAt(i) !== C_DASH || (i + 1 < end && !isSep(s.charCodeAt(i + 1)))) return null;
    const id = this.names.add(s, ns, ne);
    // a tab or control character in the name (interned strings have none) goes the general way
    if (id < 0 || this.names.special(id)) return null;
    return { name: this.names.str(id), policy: null, counters: null, line };
  }

  /**
   * An `-A CHAIN …` rule line (from `start`, after any `[p:b]` prefix), or
   * null when the line needs the general path.
   */
  appendRule(s: string, start: number, end: number, table: TableName, line: number, counters: Counters | null): TableCommand | null {
    this.scan(s, start);
    this.s = s;
    this.p = start;
    this.end = end;
    if (this.tok() !== 1 || this.tq || this.te - this.ts !== 2 || s.charCodeAt(this.ts) !== C_DASH || s.charCodeAt(this.ts + 1) !== 65) return null;
    // (a method call: tok() changes tq, which TypeScript would otherwise take as narrowed)
    if (this.tok() !== 1 || this.quoted()) return null;
    const cs = this.ts;
    const ce = this.te;
    if (ce - cs > MAX_CHAIN_NAME) return null;
    const c0 = s.charCodeAt(cs);
    if (c0 === C_DASH || c0 === C_BANG) return null;
    const chainId = this.names.lookup(s, cs, ce, ROLE_CHAIN);
    if (chainId < 0) return null;
    this.reset();
    for (;;) {
      const r = this.tok();
      if (r === 0) break;
      if (r < 0 || this.quoted()) return null;
      const ts = this.ts;
      const len = this.te - ts;
      const c = s.charCodeAt(ts);
      if (c === C_BANG && len === 1) {
        if (this.inv) return null;
        this.inv = true;
        continue;
      }
      if (c !== C_DASH || len < 2) return null;
      const c1 = s.charCodeAt(ts + 1);
      if (len === 2) {
        if (!this.shortOption(c1, table)) return null;
      } else if (c1 === C_DASH) {
        if (!this.longOption()) return null;
      } else return null;
    }
    return this.finish(chainId, line, counters);
  }

  private reset(): void {
    this.inv = false;
    this.srcSet = false;
    this.src = null;
    this.dstSet = false;
    this.dst = null;
    this.inIface = null;
    this.inSet = false;
    this.outIface = null;
    this.outSet = false;
    this.proto = 0;
    this.protoInv = false;
    this.protoSet = false;
    this.nMods = 0;
    this.loaded = 0;
    this.comment = null;
    this.portsMod = 0;
    this.sportSeen = false;
    this.sport = null;
    this.dportSeen = false;
    this.dport = null;
    this.statMode = false;
    this.statProb = -1;
    this.statInv = false;
    this.jSet = false;
    this.tKind = T_NONE;
    this.target = null;
    this.natRange = null;
  }

  /**
   * Next argument: 1 = a token in [ts, te), 0 = end of line, -1 = a shape
   * left to the general tokenizer (an escape, a quote not closing the
   * argument, an over-long argument).
   *
   * Only spaces separate arguments here. A tab, another control character
   * or a non-ASCII character stays inside the token; every token is then
   * either compared with a literal, read as a number whose parser stops at
   * such a character, or interned (which refuses it), so such a line always
   * ends up on the general path.
   */
  private tok(): number {
    const s = this.s;
    const end = this.end;
    let i = this.p;
    while (i < end && s.charCodeAt(i) === C_SPACE) i++;
    if (i >= end) {
      this.p = i;
      return 0;
    }
    if (s.charCodeAt(i) === C_QUOTE) {
      const from = i + 1;
      const close = this.nextQuote(s, from);
      if (close >= end) return -1;
      if (this.nextBackslash(s, from) < close) return -1;
      // the closing quote must end the argument
      if (close + 1 < end && s.charCodeAt(close + 1) !== C_SPACE) return -1;
      if (close - from > MAX_PARAM_LEN) return -1;
      this.ts = from;
      this.te = close;
      this.tq = true;
      this.p = close + 1;
      return 1;
    }
    let j = this.nextSpace(s, i);
    if (j > end) j = end;
    if (j - i > MAX_PARAM_LEN) return -1;
    // a quote inside a word starts a quoted part of the same argument
    if (this.nextQuote(s, i) < j) return -1;
    this.ts = i;
    this.te = j;
    this.tq = false;
    this.p = j;
    return 1;
  }

  /** Starts reading `s` at `start`: the search caches stay valid only while reading one string forward. */
  private scan(s: string, start: number): void {
    if (start < this.scanFrom || s !== this.scanStr) {
      this.scanStr = s;
      this.spPos = -1;
      this.qPos = -1;
      this.bsPos = -1;
    }
    this.scanFrom = start;
  }

  /** Index of the next space in `s` at or after `i` (`s.length` if none). */
  private nextSpace(s: string, i: number): number {
    if (this.spPos < i) {
      const k = s.indexOf(' ', i);
      this.spPos = k < 0 ? s.length : k;
    }
    return this.spPos;
  }

  /** Index of the next `"` in `s` at or after `i` (`s.length` if none). */
  private nextQuote(s: string, i: number): number {
    if (this.qPos < i) {
      const k = s.indexOf('"', i);
      this.qPos = k < 0 ? s.length : k;
    }
    return this.qPos;
  }

  /** Index of the next backslash in `s` at or after `i` (`s.length` if none). */
  private nextBackslash(s: string, i: number): number {
    if (this.bsPos < i) {
      const k = s.indexOf('\\', i);
      this.bsPos = k < 0 ? s.length : k;
    }
    return this.bsPos;
  }

  /** Whether the current token was quoted. */
  private quoted(): boolean {
    return this.tq;
  }

  /** Whether the current token is exactly `lit`. */
  private is(lit: string): boolean {
    return this.te - this.ts === lit.length && this.s.startsWith(lit, this.ts);
  }

  /** Takes the required argument of an option. */
  private arg(): boolean {
    return this.tok() === 1;
  }

  private shortOption(c1: number, table: TableName): boolean {
    switch (c1) {
      case 115: // -s
      case 100: {
        // -d
        if (c1 === 115 ? this.srcSet : this.dstSet) return false;
        if (!this.arg() || !this.address(this.ts, this.te)) return false;
        const invert = this.inv;
        this.inv = false;
        const a = this.vm !== 0 || invert ? this.addrMatch(invert) : null;
        if (c1 === 115) {
          this.srcSet = true;
          this.src = a;
        } else {
          this.dstSet = true;
          this.dst = a;
        }
        return true;
      }
      case 112: {
        // -p
        if (this.protoSet || !this.arg()) return false;
        let n: number;
        if (this.is('tcp')) n = 6;
        else if (this.is('udp')) n = 17;
        else if (this.is('sctp')) n = 132;
        else if (this.is('icmp')) n = 1;
        else return false;
        this.protoSet = true;
        this.proto = n;
        this.protoInv = this.inv;
        this.inv = false;
        return true;
      }
      case 105: // -i
      case 111: {
        // -o
        if ((c1 === 105 ? this.inSet : this.outSet) || !this.arg() || this.tq) return false;
        const len = this.te - this.ts;
        // IFNAMSIZ: the general path refuses 16 bytes and more
        if (len >= 16) return false;
        const id = this.names.lookup(this.s, this.ts, this.te, ROLE_OTHER);
        if (id < 0) return false;
        const invert = this.inv;
        this.inv = false;
        const name = this.names.str(id);
        const m = name === '+' && !invert ? null : { name, invert };
        if (c1 === 105) {
          this.inSet = true;
          this.inIface = m;
        } else {
          this.outSet = true;
          this.outIface = m;
        }
        return true;
      }
      case 109: {
        // -m
        if (this.inv || !this.arg() || this.tq || this.nMods >= 4) return false;
        let m: number;
        if (this.is('comment')) m = M_COMMENT;
        else if (this.is('tcp')) m = M_TCP;
        else if (this.is('udp')) m = M_UDP;
        else if (this.is('statistic')) m = M_STATISTIC;
        else return false;
        const bit = 1 << m;
        if ((this.loaded & bit) !== 0) return false;
        if (m === M_TCP || m === M_UDP) {
          // one port module per rule: no option-precedence questions
          if (this.portsMod !== 0) return false;
          this.portsMod = m;
        }
        this.loaded |= bit;
        this.order[this.nMods++] = m;
        return true;
      }
      case 106: // -j
      case 103: // -g
        return this.jump(c1 === 103, table);
      default:
        return false;
    }
  }

  /** `-s`/`-d` value from `va`/`vm`/`vb`; networks are shared. */
  private addrMatch(invert: boolean): AddrMatch {
    const addr = (this.va & this.vm) >>> 0;
    if (this.vb === 32) return { addr, mask: this.vm, invert };
    const key = addr * 128 + this.vb * 2 + (invert ? 1 : 0);
    let a = this.nets.get(key);
    if (a === undefined) {
      a = { addr, mask: this.vm, invert };
      this.nets.set(key, a);
    }
    return a;
  }

  private jump(isGoto: boolean, table: TableName): boolean {
    if (this.jSet || this.inv || !this.arg() || this.tq) return false;
    const s = this.s;
    const ts = this.ts;
    const len = this.te - ts;
    if (len === 0 || len > MAX_CHAIN_NAME) return false;
    this.jSet = true;
    const id = this.names.lookup(s, ts, this.te, ROLE_TARGET);
    if (id < 0) return false;
    if (this.names.plainChain(id)) {
      if (isGoto) {
        this.tKind = T_GOTO;
        this.target = { kind: 'goto', chain: this.names.str(id) };
      } else {
        this.tKind = T_JUMP;
        this.target = this.names.jump(id);
      }
      return true;
    }
    if (isGoto) return false;
    const name = this.names.str(id);
    const std = STANDARD_TARGETS.get(name);
    if (std !== undefined) {
      if (table === 'nat' && name === 'DROP') return false;
      this.tKind = T_STANDARD;
      this.target = std;
      return true;
    }
    if (name === 'DNAT' && table === 'nat') {
      this.tKind = T_DNAT;
      return true;
    }
    if (name === 'REJECT' && table === 'filter') {
      this.tKind = T_REJECT;
      this.target = { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' };
      return true;
    }
    return false;
  }

  private longOption(): boolean {
    const s = this.s;
    const ns = this.ts + 2;
    const len = this.te - ns;
    const invert = this.inv;
    this.inv = false;
    if (len === 5 && (s.startsWith('dport', ns) || s.startsWith('sport', ns))) {
      if (this.portsMod === 0) return false;
      const isD = s.charCodeAt(ns) === 100;
      if (isD ? this.dportSeen : this.sportSeen) return false;
      if (!this.arg() || !this.portRange(this.ts, this.te)) return false;
      // tcp_save/udp_save print nothing for a non-inverted 0:65535: the parser drops it
      const r = !invert && this.va === 0 && this.vm === 65535 ? null : { min: this.va, max: this.vm, invert };
      if (isD) {
        this.dportSeen = true;
        this.dport = r;
      } else {
        this.sportSeen = true;
        this.sport = r;
      }
      return true;
    }
    if (len === 7 && s.startsWith('comment', ns)) {
      if ((this.loaded & (1 << M_COMMENT)) === 0 || invert || this.comment !== null || !this.arg()) return false;
      // XT_MAX_COMMENT_LEN: longer comments are cut by the general path
      if (this.te - this.ts > 255) return false;
      const id = this.names.lookup(s, this.ts, this.te, ROLE_OTHER);
      if (id < 0) return false;
      this.comment = this.names.str(id);
      return true;
    }
    if (len === 4 && s.startsWith('mode', ns)) {
      if ((this.loaded & (1 << M_STATISTIC)) === 0 || invert || this.statMode || !this.arg() || !this.is('random')) return false;
      this.statMode = true;
      return true;
    }
    if (len === 11 && s.startsWith('probability', ns)) {
      if ((this.loaded & (1 << M_STATISTIC)) === 0 || this.statProb >= 0 || !this.arg()) return false;
      const p = this.probability(this.ts, this.te);
      if (!(p >= 0 && p <= 1)) return false;
      // libxt_statistic.c: lround(0x80000000 * p), as the general path computes it
      this.statProb = Math.round(0x80000000 * p);
      this.statInv = invert;
      return true;
    }
    if (len === 14 && s.startsWith('to-destination', ns)) {
      if (this.tKind !== T_DNAT || invert || this.natRange !== null || !this.arg()) return false;
      return this.dnatRange(this.ts, this.te);
    }
    return false;
  }

  /** Decimal number without a leading zero, at most `max`; -1 if none. Sets `ne`. */
  private dec(i: number, end: number, max: number): number {
    const s = this.s;
    const from = i;
    let v = 0;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < C_0 || c > C_9) break;
      v = v * 10 + (c - C_0);
      if (v > max) return -1;
      i++;
    }
    if (i === from || (i - from > 1 && s.charCodeAt(from) === C_0)) return -1;
    this.ne = i;
    return v;
  }

  /** Dotted quad of four plain decimal octets; -1 if not. Sets `ne`. */
  private quad(i: number, end: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (k > 0) {
        if (i >= end || this.s.charCodeAt(i) !== C_DOT) return -1;
        i++;
      }
      const o = this.dec(i, end, 255);
      if (o < 0) return -1;
      v = v * 256 + o;
      i = this.ne;
    }
    this.ne = i;
    return v;
  }

  /** `-s`/`-d`: `a.b.c.d[/len]` into `va` (unmasked), `vm` and `vb` (prefix length). */
  private address(i: number, end: number): boolean {
    const a = this.quad(i, end);
    if (a < 0) return false;
    i = this.ne;
    let bits = 32;
    if (i < end) {
      if (this.s.charCodeAt(i) !== C_SLASH) return false;
      bits = this.dec(i + 1, end, 32);
      if (bits < 0 || this.ne !== end) return false;
    }
    this.va = a;
    this.vm = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    this.vb = bits;
    return true;
  }

  /** `port` or `min:max` (min <= max) into `va`/`vm`. */
  private portRange(i: number, end: number): boolean {
    const lo = this.dec(i, end, 65535);
    if (lo < 0) return false;
    i = this.ne;
    let hi = lo;
    if (i < end) {
      if (this.s.charCodeAt(i) !== C_COLON) return false;
      hi = this.dec(i + 1, end, 65535);
      if (hi < 0 || this.ne !== end || hi < lo) return false;
    }
    this.va = lo;
    this.vm = hi;
    return true;
  }

  /** `digits[.digits]` or `.digits` as `strtod` reads it (what `strtodExact` gives); NaN if not that shape. */
  private probability(i: number, end: number): number {
    const s = this.s;
    let digits = 0;
    let dots = 0;
    for (let k = i; k < end; k++) {
      const c = s.charCodeAt(k);
      if (c >= C_0 && c <= C_9) digits++;
      else if (c === C_DOT && dots === 0) dots++;
      else return NaN;
    }
    if (digits === 0) return NaN;
    return Number(s.slice(i, end));
  }

  /** DNAT `--to-destination a.b.c.d[:port]`. */
  private dnatRange(i: number, end: number): boolean {
    const a = this.quad(i, end);
    if (a < 0) return false;
    i = this.ne;
    if (i === end) {
      this.natRange = { minAddr: a, maxAddr: a, hasPorts: false, minPort: 0, maxPort: 0 };
      return true;
    }
    if (this.s.charCodeAt(i) !== C_COLON) return false;
    // ports need -p tcp, udp, sctp, dccp or icmp before the option (inverted or not)
    const p = this.proto;
    if (p !== 6 && p !== 17 && p !== 132 && p !== 1) return false;
    const port = this.dec(i + 1, end, 65535);
    if (port < 0 || this.ne !== end || a === 0) return false;
    this.natRange = { minAddr: a, maxAddr: a, hasPorts: true, minPort: port, maxPort: port };
    return true;
  }

  private finish(chainId: number, line: number, counters: Counters | null): TableCommand | null {
    if (this.inv) return null;
    const chain = this.names.str(chainId);
    // -o/-i on chains of the wrong direction, jumps into built-in chains, targets outside their hooks
    const special = this.names.special(chainId);
    if ((this.inSet || this.outSet) && special) return null;
    let target = this.target;
    switch (this.tKind) {
      case T_DNAT:
        if (this.natRange === null) return null;
        if (special && chain !== 'PREROUTING' && chain !== 'OUTPUT') return null;
        target = { kind: 'DNAT', range: this.natRange, random: false, persistent: false };
        break;
      case T_REJECT:
        if (special && chain !== 'INPUT' && chain !== 'FORWARD' && chain !== 'OUTPUT') return null;
        break;
    }
    const n = this.nMods;
    let matches: readonly MatchSpec[];
    if (n === 0) matches = NO_MATCHES;
    else if (n === 1) {
      const m = this.order[0] as number;
      if (m === M_STATISTIC) {
        const l = this.statisticList();
        if (l === null) return null;
        matches = l;
      } else {
        const m0 = this.match(m);
        if (m0 === null) return null;
        matches = m0 === TCP_BARE ? ONLY_TCP : m0 === UDP_BARE ? ONLY_UDP : [m0];
      }
    } else {
      const list: MatchSpec[] = [];
      for (let k = 0; k < n; k++) {
        const mk = this.match(this.order[k] as number);
        if (mk === null) return null;
        list.push(mk);
      }
      matches = list;
    }
    const rule = this.rule(matches, target);
    return { op: 'append', chain, rule, counters, line };
  }

  /** The shared one-element match list of this rule's `statistic` match, or null when incomplete. */
  private statisticList(): readonly MatchSpec[] | null {
    if (!this.statMode || this.statProb < 0) return null;
    const key = this.statProb * 2 + (this.statInv ? 1 : 0);
    let l = this.stats.get(key);
    if (l === undefined) {
      l = [{ module: 'statistic', mode: 'random', probability: this.statProb, invert: this.statInv }];
      this.stats.set(key, l);
    }
    return l;
  }

  /** The AST value of a loaded match module, or null when incomplete or refused. */
  private match(m: number): MatchSpec | null {
    if (m === M_COMMENT) {
      if (this.comment === null) return null;
      return { module: 'comment', comment: this.comment };
    }
    if (m === M_STATISTIC) {
      const l = this.statisticList();
      return l === null ? null : (l[0] as MatchSpec);
    }
    // the kernel refuses tcp/udp matches without the same -p (not inverted)
    const want = m === M_TCP ? 6 : 17;
    if (this.proto !== want || this.protoInv) return null;
    const sp = this.sport;
    const dp = this.dport;
    if (m === M_TCP) {
      if (sp === null) return dp === null ? TCP_BARE : { module: 'tcp', dport: dp };
      return dp === null ? { module: 'tcp', sport: sp } : { module: 'tcp', sport: sp, dport: dp };
    }
    if (sp === null) return dp === null ? UDP_BARE : { module: 'udp', dport: dp };
    return dp === null ? { module: 'udp', sport: sp } : { module: 'udp', sport: sp, dport: dp };
  }

  /** The rule object, keys in the general parser's order (src, dst, inIface, outIface, proto, matches, target). */
  private rule(matches: readonly MatchSpec[], target: TargetSpec | null): RuleSpec {
    const src = this.src;
    const dst = this.dst;
    const proto = this.protoSet ? (this.protoInv ? { proto: this.proto, invert: true } : protoObject(this.proto)) : null;
    if (this.inIface === null && this.outIface === null) {
      // the shapes kube-proxy writes, as literals (one hidden class each)
      if (src === null) {
        if (dst === null) return proto === null ? { matches, target } : { proto, matches, target };
        return proto === null ? { dst, matches, target } : { dst, proto, matches, target };
      }
      if (dst === null) return proto === null ? { src, matches, target } : { src, proto, matches, target };
      return proto === null ? { src, dst, matches, target } : { src, dst, proto, matches, target };
    }
    const rule: Mutable<RuleSpec> = {} as Mutable<RuleSpec>;
    if (src !== null) rule.src = src;
    if (dst !== null) rule.dst = dst;
    if (this.inIface !== null) rule.inIface = this.inIface;
    if (this.outIface !== null) rule.outIface = this.outIface;
    if (proto !== null) rule.proto = proto;
    rule.matches = matches;
    rule.target = target;
    return rule;
  }
}

function isSep(c: number): boolean {
  return c === C_SPACE || c === C_TAB;
}
