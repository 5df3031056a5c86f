import type { CtView } from '../netfilter/packet-state.js';
import { IPS, TCP_STATE_NAMES, TcpIndex } from './constants.js';
import { ConntrackTuple } from './tuple.js';

/**
 * One of the two hash-table nodes of an entry (`struct nf_conntrack_tuple_hash`):
 * the original-direction tuple or the reply-direction tuple, chained into
 * its bucket.
 *
 * @internal
 */
export class TupleNode {
  /** The entry this node belongs to. */
  readonly entry: ConntrackEntry;
  /** 0 = original direction, 1 = reply direction (`NF_CT_DIRECTION`). */
  readonly dir: 0 | 1;
  /** Next node in the bucket chain. Kept when the node is unlinked, as RCU readers see it. */
  next: TupleNode | null = null;
  /** Previous node in the bucket chain (null at the head). */
  prev: TupleNode | null = null;
  /** Bucket index while linked, -1 when not in the table. */
  bucket = -1;

  /**
   * @param entry - owner
   * @param dir - direction
   */
  constructor(entry: ConntrackEntry, dir: 0 | 1) {
    this.entry = entry;
    this.dir = dir;
  }

  /** The tuple of this direction. */
  get tuple(): ConntrackTuple {
    return this.dir === 0 ? this.entry.original : this.entry.reply;
  }
}

/** Which way a packet travels relative to its entry. */
export type CtDirection = 'original' | 'reply';

/**
 * A connection tracking entry (`struct nf_conn`, IPv4): the original and
 * reply tuples, `IPS_*` status bits, the conntrack mark, the protocol state,
 * the timeout and per-direction counters.
 *
 * Entries are created by {@link Conntrack.resolve} (unconfirmed) and enter
 * the table at {@link Conntrack.confirm}. Read them freely; change them only
 * through {@link Conntrack} (the `mark` is the exception: `CONNMARK` writes it).
 * It implements the netfilter engine's `CtView`.
 */
export class ConntrackEntry implements CtView {
  /** Original-direction tuple (`tuplehash[IP_CT_DIR_ORIGINAL]`). */
  readonly original: ConntrackTuple;
  /** Reply-direction tuple (`tuplehash[IP_CT_DIR_REPLY]`); NAT rewrites it before confirmation. */
  readonly reply: ConntrackTuple;
  /** `IPS_*` status bits ({@link IPS}). */
  status = 0;
  /** The conntrack mark (`ct->mark`, `CONNMARK`). */
  mark = 0;
  /** TCP conntrack state ({@link TcpState}); 0 (NONE) for other protocols. */
  tcpState = 0;
  /**
   * `ct->timeout`: before confirmation the timeout relative to confirmation
   * (ms); afterwards the absolute deadline in simulated ms.
   */
  timeout = 0;
  /** Packets counted in the original direction (`nf_conn_acct`). */
  packetsOriginal = 0;
  /** Bytes (L3 length) counted in the original direction. */
  bytesOriginal = 0;
  /** Packets counted in the reply direction. */
  packetsReply = 0;
  /** Bytes counted in the reply direction. */
  bytesReply = 0;

  /** @internal `ip_ct_tcp.last_index`. */
  tcpLastIndex: number = TcpIndex.NONE;
  /** @internal `ip_ct_tcp.last_dir`. */
  tcpLastDir = 0;
  /** @internal `ip_ct_tcp.seen[0].flags`. */
  tcpFlagsOriginal = 0;
  /** @internal `ip_ct_tcp.seen[1].flags`. */
  tcpFlagsReply = 0;
  /** @internal `ip_ct_tcp.last_flags`. */
  tcpLastFlags = 0;
  /** @internal `ct->proto.udp.stream_ts` in simulated ms. */
  udpStreamTs = 0;

  /** @internal Original-direction hash node. */
  readonly nodeOriginal: TupleNode;
  /** @internal Reply-direction hash node. */
  readonly nodeReply: TupleNode;
  /** @internal The expiry heap's handle while queued (-1 = not queued). */
  heapIndex = -1;
  /** @internal Deadline the entry is queued with in the expiry heap. */
  heapKey = 0;

  /**
   * @param original - the original tuple (copied)
   * @param reply - the reply tuple (copied)
   */
  constructor(original: ConntrackTuple, reply: ConntrackTuple) {
    this.original = original.clone();
    this.reply = reply.clone();
    this.nodeOriginal = new TupleNode(this, 0);
    this.nodeReply = new TupleNode(this, 1);
  }

  /** IP protocol number. */
  get proto(): number {
    return this.original.proto;
  }

  /** Original source address (`CtView`). */
  get origSrc(): number {
    return this.original.src;
  }

  /** Original destination address (`CtView`). */
  get origDst(): number {
    return this.original.dst;
  }

  /** Original source port (`CtView`). */
  get origSport(): number {
    return this.original.sport;
  }

  /** Original destination port (`CtView`). */
  get origDport(): number {
    return this.original.dport;
  }

  /** Reply source address (`CtView`). */
  get replySrc(): number {
    return this.reply.src;
  }

  /** Reply destination address (`CtView`). */
  get replyDst(): number {
    return this.reply.dst;
  }

  /** Reply source port (`CtView`). */
  get replySport(): number {
    return this.reply.sport;
  }

  /** Reply destination port (`CtView`). */
  get replyDport(): number {
    return this.reply.dport;
  }

  /**
   * Simulated time (ms) at which the entry expires. 0 for an unconfirmed
   * entry: the kernel's `nf_ct_expires()` reports 0 for those (their timeout
   * is still relative).
   */
  get expires(): number {
    return (this.status & IPS.CONFIRMED) !== 0 ? this.timeout : 0;
  }

  /** Whether the entry is in the table (`IPS_CONFIRMED`). */
  get confirmed(): boolean {
    return (this.status & IPS.CONFIRMED) !== 0;
  }

  /** Whether the entry was removed (`IPS_DYING`). */
  get dying(): boolean {
    return (this.status & IPS.DYING) !== 0;
  }

  /** Whether the entry is `IPS_ASSURED`. */
  get assured(): boolean {
    return (this.status & IPS.ASSURED) !== 0;
  }

  /** Name of the TCP state (`tcp_conntrack_names[]`), e.g. `ESTABLISHED`. */
  get tcpStateName(): string {
    return TCP_STATE_NAMES[this.tcpState] ?? 'NONE';
  }

  /** Packets counted in a direction (0 original, 1 reply). */
  packets(dir: 0 | 1): number {
    return dir === 0 ? this.packetsOriginal : this.packetsReply;
  }

  /** Bytes counted in a direction (0 original, 1 reply). */
  bytes(dir: 0 | 1): number {
    return dir === 0 ? this.bytesOriginal : this.bytesReply;
  }
}
