// The workload driver against iptables mode: a Netfilter engine programmed by a simulated kube-proxy,
// the same driver and the same PacketClassifier interface as the IPVS tests. Clients on the node's
// network open connections to a ClusterIP; KUBE-SVC-* picks an endpoint with its statistic rules
// (1/(E−i) each), conntrack keeps every later packet of a connection on it, and only a connection's
// first packet walks the nat table.
import { describe, expect, it } from 'vitest';
import { KubeProxier } from '../../src/kube/proxier.js';
import { formatIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import { SimClock } from '../../src/sim/clock.js';
import { WorkloadDriver, syntheticCluster } from '../../src/workload/index.js';

function iptablesNode(endpoints: number) {
  const sc = syntheticCluster({ services: 3, endpoints, seed: 21 });
  const clock = new SimClock();
  const netfilter = new Netfilter({ clock, seed: 5, host: sc.hostOptions() });
  const proxier = new KubeProxier({ cluster: sc.cluster, node: sc.node, config: sc.proxyConfig('iptables'), netfilter });
  expect(proxier.start().success).toBe(true);
  proxier.stop();
  const target = { proto: Protocol.TCP, addr: sc.clusterIP(1), port: sc.port };
  const backends = sc.endpointSlices[1]!.endpoints.map((e) => formatIPv4(e.addresses[0]!));
  return { netfilter, target, backends };
}

describe('driving iptables mode', () => {
  it('spreads new connections over the endpoints by the statistic rules, and keeps each on its endpoint', () => {
    const E = 4;
    const { netfilter, target, backends } = iptablesNode(E);
    const r = new WorkloadDriver(netfilter, {
      seed: 3,
      target,
      endMs: 20_000,
      arrivals: { kind: 'poisson', ratePerSecond: 200 },
      clients: { count: 50, cidrs: ['203.0.113.0/24'] },
      connectionDuration: { kind: 'exponential', meanMs: 200 },
      replies: true,
    }).run();
    const n = r.connections.attempted;
    expect(n).toBeGreaterThan(3000);
    expect(r.connections.completed).toBe(n);
    expect(r.packets.verdicts).toMatchObject({ dropped: 0, rejected: 0 });
    // every connection and every packet of it (replies included) is tallied on one of the service's endpoints
    expect(new Set(r.backends.map((b) => b.addr))).toEqual(new Set(backends));
    expect(r.backends.every((b) => b.port === 8080)).toBe(true);
    const replies = r.packets.byKind.filter((k) => k.kind === 'syn-ack' || k.kind.endsWith('-reply'));
    expect(replies.reduce((a, k) => a + k.packets, 0)).toBeGreaterThan(n);
    expect(replies.every((k) => k.verdicts.dropped === 0 && k.verdicts.rejected === 0)).toBe(true);
    // conntrack: only a connection's first packet walks the nat table's service chains
    const syn = r.packets.byKind.find((k) => k.kind === 'syn')!;
    const data = r.packets.byKind.find((k) => k.kind === 'data')!;
    expect(data.packets).toBeGreaterThan(0);
    expect(data.work.rulesEvaluated / data.packets).toBeLessThan(syn.work.rulesEvaluated / syn.packets);
    const counts = r.backends.map((b) => b.newConnections);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    // uniform over E: chi-square with E−1 = 3 degrees of freedom below 16.27 (p = 0.001)
    const chi2 = counts.reduce((a, c) => a + (c - n / E) ** 2 / (n / E), 0);
    expect(chi2).toBeLessThan(16.27);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number) => {
      const { netfilter, target } = iptablesNode(3);
      const r = new WorkloadDriver(netfilter, {
        seed,
        target,
        endMs: 3000,
        arrivals: { kind: 'poisson', ratePerSecond: 100 },
        clients: { count: 10, cidrs: ['203.0.113.0/24'] },
        connectionDuration: { kind: 'exponential', meanMs: 100 },
        replies: true,
      }).run();
      return JSON.stringify(r.backends.map((b) => [b.addr, b.newConnections]));
    };
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
  });
});

