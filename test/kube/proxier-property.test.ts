// Properties of the sync engines under arbitrary change sequences (fast-check draws the sequence):
// - iptables: however many partial syncs, rate-limited runs and failed restores happen, one more sync leaves the
//   kernel tables equal to a fresh full generation (partial syncs never drift; a failure is repaired by the
//   full sync it forces).
// - IPVS: after a successful sync, another sync writes nothing (read-diff-write is idempotent), and without
//   traffic every ClusterIP virtual server holds exactly the service's ready endpoints at weight 1 (a removed
//   real server without connections is deleted at once, graceful_termination.go deleteRsFunc).
import { test, fc } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import type { RestoreApplier } from '../../src/kube/sync.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { clusterOf, ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import { testNode } from './proxier-helpers.js';
import type { TestNode } from './proxier-helpers.js';

const CANDIDATES = ['10.180.0.1', '10.180.0.2', '10.0.0.7', '10.180.1.3', '10.0.0.8'];
const LOCAL = new Set(['10.0.0.7', '10.0.0.8']);

const SERVICES = [
  () => svcManifest('ns', 'a', { clusterIP: '172.30.0.1', ports: [{ name: 'p', port: 80, protocol: 'TCP' }] }),
  () =>
    svcManifest('ns', 'b', {
      type: 'NodePort',
      clusterIP: '172.30.0.2',
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 30002 }],
    }),
  () =>
    svcManifest('ns', 'c', {
      clusterIP: '172.30.0.3',
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'p', port: 53, protocol: 'UDP' }],
    }),
];
const NAMES = ['a', 'b', 'c'] as const;
const PROTOS = ['TCP', 'TCP', 'UDP'] as const;

function slice(i: number, mask: number) {
  const ips = CANDIDATES.filter((_, k) => (mask & (1 << k)) !== 0);
  const eps = ips.map((ip) => ep(ip, LOCAL.has(ip) ? { nodeName: 'test-node' } : {}));
  return endpointSliceFromObject(sliceManifest('ns', NAMES[i]!, 1, eps, [port('p', 8080, PROTOS[i])]));
}

type Op =
  | { kind: 'endpoints'; svc: number; mask: number }
  | { kind: 'delete'; svc: number }
  | { kind: 'restore'; svc: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'fail' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('endpoints' as const), svc: fc.integer({ min: 0, max: 2 }), mask: fc.integer({ min: 0, max: 31 }) }),
  fc.record({ kind: fc.constant('delete' as const), svc: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('restore' as const), svc: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 90_000 }) }),
  fc.record({ kind: fc.constant('fail' as const) }),
);

function build(mode: 'iptables' | 'ipvs'): { node: TestNode; failNext: () => void; noFail: () => void } {
  let fail = false;
  const restore: RestoreApplier = (rs, doc, o) => {
    if (fail) {
      fail = false;
      throw new Error('injected restore failure');
    }
    rs.restore(doc, o);
  };
  const cluster = clusterOf(
    SERVICES.map((s) => s()),
    [0, 1, 2].map((i) => sliceManifest('ns', NAMES[i]!, 1, [ep(CANDIDATES[i]!)], [port('p', 8080, PROTOS[i])])),
  );
  const node = testNode(mode, cluster, fakeProxierConfig(), { restore });
  return {
    node,
    failNext: () => {
      fail = true;
    },
    noFail: () => {
      fail = false;
    },
  };
}

function run(node: TestNode, failNext: () => void, ops: readonly Op[]): void {
  node.proxier.start();
  for (const o of ops) {
    switch (o.kind) {
      case 'endpoints':
        node.proxier.applyEndpointSlice(slice(o.svc, o.mask));
        break;
      case 'delete':
        node.proxier.deleteService('ns', NAMES[o.svc]!);
        break;
      case 'restore':
        node.proxier.applyService(serviceFromObject(SERVICES[o.svc]!()));
        break;
      case 'advance':
        node.proxier.advance(o.ms);
        break;
      case 'fail':
        failNext();
        break;
    }
  }
}

describe('sync engines under arbitrary changes', () => {
  test.prop([fc.array(op, { maxLength: 14 })])('iptables: one more sync always equals a fresh full generation', (ops) => {
    const { node, failNext, noFail } = build('iptables');
    run(node, failNext, ops);
    noFail(); // a failure still pending would hit the check sync itself
    const r = node.proxier.syncNow();
    expect(r.success).toBe(true);
    const want = generateIptablesRules(node.proxier.cluster, TEST_NODE, fakeProxierConfig());
    expect(node.netfilter.ruleset.toSaved({ tables: ['filter', 'nat'] })).toEqual([want.filter, want.nat]);
  });

  test.prop([fc.array(op, { maxLength: 14 })])('IPVS: syncs are idempotent and ClusterIP servers hold the ready endpoints', (ops) => {
    const { node, failNext, noFail } = build('ipvs');
    run(node, failNext, ops);
    noFail();
    expect(node.proxier.syncNow().success).toBe(true);
    const again = node.proxier.syncNow();
    expect(again.ipvs!.operations.writes).toBe(0);
    expect(again.ipvs!.ipset.add + again.ipvs!.ipset.del).toBe(0);
    for (let i = 0; i < 3; i++) {
      const svc = node.proxier.cluster.services.get(`ns/${NAMES[i]!}`);
      const key = { proto: PROTOS[i] === 'TCP' ? Protocol.TCP : Protocol.UDP, addr: parseIPv4(`172.30.0.${i + 1}`), port: i === 2 ? 53 : 80 };
      const vs = node.ipvs!.getService(key);
      if (svc === undefined) {
        expect(vs).toBeUndefined();
        continue;
      }
      const want = [...node.proxier.cluster.endpointSlices.values()]
        .filter((s) => s.serviceName === NAMES[i])
        .flatMap((s) => s.endpoints.map((e) => `${formatIPv4(e.addresses[0]!)}:8080`))
        .sort();
      expect(vs!.dests.map((d) => `${formatIPv4(d.addr)}:${d.port}:${d.weight}`).sort()).toEqual(want.map((w) => `${w}:1`));
    }
  });
});
