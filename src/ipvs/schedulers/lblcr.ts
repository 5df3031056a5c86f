/**
 * lblcr — locality-based least connection with replication, as
 * torvalds/linux `net/netfilter/ipvs/ip_vs_lblcr.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import { connOverhead, type Dest } from '../dest.js';
import { DestFlag } from '../flags.js';
import type { Scheduler, SchedulerContext, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { LocalityCache, lblcIsOverloaded, lblcLeastConnection, type LocalityEntry } from './least-connection.js';

/**
 * `struct ip_vs_lblcr_entry` with its `struct ip_vs_dest_set`: destination
 * address → a set of real servers. `set[0..size)` is the set's list, head
 * first (new members are added at the head).
 */
class LblcrEntry implements LocalityEntry<LblcrEntry> {
  addr = 0;
  lastuse = 0;
  next: LblcrEntry | null = null;
  readonly set: (Dest | null)[] = [];
  size = 0;
  lastmod = 0;
}

/** `ip_vs_dest_set_insert`: at the head unless `check` finds it already there; `lastmod = now`. */
function setInsert(en: LblcrEntry, dest: Dest, check: boolean, now: number): void {
  const set = en.set;
  const n = en.size;
  if (check) {
    for (let i = 0; i < n; i++) if (set[i] === dest) return;
  }
  for (let i = n; i > 0; i--) set[i] = set[i - 1]!;
  set[0] = dest;
  en.size = n + 1;
  en.lastmod = now;
}

/** `ip_vs_dest_set_erase`: removes the first element for `dest`; `lastmod = now`. */
function setErase(en: LblcrEntry, dest: Dest, now: number): void {
  const set = en.set;
  const n = en.size;
  for (let i = 0; i < n; i++) {
    if (set[i] === dest) {
      for (let k = i; k < n - 1; k++) set[k] = set[k + 1]!;
      set[n - 1] = null;
      en.size = n - 1;
      en.lastmod = now;
      return;
    }
  }
}

/**
 * `ip_vs_dest_set_min`: the weighted least-connection member. The first
 * member without OVERLOAD that has weight > 0 and is AVAILABLE starts; a
 * later member without OVERLOAD replaces it when
 * `loh * w(d) > doh * w(least)` and it is AVAILABLE.
 */
function setMin(en: LblcrEntry, work: WorkCounts): Dest | null {
  const set = en.set;
  const n = en.size;
  let i = 0;
  let least: Dest | null = null;
  for (; i < n; i++) {
    const d = set[i]!;
    work.destsExamined++;
    if ((d.flags & DestFlag.OVERLOAD) !== 0) continue;
    if (d.weight > 0 && (d.flags & DestFlag.AVAILABLE) !== 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i++; i < n; i++) {
    const d = set[i]!;
    work.destsExamined++;
    if ((d.flags & DestFlag.OVERLOAD) !== 0) continue;
    const doh = connOverhead(d);
    if (loh * d.weight > doh * least.weight && (d.flags & DestFlag.AVAILABLE) !== 0) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * `ip_vs_dest_set_max`: the weighted most-loaded member. The first member
 * with weight > 0 starts; a later member with weight > 0 replaces it when
 * `moh * w(d) < doh * w(most)`. OVERLOAD and AVAILABLE are not looked at.
 */
function setMax(en: LblcrEntry, work: WorkCounts): Dest | null {
  const set = en.set;
  const n = en.size;
  let i = 0;
  let most: Dest | null = null;
  for (; i < n; i++) {
    const d = set[i]!;
    work.destsExamined++;
    if (d.weight > 0) {
      most = d;
      break;
    }
  }
  if (most === null) return null;
  let moh = connOverhead(most);
  for (i++; i < n; i++) {
    const d = set[i]!;
    work.destsExamined++;
    const doh = connOverhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

/**
 * One lblcr instance: a cache keyed on the packet's **destination** address,
 * each entry holding a set of real servers.
 *
 * Schedule (`ip_vs_lblcr_schedule`), with an entry for `daddr`:
 * 1. `lastuse = now`; candidate = the set's weighted least-connection member
 *    (see `ip_vs_dest_set_min`);
 * 2. if the set has more than one member and `now > lastmod +
 *    lblcr_expiration`, its weighted most-loaded member is removed (this
 *    happens after the candidate was chosen, so the candidate may be the
 *    member just removed — as in the kernel);
 * 3. the candidate is used unless it is missing or "overloaded" in lblc's
 *    sense; otherwise the weighted least-connection choice over all dests is
 *    taken and added at the head of the set (`lastmod = now`) if not already
 *    in it.
 *
 * Without an entry: the weighted least-connection choice over all dests,
 * stored as a new one-member entry.
 *
 * Expiry ({@link LblcrScheduler.runTimers}) is the same as lblc's, with the
 * `lblcr_expiration` sysctl.
 */
export class LblcrScheduler implements Scheduler {
  /** `lblcr`. */
  readonly name = 'lblcr';
  readonly #ctx: SchedulerContext;
  readonly #cache = new LocalityCache<LblcrEntry>(
    () => new LblcrEntry(),
    (e) => {
      e.set.fill(null);
      e.size = 0;
    },
  );

  /** @param ctx - the hosting engine's context (time and sysctls) */
  constructor(ctx: SchedulerContext) {
    this.#ctx = ctx;
  }

  /** Entries in the cache. */
  get cacheSize(): number {
    return this.#cache.live;
  }

  /** The kernel's `tbl->entries` counter. */
  get entriesCounter(): number {
    return this.#cache.entries;
  }

  /** When the expiry timer fires next (ms; `Infinity` once the service is done). */
  get nextTimerAt(): number {
    return this.#cache.nextCheck;
  }

  /** The set cached for destination address `addr`, head first (a copy), or `null` without an entry. */
  cachedSet(addr: number): Dest[] | null {
    const en = this.#cache.peek(addr >>> 0);
    if (en === null) return null;
    return en.set.slice(0, en.size) as Dest[];
  }

  /** `lastuse` of the entry for `addr` (ms), or `undefined` without an entry. */
  lastUse(addr: number): number | undefined {
    return this.#cache.peek(addr >>> 0)?.lastuse;
  }

  /** `set.lastmod` of the entry for `addr` (ms), or `undefined` without an entry. */
  lastMod(addr: number): number | undefined {
    return this.#cache.peek(addr >>> 0)?.lastmod;
  }

  /** `ip_vs_lblcr_init_svc`: empty cache, timer armed 60 s from now. */
  initService(): void {
    this.#cache.init(this.#ctx.now());
  }

  /** `ip_vs_lblcr_done_svc`: timer stopped, cache flushed. */
  doneService(): void {
    this.#cache.done();
  }

  /** lblcr registers no `add_dest`. */
  addDest(): void {
    // ip_vs_lblcr.c has no add_dest.
  }

  /** lblcr registers no `del_dest`: set members that were deleted are skipped until removed. */
  delDest(): void {
    // ip_vs_lblcr.c has no del_dest.
  }

  /** lblcr registers no `upd_dest`. */
  updDest(): void {
    // ip_vs_lblcr.c has no upd_dest.
  }

  /** `ip_vs_lblcr_schedule`. */
  schedule(svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null {
    const cache = this.#cache;
    const daddr = pkt.daddr;
    const now = this.#ctx.now();
    const en = cache.get(daddr, work);
    if (en !== null) {
      en.lastuse = now;
      let dest = setMin(en, work);
      // More than one destination + enough time passed by, cleanup.
      if (en.size > 1 && now > en.lastmod + this.#ctx.lblcrExpirationMs()) {
        const m = setMax(en, work);
        if (m !== null) setErase(en, m, now);
      }
      if (dest !== null && !lblcIsOverloaded(dest, svc, work)) return dest;
      dest = lblcLeastConnection(svc, work);
      if (dest === null) return null;
      if (!cache.dead) setInsert(en, dest, true, now);
      return dest;
    }
    const dest = lblcLeastConnection(svc, work);
    if (dest === null) return null;
    if (!cache.dead) this.#newEntry(daddr, dest, now, work);
    return dest;
  }

  /** `ip_vs_lblcr_check_expire` for every 60 s tick due up to `now`. */
  runTimers(now: number): void {
    this.#cache.runTimers(now, () => this.#ctx.lblcrExpirationMs());
  }

  /** `ip_vs_lblcr_new`. */
  #newEntry(daddr: number, dest: Dest, now: number, work: WorkCounts): void {
    const cache = this.#cache;
    const old = cache.get(daddr, work);
    if (old !== null) {
      setInsert(old, dest, true, now);
      return;
    }
    const en = cache.obtain();
    en.addr = daddr;
    en.lastuse = now;
    en.size = 0;
    setInsert(en, dest, false, now);
    cache.hashIn(en);
  }
}

/** Factory for the `lblcr` scheduler. */
export const lblcrScheduler: SchedulerFactory = {
  name: 'lblcr',
  create(ctx: SchedulerContext): Scheduler {
    return new LblcrScheduler(ctx);
  },
};
