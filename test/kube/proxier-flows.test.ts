// Packet-flow tests in the manner of upstream runPacketFlowTests (kubernetes/kubernetes
// pkg/proxy/iptables/proxier_test.go): source, destination, expected endpoint set, masquerade. Unlike upstream's
// tracer, which lists every endpoint a probability rule *could* reach, these push many real connections through
// the engines (statistic matches drawn from the seeded rng, IPVS rr) and check that every expected endpoint is
// hit and nothing else is. Expectations are derived from kube-proxy's rules, not from lbsim's output:
//
// iptables mode (pkg/proxy/iptables/proxier.go):
// - ClusterIP: KUBE-SVC-* masquerades sources outside the cluster CIDR (`! -s 10.0.0.0/8`).
// - NodePort / LB IP / external IP with Cluster policy: KUBE-EXT-* masquerades everything.
// - Local policy: KUBE-EXT-* sends pod sources (`-s 10.0.0.0/8`) to KUBE-SVC (all endpoints, no masquerade),
//   masquerades and routes `--src-type LOCAL` sources to KUBE-SVC, and sends the rest to KUBE-SVL (local only).
// - No endpoints: filter REJECT.
// IPVS mode (pkg/proxy/ipvs/proxier.go writeIptablesRules + syncEndpoint):
// - KUBE-CLUSTER-IP `! -s 10.0.0.0/8` → KUBE-MARK-MASQ; NodePorts → KUBE-MARK-MASQ unless in
//   KUBE-NODE-PORT-LOCAL-TCP; LB IPs → KUBE-LOAD-BALANCER → KUBE-MARK-MASQ unless in KUBE-LOAD-BALANCER-LOCAL;
//   external IPs (Cluster policy) → KUBE-MARK-MASQ.
// - External virtual servers of a Local-policy service hold only local endpoints, whoever the client is.
// - A virtual server without real servers answers ICMP port unreachable (ip_vs_leave): rejected.
import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { clusterOf, ep, port, sliceManifest, svcManifest } from './helpers.js';
import { EXTERNAL_CLIENT, NODE_IP, newConnection, packetOf, POD_CLIENT, sample, testNode } from './proxier-helpers.js';
import type { Flow, TestNode } from './proxier-helpers.js';

const p8080 = [port('p80', 8080)];
const WEB = ['10.0.0.5:8080', '10.180.0.1:8080', '10.180.1.1:8080'];
const LOCAL_ALL = ['10.0.0.6:8080', '10.180.0.2:8080'];
const LOCAL_ONLY = ['10.0.0.6:8080'];
const STICKY = ['10.180.0.7:8080', '10.180.0.8:8080', '10.180.0.9:8080'];

function flowCluster() {
  return clusterOf(
    [
      svcManifest(
        'ns1',
        'web',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.0.10',
          externalIPs: ['192.168.99.10'],
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }],
        },
        { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
      ),
      svcManifest(
        'ns2',
        'local',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.0.20',
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 30500,
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30081 }],
        },
        { loadBalancer: { ingress: [{ ip: '5.6.7.9' }] } },
      ),
      svcManifest('ns3', 'sticky', {
        clusterIP: '172.30.0.30',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
      }),
      svcManifest('ns4', 'empty', { clusterIP: '172.30.0.40', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
    ],
    [
      sliceManifest('ns1', 'web', 1, [ep('10.180.0.1'), ep('10.180.1.1'), ep('10.0.0.5', { nodeName: 'test-node' })], p8080),
      sliceManifest('ns2', 'local', 1, [ep('10.180.0.2'), ep('10.0.0.6', { nodeName: 'test-node' })], p8080),
      sliceManifest('ns3', 'sticky', 1, [ep('10.180.0.7'), ep('10.180.0.8'), ep('10.180.0.9')], p8080),
    ],
  );
}

type Expect = { readonly endpoints: readonly string[]; readonly masq: boolean } | 'rejected' | 'not-a-service';

interface Case {
  readonly name: string;
  readonly flow: Flow;
  readonly iptables: Expect;
  readonly ipvs: Expect;
}

const CASES: readonly Case[] = [
  { name: 'pod to ClusterIP', flow: { origin: 'pod', dst: '172.30.0.10', dport: 80 }, iptables: { endpoints: WEB, masq: false }, ipvs: { endpoints: WEB, masq: false } },
  { name: 'pod to NodePort', flow: { origin: 'pod', dst: NODE_IP, dport: 30080 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'pod to LB IP', flow: { origin: 'pod', dst: '5.6.7.8', dport: 80 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'external to ClusterIP', flow: { origin: 'external', dst: '172.30.0.10', dport: 80 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'external to NodePort', flow: { origin: 'external', dst: NODE_IP, dport: 30080 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'external to LB IP', flow: { origin: 'external', dst: '5.6.7.8', dport: 80 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  {
    name: 'external to external IP',
    flow: { origin: 'external', dst: '192.168.99.10', dport: 80 },
    iptables: { endpoints: WEB, masq: true },
    ipvs: { endpoints: WEB, masq: true },
  },
  { name: 'node to ClusterIP', flow: { origin: 'node', dst: '172.30.0.10', dport: 80 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'node to NodePort', flow: { origin: 'node', dst: NODE_IP, dport: 30080 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  { name: 'node to LB IP', flow: { origin: 'node', dst: '5.6.7.8', dport: 80 }, iptables: { endpoints: WEB, masq: true }, ipvs: { endpoints: WEB, masq: true } },
  {
    name: 'Local policy: pod to ClusterIP',
    flow: { origin: 'pod', dst: '172.30.0.20', dport: 80 },
    iptables: { endpoints: LOCAL_ALL, masq: false },
    ipvs: { endpoints: LOCAL_ALL, masq: false },
  },
  {
    name: 'Local policy: external to NodePort',
    flow: { origin: 'external', dst: NODE_IP, dport: 30081 },
    iptables: { endpoints: LOCAL_ONLY, masq: false },
    ipvs: { endpoints: LOCAL_ONLY, masq: false },
  },
  {
    name: 'Local policy: external to LB IP',
    flow: { origin: 'external', dst: '5.6.7.9', dport: 80 },
    iptables: { endpoints: LOCAL_ONLY, masq: false },
    ipvs: { endpoints: LOCAL_ONLY, masq: false },
  },
  {
    // iptables short-circuits pod traffic to the Cluster chain; IPVS has one virtual server with local endpoints
    name: 'Local policy: pod to LB IP',
    flow: { origin: 'pod', dst: '5.6.7.9', dport: 80 },
    iptables: { endpoints: LOCAL_ALL, masq: false },
    ipvs: { endpoints: LOCAL_ONLY, masq: false },
  },
  {
    name: 'Local policy: node to LB IP',
    flow: { origin: 'node', dst: '5.6.7.9', dport: 80 },
    iptables: { endpoints: LOCAL_ALL, masq: true },
    ipvs: { endpoints: LOCAL_ONLY, masq: false },
  },
  { name: 'no endpoints: pod to ClusterIP', flow: { origin: 'pod', dst: '172.30.0.40', dport: 80 }, iptables: 'rejected', ipvs: 'rejected' },
  {
    // iptables: no rule matches, the packet is routed on untouched; IPVS: the VIP is local on kube-ipvs0 and
    // KUBE-IPVS-FILTER rejects new connections to ports that are not services (kubernetes#72236)
    name: 'ClusterIP on a port that is not a service port',
    flow: { origin: 'pod', dst: '172.30.0.10', dport: 8081 },
    iptables: 'not-a-service',
    ipvs: 'rejected',
  },
];

const N = 240;

for (const mode of ['iptables', 'ipvs'] as const) {
  describe(`${mode} mode packet flows`, () => {
    const node = testNode(mode, flowCluster());
    node.proxier.start();
    for (const c of CASES) {
      it(c.name, () => {
        const want = c[mode];
        const got = sample(node, c.flow, N);
        if (want === 'rejected' || want === 'not-a-service') {
          expect([...got.verdicts]).toEqual([want === 'rejected' ? 'rejected' : 'forwarded']);
          expect(got.backends.size).toBe(0);
          return;
        }
        expect([...got.verdicts]).toEqual(['forwarded']);
        expect([...got.backends.keys()].sort()).toEqual([...want.endpoints].sort());
        // every endpoint gets a fair share: at least half of N/k (binomial tails far below 1e-6 for iptables)
        for (const n of got.backends.values()) expect(n).toBeGreaterThanOrEqual(N / want.endpoints.length / 2);
        expect([...got.masq]).toEqual([want.masq]);
      });
    }
  });
}

/** A full TCP exchange: SYN, SYN-ACK from the backend, ACK and data; returns the backend of every client packet. */
function connection(node: TestNode, f: Flow, sport: number, dataPackets: number): string[] {
  const first = newConnection(node, f, sport);
  expect(first.verdict).toBe('forwarded');
  const backend = first.backend!;
  const [bAddr, bPort] = backend.split(':') as [string, string];
  const out: string[] = [backend];
  const d = new Decision();
  const reply = new Packet(Protocol.TCP, parseIPv4(bAddr), Number(bPort), parseIPv4(f.origin === 'pod' ? POD_CLIENT : EXTERNAL_CLIENT), sport, TcpFlag.SYN | TcpFlag.ACK, 60);
  if (node.ipvs === null) {
    // iptables: the reply arrives from the backend's side and is un-DNATed by conntrack
    reply.ifindex = node.netfilter.host.ifindex(bAddr.startsWith('10.0.0.') ? 'cni0' : 'eth0');
    const r = node.netfilter.classify(reply, d);
    expect(formatIPv4(r.saddr)).toBe(f.dst);
  } else {
    const r = node.ipvs.classify(reply, d);
    expect(r.direction).toBe('reply');
  }
  for (let i = 0; i < dataPackets; i++) {
    const pkt = packetOf(node, f, sport, TcpFlag.ACK);
    const r = node.ipvs === null ? node.netfilter.classify(pkt, d) : node.ipvs.classify(pkt, d);
    expect(r.verdict).toBe('forwarded');
    expect(r.newConnection).toBe(false);
    out.push(`${formatIPv4(r.backendAddr)}:${r.backendPort}`);
  }
  return out;
}

for (const mode of ['iptables', 'ipvs'] as const) {
  describe(`${mode} mode stickiness`, () => {
    it('keeps established packets on their backend (conntrack / IPVS connection entry)', () => {
      const node = testNode(mode, flowCluster());
      node.proxier.start();
      const seen = new Set<string>();
      for (let c = 0; c < 30; c++) {
        const backends = connection(node, { origin: 'pod', dst: '172.30.0.10', dport: 80 }, 20000 + c, 5);
        expect(new Set(backends).size).toBe(1);
        seen.add(backends[0]!);
      }
      // and different connections still spread over every endpoint
      expect([...seen].sort()).toEqual(WEB);
    });

    it('sends every connection of one client IP to one backend with ClientIP affinity', () => {
      const node = testNode(mode, flowCluster());
      node.proxier.start();
      const perClient = new Set<string>();
      for (let client = 0; client < 40; client++) {
        const src = `10.0.0.${100 + client}`;
        const backends = new Set<string>();
        for (let c = 0; c < 8; c++) {
          const r = newConnection(node, { origin: 'pod', src, dst: '172.30.0.30', dport: 80 }, 30000 + c);
          expect(r.verdict).toBe('forwarded');
          backends.add(r.backend!);
        }
        expect(backends.size).toBe(1);
        perClient.add([...backends][0]!);
      }
      // affinity is per client, not global: the 40 clients are spread over all endpoints
      expect([...perClient].sort()).toEqual(STICKY);
    });

    it('forgets the affinity after the timeout (600 s)', () => {
      const node = testNode(mode, flowCluster());
      node.proxier.start();
      const f: Flow = { origin: 'pod', src: '10.0.0.99', dst: '172.30.0.30', dport: 80 };
      const first = newConnection(node, f, 40000).backend;
      // within the timeout: the same backend
      node.proxier.advance(500_000);
      expect(newConnection(node, f, 40001).backend).toBe(first);
      // new clients after a long idle period are balanced again: over 30 expiries at least two backends appear
      const after = new Set<string>();
      for (let i = 0; i < 30; i++) {
        node.proxier.advance(1_300_000);
        after.add(newConnection(node, f, 41000 + i).backend!);
      }
      expect(after.size).toBeGreaterThan(1);
    });
  });
}
