// The cluster model against pkg/proxy: endpointslicecache.go (endpoint list per service port, dedup, sort by the
// "ip:port" string), topology.go CategorizeEndpoints (without topology hints) and the change trackers.
import { describe, expect, it } from 'vitest';
import { categorizeEndpoints, Cluster, servicePortInfos } from '../../src/kube/cluster.js';
import type { Endpoint } from '../../src/kube/cluster.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { clusterOf, ep, port, sliceManifest, svcManifest } from './helpers.js';
import type { Json } from './helpers.js';

const READY = { conditions: { ready: true, serving: true, terminating: false } };
const TERMINATING = { conditions: { ready: false, serving: true, terminating: true } };
const GONE = { conditions: { ready: false, serving: false, terminating: true } };
const NOT_READY = { conditions: { ready: false, serving: false, terminating: false } };

/** One-port service shop/s plus one slice; returns the port and its endpoints as node-a sees them. */
function setup(spec: Json, endpoints: Json[], node = 'node-a') {
  const base: Json = { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80 }] };
  const c = clusterOf([svcManifest('shop', 's', { ...base, ...spec })], [sliceManifest('shop', 's', 1, endpoints, [port('http', 8080)])]);
  const sp = c.servicePorts()[0]!;
  return { sp, eps: c.endpoints(sp, node), node };
}

const strs = (eps: readonly Endpoint[]): string[] => eps.map((e) => e.endpointString);

describe('endpoints of a service port', () => {
  it('are sorted by the ip:port string, byte-wise', () => {
    const { eps } = setup({}, [ep('10.0.0.2'), ep('10.0.0.10'), ep('10.0.0.100'), ep('9.0.0.1')]);
    // string order, not numeric: after the common "10.0.0.10", '0' (0x30) < ':' (0x3a), so
    // "10.0.0.100:8080" < "10.0.0.10:8080" < "10.0.0.2:8080" < "9.0.0.1:8080"
    expect(strs(eps)).toEqual(['10.0.0.100:8080', '10.0.0.10:8080', '10.0.0.2:8080', '9.0.0.1:8080']);
  });

  it('join slices, keep the first copy of a duplicate ip:port unless a later one is local', () => {
    const c = clusterOf(
      [svcManifest('shop', 's', { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80 }] })],
      [
        sliceManifest('shop', 's', 1, [ep('10.0.0.1', { nodeName: 'node-b', ...NOT_READY })], [port('http', 8080)]),
        sliceManifest('shop', 's', 2, [ep('10.0.0.1', { nodeName: 'node-a', ...READY }), ep('10.0.0.3')], [port('http', 8080)]),
      ],
    );
    const sp = c.servicePorts()[0]!;
    // seen from node-c: slice s-1 is walked first and its copy stays
    expect(c.endpoints(sp, 'node-c').map((e) => [e.endpointString, e.nodeName, e.ready])).toEqual([
      ['10.0.0.1:8080', 'node-b', false],
      ['10.0.0.3:8080', '', true],
    ]);
    // seen from node-a: the later copy is local and replaces it
    expect(c.endpoints(sp, 'node-a')[0]).toMatchObject({ nodeName: 'node-a', ready: true });
  });

  it('feed a service port only when both port name and protocol match; unset ports are ignored', () => {
    const c = clusterOf(
      [
        svcManifest('kube-system', 'dns', {
          clusterIP: '10.96.0.10',
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        }),
      ],
      [
        sliceManifest(
          'kube-system',
          'dns',
          1,
          [ep('10.244.0.2')],
          [
            { name: 'dns', port: 53, protocol: 'TCP' }, // same name, wrong protocol: feeds nothing
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
            { name: 'metrics' }, // no port number
          ],
        ),
      ],
    );
    const [udp, tcp] = c.servicePorts();
    expect(c.endpoints(udp!)).toEqual([]);
    expect(strs(c.endpoints(tcp!))).toEqual(['10.244.0.2:53']);
    expect([...c.endpointsOf('kube-system/dns').keys()]).toEqual(['kube-system/dns:dns/TCP', 'kube-system/dns:dns-tcp/TCP']);
  });

  it('skip ExternalName and headless services (no service ports)', () => {
    expect(servicePortInfos(serviceFromObject(svcManifest('a', 'x', { type: 'ExternalName', externalName: 'x.example.com', ports: [{ port: 80 }] })))).toEqual([]);
    expect(servicePortInfos(serviceFromObject(svcManifest('a', 'x', { clusterIP: 'None', ports: [{ port: 80 }] })))).toEqual([]);
  });

  it('derive the ServicePortInfo flags as serviceport.go does', () => {
    const info = (spec: Json, status?: Json) => servicePortInfos(serviceFromObject(svcManifest('a', 'x', { clusterIP: '10.0.0.1', ports: [{ port: 80 }], ...spec }, status)))[0]!;
    expect(info({})).toMatchObject({ externallyAccessible: false, usesClusterEndpoints: true, usesLocalEndpoints: false, nameString: 'a/x' });
    expect(info({ internalTrafficPolicy: 'Local' })).toMatchObject({ usesClusterEndpoints: false, usesLocalEndpoints: true });
    // NodePort type without an allocated nodePort: not externally accessible, so ETP Local uses no local endpoints
    expect(info({ type: 'NodePort', externalTrafficPolicy: 'Local' })).toMatchObject({ externallyAccessible: false, externalPolicyLocal: true, usesLocalEndpoints: false });
    expect(
      info({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'Proxy' }, { ip: '1.2.3.5' }, { hostname: 'lb.example.com' }] } }),
    ).toMatchObject({ externallyAccessible: true, usesClusterEndpoints: true, usesLocalEndpoints: true, healthCheckNodePort: 32000, loadBalancerVIPs: [0x01020305] });
  });
});

describe('categorizeEndpoints', () => {
  it('Cluster policy: the ready endpoints', () => {
    const { sp, eps, node } = setup({}, [ep('10.0.0.1', READY), ep('10.0.0.2', NOT_READY), ep('10.0.0.3', TERMINATING)]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(strs(c.clusterEndpoints)).toEqual(['10.0.0.1:8080']);
    expect(c.localEndpoints).toEqual([]);
    expect(c.allReachableEndpoints).toBe(c.clusterEndpoints);
    expect(c.hasAnyEndpoints).toBe(true);
  });

  it('all terminating: falls back to the serving-terminating ones', () => {
    const { sp, eps, node } = setup({}, [ep('10.0.0.1', TERMINATING), ep('10.0.0.2', GONE), ep('10.0.0.3', TERMINATING)]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(strs(c.clusterEndpoints)).toEqual(['10.0.0.1:8080', '10.0.0.3:8080']);
    expect(c.hasAnyEndpoints).toBe(true);
  });

  it('nothing ready or serving: no endpoints anywhere', () => {
    const { sp, eps, node } = setup({}, [ep('10.0.0.1', NOT_READY), ep('10.0.0.2', GONE)]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(c).toEqual({ clusterEndpoints: [], localEndpoints: [], allReachableEndpoints: [], hasAnyEndpoints: false });
  });

  const nodePortLocal = { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] };

  it('externalTrafficPolicy Local with no local endpoints: cluster endpoints still used for short-circuiting', () => {
    const { sp, eps, node } = setup(nodePortLocal, [ep('10.0.0.1', { nodeName: 'node-b' }), ep('10.0.0.2', { nodeName: 'node-c' })]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(strs(c.clusterEndpoints)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(c.localEndpoints).toEqual([]);
    expect(c.hasAnyEndpoints).toBe(true);
    expect(c.allReachableEndpoints).toBe(c.clusterEndpoints);
  });

  it('externalTrafficPolicy Local with local ready endpoints: local ones are a subset of the cluster ones', () => {
    const { sp, eps, node } = setup(nodePortLocal, [ep('10.0.0.1', { nodeName: 'node-a' }), ep('10.0.0.2', { nodeName: 'node-b' }), ep('10.0.0.3', { nodeName: 'node-a', ...TERMINATING })]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(strs(c.localEndpoints)).toEqual(['10.0.0.1:8080']);
    expect(strs(c.allReachableEndpoints)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
  });

  it('Local falls back to local serving-terminating endpoints independently of Cluster; reachable = union', () => {
    const { sp, eps, node } = setup(nodePortLocal, [ep('10.0.0.9', { nodeName: 'node-a', ...TERMINATING }), ep('10.0.0.2', { nodeName: 'node-b' })]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(strs(c.clusterEndpoints)).toEqual(['10.0.0.2:8080']);
    expect(strs(c.localEndpoints)).toEqual(['10.0.0.9:8080']);
    expect(strs(c.allReachableEndpoints)).toEqual(['10.0.0.2:8080', '10.0.0.9:8080']);
  });

  it('internalTrafficPolicy Local: only local endpoints, none for Cluster', () => {
    const { sp, eps, node } = setup({ internalTrafficPolicy: 'Local' }, [ep('10.0.0.1', { nodeName: 'node-a' }), ep('10.0.0.2', { nodeName: 'node-b' })]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(c.clusterEndpoints).toEqual([]);
    expect(strs(c.localEndpoints)).toEqual(['10.0.0.1:8080']);
    expect(c.allReachableEndpoints).toBe(c.localEndpoints);
    expect(c.hasAnyEndpoints).toBe(true);
  });

  it('internalTrafficPolicy Local on a node without local endpoints: has endpoints, none reachable', () => {
    const { sp, eps, node } = setup({ internalTrafficPolicy: 'Local' }, [ep('10.0.0.2', { nodeName: 'node-b' })]);
    const c = categorizeEndpoints(eps, sp, node);
    expect(c).toEqual({ clusterEndpoints: [], localEndpoints: [], allReachableEndpoints: [], hasAnyEndpoints: true });
  });

  it('an empty node name makes nothing local', () => {
    const { sp, eps } = setup({ internalTrafficPolicy: 'Local' }, [ep('10.0.0.1')]);
    expect(categorizeEndpoints(eps, sp, '').localEndpoints).toEqual([]);
  });
});

describe('change tracking', () => {
  const svc = (p = 80, extra: Json = {}) => serviceFromObject(svcManifest('shop', 'web', { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: p }], ...extra }));
  const slice = (ips: string[], labels: Json = {}) => {
    const m = sliceManifest('shop', 'web', 1, ips.map((ip) => ep(ip)), [port('http', 8080)]);
    Object.assign((m['metadata'] as { labels: Json }).labels, labels);
    return endpointSliceFromObject(m);
  };
  const KEY = 'shop/web:http/TCP';
  const synced = (): Cluster => {
    const c = new Cluster();
    c.applyService(svc());
    c.applyEndpointSlice(slice(['10.0.0.1']));
    const first = c.checkoutChanges();
    expect([...first.services]).toEqual(['shop/web']);
    expect([...first.servicePorts]).toEqual([KEY]);
    expect(c.hasPendingChanges()).toBe(false);
    return c;
  };

  it('a Service edit is a service update of that port', () => {
    const c = synced();
    c.applyService(svc(81));
    expect(c.pendingChanges()).toEqual({ serviceUpdates: new Set(['shop/web']), endpointUpdates: new Set(), services: new Set(['shop/web']), servicePorts: new Set([KEY]) });
    c.checkoutChanges();
    expect(c.hasPendingChanges()).toBe(false);
  });

  it('a Service edited and edited back does not count', () => {
    const c = synced();
    c.applyService(svc(81));
    c.applyService(svc(80));
    expect(c.checkoutChanges().services.size).toBe(0);
  });

  it('an EndpointSlice edit is an endpoint update; edited back it still counts as one, with no port changed', () => {
    const c = synced();
    c.applyEndpointSlice(slice(['10.0.0.1', '10.0.0.2']));
    expect(c.pendingChanges()).toMatchObject({ endpointUpdates: new Set(['shop/web']), servicePorts: new Set([KEY]) });
    c.applyEndpointSlice(slice(['10.0.0.1']));
    const ch = c.checkoutChanges();
    expect(ch.endpointUpdates).toEqual(new Set(['shop/web']));
    expect(ch.servicePorts).toEqual(new Set());
  });

  it('a label-only EndpointSlice edit is not a change', () => {
    const c = synced();
    c.applyEndpointSlice(slice(['10.0.0.1'], { team: 'a' }));
    expect(c.hasPendingChanges()).toBe(false);
  });

  it('deletions count, and only the Service that changed is reported', () => {
    const c = synced();
    c.applyService(serviceFromObject(svcManifest('shop', 'other', { clusterIP: '10.96.0.6', ports: [{ port: 90 }] })));
    c.checkoutChanges();
    expect(c.deleteEndpointSlice('shop', 'web-1')).toBe(true);
    expect(c.deleteEndpointSlice('shop', 'web-1')).toBe(false);
    expect(c.checkoutChanges()).toMatchObject({ endpointUpdates: new Set(['shop/web']), servicePorts: new Set([KEY]) });
    expect(c.deleteService('shop', 'other')).toBe(true);
    expect(c.deleteService('shop', 'other')).toBe(false);
    expect(c.checkoutChanges()).toMatchObject({ serviceUpdates: new Set(['shop/other']), servicePorts: new Set(['shop/other:/TCP']) });
    expect(c.services.size).toBe(1);
  });
});
