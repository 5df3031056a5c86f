/**
 * sed — shortest expected delay, as torvalds/linux `net/netfilter/ipvs/ip_vs_sed.c`.
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
 * `ip_vs_sed_schedule`: wlc's structure with overhead `activeconns + 1`
 * (`ip_vs_sed_dest_overhead`; inactive connections are ignored). The
 * first non-OVERLOAD dest with weight > 0 seeds `least`; a later
 * non-OVERLOAD dest replaces it on `loh * w(dest) > doh * w(least)`
 * (`__s64` in current kernels, exact here), so ties keep the earlier dest.
 */
function sedSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
  const dests = svc.dests;
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
  let loh = least.activeConns + 1;
  for (i = i + 1; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (d.overloaded) continue;
    const doh = d.activeConns + 1;
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** Factory for the `sed` scheduler. */
export const sedScheduler: SchedulerFactory = statelessScheduler('sed', sedSchedule);
