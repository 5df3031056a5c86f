// nq expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_nq.c:
// walk the list (newest first), skip OVERLOAD and weight 0; the first dest
// with activeconns == 0 is returned at once; otherwise minimise
// (active + 1) / weight with loh * w(dest) > doh * w(least), strict, so ties
// keep the earlier dest.
import { describe, expect, it } from 'vitest';
import { nqScheduler } from '../../../src/ipvs/schedulers/nq.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

function abc(wa = 1, wb = 1, wc = 1) {
  const h = harness(nqScheduler);
  const a = h.add('10.1.0.1', wa);
  const b = h.add('10.1.0.2', wb);
  const c = h.add('10.1.0.3', wc);
  return { h, a, b, c };
}

describe('nq', () => {
  it('is named nq', () => {
    expect(nqScheduler.name).toBe('nq');
    expect(harness(nqScheduler).svc.scheduler.name).toBe('nq');
  });

  it('returns the first idle dest at once, whatever the weights', () => {
    // C w1 a5, B w1 a0 (idle), A w100 a0 (idle) -> B; walk stops there (2 examined).
    const { h, a, b, c } = abc(100, 1, 1);
    conns(c, 5);
    conns(b, 0, 500);
    conns(a, 0);
    h.work.reset();
    expect(name(h.pick())).toBe('2');
    expect(h.work.destsExamined).toBe(2);
  });

  it('idle means no active connection: inactive ones do not count', () => {
    const { h, c } = abc();
    conns(c, 0, 1000);
    for (const d of h.svc.dests.slice(1)) conns(d, 1);
    expect(name(h.pick())).toBe('3');
  });

  it('skips idle dests with weight 0 or OVERLOAD', () => {
    // C w0 idle, B idle but OVERLOAD, A w1 a3 -> A (the only candidate).
    const { h, a, b } = abc(1, 1, 0);
    overload(b);
    conns(a, 3);
    expect(name(h.pick())).toBe('1');
  });

  it('without an idle dest uses the sed rule; ties keep the earlier dest', () => {
    // C w1 a1 (2), B w3 a2 (3), A w1 a1 (2).
    // least = C (2). B: 2*3 = 6 > 3*1 = 3 -> B (3). A: 3*1 = 3 > 2*3 = 6? no -> B.
    const { h, a, b, c } = abc(1, 3, 1);
    conns(c, 1);
    conns(b, 2);
    conns(a, 1);
    expect(name(h.pick())).toBe('2');
    // B w1 a1: C, B, A all 2/1 -> C.
    h.setWeight(b, 1);
    conns(b, 1);
    expect(name(h.pick())).toBe('3');
  });

  it('returns null when none is eligible', () => {
    expect(harness(nqScheduler).pick()).toBeNull();
    const { h, a, b, c } = abc(0, 1, 0);
    overload(b);
    expect(h.pick()).toBeNull();
    expect(a.weight + c.weight).toBe(0);
  });
});
