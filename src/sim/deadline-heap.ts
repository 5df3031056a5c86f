
/** What the heap needs on an item: its position and the deadline it was queued with. */
export interface DeadlineItem {
  /** Position in the heap, -1 when not queued. */
  heapIndex: number;
  /** Deadline (ms) the item was queued with. */
  heapKey: number;
}

/**
 * A 4-ary min-heap of items ordered by the deadline they were queued with. It
 * stands in for the kernel's per-object timers (IPVS connections, conntrack
 * entries).
 *
 * Re-arming an item on every packet only moves its own deadline field; the heap
 * is touched when a queued deadline comes due and the connection turns out
 * to have been re-armed, in which case the owner queues it again at its new
 * deadline. So established packets cost no heap work, and the cost per
 * expiry is O(log n) even with a million entries. Four children per node
 * halve the depth of a binary heap, and so the cache misses per operation.
 */
export class DeadlineHeap<T extends DeadlineItem> {
  readonly #heap: T[] = [];

  /** Number of queued connections. */
  get size(): number {
    return this.#heap.length;
  }

  /** Earliest queued deadline, or +Infinity when empty. */
  peekKey(): number {
    const top = this.#heap[0];
    return top === undefined ? Number.POSITIVE_INFINITY : top.heapKey;
  }

  /** Queues `c` at `deadline` (or moves it if it is already queued). */
  schedule(c: T, deadline: number): void {
    if (c.heapIndex >= 0) {
      const old = c.heapKey;
      c.heapKey = deadline;
      if (deadline < old) this.#up(c.heapIndex);
      else this.#down(c.heapIndex);
      return;
    }
    c.heapKey = deadline;
    c.heapIndex = this.#heap.length;
    this.#heap.push(c);
    this.#up(c.heapIndex);
  }

  /** Removes and returns the entry with the earliest deadline if it is ≤ `now`, else null. */
  popDue(now: number): T | null {
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

  /** Removes `c` if queued. */
  remove(c: T): void {
    const i = c.heapIndex;
    if (i < 0) return;
    const heap = this.#heap;
    const last = heap.pop()!;
    c.heapIndex = -1;
    if (last === c) return;
    heap[i] = last;
    last.heapIndex = i;
    this.#down(i);
    this.#up(last.heapIndex);
  }

  /** Removes everything. */
  clear(): void {
    for (const c of this.#heap) c.heapIndex = -1;
    this.#heap.length = 0;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const c = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const parent = heap[p]!;
      if (parent.heapKey <= c.heapKey) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = c;
    c.heapIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const c = heap[i]!;
    const key = c.heapKey;
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
    heap[i] = c;
    c.heapIndex = i;
  }
}
