// A simulated node for the proxier tests: the upstream test node (test-node, 192.168.0.2, pod CIDR 10.0.0.0/24)
// with eth0 192.168.0.2/24 and a pod bridge cni0 10.0.0.1/24, and helpers that push packets through it the way
// upstream runPacketFlowTests does (pkg/proxy/iptables/proxier_test.go), but with the real engines: rules are
// evaluated with conntrack and real randomness, and "masquerade" means the packet went through KUBE-MARK-MASQ.
import { Decision } from '../../src/classify/decision.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import type { Cluster } from '../../src/kube/cluster.js';
import type { KubeProxyConfiguration } from '../../src/kube/objects.js';
import { KubeProxier } from '../../src/kube/proxier.js';
import type { KubeProxierOptions } from '../../src/kube/proxier.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import { SimClock } from '../../src/sim/clock.js';
import { fakeProxierConfig, TEST_NODE } from './helpers.js';

export const NODE_IP = '192.168.0.2';
export const POD_CLIENT = '10.0.0.2';
export const EXTERNAL_CLIENT = '203.0.113.7';

/** A fresh netfilter engine for the test node. */
export function nodeNetfilter(clock: SimClock, seed = 1): Netfilter {
  return new Netfilter({
    clock,
    seed,
    host: {
      interfaces: [
        { name: 'eth0', addresses: [`${NODE_IP}/24`] },
        { name: 'cni0', addresses: ['10.0.0.1/24'] },
      ],
      defaultInterface: 'eth0',
    },
  });
}

export interface TestNode {
  readonly clock: SimClock;
  readonly netfilter: Netfilter;
  readonly ipvs: Ipvs | null;
  readonly proxier: KubeProxier;
}

/** A proxier in `mode` for `cluster` on the test node, not started. */
export function testNode(
  mode: 'iptables' | 'ipvs',
  cluster: Cluster,
  config: KubeProxyConfiguration = fakeProxierConfig(),
  extra: Partial<KubeProxierOptions> = {},
): TestNode {
  const clock = new SimClock();
  const netfilter = nodeNetfilter(clock);
  const ipvs = mode === 'ipvs' ? new Ipvs({ clock, seed: 2 }) : null;
  const proxier = new KubeProxier({
    cluster,
    node: TEST_NODE,
    config: { ...config, mode },
    netfilter,
    ...(ipvs !== null ? { ipvs } : {}),
    ...extra,
  });
  return { clock, netfilter, ipvs, proxier };
}

/** Where a packet comes from: a pod on the bridge, an external host via eth0, or the node itself. */
export type Origin = 'pod' | 'external' | 'node';

export interface Flow {
  readonly origin: Origin;
  /** Source address (defaults per origin). */
  readonly src?: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto?: number;
}

export interface FlowResult {
  readonly verdict: Decision['verdict'];
  /** `ip:port` of the backend, or null. */
  readonly backend: string | null;
  /** The packet jumped to KUBE-MARK-MASQ (upstream tracePacket's masq flag). */
  readonly masq: boolean;
}

function sourceOf(f: Flow): string {
  if (f.src !== undefined) return f.src;
  return f.origin === 'pod' ? POD_CLIENT : f.origin === 'external' ? EXTERNAL_CLIENT : NODE_IP;
}

/** A packet of `f` with source port `sport` and TCP `flags`. */
export function packetOf(node: TestNode, f: Flow, sport: number, flags: number = TcpFlag.SYN): Packet {
  const p = new Packet(f.proto ?? Protocol.TCP, parseIPv4(sourceOf(f)), sport, parseIPv4(f.dst), f.dport, flags, 60);
  if (f.origin === 'node') p.local = true;
  else p.ifindex = node.netfilter.host.ifindex(f.origin === 'pod' ? 'cni0' : 'eth0');
  return p;
}

function backendOf(d: Decision): string | null {
  return d.hasBackend ? `${formatIPv4(d.backendAddr)}:${d.backendPort}` : null;
}

/**
 * The first packet of a new connection through the node. iptables mode: the
 * netfilter engine does everything. IPVS mode: the netfilter engine decides
 * masquerade and filtering (the VIP is local, so the packet is delivered to
 * INPUT), then IPVS picks the backend (as ip_vs_in does at LOCAL_IN).
 */
export function newConnection(node: TestNode, f: Flow, sport: number): FlowResult {
  const pkt = packetOf(node, f, sport);
  const { decision, steps } = node.netfilter.trace(pkt);
  const masq = steps.some((s) => s.matched && s.action === 'jump:KUBE-MARK-MASQ');
  if (node.ipvs === null || decision.verdict !== 'accepted') {
    return { verdict: decision.verdict, backend: backendOf(decision), masq };
  }
  const d = node.ipvs.classify(pkt, new Decision());
  return { verdict: d.verdict, backend: backendOf(d), masq };
}

/** Counts the backends of `n` new connections of `f` (source ports 10000, 10001, ...). */
export function sample(node: TestNode, f: Flow, n: number): { backends: Map<string, number>; masq: Set<boolean>; verdicts: Set<string> } {
  const backends = new Map<string, number>();
  const masq = new Set<boolean>();
  const verdicts = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = newConnection(node, f, 10000 + i);
    verdicts.add(r.verdict);
    masq.add(r.masq);
    if (r.backend !== null) backends.set(r.backend, (backends.get(r.backend) ?? 0) + 1);
  }
  return { backends, masq, verdicts };
}
