/**
 * lblc — locality-based least connection, as torvalds/linux
 * `net/netfilter/ipvs/ip_vs_lblc.c` (current form: `hash_32`).
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import { DestFlag } from '../flags.js';
import type { Scheduler, SchedulerContext, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { LocalityCache, lblcIsOverloaded, lblcLeastConnection, type LocalityEntry } from './least-connection.js';

/** `struct ip_vs_lblc_entry`: destination address → one real server. */
class LblcEntry implements LocalityEntry<LblcEntry> {
  addr = 0;
  lastuse = 0;
  next: LblcEntry | null = null;
  dest: Dest | null = null;
}

/**
 * One lblc instance: a cache keyed on the packet's **destination** address.
 *
 * Schedule (`ip_vs_lblc_schedule`): look up the entry for `daddr` and set
 * its `lastuse`. Its dest is used when it is AVAILABLE, has weight > 0 and
 * is not "overloaded" in lblc's sense (`activeconns > weight` while some
 * dest of the service has `activeconns * 2 < weight`; the OVERLOAD flag is
 * not consulted). Otherwise the weighted least-connection choice over all
 * dests is taken and stored (`ip_vs_lblc_new`: an entry already pointing
 * at that dest is kept; one pointing elsewhere is replaced by a new entry at
 * the chain head — the kernel does not decrement `entries` for the replaced
 * one, and neither does lbsim).
 *
 * With a plain VIP service every packet has the same `daddr`, so all
 * clients share one entry and one real server until it counts as
 * overloaded.
 *
 * Expiry ({@link LblcScheduler.runTimers}): every 60 s; the 30th quiet run
 * drops entries idle for `lblc_expiration` (default 24 h); while `entries`
 * exceeds 16384 each run instead drops entries idle for 6 min, bucket by
 * bucket from the rover, until `(entries - 16384) * 4 / 3` (at most 8192)
 * are gone.
 */
export class LblcScheduler implements Scheduler {
  /** `lblc`. */
  readonly name = 'lblc';
  readonly #ctx: SchedulerContext;
  readonly #cache = new LocalityCache<LblcEntry>(
    () => new LblcEntry(),
    (e) => {
      e.dest = null;
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

  /** The kernel's `tbl->entries` counter (it over-counts replaced entries, as in the kernel). */
  get entriesCounter(): number {
    return this.#cache.entries;
  }

  /** When the expiry timer fires next (ms; `Infinity` once the service is done). */
  get nextTimerAt(): number {
    return this.#cache.nextCheck;
  }

  /** The dest cached for destination address `addr`, if any. */
  cachedDest(addr: number): Dest | null {
    return this.#cache.peek(addr >>> 0)?.dest ?? null;
  }

  /** `lastuse` of the entry for `addr` (ms), or `undefined` without an entry. */
  lastUse(addr: number): number | undefined {
    return this.#cache.peek(addr >>> 0)?.lastuse;
  }

  /** `ip_vs_lblc_init_svc`: empty cache, timer armed 60 s from now. */
  initService(): void {
    this.#cache.init(this.#ctx.now());
  }

  /** `ip_vs_lblc_done_svc`: timer stopped, cache flushed. */
  doneService(): void {
    this.#cache.done();
  }

  /** lblc registers no `add_dest`. */
  addDest(): void {
    // ip_vs_lblc.c has no add_dest.
  }

  /** lblc registers no `del_dest`: entries of a deleted dest stay until they expire. */
  delDest(): void {
    // ip_vs_lblc.c has no del_dest.
  }

  /** lblc registers no `upd_dest`. */
  updDest(): void {
    // ip_vs_lblc.c has no upd_dest.
  }

  /** `ip_vs_lblc_schedule`. */
  schedule(svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null {
    const cache = this.#cache;
    const daddr = pkt.daddr;
    const now = this.#ctx.now();
    const en = cache.get(daddr, work);
    if (en !== null) {
      en.lastuse = now;
      const d = en.dest!;
      work.destsExamined++;
      if ((d.flags & DestFlag.AVAILABLE) !== 0 && d.weight > 0 && !lblcIsOverloaded(d, svc, work)) return d;
    }
    const dest = lblcLeastConnection(svc, work);
    if (dest === null) return null;
    if (!cache.dead) this.#newEntry(daddr, dest, now, work);
    return dest;
  }

  /** `ip_vs_lblc_check_expire` for every 60 s tick due up to `now`. */
  runTimers(now: number): void {
    this.#cache.runTimers(now, () => this.#ctx.lblcExpirationMs());
  }

  /** `ip_vs_lblc_new`. */
  #newEntry(daddr: number, dest: Dest, now: number, work: WorkCounts): void {
    const cache = this.#cache;
    const old = cache.get(daddr, work);
    if (old !== null) {
      if (old.dest === dest) return;
      // ip_vs_lblc_del: unlinked without atomic_dec(&tbl->entries).
      cache.remove(old);
    }
    const en = cache.obtain();
    en.addr = daddr;
    en.lastuse = now;
    en.dest = dest;
    cache.hashIn(en);
  }
}

/** Factory for the `lblc` scheduler. */
export const lblcScheduler: SchedulerFactory = {
  name: 'lblc',
  create(ctx: SchedulerContext): Scheduler {
    return new LblcScheduler(ctx);
  },
};
