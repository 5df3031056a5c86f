/**
 * sh — source hashing, as torvalds/linux `net/netfilter/ipvs/ip_vs_sh.c`
 * (current form: `hash_32`, sh-fallback and sh-port flags).
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import { Protocol } from '../../net/protocol.js';
import type { Dest } from '../dest.js';
import { DestFlag, ServiceFlag } from '../flags.js';
import { hash32 } from '../hash.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** `IP_VS_SH_TAB_BITS` (`CONFIG_IP_VS_SH_TAB_BITS`, default 8). */
export const SH_TAB_BITS = 8;
/** `IP_VS_SH_TAB_SIZE`: 256 buckets. */
export const SH_TAB_SIZE: number = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/**
 * The source port the kernel mixes in with sh-port / mh-port
 * (`ip_vs_sh_get_port`): the first port of TCP, UDP and SCTP headers,
 * 0 for any other protocol.
 */
export function hashPort(pkt: Packet): number {
  const p = pkt.proto;
  return p === Protocol.TCP || p === Protocol.UDP || p === Protocol.SCTP ? pkt.sport : 0;
}

/** `is_unavailable` of `ip_vs_sh.c`: weight ≤ 0 or OVERLOAD. */
function unavailable(d: Dest): boolean {
  return d.weight <= 0 || (d.flags & DestFlag.OVERLOAD) !== 0;
}

/**
 * One sh instance: the 256-bucket table of `struct ip_vs_sh_state`.
 *
 * Fill (`ip_vs_sh_reassign`, on init and on every add/del/upd dest): walk
 * the buckets in order; the current dest (kernel list order, wrapping) takes
 * consecutive buckets until `++count >= weight`, then the next dest takes
 * over. A weight-0 dest therefore still holds one bucket per round.
 *
 * Lookup: `v = sport (sh-port only) + saddr` (u32 wrap), `H = hash_32(v, 8)`,
 * bucket `H`. A dest with weight ≤ 0 or OVERLOAD gives `null`, unless
 * sh-fallback is set: then buckets `(2H + k) & 255` for `k = 0..255` are
 * tried (`roffset = (k + H) % 256` re-hashed as `(roffset + H) & 255`), the
 * first usable dest wins, and an empty bucket stops the search.
 */
export class ShScheduler implements Scheduler {
  /** `sh`. */
  readonly name = 'sh';
  /** Number of buckets (256). */
  readonly tableSize: number = SH_TAB_SIZE;
  readonly #buckets: (Dest | null)[] = new Array<Dest | null>(SH_TAB_SIZE).fill(null);

  /** The dest bucket `i` points at (`null` when the service has no dests). */
  bucket(i: number): Dest | null {
    return this.#buckets[i] ?? null;
  }

  /** `ip_vs_sh_init_svc`: fill the table from the current dests. */
  initService(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_sh_done_svc`: drop the table. */
  doneService(): void {
    this.#buckets.fill(null);
  }

  /** `ip_vs_sh_dest_changed`. */
  addDest(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_sh_dest_changed`. */
  delDest(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_sh_dest_changed`: a weight edit re-tiles the table. */
  updDest(svc: VirtualService): void {
    this.#reassign(svc);
  }

  /** `ip_vs_sh_schedule`. */
  schedule(svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null {
    const port = (svc.flags & ServiceFlag.SCHED2) !== 0 ? hashPort(pkt) : 0;
    const h = hash32((port + pkt.saddr) >>> 0, SH_TAB_BITS);
    const buckets = this.#buckets;
    let d = buckets[h] as Dest | null;
    work.hashProbes++;
    if (d === null) return null;
    work.destsExamined++;
    if (!unavailable(d)) return d;
    if ((svc.flags & ServiceFlag.SCHED1) === 0) return null;
    // ip_vs_sh_get_fallback
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const roffset = (offset + h) % SH_TAB_SIZE;
      d = buckets[(roffset + h) & SH_TAB_MASK] as Dest | null;
      work.hashProbes++;
      if (d === null) break;
      work.destsExamined++;
      if (!unavailable(d)) return d;
    }
    return null;
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
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      const d = dests[p]!;
      buckets[i] = d;
      // "Don't move to next dest until filling weight"
      if (++count >= d.weight) {
        p = p + 1 === n ? 0 : p + 1;
        count = 0;
      }
    }
  }
}

/** Factory for the `sh` scheduler. */
export const shScheduler: SchedulerFactory = {
  name: 'sh',
  create(): Scheduler {
    return new ShScheduler();
  },
};
