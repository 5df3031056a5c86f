// kube-proxy's metrics (kubernetes/kubernetes pkg/proxy/metrics/metrics.go) as Prometheus text. Names, types,
// buckets and per-mode registration follow RegisterMetrics: iptables mode adds the full/partial histograms, the
// restore failure counters and the rule-count gauges; IPVS mode only the restore failure counter.
import { describe, expect, it } from 'vitest';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { NETWORK_PROGRAMMING_BUCKETS, ProxierMetrics, SYNC_DURATION_BUCKETS } from '../../src/kube/metrics.js';
import { endpointSliceFromObject } from '../../src/kube/validate.js';
import { ep, port, sliceManifest } from './helpers.js';
import { overallCluster } from './overall-fixture.js';
import { newConnection, testNode } from './proxier-helpers.js';

const svc1Slice = (ips: readonly string[]) => endpointSliceFromObject(sliceManifest('ns1', 'svc1', 1, ips.map((ip) => ep(ip)), [port('p80', 80)]));

describe('proxier metrics', () => {
  it('uses kube-proxy buckets', () => {
    // ExponentialBuckets(0.001, 2, 15)
    expect(SYNC_DURATION_BUCKETS).toHaveLength(15);
    expect(SYNC_DURATION_BUCKETS[0]).toBe(0.001);
    expect(SYNC_DURATION_BUCKETS[14]).toBeCloseTo(16.384, 12);
    // MergeBuckets starts with a 0 bucket, then 0.25, 0.5, 1..59, 60..115 by 5, 120..300 by 30
    expect(NETWORK_PROGRAMMING_BUCKETS).toHaveLength(1 + 2 + 59 + 12 + 7);
    expect(NETWORK_PROGRAMMING_BUCKETS.slice(0, 4)).toEqual([0, 0.25, 0.5, 1]);
    expect(NETWORK_PROGRAMMING_BUCKETS.slice(-3)).toEqual([240, 270, 300]);
  });

  it('exposes the iptables-mode series after syncs', async () => {
    const node = testNode('iptables', overallCluster());
    node.proxier.start();
    node.clock.advanceTo(5000);
    // the endpoint controller stamped the change at t=2 s; it is programmed at t=5 s (plus the modeled kernel time)
    node.proxier.applyEndpointSlice(svc1Slice(['10.180.0.1', '10.180.0.9']), 2000);
    const r = node.proxier.lastReport!;
    expect(r.kind).toBe('partial');
    const text = await node.proxier.metricsText();
    expect(text).toContain('# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram');
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count 2');
    expect(text).toContain('kubeproxy_sync_full_proxy_rules_duration_seconds_count 1');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1');
    // counts of the last (partial) sync: 55 + 3 nat rules in total, 27 written (see iptables-sync.test.ts)
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="nat"} 58');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="filter"} 10');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_last{table="nat"} 27');
    expect(text).toContain('kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="external"} 1');
    expect(text).toContain('kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="internal"} 0');
    expect(text).toContain('kubeproxy_sync_proxy_rules_last_timestamp_seconds 5');
    expect(text).toContain('kubeproxy_sync_proxy_rules_endpoint_changes_total 1');
    expect(text).toContain('kubeproxy_sync_proxy_rules_endpoint_changes_pending 0');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0');
    // 3 s + a few ms of modeled restore: in the (3, 4] bucket
    expect(r.kernelCost.seconds).toBeGreaterThan(0);
    expect(r.kernelCost.seconds).toBeLessThan(1);
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="3"} 0');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="4"} 1');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_count 1');
    // the duration histograms observe the modeled kernel cost
    const sum = Number(/kubeproxy_sync_proxy_rules_duration_seconds_sum (\S+)/.exec(text)![1]);
    expect(sum).toBeCloseTo(node.proxier.reports[0]!.kernelCost.seconds + r.kernelCost.seconds, 12);
    expect(text).not.toContain('node_ipvs_');
  });

  it('registers the IPVS-mode set and reads the IPVS counters', async () => {
    const node = testNode('ipvs', overallCluster());
    node.proxier.start();
    for (let i = 0; i < 5; i++) newConnection(node, { origin: 'pod', dst: '172.30.0.41', dport: 80 }, 50000 + i);
    const text = await node.proxier.metricsText();
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count 1');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0');
    expect(text).not.toContain('kubeproxy_sync_full_proxy_rules_duration_seconds');
    expect(text).not.toContain('kubeproxy_sync_proxy_rules_iptables_total');
    expect(text).toContain('node_ipvs_connections_total 5');
    expect(text).toContain('node_ipvs_incoming_packets_total 5');
    expect(text).toContain('node_ipvs_incoming_bytes_total 300');
    expect(text).toContain('node_ipvs_backend_weight{local_address="172.30.0.41",local_port="80",remote_address="10.180.0.1",remote_port="80",proto="TCP",local_mark=""} 1');
    expect(text).toContain('node_ipvs_backend_connections_inactive{local_address="172.30.0.41",local_port="80",remote_address="10.180.0.1",remote_port="80",proto="TCP",local_mark=""} 5');
  });

  it('labels backends as node_exporter does: FWM services by mark, SCTP services left out (procfs skips them)', async () => {
    const ipvs = new Ipvs({ seed: 1 });
    ipvs.addService({ fwmark: 0x2a }, { scheduler: 'rr' });
    ipvs.addDest({ fwmark: 0x2a }, parseIPv4('10.1.0.1'), 80, { weight: 3 });
    const sctp = { proto: Protocol.SCTP, addr: parseIPv4('10.96.0.7'), port: 3868 };
    ipvs.addService(sctp, { scheduler: 'rr' });
    ipvs.addDest(sctp, parseIPv4('10.1.0.2'), 3868);
    const text = await new ProxierMetrics('ipvs', ipvs).metrics();
    expect(text).toContain('node_ipvs_backend_weight{local_address="",local_port="0",remote_address="10.1.0.1",remote_port="80",proto="FWM",local_mark="0000002A"} 3');
    expect(text).not.toContain('10.1.0.2');
  });

  it('keeps a private registry per proxier', async () => {
    const a = new ProxierMetrics('iptables');
    const b = new ProxierMetrics('iptables');
    a.iptablesRestoreFailures.inc();
    expect(await a.metrics()).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1');
    expect(await b.metrics()).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0');
  });
});
