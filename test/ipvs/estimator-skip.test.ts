// The rate estimator ticks only the counter sets that changed since their
// last tick or whose rates have not yet decayed to 0; every other set is at
// rest, where a tick (torvalds/linux net/netfilter/ipvs/ip_vs_est.c:
// rate = delta << 9, avg += (rate - avg) >> 2) computes delta 0 and avg 0,
// i.e. changes nothing. This checks that skipping them is exact: an engine
// with the estimator on must show the same rates as a reference that runs
// the estimator the plain way, every 2 s on every counter set the kernel
// walks (the total, each service in the table, its dests and its trash),
// driven on an identical engine with the estimator off.
import { fc, test } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { ForwardMethod } from '../../src/ipvs/flags.js';
import { Ipvs, type ServiceKey } from '../../src/ipvs/ipvs.js';
import { estimatorTick, estimatorTicks, IpvsStats, readRates } from '../../src/ipvs/stats.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { ACK, FIN, ip, SYN } from './helpers.js';

const KEYS: ServiceKey[] = [
  { proto: Protocol.TCP, addr: ip('10.0.0.1'), port: 80 },
  { proto: Protocol.TCP, addr: ip('10.0.0.2'), port: 80 },
  { proto: Protocol.UDP, addr: ip('10.0.0.1'), port: 53 },
];
const DESTS = [ip('10.1.0.1'), ip('10.1.0.2'), ip('10.1.0.3')];

type Op =
  | { kind: 'in'; svc: number; client: number; flags: number; len: number }
  | { kind: 'reply'; svc: number; dest: number; client: number; len: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'delDest'; svc: number; dest: number }
  | { kind: 'addDest'; svc: number; dest: number }
  | { kind: 'delSvc'; svc: number }
  | { kind: 'addSvc'; svc: number }
  | { kind: 'zero'; svc: number | null };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('in' as const), svc: fc.nat(2), client: fc.nat(9), flags: fc.constantFrom(SYN, ACK, FIN), len: fc.integer({ min: 40, max: 9000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reply' as const), svc: fc.nat(2), dest: fc.nat(2), client: fc.nat(9), len: fc.integer({ min: 40, max: 9000 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 120_000 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delDest' as const), svc: fc.nat(2), dest: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addDest' as const), svc: fc.nat(2), dest: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delSvc' as const), svc: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addSvc' as const), svc: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('zero' as const), svc: fc.option(fc.nat(2)) }) },
);

function portOf(k: ServiceKey): number {
  return k.fwmark === undefined ? k.port : 0;
}

function addService(ipvs: Ipvs, i: number): void {
  const key = KEYS[i]!;
  if (ipvs.getService(key) !== undefined) return;
  ipvs.addService(key, { scheduler: 'rr' });
  for (const d of DESTS) ipvs.addDest(key, d, portOf(key), { fwd: ForwardMethod.MASQ });
}

function apply(ipvs: Ipvs, op: Op, pkt: Packet, d: Decision): void {
  switch (op.kind) {
    case 'in': {
      const k = KEYS[op.svc] as { proto: number; addr: number; port: number };
      pkt.set(k.proto, ip('192.168.0.1') + op.client, 1000 + op.client, k.addr, k.port, op.flags, op.len);
      ipvs.classify(pkt, d);
      return;
    }
    case 'reply': {
      const k = KEYS[op.svc] as { proto: number; addr: number; port: number };
      pkt.set(k.proto, DESTS[op.dest]!, k.port, ip('192.168.0.1') + op.client, 1000 + op.client, ACK, op.len);
      ipvs.classify(pkt, d);
      return;
    }
    case 'advance':
      ipvs.clock.advance(op.ms);
      return;
    case 'delDest': {
      const key = KEYS[op.svc]!;
      const svc = ipvs.getService(key);
      if (svc?.dests.some((x) => x.addr === DESTS[op.dest])) ipvs.deleteDest(key, DESTS[op.dest]!, portOf(key));
      return;
    }
    case 'addDest': {
      const key = KEYS[op.svc]!;
      const svc = ipvs.getService(key);
      if (svc !== undefined && !svc.dests.some((x) => x.addr === DESTS[op.dest])) {
        ipvs.addDest(key, DESTS[op.dest]!, portOf(key), { fwd: ForwardMethod.MASQ });
      }
      return;
    }
    case 'delSvc':
      if (ipvs.getService(KEYS[op.svc]!) !== undefined) ipvs.deleteService(KEYS[op.svc]!);
      return;
    case 'addSvc':
      addService(ipvs, op.svc);
      return;
    case 'zero':
      if (op.svc === null) ipvs.zero();
      else if (ipvs.getService(KEYS[op.svc]!) !== undefined) ipvs.zero(KEYS[op.svc]);
      return;
  }
}

/** Every counter set the kernel's estimator walks, in table order. */
function walked(ipvs: Ipvs): IpvsStats[] {
  const out: IpvsStats[] = [ipvs.totalStats];
  for (const svc of ipvs.services()) {
    out.push(svc.stats);
    for (const d of svc.dests) out.push(d.stats);
    for (const d of svc.trash) out.push(d.stats);
  }
  return out;
}

function rates(ipvs: Ipvs): unknown[] {
  return walked(ipvs).map((s) => [readRates(s), { ...s.est }]);
}

function compare(ops: readonly Op[]): void {
    const real = new Ipvs({ seed: 1 });
    const ref = new Ipvs({ seed: 1, sysctl: { runEstimation: false } });
    for (let i = 0; i < KEYS.length; i++) {
      addService(real, i);
      addService(ref, i);
    }
    // The reference estimator: at each 2 s boundary, one tick per set, more
    // ticks in a jump until the set is at rest (as the engine documents).
    let next = 2000;
    const pr = new Packet();
    const pf = new Packet();
    const dr = new Decision();
    const df = new Decision();
    for (const op of ops) {
      if (op.kind === 'advance') {
        const target = ref.clock.now + op.ms;
        if (target >= next) {
          const ticks = Math.floor((target - next) / 2000) + 1;
          next += ticks * 2000;
          ref.clock.advanceTo(target);
          for (const s of walked(ref)) {
            for (let i = 0; i < ticks; i++) {
              estimatorTick(s);
              const e = s.est;
              if (e.cps === 0 && e.inpps === 0 && e.outpps === 0 && e.inbps === 0 && e.outbps === 0) break;
            }
          }
        } else {
          ref.clock.advanceTo(target);
        }
        real.clock.advance(op.ms);
      } else {
        apply(real, op, pr, dr);
        apply(ref, op, pf, df);
      }
      expect(rates(real)).toEqual(rates(ref));
    }
}

test.prop([fc.array(opArb, { minLength: 1, maxLength: 80 })], { numRuns: 80 })(
  'skipping counter sets at rest gives the rates of ticking every set every 2 s',
  (ops) => {
    compare(ops);
  },
);

it('a counter set at rest is estimated again when a packet of an existing connection moves it', () => {
  // SYN and ACK open a connection (ESTABLISHED: 900 s); 200 s of silence decay
  // every rate to 0 (avg -= avg/4 each 2 s tick, floored); then one more ACK
  // on the same connection (no new connection, so only the in-counters move)
  // must show up in the dest's and the service's inpps after the next tick.
  compare([
    { kind: 'in', svc: 0, client: 1, flags: SYN, len: 60 },
    { kind: 'in', svc: 0, client: 1, flags: ACK, len: 60 },
    { kind: 'advance', ms: 200_000 },
    { kind: 'in', svc: 0, client: 1, flags: ACK, len: 1500 },
    { kind: 'advance', ms: 2000 },
    // and likewise a reply alone (the out-counters)
    { kind: 'advance', ms: 200_000 },
    { kind: 'in', svc: 0, client: 2, flags: SYN, len: 60 },
    { kind: 'advance', ms: 200_000 },
    { kind: 'reply', svc: 0, dest: 0, client: 2, len: 1500 },
    { kind: 'reply', svc: 0, dest: 1, client: 2, len: 1500 },
    { kind: 'reply', svc: 0, dest: 2, client: 2, len: 1500 },
    { kind: 'advance', ms: 2000 },
  ]);
});

test.prop([fc.array(fc.tuple(fc.nat(5000), fc.nat(5000), fc.nat(5000), fc.nat(10_000_000), fc.nat(10_000_000), fc.nat(40)), { minLength: 1, maxLength: 8 })])(
  'estimatorTicks(s, n) equals n estimatorTick calls stopped once all rates are 0',
  (steps) => {
    const a = new IpvsStats();
    const b = new IpvsStats();
    for (const [conns, inp, outp, inb, outb, ticks] of steps) {
      for (const s of [a, b]) {
        s.conns += conns;
        s.inPkts += inp;
        s.outPkts += outp;
        s.inBytes += inb;
        s.outBytes += outb;
      }
      estimatorTicks(a, ticks);
      for (let i = 0; i < ticks; i++) {
        estimatorTick(b);
        const e = b.est;
        if (e.cps === 0 && e.inpps === 0 && e.outpps === 0 && e.inbps === 0 && e.outbps === 0) break;
      }
      expect(a.est).toEqual(b.est);
    }
  },
);
