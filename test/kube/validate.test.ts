// Every validation path: the field path and message (pkg/apis/core/validation ValidateService,
// pkg/apis/discovery/validation ValidateEndpointSlice, pkg/proxy/apis/config/validation) and, for objects applied
// through a Cluster, that the model is left exactly as it was.
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { Cluster } from '../../src/kube/cluster.js';
import { defaultKubeProxyConfiguration } from '../../src/kube/objects.js';
import {
  KubeValidationError,
  kubeProxyConfigurationFromObject,
  nodeFromObject,
  parseGoDuration,
  serviceFromObject,
} from '../../src/kube/validate.js';
import type { Json } from './helpers.js';

const svc = (): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.96.0.20',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    sessionAffinity: 'None',
  },
});

const slice = (): Json => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abc12', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true }, nodeName: 'node-a' }],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

type Mut = (o: Json & { spec: Json; metadata: Json; status?: Json }) => void;
const spec = (f: (s: Json) => void): Mut => (o) => {
  f(o.spec);
};
const ports = (...p: Json[]): Mut => spec((s) => (s['ports'] = p));
const lb = (extra: Json = {}): Mut =>
  spec((s) => {
    s['type'] = 'LoadBalancer';
    s['ports'] = [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }];
    Object.assign(s, extra);
  });

const IPV6 = 'IPv6 is not supported: lbsim models IPv4 only';
const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** [description, mutation, first failure's `field: body`]. */
const SERVICE_CASES: [string, Mut, string][] = [
  ['port above range', ports({ name: 'http', port: 70000 }), 'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'],
  ['port 0', ports({ name: 'http', port: 0 }), 'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
  ['port as string', ports({ name: 'http', port: '80' }), 'spec.ports[0].port: Invalid value: "80": must be an integer'],
  ['unknown protocol', ports({ port: 80, protocol: 'ICMP' }), 'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
  ['unnamed port among several', ports({ name: 'a', port: 80 }, { port: 81 }), 'spec.ports[1].name: Required value'],
  ['duplicate port name', ports({ name: 'http', port: 80 }, { name: 'http', port: 81 }), 'spec.ports[1].name: Duplicate value: "http"'],
  ['invalid port name', ports({ name: 'HTTP', port: 80 }), `spec.ports[0].name: Invalid value: "HTTP": ${DNS1123_LABEL}`],
  [
    'duplicate protocol/port',
    ports({ name: 'a', port: 80 }, { name: 'b', port: 80 }),
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ],
  ['no ports', ports(), 'spec.ports: Required value'],
  ['ports not a list', spec((s) => (s['ports'] = 'http')), 'spec.ports: Invalid value: "http": must be a list'],
  ['nodePort on ClusterIP', ports({ port: 80, nodePort: 30080 }), "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  [
    'nodePort above range',
    spec((s) => {
      s['type'] = 'NodePort';
      s['ports'] = [{ port: 80, nodePort: 70000 }];
    }),
    'spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ],
  [
    'duplicate nodePort',
    spec((s) => {
      s['type'] = 'NodePort';
      s['ports'] = [
        { name: 'a', port: 80, nodePort: 30080 },
        { name: 'b', port: 81, nodePort: 30080 },
      ];
    }),
    'spec.ports[1].nodePort: Duplicate value: 30080',
  ],
  ['targetPort 0', ports({ port: 80, targetPort: 0 }), 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive'],
  [
    'bad named targetPort',
    ports({ port: 80, targetPort: 'web_port' }),
    'spec.ports[0].targetPort: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ],
  ['unknown type', spec((s) => (s['type'] = 'Ingress')), 'spec.type: Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
  ['bad clusterIP', spec((s) => (s['clusterIP'] = '10.0.0.300')), `spec.clusterIP: Invalid value: "10.0.0.300": must be empty, 'None', or a valid IP address`],
  ['IPv6 clusterIP', spec((s) => (s['clusterIP'] = 'fd00::20')), `spec.clusterIP: Invalid value: "fd00::20": ${IPV6}`],
  ['IPv6 in clusterIPs', spec((s) => (s['clusterIPs'] = ['10.96.0.20', 'fd00::20'])), `spec.clusterIPs[1]: Invalid value: "fd00::20": ${IPV6}`],
  ['clusterIPs[0] not clusterIP', spec((s) => (s['clusterIPs'] = ['10.96.0.21'])), 'spec.clusterIPs[0]: Invalid value: "10.96.0.21": must match `spec.clusterIP`'],
  ['IPv6 family', spec((s) => (s['ipFamilies'] = ['IPv6'])), `spec.ipFamilies[0]: Invalid value: "IPv6": ${IPV6}`],
  [
    'headless NodePort',
    spec((s) => {
      s['type'] = 'NodePort';
      s['clusterIP'] = 'None';
    }),
    `spec.clusterIP: Invalid value: "None": may not be set to 'None' for NodePort services`,
  ],
  ['bad externalIP', spec((s) => (s['externalIPs'] = ['1.2.3'])), 'spec.externalIPs[0]: Invalid value: "1.2.3": must be a valid IP address'],
  ['loopback externalIP', spec((s) => (s['externalIPs'] = ['127.0.0.2'])), 'spec.externalIPs[0]: Invalid value: "127.0.0.2": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
  ['unspecified externalIP', spec((s) => (s['externalIPs'] = ['0.0.0.0'])), 'spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'],
  ['link-local externalIP', spec((s) => (s['externalIPs'] = ['169.254.1.1'])), 'spec.externalIPs[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
  ['IPv6 externalIP', spec((s) => (s['externalIPs'] = ['2001:db8::1'])), `spec.externalIPs[0]: Invalid value: "2001:db8::1": ${IPV6}`],
  ['unknown affinity', spec((s) => (s['sessionAffinity'] = 'Sticky')), 'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
  [
    'affinity timeout 0',
    spec((s) => {
      s['sessionAffinity'] = 'ClientIP';
      s['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: 0 } };
    }),
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
  ],
  [
    'affinity timeout above a day',
    spec((s) => {
      s['sessionAffinity'] = 'ClientIP';
      s['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: 86401 } };
    }),
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
  ],
  [
    'affinity config without ClientIP',
    spec((s) => (s['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: 60 } })),
    'spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None',
  ],
  ['unknown external policy', lb({ externalTrafficPolicy: 'Nearest' }), 'spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", "Local"'],
  [
    'external policy on an internal service',
    spec((s) => (s['externalTrafficPolicy'] = 'Local')),
    'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
  ],
  [
    'health check on a Cluster-policy LoadBalancer',
    lb({ healthCheckNodePort: 32000 }),
    "spec.healthCheckNodePort: Invalid value: 32000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
  ],
  [
    'health check port out of range',
    lb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 70000 }),
    'spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ],
  ['unknown internal policy', spec((s) => (s['internalTrafficPolicy'] = 'Zone')), 'spec.internalTrafficPolicy: Unsupported value: "Zone": supported values: "Cluster", "Local"'],
  [
    'source ranges on a ClusterIP service',
    spec((s) => (s['loadBalancerSourceRanges'] = ['10.0.0.0/8'])),
    "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
  ],
  [
    'bad source range',
    lb({ loadBalancerSourceRanges: ['10.0.0.0/8', '10.0.0.0/33'] }),
    'spec.LoadBalancerSourceRanges: Invalid value: "[10.0.0.0/8 10.0.0.0/33]": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ',
  ],
  ['IPv6 source range', lb({ loadBalancerSourceRanges: ['fd00::/8'] }), `spec.LoadBalancerSourceRanges: Invalid value: "fd00::/8": ${IPV6}`],
  [
    'bad ingress IP',
    (o) => {
      o.status = { loadBalancer: { ingress: [{ ip: 'bogus' }] } };
    },
    'status.loadBalancer.ingress[0].ip: Invalid value: "bogus": must be a valid IP address',
  ],
  [
    'unknown ingress ipMode',
    (o) => {
      o.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'Tunnel' }] } };
    },
    'status.loadBalancer.ingress[0].ipMode: Unsupported value: "Tunnel": supported values: "Proxy", "VIP"',
  ],
  ['upper-case name', (o) => (o.metadata['name'] = 'Web'), `metadata.name: Invalid value: "Web": ${DNS1035_LABEL}`],
  ['name starting with a digit', (o) => (o.metadata['name'] = '1web'), `metadata.name: Invalid value: "1web": ${DNS1035_LABEL}`],
  ['name too long', (o) => (o.metadata['name'] = 'a'.repeat(64)), `metadata.name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`],
  ['no name', (o) => delete o.metadata['name'], 'metadata.name: Required value: name or generateName is required'],
  ['bad namespace', (o) => (o.metadata['namespace'] = 'Shop'), `metadata.namespace: Invalid value: "Shop": ${DNS1123_LABEL}`],
  [
    'ExternalName without a name',
    spec((s) => {
      s['type'] = 'ExternalName';
      delete s['clusterIP'];
    }),
    'spec.externalName: Required value',
  ],
  [
    'ExternalName with a cluster IP',
    spec((s) => {
      s['type'] = 'ExternalName';
      s['externalName'] = 'db.example.com';
    }),
    'spec.clusterIP: Forbidden: must be empty for ExternalName services',
  ],
  ['wrong apiVersion', (o) => (o['apiVersion'] = 'v2'), 'apiVersion: Unsupported value: "v2": supported values: "v1"'],
];

const SLICE_CASES: [string, (o: Json & { metadata: Json; endpoints: Json[]; ports: Json[] }) => void, string][] = [
  [
    'no service-name label',
    (o) => (o.metadata['labels'] = {}),
    'metadata.labels[kubernetes.io/service-name]: Required value: kube-proxy links an EndpointSlice to its Service by this label and ignores slices without it',
  ],
  ['no addressType', (o) => delete o['addressType'], 'addressType: Required value'],
  ['IPv6 addressType', (o) => (o['addressType'] = 'IPv6'), `addressType: Invalid value: "IPv6": ${IPV6} (addressType IPv4 only)`],
  ['FQDN addressType', (o) => (o['addressType'] = 'FQDN'), `addressType: Invalid value: "FQDN": ${IPV6} (addressType IPv4 only)`],
  ['unknown addressType', (o) => (o['addressType'] = 'IPX'), 'addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"'],
  ['endpoint without addresses', (o) => (o.endpoints[0]!['addresses'] = []), 'endpoints[0].addresses: Required value: must contain at least 1 address'],
  ['bad address', (o) => (o.endpoints[0]!['addresses'] = ['10.0.0.256']), 'endpoints[0].addresses[0]: Invalid value: "10.0.0.256": must be a valid IPv4 address'],
  ['loopback address', (o) => (o.endpoints[0]!['addresses'] = ['127.0.0.1']), 'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
  [
    'link-local multicast address',
    (o) => (o.endpoints[0]!['addresses'] = ['224.0.0.5']),
    'endpoints[0].addresses[0]: Invalid value: "224.0.0.5": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
  ],
  ['string condition', (o) => (o.endpoints[0]!['conditions'] = { ready: 'yes' }), 'endpoints[0].conditions.ready: Invalid value: "yes": must be a boolean'],
  ['bad nodeName', (o) => (o.endpoints[0]!['nodeName'] = 'Node_A'), `endpoints[0].nodeName: Invalid value: "Node_A": ${DNS1123_SUBDOMAIN}`],
  ['port 0', (o) => (o.ports[0]!['port'] = 0), 'ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
  ['unknown port protocol', (o) => (o.ports[0]!['protocol'] = 'QUIC'), 'ports[0].protocol: Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"'],
  ['duplicate port name', (o) => o.ports.push({ name: 'http', port: 8081 }), 'ports[1].name: Duplicate value: "http"'],
  ['bad port name', (o) => (o.ports[0]!['name'] = 'Http'), `ports[0].name: Invalid value: "Http": ${DNS1123_LABEL}`],
  ['bad slice name', (o) => (o.metadata['name'] = 'web_1'), `metadata.name: Invalid value: "web_1": ${DNS1123_SUBDOMAIN}`],
  [
    'v1beta1 slice',
    (o) => (o['apiVersion'] = 'discovery.k8s.io/v1beta1'),
    'apiVersion: Unsupported value: "discovery.k8s.io/v1beta1": supported values: "discovery.k8s.io/v1"',
  ],
  [
    'too many endpoints',
    (o) => (o['endpoints'] = Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.1.${i >> 8}.${(i & 255) + 1 > 255 ? 1 : (i & 255) + 1}`] }))),
    'endpoints: Too many: 1001: must have at most 1000 items',
  ],
];

/** A cluster holding one valid Service and slice, already synced. */
function seeded(): Cluster {
  const c = new Cluster();
  c.applyText(stringify({ apiVersion: 'v1', kind: 'List', items: [svc(), slice()] }));
  c.checkoutChanges();
  return c;
}

function expectRefused(text: string, field: string, message: string, object: string): void {
  const c = seeded();
  const services = [...c.services.entries()];
  const slices = [...c.endpointSlices.entries()];
  let err: unknown;
  try {
    c.applyText(text);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KubeValidationError);
  expect(err).toBeInstanceOf(InvalidArgumentError);
  const ve = err as KubeValidationError;
  expect(ve.object).toBe(object);
  expect(ve.field).toBe(field);
  expect(ve.causes[0]!.message).toBe(message);
  expect(ve.message.startsWith(`lbsim/kube.parseKubeObjects: ${object} is invalid (line `)).toBe(true);
  expect(ve.message).toContain(message);
  // nothing applied: the good object before it in the same List did not land either
  expect([...c.services.entries()]).toEqual(services);
  expect([...c.endpointSlices.entries()]).toEqual(slices);
  expect(c.hasPendingChanges()).toBe(false);
}

const other = (): Json => {
  const o = svc();
  (o['metadata'] as Json)['name'] = 'other';
  (o['spec'] as Json)['clusterIP'] = '10.96.0.99';
  return o;
};

describe('Service validation', () => {
  for (const [name, mutate, message] of SERVICE_CASES) {
    it(name, () => {
      const o = svc() as Parameters<Mut>[0];
      mutate(o);
      const field = message.slice(0, message.indexOf(': '));
      expect(() => serviceFromObject(o)).toThrow(KubeValidationError);
      const md = o.metadata;
      const id = `Service ${typeof md['namespace'] === 'string' ? md['namespace'] : 'default'}/${typeof md['name'] === 'string' ? md['name'] : '?'}`;
      expectRefused(stringify({ apiVersion: 'v1', kind: 'List', items: [other(), o] }), field, message, id);
    });
  }

  it('lists every failure, in the API server order', () => {
    const o = svc() as Parameters<Mut>[0];
    ports({ name: 'A', port: 0, protocol: 'ICMP' })(o);
    o.spec['sessionAffinity'] = 'Sticky';
    try {
      serviceFromObject(o);
      expect.unreachable();
    } catch (e) {
      const ve = e as KubeValidationError;
      expect(ve.causes.map((c) => c.field)).toEqual(['spec.ports[0].name', 'spec.ports[0].port', 'spec.ports[0].protocol', 'spec.sessionAffinity']);
      expect(ve.causes.map((c) => c.type)).toEqual(['FieldValueInvalid', 'FieldValueInvalid', 'FieldValueNotSupported', 'FieldValueNotSupported']);
      expect(ve.message).toBe(
        `lbsim/kube.serviceFromObject: Service shop/web is invalid: ${ve.causes.map((c) => c.message).join('; ')}`,
      );
    }
  });

  it('accepts what kube-proxy tolerates: padded source ranges, missing nodePort and health check port', () => {
    const o = svc() as Parameters<Mut>[0];
    lb({ externalTrafficPolicy: 'Local', loadBalancerSourceRanges: [' 203.0.113.0/25 '], ports: [{ port: 80 }] })(o);
    const s = serviceFromObject(o);
    expect(s).toMatchObject({ healthCheckNodePort: 0, externalTrafficPolicy: 'Local' });
    expect(s.ports[0]!.nodePort).toBe(0);
    expect(s.loadBalancerSourceRanges).toHaveLength(1);
  });
});

describe('EndpointSlice validation', () => {
  for (const [name, mutate, message] of SLICE_CASES) {
    it(name, () => {
      const o = slice() as Parameters<(typeof SLICE_CASES)[number][1]>[0];
      mutate(o);
      const field = message.slice(0, message.indexOf(': '));
      expectRefused(stringify({ apiVersion: 'v1', kind: 'List', items: [other(), o] }), field, message, `EndpointSlice shop/${String(o.metadata['name'])}`);
    });
  }
});

describe('Node validation', () => {
  const node = (): Json => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    spec: { podCIDR: '10.244.0.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.49.2' }] },
  });
  it('refuses a bad address and a bad pod CIDR', () => {
    const a = node();
    (a['status'] as { addresses: Json[] }).addresses[0]!['address'] = '300.1.1.1';
    expect(() => nodeFromObject(a)).toThrow('status.addresses[0].address: Invalid value: "300.1.1.1": must be a valid IP address');
    const b = node();
    (b['spec'] as Json)['podCIDR'] = '10.244.0.0/40';
    expect(() => nodeFromObject(b)).toThrow('spec.podCIDR: Invalid value: "10.244.0.0/40": must be a valid CIDR');
    const c = node();
    (c['metadata'] as Json)['name'] = 'Node_A';
    expect(() => nodeFromObject(c)).toThrow(`metadata.name: Invalid value: "Node_A": ${DNS1123_SUBDOMAIN}`);
  });
});

describe('KubeProxyConfiguration', () => {
  const cfg = (extra: Json): Json => ({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', ...extra });
  const CASES: [Json, string][] = [
    [{ iptables: { masqueradeBit: 32 } }, 'iptables.masqueradeBit: Invalid value: 32: must be within the range [0, 31]'],
    [{ iptables: { masqueradeBit: -1 } }, 'iptables.masqueradeBit: Invalid value: -1: must be within the range [0, 31]'],
    [{ iptables: { syncPeriod: 'soon' } }, 'iptables.syncPeriod: Invalid value: "soon": must be a duration (e.g. 30s, 1m0s)'],
    [{ iptables: { syncPeriod: '30s', minSyncPeriod: '1m' } }, 'iptables.syncPeriod: Invalid value: 60: must be greater than or equal to iptables.minSyncPeriod'],
    [{ iptables: { minSyncPeriod: '-1s' } }, 'iptables.minSyncPeriod: Invalid value: -1: must be greater than or equal to 0'],
    [{ mode: 'userspace' }, 'mode: Invalid value: "userspace": must be iptables,ipvs,nftables or blank (blank means the best-available proxy [currently iptables])'],
    [{ ipvs: { scheduler: 'maglev' } }, 'ipvs.scheduler: Invalid value: "maglev": must be in [rr wrr lc wlc lblc lblcr sh dh sed nq ], blank means the default algorithm method (currently rr)'],
    [{ ipvs: { tcpTimeout: '-5s' } }, 'ipvs.tcpTimeout: Invalid value: -5: must be greater than or equal to 0'],
    [{ mode: 'ipvs', ipvs: { syncPeriod: '10s', minSyncPeriod: '20s' } }, 'ipvs.syncPeriod: Invalid value: 20: must be greater than or equal to ipvs.minSyncPeriod'],
    [{ detectLocalMode: 'PodCIDR' }, 'detectLocalMode: Unsupported value: "PodCIDR": supported values: "ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"'],
    [{ detectLocalMode: 'BridgeInterface' }, 'detectLocal.bridgeInterface: Required value'],
    [{ detectLocalMode: 'InterfaceNamePrefix', detectLocal: {} }, 'detectLocal.interfaceNamePrefix: Required value'],
    [{ clusterCIDR: '10.0.0.0/99' }, 'clusterCIDR: Invalid value: "10.0.0.0/99": must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)'],
    [{ clusterCIDR: '10.0.0.0/8,10.1.0.0/16' }, 'clusterCIDR: Invalid value: "10.0.0.0/8,10.1.0.0/16": only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)'],
    [{ nodePortAddresses: ['bogus'] }, 'nodePortAddresses[0]: Invalid value: "bogus": must be a valid CIDR'],
    [{ conntrack: { tcpBeLiberal: 'yes' } }, 'conntrack.tcpBeLiberal: Invalid value: "yes": must be a boolean'],
    [{ apiVersion: 'kubeproxy.config.k8s.io/v1alpha2' }, 'apiVersion: Unsupported value: "kubeproxy.config.k8s.io/v1alpha2": supported values: "kubeproxy.config.k8s.io/v1alpha1"'],
  ];
  for (const [extra, message] of CASES) {
    it(`refuses ${JSON.stringify(extra)}`, () => {
      try {
        kubeProxyConfigurationFromObject(cfg(extra));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KubeValidationError);
        const ve = e as KubeValidationError;
        expect(ve.object).toBe('KubeProxyConfiguration');
        expect(ve.causes[0]!.message).toBe(message);
        expect(ve.field).toBe(message.slice(0, message.indexOf(': ')));
      }
    });
  }

  it('applies kube-proxy defaults to an empty configuration', () => {
    expect(kubeProxyConfigurationFromObject(cfg({}))).toEqual(defaultKubeProxyConfiguration());
    const d = defaultKubeProxyConfiguration();
    expect(d.iptables).toEqual({ masqueradeAll: false, masqueradeBit: 14, syncPeriodSeconds: 30, minSyncPeriodSeconds: 1, localhostNodePorts: true });
    expect(d.ipvs.syncPeriodSeconds).toBe(30);
    expect(d.mode).toBe('iptables');
  });

  it('reads every modelled field', () => {
    const c = kubeProxyConfigurationFromObject(
      cfg({
        mode: 'iptables',
        clusterCIDR: '10.244.0.0/16',
        iptables: { masqueradeAll: true, masqueradeBit: 0, syncPeriod: '2m30s', minSyncPeriod: '0s', localhostNodePorts: false },
        ipvs: { scheduler: 'wlc', syncPeriod: '1m', minSyncPeriod: '2s', strictARP: true, tcpTimeout: '900s', tcpFinTimeout: '120s', udpTimeout: '300s' },
        detectLocalMode: 'InterfaceNamePrefix',
        detectLocal: { interfaceNamePrefix: 'veth' },
        nodePortAddresses: ['192.168.49.0/24', 'primary', 'fd00::/64'],
        conntrack: { tcpBeLiberal: true },
      }),
    );
    expect(c.iptables).toEqual({ masqueradeAll: true, masqueradeBit: 0, syncPeriodSeconds: 150, minSyncPeriodSeconds: 1, localhostNodePorts: false });
    expect(c.ipvs).toMatchObject({ scheduler: 'wlc', syncPeriodSeconds: 60, minSyncPeriodSeconds: 2, strictARP: true, tcpTimeoutSeconds: 900, tcpFinTimeoutSeconds: 120, udpTimeoutSeconds: 300 });
    expect(c.detectLocalMode).toBe('InterfaceNamePrefix');
    expect(c.nodePortAddresses.map((a) => a.kind)).toEqual(['cidr', 'primary']);
    expect(c.conntrackTCPBeLiberal).toBe(true);
  });
});

describe('parseGoDuration', () => {
  it('reads Go time.Duration strings', () => {
    expect(parseGoDuration('30s')).toBe(30);
    expect(parseGoDuration('1m0s')).toBe(60);
    expect(parseGoDuration('1h30m')).toBe(5400);
    expect(parseGoDuration('250ms')).toBe(0.25);
    expect(parseGoDuration('1.5h')).toBe(5400);
    expect(parseGoDuration('-2s')).toBe(-2);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10us')).toBeCloseTo(1e-5, 12);
  });
  it('refuses what Go refuses', () => {
    for (const bad of ['', '30', 's', '1x', '1.2.3s', ' 1s', '1s ']) expect(parseGoDuration(bad), bad).toBeNull();
  });
});
