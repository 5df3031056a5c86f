// wlc expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_wlc.c:
// the first dest (newest first) that is not OVERLOAD with weight > 0 becomes
// `least`; each later non-OVERLOAD dest replaces it when
// loh * w(dest) > doh * w(least) (__s64, strict), so ties keep the earlier dest
// and a weight-0 dest can never win. Overhead = (active << 8) + inactive
// (include/net/ip_vs.h ip_vs_dest_conn_overhead).
import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../../src/classify/work.js';
import { wlcPick, wlcScheduler } from '../../../src/ipvs/schedulers/wlc.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

function abc(wa = 1, wb = 1, wc = 1) {
  const h = harness(wlcScheduler);
  const a = h.add('10.1.0.1', wa);
  const b = h.add('10.1.0.2', wb);
  const c = h.add('10.1.0.3', wc);
  return { h, a, b, c };
}

describe('wlc', () => {
  it('is named wlc', () => {
    expect(wlcScheduler.name).toBe('wlc');
    expect(harness(wlcScheduler).svc.scheduler.name).toBe('wlc');
  });

  it('minimises overhead / weight', () => {
    // C w3 oh 40 (13.3), B w2 oh 15 (7.5), A w1 oh 10 (10).
    // least = C (40). B: 40*2 = 80 > 15*3 = 45 -> B (15). A: 15*1 = 15 > 10*2 = 20? no -> B.
    const { h, a, b, c } = abc(1, 2, 3);
    conns(c, 0, 40);
    conns(b, 0, 15);
    conns(a, 0, 10);
    expect(name(h.pick())).toBe('2');
  });

  it('ties keep the earlier dest in list order', () => {
    // C w2 oh 2, B w1 oh 1: 2*1 > 1*2? no -> C. A w4 oh 4: 2*4 > 4*2? no -> C.
    const { h, a, b, c } = abc(4, 1, 2);
    conns(c, 0, 2);
    conns(b, 0, 1);
    conns(a, 0, 4);
    expect(name(h.pick())).toBe('3');
    // All idle, any weights: 0*w > 0*w never -> the first dest.
    conns(c, 0, 0);
    conns(b, 0, 0);
    conns(a, 0, 0);
    expect(name(h.pick())).toBe('3');
  });

  it('counts an active connection as 256 inactive ones', () => {
    const { h, a, b, c } = abc();
    conns(c, 1, 0); // 256
    conns(b, 0, 255);
    conns(a, 1, 0); // 256
    expect(name(h.pick())).toBe('2');
    conns(b, 0, 256); // tie with C -> C
    expect(name(h.pick())).toBe('3');
  });

  it('skips a weight-0 first candidate; a later weight-0 dest cannot win', () => {
    // C w0 idle is skipped by the first loop -> least = B (oh 5).
    // A w0 idle in the second loop: 5*0 > 0*1? no -> B.
    const { h, a, b, c } = abc(0, 1, 0);
    conns(b, 0, 5);
    expect(name(h.pick())).toBe('2');
    expect(c.weight + a.weight).toBe(0);
  });

  it('skips OVERLOAD in both loops and returns null when none is eligible', () => {
    const { h, a, b, c } = abc();
    conns(c, 0, 1);
    conns(b, 0, 0);
    conns(a, 0, 2);
    overload(b);
    expect(name(h.pick())).toBe('3');
    overload(c);
    expect(name(h.pick())).toBe('1');
    overload(a);
    expect(h.pick()).toBeNull();
    expect(harness(wlcScheduler).pick()).toBeNull();
  });

  it('compares products beyond 2^32 exactly', () => {
    // C w65535 active 70000 (oh 17,920,000), B w65535 active 69999 (oh 17,919,744):
    // 17,920,000*65535 > 17,919,744*65535 -> B (products ~1.17e12).
    // A (weight 0) cannot win.
    const { h, b, c } = abc(0, 65535, 65535);
    conns(c, 70000, 0);
    conns(b, 69999, 0);
    expect(name(h.pick())).toBe('2');
  });

  it('wlcPick works on any list and counts examined dests', () => {
    const { h, a, b, c } = abc(1, 1, 1);
    conns(c, 0, 3);
    conns(b, 0, 2);
    conns(a, 0, 1);
    const work = new WorkCounts();
    expect(wlcPick([c, b, a], work)).toBe(a);
    expect(work.destsExamined).toBe(3);
    expect(wlcPick([b, c], work)).toBe(b);
    expect(work.destsExamined).toBe(5);
    expect(wlcPick([], work)).toBeNull();
    overload(c);
    expect(wlcPick([c], work)).toBeNull();
    expect(work.destsExamined).toBe(6);
    expect(h.svc.dests).toHaveLength(3);
  });
});
