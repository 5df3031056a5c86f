import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import { WorkCounts } from '../classify/work.js';
import type { BuiltinChainName } from './ast.js';

/** What the match modules may read of a packet's connection-tracking entry. */
export interface CtView {
  /** Original-direction tuple. */
  readonly origSrc: IPv4;
  readonly origDst: IPv4;
  readonly origSport: Port;
  readonly origDport: Port;
  /** Reply-direction tuple. */
  readonly replySrc: IPv4;
  readonly replyDst: IPv4;
  readonly replySport: Port;
  readonly replyDport: Port;
  /** Layer-4 protocol. */
  readonly proto: number;
  /** `IPS_*` status bits (see `src/conntrack/`). */
  readonly status: number;
  /** The conntrack mark (`CONNMARK`). */
  mark: number;
  /** Simulated time (ms) at which the entry expires. */
  readonly expires: number;
}

/**
 * The per-packet state a traversal works on: the packet's current fields
 * (rewritten by NAT as it goes), interfaces, the skb mark and the conntrack
 * view. One instance is reused for every packet.
 */
export class PacketState {
  /** Protocol number. */
  proto = 0;
  /** Source address (current, after any NAT so far). */
  saddr: IPv4 = 0;
  /** Source port. */
  sport: Port = 0;
  /** Destination address (current). */
  daddr: IPv4 = 0;
  /** Destination port. */
  dport: Port = 0;
  /** TCP flags. */
  flags = 0;
  /** L3 length in bytes. */
  length = 0;
  /** skb mark. */
  mark = 0;
  /** Ingress ifindex (0 = none: locally generated). */
  inIf = 0;
  /** Egress ifindex (0 = not routed yet). */
  outIf = 0;
  /** The hook being traversed. */
  hook: BuiltinChainName = 'PREROUTING';
  /** The packet's conntrack state as a `CtStateBit` (NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED). */
  ctState = 0;
  /** Conntrack entry, or null (untracked / invalid). */
  ct: CtView | null = null;
  /** 0: original direction, 1: reply. */
  ctDir = 0;
  /** Current simulated time in ms. */
  now = 0;
  /** Set by a traversal when its verdict came from a chain policy. */
  byPolicy = false;
  /** Set when some rule (not a policy) accepted the packet in a table. */
  acceptedByRule = false;
  /** Set by `NOTRACK` / `CT --notrack` in the raw table. */
  notrack = false;
  /** The work counts of the decision being made (matches that probe tables add to it). */
  work: WorkCounts = new WorkCounts();
}
