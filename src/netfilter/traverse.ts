import type { WorkCounts } from '../classify/work.js';
import type { TableName } from './ast.js';
import { PRE_PROTO_SHIFT, PRE_STRIDE, T, type CompiledChain, type CompiledRule } from './compile.js';
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
  let rules = chain.rules;
  let pre = chain.pre;
  let i = 0;
  const saddr = p.saddr;
  const proto = p.proto;
  let depth = 0;
  work.chainsEntered++;
  for (;;) {
    if (i >= rules.length) {
      if (depth === 0 || chain.builtin) return policy(entry, p, trace);
      if (trace !== null) trace.push({ table, chain: chain.name, rule: 0, matched: true, action: 'RETURN' });
      depth--;
      chain = stack[depth]!;
      rules = chain.rules;
      pre = chain.pre;
      i = stackPos[depth]!;
      continue;
    }
    if (trace === null) {
      // Fast scan: skip every rule whose packed -s/-d/-p test fails; rule i then passed it.
      const j = scan(pre, i, rules.length, saddr, p.daddr, proto);
      work.rulesEvaluated += j - i;
      i = j;
      if (i >= rules.length) continue;
    } else if (scan(pre, i, i + 1, saddr, p.daddr, proto) !== i) {
      // Traced: the same packed test one rule at a time, so every miss is recorded.
      work.rulesEvaluated++;
      trace.push({ table, chain: chain.name, rule: i + 1, matched: false, action: null });
      i++;
      continue;
    }
    work.rulesEvaluated++;
    const r = rules[i]!;
    if (!restMatches(r, p)) {
      if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: false, action: null });
      i++;
      continue;
    }
    const c = r.state.counters;
    c.packets++;
    c.bytes += p.length;
    switch (r.targetCode) {
      case T.NONE:
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: '' });
        i++;
        continue;
      case T.ACCEPT:
        p.byPolicy = false;
        p.acceptedByRule = true;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: 'ACCEPT' });
        return V.ACCEPT;
      case T.DROP:
        p.byPolicy = false;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: 'DROP' });
        return V.DROP;
      case T.QUEUE:
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: 'QUEUE' });
        return V.QUEUE;
      case T.RETURN:
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: 'RETURN' });
        if (depth === 0) return policy(entry, p, trace);
        depth--;
        chain = stack[depth]!;
        rules = chain.rules;
        pre = chain.pre;
        i = stackPos[depth]!;
        continue;
      case T.JUMP: {
        const to = r.jumpTo!;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: `jump:${to.name}` });
        if (depth >= MAX_DEPTH) return V.DROP;
        stack[depth] = chain;
        stackPos[depth] = i + 1;
        depth++;
        chain = to;
        rules = to.rules;
        pre = to.pre;
        i = 0;
        work.chainsEntered++;
        continue;
      }
      case T.GOTO: {
        const to = r.jumpTo!;
        if (trace !== null) trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: `goto:${to.name}` });
        chain = to;
        rules = to.rules;
        pre = to.pre;
        i = 0;
        work.chainsEntered++;
        continue;
      }
      default: {
        const v = targets.run(r, p, table);
        if (v !== V.CONTINUE) {
          p.byPolicy = false;
          if (v === V.ACCEPT) p.acceptedByRule = true;
        }
        if (trace !== null) {
          trace.push({ table, chain: chain.name, rule: r.num, matched: true, action: r.target!.kind });
        }
        if (v !== V.CONTINUE) return v;
        i++;
      }
    }
  }
}

// Index of the first rule at or after `from` whose packed address/protocol test passes (or `end`).
function scan(pre: Uint32Array, from: number, end: number, saddr: number, daddr: number, proto: number): number {
  let k = from * PRE_STRIDE;
  for (let i = from; i < end; i++, k += PRE_STRIDE) {
    const f = pre[k + 4]!;
    const sm = f & 3;
    if (sm !== 0 && ((saddr & pre[k + 1]!) >>> 0 === pre[k]!) !== (sm === 1)) continue;
    const dm = f & 12;
    if (dm !== 0 && ((daddr & pre[k + 3]!) >>> 0 === pre[k + 2]!) !== (dm === 4)) continue;
    const rp = f >>> PRE_PROTO_SHIFT;
    if (rp !== 0 && (proto === rp) === ((f & 16) !== 0)) continue;
    return i;
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

/** The generic part of ip_packet_match plus every match module, in order. */
export function ruleMatches(r: CompiledRule, p: PacketState): boolean {
  if (r.srcMode !== 0 && ((p.saddr & r.srcMask) >>> 0 === r.srcAddr) !== (r.srcMode === 1)) return false;
  if (r.dstMode !== 0 && ((p.daddr & r.dstMask) >>> 0 === r.dstAddr) !== (r.dstMode === 1)) return false;
  if (r.proto !== 0 && (p.proto === r.proto) === r.protoInvert) return false;
  return restMatches(r, p);
}

// What the packed pre-test does not cover: interfaces, -f, match modules.
function restMatches(r: CompiledRule, p: PacketState): boolean {
  if (r.inIf !== null && r.inIf[p.inIf] === 0) return false;
  if (r.outIf !== null && r.outIf[p.outIf] === 0) return false;
  if (r.fragment === 1) return false;
  const ms = r.matches;
  for (let k = 0; k < ms.length; k++) if (!ms[k]!(p)) return false;
  return true;
}
