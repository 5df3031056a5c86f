import type { WorkCounts } from '../classify/work.js';
import type { TableName } from './ast.js';
import {
  F_DPORT_INV,
  F_DST_SHIFT,
  F_FRAG_SHIFT,
  F_PORTS,
  F_PROTO_INV,
  F_SPORT_INV,
  F_SRC_SHIFT,
  FULL_STRIDE,
  PRE_STRIDE,
  T,
  type CompiledChain,
  type CompiledRule,
  type RuleTable,
} from './compile.js';
import type { PacketState } from './packet-state.js';

/** Verdicts of one table traversal (the kernel's NF_* plus lbsim's REJECT and CONTINUE for extension targets). */
export const V = {
  /** `XT_CONTINUE`: an extension target let the packet go on to the next rule. */
  CONTINUE: 0,
  ACCEPT: 1,
  DROP: 2,
  QUEUE: 3,
  /** `REJECT`: dropped with an error sent back. */
  REJECT: 4,
} as const;

/** One step of a packet's way through the rules, like a `-j TRACE` log line. */
export interface TraceEntry {
  readonly table: TableName;
  readonly chain: string;
  /** 1-based rule number; 0 for the chain's policy (or the implicit return of a user chain). */
  readonly rule: number;
  readonly matched: boolean;
  /** What happened: `ACCEPT`, `DROP`, `RETURN`, `jump:CHAIN`, `goto:CHAIN`, a target name, `policy:ACCEPT`, ... or null (no match). */
  readonly action: string | null;
}

/** Runs extension targets (the engine implements them: NAT, MARK, REJECT, LOG, ...). */
export interface TargetRunner {
  /** Returns {@link V.CONTINUE} or a final verdict. */
  run(rule: CompiledRule, p: PacketState, table: TableName): number;
}

const MAX_DEPTH = 256;

// skip() and ruleMatches() below hard-code compile.ts's word layouts as
// literals (imported bindings are re-loaded on every use in V8's hot loops).
if (
  PRE_STRIDE !== 4 ||
  FULL_STRIDE !== 8 ||
  F_SRC_SHIFT !== 0 ||
  F_DST_SHIFT !== 2 ||
  F_PROTO_INV !== 16 ||
  F_FRAG_SHIFT !== 5 ||
  F_PORTS !== 128 ||
  F_SPORT_INV !== 256 ||
  F_DPORT_INV !== 512
) {
  throw new Error('lbsim/netfilter.traverse: compile.ts word layout changed; update skip() and ruleMatches()');
}

/**
 * Walks one table from a built-in chain, rule by rule, as `ipt_do_table`
 * (net/ipv4/netfilter/ip_tables.c) does: a matching rule's counters go up,
 * `-j` pushes a return point, `-g` does not, RETURN (or falling off a user
 * chain) pops, falling off a built-in chain or returning with an empty stack
 * applies the policy (and counts in the policy counters).
 *
 * `trace` is null on the fast path; when an array is given every rule
 * looked at is appended, and the counts in `work` are the same either way.
 */
export function traverse(
  entry: CompiledChain,
  p: PacketState,
  work: WorkCounts,
  trace: TraceEntry[] | null,
  targets: TargetRunner,
  stack: CompiledChain[],
  stackPos: Int32Array,
): number {
  const table = entry.table;
  let chain = entry;
  let rt = chain.rt;
  let n = chain.count;
  let base = chain.base;
  let i = 0;
  // No target rewrites the packet's addresses or ports during a traversal
  // (NAT only sets up the binding; nf_nat_packet mangles afterwards), so the
  // pre-test inputs are read once.
  const daddr = p.daddr | 0;
  const pkey = (p.proto << 16) | p.dport;
  let evaluated = 0;
  let depth = 0;
  work.chainsEntered++;
  for (;;) {
    if (i >= n) {
      if (depth === 0 || chain.builtin) {
        work.rulesEvaluated += evaluated;
        return policy(entry, p, trace);
      }
      if (trace !== null) trace.push({ table, chain: chain.name, rule: 0, matched: true, action: 'RETURN' });
      depth--;
      chain = stack[depth]!;
      rt = chain.rt;
      n = chain.count;
      base = chain.base;
      i = stackPos[depth]!;
      continue;
    }
    // Skip every rule whose pre-test fails (it cannot match: see PRE_STRIDE);
    // each counts as evaluated. Traced, one rule at a time so every miss is recorded.
    const from = base + i;
    const end = trace === null ? base + n : from + 1;
    const g = skip(rt.pre, from, end, daddr, pkey);
    evaluated += g - from;
    if (g === end) {
      if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: false, action: null });
      i = end - base;
      continue;
    }
    i = g - base;
    evaluated++;
    if (!matchAt(rt, g, p)) {
      if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: false, action: null });
      i++;
      continue;
    }
    const c = rt.states[g]!.counters;
    c.packets++;
    c.bytes += p.length;
    switch (rt.codes[g]!) {
      case T.NONE:
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: '' });
        i++;
        continue;
      case T.ACCEPT:
        work.rulesEvaluated += evaluated;
        p.byPolicy = false;
        p.acceptedByRule = true;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: 'ACCEPT' });
        return V.ACCEPT;
      case T.DROP:
        work.rulesEvaluated += evaluated;
        p.byPolicy = false;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: 'DROP' });
        return V.DROP;
      case T.QUEUE:
        work.rulesEvaluated += evaluated;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: 'QUEUE' });
        return V.QUEUE;
      case T.RETURN:
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: 'RETURN' });
        if (depth === 0) {
          work.rulesEvaluated += evaluated;
          return policy(entry, p, trace);
        }
        depth--;
        chain = stack[depth]!;
        rt = chain.rt;
        n = chain.count;
        base = chain.base;
        i = stackPos[depth]!;
        continue;
      case T.JUMP: {
        const to = rt.chains[rt.jumps[g]!]!;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: `jump:${to.name}` });
        if (depth >= MAX_DEPTH) {
          work.rulesEvaluated += evaluated;
          return V.DROP;
        }
        stack[depth] = chain;
        stackPos[depth] = i + 1;
        depth++;
        chain = to;
        rt = to.rt;
        n = to.count;
        base = to.base;
        i = 0;
        work.chainsEntered++;
        continue;
      }
      case T.GOTO: {
        const to = rt.chains[rt.jumps[g]!]!;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: `goto:${to.name}` });
        chain = to;
        rt = to.rt;
        n = to.count;
        base = to.base;
        i = 0;
        work.chainsEntered++;
        continue;
      }
      default: {
        // Extension targets may read the work counts (and match modules add
        // probes to them): bring rulesEvaluated up to date first.
        work.rulesEvaluated += evaluated;
        evaluated = 0;
        const r = chain.rules[i]!;
        const v = targets.run(r, p, table);
        if (v !== V.CONTINUE) {
          p.byPolicy = false;
          if (v === V.ACCEPT) p.acceptedByRule = true;
        }
        if (trace !== null) {
          trace.push({ table, chain: chain.name, rule: i + 1, matched: true, action: rt.states[g]!.spec.target!.kind });
        }
        if (v !== V.CONTINUE) return v;
        i++;
      }
    }
  }
}

// Index of the first rule in [from, end) whose pre-test passes, or `end`.
// Written for V8: a small function of its own, unrolled four times, and the
// stride a literal (an imported binding such as PRE_STRIDE is re-loaded and
// hole-checked on every iteration, which made the loop ≈4x slower).
function skip(pre: Int32Array, from: number, end: number, daddr: number, pkey: number): number {
  let k = from << 2;
  let g = from;
  for (const end4 = end - 3; g < end4; g += 4, k += 16) {
    if ((daddr & pre[k + 1]!) === pre[k]! && (pkey - pre[k + 2]!) >>> 0 <= pre[k + 3]! >>> 0) return g;
    if ((daddr & pre[k + 5]!) === pre[k + 4]! && (pkey - pre[k + 6]!) >>> 0 <= pre[k + 7]! >>> 0) return g + 1;
    if ((daddr & pre[k + 9]!) === pre[k + 8]! && (pkey - pre[k + 10]!) >>> 0 <= pre[k + 11]! >>> 0) return g + 2;
    if ((daddr & pre[k + 13]!) === pre[k + 12]! && (pkey - pre[k + 14]!) >>> 0 <= pre[k + 15]! >>> 0) return g + 3;
  }
  for (; g < end; g++, k += 4) {
    if ((daddr & pre[k + 1]!) === pre[k]! && (pkey - pre[k + 2]!) >>> 0 <= pre[k + 3]! >>> 0) return g;
  }
  return end;
}

function policy(entry: CompiledChain, p: PacketState, trace: TraceEntry[] | null): number {
  p.byPolicy = true;
  const c = entry.state.counters;
  c.packets++;
  c.bytes += p.length;
  const pol = entry.policy ?? 'ACCEPT';
  if (trace !== null) trace.push({ table: entry.table, chain: entry.name, rule: 0, matched: true, action: `policy:${pol}` });
  return pol === 'DROP' ? V.DROP : pol === 'QUEUE' ? V.QUEUE : V.ACCEPT;
}

/**
 * `ip_packet_match` (net/ipv4/netfilter/ip_tables.c: `-s`/`-d`, `-i`/`-o`,
 * `-p`, `-f`, each XOR its `!`) plus every match module in order; port tests
 * folded into the rule (see {@link CompiledRule.ports}) are tcp_mt/udp_mt's
 * `port_match` (xt_tcpudp.c).
 */
export function ruleMatches(r: CompiledRule, p: PacketState): boolean {
  return matchAt(r.rt, r.g, p);
}

function matchAt(rt: RuleTable, g: number, p: PacketState): boolean {
  const w = rt.full;
  const k = g << 3;
  const f = w[k]!;
  if (f !== 0) {
    const sm = f & 3;
    if (sm !== 0 && ((p.saddr & w[k + 2]!) === w[k + 1]!) !== (sm === 1)) return false;
    const dm = f & 12;
    if (dm !== 0 && ((p.daddr & w[k + 4]!) === w[k + 3]!) !== (dm === 4)) return false;
  }
  const w5 = w[k + 5]!;
  if ((w5 & ~0xff) !== 0) {
    const ii = (w5 >>> 8) & 0xfff;
    if (ii !== 0 && rt.ifTables[ii - 1]![p.inIf] === 0) return false;
    const oi = w5 >>> 20;
    if (oi !== 0 && rt.ifTables[oi - 1]![p.outIf] === 0) return false;
  }
  const proto = w5 & 0xff;
  if (proto !== 0 && (p.proto === proto) === ((f & 16) !== 0)) return false;
  if (f !== 0) {
    // -f never matches: lbsim packets are never non-first fragments.
    if ((f & 96) === 32) return false;
    if ((f & 128) !== 0) {
      const sp = w[k + 6]!;
      const dp = w[k + 7]!;
      if ((p.sport >= (sp & 0xffff) && p.sport <= sp >>> 16) === ((f & 256) !== 0)) return false;
      if ((p.dport >= (dp & 0xffff) && p.dport <= dp >>> 16) === ((f & 512) !== 0)) return false;
    }
  }
  const ms = rt.matches[g]!;
  for (let m = 0; m < ms.length; m++) if (!ms[m]!(p)) return false;
  return true;
}
