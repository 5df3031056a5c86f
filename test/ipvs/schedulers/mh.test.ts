// mh expectations derived from torvalds/linux net/netfilter/ipvs/ip_vs_mh.c.
//
// gcd = gcd of positive last_weights; rshift = max(0, fls(max_lw / gcd) - TAB_BITS)
// (TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2 = 6 by default); turns =
// ((lw / gcd) >> rshift) ?: (lw != 0). ip_vs_mh_populate walks the dests in
// list order, each claiming `turns` slots per round, and stops as soon as all
// M slots are taken, so with T = sum of turns the slot counts are exactly
// floor(M / T) * turns, plus the M mod T left-over slots handed out in list
// order (each dest up to its turns). The slot positions themselves come from
// hsiphash and are checked against an independent BigInt transcription.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OperationError } from '../../../src/errors.js';
import type { Dest } from '../../../src/ipvs/dest.js';
import { DestFlag, ServiceFlag } from '../../../src/ipvs/flags.js';
import { MhScheduler, createMhScheduler, mhScheduler } from '../../../src/ipvs/schedulers/mh.js';
import { harness } from './harness.js';
import { refMhHash, refMhTable, schedOf, syn } from './hash-helpers.js';

const KEY1 = 2654435761n;

function slotCounts(s: MhScheduler, dests: readonly Dest[]): number[] {
  const c = dests.map(() => 0);
  for (let i = 0; i < s.tableSize; i++) {
    const d = s.slot(i);
    if (d !== null) c[dests.indexOf(d)]!++;
  }
  return c;
}

function owners(s: MhScheduler, dests: readonly Dest[]): number[] {
  return Array.from({ length: s.tableSize }, (_, i) => {
    const d = s.slot(i);
    return d === null ? -1 : dests.indexOf(d);
  });
}

/** Adds dests so that the kernel list (newest first) has the given weights in order. */
function withWeights(weights: readonly number[], opts: Parameters<typeof harness>[1] = {}, factory = mhScheduler) {
  const h = harness(factory, opts);
  for (let i = weights.length - 1; i >= 0; i--) h.add(`10.1.${i >> 8}.${i & 255}`, weights[i]);
  return { h, s: schedOf(h, MhScheduler), dests: [...h.svc.dests] };
}

describe('mh configuration', () => {
  it('defaults to the 4093-slot table with TAB_BITS 6', () => {
    expect(mhScheduler.name).toBe('mh');
    const { s } = withWeights([]);
    expect(s.tableSize).toBe(4093);
    expect(s.tabBits).toBe(6);
  });

  it('takes CONFIG_IP_VS_MH_TAB_INDEX 8..17', () => {
    const small = schedOf(harness(createMhScheduler({ tableIndex: 8 })), MhScheduler);
    expect([small.tableSize, small.tabBits]).toEqual([251, 4]);
    const big = schedOf(harness(createMhScheduler({ tableIndex: 17 })), MhScheduler);
    expect([big.tableSize, big.tabBits]).toEqual([131071, 8]);
    expect(() => createMhScheduler({ tableIndex: 7 })).toThrow(InvalidArgumentError);
    expect(() => createMhScheduler({ tableIndex: 18 })).toThrow(InvalidArgumentError);
    expect(() => createMhScheduler({ tableIndex: 12.5 })).toThrow(/lbsim\/ipvs\.createMhScheduler/);
  });
});

describe('mh gcd, rshift, turns and slot counts', () => {
  it('weights 1,1,1: turns 1,1,1; 4093 = 3*1364 + 1 -> 1365/1364/1364', () => {
    const { s, dests } = withWeights([1, 1, 1]);
    expect([s.gcd, s.rshift]).toEqual([1, 0]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([1, 1, 1]);
    expect(slotCounts(s, dests)).toEqual([1365, 1364, 1364]);
  });

  it('weights 300,200,100: gcd 100, fls(3) = 2 -> rshift 0, turns 3,2,1; 4093 = 6*682 + 1', () => {
    const { s, dests } = withWeights([300, 200, 100]);
    expect([s.gcd, s.rshift]).toEqual([100, 0]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([3, 2, 1]);
    expect(slotCounts(s, dests)).toEqual([3 * 682 + 1, 2 * 682, 682]);
  });

  it('weights 65535,1: gcd 1, fls(65535) = 16 -> rshift 10, turns 63 and (0 -> 1); 4093 = 64*63 + 61', () => {
    const { s, dests } = withWeights([65535, 1]);
    expect([s.gcd, s.rshift]).toEqual([1, 10]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([63, 1]);
    expect(slotCounts(s, dests)).toEqual([63 * 63 + 61, 63]);
  });

  it('weights 100,7: fls(100) = 7 -> rshift 1, turns 50,3; 4093 = 53*77 + 12', () => {
    const { s, dests } = withWeights([100, 7]);
    expect([s.gcd, s.rshift]).toEqual([1, 1]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([50, 3]);
    expect(slotCounts(s, dests)).toEqual([50 * 77 + 12, 3 * 77]);
  });

  it('weights 0,2,4: the weight-0 dest gets no turns; gcd 2, turns 0,1,2; 4093 = 3*1364 + 1', () => {
    const { s, dests } = withWeights([0, 2, 4]);
    expect([s.gcd, s.rshift]).toEqual([2, 0]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([0, 1, 2]);
    expect(slotCounts(s, dests)).toEqual([0, 1365, 2728]);
  });

  it('table index 8 (M = 251, TAB_BITS 4), weights 20,3: fls(20) = 5 -> rshift 1, turns 10,1; 251 = 11*22 + 9', () => {
    const { s, dests } = withWeights([20, 3], {}, createMhScheduler({ tableIndex: 8 }));
    expect([s.tableSize, s.gcd, s.rshift]).toEqual([251, 1, 1]);
    expect(dests.map((d) => s.turnsOf(d))).toEqual([10, 1]);
    expect(slotCounts(s, dests)).toEqual([10 * 22 + 9, 22]);
  });

  it('all last_weights 0: gcd 0 and an empty table', () => {
    const { h, s, dests } = withWeights([0, 0]);
    expect(s.gcd).toBe(0);
    expect(slotCounts(s, dests)).toEqual([0, 0]);
    h.work.reset();
    expect(h.pick(syn(0xc0a80001))).toBeNull();
    expect(h.work.hashProbes).toBe(1);
  });
});

describe('mh table positions', () => {
  it('equal the BigInt transcription of permutate/populate (M = 4093)', () => {
    const { s, dests } = withWeights([5, 1, 3, 3, 0, 2, 7]);
    expect(owners(s, dests)).toEqual(refMhTable(dests, 4093, 6));
  });

  test.prop(
    [
      fc.uniqueArray(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat({ max: 70 }), { minLength: 12, maxLength: 12 }),
      fc.nat({ max: 65535 }),
    ],
    { numRuns: 30 },
  )('equal the BigInt transcription for random dests (M = 251)', (addrs, weights, port) => {
    const h = harness(createMhScheduler({ tableIndex: 8 }));
    for (let i = 0; i < addrs.length; i++) {
      const ipStr = [24, 16, 8, 0].map((sh) => (addrs[i]! >>> sh) & 255).join('.');
      h.add(ipStr, weights[i], port);
    }
    const s = schedOf(h, MhScheduler);
    const dests = [...h.svc.dests];
    expect(owners(s, dests)).toEqual(refMhTable(dests, 251, 4));
  });

  test.prop([fc.nat({ max: 0xffffffff })], { numRuns: 200 })(
    'a lookup uses slot hsiphash(saddr, hash1) % M',
    (saddr) => {
      const { h, s } = fixed;
      expect(h.pick(syn(saddr))).toBe(s.slot(refMhHash(saddr, KEY1) % 4093));
    },
  );
});

const fixed = withWeights([1, 2, 3, 4]);

describe('mh scheduling', () => {
  it('same key -> same dest while the set is unchanged', () => {
    const { h } = withWeights([1, 1, 1, 1, 1]);
    const first: (Dest | null)[] = [];
    for (let i = 0; i < 1000; i++) first.push(h.pick(syn(0xc0a80000 + i, 1000 + i)));
    for (let i = 0; i < 1000; i++) expect(h.pick(syn(0xc0a80000 + i, 2000 + i))).toBe(first[i]);
    expect(new Set(first).size).toBe(5);
  });

  it('mh-port adds the source port to the key', () => {
    const { h, s } = withWeights([1, 1, 1, 1, 1], { flags: ServiceFlag.SCHED2 });
    for (let i = 0; i < 50; i++) {
      const saddr = 0xc0a80000 + i;
      const sport = 30000 + 7 * i;
      expect(h.pick(syn(saddr, sport))).toBe(s.slot(refMhHash(saddr + sport, KEY1) % 4093));
    }
  });

  it('removing one of 10 dests remaps about 1/10 of the keys (< 2/N)', () => {
    const { h } = withWeights(new Array<number>(10).fill(1));
    const keys = 10000;
    const before: (Dest | null)[] = [];
    for (let i = 0; i < keys; i++) before.push(h.pick(syn(0xac100000 + i * 7)));
    const victim = h.svc.dests[4]!;
    h.del(victim);
    let moved = 0;
    let onVictim = 0;
    let bad = 0;
    for (let i = 0; i < keys; i++) {
      const now = h.pick(syn(0xac100000 + i * 7));
      if (now === victim || now === null) bad++;
      if (before[i] === victim) onVictim++;
      if (now !== before[i]) moved++;
    }
    expect(bad).toBe(0);
    expect(moved).toBeGreaterThanOrEqual(onVictim);
    expect(moved / keys).toBeLessThan(2 / 10);
    expect(moved / keys).toBeGreaterThan(0.05);
  });

  it('setting a weight to 0 keeps the table (last_weight) and its keys get NULL', () => {
    const { h, s, dests } = withWeights([1, 1, 1]);
    const before = owners(s, dests);
    const d = dests[1]!;
    h.setWeight(d, 0);
    expect(d.lastWeight).toBe(1);
    expect(owners(s, dests)).toEqual(before);
    let hits = 0;
    for (let i = 0; i < 300; i++) {
      const saddr = 0xc0a80000 + i;
      const owner = s.slot(refMhHash(saddr, KEY1) % 4093);
      const got = h.pick(syn(saddr));
      if (owner === d) {
        hits++;
        expect(got).toBeNull();
      } else {
        expect(got).toBe(owner);
      }
    }
    expect(hits).toBeGreaterThan(50);
  });

  it('mh-fallback re-hashes offset + saddr (not linear probing)', () => {
    const { h, s, dests } = withWeights([1, 1, 1], { flags: ServiceFlag.SCHED1 });
    const d = dests[0]!;
    h.setWeight(d, 0);
    let checked = 0;
    for (let i = 0; i < 300 && checked < 20; i++) {
      const saddr = 0xc0a80000 + i;
      const ihash = refMhHash(saddr, KEY1) % 4093;
      if (s.slot(ihash) !== d) continue;
      // ip_vs_mh_get_fallback: k = 0.. : roffset = (k + ihash) % M, slot = hsiphash(roffset + saddr) % M.
      let expected: Dest | null = null;
      let probes = 1;
      for (let k = 0; k < 4093; k++) {
        const roffset = (k + ihash) % 4093;
        const cand = s.slot(refMhHash((roffset + saddr) >>> 0, KEY1) % 4093);
        probes++;
        if (cand !== d) {
          expected = cand;
          break;
        }
      }
      h.work.reset();
      expect(h.pick(syn(saddr))).toBe(expected);
      expect(h.work.hashProbes).toBe(probes);
      checked++;
    }
    expect(checked).toBe(20);
  });

  it('mh-fallback with nothing usable gives NULL after M + 1 probes', () => {
    const { h, dests } = withWeights([1, 1], { flags: ServiceFlag.SCHED1 });
    for (const d of dests) d.flags |= DestFlag.OVERLOAD;
    h.work.reset();
    expect(h.pick(syn(0xc0a80001))).toBeNull();
    expect(h.work.hashProbes).toBe(4094);
  });

  it('without mh-fallback an OVERLOAD dest gives NULL', () => {
    const { h, s } = withWeights([1]);
    const only = h.svc.dests[0]!;
    expect(h.pick(syn(0xc0a80001))).toBe(only);
    only.flags |= DestFlag.OVERLOAD;
    expect(h.pick(syn(0xc0a80001))).toBeNull();
    expect(s.slot(0)).toBe(only);
  });

  it('no dests: NULL', () => {
    const { h } = withWeights([]);
    expect(h.pick(syn(1))).toBeNull();
  });
});

describe('mh with more dests than slots', () => {
  it('kernel default: the add succeeds and the table stays as it was (M = 251)', () => {
    const h = harness(createMhScheduler({ tableIndex: 8 }));
    for (let i = 0; i < 251; i++) h.add(`10.2.${i >> 8}.${i & 255}`, 1);
    const s = schedOf(h, MhScheduler);
    const before = Array.from({ length: 251 }, (_, i) => s.slot(i));
    const extra = h.add('10.3.0.1', 1);
    expect(h.svc.numDests).toBe(252);
    expect(Array.from({ length: 251 }, (_, i) => s.slot(i))).toEqual(before);
    // A later delete that keeps num_dests > M changes nothing either ...
    h.del(extra);
    // ... but here num_dests is back to 251: the table is rebuilt from the list.
    expect(owners(s, h.svc.dests)).toEqual(refMhTable(h.svc.dests, 251, 4));
  });

  it('initService refuses with EINVAL, as ip_vs_mh_init_svc does', () => {
    const h = harness(createMhScheduler({ tableIndex: 8 }));
    for (let i = 0; i < 252; i++) h.add(`10.2.${i >> 8}.${i & 255}`, 1);
    const fresh = new MhScheduler(8);
    expect(() => {
      fresh.initService(h.svc);
    }).toThrow(OperationError);
    try {
      fresh.initService(h.svc);
    } catch (e) {
      expect((e as OperationError).code).toBe('EINVAL');
    }
  });

  it('refuseDestOverflow: addDest throws EINVAL before touching the table', () => {
    const h = harness(createMhScheduler({ tableIndex: 8, refuseDestOverflow: true }));
    for (let i = 0; i < 251; i++) h.add(`10.2.${i >> 8}.${i & 255}`, 1);
    const s = schedOf(h, MhScheduler);
    const before = Array.from({ length: 251 }, (_, i) => s.slot(i));
    expect(() => h.add('10.3.0.1', 1)).toThrow(/EINVAL|exceed/);
    expect(Array.from({ length: 251 }, (_, i) => s.slot(i))).toEqual(before);
  });
});
