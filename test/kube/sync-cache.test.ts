// The iptables sync engine reuses each service port's generated rules between syncs (IptablesRulesCache) and
// writes partial restores without building the full input. These properties pin that down against a fresh,
// uncached generation after every single sync of an arbitrary change sequence:
// - the restore document written is exactly the one the full generation implies: the whole filter block; in nat
//   the top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ) in full, the chains of
//   changed Services only (partial sync; every chain in a full one), `:CHAIN` + `-X CHAIN` for stale chains
//   before the NodePort tail rule (proxier.go writes the -X lines after the service loop), with the line numbers
//   of the full input;
// - the restore size reported is the byte length of kube-proxy's text of that document;
// - the kernel tables equal the fresh generation (partial syncs never drift).
// Plus the Cluster's per-node endpoint view used by change tracking (kube-proxy's EndpointsChangeTracker is built
// with the node name: pkg/proxy/endpointslicecache.go prefers the local copy of a duplicate ip:port).
import { test, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isServiceChainName } from '../../src/kube/chain-names.js';
import { Cluster } from '../../src/kube/cluster.js';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import { kubeProxyRestoreText } from '../../src/kube/restore-text.js';
import type { RestoreApplier, SyncReport } from '../../src/kube/sync.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import type { ChainDeclaration, RestoreDocument, RestoreTableBlock, TableCommand } from '../../src/netfilter/ast.js';
import type { Ruleset } from '../../src/netfilter/ruleset.js';
import { ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import type { Json } from './helpers.js';
import { testNode } from './proxier-helpers.js';

const NAMES = ['a', 'b', 'c', 'd'] as const;
const CANDIDATES = ['10.180.0.1', '10.180.0.2', '10.0.0.7', '10.180.1.3', '10.0.0.8', '10.180.2.9'];
const LOCAL = new Set(['10.0.0.7', '10.0.0.8']);

/** Service variants per name: the change sequence switches between them (type, policies, affinity, ports). */
function serviceVariant(i: number, v: number): Json {
  const name = NAMES[i]!;
  const clusterIP = `172.30.0.${i + 1}`;
  switch (v % 4) {
    case 0:
      return svcManifest('ns', name, { clusterIP, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] });
    case 1:
      return svcManifest('ns', name, {
        type: 'NodePort',
        clusterIP,
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 30000 + i }],
      });
    case 2:
      return svcManifest('ns', name, {
        clusterIP,
        sessionAffinity: 'ClientIP',
        externalIPs: ['192.168.99.1'],
        ports: [
          { name: 'p', port: 80, protocol: 'TCP' },
          { name: 'q', port: 53, protocol: 'UDP' },
        ],
      });
    default:
      return svcManifest(
        'ns',
        name,
        {
          type: 'LoadBalancer',
          clusterIP,
          internalTrafficPolicy: 'Local',
          loadBalancerSourceRanges: ['203.0.113.0/25'],
          ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 31000 + i }],
        },
        { loadBalancer: { ingress: [{ ip: `1.2.3.${i + 1}` }] } },
      );
  }
}

function sliceOf(i: number, mask: number, notReady: number): Json {
  const eps = CANDIDATES.flatMap((ip, k) =>
    (mask & (1 << k)) === 0
      ? []
      : [ep(ip, { ...(LOCAL.has(ip) ? { nodeName: 'test-node' } : {}), conditions: { ready: (notReady & (1 << k)) === 0, serving: true, terminating: (notReady & (1 << k)) !== 0 } })],
  );
  return sliceManifest('ns', NAMES[i]!, 1, eps, [port('p', 8080, 'TCP'), port('q', 5353, 'UDP')]);
}

type Op =
  | { kind: 'service'; svc: number; variant: number }
  | { kind: 'delete'; svc: number }
  | { kind: 'endpoints'; svc: number; mask: number; notReady: number }
  | { kind: 'deleteSlice'; svc: number }
  | { kind: 'sync' }
  | { kind: 'full' }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('service' as const), svc: fc.integer({ min: 0, max: 3 }), variant: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('delete' as const), svc: fc.integer({ min: 0, max: 3 }) }),
  fc.record({
    kind: fc.constant('endpoints' as const),
    svc: fc.integer({ min: 0, max: 3 }),
    mask: fc.integer({ min: 0, max: 63 }),
    notReady: fc.integer({ min: 0, max: 63 }),
  }),
  fc.record({ kind: fc.constant('deleteSlice' as const), svc: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('sync' as const) }),
  fc.record({ kind: fc.constant('full' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
);

/**
 * The document the sync must write, derived from a fresh full generation the way proxier.go filters it
 * (this is the pre-cache algorithm of IptablesSyncer, kept here as the reference).
 */
function expectedDocument(rs: Ruleset, partial: boolean, changed: ReadonlySet<string>): RestoreDocument {
  const rules = generateIptablesRules(
    // the cluster is read through the syncer's own (the same object)
    CURRENT.cluster!,
    TEST_NODE,
    fakeProxierConfig(),
    { chainOrder: 'restore' },
  );
  const full = rules.restore;
  const fullNat = full.blocks[1]!;
  const top = new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
  const keep = new Set(top);
  const active = new Set(top);
  for (const sp of rules.services) {
    for (const c of sp.natChains) {
      active.add(c);
      if (!partial || changed.has(sp.service)) keep.add(c);
    }
  }
  // small clusters are never in large-cluster mode: stale chains are removed on every sync
  const stale = [...rs.table('nat').chains.keys()].filter((n) => !active.has(n) && isServiceChainName(n));
  const chains: ChainDeclaration[] = fullNat.chains.filter((d) => !partial || keep.has(d.name));
  let line = fullNat.commitLine;
  for (const name of stale) chains.push({ name, policy: null, counters: { packets: 0, bytes: 0 }, line: ++line });
  const tailStart = 4 + rules.services.reduce((n, s) => n + s.natRules, 0);
  const commands: TableCommand[] = [];
  fullNat.commands.forEach((c, i) => {
    if (i === tailStart) for (const name of stale) commands.push({ op: 'deleteChain', chain: name, line: ++line });
    if (c.op !== 'append' || !partial || keep.has(c.chain)) commands.push(c);
  });
  if (fullNat.commands.length <= tailStart) for (const name of stale) commands.push({ op: 'deleteChain', chain: name, line: ++line });
  const nat: RestoreTableBlock = { table: 'nat', line: fullNat.line, chains, commands, commitLine: line + 1 };
  return { blocks: [full.blocks[0]!, nat] };
}

const CURRENT: { cluster: Cluster | null } = { cluster: null };

describe('iptables sync with cached rule generation', () => {
  test.prop([fc.array(op, { minLength: 1, maxLength: 24 })])(
    'every sync writes what a fresh generation implies, sizes it exactly, and leaves the tables equal to it',
    (ops) => {
      const cluster = new Cluster();
      CURRENT.cluster = cluster;
      let captured: { doc: RestoreDocument; want: RestoreDocument } | null = null;
      let proxierRef: ReturnType<typeof testNode>['proxier'] | null = null;
      const restore: RestoreApplier = (rs, doc, o) => {
        const p = proxierRef!;
        const partial = p.iptables!.wouldBePartial(p.clock.now);
        captured = { doc, want: expectedDocument(rs, partial, p.iptables!.lastChanges!.services) };
        rs.restore(doc, o);
      };
      const node = testNode('iptables', cluster, fakeProxierConfig(), { restore });
      const proxier = node.proxier;
      proxierRef = proxier;
      for (let i = 0; i < 2; i++) {
        proxier.applyService(serviceFromObject(serviceVariant(i, i)));
        proxier.applyEndpointSlice(endpointSliceFromObject(sliceOf(i, 0b111, 0)));
      }
      const check = (r: SyncReport): void => {
        expect(r.success).toBe(true);
        const c = captured!;
        expect(c.doc).toEqual(c.want);
        expect(r.restoreBytes).toBe(Buffer.byteLength(kubeProxyRestoreText(c.doc)));
        const fresh = generateIptablesRules(cluster, TEST_NODE, fakeProxierConfig());
        expect(node.netfilter.ruleset.toSaved({ tables: ['filter', 'nat'] })).toEqual([fresh.filter, fresh.nat]);
        captured = null;
      };
      check(proxier.start());
      for (const o of ops) {
        switch (o.kind) {
          case 'service':
            proxier.cluster.applyService(serviceFromObject(serviceVariant(o.svc, o.variant)));
            break;
          case 'delete':
            proxier.cluster.deleteService('ns', NAMES[o.svc]!);
            break;
          case 'endpoints':
            proxier.cluster.applyEndpointSlice(endpointSliceFromObject(sliceOf(o.svc, o.mask, o.notReady)));
            break;
          case 'deleteSlice':
            proxier.cluster.deleteEndpointSlice('ns', `${NAMES[o.svc]!}-1`);
            break;
          case 'sync':
            check(proxier.syncNow());
            break;
          case 'full':
            proxier.iptables!.forceFullSync();
            check(proxier.syncNow());
            break;
          case 'advance':
            node.clock.advance(o.ms);
            break;
        }
      }
      check(proxier.syncNow());
    },
  );

  it('keeps unchanged rules as the same objects from sync to sync (what the ruleset and the sizer recognise)', () => {
    const cluster = new Cluster();
    const node = testNode('iptables', cluster, fakeProxierConfig());
    for (let i = 0; i < 3; i++) {
      cluster.applyService(serviceFromObject(serviceVariant(i, 0)));
      cluster.applyEndpointSlice(endpointSliceFromObject(sliceOf(i, 0b11, 0)));
    }
    node.proxier.start();
    const before = node.netfilter.ruleset.chain('nat', 'KUBE-SERVICES')!.rules.map((r) => r.spec);
    cluster.applyEndpointSlice(endpointSliceFromObject(sliceOf(1, 0b111, 0)));
    const r = node.proxier.syncNow();
    expect(r.kind).toBe('partial');
    const after = node.netfilter.ruleset.chain('nat', 'KUBE-SERVICES')!.rules.map((x) => x.spec);
    expect(after).toHaveLength(before.length);
    // a structurally unchanged rule is the very same object, even the changed Service's own KUBE-SERVICES rule
    after.forEach((s, i) => expect(s).toBe(before[i]));
    // counters of a rewritten chain start at zero (a declared chain is flushed, its rules are new to the kernel)
    expect(node.netfilter.ruleset.chain('nat', 'KUBE-SERVICES')!.rules.every((x) => x.counters.packets === 0)).toBe(true);
  });
});

describe('Cluster change tracking sees the node’s endpoints', () => {
  // Two slices carry the same ip:port: on node "test-node" the local copy (slice b) wins over the remote one
  // (slice a), whatever their order (endpointslicecache.go: a duplicate replaces an earlier one only when local).
  const svc = svcManifest('ns', 'web', { clusterIP: '172.30.0.9', ports: [{ name: 'p', port: 80, protocol: 'TCP' }] });
  const sliceA = (ready: boolean) =>
    endpointSliceFromObject({
      ...sliceManifest('ns', 'web', 1, [ep('10.180.0.5', { nodeName: 'other', conditions: { ready } })], [port('p', 8080)]),
    });
  const sliceB = (ready: boolean) =>
    endpointSliceFromObject({
      ...sliceManifest('ns', 'web', 2, [ep('10.180.0.5', { nodeName: 'test-node', conditions: { ready } })], [port('p', 8080)]),
    });

  it('reports a change of the local duplicate to the node that sees it, and not to a node-less view', () => {
    const make = (): Cluster => {
      const c = new Cluster();
      c.applyService(serviceFromObject(svc));
      c.applyEndpointSlice(sliceA(true));
      c.applyEndpointSlice(sliceB(false));
      return c;
    };
    const onNode = make();
    onNode.checkoutChanges('test-node');
    onNode.applyEndpointSlice(sliceB(true));
    // test-node's endpoint list changed (its copy became ready): the service port changed
    expect([...onNode.checkoutChanges('test-node').servicePorts]).toEqual(['ns/web:p/TCP']);

    const nodeless = make();
    nodeless.checkoutChanges();
    nodeless.applyEndpointSlice(sliceB(true));
    // without a node the remote copy (first by slice name) wins, and it did not change
    const c = nodeless.checkoutChanges();
    expect(c.services).toEqual(new Set(['ns/web'])); // the slice changed: the Service is still resynced
    expect(c.servicePorts.size).toBe(0);
  });

  it('keeps the node’s cached endpoints (the same arrays) across a checkout', () => {
    const c = new Cluster();
    c.applyService(serviceFromObject(svc));
    c.applyEndpointSlice(sliceA(true));
    c.applyEndpointSlice(sliceB(true));
    const sp = c.servicePorts()[0]!;
    const eps = c.endpoints(sp, 'test-node');
    expect(eps.map((e) => e.nodeName)).toEqual(['test-node']);
    c.checkoutChanges('test-node');
    c.checkoutChanges();
    expect(c.endpoints(sp, 'test-node')).toBe(eps);
    expect(c.endpoints(sp).map((e) => e.nodeName)).toEqual(['other']);
  });
});
