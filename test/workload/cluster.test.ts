import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { KubeProxier } from '../../src/kube/proxier.js';
import { cidrContains, parseCidr, parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import { SimClock } from '../../src/sim/clock.js';
import { syntheticCluster } from '../../src/workload/index.js';
import type { SyntheticCluster } from '../../src/workload/index.js';

/** A kube-proxy on node 0 of `sc`, started. */
function proxierFor(sc: SyntheticCluster, mode: 'iptables' | 'ipvs') {
  const clock = new SimClock();
  const netfilter = new Netfilter({ clock, seed: 1, host: sc.hostOptions() });
  const ipvs = mode === 'ipvs' ? new Ipvs({ clock, seed: 2 }) : null;
  const proxier = new KubeProxier({
    cluster: sc.cluster,
    node: sc.node,
    config: sc.proxyConfig(mode),
    netfilter,
    ...(ipvs !== null ? { ipvs } : {}),
  });
  const first = proxier.start();
  return { clock, netfilter, ipvs, proxier, first };
}

describe('syntheticCluster: shape', () => {
  it('builds N Services × E endpoints, one slice each, named in index order', () => {
    const sc = syntheticCluster({ services: 120, endpoints: 7, seed: 3 });
    expect(sc.cluster.services.size).toBe(120);
    expect(sc.cluster.endpointSlices.size).toBe(120);
    expect(sc.services).toHaveLength(120);
    for (let i = 0; i < 120; i++) {
      const svc = sc.services[i]!;
      expect(svc.name).toBe(`svc-${String(i).padStart(6, '0')}`);
      expect(svc.type).toBe('ClusterIP');
      expect(svc.sessionAffinity).toBe('None');
      expect(svc.clusterIP).toBe(sc.clusterIP(i));
      expect(svc.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 0, appProtocol: null }]);
      const slice = sc.endpointSlices[i]!;
      expect(slice.serviceName).toBe(svc.name);
      expect(slice.endpoints.map((e) => e.addresses[0])).toEqual([0, 1, 2, 3, 4, 5, 6].map((j) => sc.podIP(i * 7 + j)));
      // kube-proxy sees all 7 endpoints on port 8080
      const infos = sc.cluster.servicePortsOf(`bench/${svc.name}`);
      expect(infos).toHaveLength(1);
      expect(sc.cluster.endpoints(infos[0]!)).toHaveLength(7);
    }
    // names sort in index order (kube-proxy's sorted KUBE-SERVICES order)
    const names = sc.services.map((s) => s.name);
    expect([...names].sort()).toEqual(names);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const mix = { nodePort: 0.2, loadBalancer: 0.1, sessionAffinity: 0.3, externalTrafficPolicyLocal: 0.5 };
    const a = syntheticCluster({ services: 300, seed: 11, mix });
    const b = syntheticCluster({ services: 300, seed: 11, mix });
    const c = syntheticCluster({ services: 300, seed: 12, mix });
    expect(b.services).toEqual(a.services);
    expect(b.endpointSlices).toEqual(a.endpointSlices);
    expect(c.services.map((s) => s.clusterIP)).not.toEqual(a.services.map((s) => s.clusterIP));
    expect(c.services.map((s) => s.type)).not.toEqual(a.services.map((s) => s.type));
    expect(c.endpointSlices[0]!.endpoints).not.toEqual(a.endpointSlices[0]!.endpoints);
    expect(b.endpointChange(5)).toEqual(a.endpointChange(5));
    expect(b.addService(300)).toEqual(a.addService(300));
  });

  it('places every pod in its node’s pod block, never on the block’s network, bridge or broadcast address', () => {
    const sc = syntheticCluster({ services: 200, endpoints: 10, nodes: 5, seed: 4 });
    // 5 nodes → 8 blocks of the /9: /12 each
    expect(sc.nodePodPrefix).toBe(12);
    expect(sc.node.name).toBe('node-0');
    expect(sc.node.podCIDR).toEqual(parseCidr('10.128.0.0/12'));
    expect(sc.node.internalIPs).toEqual([parseIPv4('192.168.0.10')]);
    const perNode = [0, 0, 0, 0, 0];
    for (const slice of sc.endpointSlices) {
      for (const e of slice.endpoints) {
        const k = Number(e.nodeName!.slice('node-'.length));
        perNode[k]!++;
        const block = sc.nodePodCidr(k);
        const addr = e.addresses[0]!;
        expect(cidrContains(block, addr)).toBe(true);
        const offset = addr - block.address;
        expect(offset).toBeGreaterThanOrEqual(2);
        expect(offset).toBeLessThan(2 ** (32 - block.prefixLength) - 1);
      }
    }
    // every node gets pods (2000 pods over 5 nodes)
    for (const c of perNode) expect(c).toBeGreaterThan(200);
  });

  it('never reuses an address: 100k ClusterIPs and 1M pod IPs (100k × 10) are distinct and inside their CIDRs', () => {
    const sc = syntheticCluster({ services: 0, seed: 9 });
    const svc = parseCidr('10.96.0.0/12');
    const seenSvc = new Uint8Array(2 ** 20);
    for (let i = 0; i < 100_000; i++) {
      const a = sc.clusterIP(i);
      const off = a - svc.address;
      // not the network (0) nor the broadcast address
      if (!(off >= 1 && off < 2 ** 20 - 1) || seenSvc[off] === 1) throw new Error(`ClusterIP ${i} collides or is out of range`);
      seenSvc[off] = 1;
    }
    const pod = parseCidr('10.128.0.0/9');
    const seenPod = new Uint8Array(2 ** 23);
    for (let k = 0; k < 1_000_000; k++) {
      const off = sc.podIP(k) - pod.address;
      if (!(off >= 0 && off < 2 ** 23) || seenPod[off] === 1) throw new Error(`pod ${k} collides or is out of range`);
      seenPod[off] = 1;
    }
    // replacement pods come from the top of the pod space: the first 1000 collide with none of those 1M
    // (same seed and address plan → same permutation)
    const small = syntheticCluster({ services: 100, seed: 9 });
    for (let c = 0; c < 1000; c++) {
      const slice = small.endpointChange(c % 100);
      // change c of Service c % 100 is its (c / 100)-th change: it replaced slot (c / 100) mod 10
      const off = slice.endpoints[Math.floor(c / 100) % 10]!.addresses[0]! - pod.address;
      if (seenPod[off] === 1) throw new Error(`replacement pod ${c} reuses an address`);
      seenPod[off] = 1;
    }
    expect(seenSvc.reduce((n, x) => n + x, 0)).toBe(100_000);
  });

  it('draws the feature mix in the requested fractions', () => {
    const n = 20_000;
    const mix = { nodePort: 0.1, loadBalancer: 0.05, sessionAffinity: 0.2, externalTrafficPolicyLocal: 0.5 };
    const sc = syntheticCluster({ services: n, endpoints: 0, seed: 21, mix, nodePortRange: { min: 30000, max: 40000 } });
    const t = sc.typeCounts();
    // binomial: within 5 standard deviations of n·p
    const near = (count: number, trials: number, p: number): void => {
      expect(Math.abs(count - trials * p)).toBeLessThan(5 * Math.sqrt(trials * p * (1 - p)));
    };
    near(t.NodePort, n, 0.1);
    near(t.LoadBalancer, n, 0.05);
    near(t.sessionAffinity, n, 0.2);
    near(t.externalLocal, t.NodePort + t.LoadBalancer, 0.5);
    expect(t.ClusterIP + t.NodePort + t.LoadBalancer).toBe(n);
    // node ports (and health-check node ports of LoadBalancer + Local) are distinct and in range
    const ports = new Set<number>();
    let hc = 0;
    for (const s of sc.services) {
      if (s.type === 'ClusterIP') {
        expect(s.ports[0]!.nodePort).toBe(0);
        expect(s.externalTrafficPolicy).toBeNull();
        continue;
      }
      for (const p of [s.ports[0]!.nodePort, s.healthCheckNodePort]) {
        if (p === 0) continue;
        expect(p).toBeGreaterThanOrEqual(30000);
        expect(p).toBeLessThanOrEqual(40000);
        expect(ports.has(p)).toBe(false);
        ports.add(p);
      }
      if (s.type === 'LoadBalancer') {
        expect(s.loadBalancerIngress).toHaveLength(1);
        if (s.externalTrafficPolicy === 'Local') {
          expect(s.healthCheckNodePort).not.toBe(0);
          hc++;
        }
      } else expect(s.healthCheckNodePort).toBe(0);
      if (s.sessionAffinity === 'ClientIP') expect(s.sessionAffinityTimeoutSeconds).toBe(10800);
    }
    expect(ports.size).toBe(t.NodePort + t.LoadBalancer + hc);
  });

  it('refuses mixes that exhaust the node-port range, and bad options', () => {
    expect(() => syntheticCluster({ services: 5000, mix: { nodePort: 1 } })).toThrow(/node-port range 30000-32767 is exhausted/);
    expect(() => syntheticCluster({ services: 10, mix: { nodePort: 0.7, loadBalancer: 0.5 } })).toThrow(InvalidArgumentError);
    expect(() => syntheticCluster({ services: -1 })).toThrow(InvalidArgumentError);
    expect(() => syntheticCluster({ services: 10, podCidr: '10.96.0.0/16' })).toThrow(/overlaps/);
    expect(() => syntheticCluster({ services: 2000, serviceCidr: '10.96.0.0/22' })).toThrow(/holds fewer than 2000 Services/);
    expect(() => syntheticCluster({ services: 10 }).addService(3)).toThrow(InvalidArgumentError);
  });
});

describe('syntheticCluster: churn helpers', () => {
  it('endpointChange replaces one endpoint per call, rotating through the slots, with a fresh address', () => {
    const sc = syntheticCluster({ services: 10, endpoints: 3, seed: 5 });
    const orig = sc.endpointSlices[4]!.endpoints.map((e) => e.addresses[0]!);
    const c1 = sc.endpointChange(4).endpoints.map((e) => e.addresses[0]!);
    const c2 = sc.endpointChange(4).endpoints.map((e) => e.addresses[0]!);
    const c4 = (sc.endpointChange(4), sc.endpointChange(4)).endpoints.map((e) => e.addresses[0]!);
    // change 1 replaces slot 0, change 2 slot 1 (on top of change 1), change 4 slot 0 again
    expect(c1.slice(1)).toEqual(orig.slice(1));
    expect(c1[0]).not.toBe(orig[0]);
    expect([c2[0], c2[2]]).toEqual([c1[0], orig[2]]);
    expect(c2[1]).not.toBe(orig[1]);
    expect(c4[0]).not.toBe(c1[0]);
    const all = new Set(sc.endpointSlices.flatMap((s) => s.endpoints.map((e) => e.addresses[0]!)));
    for (const a of [c1[0]!, c2[1]!, c4[0]!]) expect(all.has(a)).toBe(false);
    // the original objects are untouched
    expect(sc.endpointSlices[4]!.endpoints.map((e) => e.addresses[0]!)).toEqual(orig);
  });

  it('addService gives a new Service outside the cluster, the same objects every call', () => {
    const sc = syntheticCluster({ services: 10, seed: 5 });
    const s = sc.addService(10);
    expect(sc.addService(10)).toBe(s);
    expect(sc.cluster.services.has('bench/svc-000010')).toBe(false);
    expect(s.service.name).toBe('svc-000010');
    expect(s.endpointSlice.serviceName).toBe('svc-000010');
    expect(sc.services.map((x) => x.clusterIP)).not.toContain(s.service.clusterIP);
  });
});

describe('syntheticCluster through KubeProxier', () => {
  // kube-proxy's iptables rules for a ClusterIP Service with E ready endpoints (pkg/proxy/iptables/proxier.go):
  //   nat: 1 KUBE-SERVICES rule (-d VIP --dport → KUBE-SVC), KUBE-SVC = 1 masquerade rule (! -s clusterCIDR → MARK-MASQ)
  //   + E jumps, E KUBE-SEP chains of 2 rules (hairpin MARK-MASQ, DNAT) → 2 + 3E rules, 1 + E chains per Service;
  //   plus KUBE-POSTROUTING 3, KUBE-MARK-MASQ 1 and the KUBE-NODEPORTS tail rule in KUBE-SERVICES = 5 rules, and the
  //   4 top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ).
  //   filter: KUBE-FORWARD 3 (INVALID drop, masq-mark accept, RELATED/ESTABLISHED accept) + KUBE-FIREWALL 1 = 4.
  it('iptables: a full sync writes N(2 + 3E) + 5 nat rules and N(1 + E) + 4 nat chains; KUBE-SERVICES is in index order', () => {
    const n = 40;
    const e = 4;
    const sc = syntheticCluster({ services: n, endpoints: e, seed: 8 });
    const { first, netfilter } = proxierFor(sc, 'iptables');
    expect(first).toMatchObject({ kind: 'full', success: true, servicesWritten: n });
    expect(first.rulesWritten.nat).toBe(n * (2 + 3 * e) + 5);
    expect(first.chainsWritten.nat).toBe(n * (1 + e) + 4);
    expect(first.rulesWritten.filter).toBe(4);
    const services = netfilter.ruleset.chain('nat', 'KUBE-SERVICES')!.rules;
    expect(services).toHaveLength(n + 1);
    for (let i = 0; i < n; i++) expect(services[i]!.spec.dst?.addr).toBe(sc.clusterIP(i));
  });

  it('iptables: one endpointChange is a partial sync of one Service; addService adds 2 + 3E rules', () => {
    const n = 40;
    const e = 4;
    const sc = syntheticCluster({ services: n, endpoints: e, seed: 8 });
    const { proxier, clock } = proxierFor(sc, 'iptables');
    clock.advance(1000);
    proxier.applyEndpointSlice(sc.endpointChange(17));
    const r = proxier.lastReport!;
    expect(r).toMatchObject({ kind: 'partial', success: true, servicesWritten: 1, changedServices: 1 });
    // KUBE-SERVICES (n + tail), POSTROUTING 3, MARK-MASQ 1, and the changed Service's 1 + 3E (its
    // KUBE-SERVICES rule is counted in the n)
    expect(r.rulesWritten.nat).toBe(n + 1 + 3 + 1 + 1 + 3 * e);
    clock.advance(1000);
    const add = sc.addService(n);
    proxier.batch(() => {
      proxier.applyService(add.service);
      proxier.applyEndpointSlice(add.endpointSlice);
    });
    expect(proxier.lastReport!.ruleCounts.nat).toBe((n + 1) * (2 + 3 * e) + 5);
  });

  it('IPVS: a full sync adds N virtual servers and N·E real servers; one endpointChange is one add and one delete', () => {
    const n = 40;
    const e = 4;
    const sc = syntheticCluster({ services: n, endpoints: e, seed: 8 });
    const { first, proxier, clock, ipvs } = proxierFor(sc, 'ipvs');
    expect(first.success).toBe(true);
    expect(first.ipvs!.operations).toMatchObject({ addVirtualServer: n, addRealServer: n * e });
    expect(ipvs!.serviceCount).toBe(n);
    // the iptables part of IPVS mode does not grow with N: nat 9, filter 10 (derived in
    // test/kube/proxier-scale.test.ts), plus the KUBE-POSTROUTING hairpin rule (-m set --match-set
    // KUBE-LOOP-BACK dst,dst,src -j MASQUERADE) once an endpoint runs on this node (the set is not empty)
    const local = sc.endpointSlices.some((s) => s.endpoints.some((x) => x.nodeName === 'node-0'));
    expect(local).toBe(true); // 160 pods over 64 nodes
    expect(first.ruleCounts).toEqual({ filter: 10, nat: 10 });
    const remote = syntheticCluster({ services: 3, endpoints: 2, seed: 1 });
    expect(remote.endpointSlices.some((s) => s.endpoints.some((x) => x.nodeName === 'node-0'))).toBe(false);
    expect(proxierFor(remote, 'ipvs').first.ruleCounts).toEqual({ filter: 10, nat: 9 });
    clock.advance(1000);
    proxier.applyEndpointSlice(sc.endpointChange(3));
    proxier.advance(1000);
    // the replaced TCP real server has no connections, so graceful termination deletes it at once
    expect(proxier.lastReport!.ipvs!.operations).toMatchObject({ addRealServer: 1, deleteRealServer: 1, updateRealServer: 0, writes: 2 });
  });

  it('a packet from a pod on node 0 to a ClusterIP reaches one of that Service’s endpoints in both modes', () => {
    const sc = syntheticCluster({ services: 30, endpoints: 5, seed: 13 });
    const src = sc.nodePodCidr(0).address + 7;
    for (const mode of ['iptables', 'ipvs'] as const) {
      const { netfilter, ipvs } = proxierFor(sc, mode);
      const classifier = ipvs ?? netfilter;
      for (const i of [0, 15, 29]) {
        const pkt = new Packet(Protocol.TCP, src, 40000 + i, sc.clusterIP(i), 80, TcpFlag.SYN);
        pkt.ifindex = netfilter.host.ifindex('cni0');
        const d = classifier.classify(pkt, new Decision());
        expect(d.verdict).toBe('forwarded');
        expect(sc.endpointSlices[i]!.endpoints.map((x) => x.addresses[0])).toContain(d.backendAddr);
        expect(d.backendPort).toBe(8080);
      }
    }
  });

  it('a mixed cluster (NodePort, LoadBalancer, affinity, Local) syncs in both modes', () => {
    const sc = syntheticCluster({
      services: 200,
      endpoints: 3,
      seed: 14,
      mix: { nodePort: 0.2, loadBalancer: 0.2, sessionAffinity: 0.3, externalTrafficPolicyLocal: 0.5 },
    });
    const t = sc.typeCounts();
    expect(t.NodePort).toBeGreaterThan(0);
    expect(t.LoadBalancer).toBeGreaterThan(0);
    for (const mode of ['iptables', 'ipvs'] as const) {
      const { first } = proxierFor(sc, mode);
      expect(first.success).toBe(true);
      if (mode === 'ipvs') {
        // one virtual server per ClusterIP, per LB ingress IP, and per node address × NodePort (eth0, cni0)
        expect(first.ipvs!.virtualServers).toBe(200 + t.LoadBalancer + 2 * (t.NodePort + t.LoadBalancer));
      } else {
        expect(first.servicesWritten).toBe(200);
      }
    }
  });
});
