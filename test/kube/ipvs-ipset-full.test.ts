// More ClusterIP service ports than an ipset holds. kube-proxy creates its sets with ipset's default
// maxelem 65536 (pkg/util/ipset DefaultMaxElem); past that KUBE-CLUSTER-IP refuses adds with "Hash is
// full" and kube-proxy logs each refused add and carries on (pkg/proxy/ipvs/ipset.go syncIPSetEntries):
// every virtual server is still programmed, the sync succeeds, only the sets are short. Two sets hold
// one entry per ClusterIP service port: KUBE-CLUSTER-IP (ip,port) and KUBE-IPVS-IPS (the addresses bound
// on kube-ipvs0), so each refuses 3.
import { describe, expect, it } from 'vitest';
import { testNode } from './proxier-helpers.js';
import { syntheticCluster } from '../../src/workload/index.js';

const SERVICES = 65_536 + 3;

describe('IPVS mode past ipset maxelem', () => {
  it('programs every virtual server, fills KUBE-CLUSTER-IP and KUBE-IPVS-IPS to 65536 and counts the refused adds', () => {
    const sc = syntheticCluster({ services: SERVICES, endpoints: 0, seed: 5, mix: { nodePort: 0, loadBalancer: 0, sessionAffinity: 0, externalTrafficPolicyLocal: 0 } });
    const node = testNode('ipvs', sc.cluster);
    const first = node.proxier.start();
    expect(first.success).toBe(true);
    expect(first.ipvs!.virtualServers).toBe(SERVICES);
    expect(first.ipvs!.ipset.failed).toBe(6);
    for (const name of ['KUBE-CLUSTER-IP', 'KUBE-IPVS-IPS']) {
      expect(node.netfilter.stateful.ipsets.list(name)[0]!.members.length).toBe(65_536);
    }

    // the next sync tries the six again, and fails the same way
    node.clock.advanceTo(40_000);
    const again = node.proxier.syncNow();
    expect(again.success).toBe(true);
    expect(again.ipvs!.ipset).toMatchObject({ add: 6, failed: 6, del: 0 });
  }, 120_000);
});
