// dh expectations derived by hand from torvalds/linux net/netfilter/ipvs/ip_vs_dh.c:
// ip_vs_dh_reassign gives bucket i to the (i mod n)-th dest in list order,
// weights ignored; the bucket is hash_32(daddr, 8); a dest that is not
// AVAILABLE, has weight <= 0 or OVERLOAD gives NULL; there is no fallback.
import { describe, expect, it } from 'vitest';
import { DestFlag, ServiceFlag } from '../../../src/ipvs/flags.js';
import { DhScheduler, dhScheduler } from '../../../src/ipvs/schedulers/dh.js';
import { harness } from './harness.js';
import { schedOf, syn } from './hash-helpers.js';

const ip = (last: number): number => (0x0a000000 + last) >>> 0; // 10.0.0.<last>

// hash_32(10.0.0.x, 8) by hand (see sh.test.ts for the method):
//   10.0.0.1 -> 39, 10.0.0.2 -> 137, 10.0.0.3 -> 235 (3G = 0x255992D5, +0xC6000000 = 0xEB5992D5)
describe('dh', () => {
  it('has the kernel name', () => {
    expect(dhScheduler.name).toBe('dh');
  });

  it('gives one bucket per dest per round, ignoring weights (86/85/85)', () => {
    const h = harness(dhScheduler);
    const c = h.add('10.1.0.3', 0);
    const b = h.add('10.1.0.2', 1);
    const a = h.add('10.1.0.1', 5);
    const s = schedOf(h, DhScheduler);
    const list = [a, b, c];
    const n = [0, 0, 0];
    for (let i = 0; i < 256; i++) {
      expect(s.bucket(i)).toBe(list[i % 3]);
      n[i % 3]!++;
    }
    expect(n).toEqual([86, 85, 85]); // 256 = 3 * 85 + 1
  });

  it('keys on the destination address', () => {
    const h = harness(dhScheduler);
    h.add('10.1.0.3', 0);
    const b = h.add('10.1.0.2', 1);
    const a = h.add('10.1.0.1', 5);
    // 39 % 3 = 0 -> a; 235 % 3 = 1 -> b; 137 % 3 = 2 -> c (weight 0) -> NULL.
    for (const src of [0xc0a80001, 0xc0a80002, 0x01020304]) {
      expect(h.pick(syn(src, 1000, ip(1)))).toBe(a);
      expect(h.pick(syn(src, 2000, ip(3)))).toBe(b);
      expect(h.pick(syn(src, 3000, ip(2)))).toBeNull();
    }
    h.work.reset();
    h.pick(syn(1, 1, ip(1)));
    expect(h.work.hashProbes).toBe(1);
    expect(h.work.destsExamined).toBe(1);
  });

  it('a weight edit does not touch the table (dh has no upd_dest)', () => {
    const h = harness(dhScheduler);
    const c = h.add('10.1.0.3', 1);
    h.add('10.1.0.2', 1);
    h.add('10.1.0.1', 1);
    const s = schedOf(h, DhScheduler);
    const before = Array.from({ length: 256 }, (_, i) => s.bucket(i));
    h.setWeight(c, 100);
    expect(Array.from({ length: 256 }, (_, i) => s.bucket(i))).toEqual(before);
    h.setWeight(c, 0);
    expect(h.pick(syn(1, 1, ip(2)))).toBeNull();
  });

  it('OVERLOAD or not AVAILABLE gives NULL; the fallback flag changes nothing', () => {
    const h = harness(dhScheduler, { flags: ServiceFlag.SCHED1 });
    h.add('10.1.0.2', 1);
    const a = h.add('10.1.0.1', 1);
    // 2 dests: even buckets -> a (list[0]), odd buckets -> the other.
    expect(schedOf(h, DhScheduler).bucket(0)).toBe(a);
    a.flags |= DestFlag.OVERLOAD;
    // 10.0.0.8 -> 212 (8G = 0x0E443238, +0xC6000000 = 0xD4443238), even -> a.
    expect(h.pick(syn(1, 1, ip(8)))).toBeNull();
    a.flags &= ~DestFlag.OVERLOAD;
    expect(h.pick(syn(1, 1, ip(8)))).toBe(a);
    a.flags &= ~DestFlag.AVAILABLE;
    expect(h.pick(syn(1, 1, ip(8)))).toBeNull();
  });

  it('deleting dests rebuilds the table; none left gives NULL', () => {
    const h = harness(dhScheduler);
    const b = h.add('10.1.0.2', 1);
    const a = h.add('10.1.0.1', 1);
    h.del(a);
    const s = schedOf(h, DhScheduler);
    expect(s.bucket(0)).toBe(b);
    expect(s.bucket(255)).toBe(b);
    h.del(b);
    expect(s.bucket(7)).toBeNull();
    expect(h.pick(syn(1, 1, ip(1)))).toBeNull();
  });
});
