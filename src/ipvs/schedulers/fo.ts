/**
 * fo — weighted fail-over, as torvalds/linux `net/netfilter/ipvs/ip_vs_fo.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { statelessScheduler } from './stateless.js';

/**
 * `ip_vs_fo_schedule`: the non-OVERLOAD dest with the highest weight; the
 * running maximum starts at 0, so weight 0 never wins, and strict `>`
 * keeps the earlier dest on equal weight. Connection counts are not read.
 */
function foSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let best: Dest | null = null;
  let hw = 0;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (!d.overloaded && d.weight > hw) {
      best = d;
      hw = d.weight;
    }
  }
  return best;
}

/** Factory for the `fo` scheduler. */
export const foScheduler: SchedulerFactory = statelessScheduler('fo', foSchedule);
