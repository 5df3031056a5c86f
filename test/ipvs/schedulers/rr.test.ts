// rr reference sequences, worked out by hand from torvalds/linux
// net/netfilter/ipvs/ip_vs_rr.c:
// - init_service: sched_data = &svc->destinations (the list head);
// - schedule: from sched_data walk forward (list_for_each_entry_continue),
//   skipping the head, to the first dest that is not OVERLOAD with weight > 0;
//   pass 1 ends at the head, pass 2 (only if sched_data is not the head)
//   restarts at the first entry and stops after re-checking `last` itself;
// - no add_dest: a new dest is linked at the head and the pointer stays put;
// - del_dest: a pointer at the unlinked node moves to its prev (p->next->prev).
// Harness adds insert at the head, so adding .1, .2, .3 gives the list 3, 2, 1.
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { rrScheduler } from '../../../src/ipvs/schedulers/rr.js';
import { harness } from './harness.js';
import { name, overload } from './simple-helpers.js';

function abc() {
  const h = harness(rrScheduler);
  const a = h.add('10.1.0.1');
  const b = h.add('10.1.0.2');
  const c = h.add('10.1.0.3');
  return { h, a, b, c };
}

describe('rr', () => {
  it('is named rr and creates independent instances', () => {
    expect(rrScheduler.name).toBe('rr');
    const h1 = harness(rrScheduler);
    const h2 = harness(rrScheduler);
    expect(h1.svc.scheduler.name).toBe('rr');
    expect(h1.svc.scheduler).not.toBe(h2.svc.scheduler);
  });

  it('starts at the newest dest: add 1, 2, 3 -> list 3, 2, 1 -> picks 3 2 1 3 2 1', () => {
    const { h } = abc();
    expect(h.svc.dests.map(name)).toEqual(['3', '2', '1']);
    expect(h.picks(7)).toEqual(['3', '2', '1', '3', '2', '1', '3']);
  });

  it('returns null on an empty service and when nothing is eligible', () => {
    const h = harness(rrScheduler);
    expect(h.pick()).toBeNull();
    const d = h.add('10.1.0.1', 0);
    expect(h.pick()).toBeNull();
    h.setWeight(d, 1);
    expect(h.picks(2)).toEqual(['1', '1']);
  });

  it('a dest added mid-cycle keeps the pointer on the same node and waits for the wrap', () => {
    // list 3 2 1; picks 3, 2 -> pointer at 2. Add 4 at the head: list 4 3 2 1.
    // Walk after 2: 1, head (skipped), 4, 3, 2, 1.
    const { h } = abc();
    expect(h.picks(2)).toEqual(['3', '2']);
    h.add('10.1.0.4');
    expect(h.picks(5)).toEqual(['1', '4', '3', '2', '1']);
  });

  it('a dest added while the pointer is on the head is picked first', () => {
    const h = harness(rrScheduler);
    h.add('10.1.0.1');
    h.add('10.1.0.2');
    expect(h.picks(3)).toEqual(['2', '1', '2']);
  });

  it('a dest added after one pick waits for pass 2 (pointer on 1, list 2 1)', () => {
    // pick -> 1 (pointer on 1). Add 2: list 2 1. Walk after 1: head, then 2.
    const h = harness(rrScheduler);
    h.add('10.1.0.1');
    expect(h.picks(1)).toEqual(['1']);
    h.add('10.1.0.2');
    expect(h.picks(3)).toEqual(['2', '1', '2']);
  });

  it('deleting the pointed-to dest moves the pointer to the previous entry', () => {
    // list 3 2 1; picks 3, 2 -> pointer on 2. Delete 2: pointer = prev = 3.
    // Next walk after 3: 1, then 3, 1.
    const { h, b } = abc();
    expect(h.picks(2)).toEqual(['3', '2']);
    h.del(b);
    expect(h.picks(3)).toEqual(['1', '3', '1']);
  });

  it('deleting the pointed-to first dest moves the pointer to the head', () => {
    // list 3 2 1; pick 3 -> pointer on 3. Delete 3: prev of 3 is the head.
    // From the head the walk starts at the first entry: 2. (A pointer left at
    // index 0 would wrongly give 1.)
    const { h, c } = abc();
    expect(h.picks(1)).toEqual(['3']);
    h.del(c);
    expect(h.picks(3)).toEqual(['2', '1', '2']);
  });

  it('deleting the last dest while pointed-to moves the pointer to its prev', () => {
    // list 3 2 1; picks 3 2 1 -> pointer on 1. Delete 1: pointer = 2. Walk: head, 3, 2.
    const { h, a } = abc();
    expect(h.picks(3)).toEqual(['3', '2', '1']);
    h.del(a);
    expect(h.picks(3)).toEqual(['3', '2', '3']);
  });

  it('deleting other dests keeps the pointer on its node', () => {
    // Before the pointer: list 3 2 1, pointer on 2; delete 3 -> list 2 1, pointer still 2 -> 1, 2.
    const x = abc();
    expect(x.h.picks(2)).toEqual(['3', '2']);
    x.h.del(x.c);
    expect(x.h.picks(3)).toEqual(['1', '2', '1']);
    // After the pointer: pointer on 3; delete 1 -> list 3 2 -> 2, 3.
    const y = abc();
    expect(y.h.picks(1)).toEqual(['3']);
    y.h.del(y.a);
    expect(y.h.picks(3)).toEqual(['2', '3', '2']);
  });

  it('deleting every dest leaves the pointer on the head', () => {
    const { h, a, b, c } = abc();
    h.picks(2);
    h.del(b);
    h.del(a);
    h.del(c);
    expect(h.pick()).toBeNull();
    h.add('10.1.0.7');
    h.add('10.1.0.8');
    expect(h.picks(2)).toEqual(['8', '7']);
  });

  it('never picks weight 0 and ignores other weight values', () => {
    const { h, b, a } = abc();
    h.setWeight(b, 0);
    h.setWeight(a, 100);
    expect(h.picks(4)).toEqual(['3', '1', '3', '1']);
  });

  it('skips OVERLOAD dests', () => {
    const { h, c } = abc();
    overload(c);
    expect(h.picks(4)).toEqual(['2', '1', '2', '1']);
    overload(c, false);
    expect(h.picks(3)).toEqual(['3', '2', '1']);
  });

  it('null leaves the pointer where it was; each walk examines every dest once', () => {
    // list 3 2 1, pointer on 2 after two picks. All quiesced: pass 1 checks 1,
    // pass 2 checks 3, 2 and stops at `last` -> 3 dests examined, null.
    const { h, a, b, c } = abc();
    expect(h.picks(2)).toEqual(['3', '2']);
    for (const d of [a, b, c]) h.setWeight(d, 0);
    h.work.reset();
    expect(h.pick()).toBeNull();
    expect(h.work.destsExamined).toBe(3);
    for (const d of [a, b, c]) h.setWeight(d, 1);
    expect(h.picks(2)).toEqual(['1', '3']);
  });

  it('counts the dests it examined', () => {
    // list 3 2 1 with 3 quiesced: the first pick walks 3 (skip), 2 (hit) -> 2.
    const { h, c } = abc();
    h.setWeight(c, 0);
    h.work.reset();
    h.pick();
    expect(h.work.destsExamined).toBe(2);
  });

  test.prop([fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), fc.nat(30)])(
    'every eligible dest is picked exactly once per round, in list order',
    (eligible, warmup) => {
      const h = harness(rrScheduler);
      eligible.forEach((e, i) => h.add(`10.2.0.${i + 1}`, e ? 1 : 0));
      h.picks(warmup);
      const k = eligible.filter(Boolean).length;
      const round = h.picks(k);
      const inOrder = h.svc.dests.filter((d) => d.weight > 0).map(name);
      if (k === 0) return;
      expect([...round].sort()).toEqual([...inOrder].sort());
      // The round is a rotation of the list order.
      const start = inOrder.indexOf(round[0]!);
      expect(round).toEqual([...inOrder.slice(start), ...inOrder.slice(0, start)]);
    },
  );
});
