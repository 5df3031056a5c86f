// sed expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_sed.c:
// wlc's structure with overhead = activeconns + 1 (inactive ignored); the first
// non-OVERLOAD dest with weight > 0 seeds `least`; a later non-OVERLOAD dest
// replaces it when loh * w(dest) > doh * w(least) (strict: ties keep the earlier
// dest). The list is newest first: adding .1, .2, .3 gives 3, 2, 1.
import { describe, expect, it } from 'vitest';
import { sedScheduler } from '../../../src/ipvs/schedulers/sed.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

function abc(wa = 1, wb = 1, wc = 1) {
  const h = harness(sedScheduler);
  const a = h.add('10.1.0.1', wa);
  const b = h.add('10.1.0.2', wb);
  const c = h.add('10.1.0.3', wc);
  return { h, a, b, c };
}

describe('sed', () => {
  it('is named sed', () => {
    expect(sedScheduler.name).toBe('sed');
    expect(harness(sedScheduler).svc.scheduler.name).toBe('sed');
  });

  it('minimises (active + 1) / weight; ties keep the earlier dest', () => {
    // C w1 a0 (1), B w2 a1 (1), A w3 a2 (1): all equal -> C.
    const { h, a, b, c } = abc(3, 2, 1);
    conns(c, 0);
    conns(b, 1);
    conns(a, 2);
    expect(name(h.pick())).toBe('3');
    // C a1 -> 2/1. least = C (2). B: 2*2 = 4 > 2*1 = 2 -> B (2). A: 2*3 = 6 > 3*2 = 6? no -> B.
    conns(c, 1);
    expect(name(h.pick())).toBe('2');
  });

  it('ignores inactive connections (unlike wlc)', () => {
    // C w1 a0 i1000 -> 1; B w1 a1 -> 2: 1*1 > 2*1? no -> C (wlc would take B: 1000 > 256).
    const { h, b, c } = abc();
    conns(c, 0, 1000);
    conns(b, 1, 0);
    conns(h.svc.dests[2]!, 5, 0);
    expect(name(h.pick())).toBe('3');
  });

  it('an idle heavier dest beats an idle light one only by weight', () => {
    // C w1 a0 -> 1, B w4 a0 -> 1: 1*4 > 1*1 -> B. A w2 a0: 1*2 > 1*4? no -> B.
    const { h } = abc(2, 4, 1);
    expect(name(h.pick())).toBe('2');
  });

  it('skips weight 0 as first candidate, OVERLOAD everywhere; null when none', () => {
    const { h, a, b, c } = abc(1, 1, 0);
    conns(b, 3);
    conns(a, 4);
    expect(name(h.pick())).toBe('2'); // C weight 0 skipped; A: 4*1 > 5*1? no
    overload(b);
    expect(name(h.pick())).toBe('1');
    overload(a);
    expect(h.pick()).toBeNull();
    expect(c.weight).toBe(0);
    expect(harness(sedScheduler).pick()).toBeNull();
  });

  it('examines every dest', () => {
    const { h } = abc();
    h.work.reset();
    h.pick();
    expect(h.work.destsExamined).toBe(3);
  });
});
