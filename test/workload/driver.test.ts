import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { chiSquare, zipfWeights } from '../../src/fairness/index.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { formatTcpFlags } from '../../src/net/tcp-flags.js';
import {
  PACKET_KIND_NAMES,
  WorkloadDriver,
  type ConnectionTrace,
  type Endpoint,
  type EndpointOps,
  type PacketTrace,
  type WorkloadOptions,
} from '../../src/workload/index.js';
import { BACKEND, StubClassifier, TCP80, UDP53, VIP, ip } from './helpers.js';

const CLIENT = '192.168.1.10';

interface Seen {
  kind: string;
  t: number;
  flags: string;
  from: string;
  to: string;
}

type EndRecord = Omit<ConnectionTrace, never>;

/** The driver reuses its trace record: keep a plain copy. */
function copyTrace(c: ConnectionTrace): EndRecord {
  return {
    connection: c.connection,
    client: c.client,
    clientAddr: c.clientAddr,
    sport: c.sport,
    proto: c.proto,
    daddr: c.daddr,
    dport: c.dport,
    outcome: c.outcome,
    failedVerdict: c.failedVerdict,
    startMs: c.startMs,
    endMs: c.endMs,
    hasBackend: c.hasBackend,
    backendAddr: c.backendAddr,
    backendPort: c.backendPort,
    synRetransmits: c.synRetransmits,
  };
}

/** Runs exactly one connection (closed loop of 1 that ends before a second could start) and records its packets. */
function oneConnection(opts: Partial<WorkloadOptions>, stub = new StubClassifier()): { seen: Seen[]; end: EndRecord[] } {
  const seen: Seen[] = [];
  const end: EndRecord[] = [];
  new WorkloadDriver(stub, {
    target: TCP80,
    endMs: 1,
    arrivals: { kind: 'closed', concurrency: 1 },
    clients: { cidrs: [`${CLIENT}/32`] },
    ...opts,
    onPacket: (tr) => {
      const p = tr.packet;
      seen.push({
        kind: tr.kindName,
        t: tr.timeMs,
        flags: formatTcpFlags(p.flags),
        from: `${formatIPv4(p.saddr)}:${p.sport}`,
        to: `${formatIPv4(p.daddr)}:${p.dport}`,
      });
    },
    onConnectionEnd: (c) => end.push(copyTrace(c)),
  }).run();
  return { seen, end };
}

describe('packet sequences', () => {
  const base = { rttMs: 5, connectionDuration: 20, dataRatePerSecond: 100 } as const;
  // Handshake at 0 (SYN, SYN-ACK) and 0 + rtt = 5 (ACK, established). Data k at 5 + floor(k * 1000 / 100):
  // 5, 15 (25 is not before the close at 5 + 20 = 25). Close at 25; its second half one RTT later, at 30.

  it('client FIN close with replies', () => {
    const { seen, end } = oneConnection({ ...base, replies: true, close: 'client-fin' });
    expect(seen.map((s) => [s.kind, s.t, s.flags])).toEqual([
      ['syn', 0, 'SYN'],
      ['syn-ack', 0, 'SYN,ACK'],
      ['ack', 5, 'ACK'],
      ['data', 5, 'PSH,ACK'],
      ['data-reply', 5, 'PSH,ACK'],
      ['data', 15, 'PSH,ACK'],
      ['data-reply', 15, 'PSH,ACK'],
      ['fin', 25, 'FIN,ACK'],
      ['fin-reply', 25, 'FIN,ACK'],
      ['final-ack', 30, 'ACK'],
    ]);
    const sport = end[0]!.sport;
    // Client packets go client → VIP; replies come from the backend the decision named, to the client.
    for (const s of seen) {
      if (s.kind.endsWith('reply') || s.kind === 'syn-ack') {
        expect([s.from, s.to]).toEqual([`${formatIPv4(BACKEND)}:8080`, `${CLIENT}:${sport}`]);
      } else {
        expect([s.from, s.to]).toEqual([`${CLIENT}:${sport}`, `${formatIPv4(VIP)}:80`]);
      }
    }
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ outcome: 'completed', startMs: 0, endMs: 30, hasBackend: true, backendPort: 8080 });
  });

  it('server FIN, client RST and server RST closes', () => {
    const head = [
      ['syn', 0, 'SYN'],
      ['syn-ack', 0, 'SYN,ACK'],
      ['ack', 5, 'ACK'],
      ['data', 5, 'PSH,ACK'],
      ['data-reply', 5, 'PSH,ACK'],
      ['data', 15, 'PSH,ACK'],
      ['data-reply', 15, 'PSH,ACK'],
    ];
    const run = (close: 'server-fin' | 'client-rst' | 'server-rst') =>
      oneConnection({ ...base, replies: true, close }).seen.map((s) => [s.kind, s.t, s.flags]);
    expect(run('server-fin')).toEqual([
      ...head,
      ['fin-reply', 25, 'FIN,ACK'],
      ['fin', 30, 'FIN,ACK'],
      ['final-ack-reply', 30, 'ACK'],
    ]);
    expect(run('client-rst')).toEqual([...head, ['rst', 25, 'RST,ACK']]);
    expect(run('server-rst')).toEqual([...head, ['rst-reply', 25, 'RST,ACK']]);
  });

  it('without replies only client packets are sent', () => {
    const run = (close: 'client-fin' | 'server-fin' | 'server-rst') =>
      oneConnection({ ...base, close }).seen.map((s) => [s.kind, s.t, s.flags]);
    const head = [
      ['syn', 0, 'SYN'],
      ['ack', 5, 'ACK'],
      ['data', 5, 'PSH,ACK'],
      ['data', 15, 'PSH,ACK'],
    ];
    expect(run('client-fin')).toEqual([...head, ['fin', 25, 'FIN,ACK'], ['final-ack', 30, 'ACK']]);
    expect(run('server-fin')).toEqual([...head, ['fin', 30, 'FIN,ACK']]);
    expect(run('server-rst')).toEqual(head);
  });

  it('UDP flows are flagless datagrams at the data rate, the first always sent', () => {
    const { seen, end } = oneConnection({ ...base, target: UDP53, replies: true });
    // Datagram k at 0 + floor(k * 10): 0, 10; 20 is not before the end at 0 + 20.
    expect(seen.map((s) => [s.kind, s.t, s.flags])).toEqual([
      ['datagram', 0, 'NONE'],
      ['datagram-reply', 0, 'NONE'],
      ['datagram', 10, 'NONE'],
      ['datagram-reply', 10, 'NONE'],
    ]);
    expect(end[0]).toMatchObject({ outcome: 'completed', proto: Protocol.UDP, endMs: 20 });
    const none = oneConnection({ ...base, target: UDP53, connectionDuration: 0, dataRatePerSecond: 0 });
    expect(none.seen.map((s) => s.kind)).toEqual(['datagram']);
  });

  it('a 0-duration, 0-RTT connection is SYN, ACK, FIN, final ACK in one millisecond', () => {
    const { seen } = oneConnection({ rttMs: 0, connectionDuration: 0 });
    expect(seen.map((s) => [s.kind, s.t])).toEqual([
      ['syn', 0],
      ['ack', 0],
      ['fin', 0],
      ['final-ack', 0],
    ]);
  });
});

describe('SYN retransmission and failures', () => {
  const dropUntil = (t: number): StubClassifier => {
    const stub = new StubClassifier();
    stub.policy = (pkt, now) => ((pkt.flags & 0x02) !== 0 && now < t ? 'dropped' : 'forwarded');
    return stub;
  };

  it('retransmits a dropped SYN after 1 s, 2 s, … and counts the connect delay', () => {
    // SYN at 0 dropped, at 1000 dropped, at 1000 + 2000 = 3000 forwarded.
    const { seen, end } = oneConnection({ synRetries: 6, rttMs: 1, connectionDuration: 0 }, dropUntil(2500));
    expect(seen.filter((s) => s.kind === 'syn').map((s) => s.t)).toEqual([0, 1000, 3000]);
    expect(end[0]).toMatchObject({ outcome: 'completed', synRetransmits: 2, startMs: 0 });
    const stub = dropUntil(2500);
    const r = new WorkloadDriver(stub, {
      target: TCP80,
      endMs: 1,
      arrivals: { kind: 'closed', concurrency: 1 },
      synRetries: 6,
    }).run();
    expect(r.connections).toMatchObject({ completed: 1, synRetransmits: 2, maxConnectDelayMs: 3000 });
  });

  it('gives up one timeout after the last retransmission', () => {
    // tcp_syn_retries 1: SYNs at 0 and 1000; the next timeout is 2000 later → fails at 3000.
    const one = oneConnection({ synRetries: 1 }, dropUntil(1e9));
    expect(one.seen.map((s) => s.t)).toEqual([0, 1000]);
    expect(one.end[0]).toMatchObject({ outcome: 'failed', failedVerdict: 'dropped', endMs: 3000, synRetransmits: 1 });
    // No retries: fails after the initial RTO of 1 s.
    const none = oneConnection({}, dropUntil(1e9));
    expect(none.end[0]).toMatchObject({ outcome: 'failed', failedVerdict: 'dropped', endMs: 1000 });
    // The kernel's 6 retries: 0, 1, 3, 7, 15, 31, 63 s, then fail at 127 s.
    const six = oneConnection({ synRetries: 6 }, dropUntil(1e9));
    expect(six.seen.map((s) => s.t / 1000)).toEqual([0, 1, 3, 7, 15, 31, 63]);
    expect(six.end[0]!.endMs).toBe(127_000);
  });

  it('a rejected SYN fails at once; an accepted one too (nothing balanced it)', () => {
    const stub = new StubClassifier();
    stub.policy = () => 'rejected';
    const r = oneConnection({ synRetries: 6 }, stub);
    expect(r.seen).toHaveLength(1);
    expect(r.end[0]).toMatchObject({ outcome: 'failed', failedVerdict: 'rejected', endMs: 0 });
    stub.policy = () => 'accepted';
    expect(oneConnection({}, stub).end[0]).toMatchObject({ outcome: 'failed', failedVerdict: 'accepted' });
  });

  it('a dropped packet after the handshake disrupts the connection and stops it there', () => {
    const stub = new StubClassifier();
    stub.policy = (pkt) => ((pkt.flags & 0x08) !== 0 ? 'dropped' : 'forwarded'); // drop PSH (data)
    const { seen, end } = oneConnection({ connectionDuration: 100, dataRatePerSecond: 10, close: 'client-fin' }, stub);
    expect(seen.map((s) => s.kind)).toEqual(['syn', 'ack', 'data']);
    expect(end[0]).toMatchObject({ outcome: 'disrupted' });
  });
});

describe('arrivals', () => {
  it('Poisson: the count over a long window matches the rate within 4 standard deviations, and counts per second are Poisson-dispersed', () => {
    // Arrivals are a Poisson process, so the count N in [0, T) is Poisson(λ) with λ = rate·T and
    // Var N = λ: |N − λ| ≤ 4√λ fails with probability 6e-5 per seed. Per-second counts c_i
    // (n = 200 windows of mean 500) have an index of dispersion var/mean whose (n−1)-multiple is
    // ~χ²(199): mean 1, standard deviation √(2/199) ≈ 0.1; ±0.4 is 4 sd. Regular spacing would give ~0.
    for (const seed of [1, 2, 3]) {
      const perSecond = new Array<number>(200).fill(0);
      const stub = new StubClassifier();
      const r = new WorkloadDriver(stub, {
        seed,
        target: UDP53,
        endMs: 200_000,
        arrivals: { kind: 'poisson', ratePerSecond: 500 },
        clients: { count: 1000 },
        connectionDuration: 0,
        dataRatePerSecond: 0,
        onPacket: (tr) => {
          const w = Math.floor(tr.timeMs / 1000);
          perSecond[w] = perSecond[w]! + 1;
        },
      }).run();
      const lambda = 500 * 200;
      const n = r.connections.attempted;
      expect(Math.abs(n - lambda)).toBeLessThanOrEqual(4 * Math.sqrt(lambda));
      expect(r.packets.total).toBe(n);
      expect(perSecond.reduce((a, b) => a + b, 0)).toBe(n); // nothing at or after endMs
      const mean = n / 200;
      const variance = perSecond.reduce((a, c) => a + (c - mean) ** 2, 0) / 199;
      expect(Math.abs(variance / mean - 1)).toBeLessThan(0.4);
    }
  });

  it('closed loop keeps exactly N connections in flight (every connection lasts at least 1 ms, no think time)', () => {
    const stub = new StubClassifier();
    const d = new WorkloadDriver(stub, {
      seed: 7,
      target: TCP80,
      endMs: 3000,
      drain: false,
      arrivals: { kind: 'closed', concurrency: 8 },
      clients: { count: 3 },
      connectionDuration: { kind: 'uniform', minMs: 0, maxMs: 40 },
      dataRatePerSecond: 50,
      rttMs: 1,
    });
    for (let t = 0; t < 3000; t++) {
      d.runUntil(t);
      expect(d.inFlight).toBe(8);
    }
    const r = d.result();
    expect(r.connections.maxInFlight).toBe(8);
    expect(r.connections.completed).toBeGreaterThan(300);
    expect(r.connections.attempted).toBe(r.connections.completed + r.connections.inFlight);
  });

  it('closed loop with think time never exceeds N; failed connections restart 1 ms later at the earliest', () => {
    const stub = new StubClassifier();
    const ends: number[] = [];
    const starts: number[] = [];
    const r = new WorkloadDriver(stub, {
      target: TCP80,
      endMs: 1000,
      arrivals: { kind: 'closed', concurrency: 1, thinkTime: 7 },
      connectionDuration: 3,
      rttMs: 1,
      dataRatePerSecond: 0,
      onPacket: (tr) => {
        if (tr.kindName === 'syn') starts.push(tr.timeMs);
      },
      onConnectionEnd: (c) => ends.push(c.endMs),
    }).run();
    // A connection: SYN t, ACK t+1, FIN t+4, final ACK t+5; the next SYN 7 ms later: period 12.
    expect(starts.slice(0, 4)).toEqual([0, 12, 24, 36]);
    expect(ends.slice(0, 3)).toEqual([5, 17, 29]);
    expect(r.connections.maxInFlight).toBe(1);
    expect(r.connections.attempted).toBe(Math.ceil(1000 / 12));

    stub.policy = () => 'rejected';
    const failing = new WorkloadDriver(stub, { target: TCP80, endMs: 500, arrivals: { kind: 'closed', concurrency: 4 } }).run();
    // Each worker fails at once and retries in the next millisecond: 4 × 500 attempts.
    expect(failing.connections).toMatchObject({ attempted: 2000, failed: 2000, failedByVerdict: { rejected: 2000 } });
  });
});

describe('client choice', () => {
  it('draws clients with Zipf probabilities (createZipfSampler), or uniformly with exponent 0', () => {
    // Each connection's client is an independent draw, so per-client counts are multinomial with the
    // Zipf shares p_k ∝ 1/(k+1)^s: Pearson's chi-square against those shares must not be extreme, while
    // against uniform shares it must be (the skew is real).
    for (const [s, shares, other] of [
      [1.2, zipfWeights(10, 1.2), new Array<number>(10).fill(1)],
      [0, new Array<number>(10).fill(1), zipfWeights(10, 1.2)],
    ] as const) {
      const counts = new Array<number>(10).fill(0);
      new WorkloadDriver(new StubClassifier(), {
        seed: 21,
        target: UDP53,
        endMs: 10_000,
        arrivals: { kind: 'poisson', ratePerSecond: 2000 },
        clients: { count: 10, zipfExponent: s },
        connectionDuration: 0,
        onConnectionEnd: (c) => {
          counts[c.client] = counts[c.client]! + 1;
        },
      }).run();
      expect(chiSquare(counts, shares).pValue).toBeGreaterThan(0.001);
      expect(chiSquare(counts, other).pValue).toBeLessThan(1e-9);
    }
  });
});

describe('ephemeral ports in the driver', () => {
  it('stay in range and unique per (client, destination) while open; UDP per client; exhaustion is counted', () => {
    const stub = new StubClassifier();
    const tcp443 = { ...TCP80, port: 443 };
    const udp5353 = { ...UDP53, port: 5353 };
    const open = new Map<string, number>(); // tuple → connection
    const tupleOf = new Map<number, string>(); // connection → tuple
    const range = { low: 40000, high: 40015 };
    let checked = 0;
    const r = new WorkloadDriver(stub, {
      seed: 3,
      target: [TCP80, tcp443, UDP53, udp5353],
      endMs: 2000,
      arrivals: { kind: 'poisson', ratePerSecond: 3000 },
      clients: { count: 2, portRange: range },
      connectionDuration: { kind: 'exponential', meanMs: 30 },
      dataRatePerSecond: 100,
      onPacket: (tr) => {
        if (tupleOf.has(tr.connection)) return;
        const p = tr.packet;
        expect(p.sport).toBeGreaterThanOrEqual(range.low);
        expect(p.sport).toBeLessThanOrEqual(range.high);
        // TCP: unique 4-tuple; UDP: unique local port per client, whatever the destination.
        const key = p.proto === Protocol.TCP ? `T ${p.saddr} ${p.daddr}:${p.dport} ${p.sport}` : `U ${p.saddr} ${p.sport}`;
        expect(open.has(key)).toBe(false);
        open.set(key, tr.connection);
        tupleOf.set(tr.connection, key);
        checked++;
      },
      onConnectionEnd: (c) => {
        const key = tupleOf.get(c.connection);
        if (key !== undefined) open.delete(key);
        else expect(c.outcome).toBe('port-exhausted');
      },
    }).run();
    expect(checked).toBe(r.connections.attempted - r.connections.portExhausted);
    expect(r.connections.portExhausted).toBeGreaterThan(0);
    expect(open.size).toBe(0);
    const c = r.connections;
    expect(c.attempted).toBe(c.completed + c.failed + c.disrupted + c.portExhausted + c.inFlight);
  });
});

describe('churn', () => {
  it('callbacks fire at the scheduled simulated times, before packets of the same millisecond', () => {
    const stub = new StubClassifier();
    stub.clock.advance(5000); // the driver counts from its start
    const calls: [string, number, number][] = [];
    let lastPacket = -1;
    const ep = (n: number): Endpoint => ({ addr: parseIPv4(`10.244.0.${n}`), port: 8080 });
    const ops: EndpointOps = {
      addEndpoint: (e, now) => {
        expect(stub.clock.now).toBe(now);
        expect(lastPacket).toBeLessThan(now);
        calls.push(['add', e.addr & 255, now]);
      },
      removeEndpoint: (e, now) => calls.push(['remove', e.addr & 255, now]),
      setWeight: (e, w, now) => calls.push([`weight=${w}`, e.addr & 255, now]),
    };
    const r = new WorkloadDriver(stub, {
      target: TCP80,
      endMs: 1000,
      arrivals: { kind: 'poisson', ratePerSecond: 5000 },
      endpoints: ops,
      onPacket: (tr) => {
        lastPacket = tr.timeMs;
      },
      churn: [
        { kind: 'scale-up', atMs: 100, stepMs: 10, endpoints: [ep(1), ep(2), ep(3)] },
        { kind: 'scale-down', atMs: 200, drainMs: 50, endpoints: [ep(1), ep(2)] },
        {
          kind: 'rolling-update',
          atMs: 300,
          stepMs: 100,
          gapMs: 5,
          replacements: [
            { from: ep(3), to: ep(4) },
            { from: ep(4), to: ep(5) },
          ],
        },
        { kind: 'weight', atMs: 500, endpoint: ep(5), weight: 3 },
        { kind: 'call', atMs: 600, run: (now) => calls.push(['call', 0, now]) },
        { kind: 'scale-up', atMs: 1001, endpoints: [ep(9)] },
      ],
    }).run();
    expect(calls).toEqual([
      ['add', 1, 5100],
      ['add', 2, 5110],
      ['add', 3, 5120],
      ['weight=0', 1, 5200],
      ['weight=0', 2, 5200],
      ['remove', 1, 5250],
      ['remove', 2, 5250],
      ['add', 4, 5300],
      ['remove', 3, 5305],
      ['add', 5, 5400],
      ['remove', 4, 5405],
      ['weight=3', 5, 5500],
      ['call', 0, 5600],
    ]);
    expect(r.churn).toEqual({ executed: 13, skipped: 1 });
    expect(r.startMs).toBe(5000);
  });
});

describe('determinism and bookkeeping', () => {
  const options = (seed: number, trace: string[]): WorkloadOptions => ({
    seed,
    target: [TCP80, UDP53],
    endMs: 3000,
    arrivals: { kind: 'poisson', ratePerSecond: 400 },
    clients: { count: 30, addressing: 'random', cidrs: ['172.16.0.0/20', '172.17.0.0/24'], zipfExponent: 1.1 },
    connectionDuration: { kind: 'exponential', meanMs: 150 },
    dataRatePerSecond: 40,
    replies: true,
    rttMs: 2,
    close: { 'client-fin': 3, 'server-fin': 2, 'client-rst': 1, 'server-rst': 1 },
    synRetries: 2,
    onPacket: (tr: PacketTrace) => {
      const p = tr.packet;
      trace.push(`${tr.timeMs} ${tr.kind} ${p.saddr}:${p.sport}>${p.daddr}:${p.dport} ${p.flags} ${p.length}`);
    },
  });
  const dropSome = (): StubClassifier => {
    const s = new StubClassifier();
    // Drop SYNs in one 1-second window to exercise retransmissions.
    s.policy = (pkt, now) => ((pkt.flags & 0x02) !== 0 && now >= 1000 && now < 1200 ? 'dropped' : 'forwarded');
    return s;
  };

  it('the same seed and configuration give byte-identical results; another seed does not', () => {
    const t1: string[] = [];
    const t2: string[] = [];
    const t3: string[] = [];
    const a = new WorkloadDriver(dropSome(), options(42, t1)).run();
    const b = new WorkloadDriver(dropSome(), options(42, t2)).run();
    const c = new WorkloadDriver(dropSome(), options(43, t3)).run();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(t1.join('\n')).toBe(t2.join('\n'));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    expect(a.connections.synRetransmits).toBeGreaterThan(0);
  });

  it('tallies add up', () => {
    const r = new WorkloadDriver(dropSome(), options(5, [])).run();
    const c = r.connections;
    expect(c.inFlight).toBe(0);
    expect(c.attempted).toBe(c.completed + c.failed + c.disrupted + c.portExhausted);
    const p = r.packets;
    const sum = (v: { forwarded: number; accepted: number; dropped: number; rejected: number }): number =>
      v.forwarded + v.accepted + v.dropped + v.rejected;
    expect(sum(p.verdicts)).toBe(p.total);
    expect(p.byKind.map((k) => k.kind)).toEqual([...PACKET_KIND_NAMES]);
    expect(p.byKind.reduce((a, k) => a + k.packets, 0)).toBe(p.total);
    expect(p.byKind.reduce((a, k) => a + sum(k.verdicts), 0)).toBe(p.total);
    expect(p.reasons.reduce((a, x) => a + x.count, 0)).toBe(p.total);
    expect(p.work.hashProbes).toBe(p.verdicts.forwarded); // the stub charges 1 probe per forwarded packet
    // One SYN or first datagram per attempt, plus retransmissions; SYN-ACKs only for SYNs that got through.
    const kind = (name: string) => p.byKind.find((k) => k.kind === name)!;
    expect(kind('syn').packets + kind('datagram').verdicts.forwarded).toBeGreaterThan(0);
    expect(kind('syn-ack').packets).toBe(kind('syn').verdicts.forwarded);
    expect(r.backends).toEqual([
      {
        addr: formatIPv4(BACKEND),
        port: 8080,
        connections: c.completed + c.disrupted,
        newConnections: c.completed + c.disrupted,
        packets: p.verdicts.forwarded,
      },
    ]);
  });
});

describe('validation', () => {
  const stub = new StubClassifier();
  const ok: WorkloadOptions = { target: TCP80, endMs: 10, arrivals: { kind: 'poisson', ratePerSecond: 1 } };
  it.each([
    ['endMs', { endMs: -1 }],
    ['rate', { arrivals: { kind: 'poisson', ratePerSecond: 0 } }],
    ['concurrency', { arrivals: { kind: 'closed', concurrency: 0 } }],
    ['protocol', { target: { proto: Protocol.SCTP, addr: VIP, port: 80 } }],
    ['duplicate targets', { target: [TCP80, TCP80] }],
    ['close kind', { close: 'bogus' }],
    ['close mix', { close: { 'client-fin': 0 } }],
    ['rtt', { rttMs: 0.5 }],
    ['synRetries', { synRetries: 128 }],
    ['churn without endpoints', { churn: [{ kind: 'weight', atMs: 1, endpoint: { addr: 1, port: 1 }, weight: 0 }] }],
    ['too many clients', { clients: { count: 3, cidrs: ['10.0.0.0/31'] } }],
    ['overlapping client blocks', { clients: { cidrs: ['10.0.0.0/8', '10.1.0.0/16'] } }],
    ['duration', { connectionDuration: { kind: 'exponential', meanMs: 0 } }],
  ] as [string, Partial<WorkloadOptions>][])('refuses a bad %s', (_name, bad) => {
    expect(() => new WorkloadDriver(stub, { ...ok, ...bad })).toThrow(InvalidArgumentError);
  });

  it('refuses a duration function that returns a negative number, with the method in the message', () => {
    const d = new WorkloadDriver(new StubClassifier(), { ...ok, endMs: 100_000, connectionDuration: () => -1 });
    expect(() => d.run()).toThrow(/^lbsim\/workload\.WorkloadDriver\.constructor: connectionDuration function returned -1/);
  });

  it('puts clients at the addresses asked for', () => {
    const seq = new WorkloadDriver(stub, { ...ok, clients: { count: 3, cidrs: ['10.0.0.0/31', '10.9.0.0/24'] } });
    expect(seq.clients.addresses.map(formatIPv4)).toEqual(['10.0.0.0', '10.0.0.1', '10.9.0.0']);
    const rnd = new WorkloadDriver(stub, { ...ok, clients: { count: 50, addressing: 'random', cidrs: ['10.0.0.0/26'] } });
    expect(new Set(rnd.clients.addresses).size).toBe(50);
    for (const a of rnd.clients.addresses) expect(a >>> 6).toBe(ip('10.0.0.0') >>> 6);
  });
});
