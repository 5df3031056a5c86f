// The iptables syncer lays out each sync's restore input through a RestoreLayout that keeps, between syncs,
// every service port's top-level commands (KUBE-SERVICES/KUBE-NODEPORTS lines with the line numbers of the
// full input), its filter commands, its line counts and the byte sizes of its lines. These properties pin
// the cache down: after any sequence of plans (Services added, removed and edited, endpoints changing, any
// set of written Services, stale chains), the laid-out input equals a fresh layout's, and the size it
// reports equals kube-proxy's printed text of that input, byte for byte.
import { test, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/kube/cluster.js';
import { IptablesRulesCache, planIptablesRules } from '../../src/kube/iptables-rules.js';
import { restoreBlocks, RestoreLayout } from '../../src/kube/restore-layout.js';
import { kubeProxyRestoreBytes, kubeProxyRestoreText } from '../../src/kube/restore-text.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import type { Json } from './helpers.js';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
const IPS = ['10.180.0.1', '10.180.0.2', '10.0.0.7', '10.180.1.3', '10.180.2.9'];

function service(i: number, v: number): Json {
  const name = NAMES[i]!;
  const clusterIP = `172.30.0.${i + 1}`;
  if (v % 3 === 0) return svcManifest('ns', name, { clusterIP, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] });
  if (v % 3 === 1) {
    return svcManifest('ns', name, {
      type: 'NodePort',
      clusterIP,
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 30000 + i }],
    });
  }
  return svcManifest('ns', name, {
    clusterIP,
    sessionAffinity: 'ClientIP',
    ports: [
      { name: 'p', port: 80, protocol: 'TCP' },
      { name: 'q', port: 53, protocol: 'UDP' },
    ],
  });
}

function slice(i: number, mask: number): Json {
  const eps = IPS.flatMap((ip, k) => ((mask & (1 << k)) === 0 ? [] : [ep(ip, ip === '10.0.0.7' ? { nodeName: 'test-node' } : {})]));
  return sliceManifest('ns', NAMES[i]!, 1, eps, [port('p', 8080, 'TCP'), port('q', 5353, 'UDP')]);
}

type Op =
  | { kind: 'service'; svc: number; variant: number }
  | { kind: 'delete'; svc: number }
  | { kind: 'endpoints'; svc: number; mask: number }
  | { kind: 'layout'; written: number | null; stale: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('service' as const), svc: fc.integer({ min: 0, max: 5 }), variant: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('delete' as const), svc: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('endpoints' as const), svc: fc.integer({ min: 0, max: 5 }), mask: fc.integer({ min: 0, max: 31 }) }),
  fc.record({ kind: fc.constant('layout' as const), written: fc.option(fc.integer({ min: 0, max: 63 })), stale: fc.integer({ min: 0, max: 3 }) }),
);

describe('RestoreLayout', () => {
  test.prop([fc.array(op, { minLength: 1, maxLength: 40 })])('lays out exactly what a fresh layout does, and sizes it as the printed text', (ops) => {
    const cluster = new Cluster();
    const cache = new IptablesRulesCache();
    const layout = new RestoreLayout();
    for (const o of ops) {
      switch (o.kind) {
        case 'service':
          cluster.applyService(serviceFromObject(service(o.svc, o.variant)));
          break;
        case 'delete':
          cluster.deleteService('ns', NAMES[o.svc]!);
          break;
        case 'endpoints':
          cluster.applyEndpointSlice(endpointSliceFromObject(slice(o.svc, o.mask)));
          break;
        case 'layout': {
          const plan = planIptablesRules(cluster, TEST_NODE, fakeProxierConfig(), { chainOrder: 'restore' }, cache);
          const written = o.written === null ? null : new Set(NAMES.filter((_, k) => (o.written! & (1 << k)) !== 0).map((n) => `ns/${n}`));
          const stale = ['KUBE-SVC-STALE0000000000', 'KUBE-SEP-STALE0000000001', 'KUBE-FW-STALE00000000002'].slice(0, o.stale);
          const got = restoreBlocks(plan, written, stale, layout, true);
          const want = restoreBlocks(plan, written, stale, new RestoreLayout(), true);
          expect(got).toEqual(want);
          const doc = { blocks: [got.filterBlock, got.natBlock] };
          expect(got.bytes).toBe(Buffer.byteLength(kubeProxyRestoreText(doc)));
          expect(got.bytes).toBe(kubeProxyRestoreBytes(doc));
          let appends = 0;
          for (const c of got.natBlock.commands) if (c.op === 'append') appends++;
          expect(got.natWritten).toBe(appends);
          expect(got.filterWritten).toBe(got.filterBlock.commands.length);
          break;
        }
      }
    }
  });

  it('leaves the size to the printer when asked not to size', () => {
    const cluster = new Cluster();
    cluster.applyService(serviceFromObject(service(0, 0)));
    cluster.applyEndpointSlice(endpointSliceFromObject(slice(0, 3)));
    const plan = planIptablesRules(cluster, TEST_NODE, fakeProxierConfig(), { chainOrder: 'restore' });
    const layout = new RestoreLayout();
    expect(restoreBlocks(plan, null, [], layout, false).bytes).toBeNull();
    const sized = restoreBlocks(plan, null, [], layout, true);
    expect(sized.bytes).toBe(kubeProxyRestoreBytes({ blocks: [sized.filterBlock, sized.natBlock] }));
    layout.clear();
    expect(restoreBlocks(plan, new Set(), [], layout, true)).toEqual(restoreBlocks(plan, new Set(), [], new RestoreLayout(), true));
  });
});
