import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import { Cluster } from '../../src/kube/cluster.js';
import { parseKubeObjects } from '../../src/kube/parse.js';
import { KubeValidationError } from '../../src/kube/validate.js';
import { formatCidr, formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseKubeObjects on kubectl get svc,endpointslices -A -o yaml', () => {
  const objs = parseKubeObjects(fixture('cluster.yaml'));
  const svc = (ns: string, name: string) => objs.services.find((s) => s.namespace === ns && s.name === name)!;
  const slice = (ns: string, name: string) => objs.endpointSlices.find((s) => s.namespace === ns && s.name === name)!;

  it('reads every item of the List, in order', () => {
    expect(objs.services.map((s) => `${s.namespace}/${s.name}`)).toEqual([
      'default/kubernetes',
      'kube-system/kube-dns',
      'shop/web',
      'shop/frontend',
      'shop/legacy-db',
      'shop/cache',
      'shop/api',
      'shop/metrics',
      'telco/signalling',
    ]);
    expect(objs.endpointSlices.map((s) => s.name)).toEqual([
      'kubernetes',
      'kube-dns-7xq2k',
      'web-abcde',
      'web-fghij',
      'frontend-x1y2z',
      'cache-p0q9r',
      'api-m3n4o',
      'metrics-5s6t7',
      'signalling-aa1bb',
    ]);
    expect(objs.skipped).toEqual([]);
    expect(objs.nodes).toEqual([]);
  });

  it('types a ClusterIP service with several named ports of different protocols', () => {
    const dns = svc('kube-system', 'kube-dns');
    expect(dns.type).toBe('ClusterIP');
    expect(formatIPv4(dns.clusterIP!)).toBe('10.96.0.10');
    expect(dns.ports.map((p) => [p.name, p.protocol, p.port, p.targetPort, p.nodePort])).toEqual([
      ['dns', 'UDP', 53, 53, 0],
      ['dns-tcp', 'TCP', 53, 53, 0],
      ['metrics', 'TCP', 9153, 9153, 0],
    ]);
    expect(dns.externalTrafficPolicy).toBeNull();
    expect(dns.internalTrafficPolicy).toBe('Cluster');
    expect(dns.labels.get('k8s-app')).toBe('kube-dns');
  });

  it('types NodePort with ClientIP affinity and LoadBalancer with Local policy, health check and source ranges', () => {
    const web = svc('shop', 'web');
    expect(web).toMatchObject({ type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 3600 });
    expect(web.ports[0]).toMatchObject({ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 });
    expect(web.externalTrafficPolicy).toBe('Cluster');
    const fe = svc('shop', 'frontend');
    expect(fe).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
    expect(fe.ports[0]!.targetPort).toBe('http');
    expect(fe.loadBalancerSourceRanges.map(formatCidr)).toEqual(['198.51.100.0/24']);
    expect(fe.loadBalancerIngress).toEqual([{ ip: parseIPv4('203.0.113.10'), hostname: null, ipMode: 'VIP' }]);
  });

  it('keeps ExternalName and headless services with no cluster IP, and an unnamed port', () => {
    expect(svc('shop', 'legacy-db')).toMatchObject({ type: 'ExternalName', clusterIP: null, externalName: 'db.example.com' });
    expect(svc('shop', 'cache')).toMatchObject({ headless: true, clusterIP: null });
    const api = svc('shop', 'api');
    expect(api.ports[0]!.name).toBe('');
    expect(api).toMatchObject({ internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Cluster' });
    expect(api.externalIPs.map(formatIPv4)).toEqual(['198.51.100.7']);
    expect(svc('telco', 'signalling').ports[0]!.protocol).toBe('SCTP');
  });

  it('types EndpointSlices: conditions, nodeName, zone, ports, and null lists', () => {
    const web = slice('shop', 'web-abcde');
    expect(web.serviceName).toBe('web');
    expect(web.endpoints.map((e) => [formatIPv4(e.addresses[0]!), e.nodeName, e.zone, e.conditions])).toEqual([
      ['10.244.0.10', 'node-a', 'zone-a', { ready: true, serving: true, terminating: false }],
      ['10.244.0.9', 'node-a', 'zone-a', { ready: false, serving: true, terminating: true }],
      ['10.244.1.7', 'node-b', 'zone-b', { ready: true, serving: true, terminating: false }],
    ]);
    // only "ready: true" given: serving unset reads as true, terminating unset as false
    expect(slice('default', 'kubernetes').endpoints[0]!.conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(slice('shop', 'api-m3n4o').ports).toEqual([{ name: '', protocol: 'TCP', port: 8443, appProtocol: null }]);
    expect(slice('shop', 'metrics-5s6t7')).toMatchObject({ endpoints: [], ports: [] });
    expect(slice('shop', 'cache-p0q9r').endpoints[0]!.hostname).toBe('cache-0');
  });
});

describe('parseKubeObjects on -o json', () => {
  it('reads a JSON List and reports kinds it skips with their line', () => {
    const text = fixture('kube-system.json');
    const objs = parseKubeObjects(text);
    expect(objs.services.map((s) => s.name)).toEqual(['kube-dns']);
    expect(objs.endpointSlices.map((s) => s.name)).toEqual(['kube-dns-7xq2k']);
    expect(objs.skipped).toHaveLength(1);
    const sk = objs.skipped[0]!;
    expect(sk.kind).toBe('Endpoints');
    expect(sk.name).toBe('kube-system/kube-dns');
    // the skipped item's opening brace is on that line
    expect(text.split('\n')[sk.line! - 1]!.trim()).toBe('{');
    expect(text.split('\n')[sk.line!]!.trim()).toBe('"apiVersion": "v1",');
  });

  it('reads a single JSON object and a typed JSON List (ServiceList), as `kubectl get svc x -o json` prints them', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'one', namespace: 'ns' }, spec: { clusterIP: '10.0.0.9', ports: [{ port: 443 }] } };
    const single = parseKubeObjects(JSON.stringify(svc, null, 2));
    expect(single.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['ns/one']);
    expect(single.services[0]!.ports[0]).toMatchObject({ protocol: 'TCP', port: 443, targetPort: 443 });
    const list = parseKubeObjects(JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', items: [svc, { ...svc, metadata: { name: 'two', namespace: 'ns' } }] }));
    expect(list.services.map((s) => s.name)).toEqual(['one', 'two']);
  });

  it('reads the same objects from YAML and JSON renderings of one List', () => {
    const yaml = parseKubeObjects(fixture('cluster.yaml'));
    const json = parseKubeObjects(fixture('kube-system.json'));
    expect(json.services[0]).toEqual(yaml.services.find((s) => s.name === 'kube-dns'));
    expect(json.endpointSlices[0]).toEqual(yaml.endpointSlices.find((s) => s.name === 'kube-dns-7xq2k'));
  });
});

describe('parseKubeObjects inputs', () => {
  const svcDoc = (name: string, ip: string): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  clusterIP: ${ip}
  ports:
  - port: 80
`;

  it('reads multi-document YAML and single manifests, applying API defaults', () => {
    const objs = parseKubeObjects(`---\n${svcDoc('a', '10.0.0.1')}---\n${svcDoc('b', '10.0.0.2')}---\n`);
    expect(objs.services.map((s) => s.name)).toEqual(['a', 'b']);
    const a = objs.services[0]!;
    // namespace, type, protocol, targetPort, sessionAffinity, internalTrafficPolicy defaulted
    expect(a).toMatchObject({ namespace: 'default', type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' });
    expect(a.ports[0]).toEqual({ name: '', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 0, appProtocol: null });
    expect(parseKubeObjects(svcDoc('c', '10.0.0.3')).services).toHaveLength(1);
    expect(parseKubeObjects('')).toEqual({ services: [], endpointSlices: [], nodes: [], configs: [], skipped: [] });
  });

  it('defaults ClientIP affinity to 10800 s and NodePort policy to Cluster', () => {
    const o = parseKubeObjects(`apiVersion: v1
kind: Service
metadata: {name: s, namespace: n}
spec:
  type: NodePort
  clusterIP: 10.0.0.1
  sessionAffinity: ClientIP
  ports: [{port: 80, nodePort: 30001}]
`);
    expect(o.services[0]).toMatchObject({ sessionAffinityTimeoutSeconds: 10800, externalTrafficPolicy: 'Cluster' });
  });

  it('reads Nodes and KubeProxyConfigurations', () => {
    const o = parseKubeObjects(`apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
spec: {podCIDRs: [10.244.0.0/24, "fd00:10:244::/64"]}
status:
  addresses:
  - {type: InternalIP, address: 192.168.49.2}
  - {type: InternalIP, address: "fd00::2"}
  - {type: Hostname, address: node-a}
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
iptables: {masqueradeBit: 15, syncPeriod: 1m0s, minSyncPeriod: 500ms}
ipvs: {strictARP: true, tcpTimeout: 15m, udpTimeout: 30s}
`);
    const n = o.nodes[0]!;
    expect(n.internalIPs.map(formatIPv4)).toEqual(['192.168.49.2']);
    expect(formatCidr(n.podCIDR!)).toBe('10.244.0.0/24');
    expect(n.labels.get('topology.kubernetes.io/zone')).toBe('zone-a');
    const c = o.configs[0]!;
    expect(c.mode).toBe('ipvs');
    expect(formatCidr(c.clusterCIDR!)).toBe('10.244.0.0/16');
    expect(c.iptables).toEqual({ masqueradeAll: false, masqueradeBit: 15, syncPeriodSeconds: 60, minSyncPeriodSeconds: 0.5, localhostNodePorts: true });
    expect(c.ipvs).toMatchObject({ scheduler: 'rr', strictARP: true, tcpTimeoutSeconds: 900, udpTimeoutSeconds: 30, syncPeriodSeconds: 30 });
    expect(c.detectLocalMode).toBe('ClusterCIDR');
  });

  it('reports YAML syntax errors with line and column', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   namespace: b\n';
    try {
      parseKubeObjects(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      const pe = e as ParseError;
      // the parser flags the value "a" that the over-indented line turns into a nested mapping
      expect(pe.line).toBe(4);
      expect(pe.column).toBe(9);
      expect(pe.input).toBe('  name: a');
      expect(pe.message).toMatch(/^lbsim\/kube\.parseKubeObjects: .*\(line 4, column 9\)$/);
    }
  });

  it('reports JSON syntax errors with line and column', () => {
    const text = '{\n  "apiVersion": "v1",\n  "kind": "Service"\n  "metadata": {}\n}\n';
    expect(() => parseKubeObjects(text)).toThrow(ParseError);
    try {
      parseKubeObjects(text);
    } catch (e) {
      expect((e as ParseError).line).toBe(4);
    }
  });

  it('refuses duplicate keys and duplicate objects', () => {
    expect(() => parseKubeObjects('kind: Service\nkind: Service\n')).toThrow(ParseError);
    try {
      parseKubeObjects(`${svcDoc('a', '10.0.0.1')}---\n${svcDoc('a', '10.0.0.2')}`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KubeValidationError);
      expect((e as KubeValidationError).object).toBe('Service default/a');
      expect((e as KubeValidationError).field).toBe('metadata.name');
      expect((e as KubeValidationError).line).toBe(10);
    }
  });

  it('is all-or-nothing: one bad item of a List applies nothing', () => {
    const cluster = new Cluster();
    cluster.applyText(fixture('kube-system.json'));
    cluster.checkoutChanges();
    const before = [...cluster.services.values()];
    const text = fixture('cluster.yaml').replace('port: 9153\n      protocol: TCP\n      targetPort: 9153', 'port: 91530\n      protocol: TCP\n      targetPort: 9153');
    try {
      cluster.applyText(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KubeValidationError);
      const ve = e as KubeValidationError;
      expect(ve.object).toBe('Service kube-system/kube-dns');
      expect(ve.field).toBe('spec.ports[2].port');
      expect(ve.causes[0]!.message).toBe('spec.ports[2].port: Invalid value: 91530: must be between 1 and 65535, inclusive');
      // the item's first line in the text
      expect(text.split('\n')[ve.line! - 1]).toBe('- apiVersion: v1');
      expect(text.split('\n')[ve.line!]).toBe('  kind: Service');
    }
    expect([...cluster.services.values()]).toEqual(before);
    expect(cluster.endpointSlices.size).toBe(1);
    expect(cluster.hasPendingChanges()).toBe(false);
  });
});
