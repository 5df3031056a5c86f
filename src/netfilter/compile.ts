import { Protocol } from '../net/protocol.js';
import type { IfaceMatch, MatchSpec, RuleSpec, SctpMatch, StandardVerdict, TableName, TargetSpec, TcpMatch, UdpMatch } from './ast.js';
import type { Host } from './host.js';
import { compileConntrack, compileState } from './matches/conntrack.js';
import { compileMultiport } from './matches/multiport.js';
import { compileSctp, compileTcp, compileUdp } from './matches/ports.js';
import { compileAddrtype, compileIcmp, compileMark } from './matches/simple.js';
import { compileStatistic } from './matches/statistic.js';
import type { MatchEnv, MatchFn } from './matches/types.js';
import type { ChainState, RuleState, TableState } from './ruleset.js';

/** Compiles the matches whose state lives outside the ruleset (`recent`, `set`, `limit`, `nfacct`). */
export interface StatefulMatchCompiler {
  /** Returns a match function for a stateful module, or null if this compiler does not handle it. */
  compile(m: MatchSpec): MatchFn | null;
  /** Called once every table has been compiled (release what the previous compile held). */
  commit?(): void;
}

/** Target codes of compiled rules (a switch on small ints in the hot loop). */
export const T = {
  NONE: 0,
  ACCEPT: 1,
  DROP: 2,
  RETURN: 3,
  QUEUE: 4,
  JUMP: 5,
  GOTO: 6,
  /** Any extension target; `target` holds the spec. */
  EXT: 7,
} as const;

/**
 * A rule ready to evaluate. Compiling creates no object per rule: the rule
 * lives in its chain's {@link RuleTable} (typed words, match functions) and
 * this view is made on first use ({@link CompiledChain.rules}, extension targets).
 */
export interface CompiledRule {
  /** 1-based position in its chain (for traces). */
  readonly num: number;
  readonly state: RuleState;
  readonly srcAddr: number;
  readonly srcMask: number;
  /** 0: no test, 1: match, 2: inverted. */
  readonly srcMode: number;
  readonly dstAddr: number;
  readonly dstMask: number;
  readonly dstMode: number;
  /** 0: any protocol. */
  readonly proto: number;
  readonly protoInvert: boolean;
  /**
   * Port tests folded in from the rule's one `-m tcp`/`-m udp`/`-m sctp`
   * match (without `--tcp-flags`/`--tcp-option`) when the rule's `-p` names
   * that protocol and its other matches have no side effects: 1, else 0.
   */
  readonly ports: number;
  readonly sportMin: number;
  readonly sportMax: number;
  readonly sportInvert: boolean;
  readonly dportMin: number;
  readonly dportMax: number;
  readonly dportInvert: boolean;
  /** Per-ifindex result of the `-i` test, or null for no test. */
  readonly inIf: Uint8Array | null;
  readonly outIf: Uint8Array | null;
  /** `-f` rules never match: lbsim packets are never fragments (non-first fragments are reassembled by conntrack). */
  readonly fragment: 0 | 1 | 2;
  /** The match modules still evaluated as functions, in rule order (comments and folded port tests are not here). */
  readonly matches: readonly MatchFn[];
  readonly targetCode: number;
  /** Jump/goto destination. */
  jumpTo: CompiledChain | null;
  readonly target: TargetSpec | null;
  /** The rule table this rule lives in. */
  readonly rt: RuleTable;
  /** The rule's index in {@link CompiledRule.rt}. */
  readonly g: number;
}

/** A chain ready to traverse. */
export interface CompiledChain {
  readonly name: string;
  readonly table: TableName;
  readonly builtin: boolean;
  readonly policy: StandardVerdict | null;
  readonly state: ChainState;
  /** Views of the chain's rules (made on first access). */
  readonly rules: CompiledRule[];
  /** Number of rules. */
  readonly count: number;
  /** {@link RuleTable.pre} of {@link CompiledChain.rt}. */
  readonly pre: Int32Array;
  /** Index in {@link CompiledChain.rt} of this chain's first rule (rule i is `base + i`). */
  readonly base: number;
  /** The rules of every chain compiled together with this one. */
  readonly rt: RuleTable;
  /** This chain's index in {@link RuleTable.chains}. */
  readonly index: number;
}

/**
 * The rules of the chains compiled together, by index `g` (chain.base + i):
 * packed words and per-rule references in flat arrays, so that compiling
 * allocates almost nothing per rule and scanning touches one block of memory.
 */
export interface RuleTable {
  /**
   * Pre-test words ({@link PRE_STRIDE} per rule). A rule whose pre-test
   * fails cannot match, so scanning a long chain (most of `KUBE-SERVICES`
   * for any packet) reads only this array.
   */
  readonly pre: Int32Array;
  /** Generic-test words ({@link FULL_STRIDE} per rule). */
  readonly full: Int32Array;
  /** The ruleset's rule (spec and counters). */
  readonly states: RuleState[];
  /** Match functions still to call ({@link CompiledRule.matches}). */
  readonly matches: (readonly MatchFn[])[];
  /** Target codes ({@link T}). */
  readonly codes: Uint8Array;
  /** Jump/goto destination as an index in {@link RuleTable.chains}, or -1. */
  readonly jumps: Int32Array;
  /** The chains, by {@link CompiledChain.index}. */
  readonly chains: CompiledChain[];
  /** Interface tables referred to by word 5 of {@link RuleTable.full} (id − 1). */
  readonly ifTables: Uint8Array[];
}

/**
 * Words per rule in {@link RuleTable.pre}, all int32:
 * - 0, 1: `-d` address and mask when the rule has a non-inverted `-d`, else 0, 0:
 *   the rule can only match when `(daddr & word1) === word0`;
 * - 2, 3: the rule can only match when `((proto << 16 | dport) - word2) >>> 0 <= word3 >>> 0`:
 *   with a non-inverted `-p`, word2 is `proto << 16` plus the low end of a
 *   folded non-inverted `--dport` range (else 0) and word3 the range's span
 *   (65535 without one); without a `-p` test they are 0 and 0xffffffff.
 *
 * These are necessary conditions only; a rule that passes them is then
 * tested in full (`ruleMatches` in traverse.ts).
 */
export const PRE_STRIDE: number = 4;

/**
 * Words per rule in {@link RuleTable.full}, all int32: 0 flags (see
 * `F_*`), 1 `-s` address, 2 `-s` mask, 3 `-d` address, 4 `-d` mask,
 * 5 protocol (bits 0–7) and `-i`/`-o` interface table ids (bits 8–19,
 * 20–31; 0 for none), 6 folded source port range `min | max << 16`,
 * 7 destination port range likewise.
 */
export const FULL_STRIDE: number = 8;

/** Flag bits of word 0 of {@link RuleTable.full}: source mode (0 none, 1 match, 2 inverted) in bits 0–1. */
export const F_SRC_SHIFT: number = 0;
/** Destination mode in bits 2–3. */
export const F_DST_SHIFT: number = 2;
/** `! -p`. */
export const F_PROTO_INV: number = 1 << 4;
/** `-f` mode (0 none, 1 `-f`, 2 `! -f`) in bits 5–6. */
export const F_FRAG_SHIFT: number = 5;
/** Folded port tests present. */
export const F_PORTS: number = 1 << 7;
/** `! --sport`. */
export const F_SPORT_INV: number = 1 << 8;
/** `! --dport`. */
export const F_DPORT_INV: number = 1 << 9;

class Rule implements CompiledRule {
  readonly num: number;
  readonly rt: RuleTable;
  readonly g: number;

  constructor(num: number, rt: RuleTable, g: number) {
    this.num = num;
    this.rt = rt;
    this.g = g;
  }

  get state(): RuleState {
    return this.rt.states[this.g]!;
  }
  get matches(): readonly MatchFn[] {
    return this.rt.matches[this.g]!;
  }
  get targetCode(): number {
    return this.rt.codes[this.g]!;
  }
  get target(): TargetSpec | null {
    return this.rt.states[this.g]!.spec.target;
  }
  get jumpTo(): CompiledChain | null {
    const j = this.rt.jumps[this.g]!;
    return j < 0 ? null : this.rt.chains[j]!;
  }
  set jumpTo(c: CompiledChain | null) {
    this.rt.jumps[this.g] = c === null ? -1 : this.rt.chains.indexOf(c);
  }
  #w(k: number): number {
    return this.rt.full[this.g * FULL_STRIDE + k]!;
  }
  get srcAddr(): number {
    return this.#w(1) >>> 0;
  }
  get srcMask(): number {
    return this.#w(2) >>> 0;
  }
  get srcMode(): number {
    return (this.#w(0) >>> F_SRC_SHIFT) & 3;
  }
  get dstAddr(): number {
    return this.#w(3) >>> 0;
  }
  get dstMask(): number {
    return this.#w(4) >>> 0;
  }
  get dstMode(): number {
    return (this.#w(0) >>> F_DST_SHIFT) & 3;
  }
  get proto(): number {
    return this.#w(5) & 0xff;
  }
  get protoInvert(): boolean {
    return (this.#w(0) & F_PROTO_INV) !== 0;
  }
  get inIf(): Uint8Array | null {
    const id = (this.#w(5) >>> 8) & 0xfff;
    return id === 0 ? null : this.rt.ifTables[id - 1]!;
  }
  get outIf(): Uint8Array | null {
    const id = this.#w(5) >>> 20;
    return id === 0 ? null : this.rt.ifTables[id - 1]!;
  }
  get ports(): number {
    return (this.#w(0) & F_PORTS) !== 0 ? 1 : 0;
  }
  get sportMin(): number {
    return this.#w(6) & 0xffff;
  }
  get sportMax(): number {
    return this.#w(6) >>> 16;
  }
  get sportInvert(): boolean {
    return (this.#w(0) & F_SPORT_INV) !== 0;
  }
  get dportMin(): number {
    return this.#w(7) & 0xffff;
  }
  get dportMax(): number {
    return this.#w(7) >>> 16;
  }
  get dportInvert(): boolean {
    return (this.#w(0) & F_DPORT_INV) !== 0;
  }
  get fragment(): 0 | 1 | 2 {
    return ((this.#w(0) >>> F_FRAG_SHIFT) & 3) as 0 | 1 | 2;
  }
}

class Chain implements CompiledChain {
  readonly name: string;
  readonly table: TableName;
  readonly builtin: boolean;
  readonly policy: StandardVerdict | null;
  readonly state: ChainState;
  readonly count: number;
  readonly pre: Int32Array;
  readonly base: number;
  readonly rt: RuleTable;
  readonly index: number;
  #rules: CompiledRule[] | null = null;

  constructor(state: ChainState, table: TableName, rt: RuleTable, base: number, index: number) {
    this.name = state.name;
    this.table = table;
    this.builtin = state.builtin;
    this.policy = state.policy;
    this.state = state;
    this.count = state.rules.length;
    this.pre = rt.pre;
    this.base = base;
    this.rt = rt;
    this.index = index;
  }

  get rules(): CompiledRule[] {
    if (this.#rules === null) {
      const rules: CompiledRule[] = [];
      for (let i = 0; i < this.count; i++) rules.push(new Rule(i + 1, this.rt, this.base + i));
      this.#rules = rules;
    }
    return this.#rules;
  }
}

/** A compiled table: chains by name. */
export type CompiledTable = Map<string, CompiledChain>;

const NO_MATCHES: readonly MatchFn[] = Object.freeze([]);

// Interface names compare like the kernel's ifname_compare_aligned: exact, or
// a prefix when the rule's name ends with '+'. Returns the table's id (index + 1).
function ifaceTable(m: IfaceMatch, ctx: CompileCtx): number {
  const key = m.invert ? `!${m.name}` : m.name;
  const known = ctx.ifaces.get(key);
  if (known !== undefined) return known;
  const host = ctx.host;
  const out = new Uint8Array(host.interfaces.length + 1);
  const wildcard = m.name.endsWith('+');
  const stem = wildcard ? m.name.slice(0, -1) : m.name;
  for (let i = 0; i < out.length; i++) {
    const name = host.ifname(i);
    const hit = name !== '' && (wildcard ? name.startsWith(stem) : name === stem);
    out[i] = hit !== m.invert ? 1 : 0;
  }
  ctx.rt.ifTables.push(out);
  const id = ctx.rt.ifTables.length;
  if (id > 0xfff) throw new Error('lbsim/netfilter.compile: more than 4095 distinct -i/-o interface names');
  ctx.ifaces.set(key, id);
  return id;
}

function compileMatch(m: MatchSpec, env: MatchEnv, stateful: StatefulMatchCompiler): MatchFn {
  switch (m.module) {
    case 'tcp':
      return compileTcp(m);
    case 'udp':
      return compileUdp(m);
    case 'sctp':
      return compileSctp(m);
    case 'icmp':
      return compileIcmp(m);
    case 'multiport':
      return compileMultiport(m);
    case 'comment':
      return () => true;
    case 'statistic':
      return compileStatistic(m, env);
    case 'mark':
      return compileMark(m);
    case 'conntrack':
      return compileConntrack(m);
    case 'state':
      return compileState(m);
    case 'addrtype':
      return compileAddrtype(m, env);
    case 'recent':
    case 'set':
    case 'limit':
    case 'nfacct': {
      const fn = stateful.compile(m);
      if (fn === null) throw new Error(`lbsim/netfilter.compile: no evaluator for -m ${m.module}`);
      return fn;
    }
  }
}

function targetCode(t: TargetSpec | null): number {
  if (t === null) return T.NONE;
  switch (t.kind) {
    case 'standard':
      return t.verdict === 'ACCEPT' ? T.ACCEPT : t.verdict === 'DROP' ? T.DROP : t.verdict === 'RETURN' ? T.RETURN : T.QUEUE;
    case 'jump':
      return T.JUMP;
    case 'goto':
      return T.GOTO;
    default:
      return T.EXT;
  }
}

/** Per-compile state (interface tables are shared by every rule naming the same interface). */
interface CompileCtx {
  readonly host: Host;
  readonly env: MatchEnv;
  readonly stateful: StatefulMatchCompiler;
  readonly ifaces: Map<string, number>;
  readonly rt: RuleTable;
}

/**
 * Compiles one table for a host. Compiled state (statistic nth counters,
 * limit buckets) lives in the closures: a recompile after a change starts
 * rules fresh, as the kernel does when a table is replaced.
 */
export function compileTable(
  t: TableState,
  host: Host,
  env: MatchEnv,
  stateful: StatefulMatchCompiler,
): CompiledTable {
  return compileChains(t.name, t.chains.values(), host, env, stateful);
}

/**
 * Compiles a set of chains of one table together (one shared pre-test
 * array); jumps resolve to chains of the same set (a jump to a chain not in
 * it compiles to a null destination, as {@link compileTable} does for a
 * missing chain). `compileTable` is this over all chains of a table.
 */
export function compileChains(
  table: TableName,
  chains: Iterable<ChainState>,
  host: Host,
  env: MatchEnv,
  stateful: StatefulMatchCompiler,
): CompiledTable {
  const list: ChainState[] = [];
  let total = 0;
  for (const c of chains) {
    list.push(c);
    total += c.rules.length;
  }
  const rt: RuleTable = {
    pre: new Int32Array(total * PRE_STRIDE),
    full: new Int32Array(total * FULL_STRIDE),
    states: [],
    matches: [],
    codes: new Uint8Array(total),
    jumps: new Int32Array(total).fill(-1),
    chains: [],
    ifTables: [],
  };
  const ctx: CompileCtx = { host, env, stateful, ifaces: new Map(), rt };
  const out: CompiledTable = new Map();
  const jumping: number[] = [];
  let g = 0;
  for (const c of list) {
    const chain = new Chain(c, table, rt, g, rt.chains.length);
    rt.chains.push(chain);
    out.set(c.name, chain);
    const src = c.rules;
    for (let i = 0; i < src.length; i++, g++) {
      const r = src[i]!;
      compileRule(r, ctx, g);
      const code = targetCode(r.spec.target);
      rt.codes[g] = code;
      if (code === T.JUMP || code === T.GOTO) jumping.push(g);
    }
  }
  for (const j of jumping) {
    const tg = rt.states[j]!.spec.target;
    if (tg?.kind === 'jump' || tg?.kind === 'goto') rt.jumps[j] = out.get(tg.chain)?.index ?? -1;
  }
  return out;
}

// Match modules without side effects: evaluating them earlier or not at all
// cannot be seen. statistic, recent, limit, nfacct and set (probes counted in
// the work counts) change state when evaluated.
function pure(m: MatchSpec): boolean {
  switch (m.module) {
    case 'statistic':
    case 'recent':
    case 'limit':
    case 'nfacct':
    case 'set':
      return false;
    default:
      return true;
  }
}

function portModuleProto(m: MatchSpec): number {
  switch (m.module) {
    case 'tcp':
      return m.tcpFlags === undefined && m.tcpOption === undefined ? Protocol.TCP : 0;
    case 'udp':
      return Protocol.UDP;
    case 'sctp':
      return Protocol.SCTP;
    default:
      return 0;
  }
}

function compileRule(r: RuleState, ctx: CompileCtx, g: number): void {
  const rt = ctx.rt;
  const s: RuleSpec = r.spec;
  const ms = s.matches;
  const proto = s.proto;
  // A port match folds into the rule's words when it is the rule's only
  // port match, every other match is side-effect free, and -p names its
  // protocol (tcp_mt/udp_mt/sctp_mt test the protocol themselves; iptables
  // refuses -m tcp without -p tcp, xt_check_match).
  let fold: TcpMatch | UdpMatch | SctpMatch | null = null;
  let foldable = proto !== undefined && proto.proto !== 0 && !proto.invert;
  let fns = 0;
  for (let k = 0; k < ms.length; k++) {
    const m = ms[k]!;
    if (m.module === 'comment') continue;
    fns++;
    if (!foldable) continue;
    if (!pure(m)) {
      foldable = false;
    } else if (fold === null && portModuleProto(m) === proto!.proto) {
      fold = m as TcpMatch | UdpMatch | SctpMatch;
    }
  }
  if (!foldable) fold = null;
  let matches = NO_MATCHES;
  if (fns > (fold === null ? 0 : 1)) {
    const list: MatchFn[] = [];
    for (let k = 0; k < ms.length; k++) {
      const m = ms[k]!;
      if (m.module !== 'comment' && m !== fold) list.push(compileMatch(m, ctx.env, ctx.stateful));
    }
    matches = list;
  }
  rt.states.push(r);
  rt.matches.push(matches);
  const full = rt.full;
  const pre = rt.pre;
  const k = g * FULL_STRIDE;
  const p = g * PRE_STRIDE;
  let flags = 0;
  const src = s.src;
  if (src !== undefined) {
    flags |= (src.invert ? 2 : 1) << F_SRC_SHIFT;
    full[k + 1] = src.addr & src.mask;
    full[k + 2] = src.mask;
  }
  const dst = s.dst;
  if (dst !== undefined) {
    flags |= (dst.invert ? 2 : 1) << F_DST_SHIFT;
    full[k + 3] = dst.addr & dst.mask;
    full[k + 4] = dst.mask;
    if (!dst.invert) {
      pre[p] = dst.addr & dst.mask;
      pre[p + 1] = dst.mask;
    }
  }
  const pr = proto?.proto ?? 0;
  let w5 = pr & 0xff;
  if (pr !== 0 && proto!.invert) flags |= F_PROTO_INV;
  if (s.inIface !== undefined) w5 |= ifaceTable(s.inIface, ctx) << 8;
  if (s.outIface !== undefined) w5 |= ifaceTable(s.outIface, ctx) << 20;
  full[k + 5] = w5;
  if (s.fragment !== undefined) flags |= (s.fragment.invert ? 2 : 1) << F_FRAG_SHIFT;
  let dlo = 0;
  let dspan = 0xffff;
  if (fold !== null) {
    flags |= F_PORTS;
    const sp = fold.sport;
    const dp = fold.dport;
    full[k + 6] = sp === undefined ? 0xffff << 16 : sp.min | (sp.max << 16);
    full[k + 7] = dp === undefined ? 0xffff << 16 : dp.min | (dp.max << 16);
    if (sp?.invert === true) flags |= F_SPORT_INV;
    if (dp?.invert === true) flags |= F_DPORT_INV;
    else if (dp !== undefined) {
      dlo = dp.min;
      dspan = dp.max - dp.min;
    }
  }
  full[k] = flags;
  if (pr !== 0 && !proto!.invert) {
    pre[p + 2] = (pr << 16) | dlo;
    pre[p + 3] = dspan;
  } else {
    pre[p + 3] = -1;
  }
}
