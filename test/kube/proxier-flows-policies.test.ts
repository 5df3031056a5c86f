// More packet flows in the manner of upstream runPacketFlowTests, for the policies proxier-flows.test.ts does
// not reach: loadBalancerSourceRanges (allowed and denied clients), internalTrafficPolicy Local,
// externalTrafficPolicy Local with no local endpoint, a UDP service, and hairpin traffic (a pod reaching itself
// through its Service). Expectations come from kube-proxy's rules, not from lbsim:
//
// iptables mode (pkg/proxy/iptables/proxier.go; the shapes are those of upstream TestOverallIPTablesRules):
// - Source ranges: KUBE-SERVICES sends the LB IP to KUBE-FW-*, which jumps to KUBE-EXT-* for allowed sources
//   only; everything else falls through nat un-DNATed and filter KUBE-PROXY-FIREWALL ("traffic not accepted
//   by KUBE-FW-*") drops it.
// - ITP Local: internal traffic goes to KUBE-SVL-* (local endpoints only); KUBE-SVL masquerades sources outside
//   the cluster CIDR, like KUBE-SVC.
// - ETP Local without local endpoints: KUBE-EXT-* keeps only the pod short-circuit and the LOCAL-source rules
//   (no KUBE-SVL jump), and filter KUBE-EXTERNAL-SERVICES "has no local endpoints" DROPs external traffic.
// - Hairpin: each KUBE-SEP-* starts with `-s <endpoint IP> -j KUBE-MARK-MASQ`.
// IPVS mode (pkg/proxy/ipvs/proxier.go):
// - Source ranges: the LB IP is in KUBE-LOAD-BALANCER-FW; sources not in KUBE-LOAD-BALANCER-SOURCE-CIDR are
//   dropped by filter KUBE-SOURCE-RANGES-FIREWALL; allowed ones go through KUBE-LOAD-BALANCER → KUBE-MARK-MASQ.
// - ITP Local: the ClusterIP virtual server holds the local endpoints only.
// - ETP Local without local endpoints: syncEndpoint falls back to the cluster endpoints (kubernetes#97081,
//   "allow access from local pods"; an external client's reply would not come back through this node, but
//   the virtual server does forward), and NodePort/LB sources are not masqueraded (KUBE-NODE-PORT-LOCAL-TCP,
//   KUBE-LOAD-BALANCER-LOCAL).
// - Hairpin: masquerade happens in KUBE-POSTROUTING through the KUBE-LOOP-BACK set (dst,dst,src), after IPVS
//   has rewritten the destination; the packet tracer here stops at INPUT, so the test checks the set entry.
import { describe, expect, it } from 'vitest';
import { Protocol } from '../../src/net/protocol.js';
import { clusterOf, ep, port, sliceManifest, svcManifest } from './helpers.js';
import { NODE_IP, sample, testNode } from './proxier-helpers.js';
import type { Flow } from './proxier-helpers.js';

const LOCAL = { nodeName: 'test-node' };
const FW = ['10.180.0.11:8080', '10.180.0.12:8080'];
const ITP_LOCAL = ['10.0.0.7:8080'];
const NO_LOCAL = ['10.180.0.14:8080', '10.180.0.15:8080'];
const DNS = ['10.180.0.16:53', '10.180.0.17:53'];
const DENIED_CLIENT = '198.51.100.9';
const ALLOWED_CLIENT = '203.0.113.7'; // inside 203.0.113.0/25

function policyCluster() {
  const web = [port('p80', 8080)];
  return clusterOf(
    [
      svcManifest(
        'ns1',
        'fw',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.0.50',
          loadBalancerSourceRanges: ['203.0.113.0/25'],
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30090 }],
        },
        { loadBalancer: { ingress: [{ ip: '5.6.7.50' }] } },
      ),
      svcManifest('ns2', 'itp', { clusterIP: '172.30.0.60', internalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
      svcManifest(
        'ns3',
        'nolocal',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.0.70',
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 30501,
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30091 }],
        },
        { loadBalancer: { ingress: [{ ip: '5.6.7.70' }] } },
      ),
      svcManifest('ns4', 'dns', { clusterIP: '172.30.0.80', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      svcManifest('ns5', 'hairpin', { clusterIP: '172.30.0.90', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
    ],
    [
      sliceManifest('ns1', 'fw', 1, [ep('10.180.0.11'), ep('10.180.0.12')], web),
      sliceManifest('ns2', 'itp', 1, [ep('10.0.0.7', LOCAL), ep('10.180.0.13')], web),
      sliceManifest('ns3', 'nolocal', 1, [ep('10.180.0.14'), ep('10.180.0.15')], web),
      sliceManifest('ns4', 'dns', 1, [ep('10.180.0.16'), ep('10.180.0.17')], [port('dns', 53, 'UDP')]),
      sliceManifest('ns5', 'hairpin', 1, [ep('10.0.0.8', LOCAL)], web),
    ],
  );
}

type Expect = { readonly endpoints: readonly string[]; readonly masq: boolean } | 'dropped';

interface Case {
  readonly name: string;
  readonly flow: Flow;
  readonly iptables: Expect;
  readonly ipvs: Expect;
}

const CASES: readonly Case[] = [
  {
    name: 'source ranges: allowed external client to LB IP',
    flow: { origin: 'external', src: ALLOWED_CLIENT, dst: '5.6.7.50', dport: 80 },
    iptables: { endpoints: FW, masq: true },
    ipvs: { endpoints: FW, masq: true },
  },
  { name: 'source ranges: denied external client to LB IP', flow: { origin: 'external', src: DENIED_CLIENT, dst: '5.6.7.50', dport: 80 }, iptables: 'dropped', ipvs: 'dropped' },
  {
    // source ranges guard the LB IP only
    name: 'source ranges: denied client to the NodePort',
    flow: { origin: 'external', src: DENIED_CLIENT, dst: NODE_IP, dport: 30090 },
    iptables: { endpoints: FW, masq: true },
    ipvs: { endpoints: FW, masq: true },
  },
  { name: 'ITP Local: pod to ClusterIP', flow: { origin: 'pod', dst: '172.30.0.60', dport: 80 }, iptables: { endpoints: ITP_LOCAL, masq: false }, ipvs: { endpoints: ITP_LOCAL, masq: false } },
  { name: 'ITP Local: node to ClusterIP', flow: { origin: 'node', dst: '172.30.0.60', dport: 80 }, iptables: { endpoints: ITP_LOCAL, masq: true }, ipvs: { endpoints: ITP_LOCAL, masq: true } },
  { name: 'ETP Local, no local endpoint: external to LB IP', flow: { origin: 'external', dst: '5.6.7.70', dport: 80 }, iptables: 'dropped', ipvs: { endpoints: NO_LOCAL, masq: false } },
  { name: 'ETP Local, no local endpoint: external to NodePort', flow: { origin: 'external', dst: NODE_IP, dport: 30091 }, iptables: 'dropped', ipvs: { endpoints: NO_LOCAL, masq: false } },
  { name: 'ETP Local, no local endpoint: pod to LB IP', flow: { origin: 'pod', dst: '5.6.7.70', dport: 80 }, iptables: { endpoints: NO_LOCAL, masq: false }, ipvs: { endpoints: NO_LOCAL, masq: false } },
  { name: 'ETP Local, no local endpoint: pod to ClusterIP', flow: { origin: 'pod', dst: '172.30.0.70', dport: 80 }, iptables: { endpoints: NO_LOCAL, masq: false }, ipvs: { endpoints: NO_LOCAL, masq: false } },
  { name: 'UDP: pod to ClusterIP', flow: { origin: 'pod', dst: '172.30.0.80', dport: 53, proto: Protocol.UDP }, iptables: { endpoints: DNS, masq: false }, ipvs: { endpoints: DNS, masq: false } },
  { name: 'UDP: external to ClusterIP', flow: { origin: 'external', dst: '172.30.0.80', dport: 53, proto: Protocol.UDP }, iptables: { endpoints: DNS, masq: true }, ipvs: { endpoints: DNS, masq: true } },
];

const N = 160;

for (const mode of ['iptables', 'ipvs'] as const) {
  describe(`${mode} mode: source ranges, traffic policies, UDP`, () => {
    const node = testNode(mode, policyCluster());
    node.proxier.start();
    for (const c of CASES) {
      it(c.name, () => {
        const want = c[mode];
        const got = sample(node, c.flow, N);
        if (want === 'dropped') {
          expect([...got.verdicts]).toEqual(['dropped']);
          expect(got.backends.size).toBe(0);
          return;
        }
        expect([...got.verdicts]).toEqual(['forwarded']);
        expect([...got.backends.keys()].sort()).toEqual([...want.endpoints].sort());
        for (const n of got.backends.values()) expect(n).toBeGreaterThanOrEqual(N / want.endpoints.length / 2);
        expect([...got.masq]).toEqual([want.masq]);
      });
    }
  });
}

describe('hairpin: a pod reaching itself through its Service', () => {
  const hairpin: Flow = { origin: 'pod', src: '10.0.0.8', dst: '172.30.0.90', dport: 80 };

  it('iptables: KUBE-SEP masquerades the endpoint talking to itself, and only it', () => {
    const node = testNode('iptables', policyCluster());
    node.proxier.start();
    const self = sample(node, hairpin, 20);
    expect([...self.backends.keys()]).toEqual(['10.0.0.8:8080']);
    expect([...self.masq]).toEqual([true]);
    const other = sample(node, { ...hairpin, src: '10.0.0.9' }, 20);
    expect([...other.backends.keys()]).toEqual(['10.0.0.8:8080']);
    expect([...other.masq]).toEqual([false]);
  });

  it('IPVS: the endpoint is in KUBE-LOOP-BACK (dst,dst,src), which KUBE-POSTROUTING masquerades', () => {
    const node = testNode('ipvs', policyCluster());
    node.proxier.start();
    const sets = node.netfilter.stateful.ipsets;
    expect(sets.test('KUBE-LOOP-BACK', '10.0.0.8,tcp:8080,10.0.0.8')).toBe(true);
    expect(sets.test('KUBE-LOOP-BACK', '10.0.0.8,tcp:8080,10.0.0.9')).toBe(false);
    expect(node.netfilter.saveText()).toMatch(/-A KUBE-POSTROUTING .*--match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE/);
    const r = sample(node, hairpin, 20);
    expect([...r.backends.keys()]).toEqual(['10.0.0.8:8080']);
  });
});
