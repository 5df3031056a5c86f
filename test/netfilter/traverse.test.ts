// Rule-walk semantics of ipt_do_table (net/ipv4/netfilter/ip_tables.c),
// exercised on compiled tables without conntrack.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import type { TableName, TargetSpec } from '../../src/netfilter/ast.js';
import { compileTable, type CompiledChain, type CompiledRule } from '../../src/netfilter/compile.js';
import { Host } from '../../src/netfilter/host.js';
import { PacketState } from '../../src/netfilter/packet-state.js';
import { Ruleset } from '../../src/netfilter/ruleset.js';
import { traverse, V, type TraceEntry } from '../../src/netfilter/traverse.js';
import { chiSquare } from '../../src/fairness/metrics.js';
import { createRng } from '../../src/sim/rng.js';
import { append, block, dst, goto, jump, rule, verdict } from './builders.js';

const host = new Host();
const noStateful = { compile: () => null };
const marker = (name: string): TargetSpec => ({ kind: 'LOG', prefix: name, level: 4, flags: 0 });

function run(rs: Ruleset, table: TableName, chain: string, p: PacketState, seed = 1): { v: number; work: WorkCounts; trace: TraceEntry[]; logs: string[] } {
  const compiled = compileTable(rs.table(table), host, { host, rng: createRng(seed) }, noStateful);
  const work = new WorkCounts();
  const trace: TraceEntry[] = [];
  const logs: string[] = [];
  const targets = {
    run(r: CompiledRule): number {
      const t = r.target!;
      if (t.kind === 'LOG') logs.push(t.prefix ?? '');
      if (t.kind === 'REJECT') return V.REJECT;
      return V.CONTINUE;
    },
  };
  const v = traverse(compiled.get(chain)!, p, work, trace, targets, [] as CompiledChain[], new Int32Array(256));
  return { v, work, trace, logs };
}

function pkt(daddr: string, dport = 80, proto: number = Protocol.TCP): PacketState {
  const p = new PacketState();
  p.proto = proto;
  p.saddr = parseIPv4('10.1.1.1');
  p.sport = 40000;
  p.daddr = parseIPv4(daddr);
  p.dport = dport;
  p.length = 100;
  p.inIf = 2;
  return p;
}

describe('traverse', () => {
  it('jump returns to the next rule; RETURN and falling off a user chain pop; goto does not push', () => {
    const rs = new Ruleset();
    rs.restore(
      block('filter', ['A', 'B', 'C'], [
        append('INPUT', rule({}, jump('A'))),
        append('INPUT', rule({}, marker('after-A'))),
        append('INPUT', rule({}, goto('C'))),
        append('INPUT', rule({}, marker('never'))),
        append('A', rule({}, marker('in-A'))),
        append('A', rule({}, jump('B'))),
        append('A', rule({}, marker('after-B'))),
        append('B', rule({}, verdict('RETURN'))),
        append('B', rule({}, marker('never'))),
        append('C', rule({}, marker('in-C'))),
      ]),
    );
    const r = run(rs, 'filter', 'INPUT', pkt('10.0.0.1'));
    expect(r.logs).toEqual(['in-A', 'after-B', 'after-A', 'in-C']);
    // falling off C (reached by goto from INPUT) returns with an empty stack: INPUT's policy
    expect(r.v).toBe(V.ACCEPT);
    expect(r.trace.at(-1)).toEqual({ table: 'filter', chain: 'INPUT', rule: 0, matched: true, action: 'policy:ACCEPT' });
    expect(rs.chain('filter', 'INPUT')!.counters.packets).toBe(1);
    expect(r.work.chainsEntered).toBe(4); // INPUT, A, B, C
    expect(r.trace.length).toBe(r.work.rulesEvaluated + 2); // + the implicit returns and the policy line
  });

  it('matches -d with CIDR and !, -p, -i with + wildcards; counts every rule looked at', () => {
    const rs = new Ruleset();
    rs.restore(
      block('filter', [['INPUT', 'DROP']], [
        append('INPUT', rule({ dst: dst('10.96.0.0/12', true) }, verdict('ACCEPT'))),
        append('INPUT', rule({ proto: { proto: Protocol.UDP, invert: false } }, verdict('ACCEPT'))),
        append('INPUT', rule({ inIface: { name: 'lo', invert: false } }, verdict('ACCEPT'))),
        append('INPUT', rule({ inIface: { name: 'et+', invert: false } }, { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' })),
      ]),
    );
    expect(run(rs, 'filter', 'INPUT', pkt('192.168.1.1')).v).toBe(V.ACCEPT);
    const r = run(rs, 'filter', 'INPUT', pkt('10.96.0.10'));
    expect(r.v).toBe(V.REJECT);
    expect(r.work.rulesEvaluated).toBe(4);
    expect(r.trace.map((t) => t.matched)).toEqual([false, false, false, true]);
    const lo = pkt('10.96.0.10');
    lo.inIf = 1;
    expect(run(rs, 'filter', 'INPUT', lo).v).toBe(V.ACCEPT);
    const other = pkt('10.96.0.10');
    other.inIf = 0;
    expect(run(rs, 'filter', 'INPUT', other).v).toBe(V.DROP); // falls to the DROP policy
  });

  it('counts packets and bytes on every matching rule', () => {
    const rs = new Ruleset();
    rs.restore(block('filter', [], [append('INPUT', rule({}, null)), append('INPUT', rule({}, verdict('ACCEPT')))]));
    for (let i = 0; i < 3; i++) run(rs, 'filter', 'INPUT', pkt('10.0.0.1'));
    expect(rs.chain('filter', 'INPUT')!.rules.map((r) => r.counters)).toEqual([
      { packets: 3, bytes: 300 },
      { packets: 3, bytes: 300 },
    ]);
  });
});

describe('statistic', () => {
  // kube-proxy's chain for N endpoints: rule i has probability 1/(N−i), the last none.
  test.prop([fc.integer(), fc.integer({ min: 2, max: 12 })], { numRuns: 20 })(
    'kube-proxy’s 1/N, 1/(N−1), … chain gives each endpoint 1/N (chi-square, p > 0.001)',
    (seed, n) => {
      const rs = new Ruleset();
      const cmds = [];
      for (let i = 0; i < n; i++) {
        const p = Math.round((1 / (n - i)) * 2 ** 31);
        const matches = i === n - 1 ? [] : [{ module: 'statistic' as const, mode: 'random' as const, probability: p, invert: false }];
        cmds.push(append('SVC', rule({ matches }, { kind: 'REJECT', rejectWith: `ep${i}` })));
      }
      rs.restore(block('filter', ['SVC'], cmds));
      const compiled = compileTable(rs.table('filter'), host, { host, rng: createRng(seed) }, noStateful);
      const counts = new Array<number>(n).fill(0);
      let chosen = -1;
      const targets = {
        run(r: CompiledRule): number {
          chosen = r.num - 1;
          return V.REJECT;
        },
      };
      const work = new WorkCounts();
      const p = pkt('10.0.0.1');
      for (let k = 0; k < 4000; k++) {
        traverse(compiled.get('SVC')!, p, work, null, targets, [], new Int32Array(8));
        counts[chosen]!++;
      }
      expect(chiSquare(counts, new Array<number>(n).fill(1)).pValue).toBeGreaterThan(0.001);
    },
  );

  it('nth mode rotates exactly: --every 3 --packet 0 matches packets 3, 6, 9, ...', () => {
    const rs = new Ruleset();
    rs.restore(
      block('filter', [], [
        append('INPUT', rule({ matches: [{ module: 'statistic', mode: 'nth', every: 3, packet: 0, invert: false }] }, { kind: 'REJECT', rejectWith: 'x' })),
      ]),
    );
    const compiled = compileTable(rs.table('filter'), host, { host, rng: createRng(1) }, noStateful);
    const seen: number[] = [];
    const targets = { run: () => V.REJECT };
    for (let k = 1; k <= 9; k++) {
      const v = traverse(compiled.get('INPUT')!, pkt('10.0.0.1'), new WorkCounts(), null, targets, [], new Int32Array(8));
      if (v === V.REJECT) seen.push(k);
    }
    expect(seen).toEqual([3, 6, 9]);
  });
});
