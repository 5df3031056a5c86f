// twos expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_twos.c:
// - pass 1: total = sum of weights of non-OVERLOAD dests with weight > 0; none -> NULL;
// - r1, r2 = get_random_u32_below(total + 1), i.e. uniform in [0, total]
//   (lbsim: ctx.rng.below(total + 1), r1 first, then r2);
// - pass 2 over the eligible dests in list order (newest first): r -= weight;
//   choice1 is the first dest where r1 <= 0, choice2 likewise for r2;
// - choice2 replaces choice1 when weight2 * overhead1 > weight1 * overhead2,
//   computed in C `int` (wraps: the kernel builds with -fno-strict-overflow).
// So with r = 0 the first dest is chosen: P(first) = (w1 + 1)/(total + 1).
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { connOverhead, type Dest } from '../../../src/ipvs/dest.js';
import { twosScheduler } from '../../../src/ipvs/schedulers/twos.js';
import { createRng } from '../../../src/sim/rng.js';
import { harness } from './harness.js';
import { conns, name, overload, ScriptedRng } from './simple-helpers.js';

/** A twos harness whose draws are scripted; adds .1, .2, ... with `weights` in that order (list: newest first). */
function scripted(weights: readonly number[]) {
  const rng = new ScriptedRng();
  const h = harness(twosScheduler, { rng });
  const ds = weights.map((w, i) => h.add(`10.1.0.${i + 1}`, w));
  return { h, rng, ds };
}

describe('twos', () => {
  it('is named twos', () => {
    expect(twosScheduler.name).toBe('twos');
    expect(harness(twosScheduler).svc.scheduler.name).toBe('twos');
  });

  it('maps the two draws onto the list by cumulative weight, r = 0 to the first dest', () => {
    // Add .1 w2, .2 w1, .3 w1 -> list .3 (w1), .2 (w1), .1 (w2); total 4, draws in [0, 4].
    // r: 0, 1 -> .3 (1 - 1 = 0 <= 0; 0 - 1 < 0); 2 -> .2; 3, 4 -> .1.
    // Overheads: .3 = 0, .2 = 5, .1 = 2.
    const { h, rng, ds } = scripted([2, 1, 1]);
    conns(ds[1]!, 0, 5);
    conns(ds[0]!, 0, 2);
    // (0, 4): choice1 .3 (w1, oh 0), choice2 .1 (w2, oh 2): 2*0 > 1*2? no -> .3.
    rng.push(0, 4);
    expect(name(h.pick())).toBe('3');
    // (2, 1): choice1 .2 (w1, oh 5), choice2 .3 (w1, oh 0): 1*5 > 1*0 -> .3.
    rng.push(2, 1);
    expect(name(h.pick())).toBe('3');
    // (3, 3): both .1 -> .1.
    rng.push(3, 3);
    expect(name(h.pick())).toBe('1');
    // (4, 2): choice1 .1 (w2, oh 2), choice2 .2 (w1, oh 5): 1*2 > 2*5? no -> .1.
    rng.push(4, 2);
    expect(name(h.pick())).toBe('1');
    expect(rng.bounds).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('a tie in overhead / weight keeps choice1', () => {
    // list .3 (w1), .2 (w1), .1 (w2); .2 oh 2, .1 oh 4. (2, 4): choice1 .2, choice2 .1:
    // 2*2 > 1*4? no (equal) -> .2. Reversed draws (4, 2): 1*4 > 2*2? no -> .1.
    const { h, rng, ds } = scripted([2, 1, 1]);
    conns(ds[1]!, 0, 2);
    conns(ds[0]!, 0, 4);
    rng.push(2, 4, 4, 2);
    expect(name(h.pick())).toBe('2');
    expect(name(h.pick())).toBe('1');
  });

  it('leaves OVERLOAD and weight-0 dests out of the total and the walk', () => {
    // Add .1 w3, .2 w0, .3 w2 (OVERLOAD) -> list .3, .2, .1; total 3, bound 4; any draw -> .1.
    const { h, rng, ds } = scripted([3, 0, 2]);
    overload(ds[2]!);
    rng.push(0, 0, 3, 1);
    expect(name(h.pick())).toBe('1');
    expect(name(h.pick())).toBe('1');
    expect(rng.bounds).toEqual([4, 4, 4, 4]);
  });

  it('returns null without drawing when none is eligible', () => {
    const { h, rng, ds } = scripted([0, 1]);
    overload(ds[1]!);
    expect(h.pick()).toBeNull();
    expect(rng.bounds).toEqual([]);
    expect(scripted([]).h.pick()).toBeNull();
  });

  it('compares the products in 32-bit int like the kernel (wrap-around)', () => {
    // Add .1 w65535 idle, .2 w1 active 200 -> list .2 (w1, oh 51200), .1 (w65535, oh 0).
    // total 65536, bound 65537. Draws (0, 65536): choice1 .2, choice2 .1.
    // weight2 * overhead1 = 65535 * 51200 = 3,355,392,000 wraps to -939,575,296 in int,
    // which is not > weight1 * overhead2 = 0 -> the kernel keeps .2.
    const { h, rng, ds } = scripted([65535, 1]);
    conns(ds[1]!, 200, 0);
    rng.push(0, 65536);
    expect(name(h.pick())).toBe('2');
    expect(rng.bounds).toEqual([65537, 65537]);
    // Below the wrap (active 100: 65535 * 25600 < 2^31) the idle heavy dest wins.
    conns(ds[1]!, 100, 0);
    rng.push(0, 65536);
    expect(name(h.pick())).toBe('1');
  });

  it('counts pass 1 over every dest and pass 2 until both choices are found', () => {
    // list .3 .2 .1 (w1 each), draws (0, 1): both found at .3 -> 3 + 1 examined.
    const { h, rng } = scripted([1, 1, 1]);
    rng.push(0, 1);
    h.work.reset();
    h.pick();
    expect(h.work.destsExamined).toBe(4);
  });

  // Independent restatement of the rule for checking: choose by prefix sums.
  function byDraw(elig: readonly Dest[], r: number): Dest {
    let sum = 0;
    for (const d of elig) {
      sum += d.weight;
      if (sum >= r) return d;
    }
    throw new Error('draw beyond total');
  }

  test.prop([
    fc.array(
      fc.record({
        w: fc.integer({ min: 0, max: 20 }),
        a: fc.integer({ min: 0, max: 50 }),
        i: fc.integer({ min: 0, max: 300 }),
        over: fc.boolean(),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    fc.integer(),
  ])('the result follows the two seeded draws and the overhead rule', (spec, seed) => {
    const h = harness(twosScheduler, { rng: createRng(seed) });
    spec.forEach((s, k) => {
      const d = h.add(`10.2.0.${k + 1}`, s.w);
      conns(d, s.a, s.i);
      overload(d, s.over);
    });
    const mirror = createRng(seed);
    const elig = h.svc.dests.filter((d) => !d.overloaded && d.weight > 0);
    const total = elig.reduce((t, d) => t + d.weight, 0);
    for (let n = 0; n < 5; n++) {
      const got = h.pick();
      if (total === 0) {
        expect(got).toBeNull();
        continue;
      }
      const c1 = byDraw(elig, mirror.below(total + 1));
      const c2 = byDraw(elig, mirror.below(total + 1));
      // Small values: no int wrap, plain comparison.
      const want = c2.weight * connOverhead(c1) > c1.weight * connOverhead(c2) ? c2 : c1;
      expect(got).toBe(want);
      expect([c1, c2]).toContain(got);
    }
  });

  it('with equal overheads the pick is choice1: shares (w + 1)/(total + 1) for the first dest, w/(total + 1) after', () => {
    // Add .1 w3, .2 w2, .3 w1 -> list .3 (w1), .2 (w2), .1 (w3); total 6.
    // All idle, so choice2 never replaces choice1 (0 > 0 is false):
    // P(.3) = 2/7, P(.2) = 2/7, P(.1) = 3/7. Bound: 3 binomial sigmas.
    const h = harness(twosScheduler, { rng: createRng('twos-share') });
    h.add('10.1.0.1', 3);
    h.add('10.1.0.2', 2);
    h.add('10.1.0.3', 1);
    const N = 14000;
    const count = new Map<string, number>();
    for (let k = 0; k < N; k++) {
      const n = name(h.pick());
      count.set(n, (count.get(n) ?? 0) + 1);
    }
    for (const [n, p] of [
      ['3', 2 / 7],
      ['2', 2 / 7],
      ['1', 3 / 7],
    ] as const) {
      const sigma = Math.sqrt(N * p * (1 - p));
      expect(Math.abs((count.get(n) ?? 0) - N * p)).toBeLessThan(3 * sigma);
    }
  });
});
