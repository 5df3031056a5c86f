import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import type { Conntrack } from '../../src/conntrack/conntrack.js';
import { IPS, TcpState } from '../../src/conntrack/constants.js';
import type { ConntrackEntry } from '../../src/conntrack/entry.js';
import { ConntrackTuple } from '../../src/conntrack/tuple.js';
import { ipv4 } from '../../src/net/ipv4.js';
import type { Packet } from '../../src/net/packet.js';
import { createRng } from '../../src/sim/rng.js';
import { ACK, B, C, C2, FINACK, icmp, makeCt, N, S, SYN, SYNACK, tcp, udp } from './helpers.js';

/** First packet of a connection through NAT: track, bind, confirm. Returns the entry. */
function open(ct: Conntrack, pkt: Packet, bind: (e: ConntrackEntry) => void): ConntrackEntry {
  const lk = ct.conntrackIn(pkt, new WorkCounts());
  const e = lk.entry!;
  expect(lk.ctinfo).toBe('NEW');
  bind(e);
  expect(ct.confirm(e)).toBe(true);
  return e;
}

function natted(ct: Conntrack, e: ConntrackEntry, p: Packet, dir: 0 | 1): Packet {
  const q = p.clone();
  ct.applyNat(e, dir, 'dst', q);
  ct.applyNat(e, dir, 'src', q);
  return q;
}

/*
 * nf_nat_setup_info (torvalds/linux net/netfilter/nf_nat_core.c): the
 * current tuple is invert(reply); get_unique_tuple picks the new original
 * tuple; the reply becomes its inverse. nf_nat_packet: a packet in direction
 * d takes the fields of invert(tuple[!d]) for the manip type that applies
 * (SRC_NAT / DST_NAT, swapped in the reply direction).
 */
describe('NAT bindings', () => {
  it('DNAT: replies match the reply direction and are translated back to the original addresses', () => {
    const { ct } = makeCt();
    const syn = tcp(C, 40000, S, 80, SYN);
    const e = open(ct, syn, (x) => expect(ct.setNat(x, 'dst', B, 8080)).toBe(true));
    // Reply tuple becomes B:8080 -> C:40000.
    expect([e.reply.src, e.reply.sport, e.reply.dst, e.reply.dport]).toEqual([B, 8080, C, 40000]);
    expect(e.status & (IPS.DST_NAT | IPS.DST_NAT_DONE)).toBe(IPS.DST_NAT | IPS.DST_NAT_DONE);
    expect(e.status & IPS.SRC_NAT).toBe(0);
    // The SYN leaves for the backend.
    const out = natted(ct, e, syn, 0);
    expect([out.saddr, out.sport, out.daddr, out.dport]).toEqual([C, 40000, B, 8080]);
    // The backend's SYN/ACK matches the reply tuple and is un-DNATed.
    const synack = tcp(B, 8080, C, 40000, SYNACK);
    const lk = ct.conntrackIn(synack, new WorkCounts());
    expect([lk.entry, lk.dir, lk.ctinfo]).toEqual([e, 'reply', 'ESTABLISHED']);
    const back = natted(ct, e, synack, 1);
    expect([back.saddr, back.sport, back.daddr, back.dport]).toEqual([S, 80, C, 40000]);
    const t = new ConntrackTuple();
    expect(ct.natTuple(e, 0, t).toString()).toBe('src=10.0.0.1 dst=10.2.0.1 sport=40000 dport=8080');
    expect(ct.natTuple(e, 1, t).toString()).toBe('src=10.1.0.1 dst=10.0.0.1 sport=80 dport=40000');
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 tcp      6 60 SYN_RECV src=10.0.0.1 dst=10.1.0.1 sport=40000 dport=80 ' +
        'src=10.2.0.1 dst=10.0.0.1 sport=8080 dport=40000 mark=0 zone=0 use=2',
    );
  });

  it('SNAT keeps the source port when unique, else searches 1024-65535 from a random offset', () => {
    const seed = 7;
    const { ct } = makeCt({}, seed);
    const a = open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setNat(x, 'src', N));
    expect([a.reply.src, a.reply.dst, a.reply.dport]).toEqual([S, N, 5000]);
    expect(a.status & IPS.SRC_NAT).not.toBe(0);
    // Same port from another client: N:5000 -> S:80 is taken (its reply S:80 -> N:5000
    // exists), so nf_nat_l4proto_unique_tuple tries min + off % size with min 1024,
    // size 64512 and off = get_random_u16(). The rng: one uint32 for the hash key,
    // below(30) for the first confirmation's chain limit, then the offset.
    const r = createRng(seed);
    r.uint32();
    r.below(30);
    const off = r.below(65536);
    const b = open(ct, tcp(C2, 5000, S, 80, SYN), (x) => ct.setNat(x, 'src', N));
    expect(b.reply.dport).toBe(1024 + (off % 64512));
    // The server's reply reaches the right client.
    const reply = tcp(S, 80, N, b.reply.dport, SYNACK);
    const lk = ct.conntrackIn(reply, new WorkCounts());
    expect([lk.entry, lk.dir]).toEqual([b, 'reply']);
    const back = natted(ct, b, reply, 1);
    expect([back.saddr, back.sport, back.daddr, back.dport]).toEqual([S, 80, C2, 5000]);
  });

  it('a second connection from a mapped source reuses its mapping (find_appropriate_src)', () => {
    const { ct } = makeCt();
    open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setNat(x, 'src', N));
    const b = open(ct, tcp(C2, 5000, S, 80, SYN), (x) => ct.setNat(x, 'src', N));
    const p = b.reply.dport;
    expect(p).not.toBe(5000);
    // C2:5000 to another server: N:5000 would be free, but the existing mapping of C2:5000 wins.
    const S3 = ipv4(10, 1, 0, 3);
    const c = open(ct, tcp(C2, 5000, S3, 443, SYN), (x) => ct.setNat(x, 'src', N));
    expect([c.reply.dst, c.reply.dport]).toEqual([N, p]);
  });

  it('--random-fully picks a random port even when the original is free', () => {
    const seed = 'rf';
    const { ct } = makeCt({}, seed);
    const r = createRng(seed);
    r.uint32();
    const off = r.below(65536);
    const e = open(ct, tcp(C, 5000, S, 80, SYN), (x) =>
      ct.setupNat(x, 'src', { minAddr: N, randomFully: true }),
    );
    expect(e.reply.dport).toBe(1024 + (off % 64512));
  });

  it('a port range: unique ports while they last, then a duplicate that confirmation refuses', () => {
    const { ct } = makeCt();
    const range = { minAddr: N, minPort: 30000, maxPort: 30001 };
    const a = open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setupNat(x, 'src', range));
    const b = open(ct, tcp(C2, 5000, S, 80, SYN), (x) => ct.setupNat(x, 'src', range));
    expect([a.reply.dport, b.reply.dport].sort()).toEqual([30000, 30001]);
    const lk = ct.conntrackIn(tcp(ipv4(10, 0, 0, 3), 5000, S, 80, SYN), new WorkCounts());
    const c = lk.entry!;
    ct.setupNat(c, 'src', range);
    expect([30000, 30001]).toContain(c.reply.dport);
    expect(ct.confirm(c)).toBe(false);
    expect([ct.count, ct.stats.insertFailed, c.dying]).toEqual([2, 1, true]);
  });

  it('in the last attempts a TCP SYN evicts a SNATed TIME_WAIT entry holding the port', () => {
    const { ct } = makeCt();
    const one = { minAddr: N, minPort: 30000, maxPort: 30000 };
    const a = open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setupNat(x, 'src', one));
    expect(a.reply.dport).toBe(30000);
    // Handshake and close through the NAT (replies arrive at N:30000).
    for (const [p, dir] of [
      [tcp(S, 80, N, 30000, SYNACK), 1],
      [tcp(C, 5000, S, 80, ACK), 0],
      [tcp(C, 5000, S, 80, FINACK), 0],
      [tcp(S, 80, N, 30000, FINACK), 1],
      [tcp(C, 5000, S, 80, ACK), 0],
    ] as const) {
      const lk = ct.conntrackIn(p, new WorkCounts());
      expect([lk.entry, lk.dirIndex]).toEqual([a, dir]);
    }
    expect(a.tcpState).toBe(TcpState.TIME_WAIT);
    const b = open(ct, tcp(C2, 6000, S, 80, SYN), (x) => ct.setupNat(x, 'src', one));
    expect(b.reply.dport).toBe(30000);
    expect([a.dying, ct.count]).toEqual([true, 1]);
  });

  it('an ESTABLISHED holder is not evicted: the duplicate fails at confirmation', () => {
    const { ct } = makeCt();
    const one = { minAddr: N, minPort: 30000, maxPort: 30000 };
    const a = open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setupNat(x, 'src', one));
    ct.conntrackIn(tcp(S, 80, N, 30000, SYNACK), new WorkCounts());
    ct.conntrackIn(tcp(C, 5000, S, 80, ACK), new WorkCounts());
    expect(a.tcpState).toBe(TcpState.ESTABLISHED);
    const lk = ct.conntrackIn(tcp(C2, 6000, S, 80, SYN), new WorkCounts());
    ct.setupNat(lk.entry!, 'src', one);
    expect(ct.confirm(lk.entry!)).toBe(false);
    expect(a.dying).toBe(false);
  });

  it('null binding: unchanged when unique; a local connection clashing with a masqueraded one gets a new port', () => {
    const { ct } = makeCt();
    // A client masqueraded to N:5000 (the example of nf_nat_used_tuple's comment) ...
    open(ct, tcp(C, 5000, S, 80, SYN), (x) => ct.setNat(x, 'src', N));
    // ... then N itself connects from port 5000 to the same server: no SNAT rule, null binding.
    const lk = ct.conntrackIn(tcp(N, 5000, S, 80, SYN), new WorkCounts());
    const e = lk.entry!;
    expect(ct.allocNullBinding(e, 'dst')).toBe(true);
    expect(e.status & IPS.DST_NAT).toBe(0);
    expect(ct.allocNullBinding(e, 'src')).toBe(true);
    expect(e.status & IPS.SRC_NAT).not.toBe(0);
    expect(e.reply.dst).toBe(N);
    expect(e.reply.dport).not.toBe(5000);
    expect(e.reply.dport).toBeGreaterThanOrEqual(1024);
    expect(ct.confirm(e)).toBe(true);
    // A unique flow keeps its tuple: only SRC_NAT_DONE.
    const lk2 = ct.conntrackIn(udp(C2, 7000, S, 53), new WorkCounts());
    const f = lk2.entry!;
    ct.allocNullBinding(f, 'src');
    expect(f.status & (IPS.SRC_NAT | IPS.SRC_NAT_DONE)).toBe(IPS.SRC_NAT_DONE);
    expect(ct.natInitialized(f, 'src')).toBe(true);
    expect(ct.natInitialized(f, 'dst')).toBe(false);
  });

  it('a manip is set up once; confirmed entries are left alone', () => {
    const { ct } = makeCt();
    const lk = ct.conntrackIn(udp(C, 5000, S, 53), new WorkCounts());
    const e = lk.entry!;
    expect(ct.setNat(e, 'dst', B, 53)).toBe(true);
    expect(ct.setNat(e, 'dst', B, 54)).toBe(false);
    expect(e.reply.sport).toBe(53);
    ct.confirm(e);
    expect(ct.setNat(e, 'src', N)).toBe(true);
    expect(e.status & IPS.SRC_NAT_DONE).toBe(0);
  });

  it('an address range: the choice hashes source and destination, is stable, and --persistent ignores the destination', () => {
    const lo = ipv4(10, 2, 0, 1);
    const hi = ipv4(10, 2, 0, 8);
    const pick = (src: number, dst: number, persistent: boolean): number => {
      const { ct } = makeCt({ buckets: 512 });
      const lk = ct.conntrackIn(udp(src, 5000, dst, 53), new WorkCounts());
      ct.setupNat(lk.entry!, 'dst', { minAddr: lo, maxAddr: hi, persistent });
      return lk.entry!.reply.src;
    };
    const seen = new Set<number>();
    for (let i = 1; i <= 40; i++) {
      const a = pick(ipv4(10, 0, 1, i), S, false);
      expect(a >= lo && a <= hi).toBe(true);
      expect(pick(ipv4(10, 0, 1, i), S, false)).toBe(a);
      seen.add(a);
      const p = pick(ipv4(10, 0, 1, i), S, true);
      expect(pick(ipv4(10, 0, 1, i), ipv4(10, 9, 9, 9), true)).toBe(p);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('ICMP: addresses are translated, type and code (in the port fields) are not', () => {
    const { ct } = makeCt();
    const req = icmp(C, S, 8);
    const e = open(ct, req, (x) => ct.setNat(x, 'src', N));
    const out = natted(ct, e, req, 0);
    expect([out.saddr, out.daddr, out.dport, out.sport]).toEqual([N, S, 8, 0]);
  });
});
