import type { ConntrackEntry } from './entry.js';

/**
 * A 4-ary min-heap of entries ordered by the deadline they were queued with,
 * standing in for the kernel's expiry scan (the conntrack gc worker and the
 * `nf_ct_is_expired` checks of lookups). Same design as the IPVS
 * connection expiry queue: re-arming an entry to a later deadline only moves
 * `entry.timeout`; when its queued deadline comes due and the entry turns out
 * to have been re-armed, it is queued again. Moving a deadline earlier
 * re-queues at once (see {@link Conntrack}).
 *
 * @internal
 */
export class EntryHeap {
  readonly #heap: ConntrackEntry[] = [];

  /** Number of queued entries. */
  get size(): number {
    return this.#heap.length;
  }

  /** Earliest queued deadline, or +Infinity when empty. */
  peekKey(): number {
    const top = this.#heap[0];
    return top === undefined ? Number.POSITIVE_INFINITY : top.heapKey;
  }

  /** Queues `e` at `deadline`, or moves it if it is queued already. */
  schedule(e: ConntrackEntry, deadline: number): void {
    if (e.heapIndex >= 0) {
      const old = e.heapKey;
      e.heapKey = deadline;
      if (deadline < old) this.#up(e.heapIndex);
      else this.#down(e.heapIndex);
      return;
    }
    e.heapKey = deadline;
    e.heapIndex = this.#heap.length;
    this.#heap.push(e);
    this.#up(e.heapIndex);
  }

  /** Removes and returns the entry with the earliest deadline if it is ≤ `now`, else null. */
  popDue(now: number): ConntrackEntry | null {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined || top.heapKey > now) return null;
    const last = heap.pop()!;
    if (last !== top) {
      heap[0] = last;
      last.heapIndex = 0;
      this.#down(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Removes `e` if queued. */
  remove(e: ConntrackEntry): void {
    const i = e.heapIndex;
    if (i < 0) return;
    const heap = this.#heap;
    const last = heap.pop()!;
    e.heapIndex = -1;
    if (last === e) return;
    heap[i] = last;
    last.heapIndex = i;
    this.#down(i);
    this.#up(last.heapIndex);
  }

  /** Removes everything. */
  clear(): void {
    for (const e of this.#heap) e.heapIndex = -1;
    this.#heap.length = 0;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const e = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const parent = heap[p]!;
      if (parent.heapKey <= e.heapKey) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = e;
    e.heapIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i]!;
    const key = e.heapKey;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let m = first;
      let mKey = heap[first]!.heapKey;
      const last = first + 4 < n ? first + 4 : n;
      for (let j = first + 1; j < last; j++) {
        const k = heap[j]!.heapKey;
        if (k < mKey) {
          m = j;
          mKey = k;
        }
      }
      if (mKey >= key) break;
      const child = heap[m]!;
      heap[i] = child;
      child.heapIndex = i;
      i = m;
    }
    heap[i] = e;
    e.heapIndex = i;
  }
}
