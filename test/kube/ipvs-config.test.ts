// The KubeProxyConfiguration fields IPVS mode reads, each checked for its effect (pkg/proxy/ipvs/proxier.go):
// - ipvs.tcpTimeout/tcpFinTimeout/udpTimeout: NewProxier calls ConfigureTimeouts when any is non-zero, i.e.
//   `ipvsadm --set tcp tcpfin udp`, where 0 leaves that timeout as it is (ip_vs_set_timeout). The kernel
//   defaults are 900 s / 120 s / 300 s (ip_vs_proto_tcp.c, ip_vs_proto_udp.c).
// - ipvs.excludeCIDRs: cleanLegacyService skips virtual servers whose address is inside one of them, so
//   another tool's virtual servers survive; any other virtual server kube-proxy did not create is deleted.
// - iptables.masqueradeAll: KUBE-SERVICES masquerades everything to KUBE-CLUSTER-IP (no source test), so even
//   pod traffic to a ClusterIP goes through KUBE-MARK-MASQ.
// - ipvs.scheduler: every virtual server gets it.
// - GracefulDeleteRS: SCTP, like UDP, is deleted at once even with connections (IsRsGracefulTerminationNeeded
//   is true for TCP only).
import { describe, expect, it } from 'vitest';
import { Protocol } from '../../src/net/protocol.js';
import { formatIPv4, parseCidr, parseIPv4 } from '../../src/net/ipv4.js';
import { defaultKubeProxyConfiguration } from '../../src/kube/objects.js';
import { endpointSliceFromObject } from '../../src/kube/validate.js';
import { clusterOf, ep, fakeProxierConfig, port, sliceManifest, svcManifest } from './helpers.js';
import { POD_CLIENT, sample, testNode } from './proxier-helpers.js';

const web = () =>
  clusterOf(
    [svcManifest('ns1', 'web', { clusterIP: '172.30.0.10', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] })],
    [sliceManifest('ns1', 'web', 1, [ep('10.180.0.1'), ep('10.180.0.2')], [port('p80', 8080)])],
  );

const ipvsConfig = (over: Partial<ReturnType<typeof defaultKubeProxyConfiguration>['ipvs']>) => {
  const base = fakeProxierConfig();
  return { ...base, ipvs: { ...base.ipvs, ...over } };
};

describe('IPVS mode configuration', () => {
  it('leaves the kernel timeouts alone by default and sets the non-zero ones', () => {
    const plain = testNode('ipvs', web());
    expect(plain.ipvs!.getTimeouts()).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    const tuned = testNode('ipvs', web(), ipvsConfig({ tcpTimeoutSeconds: 600, tcpFinTimeoutSeconds: 0, udpTimeoutSeconds: 30 }));
    expect(tuned.ipvs!.getTimeouts()).toEqual({ tcp: 600, tcpfin: 120, udp: 30 });
  });

  it('deletes virtual servers it does not own, except those inside excludeCIDRs', () => {
    const make = (excludeCIDRs: string[]) => {
      const node = testNode('ipvs', web(), ipvsConfig({ excludeCIDRs: excludeCIDRs.map((c) => parseCidr(c)) }));
      // another tool's virtual servers, there before kube-proxy starts
      node.ipvs!.addService({ proto: Protocol.TCP, addr: parseIPv4('10.99.0.1'), port: 80 }, { scheduler: 'wlc' });
      node.ipvs!.addService({ proto: Protocol.TCP, addr: parseIPv4('10.98.0.1'), port: 80 }, { scheduler: 'wlc' });
      node.proxier.start();
      return [...node.ipvs!.services()].map((s) => `${formatIPv4(s.addr)}:${s.port}`).sort();
    };
    expect(make([])).toEqual(['172.30.0.10:80']);
    expect(make(['10.99.0.0/16'])).toEqual(['10.99.0.1:80', '172.30.0.10:80']);
  });

  it('masqueradeAll: pod traffic to a ClusterIP is masqueraded too', () => {
    const pod = { origin: 'pod' as const, src: POD_CLIENT, dst: '172.30.0.10', dport: 80 };
    const normal = testNode('ipvs', web());
    normal.proxier.start();
    expect([...sample(normal, pod, 20).masq]).toEqual([false]);
    const base = fakeProxierConfig();
    const all = testNode('ipvs', web(), { ...base, iptables: { ...base.iptables, masqueradeAll: true } });
    all.proxier.start();
    const got = sample(all, pod, 20);
    expect([...got.masq]).toEqual([true]);
    expect([...got.backends.keys()].sort()).toEqual(['10.180.0.1:8080', '10.180.0.2:8080']);
  });

  it('programs the configured scheduler on every virtual server', () => {
    const node = testNode('ipvs', web(), ipvsConfig({ scheduler: 'lc' }));
    node.proxier.start();
    const names = [...node.ipvs!.services()].map((s) => s.scheduler.name);
    expect(names).toEqual(['lc']);
  });

  it('deletes an SCTP real server at once, connections or not', () => {
    const sctp = clusterOf(
      [svcManifest('ns1', 'sig', { clusterIP: '172.30.0.20', ports: [{ name: 's', port: 3868, protocol: 'SCTP' }] })],
      [sliceManifest('ns1', 'sig', 1, [ep('10.180.0.5'), ep('10.180.0.6')], [port('s', 3868, 'SCTP')])],
    );
    const node = testNode('ipvs', sctp);
    node.proxier.start();
    const key = { proto: Protocol.SCTP, addr: parseIPv4('172.30.0.20'), port: 3868 };
    // give both real servers a connection
    const r = sample(node, { origin: 'pod', dst: '172.30.0.20', dport: 3868, proto: Protocol.SCTP }, 20);
    expect(r.backends.size).toBe(2);
    expect(node.ipvs!.getService(key)!.dests.every((d) => d.activeConns + d.inactConns > 0)).toBe(true);
    node.proxier.advance(2000);
    node.proxier.applyEndpointSlice(endpointSliceFromObject(sliceManifest('ns1', 'sig', 1, [ep('10.180.0.5')], [port('s', 3868, 'SCTP')])));
    node.proxier.advance(2000);
    expect(node.ipvs!.getService(key)!.dests.map((d) => d.addr)).toEqual([parseIPv4('10.180.0.5')]);
    expect(node.proxier.ipvsMode!.terminating).toEqual([]);
  });
});
