import type { AddrMatch, IfaceMatch, MatchSpec, RuleSpec, StandardVerdict, TableName, TargetSpec } from './ast.js';
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

/** A rule ready to evaluate: generic fields as numbers, matches as functions. */
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
  /** Per-ifindex result of the `-i` test, or null for no test. */
  readonly inIf: Uint8Array | null;
  readonly outIf: Uint8Array | null;
  /** `-f` rules never match: lbsim packets are never fragments (non-first fragments are reassembled by conntrack). */
  readonly fragment: 0 | 1 | 2;
  readonly matches: readonly MatchFn[];
  readonly targetCode: number;
  /** Jump/goto destination. */
  jumpTo: CompiledChain | null;
  readonly target: TargetSpec | null;
}

/** A chain ready to traverse. */
export interface CompiledChain {
  readonly name: string;
  readonly table: TableName;
  readonly builtin: boolean;
  readonly policy: StandardVerdict | null;
  readonly state: ChainState;
  readonly rules: CompiledRule[];
  /**
   * The address and protocol tests of every rule packed in one typed array
   * (PRE_STRIDE words per rule: src addr, src mask, dst addr, dst mask,
   * flags), so that scanning rules that fail on `-s`/`-d`/`-p` — most of
   * `KUBE-SERVICES` for any packet — touches one contiguous block of memory.
   */
  readonly pre: Uint32Array;
}

/** Words per rule in {@link CompiledChain.pre}. */
export const PRE_STRIDE = 5;
/** Flag bits in the fifth word: bits 0–1 src mode, 2–3 dst mode, 4 protocol inverted, 8–15 protocol. */
export const PRE_PROTO_SHIFT = 8;

function packPre(rules: readonly CompiledRule[]): Uint32Array {
  const pre = new Uint32Array(rules.length * PRE_STRIDE);
  rules.forEach((r, i) => {
    const k = i * PRE_STRIDE;
    pre[k] = r.srcAddr;
    pre[k + 1] = r.srcMask;
    pre[k + 2] = r.dstAddr;
    pre[k + 3] = r.dstMask;
    pre[k + 4] = r.srcMode | (r.dstMode << 2) | (r.protoInvert ? 16 : 0) | ((r.proto & 0xff) << PRE_PROTO_SHIFT);
  });
  return pre;
}

/** A compiled table: chains by name. */
export type CompiledTable = Map<string, CompiledChain>;

function addr(m: AddrMatch | undefined): [number, number, number] {
  if (m === undefined) return [0, 0, 0];
  return [(m.addr & m.mask) >>> 0, m.mask >>> 0, m.invert ? 2 : 1];
}

// Interface names compare like the kernel's ifname_compare_aligned: exact, or
// a prefix when the rule's name ends with '+'.
function ifaceTable(m: IfaceMatch | undefined, host: Host): Uint8Array | null {
  if (m === undefined) return null;
  const out = new Uint8Array(host.interfaces.length + 1);
  const wildcard = m.name.endsWith('+');
  const stem = wildcard ? m.name.slice(0, -1) : m.name;
  for (let i = 0; i < out.length; i++) {
    const name = host.ifname(i);
    const hit = name !== '' && (wildcard ? name.startsWith(stem) : name === stem);
    out[i] = hit !== m.invert ? 1 : 0;
  }
  return out;
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
  const out: CompiledTable = new Map();
  for (const c of t.chains.values()) {
    const rules = c.rules.map((r, i) => compileRule(r, i + 1, host, env, stateful));
    out.set(c.name, { name: c.name, table: t.name, builtin: c.builtin, policy: c.policy, state: c, rules, pre: packPre(rules) });
  }
  for (const chain of out.values()) {
    for (const r of chain.rules) {
      const tg = r.target;
      if (tg?.kind === 'jump' || tg?.kind === 'goto') r.jumpTo = out.get(tg.chain) ?? null;
    }
  }
  return out;
}

function compileRule(r: RuleState, num: number, host: Host, env: MatchEnv, stateful: StatefulMatchCompiler): CompiledRule {
  const s: RuleSpec = r.spec;
  const [srcAddr, srcMask, srcMode] = addr(s.src);
  const [dstAddr, dstMask, dstMode] = addr(s.dst);
  return {
    num,
    state: r,
    srcAddr,
    srcMask,
    srcMode,
    dstAddr,
    dstMask,
    dstMode,
    proto: s.proto?.proto ?? 0,
    protoInvert: s.proto?.invert ?? false,
    inIf: ifaceTable(s.inIface, host),
    outIf: ifaceTable(s.outIface, host),
    fragment: s.fragment === undefined ? 0 : s.fragment.invert ? 2 : 1,
    matches: s.matches.map((m) => compileMatch(m, env, stateful)),
    targetCode: targetCode(s.target),
    jumpTo: null,
    target: s.target,
  };
}
