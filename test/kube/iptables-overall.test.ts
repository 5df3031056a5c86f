// generateIptablesRules against upstream TestOverallIPTablesRules (kubernetes/kubernetes
// pkg/proxy/iptables/proxier_test.go). The expected text below is upstream's, verbatim; restore-lines.ts turns
// each line into the AST independently of the generator. NewFakeProxier uses: detect-local by CIDR 10.0.0.0/8,
// node "test-node" / 192.168.0.2, localhost NodePorts on, both nfacct counters available, and a fake iptables
// without --random-fully. The test sorts rules (sortIPTablesRules), so rule order is compared per chain.
import { describe, expect, it } from 'vitest';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import { fakeProxierConfig, TEST_NODE } from './helpers.js';
import { EXPECTED_FILTER, EXPECTED_NAT, overallCluster } from './overall-fixture.js';
import { parseRestoreBlock, userChains } from './restore-lines.js';

describe('TestOverallIPTablesRules', () => {
  // upstream ns5's healthCheckNodePort (30000) is dropped by kube-proxy because its policy is Cluster
  // (NeedsHealthCheck false); the API server refuses it outright, so the manifest above leaves it out.
  const rules = generateIptablesRules(overallCluster(), TEST_NODE, fakeProxierConfig(), { randomFully: false, nfacct: true });

  it('writes exactly upstream filter rules, chain by chain', () => {
    const want = parseRestoreBlock(EXPECTED_FILTER);
    const got = userChains(rules.filter, ['KUBE-PROXY-CANARY']);
    expect([...got.keys()].sort()).toEqual([...want.chains].sort());
    for (const chain of want.chains) expect(got.get(chain), chain).toEqual(want.rules.get(chain) ?? []);
    expect(rules.restore.blocks[0]!.chains.map((c) => c.name).sort()).toEqual([...want.chains].sort());
  });

  it('writes exactly upstream nat rules, chain by chain', () => {
    const want = parseRestoreBlock(EXPECTED_NAT);
    const got = userChains(rules.nat, ['KUBE-PROXY-CANARY']);
    expect([...got.keys()].sort()).toEqual([...want.chains].sort());
    for (const chain of want.chains) expect(got.get(chain), chain).toEqual(want.rules.get(chain) ?? []);
  });

  it('counts the rules it wrote (the metric equals countRules of the restore input)', () => {
    const wantNat = [...parseRestoreBlock(EXPECTED_NAT).rules.values()].reduce((n, l) => n + l.length, 0);
    const wantFilter = [...parseRestoreBlock(EXPECTED_FILTER).rules.values()].reduce((n, l) => n + l.length, 0);
    expect(rules.ruleCounts).toEqual({ filter: wantFilter, nat: wantNat });
    expect(rules.restore.blocks[1]!.commands).toHaveLength(wantNat);
    expect(rules.chainCounts).toEqual({ filter: 6, nat: 20 });
  });

  it('reports per-service chains and counts', () => {
    const ns5 = rules.services.find((s) => s.nameString === 'ns5/svc5:p80')!;
    // EXT, FW, SVC, SEP in write order
    expect(ns5.natChains).toEqual(['KUBE-EXT-NUKIZ6OKUXPJNT4C', 'KUBE-FW-NUKIZ6OKUXPJNT4C', 'KUBE-SVC-NUKIZ6OKUXPJNT4C', 'KUBE-SEP-I77PXRDZVX7PMWMN']);
    // 2 KUBE-SERVICES + 2 KUBE-NODEPORTS + 1 masq + 2 EXT + 2 FW + 2 SVC (rcheck + lb) + 2 SEP
    expect(ns5.natRules).toBe(13);
    expect(ns5.filterRules).toBe(1);
    const ns6 = rules.services.find((s) => s.nameString === 'ns6/svc6:p80')!;
    expect(ns6).toMatchObject({ natChains: [], natRules: 0, filterRules: 1, hasEndpoints: false });
    expect(rules.noLocalEndpoints).toEqual({ internal: 0, external: 1 });
  });

  it('puts the built-in jumps in the order EnsureRule(Prepend) leaves them', () => {
    const builtin = (t: typeof rules.filter, c: string): string[] =>
      t.chains
        .find((x) => x.name === c)!
        .rules.map((r) => (r.spec.target?.kind === 'jump' ? r.spec.target.chain : '?'));
    // kubelet's -j KUBE-FIREWALL came first; kube-proxy prepends INPUT jumps EXT-SERVICES, NODEPORTS, PROXY-FIREWALL
    expect(builtin(rules.filter, 'INPUT')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL']);
    expect(builtin(rules.filter, 'FORWARD')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']);
    expect(builtin(rules.filter, 'OUTPUT')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-FIREWALL']);
    expect(builtin(rules.nat, 'PREROUTING')).toEqual(['KUBE-SERVICES']);
    expect(builtin(rules.nat, 'OUTPUT')).toEqual(['KUBE-SERVICES']);
    expect(builtin(rules.nat, 'POSTROUTING')).toEqual(['KUBE-POSTROUTING']);
    expect(builtin(rules.nat, 'INPUT')).toEqual([]);
    const fresh = generateIptablesRules(overallCluster(), TEST_NODE, fakeProxierConfig(), { kubeletFirst: false });
    expect(builtin(fresh.filter, 'INPUT')).toEqual(['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES']);
  });

  it('prints chains in legacy iptables-save order by default, restore order on request', () => {
    expect(rules.nat.chains.map((c) => c.name).slice(0, 6)).toEqual([
      'PREROUTING',
      'INPUT',
      'OUTPUT',
      'POSTROUTING',
      'KUBE-EXT-4SW47YFZTEDKD3PK',
      'KUBE-EXT-GNZBNJ2PO5MGZ6GT',
    ]);
    const restoreOrder = generateIptablesRules(overallCluster(), TEST_NODE, fakeProxierConfig(), { chainOrder: 'restore' });
    expect(restoreOrder.nat.chains.map((c) => c.name).slice(4, 10)).toEqual([
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-POSTROUTING',
      'KUBE-MARK-MASQ',
      'KUBE-SVC-XPGD46QRK7WJZT7O', // ns1 first when sorted
      'KUBE-SEP-SXIVWICOYRO3J4NJ',
    ]);
    expect(restoreOrder.filter.chains.at(-1)!.name).toBe('KUBE-PROXY-CANARY');
  });
});
