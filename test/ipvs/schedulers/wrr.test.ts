// wrr reference sequences, worked out by hand from torvalds/linux
// net/netfilter/ipvs/ip_vs_wrr.c:
// - init_service: cl = head, di = gcd(weights > 0) or 1, mw = max - (di - 1), cw = mw;
// - add/del/upd_dest (ip_vs_wrr_dest_changed): cl = head, recompute di and mw,
//   then cw = mw if cw > mw or cw == 0, else if di > 1 cw = (cw / di) * di + 1;
// - schedule: from cl walk forward to the first dest that is not OVERLOAD with
//   weight >= cw; at the head cw -= di, and if cw <= 0 then cw = mw (give up if
//   last_pass was set or the walk began at the head); last_pass = cw <= di;
//   once restarted with last_pass, stop after re-checking `last`.
// The list is newest first: adding .1, .2, .3 gives 3, 2, 1.
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { wrrScheduler } from '../../../src/ipvs/schedulers/wrr.js';
import { harness } from './harness.js';
import { name, overload } from './simple-helpers.js';

// A = .1 weight 4, B = .2 weight 3, C = .3 weight 2; list C, B, A.
// After the adds: add A: di 4, mw 4 - 3 = 1, cw 0 -> 1. add B: di 1, mw 4, cw stays 1.
// add C: di 1, mw 4, cw stays 1. So the first cycle begins at cw = 1, not mw.
function abc() {
  const h = harness(wrrScheduler);
  const a = h.add('10.1.0.1', 4);
  const b = h.add('10.1.0.2', 3);
  const c = h.add('10.1.0.3', 2);
  return { h, a, b, c };
}

describe('wrr', () => {
  it('is named wrr', () => {
    expect(wrrScheduler.name).toBe('wrr');
    expect(harness(wrrScheduler).svc.scheduler.name).toBe('wrr');
  });

  it('weights 4 3 2 added one by one: the first pass runs at cw = 1, then full cycles', () => {
    // cw 1: C B A | cw 0 -> 4: A | cw 3: B A | cw 2: C B A | cw 1: C B A | cw 4: A | cw 3: B A ...
    const { h } = abc();
    expect(h.svc.dests.map(name)).toEqual(['3', '2', '1']);
    expect(h.picks(15)).toEqual(['3', '2', '1', '1', '2', '1', '3', '2', '1', '3', '2', '1', '1', '2', '1']);
  });

  it('init_service over existing dests starts a cycle at cw = mw', () => {
    // Scheduler bound to a service that already has C2 B3 A4: cw = mw = 4.
    // cw 4: A | cw 3: B A | cw 2: C B A | cw 1: C B A | cw 4: A
    const { h } = abc();
    h.svc.scheduler.initService(h.svc);
    expect(h.picks(10)).toEqual(['1', '2', '1', '3', '2', '1', '3', '2', '1', '1']);
  });

  it('an edit mid-cycle restarts the walk at the head, even a no-op edit', () => {
    // picks C B A A B: after the 5th pick cl = B (index 1), cw = 3.
    // Without a change the next picks would be A (cw 3), then C B A (cw 2).
    // Edit B's weight to 3 (unchanged): cl = head, di 1, mw 4, cw stays 3.
    // cw 3 from the head: B A | cw 2: C B A | cw 1: C B A | cw 4: A
    const { h, b } = abc();
    expect(h.picks(5)).toEqual(['3', '2', '1', '1', '2']);
    h.setWeight(b, 3);
    expect(h.picks(9)).toEqual(['2', '1', '3', '2', '1', '3', '2', '1', '1']);
  });

  it('an edit keeps cw when it is still within [1, mw] and di is 1', () => {
    // picks C B A A -> cl = A, cw = 4. Edit C 2 -> 4: weights 4 3 4, di 1, mw 4, cw 4 kept.
    // cw 4: C A | cw 3: C B A | cw 2: C B A | cw 1: C B A | cw 4: C A
    const { h, c } = abc();
    expect(h.picks(4)).toEqual(['3', '2', '1', '1']);
    h.setWeight(c, 4);
    expect(h.picks(13)).toEqual(['3', '1', '3', '2', '1', '3', '2', '1', '3', '2', '1', '3', '1']);
  });

  it('an edit that lowers mw below cw sets cw = mw', () => {
    // picks C B A A -> cw 4. Edit A 4 -> 1: weights C2 B3 A1, di 1, mw 3, cw 4 > 3 -> 3.
    // cw 3: B | cw 2: C B | cw 1: C B A | cw 3: B
    const { h, a } = abc();
    expect(h.picks(4)).toEqual(['3', '2', '1', '1']);
    h.setWeight(a, 1);
    expect(h.picks(7)).toEqual(['2', '3', '2', '3', '2', '1', '2']);
  });

  it('an edit that raises di rounds cw to a multiple of di plus 1', () => {
    // add A(.1, 6): di 6, mw 1, cw 0 -> 1. add B(.2, 1): di 1, mw 6, cw 1. list B A.
    // cw 1: B A | cw 0 -> 6: A | cw 5: A | cw 4: A  -> cl = A, cw = 4.
    // Edit B 1 -> 2: di 2, mw 6 - 1 = 5, cw = (4/2)*2 + 1 = 5, cl = head.
    // cw 5: A | cw 3: A | cw 1: B A | cw -1 -> 5: A | cw 3: A | cw 1: B A
    // (keeping cw = 4 would have given A, then B A at cw 2.)
    const h = harness(wrrScheduler);
    h.add('10.1.0.1', 6);
    const b = h.add('10.1.0.2', 1);
    expect(h.picks(5)).toEqual(['2', '1', '1', '1', '1']);
    h.setWeight(b, 2);
    expect(h.picks(8)).toEqual(['1', '1', '2', '1', '1', '1', '2', '1']);
  });

  it('weights with gcd 2 step cw by di (4 and 2)', () => {
    // add A(.1, 4): di 4, mw 1, cw 0 -> 1. add B(.2, 2): di 2, mw 4 - 1 = 3, cw 1 -> (1/2)*2 + 1 = 1.
    // list B, A. cw 1: B A | cw -1 -> 3: A | cw 1: B A | cw 3: A ...
    const h = harness(wrrScheduler);
    h.add('10.1.0.1', 4);
    h.add('10.1.0.2', 2);
    expect(h.picks(8)).toEqual(['2', '1', '1', '2', '1', '1', '2', '1']);
  });

  it('an add mid-cycle restarts at the head with the new dest first in the list', () => {
    // picks C B A A -> cw 4. Add D(.4, 1): list D C B A, di 1, mw 4, cw 4, cl = head.
    // cw 4: A | cw 3: B A | cw 2: C B A | cw 1: D C B A | cw 4: A
    const { h } = abc();
    expect(h.picks(4)).toEqual(['3', '2', '1', '1']);
    h.add('10.1.0.4', 1);
    expect(h.picks(11)).toEqual(['1', '2', '1', '3', '2', '1', '4', '3', '2', '1', '1']);
  });

  it('a delete resets to the head and recomputes di', () => {
    // picks C B A -> cw 1. Delete B: weights 2 4, di 2, mw 3, cw 1 -> 0*2 + 1 = 1.
    // list C A. cw 1: C A | cw -1 -> 3: A | cw 1: C A | cw 3: A
    const { h, b } = abc();
    expect(h.picks(3)).toEqual(['3', '2', '1']);
    h.del(b);
    expect(h.picks(8)).toEqual(['3', '1', '1', '3', '1', '1', '3', '1']);
  });

  it('never picks weight 0', () => {
    // add A(.1, 0): di 1, mw 0, cw 0. add B(.2, 2): di 2, mw 1, cw 0 -> 1. list B A.
    // cw 1: B, A skipped | cw -1 -> 1 (restarted, last_pass, stop = B): B ...
    const h = harness(wrrScheduler);
    h.add('10.1.0.1', 0);
    h.add('10.1.0.2', 2);
    expect(h.picks(4)).toEqual(['2', '2', '2', '2']);
  });

  it('returns null at once when every weight is 0 (mw == 0)', () => {
    const h = harness(wrrScheduler);
    expect(h.pick()).toBeNull();
    const a = h.add('10.1.0.1', 0);
    h.add('10.1.0.2', 0);
    h.work.reset();
    expect(h.pick()).toBeNull();
    expect(h.work.destsExamined).toBe(0);
    h.setWeight(a, 5);
    expect(h.picks(2)).toEqual(['1', '1']);
  });

  it('skips OVERLOAD dests', () => {
    // B overloaded, list C2 B3 A4, cw 1 after the adds.
    // cw 1: C A | cw 4: A | cw 3: A | cw 2: C A | cw 1: C A | cw 4: A
    const { h, b } = abc();
    overload(b);
    expect(h.picks(10)).toEqual(['3', '1', '1', '1', '3', '1', '3', '1', '1', '1']);
  });

  it('all overloaded from the head: one pass down to cw <= 0, null, cw left at mw', () => {
    // cl head, cw 1: C B A skipped, cw 0 -> 4 and the walk began at the head -> null.
    // Then with the overloads cleared the walk starts at the head with cw 4: A.
    const { h, a, b, c } = abc();
    for (const d of [a, b, c]) overload(d);
    h.work.reset();
    expect(h.pick()).toBeNull();
    expect(h.work.destsExamined).toBe(3);
    for (const d of [a, b, c]) overload(d, false);
    expect(h.picks(3)).toEqual(['1', '2', '1']);
  });

  it('all overloaded from a dest: checks every dest at cw = 1 up to `last`, then null', () => {
    // pick C (cl = C, cw 1). Overload all. cw 1: B A | cw 0 -> 4 (restarted): C B A |
    // cw 3: C B A | cw 2: C B A | cw 1 (last_pass, stop = C): C -> null, cl = C.
    // Examined 2 + 3 + 3 + 3 + 1 = 12. Clear: from C with cw 1 -> B.
    const { h, a, b, c } = abc();
    expect(h.picks(1)).toEqual(['3']);
    for (const d of [a, b, c]) overload(d);
    h.work.reset();
    expect(h.pick()).toBeNull();
    expect(h.work.destsExamined).toBe(12);
    for (const d of [a, b, c]) overload(d, false);
    expect(h.picks(3)).toEqual(['2', '1', '1']);
  });

  test.prop([fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 })])(
    'after init_service one cycle of sum(w)/di picks gives each dest weight/di picks',
    (ws, scale) => {
      const h = harness(wrrScheduler);
      const dests = ws.map((w, i) => h.add(`10.2.0.${i + 1}`, w * scale));
      h.svc.scheduler.initService(h.svc);
      const g = ws.reduce((x, y) => {
        while (y !== 0) [x, y] = [y, x % y];
        return x;
      });
      const cycle = ws.reduce((s, w) => s + w, 0) / g;
      const got = h.picks(cycle);
      for (let i = 0; i < dests.length; i++) {
        expect(got.filter((p) => p === String(i + 1)).length).toBe(ws[i]! / g);
      }
    },
  );
});
