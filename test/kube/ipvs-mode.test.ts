// IPVS mode (kubernetes/kubernetes pkg/proxy/ipvs/proxier.go, graceful_termination.go) on the cluster of
// upstream TestOverallIPTablesRules and on small clusters. Expectations derived from the Go code:
// - one virtual server per ClusterIP:port, externalIP:port, LB IP:port, and node address × NodePort; the node
//   addresses are every non-loopback local address outside kube-ipvs0: here eth0 192.168.0.2 and cni0 10.0.0.1.
//   Overall cluster: 6 ClusterIPs + 2 external IPs + 2 LB IPs + 3 NodePorts × 2 addresses = 16.
// - ClientIP affinity: FlagPersistent with the affinity timeout; scheduler rr unless configured; `mh` adds
//   FlagSourceHash (0x10, IP_VS_SVC_F_SCHED2).
// - syncService: GetVirtualServer; syncEndpoint: GetVirtualServer + GetRealServers, per virtual server; one
//   GetVirtualServers for the cleanup. With nothing changed a sync writes nothing.
// - GracefulDeleteRS: UDP/SCTP real servers are deleted at once; TCP ones are deleted when ActiveConn +
//   InactiveConn is 0, else get weight 0 and are re-checked every rsCheckDeleteInterval (1 minute).
import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { ForwardMethod, ServiceFlag } from '../../src/ipvs/flags.js';
import { KubeIpset, uniqueRealServerName } from '../../src/kube/ipvs-mode.js';
import { endpointSliceFromObject } from '../../src/kube/validate.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { clusterOf, ep, fakeProxierConfig, port, sliceManifest, svcManifest } from './helpers.js';
import { overallCluster } from './overall-fixture.js';
import { POD_CLIENT, testNode } from './proxier-helpers.js';
import type { TestNode } from './proxier-helpers.js';

function vsList(node: TestNode): string[] {
  const out: string[] = [];
  for (const s of node.ipvs!.services()) out.push(`${formatIPv4(s.addr)}:${s.port}`);
  return out.sort();
}

function dests(node: TestNode, vs: string): { ep: string; weight: number; fwd: number }[] {
  const [a, p] = vs.split(':') as [string, string];
  const svc = node.ipvs!.getService({ proto: Protocol.TCP, addr: parseIPv4(a), port: Number(p) });
  if (svc === undefined) throw new Error(`no VS ${vs}`);
  return svc.dests.map((d) => ({ ep: `${formatIPv4(d.addr)}:${d.port}`, weight: d.weight, fwd: d.fwd })).sort((x, y) => (x.ep < y.ep ? -1 : 1));
}

function members(node: TestNode, set: string): string[] {
  return node.netfilter.stateful.ipsets.save(set).split('\n').filter((l) => l.startsWith('add ')).map((l) => l.split(' ')[2]!).sort();
}

describe('IPVS mode: what gets programmed', () => {
  const node = testNode('ipvs', overallCluster());
  const first = node.proxier.start();

  it('creates one virtual server per frontend', () => {
    expect(vsList(node)).toEqual(
      [
        '172.30.0.41:80',
        '172.30.0.42:80',
        '172.30.0.43:80',
        '172.30.0.44:80',
        '172.30.0.45:80',
        '172.30.0.46:80',
        '192.168.99.22:80',
        '192.168.99.33:80',
        '1.2.3.4:80',
        '5.6.7.8:80',
        ...['192.168.0.2', '10.0.0.1'].flatMap((a) => [`${a}:3001`, `${a}:3002`, `${a}:3003`]),
      ].sort(),
    );
    expect(first.ipvs!.operations.addVirtualServer).toBe(16);
    expect(first.ipvs!.virtualServers).toBe(16);
  });

  it('uses rr, persistence for ClientIP affinity, and masquerading real servers of weight 1', () => {
    for (const s of node.ipvs!.services()) {
      expect(s.schedulerName).toBe('rr');
      const ns5 = ['172.30.0.45:80', '5.6.7.8:80', '192.168.0.2:3002', '10.0.0.1:3002'].includes(`${formatIPv4(s.addr)}:${s.port}`);
      expect(s.persistent).toBe(ns5);
      if (ns5) expect(s.timeoutMs).toBe(10_800_000);
      for (const d of s.dests) {
        expect(d.weight).toBe(1);
        expect(d.fwd).toBe(ForwardMethod.MASQ);
      }
    }
    expect(dests(node, '172.30.0.44:80').map((d) => d.ep)).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    // no endpoints: the virtual server exists without real servers (clients get ICMP port unreachable)
    expect(dests(node, '172.30.0.46:80')).toEqual([]);
  });

  it('falls back to cluster endpoints when a Local policy has none on this node (kubernetes#97081)', () => {
    // ns2: externalTrafficPolicy Local, its only endpoint is on another node
    expect(dests(node, '1.2.3.4:80').map((d) => d.ep)).toEqual(['10.180.0.2:80']);
    expect(dests(node, '192.168.0.2:3001').map((d) => d.ep)).toEqual(['10.180.0.2:80']);
    expect(first.noLocalEndpoints).toEqual({ internal: 0, external: 1 });
  });

  it('binds ClusterIPs, external IPs and LB IPs to kube-ipvs0, making them local', () => {
    const bound = [...node.proxier.ipvsMode!.boundAddresses].map(formatIPv4).sort();
    expect(bound).toEqual(['1.2.3.4', '172.30.0.41', '172.30.0.42', '172.30.0.43', '172.30.0.44', '172.30.0.45', '172.30.0.46', '192.168.99.22', '192.168.99.33', '5.6.7.8']);
    for (const a of bound) expect(node.netfilter.host.isLocal(parseIPv4(a))).toBe(true);
    expect(members(node, KubeIpset.IPVS_IPS)).toEqual(bound);
  });

  it('fills the ipsets', () => {
    expect(members(node, KubeIpset.CLUSTER_IP)).toHaveLength(6);
    expect(members(node, KubeIpset.LOOP_BACK)).toEqual(['10.180.0.5,tcp:80,10.180.0.5']); // ns4's local endpoint
    expect(members(node, KubeIpset.EXTERNAL_IP)).toEqual(['192.168.99.33,tcp:80']);
    expect(members(node, KubeIpset.EXTERNAL_IP_LOCAL)).toEqual(['192.168.99.22,tcp:80']);
    expect(members(node, KubeIpset.LOAD_BALANCER)).toEqual(['1.2.3.4,tcp:80', '5.6.7.8,tcp:80']);
    expect(members(node, KubeIpset.LOAD_BALANCER_LOCAL)).toEqual(['1.2.3.4,tcp:80']);
    expect(members(node, KubeIpset.LOAD_BALANCER_FW)).toEqual(['5.6.7.8,tcp:80']);
    expect(members(node, KubeIpset.LOAD_BALANCER_SOURCE_CIDR)).toEqual(['5.6.7.8,tcp:80,203.0.113.0/25']);
    expect(members(node, KubeIpset.LOAD_BALANCER_SOURCE_IP)).toEqual([]); // the node IP is not in the source range
    expect(members(node, KubeIpset.NODE_PORT_TCP)).toEqual(['3001', '3002', '3003']);
    expect(members(node, KubeIpset.NODE_PORT_LOCAL_TCP)).toEqual(['3001']);
    expect(members(node, KubeIpset.HEALTH_CHECK_NODE_PORT)).toEqual(['30000']);
  });

  it('installs the fixed iptables rules and the jumps to them', () => {
    const rs = node.netfilter.ruleset;
    const jumps = (t: 'nat' | 'filter', c: string) => rs.chain(t, c)!.rules.map((r) => (r.spec.target?.kind === 'jump' ? r.spec.target.chain : '?'));
    expect(jumps('nat', 'PREROUTING')).toEqual(['KUBE-SERVICES']);
    expect(jumps('nat', 'POSTROUTING')).toEqual(['KUBE-POSTROUTING']);
    // prepended in order NODE-PORT, PROXY-FIREWALL, IPVS-FILTER
    expect(jumps('filter', 'INPUT')).toEqual(['KUBE-IPVS-FILTER', 'KUBE-PROXY-FIREWALL', 'KUBE-NODE-PORT']);
    const svcRules = rs.chain('nat', 'KUBE-SERVICES')!.rules;
    expect(svcRules[0]!.spec.src).toEqual({ addr: parseIPv4('127.0.0.0'), mask: 0xff000000, invert: false });
    // the last rules accept IPVS traffic: KUBE-CLUSTER-IP then KUBE-LOAD-BALANCER
    const last2 = svcRules.slice(-2).map((r) => (r.spec.matches[0]?.module === 'set' ? r.spec.matches[0].setName : '?'));
    expect(last2).toEqual([KubeIpset.CLUSTER_IP, KubeIpset.LOAD_BALANCER]);
    // writeIptablesRules for this cluster. nat: KUBE-SERVICES 11 (127/8 RETURN, → KUBE-LOAD-BALANCER,
    // KUBE-CLUSTER-IP masquerade, KUBE-EXTERNAL-IP masquerade + 2 ACCEPT, KUBE-EXTERNAL-IP-LOCAL 2 ACCEPT,
    // dst-type LOCAL → KUBE-NODE-PORT, 2 final ACCEPT), KUBE-POSTROUTING 4 (KUBE-LOOP-BACK MASQUERADE + 3),
    // KUBE-LOAD-BALANCER 2, KUBE-NODE-PORT 2, KUBE-MARK-MASQ 1 = 20. filter: KUBE-PROXY-FIREWALL 1,
    // KUBE-SOURCE-RANGES-FIREWALL 2, KUBE-IPVS-OUT-FILTER 1, KUBE-FORWARD 2, KUBE-NODE-PORT 1, KUBE-IPVS-FILTER 6 = 13
    expect(first.ruleCounts).toEqual({ filter: 13, nat: 20 });
  });

  it('re-reads everything and writes nothing when nothing changed', () => {
    const r = node.proxier.syncNow();
    const o = r.ipvs!.operations;
    expect(o.writes).toBe(0);
    expect(o.getVirtualServer).toBe(2 * 16);
    expect(o.getRealServers).toBe(16);
    expect(o.getVirtualServers).toBe(1);
    expect(o.reads).toBe(49);
    expect(r.ipvs!.ipset).toEqual({ create: 17, list: 17, add: 0, del: 0, failed: 0 });
  });
});

function webCluster(protocol = 'TCP') {
  return clusterOf(
    [svcManifest('ns1', 'web', { clusterIP: '172.30.0.10', ports: [{ name: 'p80', port: 80, protocol }] })],
    [sliceManifest('ns1', 'web', 1, [ep('10.180.0.1'), ep('10.180.0.2'), ep('10.180.0.3')], [port('p80', 8080, protocol)])],
  );
}

const webSlice = (ips: readonly string[], protocol = 'TCP') =>
  endpointSliceFromObject(sliceManifest('ns1', 'web', 1, ips.map((ip) => ep(ip)), [port('p80', 8080, protocol)]));

describe('IPVS mode: diffs', () => {
  it('adds one endpoint with exactly one operation', () => {
    const node = testNode('ipvs', webCluster());
    node.proxier.start();
    node.proxier.applyEndpointSlice(webSlice(['10.180.0.1', '10.180.0.2', '10.180.0.3', '10.180.0.4']));
    const o = node.proxier.lastReport!.ipvs!.operations;
    expect(o.writes).toBe(1);
    expect(o.addRealServer).toBe(1);
  });

  it('removes one idle endpoint with exactly one operation', () => {
    const node = testNode('ipvs', webCluster());
    node.proxier.start();
    node.proxier.applyEndpointSlice(webSlice(['10.180.0.1', '10.180.0.2']));
    const o = node.proxier.lastReport!.ipvs!.operations;
    expect(o.writes).toBe(1);
    expect(o.deleteRealServer).toBe(1);
    expect(dests(node, '172.30.0.10:80').map((d) => d.ep)).toEqual(['10.180.0.1:8080', '10.180.0.2:8080']);
  });

  it('deletes the virtual servers and unbinds the address of a deleted Service', () => {
    const node = testNode('ipvs', webCluster());
    node.proxier.start();
    expect(node.netfilter.host.isLocal(parseIPv4('172.30.0.10'))).toBe(true);
    node.proxier.deleteService('ns1', 'web');
    const r = node.proxier.lastReport!;
    expect(r.ipvs!.operations.deleteVirtualServer).toBe(1);
    expect(r.ipvs!.addressesUnbound).toBe(1);
    expect(node.ipvs!.serviceCount).toBe(0);
    expect(node.netfilter.host.isLocal(parseIPv4('172.30.0.10'))).toBe(false);
  });

  it('uses the configured scheduler, and the source-hash flag with mh', () => {
    const base = fakeProxierConfig();
    const node = testNode('ipvs', webCluster(), { ...base, ipvs: { ...base.ipvs, scheduler: 'mh' } });
    node.proxier.start();
    const s = [...node.ipvs!.services()][0]!;
    expect(s.schedulerName).toBe('mh');
    expect(s.flags & ServiceFlag.SCHED2).toBe(ServiceFlag.SCHED2);
  });

  it('counts a failed iptables restore and skips the cleanup of that sync', async () => {
    let fail = false;
    const node = testNode('ipvs', webCluster(), fakeProxierConfig(), {
      restore: (rs, doc, o) => {
        if (fail) throw new Error('iptables-restore failed');
        rs.restore(doc, o);
      },
    });
    node.proxier.start();
    fail = true;
    node.proxier.deleteService('ns1', 'web');
    expect(node.proxier.lastReport).toMatchObject({ success: false, restoreFailed: true });
    expect(node.ipvs!.serviceCount).toBe(1); // cleanLegacyService runs only after a successful restore
    expect(await node.proxier.metricsText()).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1');
    fail = false;
    node.proxier.advance(30_000); // the periodic sync (syncPeriod 30 s)
    expect(node.proxier.lastReport).toMatchObject({ success: true, trigger: 'timer', time: 30_000 });
    expect(node.ipvs!.serviceCount).toBe(0);
  });
});

/** A TCP connection from a pod to the ClusterIP that reaches ESTABLISHED (SYN, SYN-ACK from the backend, ACK). */
function openConnection(node: TestNode, sport: number): string {
  const ipvs = node.ipvs!;
  const d = new Decision();
  const syn = new Packet(Protocol.TCP, parseIPv4(POD_CLIENT), sport, parseIPv4('172.30.0.10'), 80, TcpFlag.SYN);
  ipvs.classify(syn, d);
  const backendAddr = d.backendAddr;
  const backendPort = d.backendPort;
  ipvs.classify(new Packet(Protocol.TCP, backendAddr, backendPort, parseIPv4(POD_CLIENT), sport, TcpFlag.SYN | TcpFlag.ACK), d);
  ipvs.classify(new Packet(Protocol.TCP, parseIPv4(POD_CLIENT), sport, parseIPv4('172.30.0.10'), 80, TcpFlag.ACK), d);
  return `${formatIPv4(backendAddr)}:${backendPort}`;
}

describe('IPVS mode: graceful termination', () => {
  it('drains a TCP real server: weight 0, deleted at the first 1-minute check after its connections are gone', () => {
    // Timeline (proxier started at t=0, so checks run at 0, 60 s, 120 s, ...):
    //   t=0      connections opened; the rr order sends the first one to some endpoint B
    //   t=10 s   B removed from the EndpointSlice: it has an active connection → weight 0, on the list
    //   t=60 s   check: still ESTABLISHED (timeout 900 s) → stays
    //   t=70 s   the client resets the connection: state CLOSE, timeout 10 s (ip_vs_proto_tcp.c tcp_timeouts)
    //   t=80 s   the connection entry expires: ActiveConn + InactiveConn = 0
    //   t=120 s  check: deleted
    const node = testNode('ipvs', webCluster());
    node.proxier.start();
    const b = openConnection(node, 40000);
    const dest = node.ipvs!.getService({ proto: Protocol.TCP, addr: parseIPv4('172.30.0.10'), port: 80 })!.dests.find((d) => `${formatIPv4(d.addr)}:${d.port}` === b)!;
    expect(dest.activeConns).toBe(1);
    node.proxier.advance(10_000);
    node.proxier.applyEndpointSlice(webSlice(['10.180.0.1', '10.180.0.2', '10.180.0.3'].filter((ip) => `${ip}:8080` !== b)));
    const r = node.proxier.lastReport!;
    expect(r.ipvs!.operations).toMatchObject({ updateRealServer: 1, deleteRealServer: 0, writes: 1 });
    expect(dests(node, '172.30.0.10:80').find((d) => d.ep === b)!.weight).toBe(0);
    const name = uniqueRealServerName({ addr: parseIPv4('172.30.0.10'), port: 80, protocol: 'TCP', scheduler: 'rr', flags: 0, timeout: 0 }, dest.addr, dest.port);
    expect(node.proxier.ipvsMode!.terminating.map((t) => t.name)).toEqual([name]);
    // new connections avoid the weight-0 server
    for (let i = 0; i < 20; i++) expect(openConnection(node, 41000 + i)).not.toBe(b);
    node.proxier.advance(60_000); // t=70 s
    expect(node.proxier.gracefulChecks).toEqual([{ time: 60_000, checked: 1, deleted: [] }]);
    node.ipvs!.classify(new Packet(Protocol.TCP, parseIPv4(POD_CLIENT), 40000, parseIPv4('172.30.0.10'), 80, TcpFlag.RST), new Decision());
    node.proxier.advance(49_999); // t=119.999 s: expired at 80 s, not checked yet
    expect(dests(node, '172.30.0.10:80').some((d) => d.ep === b)).toBe(true);
    node.proxier.advance(1);
    expect(node.proxier.gracefulChecks.at(-1)).toEqual({ time: 120_000, checked: 1, deleted: [name] });
    expect(dests(node, '172.30.0.10:80').some((d) => d.ep === b)).toBe(false);
    expect(node.proxier.ipvsMode!.terminating).toEqual([]);
  });

  it('deletes UDP real servers at once, connections or not', () => {
    const node = testNode('ipvs', webCluster('UDP'));
    node.proxier.start();
    const d = new Decision();
    node.ipvs!.classify(new Packet(Protocol.UDP, parseIPv4(POD_CLIENT), 5353, parseIPv4('172.30.0.10'), 80), d);
    const b = `${formatIPv4(d.backendAddr)}:${d.backendPort}`;
    node.proxier.applyEndpointSlice(webSlice(['10.180.0.1', '10.180.0.2', '10.180.0.3'].filter((ip) => `${ip}:8080` !== b), 'UDP'));
    const o = node.proxier.lastReport!.ipvs!.operations;
    expect(o).toMatchObject({ deleteRealServer: 1, updateRealServer: 0 });
    expect(node.proxier.ipvsMode!.terminating).toEqual([]);
  });

  it('takes an endpoint that comes back off the list: delete, then add with weight 1', () => {
    const node = testNode('ipvs', webCluster());
    node.proxier.start();
    const b = openConnection(node, 40000);
    const others = ['10.180.0.1', '10.180.0.2', '10.180.0.3'].filter((ip) => `${ip}:8080` !== b);
    node.proxier.applyEndpointSlice(webSlice(others));
    expect(node.proxier.ipvsMode!.terminating).toHaveLength(1);
    node.proxier.advance(5000);
    node.proxier.applyEndpointSlice(webSlice(['10.180.0.1', '10.180.0.2', '10.180.0.3']));
    const o = node.proxier.lastReport!.ipvs!.operations;
    expect(o).toMatchObject({ deleteRealServer: 1, addRealServer: 1, writes: 2 });
    expect(dests(node, '172.30.0.10:80').find((d) => d.ep === b)!.weight).toBe(1);
    expect(node.proxier.ipvsMode!.terminating).toEqual([]);
  });

  it('puts leftover real servers of a previous kube-proxy through graceful deletion at startup', () => {
    const node = testNode('ipvs', webCluster());
    const ipvs = node.ipvs!;
    const key = { proto: Protocol.TCP, addr: parseIPv4('172.30.0.10'), port: 80 };
    ipvs.addService(key, { scheduler: 'rr' });
    ipvs.addDest(key, parseIPv4('10.180.0.9'), 8080, { fwd: ForwardMethod.MASQ });
    const r = node.proxier.start();
    // the stale leftover had no connections: deleted at startup; the sync adds the three endpoints
    expect(dests(node, '172.30.0.10:80').map((d) => d.ep)).toEqual(['10.180.0.1:8080', '10.180.0.2:8080', '10.180.0.3:8080']);
    expect(r.ipvs!.operations.addVirtualServer).toBe(0);
    expect(r.ipvs!.operations.addRealServer).toBe(3);
  });
});
