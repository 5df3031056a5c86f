/**
 * twos — power of two choices, as torvalds/linux `net/netfilter/ipvs/ip_vs_twos.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Rng } from '../../sim/rng.js';
import { connOverhead, type Dest } from '../dest.js';
import type { Scheduler, SchedulerContext, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** twos instance: stateless apart from the random source it draws from. */
class TwosScheduler implements Scheduler {
  readonly name = 'twos';
  readonly #rng: Rng;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  initService(): void {
    // ip_vs_twos.c keeps no state.
  }

  doneService(): void {
    // ip_vs_twos.c keeps no state.
  }

  addDest(): void {
    // ip_vs_twos.c has no add_dest.
  }

  delDest(): void {
    // ip_vs_twos.c has no del_dest.
  }

  updDest(): void {
    // ip_vs_twos.c has no upd_dest.
  }

  /**
   * `ip_vs_twos_schedule`.
   *
   * Pass 1 sums the weights of the non-OVERLOAD dests with weight > 0
   * (`null` if there is none). Two draws `r1`, `r2` uniform in
   * `[0, total]` (the kernel's `get_random_u32_below(total + 1)`; lbsim draws
   * `r1` then `r2` from the service's seeded {@link Rng} — another random
   * source, same distribution). Pass 2 walks the eligible dests in list
   * order subtracting each weight from both; the first dest that takes
   * `r1` to ≤ 0 is choice 1, likewise choice 2 for `r2`, so the first
   * eligible dest is drawn with probability (w + 1)/(total + 1) and every
   * other one with w/(total + 1). choice 2 wins only when
   * `w2 * overhead1 > w1 * overhead2`; the kernel computes these products
   * in `int`, which wraps (the kernel builds with `-fno-strict-overflow`),
   * and lbsim reproduces that with `Math.imul`.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    const dests = svc.dests;
    const n = dests.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (!d.overloaded && d.weight > 0) total += d.weight;
    }
    if (total === 0) return null;

    let r1 = this.#rng.below(total + 1);
    let r2 = this.#rng.below(total + 1);
    let choice1: Dest | null = null;
    let choice2: Dest | null = null;
    let weight1 = -1;
    let weight2 = -1;
    let overhead1 = 0;
    let overhead2 = 0;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (d.overloaded) continue;
      const w = d.weight;
      if (w <= 0) continue;
      r1 -= w;
      r2 -= w;
      if (r1 <= 0 && weight1 === -1) {
        choice1 = d;
        weight1 = w;
        overhead1 = connOverhead(d) | 0; // int in the kernel
      }
      if (r2 <= 0 && weight2 === -1) {
        choice2 = d;
        weight2 = w;
        overhead2 = connOverhead(d) | 0;
      }
      if (weight1 !== -1 && weight2 !== -1) break;
    }
    // r1, r2 ≤ total, so both choices are set once the walk passed every eligible dest.
    if (choice2 !== null && Math.imul(weight2, overhead1) > Math.imul(weight1, overhead2)) return choice2;
    return choice1;
  }
}

/** Factory for the `twos` scheduler; each instance draws from the context's {@link Rng}. */
export const twosScheduler: SchedulerFactory = {
  name: 'twos',
  create(ctx: SchedulerContext): Scheduler {
    return new TwosScheduler(ctx.rng);
  },
};
