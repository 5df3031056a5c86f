/**
 * lbsim's workload generator: seeded client hosts with Linux-like ephemeral
 * ports, open-loop (Poisson) and closed-loop (wrk-like) connection arrivals,
 * TCP connections and UDP flows with their packet sequences, endpoint churn
 * (scale up/down, rolling updates, weight changes) on the same simulated
 * timeline, and a driver that pushes it all through any
 * `PacketClassifier` and tallies verdicts, work and per-backend
 * connection counts — deterministically for a given seed. Also synthetic
 * Kubernetes clusters (N Services × E endpoints with a seeded feature mix
 * and collision-free addresses, plus the node and proxy configuration to run
 * a simulated kube-proxy on) for benchmarks and scale tests.
 *
 * @module
 */

export {
  ConnectionTrace,
  LINUX_TCP_SYN_RETRIES,
  PACKET_KIND_FLAGS,
  PACKET_KIND_IS_REPLY,
  PACKET_KIND_NAMES,
  PacketKind,
  PacketTrace,
  runWorkload,
  TCP_RTO_MAX_MS,
  TCP_TIMEOUT_INIT_MS,
  WorkloadDriver,
} from './driver.js';
export type {
  ArrivalSpec,
  BackendStats,
  CloseKind,
  CloseMix,
  ConnectionOutcome,
  ConnectionStats,
  PacketKindName,
  PacketKindStats,
  VerdictCounts,
  WorkloadOptions,
  WorkloadResult,
  WorkloadTarget,
} from './driver.js';

export { expandChurn, IpvsEndpointAdapter } from './churn.js';
export type {
  CallEvent,
  ChurnAction,
  ChurnEvent,
  ChurnOp,
  Endpoint,
  EndpointChange,
  EndpointOps,
  IpvsEndpointAdapterOptions,
  Replacement,
  RollingUpdateEvent,
  ScaleDownEvent,
  ScaleUpEvent,
  WeightChangeEvent,
} from './churn.js';

export { ClientPool } from './clients.js';
export type { ClientAddressing, ClientOptions } from './clients.js';

export { checkPortRange, DEFAULT_LOCAL_PORT_RANGE, EphemeralPorts } from './ports.js';
export type { PortRange } from './ports.js';

export { compileDuration, sampleExponential } from './distributions.js';
export type { DurationSampler, DurationSpec } from './distributions.js';

export { SyntheticCluster, syntheticCluster } from './cluster.js';
export type { SyntheticClusterOptions, SyntheticService, SyntheticServiceMix, SyntheticTypeCounts } from './cluster.js';
