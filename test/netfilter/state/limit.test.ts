import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/errors.js';
import type { LimitMatch } from '../../../src/netfilter/ast.js';
import { createLimiter, creditsPerJiffy, limitAvg, user2credits } from '../../../src/netfilter/state/limit.js';

// Expected values are worked out from net/netfilter/xt_limit.c (user2credits,
// limit_mt, limit_mt_check) and iptables extensions/libxt_limit.c (parse_rate).

const limit = (count: number, unit: LimitMatch['unit'], burst: number): LimitMatch => ({ module: 'limit', count, unit, burst });

/** Times (ms) at which packets sent every `step` ms in [from, to] pass. */
function passes(l: ReturnType<typeof createLimiter>, from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) if (l.match(t)) out.push(t);
  return out;
}

describe('credit arithmetic', () => {
  it('CREDITS_PER_JIFFY is the largest power of two ≤ 0xFFFFFFFF / (HZ·86400)', () => {
    // HZ 1000: 4294967295 / 86400000 = 49 → 32; HZ 250: 198 → 128; HZ 100: 497 → 256.
    expect(creditsPerJiffy(1000)).toBe(32);
    expect(creditsPerJiffy(250)).toBe(128);
    expect(creditsPerJiffy(100)).toBe(256);
  });

  it('parse_rate: avg = 10000 · seconds-per-unit / count (integer division)', () => {
    expect(limitAvg(3, 'hour')).toBe(12_000_000);
    expect(limitAvg(3, 'minute')).toBe(200_000);
    expect(limitAvg(3, 'second')).toBe(3333);
    expect(limitAvg(1, 'day')).toBe(864_000_000);
    expect(() => limitAvg(20_000, 'second')).toThrow(/Rate too fast/);
  });

  it('user2credits divides first above 0xFFFFFFFF / (HZ·CPJ) = 134217', () => {
    expect(user2credits(3333, 1000)).toBe(10665); // 3333·32000/10000 = 10665.6
    expect(user2credits(200_000, 1000)).toBe(640_000); // (200000/10000)·32000
    expect(user2credits(1_000_000, 1000)).toBe(3_200_000);
  });
});

describe('limit_mt over simulated time (HZ 1000)', () => {
  it('3/minute burst 5: five at once, then one per 20 s', () => {
    // cost 640000, cap 3200000, +32000 per second. Credits after the matches at
    // t=0..4 s: 2560000, 1952000, 1344000, 736000, 128000; then 128000 + 32000·k ≥ 640000
    // first at k = 16 (t = 20 s), leaving 0; then every 20 s.
    const l = createLimiter(limit(3, 'minute', 5));
    expect(l.params.cost).toBe(640_000);
    expect(l.params.creditCap).toBe(3_200_000);
    expect(passes(l, 0, 60_000, 1000)).toEqual([0, 1000, 2000, 3000, 4000, 20_000, 40_000, 60_000]);
  });

  it('3/second burst 1: one per 334 ms, 30 in ten seconds, not 30.0 per 10 s exactly', () => {
    // cost = cap = 10665. After a match the credit is 0; 333 jiffies give 10656 < 10665,
    // 334 give 10688, capped at 10665: so matches at k·334 ms, k = 0..29 within [0, 9999].
    const l = createLimiter(limit(3, 'second', 1));
    const got = passes(l, 0, 9999, 1);
    expect(got.length).toBe(30);
    expect(got.slice(0, 4)).toEqual([0, 334, 668, 1002]);
    expect(got.at(-1)).toBe(29 * 334);
  });

  it('10/second burst 1: exactly one per 100 ms', () => {
    // avg 1000 → cost = cap = 3200 = 100 jiffies of credit.
    const l = createLimiter(limit(10, 'second', 1));
    const got = passes(l, 0, 999, 1);
    expect(got).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });

  it('a burst refills to the cap and no further', () => {
    const l = createLimiter(limit(1, 'second', 3)); // cost 32000, cap 96000
    expect(passes(l, 0, 0, 1).length + passes(l, 0, 0, 1).length + passes(l, 0, 0, 1).length).toBe(3);
    expect(l.match(0)).toBe(false);
    // An hour later only the burst of 3 is available again.
    expect(passes(l, 3_600_000, 3_600_000, 1)).toEqual([3_600_000]);
    expect(l.match(3_600_000)).toBe(true);
    expect(l.match(3_600_000)).toBe(true);
    expect(l.match(3_600_000)).toBe(false);
  });

  it('the u32 credit increase wraps after 2^27 idle jiffies (37.3 h at HZ 1000)', () => {
    // 3/minute burst 1: cost = cap = 640000. After the match at 0 the credit is 0;
    // 2^27 jiffies later the increase is 2^27·32 mod 2^32 = 0, so the packet fails.
    const l = createLimiter(limit(3, 'minute', 1));
    expect(l.match(0)).toBe(true);
    expect(l.match(2 ** 27)).toBe(false);
    const l2 = createLimiter(limit(3, 'minute', 1));
    expect(l2.match(0)).toBe(true);
    expect(l2.match(2 ** 27 - 1000)).toBe(true);
  });
});

describe('limit_mt_check', () => {
  it('refuses burst 0 and avg·burst overflowing 32 bits ("Overflow, try lower")', () => {
    expect(() => createLimiter(limit(1, 'second', 0))).toThrow(OperationError);
    // 1/day: avg 864000000; burst 2 → 1728000000 → (172800·32000) mod 2^32 = 1234632704,
    // which is below user2credits(avg) = 2764800000.
    expect(() => createLimiter(limit(1, 'day', 1))).not.toThrow();
    expect(() => createLimiter(limit(1, 'day', 2))).toThrow(/Overflow, try lower: 864000000\/2/);
  });

  it('other HZ values change the credits, not the rate', () => {
    // HZ 100: CPJ 256; 10/second: avg 1000 → cost 1000·100·256/10000 = 2560 = 10 jiffies of credit.
    const l = createLimiter(limit(10, 'second', 1), 0, 100);
    expect(l.params.cost).toBe(2560);
    expect(passes(l, 0, 999, 1)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });
});
