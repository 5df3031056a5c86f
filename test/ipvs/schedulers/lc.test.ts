// lc expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_lc.c:
// walk the list (newest first), skip OVERLOAD and weight 0, keep the smallest
// overhead = (activeconns << 8) + inactconns (include/net/ip_vs.h
// ip_vs_dest_conn_overhead), replacing only on a strict `<` so the earlier
// dest wins ties. Weight values other than 0 are ignored.
import { describe, expect, it } from 'vitest';
import { lcScheduler } from '../../../src/ipvs/schedulers/lc.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

function abc() {
  const h = harness(lcScheduler);
  const a = h.add('10.1.0.1');
  const b = h.add('10.1.0.2');
  const c = h.add('10.1.0.3');
  return { h, a, b, c };
}

describe('lc', () => {
  it('is named lc', () => {
    expect(lcScheduler.name).toBe('lc');
    expect(harness(lcScheduler).svc.scheduler.name).toBe('lc');
  });

  it('all idle: the newest dest (first in list order) wins the tie', () => {
    const { h } = abc();
    expect(h.picks(3)).toEqual(['3', '3', '3']);
  });

  it('one active connection outweighs 255 inactive ones, not 256', () => {
    // C: 1 active = 256, B: 255 inactive, A: 256 inactive -> B (255).
    const { h, a, b, c } = abc();
    conns(c, 1, 0);
    conns(b, 0, 255);
    conns(a, 0, 256);
    expect(name(h.pick())).toBe('2');
    // B 256 too: C, B, A all 256 -> C, the first.
    conns(b, 0, 256);
    expect(name(h.pick())).toBe('3');
  });

  it('ignores weight values other than 0', () => {
    // C weight 100 with overhead 2 loses to A weight 1 with overhead 1.
    const { h, a, b, c } = abc();
    h.setWeight(c, 100);
    conns(c, 0, 2);
    conns(b, 0, 3);
    conns(a, 0, 1);
    expect(name(h.pick())).toBe('1');
  });

  it('skips weight 0 and OVERLOAD even when they are least loaded', () => {
    const { h, a, b, c } = abc();
    conns(c, 0, 0);
    conns(b, 0, 1);
    conns(a, 0, 2);
    h.setWeight(c, 0);
    expect(name(h.pick())).toBe('2');
    overload(b);
    expect(name(h.pick())).toBe('1');
    overload(a);
    expect(h.pick()).toBeNull();
  });

  it('returns null on an empty service and examines every dest', () => {
    const h = harness(lcScheduler);
    expect(h.pick()).toBeNull();
    const { h: h2 } = abc();
    h2.work.reset();
    h2.pick();
    expect(h2.work.destsExamined).toBe(3);
  });
});
