// fo expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_fo.c:
// the non-OVERLOAD dest with the highest weight; the running maximum starts at
// 0 (weight 0 never wins) and the comparison is strict `>`, so on equal weight
// the earlier dest in list order (newest first) wins. Connections are ignored.
import { describe, expect, it } from 'vitest';
import { foScheduler } from '../../../src/ipvs/schedulers/fo.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

function abc(wa: number, wb: number, wc: number) {
  const h = harness(foScheduler);
  const a = h.add('10.1.0.1', wa);
  const b = h.add('10.1.0.2', wb);
  const c = h.add('10.1.0.3', wc);
  return { h, a, b, c };
}

describe('fo', () => {
  it('is named fo', () => {
    expect(foScheduler.name).toBe('fo');
    expect(harness(foScheduler).svc.scheduler.name).toBe('fo');
  });

  it('picks the highest weight, the earlier dest on equal weight, ignoring connections', () => {
    // list C2 B5 A5 -> B (first of the two 5s), even when loaded.
    const { h, b } = abc(5, 5, 2);
    conns(b, 1000, 1000);
    expect(h.picks(3)).toEqual(['2', '2', '2']);
  });

  it('fails over to the next highest on OVERLOAD and on weight 0', () => {
    const { h, a, b, c } = abc(5, 5, 2);
    overload(b);
    expect(name(h.pick())).toBe('1');
    h.setWeight(a, 0);
    expect(name(h.pick())).toBe('3');
    overload(c);
    expect(h.pick()).toBeNull();
  });

  it('never picks weight 0 and returns null on an empty service', () => {
    expect(harness(foScheduler).pick()).toBeNull();
    const { h } = abc(0, 0, 0);
    h.work.reset();
    expect(h.pick()).toBeNull();
    expect(h.work.destsExamined).toBe(3);
  });
});
