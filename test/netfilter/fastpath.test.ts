// Guards the packed fast path of traverse (pre-test skip over the shared
// Int32Array words, port tests folded out of -m tcp/udp, comments dropped):
// over random rulesets and packets it must agree with
//  1. the traced path (one rule at a time), and
//  2. a naive evaluator written here straight from ipt_do_table and
//     ip_packet_match (net/ipv4/netfilter/ip_tables.c) and the match modules
//     (xt_tcpudp.c port_match/tcp_mt, xt_mark.c, xt_statistic.c, xt_comment.c),
// on the verdict, the rules evaluated (every rule whose ip_packet_match ran),
// the chains entered, every rule's and policy's counters, the order of LOG
// targets hit, and the random draws consumed by `-m statistic`.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { Protocol } from '../../src/net/protocol.js';
import type { MatchSpec, RestoreDocument, RuleSpec, TableCommand, TargetSpec } from '../../src/netfilter/ast.js';
import { compileTable, type CompiledChain, type CompiledRule } from '../../src/netfilter/compile.js';
import { Host } from '../../src/netfilter/host.js';
import { PacketState } from '../../src/netfilter/packet-state.js';
import { Ruleset } from '../../src/netfilter/ruleset.js';
import { traverse, V, type TraceEntry } from '../../src/netfilter/traverse.js';
import { createRng, type Rng } from '../../src/sim/rng.js';

const host = new Host({
  interfaces: [
    { name: 'eth0', addresses: ['10.0.0.1/16'] },
    { name: 'cni0', addresses: ['10.244.0.1/16'] },
  ],
});
const noStateful = { compile: () => null };
const CHAINS = ['C0', 'C1', 'C2', 'C3'];

// Small pools so that tests hit and miss often.
const ADDRS = [0x0a600000, 0x0a600001, 0x0a600101, 0x0af40005, 0xc0a80101, 0xfffffffe];
const PREFIXES = [0, 8, 16, 24, 31, 32];
const PORTS = [0, 53, 79, 80, 81, 443, 8080, 65535];
const PROTOS = [Protocol.TCP, Protocol.UDP, Protocol.SCTP, 1];
const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

const addrArb = fc.record({
  addr: fc.constantFrom(...ADDRS),
  mask: fc.constantFrom(...PREFIXES).map(maskOf),
  invert: fc.boolean(),
});
const rangeArb = fc
  .record({ a: fc.constantFrom(...PORTS), b: fc.constantFrom(...PORTS), invert: fc.boolean() })
  .map(({ a, b, invert }) => ({ min: Math.min(a, b), max: Math.max(a, b), invert }));
const matchArb: fc.Arbitrary<MatchSpec> = fc.oneof(
  fc.constant<MatchSpec>({ module: 'comment', comment: 'c' }),
  fc.record({ sport: fc.option(rangeArb, { nil: undefined }), dport: fc.option(rangeArb, { nil: undefined }) }).map(
    ({ sport, dport }): MatchSpec => ({ module: 'tcp', ...(sport === undefined ? {} : { sport }), ...(dport === undefined ? {} : { dport }) }),
  ),
  fc.record({ dport: rangeArb, mask: fc.constantFrom(0x12, 0x3f), comp: fc.constantFrom(0x02, 0x10), invert: fc.boolean() }).map(
    ({ dport, mask, comp, invert }): MatchSpec => ({ module: 'tcp', dport, tcpFlags: { mask, comp, invert } }),
  ),
  rangeArb.map((dport): MatchSpec => ({ module: 'udp', dport })),
  rangeArb.map((sport): MatchSpec => ({ module: 'sctp', sport })),
  fc.record({ value: fc.constantFrom(0, 1, 0x4000), invert: fc.boolean() }).map(
    ({ value, invert }): MatchSpec => ({ module: 'mark', value, mask: 0xffffffff, invert }),
  ),
  fc.record({ probability: fc.constantFrom(0, 1 << 29, 1 << 30, 0x7fffffff), invert: fc.boolean() }).map(
    ({ probability, invert }): MatchSpec => ({ module: 'statistic', mode: 'random', probability, invert }),
  ),
  fc.record({ every: fc.integer({ min: 1, max: 3 }), invert: fc.boolean() }).map(
    ({ every, invert }): MatchSpec => ({ module: 'statistic', mode: 'nth', every, packet: every - 1, invert }),
  ),
);

// Targets may only jump to a later chain (no loops: the ruleset refuses them).
function targetArb(chainIndex: number): fc.Arbitrary<TargetSpec | null> {
  const later = CHAINS.slice(chainIndex + 1);
  const base: fc.Arbitrary<TargetSpec | null>[] = [
    fc.constant(null),
    fc.constantFrom<TargetSpec>(
      { kind: 'standard', verdict: 'ACCEPT' },
      { kind: 'standard', verdict: 'DROP' },
      { kind: 'standard', verdict: 'RETURN' },
      { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' },
      { kind: 'MARK', value: 0x4000, mask: 0x4000 },
    ),
    fc.integer({ min: 0, max: 999 }).map((n): TargetSpec => ({ kind: 'LOG', prefix: `log${n}`, level: 4, flags: 0 })),
  ];
  if (later.length > 0) {
    base.push(fc.constantFrom(...later).map((chain): TargetSpec => ({ kind: 'jump', chain })));
    base.push(fc.constantFrom(...later).map((chain): TargetSpec => ({ kind: 'goto', chain })));
  }
  return fc.oneof(...base);
}

function ruleArb(chainIndex: number): fc.Arbitrary<RuleSpec> {
  return fc
    .record({
      src: fc.option(addrArb, { nil: undefined, freq: 3 }),
      dst: fc.option(addrArb, { nil: undefined, freq: 2 }),
      proto: fc.option(fc.record({ proto: fc.constantFrom(...PROTOS), invert: fc.boolean() }), { nil: undefined, freq: 2 }),
      inIface: fc.option(fc.record({ name: fc.constantFrom('eth0', 'et+', 'cni0', 'lo'), invert: fc.boolean() }), { nil: undefined, freq: 4 }),
      fragment: fc.option(fc.record({ invert: fc.boolean() }), { nil: undefined, freq: 8 }),
      matches: fc.array(matchArb, { maxLength: 3 }),
      target: targetArb(chainIndex),
    })
    .map((r) => {
      const out: { -readonly [K in keyof RuleSpec]: RuleSpec[K] } = { matches: r.matches, target: r.target };
      if (r.src !== undefined) out.src = r.src;
      if (r.dst !== undefined) out.dst = r.dst;
      if (r.proto !== undefined) out.proto = r.proto;
      if (r.inIface !== undefined) out.inIface = r.inIface;
      if (r.fragment !== undefined) out.fragment = r.fragment;
      return out;
    });
}

const rulesetArb = fc.record({
  policy: fc.constantFrom('ACCEPT' as const, 'DROP' as const),
  input: fc.array(ruleArb(-1), { maxLength: 12 }),
  chains: fc.tuple(...CHAINS.map((_, i) => fc.array(ruleArb(i), { maxLength: 8 }))),
});

const packetArb = fc.record({
  proto: fc.constantFrom(...PROTOS),
  saddr: fc.constantFrom(...ADDRS),
  daddr: fc.constantFrom(...ADDRS),
  sport: fc.constantFrom(...PORTS),
  dport: fc.constantFrom(...PORTS),
  flags: fc.constantFrom(0x02, 0x10, 0x12),
  mark: fc.constantFrom(0, 1, 0x4000),
  inIf: fc.integer({ min: 0, max: 3 }),
});
type Pkt = typeof packetArb extends fc.Arbitrary<infer P> ? P : never;

function doc(rs: { policy: 'ACCEPT' | 'DROP'; input: readonly RuleSpec[]; chains: readonly (readonly RuleSpec[])[] }): RestoreDocument {
  let line = 0;
  const commands: TableCommand[] = [];
  for (const r of rs.input) commands.push({ op: 'append', chain: 'INPUT', rule: r, counters: null, line: ++line });
  rs.chains.forEach((rules, i) => {
    for (const r of rules) commands.push({ op: 'append', chain: CHAINS[i]!, rule: r, counters: null, line: ++line });
  });
  return {
    blocks: [
      {
        table: 'filter',
        line: 0,
        commitLine: line + 1,
        chains: [{ name: 'INPUT', policy: rs.policy, counters: null, line: 0 }, ...CHAINS.map((name) => ({ name, policy: null, counters: null, line: 0 }))],
        commands,
      },
    ],
  };
}

function state(p: Pkt): PacketState {
  const s = new PacketState();
  s.proto = p.proto;
  s.saddr = p.saddr;
  s.daddr = p.daddr;
  s.sport = p.sport;
  s.dport = p.dport;
  s.flags = p.flags;
  s.mark = p.mark;
  s.inIf = p.inIf;
  s.length = 100;
  s.hook = 'INPUT';
  return s;
}

interface Outcome {
  verdict: number;
  rulesEvaluated: number;
  chainsEntered: number;
  logs: string[];
  mark: number;
}

// The engine's MARK/LOG/REJECT in miniature (src/netfilter/engine.ts run()).
function runTarget(t: TargetSpec, p: PacketState, logs: string[]): number {
  if (t.kind === 'REJECT') return V.REJECT;
  if (t.kind === 'LOG') logs.push(t.prefix ?? '');
  if (t.kind === 'MARK') p.mark = ((p.mark & ~t.mask) ^ t.value) >>> 0;
  return V.CONTINUE;
}

function viaTraverse(rs: Ruleset, seed: number, packets: readonly Pkt[], traced: boolean, draws: { n: number }): Outcome[] {
  const rng = countingRng(createRng(seed), draws);
  const compiled = compileTable(rs.table('filter'), host, { host, rng }, noStateful);
  const out: Outcome[] = [];
  const stack: CompiledChain[] = [];
  const pos = new Int32Array(256);
  for (const pk of packets) {
    const p = state(pk);
    const logs: string[] = [];
    const work = new WorkCounts();
    const targets = { run: (r: CompiledRule, ps: PacketState): number => runTarget(r.target!, ps, logs) };
    const trace: TraceEntry[] | null = traced ? [] : null;
    const verdict = traverse(compiled.get('INPUT')!, p, work, trace, targets, stack, pos);
    if (trace !== null) {
      // every rule looked at is one trace line (the rest are implicit returns and the policy)
      expect(trace.filter((t) => t.rule !== 0).length).toBe(work.rulesEvaluated);
    }
    out.push({ verdict, rulesEvaluated: work.rulesEvaluated, chainsEntered: work.chainsEntered, logs, mark: p.mark });
  }
  return out;
}

function countingRng(rng: Rng, draws: { n: number }): Rng {
  const wrapped = Object.create(rng) as Rng;
  wrapped.uint32 = (): number => {
    draws.n++;
    return rng.uint32();
  };
  return wrapped;
}

// ----------------------------------------------------------- naive evaluator

function addrOk(m: RuleSpec['src'], a: number): boolean {
  return m === undefined || (((a & m.mask) >>> 0 === ((m.addr & m.mask) >>> 0)) !== m.invert);
}
function rangeOk(r: { min: number; max: number; invert: boolean } | undefined, port: number): boolean {
  return r === undefined || (port >= r.min && port <= r.max) !== r.invert;
}

function naive(rs: Ruleset, seed: number, packets: readonly Pkt[], draws: { n: number }): Outcome[] {
  const rng = createRng(seed);
  const nth = new Map<MatchSpec, number>();
  const matchOk = (m: MatchSpec, p: PacketState): boolean => {
    switch (m.module) {
      case 'comment':
        return true;
      case 'tcp':
        return (
          p.proto === Protocol.TCP &&
          rangeOk(m.sport, p.sport) &&
          rangeOk(m.dport, p.dport) &&
          (m.tcpFlags === undefined || ((p.flags & m.tcpFlags.mask) === m.tcpFlags.comp) !== m.tcpFlags.invert)
        );
      case 'udp':
        return p.proto === Protocol.UDP && rangeOk(m.sport, p.sport) && rangeOk(m.dport, p.dport);
      case 'sctp':
        return p.proto === Protocol.SCTP && rangeOk(m.sport, p.sport) && rangeOk(m.dport, p.dport);
      case 'mark':
        return ((p.mark & m.mask) >>> 0 === m.value >>> 0) !== m.invert;
      case 'statistic':
        if (m.mode === 'random') {
          draws.n++;
          return ((rng.uint32() & 0x7fffffff) < m.probability) !== m.invert;
        } else {
          // xt_statistic nth: count runs 0..every-1, matches when it equals packet
          const old = nth.get(m) ?? 0;
          const count = old === m.every - 1 ? 0 : old + 1;
          nth.set(m, count);
          return (count === m.packet) !== m.invert;
        }
      default:
        throw new Error(`naive: ${m.module}`);
    }
  };
  const ifname = (i: number): string => host.ifname(i);
  const ifaceOk = (m: RuleSpec['inIface'], i: number): boolean => {
    if (m === undefined) return true;
    const name = ifname(i);
    const hit = name !== '' && (m.name.endsWith('+') ? name.startsWith(m.name.slice(0, -1)) : name === m.name);
    return hit !== m.invert;
  };
  const out: Outcome[] = [];
  for (const pk of packets) {
    const p = state(pk);
    const logs: string[] = [];
    let evaluated = 0;
    let entered = 1;
    const stack: { chain: string; next: number }[] = [];
    let chain = 'INPUT';
    let i = 0;
    let verdict = -1;
    const policy = (): number => {
      const c = rs.chain('filter', 'INPUT')!;
      c.counters.packets++;
      c.counters.bytes += p.length;
      return c.policy === 'DROP' ? V.DROP : V.ACCEPT;
    };
    while (verdict < 0) {
      const rules = rs.chain('filter', chain)!.rules;
      if (i >= rules.length) {
        const top = stack.pop();
        if (chain === 'INPUT' || top === undefined) verdict = policy();
        else ({ chain, next: i } = top);
        continue;
      }
      const r = rules[i]!;
      const s = r.spec;
      evaluated++;
      // ip_packet_match, then each match in order (stopping at the first miss)
      const hit =
        addrOk(s.src, p.saddr) &&
        addrOk(s.dst, p.daddr) &&
        ifaceOk(s.inIface, p.inIf) &&
        (s.proto === undefined || s.proto.proto === 0 || (p.proto === s.proto.proto) !== s.proto.invert) &&
        (s.fragment === undefined || s.fragment.invert) &&
        s.matches.every((m) => matchOk(m, p));
      if (!hit) {
        i++;
        continue;
      }
      r.counters.packets++;
      r.counters.bytes += p.length;
      const t = s.target;
      if (t === null) {
        i++;
      } else if (t.kind === 'standard') {
        if (t.verdict === 'ACCEPT') verdict = V.ACCEPT;
        else if (t.verdict === 'DROP') verdict = V.DROP;
        else {
          const top = stack.pop();
          if (top === undefined) verdict = policy();
          else ({ chain, next: i } = top);
        }
      } else if (t.kind === 'jump') {
        stack.push({ chain, next: i + 1 });
        chain = t.chain;
        i = 0;
        entered++;
      } else if (t.kind === 'goto') {
        chain = t.chain;
        i = 0;
        entered++;
      } else {
        const v = runTarget(t, p, logs);
        if (v !== V.CONTINUE) verdict = v;
        else i++;
      }
    }
    out.push({ verdict, rulesEvaluated: evaluated, chainsEntered: entered, logs, mark: p.mark });
  }
  return out;
}

function counters(rs: Ruleset): number[] {
  const out: number[] = [];
  for (const c of rs.table('filter').chains.values()) {
    out.push(c.counters.packets, c.counters.bytes);
    for (const r of c.rules) out.push(r.counters.packets, r.counters.bytes);
  }
  return out;
}

describe('traverse fast path', () => {
  test.prop([rulesetArb, fc.array(packetArb, { minLength: 1, maxLength: 25 }), fc.integer()], { numRuns: 300 })(
    'fast path = traced path = naive ipt_do_table: verdicts, rules evaluated, counters, random draws',
    (spec, packets, seed) => {
      const d = doc(spec);
      const runs = [0, 1, 2].map(() => {
        const rs = new Ruleset();
        rs.restore(d);
        return rs;
      });
      const draws = [{ n: 0 }, { n: 0 }, { n: 0 }];
      const fast = viaTraverse(runs[0]!, seed, packets, false, draws[0]!);
      const traced = viaTraverse(runs[1]!, seed, packets, true, draws[1]!);
      const ref = naive(runs[2]!, seed, packets, draws[2]!);
      expect(traced).toEqual(ref);
      expect(fast).toEqual(ref);
      expect(counters(runs[0]!)).toEqual(counters(runs[2]!));
      expect(counters(runs[1]!)).toEqual(counters(runs[2]!));
      expect(draws[0]!.n).toBe(draws[2]!.n);
      expect(draws[1]!.n).toBe(draws[2]!.n);
    },
  );

  it('a kube-proxy KUBE-SERVICES scan counts every rule it skips (N rules before the hit + the hit)', () => {
    // KUBE-SERVICES: rule s is `-d 10.96.0.s/32 -p tcp -m comment -m tcp --dport 80 -j KUBE-SVC-s`;
    // ip_packet_match runs for rules 0..s (s + 1 rules), then the KUBE-SVC chain's one rule.
    const n = 300;
    const commands: TableCommand[] = [];
    let line = 0;
    for (let s = 0; s < n; s++) {
      commands.push({
        op: 'append',
        chain: 'KUBE-SERVICES',
        rule: {
          dst: { addr: 0x0a600000 + s, mask: 0xffffffff, invert: false },
          proto: { proto: Protocol.TCP, invert: false },
          matches: [{ module: 'comment', comment: `svc-${s}` }, { module: 'tcp', dport: { min: 80, max: 80, invert: false } }],
          target: { kind: 'jump', chain: `SVC-${s}` },
        },
        counters: null,
        line: ++line,
      });
      commands.push({ op: 'append', chain: `SVC-${s}`, rule: { matches: [], target: { kind: 'REJECT', rejectWith: 'x' } }, counters: null, line: ++line });
    }
    commands.push({ op: 'append', chain: 'INPUT', rule: { matches: [], target: { kind: 'jump', chain: 'KUBE-SERVICES' } }, counters: null, line: ++line });
    const rs = new Ruleset();
    rs.restore({
      blocks: [
        {
          table: 'filter',
          line: 0,
          commitLine: line + 1,
          chains: ['KUBE-SERVICES', ...Array.from({ length: n }, (_, s) => `SVC-${s}`)].map((name) => ({ name, policy: null, counters: null, line: 0 })),
          commands,
        },
      ],
    });
    const compiled = compileTable(rs.table('filter'), host, { host, rng: createRng(1) }, noStateful);
    for (const [s, dport, want, rules] of [
      [0, 80, V.REJECT, 1 + 1 + 1],
      [137, 80, V.REJECT, 1 + 138 + 1],
      [n - 1, 80, V.REJECT, 1 + n + 1],
      [137, 81, V.ACCEPT, 1 + n], // wrong port: every KUBE-SERVICES rule fails, policy
    ] as const) {
      const p = state({ proto: Protocol.TCP, saddr: 0x0af40005, daddr: 0x0a600000 + s, sport: 1000, dport, flags: 2, mark: 0, inIf: 1 });
      const work = new WorkCounts();
      const v = traverse(compiled.get('INPUT')!, p, work, null, { run: () => V.REJECT }, [], new Int32Array(8));
      expect(v).toBe(want);
      expect(work.rulesEvaluated).toBe(rules);
    }
  });
});
