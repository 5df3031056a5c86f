// sh expectations derived by hand from torvalds/linux net/netfilter/ipvs/ip_vs_sh.c:
// ip_vs_sh_reassign tiles the 256 buckets (a dest keeps taking buckets until
// ++count >= weight, so weight 0 still takes one per round), the bucket is
// hash_32(sport-if-sh-port + saddr, 8), and ip_vs_sh_get_fallback probes
// (roffset + H) & 255 with roffset = (k + H) % 256, i.e. 2H, 2H+1, ...
import { describe, expect, it } from 'vitest';
import { DestFlag, ServiceFlag } from '../../../src/ipvs/flags.js';
import { ShScheduler, shScheduler } from '../../../src/ipvs/schedulers/sh.js';
import type { Dest } from '../../../src/ipvs/dest.js';
import { Protocol } from '../../../src/net/protocol.js';
import { harness } from './harness.js';
import { schedOf, syn } from './hash-helpers.js';

const ip = (last: number): number => (0x0a000000 + last) >>> 0; // 10.0.0.<last>

function counts(s: ShScheduler, dests: readonly Dest[]): number[] {
  const c = dests.map(() => 0);
  for (let i = 0; i < s.tableSize; i++) {
    const k = dests.indexOf(s.bucket(i)!);
    c[k]!++;
  }
  return c;
}

// Hand-computed bucket numbers, hash_32(addr, 8) = top byte of addr * 0x61C88647 (mod 2^32);
// for 10.0.0.x the 0x0a000000 part contributes ((0x0a * 0x47) & 0xff) << 24 = 0xC6000000:
//   10.0.0.1:  G            = 0x61C88647 -> +0xC6.. = 0x27C88647 -> 39
//   10.0.0.2:  2G           = 0xC3910C8E -> 0x89910C8E -> 137
//   10.0.0.15: 15G          = 0xBABFDE29 -> 0x80BFDE29 -> 128
//   10.0.0.32: 32G = G << 5 = 0x3910C8E0 -> 0xFF10C8E0 -> 255
describe('sh', () => {
  it('has the kernel name', () => {
    expect(shScheduler.name).toBe('sh');
  });

  it('tiles buckets by weight; weights 3,1,0 in list order give 154/51/51', () => {
    const h = harness(shScheduler);
    const d3 = h.add('10.1.0.3', 0);
    const d2 = h.add('10.1.0.2', 1);
    const d1 = h.add('10.1.0.1', 3);
    const s = schedOf(h, ShScheduler);
    expect(h.svc.dests).toEqual([d1, d2, d3]);
    // One round = d1 d1 d1 d2 d3 (5 buckets); 256 = 51 * 5 + 1, the extra bucket 255 is d1's.
    expect(counts(s, [d1, d2, d3])).toEqual([3 * 51 + 1, 51, 51]);
    for (let i = 0; i < 256; i++) {
      const pos = i % 5;
      expect(s.bucket(i)).toBe(pos < 3 ? d1 : pos === 3 ? d2 : d3);
    }
  });

  it('looks up the source address bucket', () => {
    const h = harness(shScheduler);
    h.add('10.1.0.3', 0);
    const d2 = h.add('10.1.0.2', 1);
    const d1 = h.add('10.1.0.1', 3);
    // 137 % 5 = 2 -> d1; 128 % 5 = 3 -> d2; 255 -> d1; 39 % 5 = 4 -> d3 (weight 0) -> NULL.
    expect(h.pick(syn(ip(2)))).toBe(d1);
    expect(h.pick(syn(ip(15)))).toBe(d2);
    expect(h.pick(syn(ip(32)))).toBe(d1);
    h.work.reset();
    expect(h.pick(syn(ip(1)))).toBeNull();
    expect(h.work.hashProbes).toBe(1);
    // The destination address and the source port (without sh-port) do not matter.
    expect(h.pick(syn(ip(15), 1234, 0x0b000001))).toBe(d2);
  });

  it('sh-fallback starts probing at bucket 2H', () => {
    const h = harness(shScheduler, { flags: ServiceFlag.SCHED1 });
    h.add('10.1.0.3', 0);
    const d2 = h.add('10.1.0.2', 1);
    h.add('10.1.0.1', 3);
    h.work.reset();
    // H = 39 -> d3 (weight 0); next probe 2H = 78, 78 % 5 = 3 -> d2.
    expect(h.pick(syn(ip(1)))).toBe(d2);
    expect(h.work.hashProbes).toBe(2);
  });

  describe('sh-fallback probe order with one bucket per dest (all weights 1)', () => {
    // List e0..e4, bucket i -> e(i % 5). saddr 10.0.0.1: H = 39 -> e4.
    function five(overloaded: number[]): { h: ReturnType<typeof harness>; e: Dest[] } {
      const h = harness(shScheduler, { flags: ServiceFlag.SCHED1 });
      for (let k = 4; k >= 0; k--) h.add(`10.2.0.${k}`, 1);
      const e = [...h.svc.dests];
      for (const k of overloaded) e[k]!.flags |= DestFlag.OVERLOAD;
      h.work.reset();
      return { h, e };
    }

    it('e4 and e2 overloaded: bucket 78 (e3) wins, not 40 (e0)', () => {
      const { h, e } = five([4, 2]);
      expect(h.pick(syn(ip(1)))).toBe(e[3]);
      expect(h.work.hashProbes).toBe(2);
    });

    it('e4 and e3 overloaded: 78 (e3), 79 (e4), 80 (e0)', () => {
      const { h, e } = five([4, 3]);
      expect(h.pick(syn(ip(1)))).toBe(e[0]);
      expect(h.work.hashProbes).toBe(4);
      expect(h.work.destsExamined).toBe(4);
    });

    it('all overloaded: NULL after the first bucket and 256 probes', () => {
      const { h } = five([0, 1, 2, 3, 4]);
      expect(h.pick(syn(ip(1)))).toBeNull();
      expect(h.work.hashProbes).toBe(1 + 256);
    });

    it('without sh-fallback an OVERLOAD dest gives NULL', () => {
      const h = harness(shScheduler);
      for (let k = 4; k >= 0; k--) h.add(`10.2.0.${k}`, 1);
      h.svc.dests[4]!.flags |= DestFlag.OVERLOAD;
      expect(h.pick(syn(ip(1)))).toBeNull();
      expect(h.pick(syn(ip(2)))).toBe(h.svc.dests[2]); // 137 % 5 = 2
    });
  });

  it('sh-port adds the source port: 10.0.0.1 port 14 hashes like 10.0.0.15', () => {
    const h = harness(shScheduler, { flags: ServiceFlag.SCHED2 });
    h.add('10.1.0.3', 0);
    const d2 = h.add('10.1.0.2', 1);
    h.add('10.1.0.1', 3);
    expect(h.pick(syn(ip(1), 14))).toBe(d2);
    expect(h.pick(syn(ip(1), 14, undefined, Protocol.UDP))).toBe(d2);
    expect(h.pick(syn(ip(1), 14, undefined, Protocol.SCTP))).toBe(d2);
    // Other protocols have no port: bucket 39 -> d3 (weight 0).
    expect(h.pick(syn(ip(1), 14, undefined, Protocol.ICMP))).toBeNull();
    // Without the flag the port is ignored.
    const plain = harness(shScheduler);
    plain.add('10.1.0.3', 0);
    plain.add('10.1.0.2', 1);
    plain.add('10.1.0.1', 3);
    expect(plain.pick(syn(ip(1), 14))).toBeNull();
  });

  it('a weight edit re-tiles the table (3,1,2 -> 129/43/84)', () => {
    const h = harness(shScheduler);
    const d3 = h.add('10.1.0.3', 0);
    const d2 = h.add('10.1.0.2', 1);
    const d1 = h.add('10.1.0.1', 3);
    h.setWeight(d3, 2);
    // Round d1 d1 d1 d2 d3 d3 (6); 256 = 42 * 6 + 4: the last 4 buckets are d1 d1 d1 d2.
    expect(counts(schedOf(h, ShScheduler), [d1, d2, d3])).toEqual([129, 43, 84]);
  });

  it('a weight above the table size takes every bucket', () => {
    const h = harness(shScheduler);
    const small = h.add('10.1.0.2', 1);
    const big = h.add('10.1.0.1', 300);
    expect(counts(schedOf(h, ShScheduler), [big, small])).toEqual([256, 0]);
  });

  it('a lone weight-0 dest fills every bucket and serves nobody', () => {
    const h = harness(shScheduler, { flags: ServiceFlag.SCHED1 });
    const d = h.add('10.1.0.1', 0);
    expect(schedOf(h, ShScheduler).bucket(200)).toBe(d);
    h.work.reset();
    expect(h.pick(syn(ip(1)))).toBeNull();
    expect(h.work.hashProbes).toBe(257);
  });

  it('deleting a dest rebuilds; no dests gives NULL with one probe', () => {
    const h = harness(shScheduler, { flags: ServiceFlag.SCHED1 });
    const a = h.add('10.1.0.2', 1);
    const b = h.add('10.1.0.1', 1);
    // 2 dests, weight 1: bucket i -> list[i % 2]; 137 is odd -> a.
    expect(h.pick(syn(ip(2)))).toBe(a);
    h.del(a);
    expect(h.pick(syn(ip(2)))).toBe(b);
    h.del(b);
    h.work.reset();
    expect(h.pick(syn(ip(2)))).toBeNull();
    expect(h.work.hashProbes).toBe(1);
    expect(schedOf(h, ShScheduler).bucket(0)).toBeNull();
  });

  it('initService picks up dests that already exist; doneService empties the table', () => {
    const h = harness(shScheduler);
    const a = h.add('10.1.0.1', 1);
    const fresh = new ShScheduler();
    fresh.initService(h.svc);
    expect(fresh.bucket(0)).toBe(a);
    fresh.doneService();
    expect(fresh.bucket(0)).toBeNull();
  });
});
