/**
 * mh — Maglev hashing, as torvalds/linux `net/netfilter/ipvs/ip_vs_mh.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import { InvalidArgumentError, OperationError } from '../../errors.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import { DestFlag, ServiceFlag } from '../flags.js';
import { HsiphashKey, hsiphash1u32 } from '../hash.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { hashPort } from './sh.js';

/** The table sizes `ip_vs_mh.c` offers (`primes[]`), indexed by `CONFIG_IP_VS_MH_TAB_INDEX - 8`. */
export const MH_PRIMES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

/** Kconfig default of `CONFIG_IP_VS_MH_TAB_INDEX` (table size 4093). */
export const MH_TAB_INDEX_DEFAULT = 12;
/** Smallest `CONFIG_IP_VS_MH_TAB_INDEX` (Kconfig range 8..17). */
export const MH_TAB_INDEX_MIN = 8;
/** Largest `CONFIG_IP_VS_MH_TAB_INDEX`. */
export const MH_TAB_INDEX_MAX = 17;

/** `generate_hash_secret`: the fixed (not random) hsiphash keys. */
const HASH1_KEY = 2654435761;
const HASH2_KEY = 2654446892;

/** Options of {@link createMhScheduler}. */
export interface MhOptions {
  /**
   * `CONFIG_IP_VS_MH_TAB_INDEX`, 8..17 (default 12). The table size is
   * `MH_PRIMES[tableIndex - 8]` (default 4093) and `IP_VS_MH_TAB_BITS`, used
   * for weight shifting, is `floor(tableIndex / 2)` (default 6).
   */
  readonly tableIndex?: number;
  /**
   * Not kernel behaviour; off by default. The kernel's `add_dest` hook fails
   * with `-EINVAL` when the service gets more dests than table slots, but
   * `__ip_vs_update_dest` ignores that result: the dest is added and the mh
   * table simply stays as it was. With this option the scheduler instead
   * throws `OperationError('EINVAL')` from {@link Scheduler.addDest} before
   * touching any state, for engines that prefer to refuse the add.
   */
  readonly refuseDestOverflow?: boolean;
}

/** `is_unavailable` of `ip_vs_mh.c`: weight ≤ 0 or OVERLOAD. */
function unavailable(d: Dest): boolean {
  return d.weight <= 0 || (d.flags & DestFlag.OVERLOAD) !== 0;
}

function checkTableIndex(where: string, tableIndex: number): void {
  if (!Number.isInteger(tableIndex) || tableIndex < MH_TAB_INDEX_MIN || tableIndex > MH_TAB_INDEX_MAX) {
    throw new InvalidArgumentError(
      `lbsim/ipvs.${where}: tableIndex must be an integer in [${MH_TAB_INDEX_MIN}, ${MH_TAB_INDEX_MAX}] (got ${tableIndex})`,
    );
  }
}

/** `gcd()` of `lib/math/gcd.c` for positive ints. */
function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** `fls()`: 1-based index of the most significant set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * One mh instance: the `M`-slot lookup table of `struct ip_vs_mh_state`.
 *
 * On init and on every add/del/upd dest (`ip_vs_mh_dest_changed`):
 * - `gcd` = gcd of every positive `last_weight`; `rshift` =
 *   `max(0, fls(max last_weight / gcd) - IP_VS_MH_TAB_BITS)`;
 * - when `num_dests > M` the rebuild stops with `-EINVAL` and the table is
 *   left untouched (see {@link MhOptions.refuseDestOverflow});
 * - each dest (kernel list order) gets `offset = h1(addr, port) % M`,
 *   `skip = h2(addr, port) % (M - 1) + 1` and
 *   `turns = ((last_weight / gcd) >> rshift) || (last_weight != 0)`;
 * - populate: round robin over the dests, each claiming `turns` slots in a
 *   row, a claim walking `perm += skip (mod M)` to the next free slot, until
 *   all `M` slots are taken. With `gcd < 1` the table is emptied.
 *
 * Because turns come from `last_weight`, setting a weight to 0 keeps the
 * table as it is; lookups that land on that dest see it as unavailable.
 *
 * Lookup: `slot = hsiphash(sport (mh-port only) + saddr, hash1) % M`. A dest
 * with weight ≤ 0 or OVERLOAD gives `null` unless mh-fallback is set: then
 * for `k = 0..M-1`, `roffset = (k + slot) % M` and the slot
 * `hsiphash(roffset + sport + saddr, hash1) % M` is tried; the first usable
 * dest wins, an empty slot stops the search.
 */
export class MhScheduler implements Scheduler {
  /** `mh`. */
  readonly name = 'mh';
  /** `IP_VS_MH_TAB_SIZE` (M). */
  readonly tableSize: number;
  /** `IP_VS_MH_TAB_BITS`. */
  readonly tabBits: number;
  readonly #refuseOverflow: boolean;
  readonly #lookup: (Dest | null)[];
  readonly #taken: Uint8Array;
  readonly #hash1 = new HsiphashKey(HASH1_KEY, HASH1_KEY);
  readonly #hash2 = new HsiphashKey(HASH2_KEY, HASH2_KEY);
  #gcd = 0;
  #rshift = 0;

  /**
   * @param tableIndex - `CONFIG_IP_VS_MH_TAB_INDEX`, 8..17
   * @param refuseDestOverflow - see {@link MhOptions.refuseDestOverflow}
   * @throws {InvalidArgumentError} when `tableIndex` is out of range
   */
  constructor(tableIndex: number = MH_TAB_INDEX_DEFAULT, refuseDestOverflow = false) {
    checkTableIndex('MhScheduler', tableIndex);
    this.tableSize = MH_PRIMES[tableIndex - MH_TAB_INDEX_MIN]!;
    this.tabBits = tableIndex >> 1;
    this.#refuseOverflow = refuseDestOverflow;
    this.#lookup = new Array<Dest | null>(this.tableSize).fill(null);
    this.#taken = new Uint8Array(this.tableSize);
  }

  /** `s->gcd` as of the last rebuild attempt. */
  get gcd(): number {
    return this.#gcd;
  }

  /** `s->rshift` as of the last rebuild attempt. */
  get rshift(): number {
    return this.#rshift;
  }

  /** The turns `dest` gets with the current `gcd` and `rshift` (0 = not in the table). */
  turnsOf(dest: Dest): number {
    if (this.#gcd < 1) return 0;
    const lw = dest.lastWeight;
    return Math.trunc(lw / this.#gcd) >> this.#rshift || (lw !== 0 ? 1 : 0);
  }

  /** The dest slot `i` points at (`null` for an empty table). */
  slot(i: number): Dest | null {
    return this.#lookup[i] ?? null;
  }

  /** `hsiphash(&v, 4, hash1)` for `v = offset + port + addr` (`ip_vs_mh_hashkey` with `hash1`). */
  hashKey1(addr: number, port: number, offset = 0): number {
    return hsiphash1u32((offset + port + addr) >>> 0, this.#hash1);
  }

  /** `hsiphash(&v, 4, hash2)` for `v = offset + port + addr` (`ip_vs_mh_hashkey` with `hash2`). */
  hashKey2(addr: number, port: number, offset = 0): number {
    return hsiphash1u32((offset + port + addr) >>> 0, this.#hash2);
  }

  /**
   * `ip_vs_mh_init_svc`.
   *
   * @throws {OperationError} `EINVAL` when the service already has more dests than table slots
   *   (the kernel refuses to bind the scheduler)
   */
  initService(svc: VirtualService): void {
    this.#lookup.fill(null);
    if (!this.#changed(svc)) {
      this.#lookup.fill(null);
      throw new OperationError(
        'EINVAL',
        `lbsim/ipvs.MhScheduler.initService: ${svc.numDests} real servers exceed the mh table size ${this.tableSize}`,
      );
    }
  }

  /** `ip_vs_mh_done_svc`. */
  doneService(): void {
    this.#lookup.fill(null);
  }

  /**
   * `ip_vs_mh_dest_changed`. With more dests than slots the kernel's rebuild
   * fails and the table stays as it was (the failure is ignored by
   * `__ip_vs_update_dest`).
   *
   * @throws {OperationError} `EINVAL` only with {@link MhOptions.refuseDestOverflow}
   */
  addDest(svc: VirtualService): void {
    if (this.#refuseOverflow && svc.numDests > this.tableSize) {
      throw new OperationError(
        'EINVAL',
        `lbsim/ipvs.MhScheduler.addDest: ${svc.numDests} real servers exceed the mh table size ${this.tableSize}`,
      );
    }
    this.#changed(svc);
  }

  /** `ip_vs_mh_dest_changed`. */
  delDest(svc: VirtualService): void {
    this.#changed(svc);
  }

  /** `ip_vs_mh_dest_changed`. */
  updDest(svc: VirtualService): void {
    this.#changed(svc);
  }

  /** `ip_vs_mh_schedule`. */
  schedule(svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null {
    const port = (svc.flags & ServiceFlag.SCHED2) !== 0 ? hashPort(pkt) : 0;
    const base = (port + pkt.saddr) >>> 0;
    const m = this.tableSize;
    const lookup = this.#lookup;
    const ihash = hsiphash1u32(base, this.#hash1) % m;
    let d = lookup[ihash] as Dest | null;
    work.hashProbes++;
    if (d === null) return null;
    work.destsExamined++;
    if (!unavailable(d)) return d;
    if ((svc.flags & ServiceFlag.SCHED1) === 0) return null;
    // ip_vs_mh_get_fallback: re-hash with growing offsets, not linear probing.
    for (let offset = 0; offset < m; offset++) {
      const roffset = (offset + ihash) % m;
      d = lookup[hsiphash1u32((roffset + base) >>> 0, this.#hash1) % m] as Dest | null;
      work.hashProbes++;
      if (d === null) break;
      work.destsExamined++;
      if (!unavailable(d)) return d;
    }
    return null;
  }

  /** `ip_vs_mh_dest_changed` → `ip_vs_mh_reassign`; false on the kernel's `-EINVAL`. */
  #changed(svc: VirtualService): boolean {
    const dests = svc.dests;
    const nd = dests.length;
    // ip_vs_mh_gcd_weight
    let g = 0;
    let maxW = 0;
    for (let i = 0; i < nd; i++) {
      const w = dests[i]!.lastWeight;
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > maxW) maxW = w;
    }
    this.#gcd = g;
    // ip_vs_mh_shift_weight
    if (g < 1) {
      this.#rshift = 0;
    } else {
      const shift = fls(Math.trunc(maxW / g)) - this.tabBits;
      this.#rshift = shift >= 0 ? shift : 0;
    }
    // ip_vs_mh_reassign
    if (nd > this.tableSize) return false;
    const lookup = this.#lookup;
    if (g < 1) {
      lookup.fill(null);
      return true;
    }
    const m = this.tableSize;
    // ip_vs_mh_permutate
    const skip = new Int32Array(nd);
    const perm = new Int32Array(nd);
    const turns = new Int32Array(nd);
    for (let i = 0; i < nd; i++) {
      const d = dests[i]!;
      perm[i] = this.hashKey1(d.addr, d.port) % m;
      skip[i] = (this.hashKey2(d.addr, d.port) % (m - 1)) + 1;
      turns[i] = this.turnsOf(d);
    }
    // ip_vs_mh_populate
    const taken = this.#taken;
    taken.fill(0);
    let n = 0;
    let dtCount = 0;
    for (;;) {
      for (let i = 0; i < nd; ) {
        const t = turns[i]!;
        if (t < 1) {
          i++;
          continue;
        }
        let c = perm[i]!;
        while (taken[c] !== 0) {
          c += skip[i]!;
          if (c >= m) c -= m;
        }
        perm[i] = c;
        taken[c] = 1;
        lookup[c] = dests[i]!;
        if (++n === m) return true;
        if (++dtCount >= t) {
          dtCount = 0;
          i++;
        }
      }
    }
  }
}

/**
 * A factory for `mh` with a chosen table size.
 *
 * @param options - {@link MhOptions}
 * @throws {InvalidArgumentError} when `tableIndex` is out of 8..17
 */
export function createMhScheduler(options: MhOptions = {}): SchedulerFactory {
  const tableIndex = options.tableIndex ?? MH_TAB_INDEX_DEFAULT;
  const refuse = options.refuseDestOverflow ?? false;
  checkTableIndex('createMhScheduler', tableIndex);
  return {
    name: 'mh',
    create(): Scheduler {
      return new MhScheduler(tableIndex, refuse);
    },
  };
}

/** Factory for the `mh` scheduler with the kernel's default table size (4093). */
export const mhScheduler: SchedulerFactory = createMhScheduler();
