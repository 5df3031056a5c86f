import { WorkCounts } from '../classify/work.js';
import { InvalidArgumentError } from '../errors.js';
import type { IPv4 } from '../net/ipv4.js';
import { Protocol } from '../net/protocol.js';
import { CtStateBit } from '../netfilter/ast.js';
import type { SimClock, TimerOwner } from '../sim/clock.js';
import type { Rng } from '../sim/rng.js';
import {
  type ConntrackTimeouts,
  DEFAULT_TIMEOUTS,
  IPS,
  IPS_NAT_MASK,
  TCP_VALID_FLAGS,
  TcpFlagBit,
  TcpIndex,
  TcpState,
  tcpTimeoutTable,
  tcpTransition,
} from './constants.js';
import { ConntrackEntry, type CtDirection, type TupleNode } from './entry.js';
import { DeadlineHeap } from '../sim/deadline-heap.js';
import { bswap32, jhash2Words4, reciprocalScale, tupleHash } from './hash.js';
import { ConntrackTuple, invertTuple } from './tuple.js';

/**
 * The fields of a packet the tracker reads. Both `Packet` (src/net) and the
 * netfilter engine's `PacketState` have them.
 *
 * ICMP packets follow the engine's convention: the ICMP type is in `dport`
 * and the code in `sport`. The echo identifier is read from `icmpId` when the
 * object has one, else it is 0.
 */
export interface CtPacket {
  /** IP protocol number. */
  readonly proto: number;
  /** Source address. */
  readonly saddr: IPv4;
  /** Source port (ICMP: code). */
  readonly sport: number;
  /** Destination address. */
  readonly daddr: IPv4;
  /** Destination port (ICMP: type). */
  readonly dport: number;
  /** TCP flag byte. */
  readonly flags: number;
  /** L3 length in bytes (counted into the entry's byte counters). */
  readonly length: number;
  /** ICMP echo identifier, if the packet carries one. */
  readonly icmpId?: number;
}

/** The part of a packet that NAT rewrites. */
export interface NatTarget {
  /** Protocol number (ports are rewritten only for TCP, UDP, UDP-Lite, SCTP). */
  readonly proto: number;
  saddr: IPv4;
  sport: number;
  daddr: IPv4;
  dport: number;
}

/**
 * `enum ip_conntrack_info` as the state names `-m conntrack --ctstate` uses.
 * `UNTRACKED` is never produced by the tracker itself (it is the `NOTRACK`
 * target's doing) but belongs to the same set.
 */
export type CtInfo = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

/**
 * The result of {@link Conntrack.resolve} / {@link Conntrack.conntrackIn}: the
 * packet's entry, direction and `ctinfo`. One instance belongs to each
 * {@link Conntrack} and is overwritten by the next call, so the established
 * path allocates nothing; copy what you need before the next packet.
 */
export class CtLookup {
  /** The entry, or null (INVALID, or the packet is to be dropped). */
  entry: ConntrackEntry | null = null;
  /** Direction of the packet in its entry. */
  dir: CtDirection = 'original';
  /** Direction as a number: 0 original, 1 reply (`CTINFO2DIR`). */
  dirIndex: 0 | 1 = 0;
  /** The packet's conntrack state. */
  ctinfo: CtInfo = 'INVALID';
  /** {@link ctinfo} as a `CtStateBit` (what `-m conntrack` tests). */
  stateBit: number = CtStateBit.INVALID;
  /**
   * True when the packet must be dropped: the table is full and `early_drop`
   * found nothing to evict (`nf_conntrack: table full, dropping packet`).
   */
  drop = false;
  /** @internal Work counts of the packet being tracked. */
  work: WorkCounts | null = null;

  /** @internal */
  reset(work: WorkCounts | null): void {
    this.entry = null;
    this.dir = 'original';
    this.dirIndex = 0;
    this.ctinfo = 'INVALID';
    this.stateBit = CtStateBit.INVALID;
    this.drop = false;
    this.work = work;
  }
}

/**
 * A NAT range (`struct nf_nat_range2`, IPv4). `minPort`/`maxPort` of 0 (or
 * absent) mean "no port range" (`NF_NAT_RANGE_PROTO_SPECIFIED` unset): the
 * port is kept when that keeps the tuple unique.
 */
export interface NatRange {
  /** First address of the range. */
  readonly minAddr: IPv4;
  /** Last address (default `minAddr`). */
  readonly maxAddr?: IPv4;
  /** First port; 0 = no port range. */
  readonly minPort?: number;
  /** Last port (default `minPort`). */
  readonly maxPort?: number;
  /** `--random` (`NF_NAT_RANGE_PROTO_RANDOM`). */
  readonly random?: boolean;
  /** `--random-fully` (`NF_NAT_RANGE_PROTO_RANDOM_FULLY`). */
  readonly randomFully?: boolean;
  /** `--persistent` (`NF_NAT_RANGE_PERSISTENT`): address choice ignores the destination. */
  readonly persistent?: boolean;
}

/** NAT manip type: `src` (SNAT/MASQUERADE, POSTROUTING/INPUT) or `dst` (DNAT/REDIRECT, PREROUTING/OUTPUT). */
export type NatManip = 'src' | 'dst';

/** Counters like `/proc/net/stat/nf_conntrack` (summed over CPUs). */
export class ConntrackStats {
  /** Entries inserted by confirmation. */
  insert = 0;
  /** Confirmations that failed (clash, chain too long, dying). */
  insertFailed = 0;
  /** Packets dropped because the table was full. */
  drop = 0;
  /** Entries evicted by `early_drop`. */
  earlyDrop = 0;
  /** Packets that got no entry (INVALID). */
  invalid = 0;
  /** Confirmations refused because a bucket chain was too long. */
  chainTooLong = 0;
}

/** Options of a {@link Conntrack}. */
export interface ConntrackOptions {
  /** Simulated clock; the table attaches itself to it and expires entries as time advances. */
  readonly clock: SimClock;
  /** Random source: the hash key is drawn from it at construction, NAT port offsets and chain limits later. */
  readonly rng: Rng;
  /**
   * `nf_conntrack_max`; 0 = unlimited. Default: equal to the bucket count when
   * the buckets are computed from memory (max_factor 1), or 8 × `buckets` when
   * `buckets` is given (max_factor 8, as with the `hashsize` module parameter);
   * see `nf_conntrack_init_start` in nf_conntrack_core.c.
   */
  readonly max?: number;
  /**
   * `nf_conntrack_buckets`. The kernel rounds it up to a multiple of 512
   * (`nf_ct_alloc_hashtable`: a page of list heads). Default: computed from
   * {@link memoryBytes} like the kernel (RAM / 16384 / 8, at least 1024;
   * 65536 above 1 GiB; 262144 above 4 GiB).
   */
  readonly buckets?: number;
  /** Memory of the simulated host for the default sizing. @defaultValue 16 GiB (→ 262144 buckets and max) */
  readonly memoryBytes?: number;
  /** Timeout sysctls in seconds; missing ones take {@link DEFAULT_TIMEOUTS}. */
  readonly timeouts?: Partial<ConntrackTimeouts>;
  /** `nf_conntrack_tcp_loose`: pick up connections mid-stream (a lone ACK creates an entry). @defaultValue true */
  readonly tcpLoose?: boolean;
  /**
   * `nf_conntrack_tcp_be_liberal`. Window tracking is not modelled: every
   * segment is treated as in-window, which is what `be_liberal = 1` does for
   * everything but out-of-window RSTs. Kept for reporting. @defaultValue false
   */
  readonly tcpBeLiberal?: boolean;
  /** `nf_conntrack_acct`: print counters in {@link Conntrack.formatEntry}. Counters are always kept. @defaultValue false */
  readonly acct?: boolean;
}

const GiB = 1024 * 1024 * 1024;

/**
 * The kernel's default `nf_conntrack_buckets` for a host with `memoryBytes`
 * of RAM (`nf_conntrack_init_start`, nf_conntrack_core.c, 64-bit), rounded up
 * to a multiple of 512 like `nf_ct_alloc_hashtable`.
 */
export function defaultConntrackBuckets(memoryBytes: number): number {
  let size: number;
  if (memoryBytes > 4 * GiB) size = 262144;
  else if (memoryBytes > GiB) size = 65536;
  else size = Math.floor(Math.floor(memoryBytes / 16384) / 8);
  if (size < 1024) size = 1024;
  return roundBuckets(size);
}

function roundBuckets(n: number): number {
  return Math.ceil(n / 512) * 512;
}

// Verdicts of the protocol handlers.
const V_INVALID = 0; // -NF_ACCEPT: the packet is INVALID
const V_ACCEPT = 1; // NF_ACCEPT
const V_REPEAT = 2; // -NF_REPEAT: the old entry was killed, look up again

// NF_NAT_RANGE_* (include/uapi/linux/netfilter/nf_nat.h)
const R_MAP_IPS = 1;
const R_PROTO_SPECIFIED = 2;
const R_PROTO_RANDOM = 4;
const R_PERSISTENT = 8;
const R_PROTO_RANDOM_FULLY = 16;
const R_RANDOM_ALL = R_PROTO_RANDOM | R_PROTO_RANDOM_FULLY;

/** NF_CT_EVICTION_RANGE of nf_conntrack_core.c: buckets scanned by `early_drop`. */
const EVICTION_RANGE = 8;
/** MIN_CHAINLEN / MAX_CHAINLEN of nf_conntrack_core.c. */
const MIN_CHAINLEN = 50;
const MAX_CHAINLEN = 80 - MIN_CHAINLEN;
/** NF_NAT_MAX_ATTEMPTS and NF_NAT_HARDER_THRESH of nf_nat_core.c. */
const NAT_MAX_ATTEMPTS = 128;
const NAT_HARDER_THRESH = NAT_MAX_ATTEMPTS / 4;
/** UDP stream detection delay (`2 * HZ` in nf_conntrack_udp_packet). */
const UDP_STREAM_DELAY_MS = 2000;

interface ResolvedRange {
  flags: number;
  minAddr: number;
  maxAddr: number;
  minPort: number;
  maxPort: number;
}

function hasPorts(proto: number): boolean {
  return proto === Protocol.TCP || proto === Protocol.UDP || proto === Protocol.SCTP || proto === 136;
}

/**
 * The connection tracking table (`nf_conntrack`) of one network namespace,
 * IPv4 only: a chained hash table holding every entry twice (original and
 * reply tuple), the protocol trackers for TCP, UDP, ICMP and the generic
 * protocol, expiry on the simulated clock, the `nf_conntrack_max` limit with
 * `early_drop`, and the NAT bindings of nf_nat_core.c.
 *
 * The engine drives it per packet like the kernel's hooks do:
 * 1. {@link conntrackIn} at the conntrack hook (PREROUTING / OUTPUT):
 *    `nf_conntrack_in` = {@link resolve} (`resolve_normal_ct`) plus
 *    {@link packet} (the protocol handler). A packet whose lookup says
 *    `drop` must be dropped: that is where the kernel applies
 *    `nf_conntrack_max` (at allocation, `__nf_conntrack_alloc`), not at
 *    confirmation.
 * 2. NAT: {@link setupNat} / {@link allocNullBinding} on the first packet,
 *    {@link applyNat} on every packet.
 * 3. {@link confirm} when the packet leaves the last hook (POSTROUTING /
 *    INPUT): `__nf_conntrack_confirm`; false means drop.
 *
 * An unconfirmed entry counts towards {@link count} (the kernel counts at
 * allocation) until it is confirmed or released: {@link release}, or
 * automatically at the next {@link resolve} (the previous packet is over).
 *
 * Not modelled (see docs in each method): TCP window and sequence tracking
 * (every segment is in-window, as with `tcp_be_liberal = 1`; RSTs are taken
 * as exact), retransmission and zero-window timeouts, helpers and
 * expectations, zones, the SCTP/GRE/DCCP state machines (SCTP uses the
 * generic handler with ports), ICMP errors inside `conntrackIn` (see
 * {@link resolveRelated}), the gc worker's early drop at 95 % fill, insertion
 * clash resolution between CPUs.
 */
export class Conntrack implements TimerOwner {
  /** Counters as in `/proc/net/stat/nf_conntrack`. */
  readonly stats: ConntrackStats = new ConntrackStats();
  /** The timeout sysctls in force (seconds). */
  readonly timeouts: ConntrackTimeouts;
  /** `nf_conntrack_tcp_loose`. */
  readonly tcpLoose: boolean;
  /** `nf_conntrack_tcp_be_liberal` (window tracking is not modelled; see {@link ConntrackOptions.tcpBeLiberal}). */
  readonly tcpBeLiberal: boolean;
  /** `nf_conntrack_acct`. */
  readonly acct: boolean;

  readonly #clock: SimClock;
  readonly #rng: Rng;
  readonly #seed: number;
  readonly #heads: (TupleNode | null)[];
  readonly #nbuckets: number;
  #max: number;
  #count = 0;
  readonly #heap = new DeadlineHeap<ConntrackEntry>();
  readonly #tcpTo: Float64Array;
  readonly #udpMs: number;
  readonly #udpStreamMs: number;
  readonly #icmpMs: number;
  readonly #genericMs: number;
  readonly #lookup = new CtLookup();
  #pending: ConntrackEntry | null = null;
  readonly #bysource = new Map<number, ConntrackEntry[]>();
  readonly #t1 = new ConntrackTuple();
  readonly #t2 = new ConntrackTuple();
  readonly #t3 = new ConntrackTuple();
  readonly #t4 = new ConntrackTuple();

  /** @param options - see {@link ConntrackOptions} */
  constructor(options: ConntrackOptions) {
    const { clock, rng } = options;
    const memory = options.memoryBytes ?? 16 * GiB;
    if (!(memory > 0) || !Number.isFinite(memory)) {
      throw new InvalidArgumentError(`lbsim/conntrack.Conntrack.constructor: memoryBytes must be positive (got ${memory})`);
    }
    let buckets: number;
    let maxDefault: number;
    if (options.buckets === undefined) {
      buckets = defaultConntrackBuckets(memory);
      maxDefault = buckets;
    } else {
      if (!Number.isSafeInteger(options.buckets) || options.buckets < 1) {
        throw new InvalidArgumentError(
          `lbsim/conntrack.Conntrack.constructor: buckets must be a positive integer (got ${options.buckets})`,
        );
      }
      buckets = roundBuckets(options.buckets);
      maxDefault = 8 * buckets;
    }
    const max = options.max ?? maxDefault;
    checkMax('constructor', max);
    const timeouts: ConntrackTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    for (const [k, v] of Object.entries(timeouts) as [string, number][]) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new InvalidArgumentError(
          `lbsim/conntrack.Conntrack.constructor: timeout ${k} must be a non-negative integer of seconds (got ${v})`,
        );
      }
    }
    this.#clock = clock;
    this.#rng = rng;
    this.#seed = rng.uint32();
    this.#nbuckets = buckets;
    this.#heads = new Array<TupleNode | null>(buckets).fill(null);
    this.#max = max;
    this.timeouts = timeouts;
    this.#tcpTo = tcpTimeoutTable(timeouts);
    this.#udpMs = timeouts.udp * 1000;
    this.#udpStreamMs = timeouts.udpStream * 1000;
    this.#icmpMs = timeouts.icmp * 1000;
    this.#genericMs = timeouts.generic * 1000;
    this.tcpLoose = options.tcpLoose ?? true;
    this.tcpBeLiberal = options.tcpBeLiberal ?? false;
    this.acct = options.acct ?? false;
    clock.attach(this);
  }

  /** `nf_conntrack_count`: allocated entries, including an unconfirmed one not yet released. */
  get count(): number {
    return this.#count;
  }

  /** `nf_conntrack_max` (0 = unlimited). Writable like the sysctl; lowering it evicts nothing. */
  get max(): number {
    return this.#max;
  }

  set max(value: number) {
    checkMax('max', value);
    this.#max = value;
  }

  /** `nf_conntrack_buckets`: the hash table size. */
  get buckets(): number {
    return this.#nbuckets;
  }

  /** The simulated clock. */
  get clock(): SimClock {
    return this.#clock;
  }

  /**
   * The bucket a tuple hashes to (`hash_conntrack`). Exposed for tests and
   * diagnostics (e.g. to build `early_drop` scenarios).
   */
  bucketOf(t: ConntrackTuple): number {
    return reciprocalScale(tupleHash(t.proto, t.src, t.sport, t.dst, t.dport, this.#seed), this.#nbuckets);
  }

  // ------------------------------------------------------------ per packet

  /**
   * `nf_conntrack_in` for one packet: {@link resolve}, then {@link packet}.
   * On return the lookup holds the packet's entry and state; `drop` means the
   * table was full; `entry === null` with `ctinfo === 'INVALID'` means the
   * packet is not part of a valid connection.
   */
  conntrackIn(pkt: CtPacket, work: WorkCounts): CtLookup {
    const lk = this.resolve(pkt, work);
    if (lk.entry !== null) this.packet(lk, pkt);
    return lk;
  }

  /**
   * `resolve_normal_ct` (nf_conntrack_core.c): builds the packet's tuple,
   * looks it up (one bucket probe, `chainSteps` per node compared) and
   * returns the entry with the direction and `ctinfo`:
   * reply direction → ESTABLISHED; original direction → ESTABLISHED once a
   * reply was seen, RELATED for an expected entry, else NEW.
   *
   * On a miss it allocates a new unconfirmed entry (`init_conntrack`) with
   * `ctinfo` NEW — before the protocol handler has looked at the packet, as
   * the kernel does: the allocation counts against `nf_conntrack_max` (and
   * may `early_drop`) even if {@link packet} then finds the packet INVALID
   * and frees the entry. When the table is full and nothing can be evicted,
   * `drop` is set. ICMP types without a reply type get no entry (INVALID);
   * ICMP errors are INVALID here (use {@link resolveRelated}).
   *
   * Allocation-free when the entry exists. The returned object is reused.
   */
  resolve(pkt: CtPacket, work: WorkCounts): CtLookup {
    this.release();
    const lk = this.#lookup;
    lk.reset(work);
    const proto = pkt.proto;
    const src = pkt.saddr;
    const dst = pkt.daddr;
    let sport = 0;
    let dport = 0;
    if (proto === Protocol.ICMP) {
      const type = pkt.dport;
      // nf_conntrack_icmpv4_error: unknown types (> NR_ICMP_TYPES = 18) are invalid;
      // error types need the inner header (resolveRelated).
      if (type > 18 || isIcmpError(type)) {
        this.stats.invalid++;
        return lk;
      }
      sport = pkt.icmpId ?? 0;
      dport = ((type & 0xff) << 8) | (pkt.sport & 0xff);
    } else if (hasPorts(proto)) {
      sport = pkt.sport;
      dport = pkt.dport;
    }
    const hash = tupleHash(proto, src, sport, dst, dport, this.#seed);
    const node = this.#find(hash, proto, src, sport, dst, dport, work);
    if (node !== null) {
      this.#fillFound(lk, node);
      return lk;
    }
    // init_conntrack
    const orig = this.#t1.set(proto, src, sport, dst, dport);
    const repl = this.#t2;
    if (!invertTuple(repl, orig)) {
      this.stats.invalid++;
      return lk;
    }
    if (!this.#allocCheck(hash, work)) {
      lk.drop = true;
      return lk;
    }
    const e = new ConntrackEntry(orig, repl);
    this.#pending = e;
    lk.entry = e;
    lk.ctinfo = 'NEW';
    lk.stateBit = CtStateBit.NEW;
    return lk;
  }

  /**
   * The protocol handler (`nf_conntrack_handle_packet`) for a packet
   * {@link resolve} attached to an entry, then the rest of `nf_conntrack_in`:
   * SEEN_REPLY is set on the first valid reply-direction packet.
   *
   * - TCP: `nf_conntrack_tcp_packet` (state table, timeouts per state,
   *   ASSURED, reopening from TIME_WAIT/CLOSE, ignored packets).
   * - UDP: `nf_conntrack_udp_packet` (30 s; after a reply, 2 s past creation:
   *   the stream timeout and ASSURED).
   * - ICMP: `nf_conntrack_icmp_packet` (only queries create entries; 30 s).
   * - Anything else: `generic_packet` (600 s).
   *
   * Returns false when the packet is INVALID: the lookup then has no entry
   * and an unconfirmed entry is freed. A SYN that reopens a closed
   * connection kills the old entry and is tracked again as NEW
   * (`-NF_REPEAT`), all inside this call.
   */
  packet(lk: CtLookup, pkt: CtPacket): boolean {
    for (;;) {
      const e = lk.entry;
      if (e === null) return false;
      const dir = lk.dirIndex;
      let v: number;
      switch (e.original.proto) {
        case Protocol.TCP:
          v = this.#tcpPacket(e, dir, pkt.flags, pkt.length);
          break;
        case Protocol.UDP:
          v = this.#udpPacket(e, dir, pkt.length);
          break;
        case 136:
          v = this.#udplitePacket(e, dir, pkt.length);
          break;
        case Protocol.ICMP:
          v = this.#icmpPacket(e, dir, pkt.length);
          break;
        default:
          this.#refreshAcct(e, dir, pkt.length, this.#genericMs);
          v = V_ACCEPT;
      }
      if (v === V_ACCEPT) {
        if (dir === 1) e.status |= IPS.SEEN_REPLY;
        return true;
      }
      if (v === V_REPEAT) {
        this.resolve(pkt, lk.work ?? new WorkCounts());
        continue;
      }
      // -NF_ACCEPT: the packet goes on without a conntrack entry
      if (!e.confirmed) this.#free(e);
      lk.entry = null;
      lk.ctinfo = 'INVALID';
      lk.stateBit = CtStateBit.INVALID;
      this.stats.invalid++;
      return false;
    }
  }

  /**
   * `nf_conntrack_inet_error` for an ICMP error (types 3, 4, 5, 11, 12):
   * finds the entry of the packet quoted inside it (`inner`, as it was sent)
   * and returns it with `ctinfo` RELATED, or INVALID when there is none or
   * when the outer destination is not the entry's destination in that
   * direction. The ICMP error itself runs no protocol handler.
   */
  resolveRelated(outer: CtPacket, inner: CtPacket, work: WorkCounts): CtLookup {
    this.release();
    const lk = this.#lookup;
    lk.reset(work);
    const q = this.#t1;
    if (inner.proto === Protocol.ICMP) {
      q.set(inner.proto, inner.saddr, inner.icmpId ?? 0, inner.daddr, ((inner.dport & 0xff) << 8) | (inner.sport & 0xff));
    } else if (hasPorts(inner.proto)) {
      q.set(inner.proto, inner.saddr, inner.sport, inner.daddr, inner.dport);
    } else {
      q.set(inner.proto, inner.saddr, 0, inner.daddr, 0);
    }
    const t = this.#t2;
    if (!invertTuple(t, q)) {
      this.stats.invalid++;
      return lk;
    }
    const hash = tupleHash(t.proto, t.src, t.sport, t.dst, t.dport, this.#seed);
    const node = this.#find(hash, t.proto, t.src, t.sport, t.dst, t.dport, work);
    if (node === null || node.tuple.dst !== outer.daddr) {
      this.stats.invalid++;
      return lk;
    }
    lk.entry = node.entry;
    lk.dirIndex = node.dir;
    lk.dir = node.dir === 1 ? 'reply' : 'original';
    lk.ctinfo = 'RELATED';
    lk.stateBit = CtStateBit.RELATED;
    return lk;
  }

  /**
   * `nf_conntrack_confirm` / `__nf_conntrack_confirm`: inserts an
   * unconfirmed entry into the table when its first packet leaves the last
   * hook. Confirmed entries pass (true). The timeout becomes absolute
   * ("relative to confirmation time"), the entry is hashed in both
   * directions at the head of its buckets and gets `IPS_CONFIRMED`.
   *
   * Returns false — the caller drops the packet and the entry is freed — when
   * the entry is dying, when its original or reply tuple is already in the
   * table (the kernel's clash resolution between CPUs is not modelled: in a
   * sequential simulation a clash means a NAT binding that could not be made
   * unique), or when a bucket chain is longer than the random limit of 50..79.
   * The table-full check is not here but in {@link resolve}.
   */
  confirm(entry: ConntrackEntry, work?: WorkCounts): boolean {
    if (entry.confirmed) return true;
    if (entry.dying) return this.#confirmFailed(entry);
    const o = entry.original;
    const r = entry.reply;
    const h = reciprocalScale(tupleHash(o.proto, o.src, o.sport, o.dst, o.dport, this.#seed), this.#nbuckets);
    const rh = reciprocalScale(tupleHash(r.proto, r.src, r.sport, r.dst, r.dport, this.#seed), this.#nbuckets);
    const maxChain = MIN_CHAINLEN + this.#rng.below(MAX_CHAINLEN);
    if (work !== undefined) work.hashProbes += 2;
    let steps = 0;
    let clash = false;
    let tooLong = false;
    let chainlen = 0;
    for (let n = this.#heads[h] ?? null; n !== null; n = n.next) {
      steps++;
      if (n.entry.confirmed && n.tuple.equals(o)) {
        clash = true;
        break;
      }
      if (chainlen++ > maxChain) {
        tooLong = true;
        break;
      }
    }
    if (!clash && !tooLong) {
      chainlen = 0;
      for (let n = this.#heads[rh] ?? null; n !== null; n = n.next) {
        steps++;
        if (n.entry.confirmed && n.tuple.equals(r)) {
          clash = true;
          break;
        }
        if (chainlen++ > maxChain) {
          tooLong = true;
          break;
        }
      }
    }
    if (work !== undefined) work.chainSteps += steps;
    if (tooLong) this.stats.chainTooLong++;
    if (clash || tooLong) return this.#confirmFailed(entry);
    const now = this.#clock.now;
    entry.timeout += now;
    this.#link(entry.nodeOriginal, h);
    this.#link(entry.nodeReply, rh);
    entry.status |= IPS.CONFIRMED;
    this.#heap.schedule(entry, entry.timeout);
    if (this.#pending === entry) this.#pending = null;
    this.stats.insert++;
    return true;
  }

  /**
   * Frees the unconfirmed entry of the last packet, if it was not confirmed
   * (the kernel frees it with the packet: `nf_ct_put` → `nf_conntrack_free`).
   * Call it when a packet that got a NEW entry is dropped; {@link resolve}
   * does it anyway before tracking the next packet.
   */
  release(): void {
    const e = this.#pending;
    if (e === null) return;
    this.#pending = null;
    if (!e.confirmed) this.#free(e);
  }

  // ------------------------------------------------------------------- NAT

  /**
   * `nf_nat_setup_info` (nf_nat_core.c): binds the `manip` side of an
   * unconfirmed entry into `range`, choosing a tuple that keeps the reply
   * tuple unique (`get_unique_tuple`), and rewrites the reply tuple so
   * replies match the entry and are translated back. Sets `IPS_SRC_NAT` /
   * `IPS_DST_NAT` when the tuple changed and `IPS_*_NAT_DONE` always.
   *
   * Port choice (`nf_nat_l4proto_unique_tuple`): keep the port when the
   * tuple is unique and in range; otherwise search the range from a random
   * offset (source manips, or `--random`/`--random-fully`) or from its
   * start (destination manips), at most 128 tries, then halving windows from
   * new random offsets. For source manips without `--random*` an existing
   * mapping of the same source (`find_appropriate_src`) is reused first.
   * In the last 32 tries for a TCP SYN, a colliding SNATed entry in
   * TIME_WAIT or CLOSE is evicted (`nf_nat_used_tuple_harder`; the kernel's
   * "sequence number advanced" test is taken as true).
   *
   * Returns true (`NF_ACCEPT`); a confirmed entry is left as it is. Returns
   * false (`NF_DROP`) when the manip was set up already.
   */
  setupNat(entry: ConntrackEntry, manip: NatManip, range: NatRange): boolean {
    if (entry.confirmed) return true;
    const r = resolveRange(range);
    return this.#setupInfo(entry, manip, r);
  }

  /**
   * Shorthand for {@link setupNat} with one address and optionally one port
   * (`--to-destination addr[:port]`, `--to-source addr[:port]`); port 0 keeps
   * the port when it is unique.
   */
  setNat(entry: ConntrackEntry, manip: NatManip, addr: IPv4, port = 0): boolean {
    return this.setupNat(entry, manip, { minAddr: addr, maxAddr: addr, minPort: port, maxPort: port });
  }

  /**
   * `nf_nat_alloc_null_binding`: what the nat hook does when no rule set up
   * the manip: a binding to the entry's own address (no port range), so the
   * source port may still change if the tuple clashes.
   */
  allocNullBinding(entry: ConntrackEntry, manip: NatManip): boolean {
    if (entry.confirmed) return true;
    const ip = manip === 'src' ? entry.reply.dst : entry.reply.src;
    return this.#setupInfo(entry, manip, { flags: R_MAP_IPS, minAddr: ip, maxAddr: ip, minPort: 0, maxPort: 0 });
  }

  /** `nf_nat_initialized`: whether the manip of this type was set up. */
  natInitialized(entry: ConntrackEntry, manip: NatManip): boolean {
    return (entry.status & (manip === 'src' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE)) !== 0;
  }

  /**
   * `nf_nat_packet` / `nf_nat_manip_pkt`: rewrites `p` for a packet travelling
   * in `dir` (0 original, 1 reply) at a hook of manip type `manip`, when the
   * entry's status says that manip applies in that direction (original: the
   * NAT bit of the same type; reply: of the other type). The packet takes
   * the addresses of the inverted tuple of the other direction: SRC manips
   * set the source, DST manips the destination; ports only for TCP, UDP,
   * UDP-Lite and SCTP (ICMP identifiers are not rewritten: lbsim packets do
   * not carry them). Returns whether it rewrote anything. No allocation.
   */
  applyNat(entry: ConntrackEntry, dir: 0 | 1, manip: NatManip, p: NatTarget): boolean {
    let bit: number = manip === 'src' ? IPS.SRC_NAT : IPS.DST_NAT;
    if (dir === 1) bit ^= IPS_NAT_MASK;
    if ((entry.status & bit) === 0) return false;
    const other = dir === 0 ? entry.reply : entry.original;
    const ports = hasPorts(p.proto);
    if (manip === 'src') {
      p.saddr = other.dst;
      if (ports) p.sport = other.dport;
    } else {
      p.daddr = other.src;
      if (ports) p.dport = other.sport;
    }
    return true;
  }

  /**
   * The tuple a packet of direction `dir` has once every NAT manip of the
   * entry has been applied (DST at PREROUTING/OUTPUT, SRC at
   * POSTROUTING/INPUT), written into `out`. For the original direction of a
   * DNATed entry this is the packet as the backend sees it; for the reply
   * direction it is what the client sees (the original addresses).
   */
  natTuple(entry: ConntrackEntry, dir: 0 | 1, out: ConntrackTuple): ConntrackTuple {
    const t = dir === 0 ? entry.original : entry.reply;
    const target = { proto: t.proto, saddr: t.src, sport: t.sport, daddr: t.dst, dport: t.dport };
    this.applyNat(entry, dir, 'dst', target);
    this.applyNat(entry, dir, 'src', target);
    return out.set(t.proto, target.saddr, target.sport, target.daddr, target.dport);
  }

  // ------------------------------------------------------------- table ops

  /**
   * `nf_conntrack_find_get`: the confirmed entry with this tuple in either
   * direction, or null. Counts no work.
   */
  find(t: ConntrackTuple): { readonly entry: ConntrackEntry; readonly dir: 0 | 1 } | null {
    const hash = tupleHash(t.proto, t.src, t.sport, t.dst, t.dport, this.#seed);
    const n = this.#find(hash, t.proto, t.src, t.sport, t.dst, t.dport, null);
    return n === null ? null : { entry: n.entry, dir: n.dir };
  }

  /**
   * Entries in table order, as `/proc/net/nf_conntrack` lists them: buckets
   * in index order, each chain from its head (newest first), one line per
   * entry (its original-direction node).
   */
  *entries(): IterableIterator<ConntrackEntry> {
    const heads = this.#heads;
    for (let b = 0; b < heads.length; b++) {
      for (let n = heads[b] ?? null; n !== null; n = n.next) {
        if (n.dir === 0) yield n.entry;
      }
    }
  }

  /** `conntrack -D` / `nf_ct_delete`: removes a confirmed entry. Returns false if it was already gone. */
  delete(entry: ConntrackEntry): boolean {
    if (!entry.confirmed) return false;
    return this.#delete(entry);
  }

  /** `conntrack -F`: deletes every confirmed entry. Returns how many. */
  flush(): number {
    const all = [...this.entries()];
    let n = 0;
    for (const e of all) if (this.#delete(e)) n++;
    return n;
  }

  /** @internal TimerOwner: expires every entry whose deadline is ≤ `now`. */
  runTimers(now: number): void {
    const heap = this.#heap;
    for (;;) {
      const e = heap.popDue(now);
      if (e === null) break;
      // nf_ct_is_expired: (s32)(timeout - now) <= 0
      if (e.timeout > now) heap.schedule(e, e.timeout);
      else this.#delete(e);
    }
  }

  // -------------------------------------------------------------- printing

  /**
   * One line of `/proc/net/nf_conntrack` (`ct_seq_show`,
   * nf_conntrack_standalone.c), without the newline:
   * `ipv4     2 tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… dst=… sport=… dport=… [ASSURED] mark=0 zone=0 use=2`.
   * Remaining seconds are `nf_ct_expires / HZ` (rounded down); `[UNREPLIED]`
   * precedes the reply tuple until a reply was seen; counters appear with
   * {@link ConntrackOptions.acct}. `zone=0` is printed as kernels built with
   * `CONFIG_NF_CONNTRACK_ZONES` (distribution kernels) do for the default
   * zone; `use=2` is the table's reference plus the one `ct_seq_show` takes.
   */
  formatEntry(entry: ConntrackEntry): string {
    const left = Math.floor(Math.max(0, entry.expires - this.#clock.now) / 1000);
    const proto = entry.original.proto;
    let s = `ipv4     2 ${l4protoName(proto).padEnd(8)} ${proto} ${left} `;
    if (proto === Protocol.TCP) s += `${entry.tcpStateName} `;
    s += `${entry.original.toString()} `;
    if (this.acct) s += `packets=${entry.packetsOriginal} bytes=${entry.bytesOriginal} `;
    if ((entry.status & IPS.SEEN_REPLY) === 0) s += '[UNREPLIED] ';
    s += `${entry.reply.toString()} `;
    if (this.acct) s += `packets=${entry.packetsReply} bytes=${entry.bytesReply} `;
    if ((entry.status & IPS.ASSURED) !== 0) s += '[ASSURED] ';
    s += `mark=${entry.mark >>> 0} zone=0 use=2`;
    return s;
  }

  /** The whole of `/proc/net/nf_conntrack`: {@link formatEntry} for each entry in table order, newline-terminated. */
  formatTable(): string {
    let s = '';
    for (const e of this.entries()) s += `${this.formatEntry(e)}\n`;
    return s;
  }

  /**
   * One line of `conntrack -L` (libnetfilter_conntrack's default formatter):
   * like {@link formatEntry} without the layer-3 columns and zone, ending in
   * `use=1`, e.g. `tcp      6 431999 ESTABLISHED src=… … [ASSURED] mark=0 use=1`.
   * The `use` value is what ctnetlink dumps for an idle entry (not verified
   * against every kernel version).
   */
  formatConntrackL(entry: ConntrackEntry): string {
    const line = this.formatEntry(entry);
    const body = line.slice('ipv4     2 '.length, line.length - ' zone=0 use=2'.length);
    return `${body} use=1`;
  }

  // ============================================================ internals

  #find(
    hash: number,
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    work: WorkCounts | null,
  ): TupleNode | null {
    const bucket = reciprocalScale(hash, this.#nbuckets);
    let steps = 0;
    let found: TupleNode | null = null;
    for (let n = this.#heads[bucket] ?? null; n !== null; n = n.next) {
      steps++;
      const t = n.dir === 0 ? n.entry.original : n.entry.reply;
      if (t.src === src && t.dst === dst && t.sport === sport && t.dport === dport && t.proto === proto) {
        if ((n.entry.status & IPS.CONFIRMED) !== 0) {
          found = n;
          break;
        }
      }
    }
    if (work !== null) {
      work.hashProbes++;
      work.chainSteps += steps;
    }
    return found;
  }

  #fillFound(lk: CtLookup, node: TupleNode): void {
    const e = node.entry;
    lk.entry = e;
    if (node.dir === 1) {
      lk.dir = 'reply';
      lk.dirIndex = 1;
      lk.ctinfo = 'ESTABLISHED';
      lk.stateBit = CtStateBit.ESTABLISHED;
    } else {
      lk.dir = 'original';
      lk.dirIndex = 0;
      const st = e.status;
      if ((st & IPS.SEEN_REPLY) !== 0) {
        lk.ctinfo = 'ESTABLISHED';
        lk.stateBit = CtStateBit.ESTABLISHED;
      } else if ((st & IPS.EXPECTED) !== 0) {
        lk.ctinfo = 'RELATED';
        lk.stateBit = CtStateBit.RELATED;
      } else {
        lk.ctinfo = 'NEW';
        lk.stateBit = CtStateBit.NEW;
      }
    }
  }

  // __nf_conntrack_alloc's limit: count first, then early_drop if over max.
  #allocCheck(hash: number, work: WorkCounts): boolean {
    this.#count++;
    if (this.#max !== 0 && this.#count > this.#max) {
      if (!this.#earlyDrop(hash, work)) {
        this.#count--;
        this.stats.drop++;
        return false;
      }
    }
    return true;
  }

  // early_drop (nf_conntrack_core.c): up to NF_CT_EVICTION_RANGE buckets from
  // the new tuple's bucket; in the first bucket that has any, every confirmed
  // entry that is not ASSURED (and not dying) is deleted.
  #earlyDrop(hash: number, work: WorkCounts): boolean {
    const size = this.#nbuckets;
    let bucket = 0;
    for (let i = 0; i < EVICTION_RANGE; i++) {
      bucket = i === 0 ? reciprocalScale(hash, size) : (bucket + 1) % size;
      work.hashProbes++;
      let drops = 0;
      // Deleted nodes keep their `next` (as RCU readers see them), so the walk goes on.
      for (let n = this.#heads[bucket] ?? null; n !== null; n = n.next) {
        work.chainSteps++;
        const e = n.entry;
        if ((e.status & (IPS.ASSURED | IPS.DYING)) !== 0) continue;
        if ((e.status & IPS.CONFIRMED) !== 0 && this.#delete(e)) drops++;
      }
      if (drops > 0) {
        this.stats.earlyDrop += drops;
        return true;
      }
    }
    return false;
  }

  #link(node: TupleNode, bucket: number): void {
    const head = this.#heads[bucket] ?? null;
    node.next = head;
    node.prev = null;
    node.bucket = bucket;
    if (head !== null) head.prev = node;
    this.#heads[bucket] = node;
  }

  #unlink(node: TupleNode): void {
    const b = node.bucket;
    if (b < 0) return;
    const prev = node.prev;
    const next = node.next;
    if (prev === null) this.#heads[b] = next;
    else prev.next = next;
    if (next !== null) next.prev = prev;
    node.prev = null;
    node.bucket = -1;
    // node.next is kept on purpose (hlist_nulls_del_rcu).
  }

  // nf_ct_delete + the final nf_ct_put: out of the table, count released.
  #delete(e: ConntrackEntry): boolean {
    if ((e.status & IPS.DYING) !== 0) return false;
    e.status |= IPS.DYING;
    this.#unlink(e.nodeOriginal);
    this.#unlink(e.nodeReply);
    this.#heap.remove(e);
    if ((e.status & IPS.SRC_NAT_DONE) !== 0) this.#removeBysource(e);
    this.#count--;
    return true;
  }

  // nf_conntrack_free of an entry that never made it into the table.
  #free(e: ConntrackEntry): void {
    if ((e.status & IPS.DYING) !== 0) return;
    e.status |= IPS.DYING;
    if ((e.status & IPS.SRC_NAT_DONE) !== 0) this.#removeBysource(e);
    if (this.#pending === e) this.#pending = null;
    this.#count--;
  }

  #confirmFailed(e: ConntrackEntry): boolean {
    this.stats.insertFailed++;
    this.#free(e);
    return false;
  }

  // nf_ct_refresh_acct
  #refreshAcct(e: ConntrackEntry, dir: number, bytes: number, extraMs: number): void {
    if ((e.status & IPS.FIXED_TIMEOUT) === 0) {
      if ((e.status & IPS.CONFIRMED) !== 0) {
        const deadline = this.#clock.now + extraMs;
        if (deadline < e.heapKey) this.#heap.schedule(e, deadline);
        e.timeout = deadline;
      } else {
        e.timeout = extraMs;
      }
    }
    this.#acct(e, dir, bytes);
  }

  #acct(e: ConntrackEntry, dir: number, bytes: number): void {
    if (dir === 0) {
      e.packetsOriginal++;
      e.bytesOriginal += bytes;
    } else {
      e.packetsReply++;
      e.bytesReply += bytes;
    }
  }

  // ------------------------------------------------------ protocol handlers

  // nf_conntrack_tcp_packet (nf_conntrack_proto_tcp.c), without window tracking.
  #tcpPacket(e: ConntrackEntry, dir: 0 | 1, flagByte: number, bytes: number): number {
    // tcp_error: PSH, ECE and CWR are always valid; the rest must be a valid combination.
    const tf = flagByte & 0x37;
    if (TCP_VALID_FLAGS[tf] !== 1) return V_INVALID;
    const index = tcpIndexOf(flagByte);
    if (!e.confirmed) {
      // tcp_new
      const first = tcpTransition(0, index, TcpState.NONE);
      if (first >= TcpState.MAX) return V_INVALID;
      if (first === TcpState.SYN_SENT) {
        e.tcpFlagsOriginal = 0;
        e.tcpFlagsReply = 0;
      } else if (!this.tcpLoose) {
        return V_INVALID;
      } else {
        // mid-stream pickup: SACK and liberal window checks in both directions
        e.tcpFlagsOriginal = TcpFlagBit.SACK_PERM | TcpFlagBit.BE_LIBERAL;
        e.tcpFlagsReply = TcpFlagBit.SACK_PERM | TcpFlagBit.BE_LIBERAL;
      }
      e.tcpLastIndex = TcpIndex.NONE;
    }
    let old = e.tcpState;
    let next = tcpTransition(dir, index, old);
    switch (next) {
      case TcpState.SYN_SENT:
        if (old >= TcpState.TIME_WAIT) {
          // RFC 1122 reopening from TIME_WAIT/CLOSE: kill and look up again.
          if (
            ((e.tcpFlagsOriginal | e.tcpFlagsReply) & TcpFlagBit.CLOSE_INIT) !== 0 ||
            (e.tcpLastDir === dir && e.tcpLastIndex === TcpIndex.RST)
          ) {
            this.#delete(e);
            return V_REPEAT;
          }
          if (!this.#tcpIgnore(e, dir, index, old)) return V_ACCEPT;
          old = TcpState.SYN_SENT;
          next = TcpState.SYN_RECV;
        }
        break;
      case TcpState.IGNORE:
        if (!this.#tcpIgnore(e, dir, index, old)) return V_ACCEPT;
        old = TcpState.SYN_SENT;
        next = TcpState.SYN_RECV;
        break;
      case TcpState.MAX:
        return V_INVALID;
      case TcpState.TIME_WAIT:
        // RFC 5961 challenge ACK to a SYN we let through in LAST_ACK: not the last ACK.
        if (
          old === TcpState.LAST_ACK &&
          index === TcpIndex.ACK &&
          e.tcpLastDir !== dir &&
          e.tcpLastIndex === TcpIndex.SYN &&
          (e.tcpLastFlags & TcpFlagBit.EXP_CHALLENGE_ACK) !== 0
        ) {
          e.tcpLastFlags &= ~TcpFlagBit.EXP_CHALLENGE_ACK;
          return V_ACCEPT;
        }
        break;
      case TcpState.SYN_SENT2:
        e.tcpLastFlags |= TcpFlagBit.SIMULTANEOUS_OPEN;
        break;
      case TcpState.SYN_RECV:
        if (dir === 1 && index === TcpIndex.ACK && (e.tcpLastFlags & TcpFlagBit.SIMULTANEOUS_OPEN) !== 0) {
          next = TcpState.ESTABLISHED;
        }
        break;
      default:
        // CLOSE on RST: the sequence checks are not modelled; the RST is taken as exact.
        break;
    }
    // tcp_in_window: not modelled, every segment is in window.
    e.tcpLastIndex = index;
    e.tcpLastDir = dir;
    e.tcpState = next;
    if (old !== next && next === TcpState.FIN_WAIT) {
      if (dir === 0) e.tcpFlagsOriginal |= TcpFlagBit.CLOSE_INIT;
      else e.tcpFlagsReply |= TcpFlagBit.CLOSE_INIT;
    }
    const to = this.#tcpTo;
    // Retransmission counting, unacknowledged data and zero windows need
    // sequence numbers and are not modelled; RST picks the CLOSE timeout.
    let timeout = index === TcpIndex.RST ? to[TcpState.CLOSE]! : to[next]!;
    if ((e.status & IPS.SEEN_REPLY) === 0) {
      // Only reply so far is a RST: delete the entry at once.
      if ((flagByte & 0x04) !== 0) {
        this.#acct(e, dir, bytes);
        this.#delete(e);
        return V_ACCEPT;
      }
      // do not renew the timeout on a SYN retransmit
      if (index === TcpIndex.SYN && old === TcpState.SYN_SENT) return V_ACCEPT;
      // mid-stream pickup without a reply: no 5-day ESTABLISHED timeout
      if (next === TcpState.ESTABLISHED && timeout > to[TcpState.UNACK]!) timeout = to[TcpState.UNACK]!;
    } else if (
      (e.status & IPS.ASSURED) === 0 &&
      (old === TcpState.SYN_RECV || old === TcpState.ESTABLISHED) &&
      next === TcpState.ESTABLISHED
    ) {
      e.status |= IPS.ASSURED;
    }
    this.#refreshAcct(e, dir, bytes, timeout);
    return V_ACCEPT;
  }

  // The TCP_CONNTRACK_IGNORE branch. Returns true when the packet is a SYN/ACK
  // answering a SYN we ignored (case b): the caller then moves SYN_SENT →
  // SYN_RECV. Otherwise it records the packet and the caller accepts it
  // without a state change or refresh. The kernel also requires the SYN/ACK's
  // ack number to match the ignored SYN; sequence numbers are not modelled,
  // so it is taken to match.
  #tcpIgnore(e: ConntrackEntry, dir: 0 | 1, index: number, old: number): boolean {
    if (index === TcpIndex.SYNACK && e.tcpLastIndex === TcpIndex.SYN && e.tcpLastDir !== dir) {
      e.tcpLastFlags &= ~TcpFlagBit.EXP_CHALLENGE_ACK;
      if (e.tcpLastDir === 0) e.tcpFlagsOriginal = e.tcpLastFlags;
      else e.tcpFlagsReply = e.tcpLastFlags;
      if (dir === 0) e.tcpFlagsOriginal &= TcpFlagBit.BE_LIBERAL;
      else e.tcpFlagsReply &= TcpFlagBit.BE_LIBERAL;
      return true;
    }
    e.tcpLastIndex = index;
    e.tcpLastDir = dir;
    if (index === TcpIndex.SYN && dir === 0) {
      // TCP options are not modelled: no window scale / SACK flags to remember.
      e.tcpLastFlags = 0;
      if (old === TcpState.LAST_ACK) e.tcpLastFlags |= TcpFlagBit.EXP_CHALLENGE_ACK;
    }
    return false;
  }

  // nf_conntrack_udp_packet (nf_conntrack_proto_udp.c)
  #udpPacket(e: ConntrackEntry, dir: 0 | 1, bytes: number): number {
    const now = this.#clock.now;
    const status = e.status;
    if ((status & IPS.CONFIRMED) === 0) e.udpStreamTs = now + UDP_STREAM_DELAY_MS;
    if ((status & IPS.SEEN_REPLY) !== 0) {
      let extra = this.#udpMs;
      let stream = false;
      // still active after two seconds? (time_after: strictly later)
      if (now > e.udpStreamTs) {
        extra = this.#udpStreamMs;
        stream = (status & IPS.ASSURED) === 0;
      }
      this.#refreshAcct(e, dir, bytes, extra);
      if ((status & IPS.NAT_CLASH) !== 0) return V_ACCEPT;
      if (stream) e.status |= IPS.ASSURED;
    } else {
      this.#refreshAcct(e, dir, bytes, this.#udpMs);
    }
    return V_ACCEPT;
  }

  // nf_conntrack_udplite_packet (nf_conntrack_proto_udp.c): no 2 s stream delay.
  #udplitePacket(e: ConntrackEntry, dir: 0 | 1, bytes: number): number {
    if ((e.status & IPS.SEEN_REPLY) !== 0) {
      this.#refreshAcct(e, dir, bytes, this.#udpStreamMs);
      if ((e.status & IPS.NAT_CLASH) !== 0) return V_ACCEPT;
      e.status |= IPS.ASSURED;
    } else {
      this.#refreshAcct(e, dir, bytes, this.#udpMs);
    }
    return V_ACCEPT;
  }

  // nf_conntrack_icmp_packet (nf_conntrack_proto_icmp.c): only the query
  // types echo, timestamp, info request and address mask make connections.
  #icmpPacket(e: ConntrackEntry, dir: 0 | 1, bytes: number): number {
    const type = e.original.dport >>> 8;
    if (type !== 8 && type !== 13 && type !== 15 && type !== 17) return V_INVALID;
    this.#refreshAcct(e, dir, bytes, this.#icmpMs);
    return V_ACCEPT;
  }

  // ------------------------------------------------------------- NAT core

  #setupInfo(entry: ConntrackEntry, manip: NatManip, range: ResolvedRange): boolean {
    const done = manip === 'src' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE;
    if ((entry.status & done) !== 0) return false;
    const curr = this.#t3;
    invertTuple(curr, entry.reply);
    const next = this.#t4;
    this.#getUniqueTuple(next, curr, range, manip, entry);
    if (!next.equals(curr)) {
      invertTuple(entry.reply, next);
      entry.status |= manip === 'src' ? IPS.SRC_NAT : IPS.DST_NAT;
    }
    if (manip === 'src') this.#addBysource(entry);
    entry.status |= done;
    return true;
  }

  // get_unique_tuple (nf_nat_core.c)
  #getUniqueTuple(out: ConntrackTuple, orig: ConntrackTuple, range: ResolvedRange, manip: NatManip, ct: ConntrackEntry): void {
    if (manip === 'src' && (range.flags & R_RANDOM_ALL) === 0) {
      if (inRange(orig, range)) {
        if (!this.#usedTupleNew(orig, ct)) {
          out.copyFrom(orig);
          return;
        }
      } else if (this.#findAppropriateSrc(orig, out, range)) {
        if (!this.#usedTuple(out, ct)) return;
      }
    }
    out.copyFrom(orig);
    findBestIps(out, range, manip);
    if ((range.flags & R_RANDOM_ALL) === 0) {
      if ((range.flags & R_PROTO_SPECIFIED) !== 0) {
        if (l4InRange(out, manip, range) && (range.minPort === range.maxPort || !this.#usedTuple(out, ct))) return;
      } else if (!this.#usedTuple(out, ct)) {
        return;
      }
    }
    this.#uniqueL4(out, range, manip, ct);
  }

  // nf_nat_l4proto_unique_tuple
  #uniqueL4(t: ConntrackTuple, range: ResolvedRange, manip: NatManip, ct: ConntrackEntry): void {
    const proto = t.proto;
    let useSport: boolean;
    let min: number;
    let size: number;
    if (proto === Protocol.ICMP) {
      useSport = true; // the id is the same for either direction
      if ((range.flags & R_PROTO_SPECIFIED) === 0) {
        min = 0;
        size = 65536;
      } else {
        min = range.minPort;
        size = range.maxPort - range.minPort + 1;
      }
    } else if (hasPorts(proto)) {
      useSport = manip === 'src';
      if ((range.flags & R_PROTO_SPECIFIED) === 0) {
        if (manip === 'dst') return; // can't change a destination port without a range
        const port = useSport ? t.sport : t.dport;
        if (port < 1024) {
          if (port < 512) {
            min = 1;
            size = 511;
          } else {
            min = 600;
            size = 1023 - 600 + 1;
          }
        } else {
          min = 1024;
          size = 65535 - 1024 + 1;
        }
      } else {
        let lo = range.minPort;
        let hi = range.maxPort;
        if (hi < lo) [lo, hi] = [hi, lo];
        min = lo;
        size = hi - lo + 1;
      }
    } else {
      return;
    }
    let off = (range.flags & R_RANDOM_ALL) !== 0 || manip !== 'dst' ? this.#rng.below(65536) : 0;
    let attempts = size > NAT_MAX_ATTEMPTS ? NAT_MAX_ATTEMPTS : size;
    for (;;) {
      for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
        const v = min + (off % size);
        if (useSport) t.sport = v;
        else t.dport = v;
        if (!this.#usedTupleHarder(t, ct, attempts - i)) return;
      }
      if (attempts >= size || attempts < 16) return;
      attempts = Math.floor(attempts / 2);
      off = this.#rng.below(65536);
    }
  }

  // nf_nat_used_tuple: is the reply of this proposed original tuple taken?
  #usedTuple(t: ConntrackTuple, ct: ConntrackEntry): boolean {
    const reply = invertInto(this.#scratch(), t);
    return reply !== null && this.#tupleTaken(reply, ct);
  }

  // nf_nat_used_tuple_new: like #usedTuple, but a clash with an un-NATed entry
  // whose tuples are exactly ours reversed is left to confirmation (only for
  // protocols that allow clashes: UDP).
  #usedTupleNew(t: ConntrackTuple, ct: ConntrackEntry): boolean {
    if (!this.#usedTuple(t, ct)) return false;
    if (t.proto !== Protocol.UDP && t.proto !== 136) return true;
    if ((ct.status & (IPS_NAT_MASK | IPS.SEQ_ADJUST)) !== 0) return true;
    let h = this.find(t);
    if (h === null) {
      const reply = invertInto(new ConntrackTuple(), t);
      h = reply === null ? null : this.find(reply);
      if (h === null) return false;
    }
    if (h.dir !== 1) return true;
    const other = h.entry;
    if ((other.status & (IPS_NAT_MASK | IPS.SEQ_ADJUST)) !== 0) return true;
    return !(other.original.equals(ct.reply) && other.reply.equals(ct.original));
  }

  // nf_nat_used_tuple_harder
  #usedTupleHarder(t: ConntrackTuple, ct: ConntrackEntry, attemptsLeft: number): boolean {
    const reply = invertInto(this.#scratch(), t);
    if (reply === null) return false;
    if (attemptsLeft > NAT_HARDER_THRESH || t.proto !== Protocol.TCP || ct.tcpState !== TcpState.SYN_SENT) {
      return this.#tupleTaken(reply, ct);
    }
    const h = this.find(reply);
    if (h === null) return false;
    if (h.dir === 0) return true;
    const other = h.entry;
    const flags = other.status;
    // nf_nat_may_kill: TIME_WAIT or later, SNATed, not fixed-timeout or dying.
    if (other.tcpState < TcpState.TIME_WAIT) return true;
    if ((flags & (IPS.FIXED_TIMEOUT | IPS.DYING)) !== 0) return true;
    if ((flags & IPS.SRC_NAT) === 0) return true;
    // nf_seq_has_advanced: sequence numbers are not modelled; taken as advanced.
    if (this.#delete(other)) return (flags & (IPS.OFFLOAD | IPS.HW_OFFLOAD)) !== 0;
    return true;
  }

  // nf_conntrack_tuple_taken
  #tupleTaken(t: ConntrackTuple, ignored: ConntrackEntry): boolean {
    const bucket = this.bucketOf(t);
    const work = this.#lookup.work;
    if (work !== null) work.hashProbes++;
    for (let n = this.#heads[bucket] ?? null; n !== null; n = n.next) {
      if (work !== null) work.chainSteps++;
      const other = n.entry;
      if (other === ignored) continue;
      if (!other.confirmed || !n.tuple.equals(t)) continue;
      // Same flow (identical original tuples): left to clash resolution.
      if (other.original.equals(ignored.original)) continue;
      return true;
    }
    return false;
  }

  // find_appropriate_src: reuse the mapping of an entry with the same source.
  #findAppropriateSrc(orig: ConntrackTuple, out: ConntrackTuple, range: ResolvedRange): boolean {
    const list = this.#bysource.get(orig.src);
    if (list === undefined) return false;
    for (let i = list.length - 1; i >= 0; i--) {
      const ct = list[i]!;
      const o = ct.original;
      if (o.proto !== orig.proto || o.src !== orig.src || o.sport !== orig.sport) continue;
      // invert(ct's reply), destination part from our tuple
      if (invertInto(out, ct.reply) === null) continue;
      out.dst = orig.dst;
      out.dport = orig.dport;
      if (inRange(out, range)) return true;
    }
    return false;
  }

  #addBysource(e: ConntrackEntry): void {
    const key = e.original.src;
    let list = this.#bysource.get(key);
    if (list === undefined) {
      list = [];
      this.#bysource.set(key, list);
    }
    list.push(e);
  }

  #removeBysource(e: ConntrackEntry): void {
    const key = e.original.src;
    const list = this.#bysource.get(key);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#bysource.delete(key);
  }

  #scratchFlip = false;
  readonly #s1 = new ConntrackTuple();
  readonly #s2 = new ConntrackTuple();

  #scratch(): ConntrackTuple {
    this.#scratchFlip = !this.#scratchFlip;
    return this.#scratchFlip ? this.#s1 : this.#s2;
  }
}

function checkMax(method: string, max: number): void {
  if (!Number.isSafeInteger(max) || max < 0 || max > 0x7fffffff) {
    throw new InvalidArgumentError(
      `lbsim/conntrack.Conntrack.${method}: max must be an integer in [0, 2147483647] (got ${max})`,
    );
  }
}

// icmp_is_err (include/linux/icmp.h): destination unreachable, source quench,
// redirect, time exceeded, parameter problem.
function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

// get_conntrack_index (nf_conntrack_proto_tcp.c)
function tcpIndexOf(flags: number): number {
  if ((flags & 0x04) !== 0) return TcpIndex.RST;
  if ((flags & 0x02) !== 0) return (flags & 0x10) !== 0 ? TcpIndex.SYNACK : TcpIndex.SYN;
  if ((flags & 0x01) !== 0) return TcpIndex.FIN;
  if ((flags & 0x10) !== 0) return TcpIndex.ACK;
  return TcpIndex.NONE;
}

// l4proto_name (nf_conntrack_standalone.c) of the tracker that handles the
// protocol; protocols lbsim tracks with the generic tracker print "unknown".
function l4protoName(proto: number): string {
  switch (proto) {
    case Protocol.ICMP:
      return 'icmp';
    case Protocol.TCP:
      return 'tcp';
    case Protocol.UDP:
      return 'udp';
    case Protocol.SCTP:
      return 'sctp';
    case 136:
      return 'udplite';
    default:
      return 'unknown';
  }
}

function invertInto(out: ConntrackTuple, t: ConntrackTuple): ConntrackTuple | null {
  return invertTuple(out, t) ? out : null;
}

function resolveRange(r: NatRange): ResolvedRange {
  const minAddr = r.minAddr >>> 0;
  const maxAddr = (r.maxAddr ?? r.minAddr) >>> 0;
  const minPort = r.minPort ?? 0;
  const maxPort = r.maxPort ?? minPort;
  for (const [name, v] of [
    ['minPort', minPort],
    ['maxPort', maxPort],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new InvalidArgumentError(`lbsim/conntrack.Conntrack.setupNat: ${name} must be an integer in [0, 65535] (got ${v})`);
    }
  }
  let flags = R_MAP_IPS;
  if (minPort !== 0 || maxPort !== 0) flags |= R_PROTO_SPECIFIED;
  if (r.random === true) flags |= R_PROTO_RANDOM;
  if (r.randomFully === true) flags |= R_PROTO_RANDOM_FULLY;
  if (r.persistent === true) flags |= R_PERSISTENT;
  return { flags, minAddr, maxAddr, minPort, maxPort };
}

// nf_in_range: only used for source manips.
function inRange(t: ConntrackTuple, range: ResolvedRange): boolean {
  if ((range.flags & R_MAP_IPS) !== 0 && (t.src < range.minAddr || t.src > range.maxAddr)) return false;
  if ((range.flags & R_PROTO_SPECIFIED) === 0) return true;
  return l4InRange(t, 'src', range);
}

// l4proto_in_range
function l4InRange(t: ConntrackTuple, manip: NatManip, range: ResolvedRange): boolean {
  if (t.proto === Protocol.ICMP) return t.sport >= range.minPort && t.sport <= range.maxPort;
  if (hasPorts(t.proto) || t.proto === 47) {
    const port = manip === 'src' ? t.sport : t.dport;
    return port >= range.minPort && port <= range.maxPort;
  }
  return true;
}

// find_best_ips_proto: with more than one address, hash the source address
// (and, unless --persistent, the destination) to pick one. jhash2 reads the
// 16-byte nf_inet_addr as four native-endian words: the IPv4 address in
// network byte order, then zeros.
function findBestIps(t: ConntrackTuple, range: ResolvedRange, manip: NatManip): void {
  if ((range.flags & R_MAP_IPS) === 0) return;
  let chosen: number;
  if (range.minAddr === range.maxAddr) {
    chosen = range.minAddr;
  } else {
    const persistent = (range.flags & R_PERSISTENT) !== 0;
    const j = jhash2Words4(bswap32(t.src), 0, 0, 0, persistent ? 0 : bswap32(t.dst));
    const dist = (range.maxAddr - range.minAddr + 1) >>> 0;
    chosen = (range.minAddr + reciprocalScale(j, dist)) >>> 0;
  }
  if (manip === 'src') t.src = chosen;
  else t.dst = chosen;
}
