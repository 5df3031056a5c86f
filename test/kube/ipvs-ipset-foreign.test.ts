// Entries someone else put in kube-proxy's ipsets are stale to kube-proxy: syncIPSetEntries lists the set,
// and deletes every entry it did not want by the text `ipset list` printed for it
// (pkg/proxy/ipvs/ipset.go). Entries of any protocol must round-trip, e.g. ICMP, which ipset prints as
// `icmp:echo-request` (type 8, code 0).
import { describe, expect, it } from 'vitest';
import { syntheticCluster } from '../../src/workload/index.js';
import { testNode } from './proxier-helpers.js';

describe('IPVS mode: foreign entries in its ipsets', () => {
  it.each([
    ['KUBE-CLUSTER-IP', '10.99.0.4,icmp:echo-request'],
    ['KUBE-CLUSTER-IP', '10.99.0.5,icmp:0/0'],
    ['KUBE-CLUSTER-IP', '10.99.0.6,gre:0'],
    ['KUBE-LOOP-BACK', '10.99.0.7,icmp:echo-reply,10.99.0.7'],
  ])('%s: %s is deleted by the next sync', (set, entry) => {
    const sc = syntheticCluster({ services: 3, endpoints: 2, seed: 9 });
    const node = testNode('ipvs', sc.cluster);
    expect(node.proxier.start().success).toBe(true);
    node.proxier.stop(); // no periodic sync in between: the one below must be the one that deletes
    const store = node.netfilter.stateful.ipsets;
    const before = store.list(set)[0]!.members.length;
    store.add(set, entry);
    expect(store.test(set, entry)).toBe(true);
    const r = node.proxier.syncNow();
    expect(r.success).toBe(true);
    expect(r.ipvs!.ipset).toMatchObject({ del: 1, failed: 0, add: 0 });
    expect(store.test(set, entry)).toBe(false);
    expect(store.list(set)[0]!.members.length).toBe(before);
  });
});
