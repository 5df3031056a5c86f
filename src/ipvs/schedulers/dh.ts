/**
 * dh — destination hashing, as torvalds/linux
 * `net/netfilter/ipvs/ip_vs_dh.c` (current form: `hash_32`).
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import { DestFlag } from '../flags.js';
import { hash32 } from '../hash.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** `IP_VS_DH_TAB_BITS` (`CONFIG_IP_VS_DH_TAB_BITS`, default 8). */
export const DH_TAB_BITS = 8;
/** `IP_VS_DH_TAB_SIZE`: 256 buckets. */
export const DH_TAB_SIZE: number = 1 << DH_TAB_BITS;

/**
 * One dh instance: the 256-bucket table of `struct ip_vs_dh_state`.
 *
 * Fill (`ip_vs_dh_reassign`, on init and on add/del dest): bucket `i` gets
 * the next dest in kernel list order, round robin, one bucket per dest per
 * round; weights are ignored. dh has no `upd_dest` hook.
 *
 * Lookup: bucket `hash_32(daddr, 8)`; the dest is used only when it is
 * AVAILABLE, has weight > 0 and is not OVERLOAD, else `null` (dh has no
 * fallback flag).
 */
export class DhScheduler implements Scheduler {
  /** `dh`. */
  readonly name = 'dh';
  /** Number of buckets (256). */
  readonly tableSize: number = DH_TAB_SIZE;
  readonly #buckets: (Dest | null)[] = new Array<Dest | null>(DH_TAB_SIZE).fill(null);

  /** The dest bucket `i` points at (`null` when the service has no dests). */
  bucket(i: number): Dest | null {
    return this.#buckets[i] ?? null;
  }

  /** `ip_vs_dh_init_svc`. */
  initService(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_dh_done_svc`. */
  doneService(): void {
    this.#buckets.fill(null);
  }

  /** `ip_vs_dh_dest_changed`. */
  addDest(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_dh_dest_changed`. */
  delDest(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** dh registers no `upd_dest`: weights do not shape its table. */
  updDest(): void {
    // ip_vs_dh.c has no upd_dest.
  }

  /** `ip_vs_dh_schedule`. */
  schedule(_svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null {
    const d = this.#buckets[hash32(pkt.daddr, DH_TAB_BITS)] as Dest | null;
    work.hashProbes++;
    if (d === null) return null;
    work.destsExamined++;
    if ((d.flags & DestFlag.AVAILABLE) === 0 || d.weight <= 0 || (d.flags & DestFlag.OVERLOAD) !== 0) return null;
    return d;
  }

  #reassign(svc: VirtualService): void {
    const buckets = this.#buckets;
    const dests = svc.dests;
    const n = dests.length;
    if (n === 0) {
      buckets.fill(null);
      return;
    }
    let p = 0;
    for (let i = 0; i < DH_TAB_SIZE; i++) {
      buckets[i] = dests[p]!;
      p = p + 1 === n ? 0 : p + 1;
    }
  }
}

/** Factory for the `dh` scheduler. */
export const dhScheduler: SchedulerFactory = {
  name: 'dh',
  create(): Scheduler {
    return new DhScheduler();
  },
};
