/** What the heap needs on an item: a handle while queued and the deadline it was queued with. */
export interface DeadlineItem {
  /** The heap's handle for the item while it is queued (≥ 0), -1 when not queued. */
  heapIndex: number;
  /** Deadline (ms) the item was queued with. */
  heapKey: number;
}

const INITIAL_CAPACITY = 64;

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
 *
 * Layout: the heap proper is two packed arrays by position, the deadlines
 * (`Float64Array`) and item handles (`Int32Array`); a third maps each handle
 * to its position. Sifting therefore reads and writes only those compact
 * arrays (the four children of a node share one cache line) and never the
 * item objects, which are touched only when queued and when popped. An
 * item's `heapIndex` is its handle; handles are reused, last freed first.
 */
export class DeadlineHeap<T extends DeadlineItem> {
  #n = 0;
  /** Deadline at each heap position. */
  #keys: Float64Array = new Float64Array(INITIAL_CAPACITY);
  /** Handle at each heap position. */
  #ids: Int32Array = new Int32Array(INITIAL_CAPACITY);
  /** Heap position of each handle. */
  #pos: Int32Array = new Int32Array(INITIAL_CAPACITY);
  /** Item of each handle (undefined when the handle is free). */
  readonly #objs: (T | undefined)[] = [];
  /** Free handles below `#objs.length`. */
  readonly #freeIds: number[] = [];

  /** Number of queued connections. */
  get size(): number {
    return this.#n;
  }

  /** Earliest queued deadline, or +Infinity when empty. */
  peekKey(): number {
    return this.#n === 0 ? Number.POSITIVE_INFINITY : this.#keys[0]!;
  }

  /** Queues `c` at `deadline` (or moves it if it is already queued). */
  schedule(c: T, deadline: number): void {
    c.heapKey = deadline;
    const h = c.heapIndex;
    if (h >= 0) {
      const i = this.#pos[h]!;
      if (deadline < this.#keys[i]!) this.#up(i, h, deadline);
      else this.#down(i, h, deadline);
      return;
    }
    const id = this.#alloc(c);
    c.heapIndex = id;
    const n = this.#n++;
    if (n === this.#keys.length) this.#growHeap();
    this.#up(n, id, deadline);
  }

  /** Removes and returns the entry with the earliest deadline if it is ≤ `now`, else null. */
  popDue(now: number): T | null {
    if (this.#n === 0 || this.#keys[0]! > now) return null;
    const h = this.#ids[0]!;
    const top = this.#objs[h]!;
    this.#release(h);
    const n = --this.#n;
    if (n > 0) this.#down(0, this.#ids[n]!, this.#keys[n]!);
    top.heapIndex = -1;
    return top;
  }

  /** Removes `c` if queued. */
  remove(c: T): void {
    const h = c.heapIndex;
    if (h < 0) return;
    const i = this.#pos[h]!;
    this.#release(h);
    c.heapIndex = -1;
    const n = --this.#n;
    if (i === n) return;
    const lastId = this.#ids[n]!;
    const lastKey = this.#keys[n]!;
    this.#down(i, lastId, lastKey);
    this.#up(this.#pos[lastId]!, lastId, lastKey);
  }

  /** Removes everything. */
  clear(): void {
    for (let i = 0; i < this.#n; i++) this.#objs[this.#ids[i]!]!.heapIndex = -1;
    this.#n = 0;
    this.#objs.length = 0;
    this.#freeIds.length = 0;
  }

  #alloc(c: T): number {
    if (this.#freeIds.length > 0) {
      const h = this.#freeIds.pop()!;
      this.#objs[h] = c;
      return h;
    }
    const h = this.#objs.length;
    this.#objs.push(c);
    if (h === this.#pos.length) {
      const pos = new Int32Array(this.#pos.length * 2);
      pos.set(this.#pos);
      this.#pos = pos;
    }
    return h;
  }

  #release(h: number): void {
    this.#objs[h] = undefined;
    this.#freeIds.push(h);
  }

  #growHeap(): void {
    const keys = new Float64Array(this.#keys.length * 2);
    keys.set(this.#keys);
    this.#keys = keys;
    const ids = new Int32Array(this.#ids.length * 2);
    ids.set(this.#ids);
    this.#ids = ids;
  }

  // Places handle `h` (deadline `key`) at position `i` and sifts it towards the root.
  #up(i: number, h: number, key: number): void {
    const keys = this.#keys;
    const ids = this.#ids;
    const pos = this.#pos;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pKey = keys[p]!;
      if (pKey <= key) break;
      const pId = ids[p]!;
      keys[i] = pKey;
      ids[i] = pId;
      pos[pId] = i;
      i = p;
    }
    keys[i] = key;
    ids[i] = h;
    pos[h] = i;
  }

  // Places handle `h` (deadline `key`) at position `i` and sifts it towards
  // the leaves; among equal children the first one moves up.
  #down(i: number, h: number, key: number): void {
    const keys = this.#keys;
    const ids = this.#ids;
    const pos = this.#pos;
    const n = this.#n;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let m = first;
      let mKey = keys[first]!;
      const last = first + 4 < n ? first + 4 : n;
      for (let j = first + 1; j < last; j++) {
        const k = keys[j]!;
        if (k < mKey) {
          m = j;
          mKey = k;
        }
      }
      if (mKey >= key) break;
      const mId = ids[m]!;
      keys[i] = mKey;
      ids[i] = mId;
      pos[mId] = i;
      i = m;
    }
    keys[i] = key;
    ids[i] = h;
    pos[h] = i;
  }
}
