import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { formatIPv4 } from '../net/ipv4.js';
import { Protocol, protocolName } from '../net/protocol.js';
import type { Ipvs } from '../ipvs/ipvs.js';

/**
 * kube-proxy's Prometheus metrics (kubernetes/kubernetes
 * `pkg/proxy/metrics/metrics.go`, subsystem `kubeproxy`, the label-less
 * form before the `ip_family` label was added), registered per mode as
 * `RegisterMetrics` does, in a private prom-client Registry per proxier so
 * several simulated nodes do not share counters. IPVS mode adds
 * node_exporter's IPVS series (`node_ipvs_*`, prometheus/node_exporter
 * `collector/ipvs_linux.go`) read from the simulated IPVS engine: kube-proxy
 * itself does not export connection or byte counters.
 *
 * Durations are observed from the *modeled kernel cost* of each sync (see
 * `cost-model.ts`), not from the simulator's own run time, so that the
 * histograms describe the simulated node and do not depend on the machine
 * running lbsim. Timestamps are simulated seconds.
 *
 * @module
 */

/** `metrics.ExponentialBuckets(0.001, 2, 15)`: 1 ms to 16.384 s. */
export const SYNC_DURATION_BUCKETS: readonly number[] = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

/**
 * `metrics.MergeBuckets(LinearBuckets(0.25, 0.25, 2), LinearBuckets(1, 1, 59),
 * LinearBuckets(60, 5, 12), LinearBuckets(120, 30, 7))`. MergeBuckets
 * starts from a one-element slice, so the first bucket is 0
 * (k8s.io/component-base `metrics/buckets.go`).
 */
export const NETWORK_PROGRAMMING_BUCKETS: readonly number[] = [
  0,
  0.25,
  0.5,
  ...Array.from({ length: 59 }, (_, i) => 1 + i),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];

/** Proxy modes whose metric sets lbsim registers. */
export type MetricsMode = 'iptables' | 'ipvs';

const P = 'kubeproxy_';

/**
 * The metrics of one simulated kube-proxy. The sync engines update them;
 * {@link ProxierMetrics.metrics} renders the Prometheus text format.
 */
export class ProxierMetrics {
  /** The private registry. */
  readonly registry: Registry;
  /** The mode the set was registered for. */
  readonly mode: MetricsMode;
  /** `sync_proxy_rules_duration_seconds`. */
  readonly syncProxyRulesDuration: Histogram;
  /** `sync_full_proxy_rules_duration_seconds` (iptables mode only). */
  readonly syncFullProxyRulesDuration: Histogram | null;
  /** `sync_partial_proxy_rules_duration_seconds` (iptables mode only). */
  readonly syncPartialProxyRulesDuration: Histogram | null;
  /** `network_programming_duration_seconds`. */
  readonly networkProgrammingDuration: Histogram;
  /** `sync_proxy_rules_last_timestamp_seconds`. */
  readonly lastTimestamp: Gauge;
  /** `sync_proxy_rules_last_queued_timestamp_seconds`. */
  readonly lastQueuedTimestamp: Gauge;
  /** `sync_proxy_rules_endpoint_changes_pending`. */
  readonly endpointChangesPending: Gauge;
  /** `sync_proxy_rules_endpoint_changes_total`. */
  readonly endpointChangesTotal: Counter;
  /** `sync_proxy_rules_service_changes_pending`. */
  readonly serviceChangesPending: Gauge;
  /** `sync_proxy_rules_service_changes_total`. */
  readonly serviceChangesTotal: Counter;
  /** `sync_proxy_rules_no_local_endpoints_total{traffic_policy}` (a gauge despite the name). */
  readonly noLocalEndpoints: Gauge<'traffic_policy'>;
  /** `sync_proxy_rules_iptables_restore_failures_total` (both modes). */
  readonly iptablesRestoreFailures: Counter;
  /** `sync_proxy_rules_iptables_partial_restore_failures_total` (iptables mode only). */
  readonly iptablesPartialRestoreFailures: Counter | null;
  /** `sync_proxy_rules_iptables_total{table}` (iptables mode only). */
  readonly iptablesRulesTotal: Gauge<'table'> | null;
  /** `sync_proxy_rules_iptables_last{table}` (iptables mode only). */
  readonly iptablesRulesLast: Gauge<'table'> | null;

  /**
   * @param mode - which set to register (`RegisterMetrics(mode)`)
   * @param ipvs - IPVS mode: the engine whose totals and backends the `node_ipvs_*` series read
   */
  constructor(mode: MetricsMode, ipvs: Ipvs | null = null) {
    this.mode = mode;
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const hist = (name: string, help: string, buckets: readonly number[]): Histogram =>
      new Histogram({ name: P + name, help, buckets: [...buckets], registers });
    this.syncProxyRulesDuration = hist('sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', SYNC_DURATION_BUCKETS);
    this.lastQueuedTimestamp = new Gauge({
      name: `${P}sync_proxy_rules_last_queued_timestamp_seconds`,
      help: 'The last time a sync of proxy rules was queued',
      registers,
    });
    this.lastTimestamp = new Gauge({
      name: `${P}sync_proxy_rules_last_timestamp_seconds`,
      help: 'The last time proxy rules were successfully synced',
      registers,
    });
    this.endpointChangesPending = new Gauge({
      name: `${P}sync_proxy_rules_endpoint_changes_pending`,
      help: 'Pending proxy rules Endpoint changes',
      registers,
    });
    this.endpointChangesTotal = new Counter({
      name: `${P}sync_proxy_rules_endpoint_changes_total`,
      help: 'Cumulative proxy rules Endpoint changes',
      registers,
    });
    this.serviceChangesPending = new Gauge({
      name: `${P}sync_proxy_rules_service_changes_pending`,
      help: 'Pending proxy rules Service changes',
      registers,
    });
    this.serviceChangesTotal = new Counter({
      name: `${P}sync_proxy_rules_service_changes_total`,
      help: 'Cumulative proxy rules Service changes',
      registers,
    });
    this.networkProgrammingDuration = hist(
      'network_programming_duration_seconds',
      'In Cluster Network Programming Latency in seconds',
      NETWORK_PROGRAMMING_BUCKETS,
    );
    this.noLocalEndpoints = new Gauge({
      name: `${P}sync_proxy_rules_no_local_endpoints_total`,
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy'],
      registers,
    });
    // Series with a label appear only once set; kube-proxy sets both every sync.
    this.noLocalEndpoints.set({ traffic_policy: 'internal' }, 0);
    this.noLocalEndpoints.set({ traffic_policy: 'external' }, 0);
    if (mode === 'iptables') {
      this.syncFullProxyRulesDuration = hist(
        'sync_full_proxy_rules_duration_seconds',
        'SyncProxyRules latency in seconds for full resyncs',
        SYNC_DURATION_BUCKETS,
      );
      this.syncPartialProxyRulesDuration = hist(
        'sync_partial_proxy_rules_duration_seconds',
        'SyncProxyRules latency in seconds for partial resyncs',
        SYNC_DURATION_BUCKETS,
      );
    } else {
      this.syncFullProxyRulesDuration = null;
      this.syncPartialProxyRulesDuration = null;
    }
    this.iptablesRestoreFailures = new Counter({
      name: `${P}sync_proxy_rules_iptables_restore_failures_total`,
      help: 'Cumulative proxy iptables restore failures',
      registers,
    });
    if (mode === 'iptables') {
      this.iptablesPartialRestoreFailures = new Counter({
        name: `${P}sync_proxy_rules_iptables_partial_restore_failures_total`,
        help: 'Cumulative proxy iptables partial restore failures',
        registers,
      });
      this.iptablesRulesTotal = new Gauge({
        name: `${P}sync_proxy_rules_iptables_total`,
        help: 'Total number of iptables rules owned by kube-proxy',
        labelNames: ['table'],
        registers,
      });
      this.iptablesRulesLast = new Gauge({
        name: `${P}sync_proxy_rules_iptables_last`,
        help: 'Number of iptables rules written by kube-proxy in last sync',
        labelNames: ['table'],
        registers,
      });
    } else {
      this.iptablesPartialRestoreFailures = null;
      this.iptablesRulesTotal = null;
      this.iptablesRulesLast = null;
    }
    if (ipvs !== null) registerIpvsSeries(registry, ipvs);
  }

  /** The Prometheus text exposition of every series (prom-client renders asynchronously). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** node_exporter's IPVS collector series, read from the engine at scrape time. */
function registerIpvsSeries(registry: Registry, ipvs: Ipvs): void {
  const registers = [registry];
  const total = (name: string, help: string, read: () => number): void => {
    new Counter({
      name: `node_ipvs_${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  const s = ipvs.totalStats;
  total('connections_total', 'The total number of connections made.', () => s.conns);
  total('incoming_packets_total', 'The total number of incoming packets.', () => s.inPkts);
  total('outgoing_packets_total', 'The total number of outgoing packets.', () => s.outPkts);
  total('incoming_bytes_total', 'The total amount of incoming data.', () => s.inBytes);
  total('outgoing_bytes_total', 'The total amount of outgoing data.', () => s.outBytes);
  // node_exporter's default backend labels (collector/ipvs_linux.go fullIpvsBackendLabels), filled as procfs
  // parses /proc/net/ip_vs: TCP/UDP lines give address and port; FWM lines give proto "FWM", the mark as printed
  // ("%08X"), no address and port 0. procfs skips SCTP service lines, so SCTP services are left out here.
  const labelNames = ['local_address', 'local_port', 'remote_address', 'remote_port', 'proto', 'local_mark'] as const;
  const backend = (name: string, help: string, read: (d: { activeConns: number; inactConns: number; weight: number }) => number): void => {
    new Gauge({
      name: `node_ipvs_backend_${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const svc of ipvs.services()) {
          const fwm = svc.fwmark !== 0;
          if (!fwm && svc.proto !== Protocol.TCP && svc.proto !== Protocol.UDP) continue;
          for (const d of svc.dests) {
            this.set(
              {
                local_address: fwm ? '' : formatIPv4(svc.addr),
                local_port: fwm ? '0' : String(svc.port),
                remote_address: formatIPv4(d.addr),
                remote_port: String(d.port),
                proto: fwm ? 'FWM' : protocolName(svc.proto),
                local_mark: fwm ? (svc.fwmark >>> 0).toString(16).toUpperCase().padStart(8, '0') : '',
              },
              read(d),
            );
          }
        }
      },
    });
  };
  backend('connections_active', 'The current active connections by local and remote address.', (d) => d.activeConns);
  backend('connections_inactive', 'The current inactive connections by local and remote address.', (d) => d.inactConns);
  backend('weight', 'The current backend weight by local and remote address.', (d) => d.weight);
}
