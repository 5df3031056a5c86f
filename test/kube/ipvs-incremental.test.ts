// IPVS mode keeps per-sync work small (cached entry texts, ipset diffs by element key, reused scratch for the
// real-server diff, predicted HASH_FULL refusals); none of it may show. Property: a long-lived syncer that went
// through arbitrary cluster changes, user edits of its ipsets and IPVS table, and syncs ends, after one more
// sync, in the state a fresh syncer's first sync builds for the same cluster (virtual servers, real servers and
// weights, every ipset's members, bound addresses, iptables rules), and that sync's ipset counts are the
// set differences of the listing before it and the wanted members.
import { test, fc } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ForwardMethod } from '../../src/ipvs/flags.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { formatIpvsadmSave } from '../../src/ipvs/ipvsadm/print.js';
import { KubeProxier } from '../../src/kube/proxier.js';
import { KUBE_IPSETS } from '../../src/kube/ipvs-mode.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import type { IpsetStore } from '../../src/netfilter/ipset/store.js';
import { SimClock } from '../../src/sim/clock.js';
import { syntheticCluster } from '../../src/workload/index.js';
import type { SyntheticCluster } from '../../src/workload/index.js';

const SERVICES = 24;
const MIX = { nodePort: 0.3, loadBalancer: 0.25, sessionAffinity: 0.2, externalTrafficPolicyLocal: 0.5 };

interface Node {
  readonly sc: SyntheticCluster;
  readonly netfilter: Netfilter;
  readonly ipvs: Ipvs;
  readonly proxier: KubeProxier;
}

function node(endpoints: number, seed: number): Node {
  // three nodes: a third of the endpoints are local (KUBE-LOOP-BACK, externalTrafficPolicy Local)
  const sc = syntheticCluster({ services: SERVICES, endpoints, seed, nodes: 3, mix: MIX });
  const clock = new SimClock();
  const netfilter = new Netfilter({ clock, seed: 11, host: sc.hostOptions(), conntrack: { buckets: 64 } });
  const ipvs = new Ipvs({ clock, seed: 12, sysctl: { runEstimation: false } });
  const proxier = new KubeProxier({ cluster: sc.cluster, node: sc.node, config: sc.proxyConfig('ipvs'), netfilter, ipvs });
  return { sc, netfilter, ipvs, proxier };
}

/** Each set's members as `ipset save` prints them, sorted. */
function members(store: IpsetStore): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of KUBE_IPSETS) {
    const lines = store
      .save(s.name)
      .split('\n')
      .filter((l) => l.startsWith('add '))
      .map((l) => l.slice(`add ${s.name} `.length));
    out.set(s.name, lines.sort());
  }
  return out;
}

function state(n: Node): unknown {
  return {
    ipvs: formatIpvsadmSave(n.ipvs).split('\n').sort(),
    ipsets: members(n.netfilter.stateful.ipsets),
    bound: [...n.proxier.ipvsMode!.boundAddresses].sort((a, b) => a - b),
    rules: n.netfilter.ruleset.toSaved({ tables: ['filter', 'nat'] }),
  };
}

type Op =
  | { kind: 'endpoints'; i: number; back: boolean }
  | { kind: 'addService'; k: number }
  | { kind: 'deleteService'; i: number }
  | { kind: 'deleteSlice'; i: number }
  | { kind: 'ipsetAdd'; set: number; elem: number }
  | { kind: 'ipsetDel'; set: number; pick: number }
  | { kind: 'ipsetFlush'; set: number }
  | { kind: 'ipvsDelDest'; pick: number }
  | { kind: 'ipvsAddDest'; pick: number; host: number }
  | { kind: 'sync' };

const i = fc.integer({ min: 0, max: SERVICES - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('endpoints' as const), i, back: fc.boolean() }),
  fc.record({ kind: fc.constant('addService' as const), k: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('deleteService' as const), i }),
  fc.record({ kind: fc.constant('deleteSlice' as const), i }),
  fc.record({ kind: fc.constant('ipsetAdd' as const), set: fc.nat(), elem: fc.nat() }),
  fc.record({ kind: fc.constant('ipsetDel' as const), set: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('ipsetFlush' as const), set: fc.nat() }),
  fc.record({ kind: fc.constant('ipvsDelDest' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('ipvsAddDest' as const), pick: fc.nat(), host: fc.integer({ min: 1, max: 250 }) }),
  fc.constant({ kind: 'sync' as const }),
);

/** Elements a user might add, per set type (the ip,port ones in every protocol IPVS mode writes). */
const JUNK: ReadonlyMap<string, readonly string[]> = new Map([
  ['hash:ip,port', ['10.99.0.1,tcp:1', '10.99.0.2,udp:2', '10.99.0.3,sctp:3']],
  ['hash:ip', ['10.99.0.5', '10.99.0.6']],
  ['bitmap:port', ['1', '30001']],
  ['hash:ip,port,ip', ['10.99.0.7,tcp:7,10.99.0.8']],
  ['hash:ip,port,net', ['10.99.0.9,tcp:9,10.0.0.0/8', '10.99.0.9,tcp:9,10.0.0.1']],
]);

function apply(n: Node, o: Op): void {
  const { sc, proxier, ipvs } = n;
  const store = n.netfilter.stateful.ipsets;
  const setOf = (k: number): (typeof KUBE_IPSETS)[number] => KUBE_IPSETS[k % KUBE_IPSETS.length]!;
  switch (o.kind) {
    case 'endpoints':
      if (o.back || sc.endpointSlices[o.i]!.endpoints.length === 0) proxier.applyEndpointSlice(sc.endpointSlices[o.i]!);
      else proxier.applyEndpointSlice(sc.endpointChange(o.i));
      break;
    case 'addService': {
      const x = sc.addService(SERVICES + o.k);
      proxier.applyService(x.service);
      proxier.applyEndpointSlice(x.endpointSlice);
      break;
    }
    case 'deleteService': {
      const x = sc.serviceAt(o.i);
      proxier.deleteService(x.service.namespace, x.service.name);
      break;
    }
    case 'deleteSlice': {
      const x = sc.serviceAt(o.i);
      proxier.deleteEndpointSlice(x.endpointSlice.namespace, x.endpointSlice.name);
      break;
    }
    case 'ipsetAdd': {
      const s = setOf(o.set);
      const junk = JUNK.get(s.type)!;
      store.add(s.name, junk[o.elem % junk.length]!, { exist: true });
      break;
    }
    case 'ipsetDel': {
      const s = setOf(o.set);
      const m = store.list(s.name)[0]!.members;
      if (m.length > 0) store.del(s.name, { ...m[o.pick % m.length]! });
      break;
    }
    case 'ipsetFlush':
      store.flush(setOf(o.set).name);
      break;
    case 'ipvsDelDest':
    case 'ipvsAddDest': {
      const svcs = [...ipvs.services()];
      if (svcs.length === 0) break;
      const v = svcs[o.pick % svcs.length]!;
      const key = { proto: v.proto, addr: v.addr, port: v.port };
      if (o.kind === 'ipvsAddDest') {
        // a real server on a port no endpoint uses: a leftover the next sync deletes
        if (!v.dests.some((d) => d.addr === 0x0a800000 + o.host && d.port === 9999)) {
          ipvs.addDest(key, 0x0a800000 + o.host, 9999, { weight: 1 + (o.host % 3), fwd: ForwardMethod.MASQ });
        }
        break;
      }
      if (v.dests.length === 0) break;
      // (a weight edit would stay: kube-proxy rewrites weights only in its first sync)
      const d = v.dests[o.pick % v.dests.length]!;
      ipvs.deleteDest(key, d.addr, d.port);
      break;
    }
    case 'sync':
      expect(proxier.syncNow().success).toBe(true);
      break;
  }
}

describe('IPVS mode: a long-lived syncer ends where a fresh one starts', () => {
  // 0..40 endpoints per Service: both sides of syncEndpoint's linear/map threshold
  test.prop([fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 1000 }), fc.array(op, { maxLength: 30 })], { numRuns: 40 })(
    'same IPVS table, ipsets, addresses and rules; ipset counts are the set differences',
    (endpoints, seed, ops) => {
      const a = node(endpoints, seed);
      expect(a.proxier.start().success).toBe(true);
      a.proxier.stop();
      for (const o of ops) apply(a, o);

      // the fresh syncer, for the cluster as it is now
      const b = node(endpoints, seed);
      for (const o of ops) if (o.kind === 'endpoints' || o.kind === 'addService' || o.kind === 'deleteService' || o.kind === 'deleteSlice') apply(b, o);
      expect(b.proxier.start().success).toBe(true);
      b.proxier.stop();

      const before = members(a.netfilter.stateful.ipsets);
      const r = a.proxier.syncNow();
      expect(r.success).toBe(true);
      expect(state(a)).toEqual(state(b));

      const want = members(b.netfilter.stateful.ipsets);
      let add = 0;
      let del = 0;
      for (const s of KUBE_IPSETS) {
        const had = new Set(before.get(s.name));
        const wanted = new Set(want.get(s.name));
        for (const e of wanted) if (!had.has(e)) add++;
        for (const e of had) if (!wanted.has(e)) del++;
      }
      expect(r.ipvs!.ipset).toEqual({ create: KUBE_IPSETS.length, list: KUBE_IPSETS.length, add, del, failed: 0 });
      expect(r.ipvs!.virtualServers).toBe([...b.ipvs.services()].length);
    },
  );
});
