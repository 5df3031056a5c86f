import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  chiSquare,
  coefficientOfVariation,
  disruption,
  fairnessReport,
  idealDisruption,
  jainIndex,
  logGamma,
  maxOverMean,
  regularizedGammaP,
  regularizedGammaQ,
  tally,
  weightedShares,
} from '../../src/fairness/index.js';

/** Asserts `fn` throws an InvalidArgumentError whose message starts with `prefix`. */
function expectInvalid(fn: () => unknown, prefix: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as Error).message.startsWith(`${prefix}: `)).toBe(true);
}

const countsArb = fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 50 });
const positiveCountsArb = countsArb.filter((xs) => xs.some((x) => x > 0));

describe('jainIndex', () => {
  it('matches values computed by hand from (Σx)² / (n·Σx²)', () => {
    expect(jainIndex([1, 1, 1, 1])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBe(0.25); // 1 / (4·1)
    expect(jainIndex([3, 3, 0, 0])).toBeCloseTo(0.5, 15); // 36 / (4·18): k = 2 fair of n = 4
    expect(jainIndex([1, 2, 3])).toBeCloseTo(6 / 7, 15); // 36 / (3·14)
    expect(jainIndex([7])).toBe(1);
  });

  it('is 1 when every count is zero', () => {
    expect(jainIndex([0, 0, 0])).toBe(1);
  });

  it('survives counts whose squares overflow a double', () => {
    expect(jainIndex([1e200, 1e200])).toBe(1);
    expect(jainIndex([1e300, 0])).toBe(0.5);
  });

  it.each([
    [[] as number[]],
    [[1, -1]],
    [[1, Number.NaN]],
    [[Infinity, 1]],
  ])('refuses %j', (counts) => {
    expectInvalid(() => jainIndex(counts), 'lbsim/fairness.jainIndex');
  });

  test.prop([countsArb])('lies in [1/n, 1]', (counts) => {
    const j = jainIndex(counts);
    expect(j).toBeGreaterThanOrEqual(1 / counts.length);
    expect(j).toBeLessThanOrEqual(1);
  });

  test.prop([countsArb, fc.double({ min: 1e-6, max: 1e6, noNaN: true })])('is scale-invariant', (counts, k) => {
    expect(jainIndex(counts.map((x) => x * k))).toBeCloseTo(jainIndex(counts), 12);
  });

  test.prop([countsArb])('does not depend on the order of the servers', (counts) => {
    expect(jainIndex([...counts].reverse())).toBeCloseTo(jainIndex(counts), 14);
  });

  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 1000 })])(
    'is k/n for k equal non-zero counts among n',
    (k, zeros, v) => {
      const counts = [...new Array<number>(k).fill(v), ...new Array<number>(zeros).fill(0)];
      expect(jainIndex(counts)).toBeCloseTo(k / (k + zeros), 14);
    },
  );

  test.prop([positiveCountsArb])('equals 1 / (1 + cv²)', (counts) => {
    const cv = coefficientOfVariation(counts);
    expect(jainIndex(counts)).toBeCloseTo(1 / (1 + cv * cv), 12);
  });
});

describe('coefficientOfVariation', () => {
  it('uses the population standard deviation', () => {
    // mean 5; squared deviations 9,1,1,1,0,0,4,16 sum to 32; population variance 32/8 = 4, sd 2, cv 2/5.
    expect(coefficientOfVariation([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(0.4, 15);
    // The sample form would be sqrt(32/7)/5 ≈ 0.4276.
    expect(coefficientOfVariation([2, 4, 4, 4, 5, 5, 7, 9])).not.toBeCloseTo(Math.sqrt(32 / 7) / 5, 3);
    // [1, 0]: mean 1/2, deviations ±1/2, sd 1/2, cv 1.
    expect(coefficientOfVariation([1, 0])).toBeCloseTo(1, 15);
  });

  it('is 0 for equal counts, all-zero counts and a single count', () => {
    expect(coefficientOfVariation([3, 3, 3])).toBe(0);
    expect(coefficientOfVariation([0, 0])).toBe(0);
    expect(coefficientOfVariation([42])).toBe(0);
  });

  it('refuses bad counts', () => {
    expectInvalid(() => coefficientOfVariation([]), 'lbsim/fairness.coefficientOfVariation');
    expectInvalid(() => coefficientOfVariation([2, -0.5]), 'lbsim/fairness.coefficientOfVariation');
  });

  test.prop([countsArb])('lies in [0, sqrt(n − 1)]', (counts) => {
    const cv = coefficientOfVariation(counts);
    expect(cv).toBeGreaterThanOrEqual(0);
    expect(cv).toBeLessThanOrEqual(Math.sqrt(counts.length - 1) + 1e-12);
  });
});

describe('maxOverMean', () => {
  it('matches values computed by hand', () => {
    expect(maxOverMean([5, 5])).toBe(1);
    expect(maxOverMean([4, 0, 0, 0])).toBe(4); // 4 / (4/4)
    expect(maxOverMean([1, 2, 3])).toBeCloseTo(1.5, 15); // 3 / 2
    expect(maxOverMean([0, 0, 0])).toBe(1);
  });

  it('refuses bad counts', () => {
    expectInvalid(() => maxOverMean([]), 'lbsim/fairness.maxOverMean');
    expectInvalid(() => maxOverMean([Number.NaN]), 'lbsim/fairness.maxOverMean');
  });

  test.prop([countsArb])('lies in [1, n]', (counts) => {
    const m = maxOverMean(counts);
    expect(m).toBeGreaterThanOrEqual(1);
    expect(m).toBeLessThanOrEqual(counts.length);
  });
});

describe('chiSquare', () => {
  // Upper 5 %, 1 % and 0.1 % points of the chi-square distribution as printed in the standard
  // tables (e.g. NIST/SEMATECH e-Handbook §1.3.6.7.4); the p-value at each must be the level.
  it.each([
    [1, 3.841, 0.05],
    [10, 18.307, 0.05],
    [99, 123.225, 0.05],
    [2, 0, 1],
    [3, 7.815, 0.05],
    [5, 11.07, 0.05],
    [20, 31.41, 0.05],
    [100, 124.342, 0.05],
    [1, 6.635, 0.01],
    [30, 50.892, 0.01],
    [1, 10.828, 0.001],
  ])('df=%i, x=%f gives p ≈ %f', (df, x, p) => {
    expect(Math.abs(regularizedGammaQ(df / 2, x / 2) - p)).toBeLessThan(1e-4);
  });

  it('matches closed forms: df=2 is e^(−x/2), df=1 at x=1 is 1 − erf(1/√2)', () => {
    for (const x of [0.001, 0.5, 1, 3, 10, 50, 200]) {
      expect(regularizedGammaQ(1, x / 2)).toBeCloseTo(Math.exp(-x / 2), 14);
    }
    // 1 − 0.682689492137086 (the "68 % within one sigma" of the normal distribution).
    expect(regularizedGammaQ(0.5, 0.5)).toBeCloseTo(0.31731050786291415, 13);
  });

  // For even df = 2k, Q(k, y) is a Poisson tail: e^(−y) Σ_{i<k} y^i / i!.
  test.prop([fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 300, noNaN: true })])(
    'matches the Poisson sum for even degrees of freedom',
    (k, y) => {
      let term = Math.exp(-y);
      let sum = 0;
      for (let i = 0; i < k; i++) {
        sum += term;
        term *= y / (i + 1);
      }
      const q = regularizedGammaQ(k, y);
      expect(Math.abs(q - sum)).toBeLessThanOrEqual(1e-12 + 1e-10 * sum);
    },
  );

  test.prop([fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.double({ min: 0, max: 3000, noNaN: true })])(
    'P + Q = 1',
    (a, x) => {
      expect(regularizedGammaP(a, x) + regularizedGammaQ(a, x)).toBeCloseTo(1, 12);
    },
  );

  it('handles the ends of the range', () => {
    expect(regularizedGammaQ(3, 0)).toBe(1);
    expect(regularizedGammaQ(3, Infinity)).toBe(0);
    expect(regularizedGammaP(3, 0)).toBe(0);
    expect(regularizedGammaP(3, Infinity)).toBe(1);
    expectInvalid(() => regularizedGammaQ(0, 1), 'lbsim/fairness.regularizedGammaQ');
    expectInvalid(() => regularizedGammaQ(1, -1), 'lbsim/fairness.regularizedGammaQ');
    expectInvalid(() => regularizedGammaP(1, Number.NaN), 'lbsim/fairness.regularizedGammaP');
  });

  it('computes the statistic and p-value by hand for a uniform test', () => {
    // total 60, expected 20 each: (10² + 0 + 10²) / 20 = 10, df 2, p = e^(−5).
    const r = chiSquare([10, 20, 30], [1, 1, 1]);
    expect(r.statistic).toBeCloseTo(10, 12);
    expect(r.degreesOfFreedom).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-5), 14);
  });

  it('scales the expected counts by the shares (weights need not sum to 1)', () => {
    expect(chiSquare([30, 70], [3, 7])).toEqual({ statistic: 0, degreesOfFreedom: 1, pValue: 1 });
    // Expected 25/75: 5²/25 + 5²/75 = 1 + 1/3.
    const r = chiSquare([30, 70], [1, 3]);
    expect(r.statistic).toBeCloseTo(4 / 3, 12);
    expect(r.degreesOfFreedom).toBe(1);
  });

  it('leaves zero-share categories out of the degrees of freedom', () => {
    expect(chiSquare([5, 0, 5], [1, 0, 1])).toEqual({ statistic: 0, degreesOfFreedom: 1, pValue: 1 });
  });

  it('returns Infinity and p = 0 when a zero-share category was observed', () => {
    expect(chiSquare([5, 1, 5], [1, 0, 1])).toEqual({ statistic: Infinity, degreesOfFreedom: 1, pValue: 0 });
  });

  it('is degenerate with a single positive share: p = 1', () => {
    expect(chiSquare([7], [1])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
    expect(chiSquare([7, 0], [2, 0])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
  });

  it.each([
    ['length mismatch', [1, 2], [1, 1, 1]],
    ['empty', [], []],
    ['negative count', [1, -2], [1, 1]],
    ['NaN count', [1, Number.NaN], [1, 1]],
    ['NaN share', [1, 2], [1, Number.NaN]],
    ['negative share', [1, 2], [1, -1]],
    ['all shares zero', [1, 2], [0, 0]],
    ['no observations', [0, 0], [1, 1]],
  ])('refuses %s', (_name, observed, shares) => {
    expectInvalid(() => chiSquare(observed, shares), 'lbsim/fairness.chiSquare');
  });

  test.prop([positiveCountsArb])('a perfect fit has statistic 0, and p-values lie in [0, 1]', (counts) => {
    const r = chiSquare(counts, counts);
    expect(r.statistic).toBeCloseTo(0, 9);
    const u = chiSquare(counts, counts.map(() => 1));
    expect(u.pValue).toBeGreaterThanOrEqual(0);
    expect(u.pValue).toBeLessThanOrEqual(1);
  });
});

describe('logGamma', () => {
  it('matches ln Γ at known points', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14); // Γ(1/2) = √π
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12); // 9!
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 13); // Γ(0.1) = 9.51350769866873
  });

  test.prop([fc.integer({ min: 1, max: 170 })])('is ln((n−1)!) at integers', (n) => {
    let lf = 0;
    for (let i = 2; i < n; i++) lf += Math.log(i);
    expect(Math.abs(logGamma(n) - lf)).toBeLessThan(1e-12 * Math.max(1, lf));
  });

  it('refuses x ≤ 0', () => {
    expectInvalid(() => logGamma(0), 'lbsim/fairness.logGamma');
    expectInvalid(() => logGamma(-1), 'lbsim/fairness.logGamma');
  });
});

describe('weightedShares', () => {
  it('normalises weights to sum to 1', () => {
    expect(weightedShares([1, 3])).toEqual([0.25, 0.75]);
    expect(weightedShares([0, 2, 2])).toEqual([0, 0.5, 0.5]);
  });

  it('refuses empty, negative and all-zero weights', () => {
    expectInvalid(() => weightedShares([]), 'lbsim/fairness.weightedShares');
    expectInvalid(() => weightedShares([1, -1]), 'lbsim/fairness.weightedShares');
    expectInvalid(() => weightedShares([0, 0]), 'lbsim/fairness.weightedShares');
  });
});

describe('disruption and idealDisruption', () => {
  it('counts the keys whose assignment changed', () => {
    expect(disruption(['a', 'b', 'c', 'd'], ['a', 'b', 'x', 'd'])).toBe(0.25);
    expect(disruption([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(disruption([Number.NaN, 0], [Number.NaN, -0])).toBe(0); // SameValueZero, as Map keys
    const a = { name: 'a' };
    expect(disruption([a, a], [a, { name: 'a' }])).toBe(0.5); // objects by identity
  });

  it('shows that key mod N moves far more keys than needed', () => {
    // Keys 0..11, 4 servers → 3 servers. k % 4 === k % 3 exactly when k % 12 ∈ {0, 1, 2},
    // so 9 of 12 keys move (0.75) where removing one of 4 needs only 1/4.
    const keys = Array.from({ length: 12 }, (_, k) => k);
    expect(
      disruption(
        keys.map((k) => k % 4),
        keys.map((k) => k % 3),
      ),
    ).toBe(0.75);
    expect(idealDisruption(4, 3)).toBe(0.25);
  });

  it('follows |Δ| / max(nBefore, nAfter)', () => {
    expect(idealDisruption(4, 3)).toBe(1 / 4); // remove one of N: 1/N
    expect(idealDisruption(3, 4)).toBe(1 / 4); // add one to N: 1/(N+1)
    expect(idealDisruption(10, 7)).toBeCloseTo(3 / 10, 15);
    expect(idealDisruption(5, 5)).toBe(0);
    expect(idealDisruption(0, 5)).toBe(1);
    expect(idealDisruption(0, 0)).toBe(0);
  });

  it('refuses bad arguments', () => {
    expectInvalid(() => disruption([], []), 'lbsim/fairness.disruption');
    expectInvalid(() => disruption([1], [1, 2]), 'lbsim/fairness.disruption');
    expectInvalid(() => idealDisruption(-1, 2), 'lbsim/fairness.idealDisruption');
    expectInvalid(() => idealDisruption(1, 2.5), 'lbsim/fairness.idealDisruption');
  });
});

describe('tally', () => {
  it('counts picks in the order of the keys', () => {
    expect(tally(['b', 'a', 'b', 'c', 'b'], ['a', 'b', 'c', 'd'])).toEqual([1, 3, 1, 0]);
  });

  it('matches objects by identity and accepts null as a key', () => {
    const x = { id: 1 };
    const y = { id: 1 };
    expect(tally([x, null, x, y], [x, y, null])).toEqual([2, 1, 1]);
  });

  it('accepts any iterable', () => {
    function* gen(): Generator<number> {
      yield 2;
      yield 2;
      yield 1;
    }
    expect(tally(gen(), [1, 2])).toEqual([1, 2]);
  });

  it('refuses unknown picks and repeated keys', () => {
    expectInvalid(() => tally(['z'], ['a']), 'lbsim/fairness.tally');
    expectInvalid(() => tally([], ['a', 'a']), 'lbsim/fairness.tally');
  });

  test.prop([fc.array(fc.integer({ min: 0, max: 9 }))])('counts sum to the number of picks', (picks) => {
    const counts = tally(picks, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(picks.length);
  });
});

describe('fairnessReport', () => {
  it('bundles the metrics against uniform shares by default', () => {
    const r = fairnessReport([10, 20, 30]);
    expect(r.n).toBe(3);
    expect(r.total).toBe(60);
    expect(r.min).toBe(10);
    expect(r.max).toBe(30);
    expect(r.mean).toBe(20);
    expect(r.jain).toBeCloseTo(3600 / (3 * 1400), 14);
    expect(r.coefficientOfVariation).toBeCloseTo(Math.sqrt(200 / 3) / 20, 14);
    expect(r.maxOverMean).toBeCloseTo(1.5, 14);
    expect(r.expectedShares).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(r.maxOverExpected).toBeCloseTo(1.5, 14);
    expect(r.chiSquare.statistic).toBeCloseTo(10, 12);
    expect(r.chiSquare.pValue).toBeCloseTo(Math.exp(-5), 14);
  });

  it('judges weighted fairness against the given shares', () => {
    const r = fairnessReport([10, 20, 30, 0], [1, 2, 3, 0]);
    expect(r.expectedShares).toEqual([1 / 6, 2 / 6, 3 / 6, 0]);
    expect(r.weightedJain).toBeCloseTo(1, 14);
    expect(r.maxOverExpected).toBeCloseTo(1, 14);
    expect(r.chiSquare.degreesOfFreedom).toBe(2);
    expect(r.chiSquare.pValue).toBe(1);
    expect(r.jain).toBeLessThan(1);
  });

  it('reports Infinity when a zero-share server got work', () => {
    const r = fairnessReport([10, 1], [1, 0]);
    expect(r.maxOverExpected).toBe(Infinity);
    expect(r.chiSquare.pValue).toBe(0);
  });

  it('refuses what chiSquare refuses, with its own prefix', () => {
    expectInvalid(() => fairnessReport([0, 0]), 'lbsim/fairness.fairnessReport');
    expectInvalid(() => fairnessReport([1, 2], [1]), 'lbsim/fairness.fairnessReport');
  });
});
