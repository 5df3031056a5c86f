/**
 * lbsim: an in-memory, kernel-faithful simulator of Linux IPVS and
 * iptables/netfilter as Kubernetes kube-proxy programs them.
 *
 * @packageDocumentation
 */

// errors
export { InvalidArgumentError, LbsimError, OperationError, ParseError } from './errors.js';
export type { ErrnoName } from './errors.js';

// net
export {
  cidrContains,
  formatCidr,
  formatIPv4,
  ipv4,
  maskPrefixLength,
  parseCidr,
  parseIPv4,
  prefixMask,
  tryParseIPv4,
} from './net/ipv4.js';
export type { Cidr, IPv4 } from './net/ipv4.js';
export { checkPort, isPort, parsePort } from './net/port.js';
export type { Port } from './net/port.js';
export { parseProtocol, Protocol, protocolName } from './net/protocol.js';
export { formatTcpFlags, TcpFlag } from './net/tcp-flags.js';
export type { TcpFlags } from './net/tcp-flags.js';
export { Packet } from './net/packet.js';

// simulation primitives
export { createRng, restoreRng } from './sim/rng.js';
export type { Rng, RngState } from './sim/rng.js';
export { SimClock } from './sim/clock.js';
export type { TimerOwner } from './sim/clock.js';

// the classification interface every mode implements
export { Decision } from './classify/decision.js';
export type { DecisionReason, Direction, PacketClassifier, Verdict } from './classify/decision.js';
export { WorkCounts } from './classify/work.js';
export type { WorkCountsSnapshot } from './classify/work.js';

// IPVS
export { DEFAULT_PERSISTENT_TIMEOUT_S, describeKey, Ipvs } from './ipvs/ipvs.js';
export type { DestOptions, IpvsOptions, IpvsTimeouts, ServiceKey, ServiceOptions } from './ipvs/ipvs.js';
export { DEFAULT_IPVS_SYSCTL } from './ipvs/sysctl.js';
export type { IpvsSysctl } from './ipvs/sysctl.js';
export { Conn, ConnFlag } from './ipvs/conn.js';
export { CONN_TAB_BITS_DEFAULT, CONN_TAB_BITS_MAX, CONN_TAB_BITS_MIN } from './ipvs/conn-table.js';
export { connOverhead, Dest } from './ipvs/dest.js';
export { DestFlag, ForwardMethod, forwardName, ServiceFlag } from './ipvs/flags.js';
export { VirtualService } from './ipvs/service.js';
export { ServiceTable } from './ipvs/service-table.js';
export { IpvsStats, readRates } from './ipvs/stats.js';
export type { CounterSet, Rates, RateEstimate } from './ipvs/stats.js';
export {
  DEFAULT_TCP_TIMEOUTS_S,
  DEFAULT_UDP_TIMEOUT_S,
  nextTcpState,
  TCP_STATE_NAMES,
  TcpDirection,
  TcpState,
} from './ipvs/tcp-state.js';
export { SchedulerRegistry } from './ipvs/registry.js';
export type { Scheduler, SchedulerContext, SchedulerFactory } from './ipvs/scheduler.js';
export * from './ipvs/schedulers/index.js';

// fairness kit
export * from './fairness/index.js';

// netfilter
export { Netfilter } from './netfilter/engine.js';
export type { LogRecord, NetfilterOptions, TraceResult } from './netfilter/engine.js';
export { Host } from './netfilter/host.js';
export type { HostInterface, HostOptions } from './netfilter/host.js';
export { BUILTIN_CHAINS, MAX_CHAIN_NAME, Ruleset, TABLE_ORDER } from './netfilter/ruleset.js';
export type { ChainState, RestoreOptions, RuleCheck, RuleState, SaveOrderOptions, TableState } from './netfilter/ruleset.js';
export { StatefulMatches } from './netfilter/stateful.js';
export type { TraceEntry } from './netfilter/traverse.js';
export type { ConntrackPort } from './netfilter/conntrack-port.js';
export { AddrTypeBit, CtStateBit, CtStatusBit } from './netfilter/ast.js';
export type * from './netfilter/ast.js';
export type { PortRange } from './netfilter/ast.js';

// ipvsadm
export * from './ipvs/ipvsadm/index.js';

// connection tracking
export {
  Conntrack,
  ConntrackEntry,
  ConntrackStats,
  ConntrackTuple,
  createConntrackPort,
  CtLookup,
  DEFAULT_TIMEOUTS,
  defaultConntrackBuckets,
  formatTupleFields,
  IPS,
  IPS_NAT_MASK,
  TCP_STATE_NAMES as CONNTRACK_TCP_STATE_NAMES,
  TcpState as ConntrackTcpState,
} from './conntrack/index.js';
export type {
  ConntrackOptions,
  ConntrackPortExt,
  ConntrackTimeouts,
  CtDirection,
  CtInfo,
  CtPacket,
  NatManip,
  NatRange as ConntrackNatRange,
  NatTarget,
} from './conntrack/index.js';

// workload generator (its PortRange is exported as EphemeralPortRange)
export * from './workload/index.js';
export type { PortRange as EphemeralPortRange } from './workload/index.js';

// kube-proxy: Services and EndpointSlices in, rules out (the slice endpoint type is KubeEndpoint)
export * from './kube/index.js';
export type { Endpoint } from './workload/index.js';
export type { Endpoint as KubeEndpoint } from './kube/index.js';

// iptables-save / iptables-restore / iptables command text
export * from './io/iptables/index.js';
