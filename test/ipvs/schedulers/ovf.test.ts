// ovf expectations worked out by hand from torvalds/linux net/netfilter/ipvs/ip_vs_ovf.c:
// skip a dest that is OVERLOAD, has activeconns > weight, or weight 0; of the
// rest pick the highest weight, ties to the earlier dest in list order (newest
// first). Inactive connections are not counted.
import { describe, expect, it } from 'vitest';
import { ovfScheduler } from '../../../src/ipvs/schedulers/ovf.js';
import { harness } from './harness.js';
import { conns, name, overload } from './simple-helpers.js';

describe('ovf', () => {
  it('is named ovf', () => {
    expect(ovfScheduler.name).toBe('ovf');
    expect(harness(ovfScheduler).svc.scheduler.name).toBe('ovf');
  });

  it('keeps the highest weight while active <= weight, then overflows', () => {
    // list C2 B5 A5. B a5 (5 <= 5) -> B (first of the 5s). B a6 > 5 -> A. A a6 -> C.
    const h = harness(ovfScheduler);
    const a = h.add('10.1.0.1', 5);
    const b = h.add('10.1.0.2', 5);
    const c = h.add('10.1.0.3', 2);
    conns(b, 5, 100);
    expect(name(h.pick())).toBe('2');
    conns(b, 6);
    expect(name(h.pick())).toBe('1');
    conns(a, 6);
    expect(name(h.pick())).toBe('3');
    conns(c, 3);
    expect(h.pick()).toBeNull();
  });

  it('a dest takes weight + 1 connections before traffic moves on', () => {
    // list .2 (w2), .1 (w3). Each pick opens one active connection on the chosen dest:
    // .1 eligible at a = 0..3 -> 4 picks; then .2 at a = 0..2 -> 3 picks; then null.
    const h = harness(ovfScheduler);
    h.add('10.1.0.1', 3);
    h.add('10.1.0.2', 2);
    const got: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = h.pick();
      got.push(name(d));
      if (d !== null) d.activeConns++;
    }
    expect(got).toEqual(['1', '1', '1', '1', '2', '2', '2', '-']);
  });

  it('skips weight 0 and OVERLOAD; ignores inactive connections', () => {
    const h = harness(ovfScheduler);
    const a = h.add('10.1.0.1', 1);
    const b = h.add('10.1.0.2', 9);
    const c = h.add('10.1.0.3', 0);
    conns(a, 0, 100000);
    overload(b);
    expect(name(h.pick())).toBe('1');
    expect(c.weight).toBe(0);
    overload(b, false);
    expect(name(h.pick())).toBe('2');
    expect(harness(ovfScheduler).pick()).toBeNull();
  });
});
