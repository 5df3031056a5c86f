// iptables-mode syncs through KubeProxier against the cluster of upstream TestOverallIPTablesRules. Expected
// counts are derived from that test's expected output (see iptables-overall.test.ts):
// - nat: KUBE-SERVICES 10 rules (ns1 1, ns2 3, ns3 1, ns4 2, ns5 2, tail 1), KUBE-NODEPORTS 6 (ns2, ns3, ns5:
//   nfacct copy + rule), KUBE-POSTROUTING 3, KUBE-MARK-MASQ 1; 55 nat rules and 20 nat chains in all.
// - ns1/svc1:p80 with one endpoint owns KUBE-SVC-XPGD46QRK7WJZT7O (masq + 1 jump) and one KUBE-SEP (2 rules).
// A partial sync (KEP-3453) rewrites the filter table, the four top-level nat chains, and only the chains of
// Services whose Service or EndpointSlices changed.
import { describe, expect, it } from 'vitest';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import type { IptablesRules } from '../../src/kube/iptables-rules.js';
import { kubeProxyRestoreText } from '../../src/kube/restore-text.js';
import { FULL_SYNC_PERIOD_MS, sizerFromPrinter } from '../../src/kube/sync.js';
import type { RestoreApplier } from '../../src/kube/sync.js';
import { endpointSliceFromObject, nodeFromObject } from '../../src/kube/validate.js';
import type { SavedTable } from '../../src/netfilter/ast.js';
import { clusterOf, ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import { overallCluster } from './overall-fixture.js';
import { testNode } from './proxier-helpers.js';
import type { TestNode } from './proxier-helpers.js';

const TOP_LEVEL_NAT_RULES = 10 + 6 + 3 + 1;
const SVC1 = 'KUBE-SVC-XPGD46QRK7WJZT7O';

/** The whole table as a fresh full generation would write it (the chain order of legacy iptables-save). */
function expectedTables(node: TestNode): IptablesRules {
  return generateIptablesRules(node.proxier.cluster, TEST_NODE, fakeProxierConfig());
}

function saved(node: TestNode): SavedTable[] {
  return node.netfilter.ruleset.toSaved({ tables: ['filter', 'nat'] });
}

function svc1Slice(ips: readonly string[]) {
  return endpointSliceFromObject(sliceManifest('ns1', 'svc1', 1, ips.map((ip) => ep(ip)), [port('p80', 80)]));
}

describe('iptables-mode sync', () => {
  it('starts with a full sync that leaves exactly the generated tables in the kernel', () => {
    const node = testNode('iptables', overallCluster());
    const r = node.proxier.start();
    expect(r).toMatchObject({ kind: 'full', success: true, trigger: 'startup', chainsDeleted: 0, servicesWritten: 6 });
    expect(r.rulesWritten).toEqual({ filter: 10, nat: 55 });
    expect(r.chainsWritten).toEqual({ filter: 6, nat: 20 });
    expect(r.ruleCounts).toEqual({ filter: 10, nat: 55 });
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
  });

  it('writes only the changed service and the top-level chains in a partial sync', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.clock.advanceTo(5000);
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    const r = node.proxier.lastReport!;
    expect(r).toMatchObject({ kind: 'partial', success: true, trigger: 'requested', time: 5000, servicesWritten: 1, changedServices: 1 });
    // top-level 4 chains + KUBE-SVC + 2 KUBE-SEP
    expect(r.chainsWritten.nat).toBe(4 + 3);
    // svc1 now: KUBE-SVC masq + 2 jumps, 2 × KUBE-SEP 2 rules
    expect(r.rulesWritten.nat).toBe(TOP_LEVEL_NAT_RULES + 3 + 4);
    expect(r.rulesWritten.filter).toBe(10);
    expect(r.ruleCounts.nat).toBe(55 + 3);
    expect(r.chainsDeleted).toBe(0);
    expect(r.restoreBytes).toBeLessThan(node.proxier.reports[0]!.restoreBytes!);
    expect(node.netfilter.ruleset.chain('nat', SVC1)!.rules).toHaveLength(3);
    // the kernel state is what a full sync would have written
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
  });

  it('deletes stale chains with -X when an endpoint goes away', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    node.clock.advanceTo(2000);
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.9']));
    const r = node.proxier.lastReport!;
    expect(r.kind).toBe('partial');
    expect(r.chainsDeleted).toBe(1);
    // declared: 4 top-level + SVC + the remaining SEP + the stale SEP (flushed, then -X)
    expect(r.chainsWritten.nat).toBe(4 + 2 + 1);
    expect(node.netfilter.ruleset.chain('nat', 'KUBE-SEP-SXIVWICOYRO3J4NJ')).toBeUndefined(); // 10.180.0.1:80
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
  });

  it('deletes every chain of a deleted Service', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.proxier.deleteService('ns3', 'svc3');
    const r = node.proxier.lastReport!;
    // ns3/svc3:p80 had KUBE-SVC, KUBE-EXT and one KUBE-SEP
    expect(r).toMatchObject({ kind: 'partial', chainsDeleted: 3, servicesWritten: 1 });
    expect(r.chainsWritten.nat).toBe(4 + 3);
    expect(r.rulesWritten.nat).toBe(TOP_LEVEL_NAT_RULES - 1 - 2); // its KUBE-SERVICES rule and 2 NODEPORTS rules are gone
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
  });

  it('turns a failed restore into a full sync, retried after syncPeriod', async () => {
    let failNext = false;
    const restore: RestoreApplier = (rs, doc, o) => {
      if (failNext) {
        failNext = false;
        throw new Error('iptables-restore: line 7 failed');
      }
      rs.restore(doc, o);
    };
    const node = testNode('iptables', overallCluster(), fakeProxierConfig(), { restore });
    node.proxier.start();
    const before = saved(node);
    node.clock.advanceTo(1000);
    failNext = true;
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    const failed = node.proxier.lastReport!;
    expect(failed).toMatchObject({ kind: 'partial', success: false, restoreFailed: true, time: 1000 });
    expect(failed.error?.message).toBe('iptables-restore: line 7 failed');
    // nothing was applied
    expect(saved(node)).toEqual(before);
    expect(node.proxier.iptables!.needFullSync).toBe(true);
    // RetryAfter(syncPeriod = 30 s)
    expect(node.proxier.runner.nextRunAt).toBe(31_000);
    node.proxier.advance(40_000);
    const retry = node.proxier.reports.at(-1)!;
    expect(retry).toMatchObject({ kind: 'full', success: true, trigger: 'timer', time: 31_000 });
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
    const text = await node.proxier.metricsText();
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total 1');
  });

  it('fails the same way when the restore input cannot be written (injected printer)', () => {
    let fail = false;
    const node = testNode('iptables', overallCluster(), fakeProxierConfig(), {
      restoreSize: () => {
        if (fail) throw new Error('printer broke');
        return 1;
      },
    });
    node.proxier.start();
    fail = true;
    const before = saved(node);
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    expect(node.proxier.lastReport).toMatchObject({ success: false, kind: 'partial', restoreFailed: true });
    expect(saved(node)).toEqual(before);
    fail = false;
    expect(node.proxier.syncNow()).toMatchObject({ success: true, kind: 'full' });
  });

  it('does a full sync again after an hour, and after a node-label change', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.clock.advanceTo(60_000);
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    expect(node.proxier.lastReport!.kind).toBe('partial');
    // the runner's maxInterval is FullSyncPeriod: the next run is an hour after the last one, and it is full
    node.proxier.advance(FULL_SYNC_PERIOD_MS);
    const periodic = node.proxier.lastReport!;
    expect(periodic).toMatchObject({ kind: 'full', trigger: 'timer', time: 60_000 + FULL_SYNC_PERIOD_MS });
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1']));
    expect(node.proxier.lastReport!.kind).toBe('partial');
    const relabelled = nodeFromObject({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'test-node', labels: { 'topology.kubernetes.io/zone': 'b' } },
      spec: { podCIDR: '10.0.0.0/24' },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] },
    });
    node.proxier.advance(2000);
    node.proxier.applyNode(relabelled);
    expect(node.proxier.lastReport!.kind).toBe('full');
  });

  it('skips the hourly full sync in large-cluster mode (> 1000 endpoints)', () => {
    const services = [];
    const slices = [];
    for (let s = 0; s < 11; s++) {
      services.push(svcManifest('big', `s${s}`, { clusterIP: `172.30.1.${s + 1}`, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] }));
      const eps = Array.from({ length: 100 }, (_, i) => ep(`10.${100 + s}.${i >> 8}.${(i & 255) + 1}`));
      slices.push(sliceManifest('big', `s${s}`, 1, eps, [port('p', 8080)]));
    }
    const node = testNode('iptables', clusterOf(services, slices));
    expect(node.proxier.start()).toMatchObject({ kind: 'full', largeClusterMode: true });
    node.proxier.advance(FULL_SYNC_PERIOD_MS);
    expect(node.proxier.lastReport).toMatchObject({ kind: 'partial', trigger: 'timer', servicesWritten: 0 });
    // with the periodic full sync forced on, it is full
    const always = testNode('iptables', clusterOf(services, slices), fakeProxierConfig(), { iptables: { periodicFullSync: 'always' } });
    always.proxier.start();
    always.proxier.advance(FULL_SYNC_PERIOD_MS);
    expect(always.proxier.lastReport!.kind).toBe('full');
  });

  it('cleans stale chains only once per syncPeriod in large-cluster mode', () => {
    const services = [];
    const slices = [];
    for (let s = 0; s < 11; s++) {
      services.push(svcManifest('big', `s${s}`, { clusterIP: `172.30.1.${s + 1}`, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] }));
      const eps = Array.from({ length: 100 }, (_, i) => ep(`10.${100 + s}.0.${i + 1}`));
      slices.push(sliceManifest('big', `s${s}`, 1, eps, [port('p', 8080)]));
    }
    const node = testNode('iptables', clusterOf(services, slices));
    node.proxier.start(); // cleanup at t=0
    node.clock.advanceTo(1000);
    const fewer = endpointSliceFromObject(sliceManifest('big', 's0', 1, [ep('10.100.0.1')], [port('p', 8080)]));
    node.proxier.applyEndpointSlice(fewer);
    // 99 SEP chains are stale, but the last cleanup was 1 s ago (< syncPeriod 30 s)
    expect(node.proxier.lastReport).toMatchObject({ kind: 'partial', chainsDeleted: 0 });
    node.clock.advanceTo(31_001);
    expect(node.proxier.syncNow()).toMatchObject({ kind: 'partial', chainsDeleted: 99 });
  });

  it('notices flushed tables through the canary chain and restores everything with a full sync', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.clock.advanceTo(10_000);
    // `iptables-restore` of empty tables without --noflush: every chain flushed, every user chain deleted
    const empty = (table: 'mangle' | 'nat' | 'filter', line: number) => ({ table, line, chains: [], commands: [], commitLine: line + 1 });
    node.netfilter.ruleset.restore({ blocks: [empty('mangle', 1), empty('nat', 3), empty('filter', 5)] });
    expect(node.netfilter.ruleset.chain('nat', 'KUBE-SERVICES')).toBeUndefined();
    // iptables.Monitor polls the mangle canary every syncPeriod (30 s) from the start
    node.proxier.advance(25_000);
    const r = node.proxier.lastReport!;
    expect(r).toMatchObject({ trigger: 'canary', kind: 'full', success: true, time: 30_000 });
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
    expect(node.netfilter.ruleset.chain('mangle', 'KUBE-PROXY-CANARY')).toBeDefined();
  });

  it('applies a kubectl-style burst as one sync', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    const slice = (svc: string, ns: string, ip: string) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${svc}-1
  namespace: ${ns}
  labels:
    kubernetes.io/service-name: ${svc}
addressType: IPv4
endpoints:
  - addresses: ["${ip}"]
ports:
  - name: p80
    port: 80
    protocol: TCP
`;
    node.proxier.applyText(`${slice('svc1', 'ns1', '10.180.0.11')}---\n${slice('svc3', 'ns3', '10.180.0.13')}`);
    expect(node.proxier.reports).toHaveLength(2);
    expect(node.proxier.lastReport).toMatchObject({ kind: 'partial', servicesWritten: 2, changedServices: 2 });
    const want = expectedTables(node);
    expect(saved(node)).toEqual([want.filter, want.nat]);
  });

  it('sizes the restore input with an injected printer, or not at all', () => {
    const byDefault = testNode('iptables', overallCluster()).proxier.start().restoreBytes;
    const printed = testNode('iptables', overallCluster(), fakeProxierConfig(), { restoreSize: sizerFromPrinter(kubeProxyRestoreText) }).proxier.start();
    expect(printed.restoreBytes).toBe(byDefault);
    const none = testNode('iptables', overallCluster(), fakeProxierConfig(), { restoreSize: null }).proxier.start();
    expect(none.restoreBytes).toBeNull();
    expect(none.success).toBe(true);
  });

  it('does only full syncs without MinimizeIPTablesRestore', () => {
    const node = testNode('iptables', overallCluster(), fakeProxierConfig(), { iptables: { minimizeRestore: false } });
    node.proxier.start();
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']));
    expect(node.proxier.lastReport).toMatchObject({ kind: 'full', servicesWritten: 6 });
  });

  it('rate-limits change-driven syncs: a burst of 2, then one per minSyncPeriod', () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start(); // direct call: no token used
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.2']));
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.3']));
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.4']));
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.5']));
    expect(node.proxier.reports.map((r) => [r.time, r.trigger])).toEqual([
      [0, 'startup'],
      [0, 'requested'],
      [0, 'requested'],
    ]);
    node.proxier.advance(5000);
    // the two pending changes are synced together once a token is back (minSyncPeriod 1 s)
    expect(node.proxier.reports.map((r) => [r.time, r.trigger])).toEqual([
      [0, 'startup'],
      [0, 'requested'],
      [0, 'requested'],
      [1000, 'timer'],
    ]);
    expect(node.proxier.lastReport!.changedServices).toBe(1);
  });
});
