import type { WorkCounts } from '../classify/work.js';
import { InvalidArgumentError } from '../errors.js';
import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import { ConnFlag, type Conn } from './conn.js';
import { jhash3words } from './hash.js';

/** Smallest and largest `conn_tab_bits` lbsim accepts (the 32-bit Kconfig range). */
export const CONN_TAB_BITS_MIN = 8;
/** See {@link CONN_TAB_BITS_MIN}. */
export const CONN_TAB_BITS_MAX = 20;
/** Default `CONFIG_IP_VS_TAB_BITS`. */
export const CONN_TAB_BITS_DEFAULT = 12;

/**
 * The IPVS connection table (torvalds/linux `net/netfilter/ipvs/ip_vs_conn.c`):
 * 2^bits chained buckets, new entries at the chain head, keyed by
 * `jhash_3words(addr, port, proto, rnd)` of the client side so that one
 * entry serves both directions. Every lookup counts one hash probe and one
 * chain step per entry compared, so a crowded table shows its cost.
 */
export class ConnTable {
  /** `conn_tab_bits`. */
  readonly bits: number;
  /** Number of buckets (`ip_vs_conn_tab_size`). */
  readonly size: number;
  readonly #mask: number;
  readonly #rnd: number;
  readonly #buckets: (Conn | null)[];
  #count = 0;

  /**
   * @param bits - `conn_tab_bits`, 8..20
   * @param rnd - the boot-time random `ip_vs_conn_rnd`
   * @throws {InvalidArgumentError} for bits outside 8..20
   */
  constructor(bits: number, rnd: number) {
    if (!Number.isInteger(bits) || bits < CONN_TAB_BITS_MIN || bits > CONN_TAB_BITS_MAX) {
      throw new InvalidArgumentError(
        `lbsim/ipvs.ConnTable: conn_tab_bits must be an integer in [${CONN_TAB_BITS_MIN}, ${CONN_TAB_BITS_MAX}] (got ${bits})`,
      );
    }
    this.bits = bits;
    this.size = 1 << bits;
    this.#mask = this.size - 1;
    this.#rnd = rnd >>> 0;
    this.#buckets = new Array<Conn | null>(this.size).fill(null);
  }

  /** Number of hashed entries (connections and templates). */
  get count(): number {
    return this.#count;
  }

  /**
   * `ip_vs_conn_hashkey`: the kernel hashes the address and port as they sit
   * in the packet (network byte order read as a host integer on x86), so
   * lbsim byte-swaps them before hashing.
   */
  hashKey(proto: number, addr: IPv4, port: Port): number {
    return jhash3words(bswap32(addr), bswap16(port), proto, this.#rnd) & this.#mask;
  }

  /** Hashes `c` at the head of its bucket (`ip_vs_conn_hash`). */
  insert(c: Conn): void {
    const b = this.hashKey(c.proto, c.caddr, c.cport);
    const head = this.#buckets[b] as Conn | null;
    c.bucket = b;
    c.hashPrev = null;
    c.hashNext = head;
    if (head !== null) head.hashPrev = c;
    this.#buckets[b] = c;
    this.#count++;
  }

  /** Unhashes `c` (`ip_vs_conn_unhash`); returns whether it was hashed. */
  remove(c: Conn): boolean {
    const b = c.bucket;
    if (b < 0) return false;
    const prev = c.hashPrev;
    const next = c.hashNext;
    if (prev === null) this.#buckets[b] = next;
    else prev.hashNext = next;
    if (next !== null) next.hashPrev = prev;
    c.hashNext = null;
    c.hashPrev = null;
    c.bucket = -1;
    this.#count--;
    return true;
  }

  /**
   * `__ip_vs_conn_in_get`: the entry for a client→virtual packet.
   * Templates never match because their cport is 0 and a packet's is not.
   */
  lookupIn(proto: number, caddr: IPv4, cport: Port, vaddr: IPv4, vport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    let c = (this.#buckets[this.hashKey(proto, caddr, cport)] as Conn | null);
    while (c !== null) {
      work.chainSteps++;
      if (
        c.cport === cport &&
        c.vport === vport &&
        c.caddr === caddr &&
        c.vaddr === vaddr &&
        c.proto === proto &&
        (c.flags & ConnFlag.TEMPLATE) === 0
      ) {
        return c;
      }
      c = c.hashNext;
    }
    return null;
  }

  /**
   * `ip_vs_conn_out_get`: the entry a server→client reply belongs to. The
   * reply's destination is the client, so it lands in the same bucket.
   */
  lookupOut(proto: number, saddr: IPv4, sport: Port, daddr: IPv4, dport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    let c = (this.#buckets[this.hashKey(proto, daddr, dport)] as Conn | null);
    while (c !== null) {
      work.chainSteps++;
      if (
        c.cport === dport &&
        c.dport === sport &&
        c.caddr === daddr &&
        c.daddr === saddr &&
        c.proto === proto &&
        (c.flags & ConnFlag.TEMPLATE) === 0
      ) {
        return c;
      }
      c = c.hashNext;
    }
    return null;
  }

  /** `ip_vs_ct_in_get`: a persistence template ⟨proto, snet, 0, vaddr, vport⟩. */
  lookupTemplate(proto: number, snet: IPv4, vaddr: IPv4, vport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    let c = (this.#buckets[this.hashKey(proto, snet, 0)] as Conn | null);
    while (c !== null) {
      work.chainSteps++;
      if (
        c.caddr === snet &&
        c.vaddr === vaddr &&
        c.vport === vport &&
        c.cport === 0 &&
        (c.flags & ConnFlag.TEMPLATE) !== 0 &&
        c.proto === proto
      ) {
        return c;
      }
      c = c.hashNext;
    }
    return null;
  }

  /** Length of the longest chain (for reports). */
  longestChain(): number {
    let max = 0;
    for (let b = 0; b < this.size; b++) {
      let n = 0;
      for (let c = (this.#buckets[b] as Conn | null); c !== null; c = c.hashNext) n++;
      if (n > max) max = n;
    }
    return max;
  }

  /** Entries in table order: bucket 0 first, each chain from its head (the order `/proc/net/ip_vs_conn` lists). */
  *[Symbol.iterator](): IterableIterator<Conn> {
    for (let b = 0; b < this.size; b++) {
      for (let c = (this.#buckets[b] as Conn | null); c !== null; c = c.hashNext) yield c;
    }
  }

  /** Drops every entry (without unbinding: the engine does that). */
  clear(): void {
    for (let b = 0; b < this.size; b++) {
      for (let c = (this.#buckets[b] as Conn | null); c !== null; ) {
        const next = c.hashNext;
        c.hashNext = null;
        c.hashPrev = null;
        c.bucket = -1;
        c = next;
      }
      this.#buckets[b] = null;
    }
    this.#count = 0;
  }
}

function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}
