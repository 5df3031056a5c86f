import { describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { ForwardMethod } from '../../src/ipvs/flags.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { IpvsEndpointAdapter, WorkloadDriver, type Endpoint, type Replacement } from '../../src/workload/index.js';
import { TCP80 } from './helpers.js';

const ep = (n: number): Endpoint => ({ addr: parseIPv4(`10.244.0.${n}`), port: 8080 });

function setup(scheduler: string, initial: readonly Endpoint[], fwd: ForwardMethod = ForwardMethod.MASQ) {
  const ipvs = new Ipvs({ seed: 11 });
  ipvs.addService(TCP80, { scheduler });
  const eps = new IpvsEndpointAdapter(ipvs, TCP80, { fwd });
  for (const e of initial) eps.addEndpoint(e, ipvs.clock.now);
  return { ipvs, eps };
}

describe('driving the IPVS engine', () => {
  it('rr over 4 real servers gives every one the same number of new connections (±1)', () => {
    // ip_vs_rr.c: each scheduling decision moves the pointer to the next dest with weight > 0, so over
    // n new connections each of 4 dests gets floor(n/4) or ceil(n/4), whatever the arrival pattern.
    for (const [fwd, replies] of [
      [ForwardMethod.MASQ, true],
      [ForwardMethod.DROUTE, false],
    ] as const) {
      const { ipvs } = setup('rr', [ep(1), ep(2), ep(3), ep(4)], fwd);
      const r = new WorkloadDriver(ipvs, {
        seed: 9,
        target: TCP80,
        endMs: 10_000,
        arrivals: { kind: 'poisson', ratePerSecond: 300 },
        clients: { count: 40, zipfExponent: 1 },
        connectionDuration: { kind: 'exponential', meanMs: 300 },
        replies,
      }).run();
      expect(r.connections.completed).toBe(r.connections.attempted);
      const counts = r.backends.map((b) => b.newConnections);
      expect(r.backends.map((b) => b.addr)).toEqual(['10.244.0.1', '10.244.0.2', '10.244.0.3', '10.244.0.4']);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(r.connections.attempted);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      // The engine's own per-dest connection counters agree.
      const svc = ipvs.getService(TCP80)!;
      for (const d of svc.dests) {
        expect(r.backends.find((b) => b.addr === formatIPv4(d.addr))!.newConnections).toBe(d.stats.conns);
      }
      expect(r.packets.verdicts).toMatchObject({ accepted: 0, dropped: 0, rejected: 0 });
      // With NAT the director sees the replies; with direct routing it does not.
      const replyPackets = r.packets.byKind.filter((k) => k.kind.endsWith('reply') || k.kind === 'syn-ack');
      expect(replyPackets.some((k) => k.packets > 0)).toBe(replies);
    }
  });

  it('a surge rolling update never leaves the service without a real server in service', () => {
    const initial = [ep(1), ep(2), ep(3)];
    const { ipvs, eps } = setup('rr', initial);
    const replacements: Replacement[] = initial.map((from, i) => ({ from, to: ep(11 + i) }));
    const lastStart = new Map<number, number>(); // backend's last octet → latest connection start on it
    const r = new WorkloadDriver(ipvs, {
      seed: 4,
      target: TCP80,
      endMs: 12_000,
      arrivals: { kind: 'poisson', ratePerSecond: 200 },
      clients: { count: 25 },
      connectionDuration: { kind: 'exponential', meanMs: 400 },
      replies: true,
      endpoints: eps,
      churn: [{ kind: 'rolling-update', atMs: 1000, stepMs: 3000, drainMs: 1500, replacements }],
      onConnectionEnd: (c) => {
        if (c.hasBackend) lastStart.set(c.backendAddr & 255, Math.max(c.startMs, lastStart.get(c.backendAddr & 255) ?? 0));
      },
    }).run();
    expect(eps.log.slice(3).map((c) => [c.op, c.addr & 255, c.timeMs])).toEqual([
      ['add', 11, 1000],
      ['weight', 1, 1000],
      ['remove', 1, 2500],
      ['add', 12, 4000],
      ['weight', 2, 4000],
      ['remove', 2, 5500],
      ['add', 13, 7000],
      ['weight', 3, 7000],
      ['remove', 3, 8500],
    ]);
    for (const change of eps.log) expect(change.inService).toBeGreaterThanOrEqual(1);
    expect(r.connections.failed).toBe(0);
    expect(
      ipvs
        .getService(TCP80)!
        .dests.map((d) => d.addr & 255)
        .sort((a, b) => a - b),
    ).toEqual([11, 12, 13]);
    expect(r.backends.map((b) => b.addr)).toEqual(['10.244.0.1', '10.244.0.2', '10.244.0.3', '10.244.0.11', '10.244.0.12', '10.244.0.13']);
    // rr skips weight-0 dests: a quiesced server takes no new connection after its weight went to 0 ...
    expect(lastStart.get(1)).toBeLessThan(1000);
    expect(lastStart.get(2)).toBeLessThan(4000);
    expect(lastStart.get(3)).toBeLessThan(7000);
    // ... but the ones it had keep flowing until it is deleted; those still open then are cut off.
    expect(r.connections.completed + r.connections.disrupted).toBe(r.connections.attempted);
  });

  it('replacing the only server remove-first leaves a gap: SYNs are rejected and open connections cut off', () => {
    const { ipvs, eps } = setup('rr', [ep(1)]);
    const r = new WorkloadDriver(ipvs, {
      seed: 4,
      target: TCP80,
      endMs: 4000,
      arrivals: { kind: 'poisson', ratePerSecond: 200 },
      clients: { count: 25 },
      connectionDuration: { kind: 'exponential', meanMs: 400 },
      replies: true,
      endpoints: eps,
      churn: [{ kind: 'rolling-update', atMs: 1000, order: 'unavailable', gapMs: 500, replacements: [{ from: ep(1), to: ep(2) }] }],
    }).run();
    expect(eps.log.map((c) => [c.op, c.inService, c.timeMs])).toEqual([
      ['add', 1, 0],
      ['remove', 0, 1000],
      ['add', 1, 1500],
    ]);
    // ip_vs_leave answers ICMP port unreachable while no dest is left (reason no-destination) ...
    expect(r.connections.failedByVerdict.rejected).toBeGreaterThan(50);
    expect(r.packets.reasons.find((x) => x.reason === 'no-destination')!.count).toBe(r.connections.failedByVerdict.rejected);
    // ... and packets of connections on the deleted dest are dropped (it sits in the trash).
    expect(r.connections.disrupted).toBeGreaterThan(0);
    expect(r.packets.reasons.find((x) => x.reason === 'destination-unavailable')!.count).toBe(r.connections.disrupted);
  });

  it('reproduces the 1-second connect delay of conn_reuse_mode=1 with conntrack when a client reuses its port', () => {
    // One client with a one-port range must reuse its source port for every connection. After a
    // client-FIN close through NAT the IPVS entry sits in TIME_WAIT; with conn_reuse_mode 1 the next SYN
    // on that tuple must be rescheduled, and with conntrack=1 ip_vs_in drops it (ip_vs_core.c) and
    // expires the entry. The client retransmits after TCP_TIMEOUT_INIT (1 s), which is scheduled afresh.
    const run = (conntrack: boolean) => {
      const ipvs = new Ipvs({ seed: 2, sysctl: { conntrack } });
      ipvs.addService(TCP80, { scheduler: 'rr' });
      const eps = new IpvsEndpointAdapter(ipvs, TCP80);
      eps.addEndpoint(ep(1), 0);
      eps.addEndpoint(ep(2), 0);
      return new WorkloadDriver(ipvs, {
        target: TCP80,
        endMs: 10_000,
        arrivals: { kind: 'closed', concurrency: 1 },
        clients: { portRange: { low: 40000, high: 40000 } },
        connectionDuration: 50,
        replies: true,
        synRetries: 6,
      }).run();
    };
    const slow = run(true);
    expect(slow.connections.maxConnectDelayMs).toBe(1000);
    expect(slow.connections.synRetransmits).toBe(slow.connections.attempted - 1);
    expect(slow.packets.reasons.find((x) => x.reason === 'connection-reuse-drop')!.count).toBe(slow.connections.synRetransmits);
    // Without conntrack the old entry is expired and the SYN rescheduled at once.
    const fast = run(false);
    expect(fast.connections.synRetransmits).toBe(0);
    expect(fast.connections.attempted).toBeGreaterThan(10 * slow.connections.attempted);
  });

  it('the adapter reports the kernel refusals', () => {
    const { eps } = setup('rr', [ep(1)]);
    expect(() => eps.addEndpoint(ep(1), 0)).toThrow(OperationError);
    expect(() => eps.removeEndpoint(ep(2), 0)).toThrow(OperationError);
    eps.setWeight(ep(1), 0, 0);
    expect(eps.inService()).toBe(0);
    expect(eps.log.at(-1)).toMatchObject({ op: 'weight', weight: 0, inService: 0, dests: 1 });
  });
});
