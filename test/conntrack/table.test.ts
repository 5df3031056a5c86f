import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { Conntrack, defaultConntrackBuckets } from '../../src/conntrack/conntrack.js';
import { ConntrackTuple } from '../../src/conntrack/tuple.js';
import { ipv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { SimClock } from '../../src/sim/clock.js';
import { createRng } from '../../src/sim/rng.js';
import { ACK, C, makeCt, N, S, send, SYN, SYNACK, tcp, udp } from './helpers.js';

const C3 = ipv4(10, 0, 0, 3);
const NB = 512;

function udpTuple(src: number, sport: number, dst: number, dport: number): ConntrackTuple {
  return new ConntrackTuple(Protocol.UDP, src, sport, dst, dport);
}

/**
 * The kernel's early_drop (net/netfilter/nf_conntrack_core.c), restated for
 * the test: scan NF_CT_EVICTION_RANGE = 8 buckets starting at the new
 * tuple's bucket; in the first bucket holding a node (original or reply
 * tuple) of a non-ASSURED entry, delete every non-ASSURED entry with a node
 * there. Returns the keys of the entries to drop (empty: the table is full).
 */
function earlyDropOracle<K>(
  ct: Conntrack,
  newBucket: number,
  flows: ReadonlyMap<K, { readonly assured: boolean; readonly buckets: readonly number[] }>,
): K[] {
  for (let i = 0; i < 8; i++) {
    const b = (newBucket + i) % ct.buckets;
    const hit: K[] = [];
    for (const [k, f] of flows) if (!f.assured && f.buckets.includes(b)) hit.push(k);
    if (hit.length > 0) return hit;
  }
  return [];
}

describe('sizing', () => {
  it('defaults follow nf_conntrack_init_start', () => {
    const GiB = 1024 ** 3;
    expect(defaultConntrackBuckets(16 * GiB)).toBe(262144);
    expect(defaultConntrackBuckets(4 * GiB)).toBe(65536); // not more than 4 GiB
    expect(defaultConntrackBuckets(2 * GiB)).toBe(65536);
    expect(defaultConntrackBuckets(GiB)).toBe(8192); // 1 GiB / 16384 / 8
    expect(defaultConntrackBuckets(64 * 1024 * 1024)).toBe(1024); // floor of 1024
    const clock = new SimClock();
    const a = new Conntrack({ clock, rng: createRng(1) });
    expect([a.buckets, a.max]).toEqual([262144, 262144]);
    const b = new Conntrack({ clock, rng: createRng(1), buckets: 1000 });
    expect([b.buckets, b.max]).toEqual([1024, 8192]); // rounded to 512s; max_factor 8
    const c = new Conntrack({ clock, rng: createRng(1), memoryBytes: GiB, max: 100 });
    expect([c.buckets, c.max]).toEqual([8192, 100]);
    expect(() => new Conntrack({ clock, rng: createRng(1), max: -1 })).toThrow(/lbsim\/conntrack\.Conntrack\.constructor/);
  });
});

describe('nf_conntrack_max and early_drop', () => {
  it('a full table evicts the non-assured entries of the first bucket in range that has any', () => {
    const { ct } = makeCt({ buckets: NB, max: 3 });
    // Three unreplied (not ASSURED) flows.
    const flows = new Map<number, { assured: boolean; buckets: number[] }>();
    for (const sport of [1000, 1001, 1002]) {
      send(ct, udp(C, sport, S, 53));
      const t = udpTuple(C, sport, S, 53);
      flows.set(sport, { assured: false, buckets: [ct.bucketOf(t), ct.bucketOf(udpTuple(S, 53, C, sport))] });
    }
    // A new flow whose 8-bucket window reaches one of them.
    let port = 20000;
    let victims: number[] = [];
    for (; port < 60000; port++) {
      victims = earlyDropOracle(ct, ct.bucketOf(udpTuple(C3, port, S, 53)), flows);
      if (victims.length > 0) break;
    }
    expect(victims.length).toBeGreaterThan(0);
    const lk = send(ct, udp(C3, port, S, 53));
    expect([lk.ctinfo, lk.drop]).toEqual(['NEW', false]);
    const left = new Set([...ct.entries()].map((e) => e.original.sport));
    for (const v of victims) expect(left.has(v)).toBe(false);
    expect(left.size).toBe(4 - victims.length);
    expect(ct.stats.earlyDrop).toBe(victims.length);
  });

  it('every non-assured entry of that bucket goes, not just the first', () => {
    const { ct, clock } = makeCt({ buckets: NB, max: 3 });
    const rt = (sport: number): number[] => [ct.bucketOf(udpTuple(C, sport, S, 53)), ct.bucketOf(udpTuple(S, 53, C, sport))];
    // Two flows with a node in the same bucket, plus an ASSURED one in that bucket too.
    send(ct, udp(C, 1000, S, 53));
    const shared = rt(1000)[0]!;
    const others: number[] = [];
    for (let p = 1001; others.length < 2 && p < 60000; p++) if (rt(p).includes(shared)) others.push(p);
    const [second, third] = others as [number, number];
    send(ct, udp(C, third, S, 53));
    send(ct, udp(S, 53, C, third));
    clock.advance(2500);
    send(ct, udp(C, third, S, 53));
    send(ct, udp(C, second, S, 53));
    const flows = new Map([1000, second, third].map((p) => [p, { assured: p === third, buckets: rt(p) }]));
    expect([...ct.entries()].find((e) => e.original.sport === third)!.assured).toBe(true);
    // A new flow whose window starts at the shared bucket.
    let port = 20000;
    while (ct.bucketOf(udpTuple(C3, port, S, 53)) !== shared) port++;
    expect(earlyDropOracle(ct, shared, flows).sort()).toEqual([1000, second].sort());
    send(ct, udp(C3, port, S, 53));
    expect([...ct.entries()].map((e) => e.original.sport).sort()).toEqual([port, third].sort());
    expect(ct.stats.earlyDrop).toBe(2);
  });

  it('with nothing to evict in range the packet is dropped and nothing changes', () => {
    const { ct, clock } = makeCt({ buckets: NB, max: 2 });
    // Two ASSURED UDP streams (reply, then a packet more than 2 s after creation).
    for (const sport of [1000, 1001]) send(ct, udp(C, sport, S, 53));
    for (const sport of [1000, 1001]) send(ct, udp(S, 53, C, sport));
    clock.advance(3000);
    for (const sport of [1000, 1001]) send(ct, udp(C, sport, S, 53));
    const all = [...ct.entries()];
    expect(all.every((e) => e.assured)).toBe(true);
    const w = new WorkCounts();
    const lk = ct.conntrackIn(udp(C3, 7, S, 53), w);
    expect([lk.drop, lk.entry, ct.count, ct.stats.drop]).toEqual([true, null, 2, 1]);
    expect(w.hashProbes).toBe(1 + 8); // the lookup, then 8 early_drop buckets
    expect([...ct.entries()]).toEqual(all);
    // Established traffic still flows.
    expect(ct.conntrackIn(udp(C, 1000, S, 53), w).ctinfo).toBe('ESTABLISHED');
  });

  it('the max applies at allocation: an unconfirmed entry counts until released', () => {
    const { ct } = makeCt({ buckets: NB, max: 1 });
    const lk = ct.conntrackIn(tcp(C, 1, S, 80, SYN), new WorkCounts());
    expect(lk.entry).not.toBeNull();
    expect(ct.count).toBe(1);
    ct.release(); // the packet was dropped by a rule: the entry goes with it
    expect(ct.count).toBe(0);
    // Even a packet the TCP tracker will refuse allocates (and could early-drop) first.
    send(ct, tcp(C, 2, S, 80, SYN));
    const tcpT = (a: number, sp: number, b: number, dp: number): ConntrackTuple => new ConntrackTuple(Protocol.TCP, a, sp, b, dp);
    const holder = new Map([[2, { assured: false, buckets: [ct.bucketOf(tcpT(C, 2, S, 80)), ct.bucketOf(tcpT(S, 80, C, 2))] }]]);
    for (const sport of [3, 4, 5, 6, 7, 8, 9, 10]) {
      const evicts = earlyDropOracle(ct, ct.bucketOf(tcpT(C, sport, S, 80)), holder).length > 0;
      // A SYN/ACK can never start an entry (tcp_new: sIV), but it is allocated first.
      const refused = ct.conntrackIn(tcp(C, sport, S, 80, SYNACK), new WorkCounts());
      expect(refused.ctinfo).toBe('INVALID');
      expect(refused.drop).toBe(!evicts);
      expect(ct.count).toBe(evicts ? 0 : 1);
      if (evicts) break;
    }
  });
});

describe('table', () => {
  it('entries() lists each entry once in bucket order; formatTable prints them', () => {
    const { ct } = makeCt({ buckets: NB });
    for (let p = 1; p <= 20; p++) send(ct, udp(C, p, S, 53));
    const list = [...ct.entries()];
    expect(list.length).toBe(20);
    const buckets = list.map((e) => ct.bucketOf(e.original));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(ct.formatTable().split('\n').length).toBe(21);
  });

  it('flush() and delete() remove confirmed entries', () => {
    const { ct } = makeCt({ buckets: NB });
    for (let p = 1; p <= 5; p++) send(ct, udp(C, p, S, 53));
    const first = [...ct.entries()][0]!;
    expect(ct.delete(first)).toBe(true);
    expect(ct.delete(first)).toBe(false);
    expect(ct.find(first.original)).toBeNull();
    expect(ct.flush()).toBe(4);
    expect(ct.count).toBe(0);
  });

  it('find() sees both directions', () => {
    const { ct } = makeCt({ buckets: NB });
    send(ct, tcp(C, 40000, S, 80, SYN));
    const e = [...ct.entries()][0]!;
    expect(ct.find(e.original)).toEqual({ entry: e, dir: 0 });
    expect(ct.find(e.reply)).toEqual({ entry: e, dir: 1 });
  });

  it('acct prints per-direction counters', () => {
    const { ct } = makeCt({ buckets: NB, acct: true });
    send(ct, tcp(C, 40000, S, 80, SYN, 60));
    send(ct, tcp(S, 80, C, 40000, SYNACK, 60));
    send(ct, tcp(C, 40000, S, 80, ACK, 52));
    const e = [...ct.entries()][0]!;
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 tcp      6 432000 ESTABLISHED src=10.0.0.1 dst=10.1.0.1 sport=40000 dport=80 packets=2 bytes=112 ' +
        'src=10.1.0.1 dst=10.0.0.1 sport=80 dport=40000 packets=1 bytes=60 [ASSURED] mark=0 zone=0 use=2',
    );
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): string => {
      const { ct, clock } = makeCt({ buckets: NB }, seed);
      for (let i = 0; i < 30; i++) {
        const lk = ct.conntrackIn(tcp(ipv4(10, 0, 1, i), 5000, S, 80, SYN), new WorkCounts());
        ct.setNat(lk.entry!, 'src', N);
        ct.confirm(lk.entry!);
        clock.advance(100);
      }
      return ct.formatTable();
    };
    expect(run(3)).toBe(run(3));
    expect(run(3)).not.toBe(run(4));
  });
});

// ------------------------------------------------------------ model-based

interface MFlow {
  deadline: number;
  seenReply: boolean;
  assured: boolean;
  streamTs: number;
  buckets: number[];
}

class Model {
  now = 0;
  readonly flows = new Map<number, MFlow>();
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  expire(): void {
    for (const [k, f] of this.flows) if (f.deadline <= this.now) this.flows.delete(k);
  }
}

interface Real {
  readonly ct: Conntrack;
  readonly clock: SimClock;
}

// nf_conntrack_udp_packet, restated: before SEEN_REPLY 30 s; after, 30 s
// until now > stream_ts (creation + 2 s), then 120 s and ASSURED.
function udpRefresh(m: Model, f: MFlow): void {
  if (f.seenReply) {
    if (m.now > f.streamTs) {
      f.deadline = m.now + 120_000;
      f.assured = true;
    } else {
      f.deadline = m.now + 30_000;
    }
  } else {
    f.deadline = m.now + 30_000;
  }
}

function check(m: Model, r: Real): void {
  expect(r.ct.count).toBe(m.flows.size);
  expect(r.ct.count).toBeGreaterThanOrEqual(0);
  expect(r.ct.count).toBeLessThanOrEqual(m.max);
  for (const e of r.ct.entries()) {
    const f = m.flows.get(e.original.sport);
    expect(f).toBeDefined();
    expect(e.expires).toBe(f!.deadline);
    expect(e.assured).toBe(f!.assured);
  }
}

class Orig implements fc.Command<Model, Real> {
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const lk = r.ct.conntrackIn(udp(C, this.port, S, 53), new WorkCounts());
    const f = m.flows.get(this.port);
    if (f !== undefined) {
      expect(lk.ctinfo).toBe(f.seenReply ? 'ESTABLISHED' : 'NEW');
      udpRefresh(m, f);
    } else {
      const bucket = r.ct.bucketOf(udpTuple(C, this.port, S, 53));
      if (m.flows.size + 1 > m.max) {
        const victims = earlyDropOracle(r.ct, bucket, m.flows);
        if (victims.length === 0) {
          expect(lk.drop).toBe(true);
          check(m, r);
          return;
        }
        for (const v of victims) m.flows.delete(v);
      }
      expect([lk.ctinfo, lk.drop]).toEqual(['NEW', false]);
      expect(r.ct.confirm(lk.entry!)).toBe(true);
      m.flows.set(this.port, {
        deadline: m.now + 30_000,
        seenReply: false,
        assured: false,
        streamTs: m.now + 2000,
        buckets: [bucket, r.ct.bucketOf(udpTuple(S, 53, C, this.port))],
      });
    }
    check(m, r);
  }
  toString(): string {
    return `orig(${this.port})`;
  }
}

class Reply implements fc.Command<Model, Real> {
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }
  check(m: Readonly<Model>): boolean {
    return m.flows.has(this.port);
  }
  run(m: Model, r: Real): void {
    const lk = r.ct.conntrackIn(udp(S, 53, C, this.port), new WorkCounts());
    expect([lk.ctinfo, lk.dir]).toEqual(['ESTABLISHED', 'reply']);
    const f = m.flows.get(this.port)!;
    udpRefresh(m, f);
    f.seenReply = true;
    check(m, r);
  }
  toString(): string {
    return `reply(${this.port})`;
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
    m.expire();
    r.clock.advance(this.ms);
    check(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** Advances to the next deadline of the model (exactly, or 1 ms before). */
class AdvanceToDeadline implements fc.Command<Model, Real> {
  readonly early: boolean;
  constructor(early: boolean) {
    this.early = early;
  }
  check(m: Readonly<Model>): boolean {
    return m.flows.size > 0;
  }
  run(m: Model, r: Real): void {
    let next = Number.POSITIVE_INFINITY;
    for (const f of m.flows.values()) next = Math.min(next, f.deadline);
    const ms = next - m.now - (this.early ? 1 : 0);
    new Advance(ms).run(m, r);
  }
  toString(): string {
    return this.early ? 'advanceToDeadline(-1)' : 'advanceToDeadline';
  }
}

const port = fc.integer({ min: 1, max: 64 });
const commands = fc.commands(
  [
    port.map((p) => new Orig(p)),
    port.map((p) => new Orig(p)),
    port.map((p) => new Orig(p)),
    port.map((p) => new Reply(p)),
    port.map((p) => new Reply(p)),
    fc.integer({ min: 1, max: 3000 }).map((ms) => new Advance(ms)),
    fc.integer({ min: 10_000, max: 130_000 }).map((ms) => new Advance(ms)),
    fc.boolean().map((early) => new AdvanceToDeadline(early)),
  ],
  { maxCommands: 200, size: 'max' },
);

test.prop([fc.integer(), fc.integer({ min: 1, max: 16 }), commands], { numRuns: 50 })(
  'model: count never exceeds max, entries expire on time, full tables early-drop non-assured entries or refuse',
  (seed, max, cmds) => {
    const clock = new SimClock();
    const ct = new Conntrack({ clock, rng: createRng(seed), buckets: NB, max });
    fc.modelRun(() => ({ model: new Model(max), real: { ct, clock } }), cmds);
  },
);
