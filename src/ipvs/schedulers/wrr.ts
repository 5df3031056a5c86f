/**
 * wrr — weighted round robin, as torvalds/linux `net/netfilter/ipvs/ip_vs_wrr.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** `mark->cl` resting on the list head. */
const HEAD = -1;

/** Euclid's gcd of two positive ints (the kernel's `gcd()` from `lib/math/gcd.c`). */
function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * Per-service wrr state: the kernel's `struct ip_vs_wrr_mark`, with `cl`
 * kept as an index into `svc.dests` ({@link HEAD} = -1 for the list head).
 * Every add/del/upd resets `cl` to the head, so the index never goes stale.
 */
class WrrScheduler implements Scheduler {
  readonly name = 'wrr';
  /** Current dest index, or {@link HEAD}. */
  cl = HEAD;
  /** Current weight. */
  cw = 0;
  /** Maximum weight minus (di − 1). */
  mw = 0;
  /** Decreasing interval: gcd of the weights > 0 (1 if none). */
  di = 1;

  /** `ip_vs_wrr_init_svc`: head, di, mw, cw = mw. */
  initService(svc: VirtualService): void {
    this.cl = HEAD;
    this.di = gcdWeight(svc.dests);
    this.mw = maxWeight(svc.dests) - (this.di - 1);
    this.cw = this.mw;
  }

  doneService(): void {
    this.cl = HEAD;
  }

  addDest(svc: VirtualService): void {
    this.destChanged(svc);
  }

  delDest(svc: VirtualService): void {
    this.destChanged(svc);
  }

  updDest(svc: VirtualService): void {
    this.destChanged(svc);
  }

  /**
   * `ip_vs_wrr_dest_changed`: back to the head, recompute di and mw; keep cw
   * unless it is now above mw or 0, else round it to a multiple of di plus 1.
   */
  destChanged(svc: VirtualService): void {
    this.cl = HEAD;
    this.di = gcdWeight(svc.dests);
    this.mw = maxWeight(svc.dests) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  /**
   * `ip_vs_wrr_schedule`: from `cl`, the first later dest that is not
   * OVERLOAD with weight ≥ cw; at the end of the list cw drops by di and the
   * walk restarts at the first entry. The last-pass/stop logic gives up after
   * every dest was checked against cw ≤ di.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    // No available dests? (cl unchanged, "no destination available")
    if (this.mw === 0) return null;
    const dests = svc.dests;
    const n = dests.length;
    const last = this.cl;
    let stop = -2; // NULL: no entry has this index
    let lastPass = false;
    let restarted = false;
    let i = last;
    for (;;) {
      for (i = i + 1; i < n; i++) {
        const d = dests[i]!;
        work.destsExamined++;
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = i;
          return d;
        }
        if (i === stop) {
          // err_over with dest == stop: mark->cl = stop
          this.cl = i;
          return null;
        }
      }
      i = HEAD; // the walk reached the list head
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // Stop if a full last pass already ran, or the walk began at the head.
        if (lastPass || last === HEAD) {
          this.cl = HEAD; // err_over with dest == head
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== HEAD) {
        // The cw = 1 pass covered only the dests after `last`; now check up to it.
        stop = last;
      }
    }
  }
}

/** `ip_vs_wrr_gcd_weight`: gcd of every weight > 0, or 1 if there is none. */
function gcdWeight(dests: readonly Dest[]): number {
  let g = 0;
  for (const d of dests) {
    const w = d.weight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g !== 0 ? g : 1;
}

/** `ip_vs_wrr_max_weight`: the largest weight (0 if none is positive). */
function maxWeight(dests: readonly Dest[]): number {
  let m = 0;
  for (const d of dests) if (d.weight > m) m = d.weight;
  return m;
}

/** Factory for the `wrr` scheduler. */
export const wrrScheduler: SchedulerFactory = {
  name: 'wrr',
  create(): Scheduler {
    return new WrrScheduler();
  },
};
