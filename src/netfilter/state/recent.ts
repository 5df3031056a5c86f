import { InvalidArgumentError, OperationError } from '../../errors.js';
import { formatIPv4, tryParseIPv4 } from '../../net/ipv4.js';
import type { RecentMatch } from '../ast.js';

/**
 * `-m recent` (net/netfilter/xt_recent.c, kernel 4.10 and later): per-name
 * tables of recently seen addresses, each with a ring of packet timestamps.
 *
 * Time is the kernel's jiffies: `jiffies = floor(nowMs * HZ / 1000)` with HZ
 * 1000 by default (so one jiffy is one millisecond of simulated time); the
 * `/proc` listing prints these jiffies. `--seconds` is compared in jiffies
 * as the kernel does (`jiffies - seconds * HZ`, the product taken modulo
 * 2^32 as the kernel's `u32 * HZ` is).
 *
 * Module parameters (xt_recent): `ip_list_tot` entries per table (default
 * 100; the oldest entry by LRU is dropped to make room) and
 * `ip_pkt_list_tot` (default 0: the timestamp ring then holds 32 stamps, or
 * the next power of two ≥ the largest `--hitcount`; see
 * {@link RecentTables.register}). Entries are listed in LRU order (oldest
 * first); the kernel lists them in hash-bucket order.
 *
 * Kernel versions: since 6.11 ("xt_recent: Largely lift restrictions on max
 * hitcount value") any u32 hitcount is accepted and the ring index is a
 * u32; from 4.10 to 6.10 a hitcount of 256 or more is refused and the index
 * is a u8. The default is the newer behaviour; `legacyHitcountLimit` selects
 * the older one. Checked on kernel 6.18: `--hitcount 300` is accepted.
 *
 * @module
 */

/** The packet fields `-m recent` reads. */
export interface RecentPacket {
  readonly saddr: number;
  readonly daddr: number;
}

/** Module parameters and clock resolution. */
export interface RecentOptions {
  /** `ip_list_tot`: entries per table (default 100). */
  readonly ipListTot?: number;
  /** `ip_pkt_list_tot`: timestamps per entry hint (default 0 = unset; max 255). */
  readonly ipPktListTot?: number;
  /** Kernel HZ (default 1000). */
  readonly hz?: number;
  /** Kernels 4.10–6.10: refuse hitcounts ≥ 256 and keep the ring index in a u8 (default false). */
  readonly legacyHitcountLimit?: boolean;
}

/** Largest ring lbsim allocates per entry (a hitcount above this is refused as the kernel's kmalloc would fail). */
export const RECENT_MAX_RING: number = 1 << 20;

/** XT_RECENT_MAX_NSTAMPS of kernels 4.10–6.10: hitcounts must be below it. */
export const XT_RECENT_MAX_NSTAMPS = 256;
/** XT_RECENT_NAME_LEN: names are at most 199 characters. */
export const XT_RECENT_NAME_LEN = 200;

class RecentEntry {
  addr: number;
  ttl: number;
  /** Ring index of the next stamp + 1 (the kernel's `index`; a u8 before 6.11). */
  index = 1;
  /** Stamps recorded so far (≤ ring size). */
  nstamps = 1;
  stamps: number[];
  /** LRU list links. */
  prev: RecentEntry | null = null;
  next: RecentEntry | null = null;

  constructor(addr: number, ttl: number, size: number, now: number) {
    this.addr = addr;
    this.ttl = ttl;
    this.stamps = new Array<number>(size).fill(0);
    this.stamps[0] = now;
  }
}

/** One named table. */
class RecentTable {
  readonly name: string;
  /** The mask of the rule that created the table (later rules share it: recent_mt() masks with `t->mask`). */
  readonly mask: number;
  refcnt = 1;
  nstampsMaxMask: number;
  readonly byAddr = new Map<number, RecentEntry>();
  /** LRU: head is the oldest. */
  head: RecentEntry | null = null;
  tail: RecentEntry | null = null;

  constructor(name: string, mask: number, nstampsMaxMask: number) {
    this.name = name;
    this.mask = mask;
    this.nstampsMaxMask = nstampsMaxMask;
  }

  unlink(e: RecentEntry): void {
    if (e.prev === null) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
  }

  append(e: RecentEntry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
  }

  remove(e: RecentEntry): void {
    this.unlink(e);
    this.byAddr.delete(e.addr);
  }

  flush(): void {
    this.byAddr.clear();
    this.head = null;
    this.tail = null;
  }
}

/** One `/proc/net/xt_recent/NAME` line as data. */
export interface RecentEntryInfo {
  readonly addr: number;
  readonly ttl: number;
  /** Jiffies of the most recent packet. */
  readonly lastSeen: number;
  /** The kernel's `index` (printed as `oldest_pkt`). */
  readonly oldestPkt: number;
  /** Recorded stamps in ring order. */
  readonly stamps: readonly number[];
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The recent tables of one network namespace. */
export class RecentTables {
  readonly #tables = new Map<string, RecentTable>();
  readonly #ipListTot: number;
  readonly #ipPktListTot: number;
  readonly #hz: number;
  readonly #indexMask: number;
  readonly #legacy: boolean;

  /** @param options - module parameters and HZ */
  constructor(options: RecentOptions = {}) {
    const tot = options.ipListTot ?? 100;
    const pkt = options.ipPktListTot ?? 0;
    const hz = options.hz ?? 1000;
    if (!(Number.isInteger(tot) && tot >= 1)) {
      throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.constructor: ipListTot must be a positive integer (got ${tot})`);
    }
    const legacy = options.legacyHitcountLimit === true;
    const maxPkt = legacy ? 255 : RECENT_MAX_RING;
    if (!(Number.isInteger(pkt) && pkt >= 0 && pkt <= maxPkt)) {
      throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.constructor: ipPktListTot must be an integer in [0, ${maxPkt}] (got ${pkt})`);
    }
    if (!(Number.isInteger(hz) && hz >= 1 && hz <= 1000)) {
      throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.constructor: hz must be an integer in [1, 1000] (got ${hz})`);
    }
    this.#ipListTot = tot;
    this.#ipPktListTot = pkt;
    this.#hz = hz;
    this.#legacy = legacy;
    this.#indexMask = legacy ? 0xff : 0xffffffff;
  }

  /** The kernel's jiffies at a simulated time. */
  jiffies(nowMs: number): number {
    return Math.floor((nowMs * this.#hz) / 1000);
  }

  /**
   * A rule with this match is loaded (recent_mt_check): validates the
   * options as the kernel does and creates or references the table.
   * The timestamp ring holds `roundup_pow_of_two(ip_pkt_list_tot)` stamps
   * when that parameter is set and larger than the hitcount, else
   * `roundup_pow_of_two(hitcount)`, else 32. A rule needing a larger ring
   * than an existing table has flushes that table and enlarges it.
   *
   * @throws {OperationError} EINVAL for what the kernel refuses: `--set`/`--remove`
   *   with `--seconds`, `--hitcount`, `--rttl` or `--reap`; `--reap` without
   *   `--seconds`; a hitcount of 256 or more (legacy kernels only); a name
   *   that is empty, too long, `.`, `..` or contains `/` (xt_check_proc_name)
   * @throws {InvalidArgumentError} for a hitcount above {@link RECENT_MAX_RING}
   */
  register(spec: RecentMatch): void {
    const mask = this.#check(spec, 'register');
    const t = this.#tables.get(spec.name);
    if (t !== undefined) {
      if (mask > t.nstampsMaxMask) {
        t.flush();
        t.nstampsMaxMask = mask;
      }
      t.refcnt++;
      return;
    }
    this.#tables.set(spec.name, new RecentTable(spec.name, spec.mask >>> 0, mask));
  }

  /**
   * The checks of {@link RecentTables.register} without creating, referencing or
   * flushing anything (for validating a rule before it is loaded).
   *
   * @throws {OperationError} EINVAL as {@link RecentTables.register}
   */
  check(spec: RecentMatch): void {
    this.#check(spec, 'check');
  }

  /** recent_mt_check()'s validation; returns the ring mask the rule needs. */
  #check(spec: RecentMatch, method: string): number {
    const where = `lbsim/netfilter.state.RecentTables.${method}`;
    const einval = (why: string): never => {
      throw new OperationError('EINVAL', `${where}: ${why}`);
    };
    if ((spec.command === 'set' || spec.command === 'remove') && (spec.seconds !== 0 || spec.hitcount !== 0 || spec.rttl || spec.reap)) {
      einval(`--${spec.command} cannot be combined with --seconds, --hitcount, --rttl or --reap`);
    }
    if (spec.reap && spec.seconds === 0) einval('--reap needs --seconds');
    if (!(Number.isInteger(spec.hitcount) && spec.hitcount >= 0)) einval(`invalid hitcount ${spec.hitcount}`);
    if (this.#legacy && spec.hitcount >= XT_RECENT_MAX_NSTAMPS) {
      einval(`hitcount (${spec.hitcount}) is larger than allowed maximum (${XT_RECENT_MAX_NSTAMPS - 1})`);
    }
    if (spec.hitcount > RECENT_MAX_RING) {
      throw new InvalidArgumentError(`${where}: lbsim keeps at most ${RECENT_MAX_RING} stamps per entry (hitcount ${spec.hitcount})`);
    }
    if (!(Number.isInteger(spec.seconds) && spec.seconds >= 0 && spec.seconds <= 0xffffffff)) einval(`invalid seconds ${spec.seconds}`);
    const n = spec.name;
    if (n.length === 0 || n.length >= XT_RECENT_NAME_LEN || n === '.' || n === '..' || n.includes('/')) {
      einval(`invalid list name ${JSON.stringify(n)}`);
    }
    let mask: number;
    if (this.#ipPktListTot !== 0 && spec.hitcount < this.#ipPktListTot) mask = roundupPow2(this.#ipPktListTot) - 1;
    else if (spec.hitcount !== 0) mask = roundupPow2(spec.hitcount) - 1;
    else mask = 31;
    return mask;
  }

  /** A rule with this match is deleted (recent_mt_destroy): the last reference frees the table. */
  unregister(spec: RecentMatch): void {
    const t = this.#tables.get(spec.name);
    if (t === undefined) {
      throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.unregister: no table ${JSON.stringify(spec.name)}`);
    }
    if (--t.refcnt === 0) this.#tables.delete(spec.name);
  }

  /** Whether a table exists. */
  has(name: string): boolean {
    return this.#tables.has(name);
  }

  /**
   * recent_mt(): evaluates the match for a packet at `nowMs` and updates the
   * table. The table must have been registered (the rule loaded); an
   * unregistered one is registered on first use.
   *
   * - The address (source, or destination with `--rdest`) is masked with
   *   the table's mask and looked up; with `--rttl` the TTL must equal the
   *   stored one (a stored or given TTL of 0 matches any).
   * - Not found: `--set` adds it (oldest entry dropped when the table holds
   *   `ip_list_tot`) and matches; the other commands do not match.
   * - `--set` records a stamp and matches; `--remove` removes and matches;
   *   `--rcheck`/`--update` match when at least `hitcount` (1 if not given)
   *   stamps are no older than `seconds` (all stamps if not given);
   *   `--reap` then drops the table's oldest entry if its last stamp is
   *   older than `seconds`; `--update` records a stamp when the result
   *   (after `!`) is true.
   *
   * @param ttl - the packet's TTL; pass TTL + 1 for a forwarded packet in a
   *   hook with an output device, as the kernel uses "TTL as seen before
   *   forwarding"
   */
  evaluate(spec: RecentMatch, pkt: RecentPacket, nowMs: number, ttl = 64): boolean {
    let t = this.#tables.get(spec.name);
    if (t === undefined) {
      this.register(spec);
      t = this.#tables.get(spec.name)!;
    }
    const now = this.jiffies(nowMs);
    let ret = spec.invert;
    const addr = ((spec.side === 'dest' ? pkt.daddr : pkt.saddr) & t.mask) >>> 0;
    const want = spec.rttl ? ttl & 255 : 0;
    let e = t.byAddr.get(addr);
    if (e !== undefined && !(want === e.ttl || want === 0 || e.ttl === 0)) e = undefined;
    if (e === undefined) {
      if (spec.command !== 'set') return ret;
      this.#init(t, addr, ttl & 255, now);
      return !ret;
    }
    if (spec.command === 'set') {
      ret = !ret;
    } else if (spec.command === 'remove') {
      t.remove(e);
      return !ret;
    } else {
      const time = now - ((spec.seconds * this.#hz) % 0x100000000);
      const need = spec.hitcount;
      let hits = 0;
      for (let i = 0; i < e.nstamps; i++) {
        if (spec.seconds !== 0 && time > e.stamps[i]!) continue;
        if (need === 0 || ++hits >= need) {
          ret = !ret;
          break;
        }
      }
      // The entry about to be updated is never reaped ("xt_recent: Fix attempt to update deleted entry").
      if (spec.reap) this.#reap(t, time, e, spec.command === 'update' && ret);
    }
    if (spec.command === 'set' || (spec.command === 'update' && ret)) {
      this.#update(t, e, now);
      e.ttl = ttl & 255;
    }
    return ret;
  }

  /**
   * The table as data, oldest entry first.
   *
   * @throws {InvalidArgumentError} when there is no such table
   */
  entries(name: string): RecentEntryInfo[] {
    const t = this.#table('entries', name);
    const out: RecentEntryInfo[] = [];
    for (let e = t.head; e !== null; e = e.next) {
      out.push({
        addr: e.addr,
        ttl: e.ttl,
        lastSeen: e.stamps[((e.index - 1) & t.nstampsMaxMask) >>> 0]!,
        oldestPkt: e.index,
        stamps: e.stamps.slice(0, e.nstamps),
      });
    }
    return out;
  }

  /**
   * `/proc/net/xt_recent/NAME` (recent_seq_show): one line per entry,
   * `src=1.2.3.4 ttl: 64 last_seen: 5000 oldest_pkt: 2 4000, 5000`.
   */
  procText(name: string): string {
    let out = '';
    for (const e of this.entries(name)) {
      out += `src=${formatIPv4(e.addr)} ttl: ${e.ttl} last_seen: ${e.lastSeen} oldest_pkt: ${e.oldestPkt}`;
      for (let i = 0; i < e.stamps.length; i++) out += `${i > 0 ? ',' : ''} ${e.stamps[i]!}`;
      out += '\n';
    }
    return out;
  }

  /**
   * A write to `/proc/net/xt_recent/NAME` (recent_mt_proc_write): `/` flushes,
   * `+ADDR` adds or refreshes an address (TTL 0), `-ADDR` removes it.
   *
   * @throws {InvalidArgumentError} EINVAL cases: another first character or an illegal address
   */
  procWrite(name: string, text: string, nowMs: number): void {
    const where = 'procWrite';
    const t = this.#table(where, name);
    const c = text[0];
    if (c === '/') {
      t.flush();
      return;
    }
    if (c !== '+' && c !== '-') {
      throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.${where}: Need "+ip", "-ip" or "/"`);
    }
    const body = text.slice(1).replace(/\n$/, '');
    const addr = tryParseIPv4(body);
    if (addr < 0) throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.${where}: illegal address written to procfs`);
    const e = t.byAddr.get(addr);
    const now = this.jiffies(nowMs);
    if (e === undefined) {
      if (c === '+') this.#init(t, addr, 0, now);
    } else if (c === '+') {
      this.#update(t, e, now);
    } else {
      t.remove(e);
    }
  }

  #table(where: string, name: string): RecentTable {
    const t = this.#tables.get(name);
    if (t === undefined) throw new InvalidArgumentError(`lbsim/netfilter.state.RecentTables.${where}: no table ${JSON.stringify(name)}`);
    return t;
  }

  /** recent_entry_init(): drop the LRU head when full, then append a new entry with one stamp. */
  #init(t: RecentTable, addr: number, ttl: number, now: number): void {
    if (t.byAddr.size >= this.#ipListTot && t.head !== null) t.remove(t.head);
    const e = new RecentEntry(addr, ttl, t.nstampsMaxMask + 1, now);
    t.byAddr.set(addr, e);
    t.append(e);
  }

  /** recent_entry_update(): next ring slot, and move to the LRU tail. */
  #update(t: RecentTable, e: RecentEntry, now: number): void {
    e.index &= t.nstampsMaxMask;
    e.stamps[e.index] = now;
    e.index = (e.index + 1) & this.#indexMask;
    if (e.index > e.nstamps) e.nstamps = e.index;
    t.unlink(e);
    t.append(e);
  }

  /** recent_entry_reap(): drop the LRU head if its most recent stamp is older than `time`, unless it is the entry being updated. */
  #reap(t: RecentTable, time: number, working: RecentEntry, update: boolean): void {
    const h = t.head;
    if (h === null || (h === working && update)) return;
    if (time > h.stamps[((h.index - 1) & t.nstampsMaxMask) >>> 0]!) t.remove(h);
  }
}
