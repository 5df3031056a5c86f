// Packet paths through the netfilter engine (net/ipv4/ip_input.c,
// ip_forward.c, ip_output.c hook order; nf_nat_core.c nf_nat_inet_fn: the nat
// table sees only a connection's first packet).
import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import type { MatchSpec, TargetSpec } from '../../src/netfilter/ast.js';
import { CtStateBit } from '../../src/netfilter/ast.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import { append, block, dnat, dst, jump, rule, verdict } from './builders.js';

const ip = parseIPv4;
const VIP = ip('10.96.0.10');
const POD_A = ip('10.244.1.5');
const POD_B = ip('10.244.2.7');
const CLIENT = ip('10.244.9.9');
const tcp80: MatchSpec = { module: 'tcp', dport: { min: 80, max: 80, invert: false } };
const masq: TargetSpec = { kind: 'MASQUERADE', ports: null, random: false, randomFully: false };

function kubeLike(nf: Netfilter, seps = [POD_A, POD_B]): void {
  const cmds = [
    append('PREROUTING', rule({}, jump('KUBE-SERVICES'))),
    append('OUTPUT', rule({}, jump('KUBE-SERVICES'))),
    append('POSTROUTING', rule({}, jump('KUBE-POSTROUTING'))),
    append('KUBE-POSTROUTING', rule({ matches: [{ module: 'mark', value: 0x4000, mask: 0x4000, invert: true }] }, verdict('RETURN'))),
    append('KUBE-POSTROUTING', rule({}, { kind: 'MARK', value: 0x4000, mask: 0 })),
    append('KUBE-POSTROUTING', rule({}, masq)),
    append('KUBE-MARK-MASQ', rule({}, { kind: 'MARK', value: 0x4000, mask: 0x4000 })),
    append('KUBE-SERVICES', rule({ dst: dst('10.96.0.10/32'), proto: { proto: Protocol.TCP, invert: false }, matches: [tcp80] }, jump('KUBE-SVC-X'))),
    append('KUBE-SVC-X', rule({ src: dst('10.244.0.0/16', true), proto: { proto: Protocol.TCP, invert: false }, matches: [tcp80] }, jump('KUBE-MARK-MASQ'))),
  ];
  seps.forEach((pod, i) => {
    const last = i === seps.length - 1;
    const matches: MatchSpec[] = last ? [] : [{ module: 'statistic', mode: 'random', probability: Math.round(2 ** 31 / (seps.length - i)), invert: false }];
    cmds.push(append('KUBE-SVC-X', rule({ matches }, jump(`KUBE-SEP-${i}`))));
    cmds.push(append(`KUBE-SEP-${i}`, rule({ src: dst(`${pod >>> 24}.${(pod >>> 16) & 255}.${(pod >>> 8) & 255}.${pod & 255}/32`) }, jump('KUBE-MARK-MASQ'))));
    cmds.push(append(`KUBE-SEP-${i}`, rule({ proto: { proto: Protocol.TCP, invert: false }, matches: [] }, dnat(pod, 8080))));
  });
  nf.ruleset.restore(
    block('nat', ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-SVC-X', ...seps.map((_, i) => `KUBE-SEP-${i}`)], cmds),
  );
}

function node(opts: ConstructorParameters<typeof Netfilter>[0] = {}): Netfilter {
  return new Netfilter({
    seed: 1,
    host: { interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }, { name: 'cni0', addresses: ['10.244.0.1/16'] }] },
    ...opts,
  });
}

function syn(saddr: number, sport: number, daddr: number, dport: number, ifindex = 3): Packet {
  const p = new Packet(Protocol.TCP, saddr, sport, daddr, dport, TcpFlag.SYN, 60);
  p.ifindex = ifindex;
  return p;
}

describe('forwarded path with DNAT (a pod reaching a ClusterIP)', () => {
  it('the first packet walks nat and is DNATed; later packets ride conntrack; replies are un-NATed', () => {
    const nf = node();
    kubeLike(nf);
    const d = new Decision();
    const p = syn(CLIENT, 40000, VIP, 80);
    nf.classify(p, d);
    expect(d.verdict).toBe('forwarded');
    expect(d.newConnection).toBe(true);
    expect([POD_A, POD_B]).toContain(d.daddr);
    expect(d.dport).toBe(8080);
    expect(d.hasBackend).toBe(true);
    const backend = d.daddr;
    const firstRules = d.work.rulesEvaluated;
    expect(firstRules).toBeGreaterThan(3);

    // The backend's SYN-ACK (reply direction) is un-DNATed: it seems to come from the ClusterIP.
    const reply = new Packet(Protocol.TCP, backend, 8080, CLIENT, 40000, TcpFlag.SYN | TcpFlag.ACK, 60);
    reply.ifindex = 3;
    nf.classify(reply, d);
    expect(d.direction).toBe('reply');
    expect(d.saddr).toBe(VIP);
    expect(d.sport).toBe(80);
    expect(d.work.rulesEvaluated).toBe(0);

    // The client's ACK rides conntrack: same backend, no nat rules walked.
    p.flags = TcpFlag.ACK;
    nf.classify(p, d);
    expect(d.daddr).toBe(backend);
    expect(d.newConnection).toBe(false);
    expect(d.work.rulesEvaluated).toBe(0);
  });

  it('an ACK before the SYN-ACK is INVALID to conntrack (tcp_conntracks: sSS + ack → sIV), so it is not NATed', () => {
    const nf = node();
    kubeLike(nf);
    const d = new Decision();
    const p = syn(CLIENT, 40001, VIP, 80);
    nf.classify(p, d);
    p.flags = TcpFlag.ACK;
    nf.classify(p, d);
    expect(d.daddr).toBe(VIP);
  });

  it('masquerades traffic from outside the pod network to the out interface address', () => {
    const nf = node();
    kubeLike(nf, [POD_A]);
    const d = nf.classify(syn(ip('192.168.5.5'), 1234, VIP, 80, 2), new Decision());
    expect(d.daddr).toBe(POD_A);
    expect(d.saddr).toBe(ip('10.244.0.1')); // cni0's address, the route to 10.244.1.5
  });

  it('spreads new connections over the endpoints, as the statistic chain says', () => {
    const nf = node();
    kubeLike(nf);
    const d = new Decision();
    const counts = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      nf.classify(syn(CLIENT, 10000 + i, VIP, 80), d);
      counts.set(d.daddr, (counts.get(d.daddr) ?? 0) + 1);
    }
    expect(counts.get(POD_A)! + counts.get(POD_B)!).toBe(2000);
    expect(Math.abs(counts.get(POD_A)! - 1000)).toBeLessThan(150);
  });

  it('without ip_forward, packets for other hosts are dropped', () => {
    const nf = node({ host: { ipForward: false } });
    const d = nf.classify(syn(CLIENT, 1, ip('8.8.8.8'), 53, 2), new Decision());
    expect(d.verdict).toBe('dropped');
  });
});

describe('local delivery and locally generated packets', () => {
  it('INPUT policy DROP drops packets for the host; an ACCEPT rule delivers them', () => {
    const nf = node();
    nf.ruleset.restore(block('filter', [['INPUT', 'DROP']], [append('INPUT', rule({ proto: { proto: Protocol.TCP, invert: false }, matches: [{ module: 'tcp', dport: { min: 22, max: 22, invert: false } }] }, verdict('ACCEPT')))]));
    const d = new Decision();
    nf.classify(syn(CLIENT, 1, ip('10.0.0.1'), 80, 2), d);
    expect([d.verdict, d.reason]).toEqual(['dropped', 'policy']);
    nf.classify(syn(CLIENT, 1, ip('10.0.0.1'), 22, 2), d);
    expect([d.verdict, d.reason]).toEqual(['accepted', 'rule']);
  });

  it('a host process reaching a ClusterIP goes through nat OUTPUT', () => {
    const nf = node();
    kubeLike(nf, [POD_A]);
    const p = syn(ip('10.0.0.1'), 5555, VIP, 80, 0);
    p.local = true;
    const d = nf.classify(p, new Decision());
    expect(d.verdict).toBe('forwarded');
    expect(d.daddr).toBe(POD_A);
  });

  it('REJECT yields rejected', () => {
    const nf = node();
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ dst: dst('10.96.0.0/12') }, { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' }))]));
    expect(nf.classify(syn(CLIENT, 1, VIP, 80), new Decision()).verdict).toBe('rejected');
  });
});

describe('conntrack-aware rules', () => {
  it('--ctstate NEW/ESTABLISHED and INVALID follow the tracker', () => {
    const nf = node({ conntrack: { tcpLoose: false } });
    const seen: number[] = [];
    nf.ruleset.restore(
      block('filter', [], [
        append('FORWARD', rule({ matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.INVALID, invert: false } }] }, verdict('DROP'))),
        append('FORWARD', rule({ matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.NEW, invert: false } }] }, { kind: 'LOG', prefix: 'new', level: 4, flags: 0 })),
        append('FORWARD', rule({ matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.ESTABLISHED, invert: false } }] }, { kind: 'LOG', prefix: 'est', level: 4, flags: 0 })),
      ]),
    );
    const d = new Decision();
    const p = syn(CLIENT, 7, ip('192.168.9.9'), 443, 3);
    nf.classify(p, d);
    const r = new Packet(Protocol.TCP, ip('192.168.9.9'), 443, CLIENT, 7, TcpFlag.SYN | TcpFlag.ACK, 60);
    r.ifindex = 2;
    nf.classify(r, d);
    // a lone ACK of an unknown connection is INVALID without tcp_loose
    nf.classify(Object.assign(syn(CLIENT, 8, ip('192.168.9.9'), 443, 3), { flags: TcpFlag.ACK }), d);
    seen.push(...nf.log.map((l) => (l.prefix === 'new' ? 1 : 2)));
    expect(seen).toEqual([1, 2]);
    expect(d.verdict).toBe('dropped');
  });

  it('NOTRACK in raw leaves packets untracked: no NAT, state UNTRACKED', () => {
    const nf = node();
    kubeLike(nf, [POD_A]);
    nf.ruleset.restore(block('raw', [], [append('PREROUTING', rule({ dst: dst('10.96.0.10/32') }, { kind: 'NOTRACK' }))]));
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.UNTRACKED, invert: false } }] }, verdict('DROP')))]));
    const d = nf.classify(syn(CLIENT, 1, VIP, 80), new Decision());
    expect(d.verdict).toBe('dropped');
    expect(d.daddr).toBe(VIP);
  });

  it('drops new connections when the table is full of assured entries (early_drop finds nothing)', () => {
    const nf = node({ conntrack: { max: 4, buckets: 512 } });
    const d = new Decision();
    const server = ip('192.168.9.9');
    for (let i = 0; i < 4; i++) {
      const p = syn(CLIENT, 100 + i, server, 443, 3);
      nf.classify(p, d);
      const r = new Packet(Protocol.TCP, server, 443, CLIENT, 100 + i, TcpFlag.SYN | TcpFlag.ACK, 60);
      r.ifindex = 2;
      nf.classify(r, d);
      p.flags = TcpFlag.ACK; // handshake complete: ASSURED
      nf.classify(p, d);
      expect(d.verdict).toBe('forwarded');
    }
    nf.classify(syn(CLIENT, 200, server, 443, 3), d);
    expect([d.verdict, d.reason]).toEqual(['dropped', 'table-full']);
  });
});

describe('marks, recent, sets', () => {
  it('MARK then -m mark', () => {
    const nf = node();
    nf.ruleset.restore(block('mangle', [], [append('PREROUTING', rule({}, { kind: 'MARK', value: 0x10, mask: 0xff }))]));
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ matches: [{ module: 'mark', value: 0x10, mask: 0xff, invert: false }] }, verdict('DROP')))]));
    expect(nf.classify(syn(CLIENT, 1, ip('192.168.9.9'), 443), new Decision()).verdict).toBe('dropped');
  });

  it('recent: the ssh brute-force pattern drops the 4th new connection within 60 s', () => {
    const nf = node();
    const recent = (command: 'set' | 'update', seconds = 0, hitcount = 0): MatchSpec => ({
      module: 'recent',
      command,
      name: 'SSH',
      side: 'source',
      seconds,
      reap: false,
      hitcount,
      rttl: false,
      mask: 0xffffffff,
      invert: false,
    });
    const ssh: MatchSpec = { module: 'tcp', dport: { min: 22, max: 22, invert: false } };
    const isNew: MatchSpec = { module: 'conntrack', ctstate: { states: CtStateBit.NEW, invert: false } };
    nf.ruleset.restore(
      block('filter', [], [
        append('INPUT', rule({ proto: { proto: Protocol.TCP, invert: false }, matches: [ssh, isNew, recent('set')] }, null)),
        append('INPUT', rule({ proto: { proto: Protocol.TCP, invert: false }, matches: [ssh, isNew, recent('update', 60, 4)] }, verdict('DROP'))),
      ]),
    );
    const d = new Decision();
    const out: string[] = [];
    for (let i = 0; i < 5; i++) {
      nf.classify(syn(CLIENT, 2000 + i, ip('10.0.0.1'), 22, 2), d);
      out.push(d.verdict);
      nf.clock.advance(1000);
    }
    expect(out).toEqual(['accepted', 'accepted', 'accepted', 'dropped', 'dropped']);
    nf.clock.advance(120_000);
    nf.classify(syn(CLIENT, 3000, ip('10.0.0.1'), 22, 2), d);
    expect(d.verdict).toBe('accepted');
  });

  it('--match-set needs the set to exist (checkentry) and tests membership', () => {
    const nf = node();
    const m: MatchSpec = { module: 'set', setName: 'BLOCK', dirs: ['src'], invert: false, returnNomatch: false };
    expect(() => nf.ruleset.restore(block('filter', [], [append('INPUT', rule({ matches: [m] }, verdict('DROP')))]))).toThrow(/doesn't exist/);
    nf.stateful.ipsets.create('BLOCK', 'hash:ip');
    nf.stateful.ipsets.add('BLOCK', '10.244.9.9');
    nf.ruleset.restore(block('filter', [], [append('INPUT', rule({ matches: [m] }, verdict('DROP')))]));
    expect(nf.classify(syn(CLIENT, 1, ip('10.0.0.1'), 80, 2), new Decision()).verdict).toBe('dropped');
    expect(nf.classify(syn(ip('10.244.9.8'), 1, ip('10.0.0.1'), 80, 2), new Decision()).verdict).toBe('accepted');
  });
});

describe('trace', () => {
  it('lists every rule met, and agrees with the fast path’s counts', () => {
    const nf = node();
    kubeLike(nf, [POD_A]);
    const fast = nf.classify(syn(CLIENT, 9000, VIP, 80), new Decision());
    const nf2 = node();
    kubeLike(nf2, [POD_A]);
    const traced = nf2.trace(syn(CLIENT, 9000, VIP, 80));
    expect(traced.decision.work.toJSON()).toEqual(fast.work.toJSON());
    const ruleSteps = traced.steps.filter((s) => s.rule > 0);
    expect(ruleSteps.length).toBe(fast.work.rulesEvaluated);
    expect(ruleSteps.map((s) => `${s.table}:${s.chain}:${s.rule}:${s.matched ? 'm' : '-'}`).slice(0, 4)).toEqual([
      'nat:PREROUTING:1:m',
      'nat:KUBE-SERVICES:1:m',
      'nat:KUBE-SVC-X:1:-',
      'nat:KUBE-SVC-X:2:m',
    ]);
  });
});
