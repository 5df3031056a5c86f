/**
 * rr — round robin, as torvalds/linux `net/netfilter/ipvs/ip_vs_rr.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** `svc->sched_data == &svc->destinations`: the pointer rests on the list head. */
const HEAD = -1;

/**
 * Per-service rr state. The kernel keeps a pointer to a list node (the last
 * dest chosen, or the list head); lbsim keeps that node's index in
 * `svc.dests` ({@link HEAD} = -1 for the head) and shifts it when the engine
 * inserts or unlinks entries so it keeps naming the same node.
 */
class RrScheduler implements Scheduler {
  readonly name = 'rr';
  /** Index of the node `sched_data` points at, or {@link HEAD}. */
  ptr = HEAD;

  /** `ip_vs_rr_init_svc`: start at the list head. */
  initService(): void {
    this.ptr = HEAD;
  }

  doneService(): void {
    this.ptr = HEAD;
  }

  /**
   * The kernel has no rr `add_dest`: the pointer keeps naming the same node.
   * The new node went in at index 0, so a pointer to a real entry moves one
   * index down; a pointer to the head stays on the head.
   */
  addDest(): void {
    if (this.ptr !== HEAD) this.ptr++;
  }

  /**
   * `ip_vs_rr_del_dest`: if the pointer named the unlinked node it moves to
   * that node's previous entry (`p->next->prev`), which is the head when the
   * node was first. Pointers to later nodes shift up by one index.
   */
  delDest(_svc: VirtualService, _dest: Dest, index: number): void {
    if (this.ptr === index) this.ptr = index - 1;
    else if (this.ptr > index) this.ptr--;
  }

  /** rr ignores weight changes other than 0 vs > 0, which it reads at schedule time. */
  updDest(): void {
    // ip_vs_rr.c has no upd_dest.
  }

  /**
   * `ip_vs_rr_schedule`: walk forward from the node after the pointer,
   * skipping the head, to the first dest that is not OVERLOAD with weight > 0.
   * Pass 1 runs to the end of the list; pass 2 (only when the pointer is not
   * the head) restarts at the first entry and gives up after re-checking the
   * pointed-to dest itself.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    const dests = svc.dests;
    const n = dests.length;
    const last = this.ptr;
    for (let i = last + 1; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (!d.overloaded && d.weight > 0) {
        this.ptr = i;
        return d;
      }
    }
    if (last !== HEAD) {
      for (let i = 0; i <= last && i < n; i++) {
        const d = dests[i]!;
        work.destsExamined++;
        if (!d.overloaded && d.weight > 0) {
          this.ptr = i;
          return d;
        }
      }
    }
    // "no destination available"; sched_data is left as it was.
    return null;
  }
}

/** Factory for the `rr` scheduler (kube-proxy's default). */
export const rrScheduler: SchedulerFactory = {
  name: 'rr',
  create(): Scheduler {
    return new RrScheduler();
  },
};
