/**
 * wlc — weighted least connection (ipvsadm's default), as torvalds/linux
 * `net/netfilter/ipvs/ip_vs_wlc.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import { connOverhead, type Dest } from '../dest.js';
import type { SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { statelessScheduler } from './stateless.js';

/**
 * The wlc choice over `dests` in kernel list order (`ip_vs_wlc_schedule`;
 * lblc and lblcr use the same rule in their fallback).
 *
 * The first dest that is not OVERLOAD with weight > 0 becomes `least`; each
 * later non-OVERLOAD dest replaces it when
 * `overhead(least) * w(dest) > overhead(dest) * w(least)` (the kernel's
 * `__s64` products; exact here since they stay far below 2^53). Strict `>`,
 * so ties keep the earlier dest; a weight-0 dest can never win the
 * comparison. Adds every dest looked at to `work.destsExamined`. Allocates
 * nothing.
 *
 * @param dests - candidates in kernel list order (newest first)
 * @param work - counters to charge
 * @returns the chosen dest, or `null` when none is eligible
 */
export function wlcPick(dests: readonly Dest[], work: WorkCounts): Dest | null {
  const n = dests.length;
  let i = 0;
  let least: Dest | null = null;
  for (; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (!d.overloaded && d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i = i + 1; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (d.overloaded) continue;
    const doh = connOverhead(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** `ip_vs_wlc_schedule`: {@link wlcPick} over the service's dests. */
function wlcSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
  return wlcPick(svc.dests, work);
}

/** Factory for the `wlc` scheduler. */
export const wlcScheduler: SchedulerFactory = statelessScheduler('wlc', wlcSchedule);
