import type { IPv4 } from '../net/ipv4.js';
import type { Packet } from '../net/packet.js';
import type { Port } from '../net/port.js';
import { WorkCounts } from './work.js';

/**
 * What happened to a packet.
 * - `forwarded`: sent on to a chosen backend (possibly rewritten).
 * - `accepted`: passed on unchanged; the balancer had nothing to do with it.
 * - `dropped`: silently discarded.
 * - `rejected`: discarded with an error sent back (ICMP / TCP RST).
 */
export type Verdict = 'forwarded' | 'accepted' | 'dropped' | 'rejected';

/**
 * Why a packet got its verdict. Constant strings, so producing one never allocates.
 */
export type DecisionReason =
  | 'new-connection'
  | 'established'
  | 'reply'
  | 'no-service'
  | 'not-syn'
  | 'no-destination'
  | 'destination-unavailable'
  | 'connection-reuse-drop'
  | 'rule'
  | 'policy'
  | 'table-full'
  | 'invalid';

/** Which way a packet travels relative to the connection that carries it. */
export type Direction = 'original' | 'reply';

/**
 * The result of classifying one packet. It is a mutable record that callers
 * allocate once and pass to every {@link PacketClassifier.classify} call, so
 * the hot path allocates nothing.
 */
export class Decision {
  /** The verdict. */
  verdict: Verdict = 'accepted';
  /** Why. */
  reason: DecisionReason = 'no-service';
  /** Whether this packet created a new connection (and so paid for scheduling). */
  newConnection = false;
  /** Direction of the packet within its connection. */
  direction: Direction = 'original';
  /** Whether a backend was chosen (then `backendAddr`/`backendPort` are meaningful). */
  hasBackend = false;
  /** The chosen backend's address. */
  backendAddr: IPv4 = 0;
  /** The chosen backend's port. */
  backendPort: Port = 0;
  /** Source address of the packet as it leaves (after SNAT/masquerade). */
  saddr: IPv4 = 0;
  /** Source port as it leaves. */
  sport: Port = 0;
  /** Destination address as it leaves (after DNAT). */
  daddr: IPv4 = 0;
  /** Destination port as it leaves. */
  dport: Port = 0;
  /** What this packet cost. Reset by {@link Decision.begin}. */
  readonly work: WorkCounts = new WorkCounts();

  /** Resets the record for a new packet: verdict `accepted`, addresses copied from `pkt`, counts zeroed. */
  begin(pkt: Packet): this {
    this.verdict = 'accepted';
    this.reason = 'no-service';
    this.newConnection = false;
    this.direction = 'original';
    this.hasBackend = false;
    this.backendAddr = 0;
    this.backendPort = 0;
    this.saddr = pkt.saddr;
    this.sport = pkt.sport;
    this.daddr = pkt.daddr;
    this.dport = pkt.dport;
    this.work.reset();
    return this;
  }
}

/**
 * The one interface every proxy mode implements: a packet in, a decision out.
 * Workloads, benchmarks and the fairness kit drive IPVS, iptables and later
 * modes through it alike.
 */
export interface PacketClassifier {
  /** Short mode name (`ipvs`, `iptables`, ...). */
  readonly mode: string;
  /**
   * Classifies one packet at the current simulated time, updating connection
   * state as the kernel would.
   *
   * @param pkt - the packet (not modified)
   * @param out - record to fill (reset first)
   * @returns `out`
   */
  classify(pkt: Packet, out: Decision): Decision;
}
