/**
 * What lblc and lblcr share (torvalds/linux `net/netfilter/ipvs/ip_vs_lblc.c`
 * and `ip_vs_lblcr.c`): their weighted least-connection fallback, their own
 * "overloaded" test, and the chained cache table with its expiry timer.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import { connOverhead, type Dest } from '../dest.js';
import { DestFlag } from '../flags.js';
import { hash32 } from '../hash.js';
import type { VirtualService } from '../service.js';

/**
 * `__ip_vs_lblc_schedule` / `__ip_vs_lblcr_schedule`: the weighted
 * least-connection choice over every dest of the service, in kernel list
 * order. The first dest without OVERLOAD and with weight > 0 becomes
 * `least`; each later dest without OVERLOAD replaces it when
 * `(s64)loh * w(dest) > (s64)doh * w(least)` (strict, so ties keep the
 * earlier dest; a weight-0 dest can never win). Allocates nothing.
 *
 * @param svc - the service
 * @param work - `destsExamined` is charged one per dest looked at
 * @returns the chosen dest, or `null` when no dest qualifies
 */
export function lblcLeastConnection(svc: VirtualService, work: WorkCounts): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let i = 0;
  let least: Dest | null = null;
  for (; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if ((d.flags & DestFlag.OVERLOAD) !== 0) continue;
    if (d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i++; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if ((d.flags & DestFlag.OVERLOAD) !== 0) continue;
    const doh = connOverhead(d);
    // Products stay below 2^53 (overhead < 2^40 in practice, weight < 2^16): exact like __s64.
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * lblc's own "overloaded" test (`is_overloaded` in `ip_vs_lblc.c` and
 * `ip_vs_lblcr.c`): `dest` has more active connections than its weight
 * **and** some dest of the service has `activeconns * 2 < weight`. It does
 * not look at the OVERLOAD flag. Allocates nothing.
 *
 * @param dest - the cached dest
 * @param svc - its service
 * @param work - `destsExamined` is charged one per service dest scanned
 */
export function lblcIsOverloaded(dest: Dest, svc: VirtualService, work: WorkCounts): boolean {
  if (dest.activeConns > dest.weight) {
    const dests = svc.dests;
    const n = dests.length;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (d.activeConns * 2 < d.weight) return true;
    }
  }
  return false;
}

/** `CHECK_EXPIRE_INTERVAL`: the lblc/lblcr garbage-collection timer period (60 s). */
export const LBLC_CHECK_EXPIRE_INTERVAL_MS = 60_000;
/** `ENTRY_TIMEOUT`: idle time after which the partial sweep may drop an entry (6 min). */
export const LBLC_ENTRY_TIMEOUT_MS: number = 6 * 60_000;
/** `COUNT_FOR_FULL_EXPIRATION`: every 30th quiet timer run is a full expiration check. */
export const LBLC_COUNT_FOR_FULL_EXPIRATION = 30;
/** `IP_VS_LBLC_TAB_BITS` / `IP_VS_LBLCR_TAB_BITS` (Kconfig default 10). */
export const LBLC_TAB_BITS = 10;
/** Number of cache buckets (1024). */
export const LBLC_TAB_SIZE: number = 1 << LBLC_TAB_BITS;
/** `max_size` = 16 × table size (16384 entries). */
export const LBLC_MAX_SIZE: number = LBLC_TAB_SIZE * 16;

/** The fields every lblc/lblcr cache entry has (`struct ip_vs_lblc_entry` / `ip_vs_lblcr_entry`). */
export interface LocalityEntry<E> {
  /** The packet destination address the entry is for. */
  addr: number;
  /** `lastuse`: when a packet last looked the entry up (ms). */
  lastuse: number;
  /** Next entry in the same bucket (the kernel's `hlist`). */
  next: E | null;
}

/**
 * The chained hash table and garbage-collection timer that
 * `ip_vs_lblc.c` and `ip_vs_lblcr.c` both implement: 1024 buckets chosen by
 * `hash_32(daddr, 10)`, new entries at the head of their chain, the
 * `entries` counter, `max_size`, `rover` and `counter` of the table, and
 * `ip_vs_lblc{,r}_check_expire` / `_full_check`.
 *
 * Entries are recycled through a free list so that creating one while
 * scheduling does not allocate in steady state.
 */
export class LocalityCache<E extends LocalityEntry<E>> {
  readonly #buckets: (E | null)[] = new Array<E | null>(LBLC_TAB_SIZE).fill(null);
  readonly #pool: E[] = [];
  readonly #make: () => E;
  readonly #clear: (e: E) => void;
  /** `tbl->entries`: incremented on every hash-in, decremented only where the kernel does. */
  entries = 0;
  /** Entries really in the table. */
  live = 0;
  /** `tbl->rover`. */
  rover = 0;
  /** `tbl->counter`. */
  counter = 1;
  /** `tbl->dead`: set by flush, no new entries after it. */
  dead = false;
  /** When the periodic timer fires next (ms); `Infinity` when stopped. */
  nextCheck: number = Number.POSITIVE_INFINITY;

  /**
   * @param make - creates a blank entry when the free list is empty
   * @param clear - drops an entry's references before it goes to the free list
   */
  constructor(make: () => E, clear: (e: E) => void) {
    this.#make = make;
    this.#clear = clear;
  }

  /** `init_svc`: empty table, counters reset, timer armed for `now + 60 s`. */
  init(now: number): void {
    this.flush();
    this.entries = 0;
    this.rover = 0;
    this.counter = 1;
    this.dead = false;
    this.nextCheck = now + LBLC_CHECK_EXPIRE_INTERVAL_MS;
  }

  /** `done_svc`: timer stopped, every entry freed, table marked dead. */
  done(): void {
    this.nextCheck = Number.POSITIVE_INFINITY;
    this.flush();
    this.dead = true;
  }

  /** `ip_vs_lblc{,r}_flush`: frees every entry. */
  flush(): void {
    const buckets = this.#buckets;
    for (let i = 0; i < LBLC_TAB_SIZE; i++) {
      let en = (buckets[i] as E | null);
      buckets[i] = null;
      while (en !== null) {
        const next = en.next;
        this.#release(en);
        en = next;
      }
    }
    this.live = 0;
  }

  /**
   * `ip_vs_lblc{,r}_get`: the entry for `addr`, charging one hash probe and
   * one chain step per entry compared. Allocates nothing.
   */
  get(addr: number, work: WorkCounts): E | null {
    let en = (this.#buckets[hash32(addr, LBLC_TAB_BITS)] as E | null);
    work.hashProbes++;
    while (en !== null) {
      work.chainSteps++;
      if (en.addr === addr) return en;
      en = en.next;
    }
    return null;
  }

  /** Like {@link LocalityCache.get} without charging work (for inspection). */
  peek(addr: number): E | null {
    let en = (this.#buckets[hash32(addr, LBLC_TAB_BITS)] as E | null);
    while (en !== null) {
      if (en.addr === addr) return en;
      en = en.next;
    }
    return null;
  }

  /** A blank entry from the free list (or a new one). */
  obtain(): E {
    return this.#pool.pop() ?? this.#make();
  }

  /** `ip_vs_lblc{,r}_hash`: puts `en` at the head of its chain; `entries++`. */
  hashIn(en: E): void {
    const b = hash32(en.addr, LBLC_TAB_BITS);
    en.next = (this.#buckets[b] as E | null);
    this.#buckets[b] = en;
    this.entries++;
    this.live++;
  }

  /**
   * Unlinks `en` and frees it (`ip_vs_lblc_del` / `ip_vs_lblcr_free`).
   * Like the kernel's helpers it does not touch `entries`: callers decrement
   * it where the kernel does.
   */
  remove(en: E): void {
    const b = hash32(en.addr, LBLC_TAB_BITS);
    let cur = (this.#buckets[b] as E | null);
    let prev: E | null = null;
    while (cur !== null && cur !== en) {
      prev = cur;
      cur = cur.next;
    }
    if (cur === null) return;
    if (prev === null) this.#buckets[b] = en.next;
    else prev.next = en.next;
    this.live--;
    this.#release(en);
  }

  /**
   * Runs every timer tick due up to `now` (`ip_vs_lblc{,r}_check_expire`,
   * re-armed 60 s after each run), each at its own scheduled time.
   *
   * @param now - current time (ms)
   * @param expirationMs - reads the `lblc{,r}_expiration` sysctl (ms)
   */
  runTimers(now: number, expirationMs: () => number): void {
    while (this.nextCheck <= now) {
      const t = this.nextCheck;
      this.#checkExpire(t, expirationMs);
      this.nextCheck = t + LBLC_CHECK_EXPIRE_INTERVAL_MS;
    }
  }

  #checkExpire(now: number, expirationMs: () => number): void {
    if (this.counter % LBLC_COUNT_FOR_FULL_EXPIRATION === 0) {
      this.#fullCheck(now, expirationMs());
      this.counter = 1;
      return;
    }
    if (this.entries <= LBLC_MAX_SIZE) {
      this.counter++;
      return;
    }
    let goal = Math.trunc(((this.entries - LBLC_MAX_SIZE) * 4) / 3);
    if (goal > LBLC_MAX_SIZE / 2) goal = LBLC_MAX_SIZE / 2;
    let j = this.rover;
    for (let i = 0; i < LBLC_TAB_SIZE; i++) {
      j = (j + 1) & (LBLC_TAB_SIZE - 1);
      goal -= this.#sweepBucket(j, now, LBLC_ENTRY_TIMEOUT_MS);
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  /** `ip_vs_lblc{,r}_full_check`: drops entries idle for `expiration` or more. */
  #fullCheck(now: number, expiration: number): void {
    let j = this.rover;
    for (let i = 0; i < LBLC_TAB_SIZE; i++) {
      j = (j + 1) & (LBLC_TAB_SIZE - 1);
      this.#sweepBucket(j, now, expiration);
    }
    this.rover = j;
  }

  /** Frees the entries of bucket `j` with `!time_before(now, lastuse + timeout)`; returns how many. */
  #sweepBucket(j: number, now: number, timeout: number): number {
    const buckets = this.#buckets;
    let removed = 0;
    let prev: E | null = null;
    let en = (buckets[j] as E | null);
    while (en !== null) {
      const next = en.next;
      if (now < en.lastuse + timeout) {
        prev = en;
      } else {
        if (prev === null) buckets[j] = next;
        else prev.next = next;
        this.live--;
        this.entries--;
        removed++;
        this.#release(en);
      }
      en = next;
    }
    return removed;
  }

  #release(en: E): void {
    en.next = null;
    this.#clear(en);
    this.#pool.push(en);
  }
}
