/**
 * Connection tracking (`nf_conntrack`) and NAT bindings (`nf_nat_core`) for
 * the netfilter engine: see {@link Conntrack}.
 *
 * @module
 */
export {
  Conntrack,
  ConntrackStats,
  CtLookup,
  defaultConntrackBuckets,
  type ConntrackOptions,
  type CtInfo,
  type CtPacket,
  type NatManip,
  type NatRange,
  type NatTarget,
} from './conntrack.js';
export {
  DEFAULT_TIMEOUTS,
  IPS,
  IPS_NAT_MASK,
  TCP_STATE_NAMES,
  TCP_TRANSITIONS,
  TcpFlagBit,
  TcpIndex,
  TcpState,
  tcpTransition,
  type ConntrackTimeouts,
  type TcpStateNumber,
} from './constants.js';
export { ConntrackEntry, TupleNode, type CtDirection } from './entry.js';
export { createConntrackPort, type ConntrackPortExt } from './port.js';
export {
  ConntrackTuple,
  formatTupleFields,
  icmpInverseType,
  icmpTupleCode,
  icmpTupleType,
  invertTuple,
} from './tuple.js';
