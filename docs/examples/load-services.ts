// Feed lbsim the objects your cluster already has — the output of
// `kubectl get svc,endpointslices -A -o yaml` — and let kube-proxy program
// both engines; then change one endpoint and see what the partial sync writes.
// Run: npx tsx docs/examples/load-services.ts
import { Cluster, defaultKubeProxyConfiguration, Ipvs, KubeProxier, Netfilter, parseCidr, SimClock } from 'lbsim';
import type { SyncReport } from 'lbsim';

// In real use: readFileSync('cluster.yaml', 'utf8'). A kubectl List works the same way.
const objects = `
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
  spec:
    type: NodePort
    clusterIP: 10.96.0.10
    ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: node-a}
  - {addresses: [10.244.2.7], conditions: {ready: true}, nodeName: node-b}
  - {addresses: [10.244.3.9], conditions: {ready: false, serving: true, terminating: true}, nodeName: node-b}
- apiVersion: v1
  kind: Service
  metadata: {name: dns, namespace: kube-system}
  spec:
    clusterIP: 10.96.0.53
    ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: dns-1, namespace: kube-system, labels: {kubernetes.io/service-name: dns}}
  addressType: IPv4
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.2], conditions: {ready: true}, nodeName: node-a}
- apiVersion: v1
  kind: Node
  metadata: {name: node-a}
  spec: {podCIDR: 10.244.1.0/24}
  status: {addresses: [{type: InternalIP, address: 192.168.0.10}]}
`;

function summary(r: SyncReport): string {
  const ipvs = r.ipvs === null ? '' : ` ipvs-writes=${r.ipvs.operations.writes} virtual-servers=${r.ipvs.virtualServers}`;
  return `${r.kind} ok=${r.success} nat-rules=${r.rulesWritten.nat} filter-rules=${r.rulesWritten.filter}${ipvs}`;
}

for (const mode of ['iptables', 'ipvs'] as const) {
  const cluster = new Cluster();
  const { nodes } = cluster.applyText(objects); // all or nothing: a bad object throws and changes nothing
  const clock = new SimClock();
  const netfilter = new Netfilter({ clock, seed: 1, host: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.10/24'] }] } });
  const config = { ...defaultKubeProxyConfiguration(), mode, clusterCIDR: parseCidr('10.244.0.0/16') };
  const proxier = new KubeProxier({ cluster, node: nodes[0]!, config, netfilter, ...(mode === 'ipvs' ? { ipvs: new Ipvs({ clock, seed: 2 }) } : {}) });

  console.log(mode, 'start  ', summary(proxier.start()));

  // A rolling update replaces one pod: one slice changes, one partial sync follows.
  proxier.advance(5_000);
  proxier.applyText(objects.replace('10.244.2.7', '10.244.2.8'));
  proxier.advance(5_000);
  console.log(mode, 'change ', summary(proxier.lastReport!));
}

// Why these numbers (kube-proxy's rules, not lbsim's say-so):
// iptables nat, full: KUBE-SERVICES 3 service rules + the NodePort tail; KUBE-NODEPORTS the 30080 rule and
//   its localhost nfacct copy; KUBE-POSTROUTING 3 + KUBE-MARK-MASQ 1; web: KUBE-SVC (masquerade + 2 jumps: the
//   terminating endpoint is skipped while ready ones exist), KUBE-EXT 2, two KUBE-SEP × 2; each DNS port:
//   KUBE-SVC 2 + one KUBE-SEP × 2. 4 + 2 + 4 + 9 + 8 = 27. filter: KUBE-FORWARD 3 + the localnet DROP = 4.
// partial: the top-level chains (4 + 2 + 4) and web's 9 rules; the DNS chains are not rewritten.
// IPVS: virtual servers for web's ClusterIP and node-IP:30080 and DNS's two ports; 4 adds + 2 + 2 + 1 + 1
//   real servers. The change, on both of web's virtual servers: the old pod has no connections, so graceful
//   termination deletes it at once (it would set weight 0 and wait while TCP connections remain), and the new
//   pod is added. IPVS mode rewrites its fixed iptables rules on every sync.

// Output:
// iptables start   full ok=true nat-rules=27 filter-rules=4
// iptables change  partial ok=true nat-rules=19 filter-rules=4
// ipvs start   full ok=true nat-rules=11 filter-rules=10 ipvs-writes=10 virtual-servers=4
// ipvs change  full ok=true nat-rules=11 filter-rules=10 ipvs-writes=4 virtual-servers=4
