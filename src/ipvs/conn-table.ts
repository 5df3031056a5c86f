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

// One hashed entry is a record of REC int32 words in #rec, at slot * REC:
const REC = 8;
const R_CADDR = 0; // caddr | 0
const R_VADDR = 1; // vaddr | 0
const R_PORTS = 2; // cport << 16 | vport
const R_DADDR = 3; // daddr | 0
const R_DPP = 4; // dport | proto << 16 | TEMPLATE_BIT
const R_NEXT = 5; // next slot in the chain, -1 at the tail
const R_PREV = 6; // previous slot in the chain, -1 at the head
const R_BUCKET = 7; // bucket index
const TEMPLATE_BIT = 1 << 24;
const INITIAL_SLOTS = 1024;

/**
 * The IPVS connection table (torvalds/linux `net/netfilter/ipvs/ip_vs_conn.c`):
 * 2^bits chained buckets, new entries at the chain head, keyed by
 * `jhash_3words(addr, port, proto, rnd)` of the client side so that one
 * entry serves both directions. Every lookup counts one hash probe and one
 * chain step per entry compared, so a crowded table shows its cost.
 *
 * Layout (the simulator's, not the kernel's): each hashed entry owns a slot;
 * its lookup key (the fields the kernel compares, which do not change while
 * the entry is hashed) and its chain links live in one packed `Int32Array`
 * record of 32 bytes, and the bucket heads in another `Int32Array`. A chain
 * walk therefore compares integers in a compact array and touches the
 * {@link Conn} object only for the entry it returns. Slots freed by
 * {@link ConnTable.remove} are reused first, so the records of live entries
 * stay dense.
 */
export class ConnTable {
  /** `conn_tab_bits`. */
  readonly bits: number;
  /** Number of buckets (`ip_vs_conn_tab_size`). */
  readonly size: number;
  readonly #mask: number;
  readonly #rnd: number;
  /** Bucket heads: a slot, or -1 for an empty bucket. */
  readonly #heads: Int32Array;
  /** Entry records, {@link REC} words per slot. */
  #rec: Int32Array = new Int32Array(INITIAL_SLOTS * REC);
  /** The entry owning each slot (null when the slot is free). */
  readonly #objs: (Conn | null)[] = [];
  /** Free slots below `#objs.length`, reused last-freed first. */
  readonly #freeSlots: number[] = [];
  #count = 0;
  // The last hashKey computed: a new connection hashes the tuple its lookup just hashed.
  #lastProto = -1;
  #lastAddr = 0;
  #lastPort = 0;
  #lastBucket = 0;

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
    this.#heads = new Int32Array(this.size).fill(-1);
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
    if (port === this.#lastPort && addr === this.#lastAddr && proto === this.#lastProto) return this.#lastBucket;
    return this.#hash(proto, addr, port);
  }

  // Hashes without consulting the one-entry cache (a lookup's tuple rarely
  // repeats the previous one) but records the result for the insert that may follow.
  #hash(proto: number, addr: IPv4, port: Port): number {
    const b = jhash3words(bswap32(addr), bswap16(port), proto, this.#rnd) & this.#mask;
    this.#lastProto = proto;
    this.#lastAddr = addr;
    this.#lastPort = port;
    this.#lastBucket = b;
    return b;
  }

  /** Hashes `c` at the head of its bucket (`ip_vs_conn_hash`). */
  insert(c: Conn): void {
    const b = this.hashKey(c.proto, c.caddr, c.cport);
    const objs = this.#objs;
    let s: number;
    if (this.#freeSlots.length > 0) {
      s = this.#freeSlots.pop()!;
      objs[s] = c;
    } else {
      s = objs.length;
      if (s * REC === this.#rec.length) this.#grow();
      objs.push(c);
    }
    const rec = this.#rec;
    const o = s * REC;
    const head = this.#heads[b]!;
    rec[o + R_CADDR] = c.caddr;
    rec[o + R_VADDR] = c.vaddr;
    rec[o + R_PORTS] = (c.cport << 16) | c.vport;
    rec[o + R_DADDR] = c.daddr;
    rec[o + R_DPP] = c.dport | (c.proto << 16) | ((c.flags & ConnFlag.TEMPLATE) !== 0 ? TEMPLATE_BIT : 0);
    rec[o + R_NEXT] = head;
    rec[o + R_PREV] = -1;
    rec[o + R_BUCKET] = b;
    if (head >= 0) rec[head * REC + R_PREV] = s;
    this.#heads[b] = s;
    c.slot = s;
    this.#count++;
  }

  /** Unhashes `c` (`ip_vs_conn_unhash`); returns whether it was hashed. */
  remove(c: Conn): boolean {
    const s = c.slot;
    if (s < 0) return false;
    const rec = this.#rec;
    const o = s * REC;
    const prev = rec[o + R_PREV]!;
    const next = rec[o + R_NEXT]!;
    if (prev < 0) this.#heads[rec[o + R_BUCKET]!] = next;
    else rec[prev * REC + R_NEXT] = next;
    if (next >= 0) rec[next * REC + R_PREV] = prev;
    rec[o + R_NEXT] = -1;
    this.#objs[s] = null;
    this.#freeSlots.push(s);
    c.slot = -1;
    this.#count--;
    return true;
  }

  /**
   * `__ip_vs_conn_in_get`: the entry for a client→virtual packet.
   * Templates never match because their cport is 0 and a packet's is not
   * (and the record's template bit keeps them out in any case).
   */
  lookupIn(proto: number, caddr: IPv4, cport: Port, vaddr: IPv4, vport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    const rec = this.#rec;
    const ports = (cport << 16) | vport;
    const ca = caddr | 0;
    const va = vaddr | 0;
    let steps = 0;
    let s = this.#heads[this.#hash(proto, caddr, cport)]!;
    while (s >= 0) {
      steps++;
      const o = s * REC;
      if (rec[o + R_PORTS] === ports && rec[o + R_CADDR] === ca && rec[o + R_VADDR] === va && rec[o + R_DPP]! >>> 16 === proto) {
        work.chainSteps += steps;
        return this.#objs[s]!;
      }
      s = rec[o + R_NEXT]!;
    }
    work.chainSteps += steps;
    return null;
  }

  /**
   * `ip_vs_conn_out_get`: the entry a server→client reply belongs to. The
   * reply's destination is the client, so it lands in the same bucket.
   */
  lookupOut(proto: number, saddr: IPv4, sport: Port, daddr: IPv4, dport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    const rec = this.#rec;
    const sa = saddr | 0;
    const da = daddr | 0;
    const dpp = sport | (proto << 16);
    let steps = 0;
    let s = this.#heads[this.#hash(proto, daddr, dport)]!;
    while (s >= 0) {
      steps++;
      const o = s * REC;
      if (rec[o + R_PORTS]! >>> 16 === dport && rec[o + R_DPP] === dpp && rec[o + R_CADDR] === da && rec[o + R_DADDR] === sa) {
        work.chainSteps += steps;
        return this.#objs[s]!;
      }
      s = rec[o + R_NEXT]!;
    }
    work.chainSteps += steps;
    return null;
  }

  /** `ip_vs_ct_in_get`: a persistence template ⟨proto, snet, 0, vaddr, vport⟩. */
  lookupTemplate(proto: number, snet: IPv4, vaddr: IPv4, vport: Port, work: WorkCounts): Conn | null {
    work.hashProbes++;
    const rec = this.#rec;
    const sn = snet | 0;
    const va = vaddr | 0;
    const pt = proto | (TEMPLATE_BIT >>> 16);
    let steps = 0;
    let s = this.#heads[this.#hash(proto, snet, 0)]!;
    while (s >= 0) {
      steps++;
      const o = s * REC;
      // cport 0 and vport: the whole ports word is vport.
      if (rec[o + R_CADDR] === sn && rec[o + R_VADDR] === va && rec[o + R_PORTS] === vport && rec[o + R_DPP]! >>> 16 === pt) {
        work.chainSteps += steps;
        return this.#objs[s]!;
      }
      s = rec[o + R_NEXT]!;
    }
    work.chainSteps += steps;
    return null;
  }

  /** Length of the longest chain (for reports). */
  longestChain(): number {
    const rec = this.#rec;
    let max = 0;
    for (let b = 0; b < this.size; b++) {
      let n = 0;
      for (let s = this.#heads[b]!; s >= 0; s = rec[s * REC + R_NEXT]!) n++;
      if (n > max) max = n;
    }
    return max;
  }

  /** Entries in table order: bucket 0 first, each chain from its head (the order `/proc/net/ip_vs_conn` lists). */
  *[Symbol.iterator](): IterableIterator<Conn> {
    for (let b = 0; b < this.size; b++) {
      for (let s = this.#heads[b]!; s >= 0; s = this.#rec[s * REC + R_NEXT]!) yield this.#objs[s]!;
    }
  }

  /** Drops every entry (without unbinding: the engine does that). */
  clear(): void {
    for (const c of this.#objs) if (c !== null) c.slot = -1;
    this.#objs.length = 0;
    this.#freeSlots.length = 0;
    this.#heads.fill(-1);
    this.#count = 0;
  }

  #grow(): void {
    const rec = new Int32Array(this.#rec.length * 2);
    rec.set(this.#rec);
    this.#rec = rec;
  }
}

function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}
