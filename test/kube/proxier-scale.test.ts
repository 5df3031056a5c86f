// 10,000 ClusterIP services × 10 endpoints, both modes. Only counts are asserted (operations, rules written,
// chains touched): a sync that rewrote or re-added everything, or an O(n²) diff, shows up as a wrong count.
// Expected counts derived from kube-proxy's rules:
// iptables — per service: 1 KUBE-SERVICES rule, KUBE-SVC (1 masquerade + 10 jumps), 10 KUBE-SEP × 2 rules =
//   32 rules, 11 chains; plus 3 KUBE-POSTROUTING + 1 KUBE-MARK-MASQ + 1 NodePort tail rule and 4 top-level chains.
//   100,000 endpoints > 1000: large-cluster mode.
// IPVS — 10,000 virtual servers and 100,000 real servers; a sync reads 2 × VS + VS + 1 and writes the diff.
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/kube/cluster.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { ep, port, sliceManifest, svcManifest } from './helpers.js';
import { testNode } from './proxier-helpers.js';

const SERVICES = 10_000;
const ENDPOINTS = 10;

const ipOf = (i: number, j: number): string => `10.${128 + (i >> 8)}.${i & 255}.${j + 1}`;
const sliceOf = (i: number, ips: readonly string[]) =>
  endpointSliceFromObject(sliceManifest('scale', `s${i}`, 1, ips.map((ip) => ep(ip)), [port('p', 8080)]));

function bigCluster(): Cluster {
  const c = new Cluster();
  for (let i = 0; i < SERVICES; i++) {
    c.applyService(serviceFromObject(svcManifest('scale', `s${i}`, { clusterIP: `172.30.${i >> 8}.${i & 255}`, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] })));
    c.applyEndpointSlice(sliceOf(i, Array.from({ length: ENDPOINTS }, (_, j) => ipOf(i, j))));
  }
  return c;
}

describe('10k services × 10 endpoints', () => {
  it('iptables: a full sync writes everything, a partial sync after one endpoint change writes one service', () => {
    const node = testNode('iptables', bigCluster());
    const full = node.proxier.start();
    expect(full).toMatchObject({ kind: 'full', success: true, largeClusterMode: true, servicesWritten: SERVICES });
    expect(full.rulesWritten.nat).toBe(SERVICES * 32 + 5);
    expect(full.chainsWritten.nat).toBe(SERVICES * 11 + 4);
    expect(full.ruleCounts.nat).toBe(SERVICES * 32 + 5);

    // replace one endpoint of s4242
    node.clock.advanceTo(1000);
    const ips = Array.from({ length: ENDPOINTS }, (_, j) => ipOf(4242, j));
    ips[3] = '10.250.0.1';
    node.proxier.applyEndpointSlice(sliceOf(4242, ips));
    const partial = node.proxier.lastReport!;
    expect(partial).toMatchObject({ kind: 'partial', success: true, servicesWritten: 1, changedServices: 1 });
    // top-level: KUBE-SERVICES (10,000 + tail), POSTROUTING 3, MARK-MASQ 1; s4242: 1 + 10 + 20
    expect(partial.rulesWritten.nat).toBe(SERVICES + 1 + 3 + 1 + 31);
    expect(partial.chainsWritten.nat).toBe(4 + 11);
    // large-cluster mode: the stale KUBE-SEP waits for the next cleanup (once per syncPeriod)
    expect(partial.chainsDeleted).toBe(0);
    expect(partial.ruleCounts.nat).toBe(SERVICES * 32 + 5);
    expect(partial.restoreBytes!).toBeLessThan(full.restoreBytes! / 20);
    expect(partial.kernelCost.seconds).toBeLessThan(full.kernelCost.seconds);

    node.clock.advanceTo(40_000);
    const cleanup = node.proxier.syncNow();
    expect(cleanup).toMatchObject({ kind: 'partial', servicesWritten: 0, chainsDeleted: 1 });
    expect(cleanup.rulesWritten.nat).toBe(SERVICES + 1 + 3 + 1);
    expect(cleanup.chainsWritten.nat).toBe(4 + 1);
  }, 120_000);

  it('IPVS: the first sync adds everything, a quiet sync writes nothing, one endpoint change is one operation', () => {
    const node = testNode('ipvs', bigCluster());
    const first = node.proxier.start();
    expect(first.ipvs!.operations).toMatchObject({ addVirtualServer: SERVICES, addRealServer: SERVICES * ENDPOINTS });
    expect(first.ipvs!.virtualServers).toBe(SERVICES);
    expect(first.ipvs!.realServers).toBe(SERVICES * ENDPOINTS);
    expect(first.ipvs!.addressesBound).toBe(SERVICES);
    // KUBE-CLUSTER-IP and KUBE-IPVS-IPS get one entry per service
    expect(first.ipvs!.ipset.add).toBe(2 * SERVICES);
    // the iptables part does not grow with the services. nat: KUBE-SERVICES (127/8 RETURN, KUBE-CLUSTER-IP
    // masquerade, dst-type LOCAL → KUBE-NODE-PORT, KUBE-CLUSTER-IP ACCEPT), KUBE-LOAD-BALANCER 1,
    // KUBE-POSTROUTING 3, KUBE-MARK-MASQ 1 = 9; filter: KUBE-SOURCE-RANGES-FIREWALL 1, KUBE-FORWARD 2,
    // KUBE-NODE-PORT 1, KUBE-IPVS-FILTER 5 RETURN + 1 REJECT = 10
    expect(first.ruleCounts).toEqual({ filter: 10, nat: 9 });

    const quiet = node.proxier.syncNow();
    expect(quiet.ipvs!.operations).toMatchObject({ writes: 0, reads: 3 * SERVICES + 1 });
    expect(quiet.ipvs!.ipset).toMatchObject({ add: 0, del: 0 });

    node.proxier.applyEndpointSlice(sliceOf(4242, [...Array.from({ length: ENDPOINTS }, (_, j) => ipOf(4242, j)), '10.250.0.1']));
    const one = node.proxier.lastReport!;
    expect(one.ipvs!.operations).toMatchObject({ writes: 1, addRealServer: 1, reads: 3 * SERVICES + 1 });
    expect(one.ipvs!.realServers).toBe(SERVICES * ENDPOINTS + 1);
  }, 120_000);
});
