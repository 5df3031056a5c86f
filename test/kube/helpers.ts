// Builders of kubectl-shaped objects for the kube tests (the shape `kubectl get -o json` prints).
import { Cluster } from '../../src/kube/cluster.js';
import { defaultKubeProxyConfiguration } from '../../src/kube/objects.js';
import type { KubeProxyConfiguration, Node } from '../../src/kube/objects.js';
import { endpointSliceFromObject, nodeFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { parseCidr } from '../../src/net/ipv4.js';

export type Json = Record<string, unknown>;

/** makeTestService: a Service manifest; `spec` is merged over a ClusterIP default. */
export function svcManifest(ns: string, name: string, spec: Json, status?: Json): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ...spec },
    ...(status !== undefined ? { status } : {}),
  };
}

/** An endpoint entry; `node` sets nodeName. */
export function ep(ip: string, extra: Json = {}): Json {
  return { addresses: [ip], ...extra };
}

/** makeTestEndpointSlice: slice `<name>-<n>` of Service ns/name with the given endpoints and ports. */
export function sliceManifest(ns: string, name: string, n: number, endpoints: Json[], ports: Json[]): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${n}`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

export const port = (name: string, p: number, protocol = 'TCP'): Json => ({ name, port: p, protocol });

/** A cluster from manifests. */
export function clusterOf(services: Json[], slices: Json[]): Cluster {
  const c = new Cluster();
  for (const s of services) c.applyService(serviceFromObject(s));
  for (const s of slices) c.applyEndpointSlice(endpointSliceFromObject(s));
  return c;
}

/** The upstream test node: name "test-node", IP 192.168.0.2 (proxier_test.go testNodeName / testNodeIP). */
export const TEST_NODE: Node = nodeFromObject({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'test-node' },
  spec: { podCIDR: '10.0.0.0/24' },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }, { type: 'Hostname', address: 'test-node' }] },
});

/** NewFakeProxier: detect-local by cluster CIDR 10.0.0.0/8, mark 0x4000, localhost NodePorts on. */
export function fakeProxierConfig(over: Partial<KubeProxyConfiguration> = {}): KubeProxyConfiguration {
  return { ...defaultKubeProxyConfiguration(), clusterCIDR: parseCidr('10.0.0.0/8'), ...over };
}
