// Connection entries are recycled: when an entry expires the engine keeps the
// object on a free list and re-initialises it for a later connection (as the
// kernel reuses ip_vs_conn slab objects), and the connection table reuses the
// record slot it freed. A reused entry must carry nothing from its previous
// life. These tests check that in two ways:
//
// 1. Example: an entry that lived as an ESTABLISHED TCP connection under a
//    persistence template comes back as a UDP flow with exactly the fields
//    ip_vs_conn_new gives a new entry (torvalds/linux
//    net/netfilter/ipvs/ip_vs_conn.c: state 0, no control, n_control 0, the
//    dest's conn_flags, which carry IP_VS_CONN_F_INACTIVE, see __ip_vs_update_dest
//    in ip_vs_ctl.c; then one packet counted and the UDP timeout armed).
// 2. Property: engine B first churns many entries through every kind of state
//    (templates, controlled connections, NAT replies, FIN/RST, one-packet
//    flows) on services of its own, deletes them and lets everything expire,
//    so its free list is full of used objects. Engine A is fresh. Both then run
//    the same random sequence on the same services: every decision, every
//    work count, every connection's fields and every dest counter must be
//    identical, and every entry B holds must be one of its recycled objects.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import type { Conn } from '../../src/ipvs/conn.js';
import { ConnFlag } from '../../src/ipvs/conn.js';
import { ForwardMethod } from '../../src/ipvs/flags.js';
import { Ipvs, type ServiceKey, type ServiceOptions } from '../../src/ipvs/ipvs.js';
import { TcpState } from '../../src/ipvs/tcp-state.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { createRng } from '../../src/sim/rng.js';
import { ACK, FIN, ip, RST, SYN } from './helpers.js';

interface Svc {
  key: ServiceKey & { proto: number; addr: number; port: number };
  opts: ServiceOptions;
  dests: number[];
  fwd: ForwardMethod;
}

const SERVICES: Svc[] = [
  { key: { proto: Protocol.TCP, addr: ip('10.0.0.1'), port: 80 }, opts: { scheduler: 'rr' }, dests: [ip('10.1.0.1'), ip('10.1.0.2'), ip('10.1.0.3')], fwd: ForwardMethod.MASQ },
  { key: { proto: Protocol.TCP, addr: ip('10.0.0.2'), port: 443 }, opts: { scheduler: 'rr', persistent: true, timeout: 30 }, dests: [ip('10.2.0.1'), ip('10.2.0.2')], fwd: ForwardMethod.DROUTE },
  { key: { proto: Protocol.UDP, addr: ip('10.0.0.1'), port: 53 }, opts: { scheduler: 'wlc' }, dests: [ip('10.3.0.1'), ip('10.3.0.2')], fwd: ForwardMethod.MASQ },
  { key: { proto: Protocol.UDP, addr: ip('10.0.0.3'), port: 53 }, opts: { scheduler: 'rr', onePacket: true }, dests: [ip('10.4.0.1')], fwd: ForwardMethod.MASQ },
];

// Services only engine B uses before the common sequence.
const CHURN: Svc[] = [
  { key: { proto: Protocol.TCP, addr: ip('10.9.0.1'), port: 80 }, opts: { scheduler: 'rr', persistent: true, timeout: 120 }, dests: [ip('10.9.1.1'), ip('10.9.1.2')], fwd: ForwardMethod.MASQ },
  { key: { proto: Protocol.TCP, addr: ip('10.9.0.2'), port: 8080 }, opts: { scheduler: 'lc' }, dests: [ip('10.9.2.1'), ip('10.9.2.2')], fwd: ForwardMethod.DROUTE },
  { key: { proto: Protocol.UDP, addr: ip('10.9.0.3'), port: 53 }, opts: { scheduler: 'rr' }, dests: [ip('10.9.3.1')], fwd: ForwardMethod.MASQ },
];

function addAll(ipvs: Ipvs, list: readonly Svc[]): void {
  for (const s of list) {
    ipvs.addService(s.key, s.opts);
    for (const d of s.dests) ipvs.addDest(s.key, d, s.key.port === 80 ? 8080 : s.key.port, { fwd: s.fwd });
  }
}

/** Every public field of an entry, with references replaced by what identifies them. */
function snapshot(c: Conn): unknown {
  return {
    proto: c.proto,
    caddr: c.caddr,
    cport: c.cport,
    vaddr: c.vaddr,
    vport: c.vport,
    daddr: c.daddr,
    dport: c.dport,
    flags: c.flags,
    state: c.state,
    timeoutMs: c.timeoutMs,
    expires: c.expires,
    dest: c.dest === null ? null : [c.dest.addr, c.dest.port],
    control: c.control === null ? null : [c.control.caddr, c.control.vaddr, c.control.vport],
    nControl: c.nControl,
    fwmark: c.fwmark,
    inPkts: c.inPkts,
  };
}

function destCounters(ipvs: Ipvs): unknown[] {
  const out: unknown[] = [];
  for (const s of SERVICES) {
    const svc = ipvs.getService(s.key)!;
    out.push(svc.stats.read());
    for (const d of svc.dests) out.push([d.addr, d.activeConns, d.inactConns, d.persistConns, d.flags, d.refs, d.stats.read()]);
  }
  return out;
}

function decisionOf(d: Decision): unknown {
  return {
    verdict: d.verdict,
    reason: d.reason,
    newConnection: d.newConnection,
    direction: d.direction,
    hasBackend: d.hasBackend,
    backendAddr: d.backendAddr,
    backendPort: d.backendPort,
    saddr: d.saddr,
    sport: d.sport,
    daddr: d.daddr,
    dport: d.dport,
    work: d.work.toJSON(),
  };
}

const FLAG_CHOICES = [SYN, ACK, FIN, RST, SYN | ACK, FIN | ACK, 0];

/**
 * Drives engine B through many entries in every kind of state, then deletes
 * the churn services; returns every entry object it saw.
 */
function churn(ipvs: Ipvs, seed: number): Set<Conn> {
  const seen = new Set<Conn>();
  const rng = createRng(`churn-${seed}`);
  const pkt = new Packet();
  const d = new Decision();
  addAll(ipvs, CHURN);
  for (let i = 0; i < 400; i++) {
    const s = CHURN[rng.below(CHURN.length)]!;
    const client = ip('192.168.9.0') + rng.below(24);
    const cport = 2000 + rng.below(8);
    if (rng.below(4) === 0) {
      // a reply from some real server of that service (NAT entries see it)
      const server = s.dests[rng.below(s.dests.length)]!;
      pkt.set(s.key.proto, server, s.key.port === 80 ? 8080 : s.key.port, client, cport, FLAG_CHOICES[rng.below(FLAG_CHOICES.length)]);
    } else {
      pkt.set(s.key.proto, client, cport, s.key.addr, s.key.port, FLAG_CHOICES[rng.below(FLAG_CHOICES.length)]);
    }
    ipvs.classify(pkt, d);
    for (const c of ipvs.connections()) seen.add(c);
    if (rng.below(8) === 0) ipvs.clock.advance(rng.below(5000));
  }
  for (const s of CHURN) ipvs.deleteService(s.key);
  return seen;
}

type Op =
  | { kind: 'in'; svc: number; client: number; cport: number; flags: number; len: number }
  | { kind: 'reply'; svc: number; dest: number; client: number; cport: number; flags: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'weight'; svc: number; dest: number; weight: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('in' as const), svc: fc.nat(SERVICES.length - 1), client: fc.nat(5), cport: fc.nat(3), flags: fc.constantFrom(...FLAG_CHOICES), len: fc.integer({ min: 40, max: 1500 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reply' as const), svc: fc.nat(SERVICES.length - 1), dest: fc.nat(2), client: fc.nat(5), cport: fc.nat(3), flags: fc.constantFrom(...FLAG_CHOICES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 400_000 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('weight' as const), svc: fc.nat(SERVICES.length - 1), dest: fc.nat(2), weight: fc.nat(2) }) },
);

function apply(ipvs: Ipvs, op: Op, pkt: Packet, d: Decision): unknown {
  const s = SERVICES[op.kind === 'advance' ? 0 : op.svc]!;
  switch (op.kind) {
    case 'in':
      pkt.set(s.key.proto, ip('192.168.0.10') + op.client, 1024 + op.cport, s.key.addr, s.key.port, op.flags, op.len);
      return decisionOf(ipvs.classify(pkt, d));
    case 'reply': {
      const server = s.dests[op.dest % s.dests.length]!;
      pkt.set(s.key.proto, server, s.key.port === 80 ? 8080 : s.key.port, ip('192.168.0.10') + op.client, 1024 + op.cport, op.flags);
      return decisionOf(ipvs.classify(pkt, d));
    }
    case 'advance':
      ipvs.clock.advance(op.ms);
      return null;
    case 'weight': {
      const server = s.dests[op.dest % s.dests.length]!;
      ipvs.editDest(s.key, server, s.key.port === 80 ? 8080 : s.key.port, { weight: op.weight, fwd: s.fwd });
      return null;
    }
  }
}

describe('recycled connection entries', () => {
  it('an entry that was an ESTABLISHED, template-controlled TCP connection comes back as a clean UDP flow', () => {
    const ipvs = new Ipvs({ seed: 3, sysctl: { runEstimation: false } });
    const pkt = new Packet();
    const d = new Decision();
    const web = CHURN[0]!;
    const dns = SERVICES[2]!;
    addAll(ipvs, [web, dns]);
    // A persistent TCP connection: a template plus the connection it controls.
    pkt.set(Protocol.TCP, ip('192.168.1.1'), 4000, web.key.addr, 80, SYN);
    ipvs.classify(pkt, d);
    pkt.set(Protocol.TCP, ip('192.168.1.1'), 4000, web.key.addr, 80, ACK, 1000);
    ipvs.classify(pkt, d);
    const used = [...ipvs.connections()];
    const conn = used.find((c) => !c.isTemplate)!;
    expect(conn.state).toBe(TcpState.ESTABLISHED);
    expect(conn.control).not.toBeNull();
    expect(conn.inPkts).toBe(2);
    // ESTABLISHED lasts 900 s, the template 120 s then 60 s re-checks: all gone after 2000 s.
    ipvs.clock.advance(2_000_000);
    expect(ipvs.connectionCount).toBe(0);

    // The most recently freed object is reused first (LIFO, like a slab's per-cpu cache).
    pkt.set(Protocol.UDP, ip('192.168.2.2'), 5353, dns.key.addr, 53, 0, 80);
    ipvs.classify(pkt, d);
    const [udp] = [...ipvs.connections()];
    expect(used).toContain(udp);
    // ip_vs_conn_new: a fresh entry; the dest's conn_flags are the forwarding
    // method (MASQ = 0) plus IP_VS_CONN_F_INACTIVE; UDP keeps state 0 and arms
    // the UDP timeout (300 s) on its first packet.
    expect(snapshot(udp!)).toEqual({
      proto: Protocol.UDP,
      caddr: ip('192.168.2.2'),
      cport: 5353,
      vaddr: dns.key.addr,
      vport: 53,
      daddr: udp!.dest!.addr,
      dport: 53,
      flags: ForwardMethod.MASQ | ConnFlag.INACTIVE,
      state: 0,
      timeoutMs: 300_000,
      expires: 2_000_000 + 300_000,
      dest: [udp!.dest!.addr, 53],
      control: null,
      nControl: 0,
      fwmark: 0,
      inPkts: 1,
    });
    expect(udp!.isTemplate).toBe(false);
    // It is found again by its new tuple only.
    pkt.set(Protocol.UDP, ip('192.168.2.2'), 5353, dns.key.addr, 53, 0, 80);
    expect(ipvs.classify(pkt, d).reason).toBe('established');
    pkt.set(Protocol.TCP, ip('192.168.1.1'), 4000, web.key.addr, 80, ACK);
    expect(ipvs.classify(pkt, d).verdict).toBe('accepted');
  });

  test.prop([fc.integer(), fc.array(opArb, { minLength: 1, maxLength: 60 })], { numRuns: 60 })(
    'a recycled entry behaves exactly like a fresh one (engine with a dirty free list vs a fresh engine)',
    (seed, ops) => {
      const a = new Ipvs({ seed, sysctl: { runEstimation: false } });
      const b = new Ipvs({ seed, sysctl: { runEstimation: false } });
      addAll(a, SERVICES);
      addAll(b, SERVICES);
      const recycled = churn(b, seed);
      // Every entry B ever had goes to its free list once it expires.
      expect(recycled.size).toBeGreaterThanOrEqual(30);
      b.clock.advance(3_600_000);
      expect(b.connectionCount).toBe(0);
      a.clock.advanceTo(b.clock.now);
      const pa = new Packet();
      const pb = new Packet();
      const da = new Decision();
      const db = new Decision();
      let peak = 0;
      for (const op of ops) {
        const ra = apply(a, op, pa, da);
        const rb = apply(b, op, pb, db);
        expect(rb).toEqual(ra);
        const inA = [...a.connections()].map(snapshot);
        const inB = [...b.connections()];
        expect(inB.map(snapshot)).toEqual(inA);
        expect(destCounters(b)).toEqual(destCounters(a));
        // B allocates a new object only once its free list (all the churned
        // objects) is used up, i.e. when more entries are live than it holds.
        peak = Math.max(peak, inB.length);
        const fresh = inB.filter((c) => !recycled.has(c)).length;
        expect(fresh).toBeLessThanOrEqual(Math.max(0, peak - recycled.size));
      }
      expect(b.connectionCount).toBe(a.connectionCount);
    },
  );
});
