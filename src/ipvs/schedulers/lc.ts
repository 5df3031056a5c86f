/**
 * lc — least connection, as torvalds/linux `net/netfilter/ipvs/ip_vs_lc.c`.
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
 * `ip_vs_lc_schedule`: skip OVERLOAD and weight 0; the smallest
 * `(active << 8) + inactive` wins, strict `<` so the earlier dest in list
 * order keeps a tie. Weight is otherwise ignored.
 */
function lcSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let least: Dest | null = null;
  let loh = 0;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (d.overloaded || d.weight === 0) continue;
    const doh = connOverhead(d);
    if (least === null || doh < loh) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** Factory for the `lc` scheduler. */
export const lcScheduler: SchedulerFactory = statelessScheduler('lc', lcSchedule);
