// Model-based test of the connection table and the dest counters: a plain
// model written from the kernel rules (ipvs.md §3.2–3.4, §7, and the
// INPUT-ONLY rows of tcp_states[] in torvalds/linux
// net/netfilter/ipvs/ip_vs_proto_tcp.c, restated below for the states a
// direct-routing connection can reach) runs beside the real engine.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { ForwardMethod } from '../../src/ipvs/flags.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { ACK, FIN, RST, SYN, TCP80, VIP } from './helpers.js';

type St = 'SR' | 'ES' | 'FW' | 'TW' | 'CL';
const TIMEOUT_S: Record<St, number> = { SR: 60, ES: 900, FW: 120, TW: 120, CL: 10 };
// INPUT-ONLY transitions (direct routing never sees output packets).
const NEXT: Record<'ack' | 'fin' | 'rst', Record<St, St>> = {
  ack: { SR: 'ES', ES: 'ES', FW: 'FW', TW: 'TW', CL: 'CL' },
  fin: { SR: 'TW', ES: 'FW', FW: 'FW', TW: 'TW', CL: 'CL' },
  rst: { SR: 'SR', ES: 'CL', FW: 'CL', TW: 'CL', CL: 'CL' },
};

interface MServer {
  addr: number;
  weight: number;
  u: number;
  l: number;
  overload: boolean;
  live: boolean;
}
interface MConn {
  cport: number;
  server: MServer;
  state: St;
  expires: number;
}
interface Model {
  now: number;
  servers: MServer[];
  conns: MConn[];
  nextAddr: number;
  nextPort: number;
}
interface Real {
  ipvs: Ipvs;
  pkt: Packet;
  d: Decision;
}

const CLIENT = 0xc0a80001;

function total(m: Model, s: MServer): number {
  return m.conns.filter((c) => c.server === s).length;
}

function unbindClears(s: MServer, t: number): boolean {
  if (s.l !== 0) return t < s.l;
  if (s.u !== 0) return t * 4 < s.u * 3;
  return true;
}

function check(m: Model, r: Real): void {
  expect(r.ipvs.connectionCount).toBe(m.conns.length);
  const svc = r.ipvs.getService(TCP80)!;
  for (const s of m.servers) {
    const dest = s.live ? svc.dests.find((d) => d.addr === s.addr) : svc.trash.find((d) => d.addr === s.addr);
    const mine = m.conns.filter((c) => c.server === s);
    if (dest === undefined) {
      expect(mine.length).toBe(0);
      continue;
    }
    expect(dest.activeConns).toBe(mine.filter((c) => c.state === 'ES').length);
    expect(dest.inactConns).toBe(mine.filter((c) => c.state !== 'ES').length);
    expect(dest.activeConns).toBeGreaterThanOrEqual(0);
    expect(dest.inactConns).toBeGreaterThanOrEqual(0);
    if (s.live) expect(dest.overloaded).toBe(s.overload);
  }
}

class AddServer implements fc.Command<Model, Real> {
  readonly weight: number;
  readonly u: number;
  readonly l: number;
  constructor(weight: number, u: number, l: number) {
    this.weight = weight;
    this.u = u;
    this.l = l;
  }
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const s: MServer = { addr: m.nextAddr++, weight: this.weight, u: this.u, l: this.l, overload: false, live: true };
    r.ipvs.addDest(TCP80, s.addr, 80, { weight: s.weight, uThreshold: s.u, lThreshold: s.l, fwd: ForwardMethod.DROUTE });
    m.servers.push(s);
    check(m, r);
  }
  toString(): string {
    return `add(w=${this.weight},u=${this.u},l=${this.l})`;
  }
}

class RemoveServer implements fc.Command<Model, Real> {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
  check(m: Readonly<Model>): boolean {
    return m.servers.some((s) => s.live);
  }
  run(m: Model, r: Real): void {
    const live = m.servers.filter((s) => s.live);
    const s = live[this.index % live.length]!;
    r.ipvs.deleteDest(TCP80, s.addr, 80);
    s.live = false;
    check(m, r);
  }
  toString(): string {
    return `remove(${this.index})`;
  }
}

class EditServer implements fc.Command<Model, Real> {
  readonly index: number;
  readonly weight: number;
  readonly u: number;
  readonly l: number;
  constructor(index: number, weight: number, u: number, l: number) {
    this.index = index;
    this.weight = weight;
    this.u = u;
    this.l = l;
  }
  check(m: Readonly<Model>): boolean {
    return m.servers.some((s) => s.live);
  }
  run(m: Model, r: Real): void {
    const live = m.servers.filter((s) => s.live);
    const s = live[this.index % live.length]!;
    r.ipvs.editDest(TCP80, s.addr, 80, { weight: this.weight, uThreshold: this.u, lThreshold: this.l });
    if (this.u === 0 || this.u > s.u) s.overload = false;
    s.weight = this.weight;
    s.u = this.u;
    s.l = this.l;
    check(m, r);
  }
  toString(): string {
    return `edit(${this.index},w=${this.weight},u=${this.u},l=${this.l})`;
  }
}

class Connect implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const cport = m.nextPort++;
    r.pkt.set(Protocol.TCP, CLIENT, cport, VIP, 80, SYN);
    r.ipvs.classify(r.pkt, r.d);
    const eligible = m.servers.filter((s) => s.live && s.weight > 0 && !s.overload);
    if (eligible.length === 0) {
      expect(r.d.verdict).toBe('rejected');
      return;
    }
    expect(r.d.verdict).toBe('forwarded');
    const s = eligible.find((x) => x.addr === r.d.backendAddr);
    expect(s, 'picked a server the model considers eligible').toBeDefined();
    m.conns.push({ cport, server: s!, state: 'SR', expires: m.now + TIMEOUT_S.SR * 1000 });
    if (s!.u !== 0 && total(m, s!) >= s!.u) s!.overload = true;
    check(m, r);
  }
  toString(): string {
    return 'connect';
  }
}

class Segment implements fc.Command<Model, Real> {
  readonly conn: number;
  readonly kind: 'ack' | 'fin' | 'rst';
  constructor(conn: number, kind: 'ack' | 'fin' | 'rst') {
    this.conn = conn;
    this.kind = kind;
  }
  check(m: Readonly<Model>): boolean {
    return m.conns.length > 0;
  }
  run(m: Model, r: Real): void {
    const c = m.conns[this.conn % m.conns.length]!;
    const flags = this.kind === 'ack' ? ACK : this.kind === 'fin' ? FIN | ACK : RST;
    r.pkt.set(Protocol.TCP, CLIENT, c.cport, VIP, 80, flags);
    r.ipvs.classify(r.pkt, r.d);
    if (!c.server.live) {
      expect(r.d.verdict).toBe('dropped');
      return;
    }
    expect(r.d.verdict).toBe('forwarded');
    expect(r.d.backendAddr).toBe(c.server.addr);
    c.state = NEXT[this.kind][c.state];
    c.expires = m.now + TIMEOUT_S[c.state] * 1000;
    check(m, r);
  }
  toString(): string {
    return `${this.kind}(${this.conn})`;
  }
}

class Advance implements fc.Command<Model, Real> {
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.ipvs.clock.advance(this.ms);
    const expired = m.conns.filter((c) => c.expires <= m.now);
    m.conns = m.conns.filter((c) => c.expires > m.now);
    for (const s of new Set(expired.map((c) => c.server))) {
      if (unbindClears(s, total(m, s))) s.overload = false;
    }
    check(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const threshold = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 }));
// (upper, lower) with lower ≤ upper, and no lower threshold without an upper one (ipvs.md §7.1).
const thresholds: fc.Arbitrary<[number, number]> = fc.tuple(threshold, threshold).map(([a, b]): [number, number] => {
  const u = Math.max(a, b);
  return u === 0 ? [0, 0] : [u, Math.min(a, b)];
});
const segmentKind = fc.constantFrom<'ack' | 'fin' | 'rst'>('ack', 'fin', 'rst');

const commands = fc.commands(
  [
    fc.tuple(fc.integer({ min: 0, max: 4 }), thresholds).map(([w, [u, l]]) => new AddServer(w, u, l)),
    fc.nat(20).map((i) => new RemoveServer(i)),
    fc
      .tuple(fc.nat(20), fc.integer({ min: 0, max: 4 }), thresholds)
      .map(([i, w, [u, l]]) => new EditServer(i, w, u, l)),
    ...Array.from({ length: 4 }, () => fc.constant(new Connect())),
    ...Array.from({ length: 3 }, () =>
      fc
        .tuple(fc.nat(50), segmentKind)
        .map(([i, k]) => new Segment(i, k)),
    ),
    fc.integer({ min: 1, max: 70_000 }).map((ms) => new Advance(ms)),
    fc.integer({ min: 1, max: 1_000_000 }).map((ms) => new Advance(ms)),
  ],
  { maxCommands: 200, size: 'large' },
);

const initialServers = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 4 }), thresholds).map(([w, [u, l]]) => new AddServer(w, u, l)),
  { minLength: 1, maxLength: 5 },
);

test.prop([fc.integer(), fc.constantFrom('rr', 'wlc', 'lc', 'wrr'), initialServers, commands])(
  'counters equal the live connections, OVERLOAD follows bind/unbind/edit, expired entries are gone',
  (seed, scheduler, initial, cmds) => {
    const setup = (): { model: Model; real: Real } => {
      const ipvs = new Ipvs({ seed });
      ipvs.addService(TCP80, { scheduler });
      return {
        model: { now: 0, servers: [], conns: [], nextAddr: 0x0a010001, nextPort: 1024 },
        real: { ipvs, pkt: new Packet(), d: new Decision() },
      };
    };
    fc.modelRun(setup, [...initial, ...cmds]);
  },
);
