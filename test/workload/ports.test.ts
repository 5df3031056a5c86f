import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { createRng } from '../../src/sim/rng.js';
import { DEFAULT_LOCAL_PORT_RANGE, EphemeralPorts } from '../../src/workload/index.js';
import { ip, scriptedRng } from './helpers.js';

const CLIENT = ip('192.168.0.1');
const A = ip('10.96.0.1');
const B = ip('10.96.0.2');

describe('EphemeralPorts: TCP connect() port choice (__inet_hash_connect)', () => {
  it('starts at (perturb + hash) % remaining made even, and moves on by max(i, jitter) + 2', () => {
    // Default range 32768..60999: high++ → 61000, remaining = 28232 (even).
    // base = 1000 → offset 1000 → port 33768 (i = 0).
    // jitter = below(8) * 2 = 6 → base += max(0, 6) + 2 = 1008 → port 33776 → base 1016 → port 33784.
    const p = new EphemeralPorts(CLIENT, scriptedRng([1000], [3]));
    expect([p.connectTcp(A, 80), p.connectTcp(A, 80), p.connectTcp(A, 80)]).toEqual([33768, 33776, 33784]);
    // Jitter 7 * 2 = 14 from base 0: 32768, then base 16 → 32784, then 32 → 32800.
    const q = new EphemeralPorts(CLIENT, scriptedRng([0], [7]));
    expect([q.connectTcp(A, 80), q.connectTcp(A, 80), q.connectTcp(A, 80)]).toEqual([32768, 32784, 32800]);
    expect(p.range).toEqual(DEFAULT_LOCAL_PORT_RANGE);
  });

  it('scans the even ports, then the odd ones, wrapping, and fails with every port taken', () => {
    // Range 1000..1009: high = 1010, remaining = 10, step 2. base 4, jitter always 0,
    // so each success adds i + 2 (i = how far the scan went in its pass).
    //  c1 offset 4 → 1004 (base 6); c2 → 1006 (8); c3 → 1008 (10); c4 offset 0 → 1000 (12); c5 → 1002 (14)
    //  c6 offset 4: evens 1004,1006,1008,(wrap)1000,1002 all taken → odd pass offset 5 → 1005 (i 0, base 16)
    //  c7 offset 6 → evens taken → 1007 (18); c8 offset 8 → 1009 (20); c9 offset 0 → odd 1 → 1001 (22)
    //  c10 offset 2 → odd 3 → 1003 (24); c11: both passes find nothing → EADDRNOTAVAIL (-1), base unchanged.
    const p = new EphemeralPorts(CLIENT, scriptedRng([4], [0]), { low: 1000, high: 1009 });
    const got: number[] = [];
    for (let n = 0; n < 11; n++) got.push(p.connectTcp(A, 80));
    expect(got).toEqual([1004, 1006, 1008, 1000, 1002, 1005, 1007, 1009, 1001, 1003, -1]);
    expect(p.tcpOpen).toBe(10);
    // The same ports toward another destination are fine (check_established only refuses a duplicate
    // 4-tuple); B gets its own start (base 4 again from the script) → 1004.
    expect(p.connectTcp(B, 80)).toBe(1004);
    // Free 1007; base is 24 → offset 4: even pass fails; odd pass 1005 (i 0) taken, 1007 (i 2) free.
    // base += max(2, 0) + 2 → 28.
    p.releaseTcp(A, 80, 1007);
    expect(p.tcpInUse(A, 80, 1007)).toBe(false);
    expect(p.connectTcp(A, 80)).toBe(1007);
    // Free 1001 and 1007: offset 28 % 10 = 8 → evens taken; odd pass from 9: 1009 (i 0) taken,
    // 1011 → wraps to 1001 (i 2) free → 1001, base 28 + 2 + 2 = 32. (Had base grown by 2 only, the
    // odd pass would start at 7 and return 1007.)
    p.releaseTcp(A, 80, 1001);
    p.releaseTcp(A, 80, 1007);
    expect(p.connectTcp(A, 80)).toBe(1001);
    // offset 2 → evens taken; odd 1003 (0), 1005 (2), 1007 (4) free → base 32 + 4 + 2 = 38.
    expect(p.connectTcp(A, 80)).toBe(1007);
    // Free 1002: offset 8: 1008 (0), wrap 1000 (2), 1002 (4) free → base 44.
    p.releaseTcp(A, 80, 1002);
    expect(p.connectTcp(A, 80)).toBe(1002);
    // Free 1000 and 1006: offset 4: 1004 (0) taken, 1006 (2) free → 1006 (not 1000).
    p.releaseTcp(A, 80, 1000);
    p.releaseTcp(A, 80, 1006);
    expect(p.connectTcp(A, 80)).toBe(1006);
  });

  it('scans an odd-sized range as if it had one port fewer (remaining &= ~1U), wrapping at the real top', () => {
    // 1000..1002: high 1003, remaining 3 → 2, so offset is always 0: the even pass sees only 1000, the odd
    // pass only 1001; 1002 can never be reached.
    const p = new EphemeralPorts(CLIENT, scriptedRng([0], [0]), { low: 1000, high: 1002 });
    expect([p.connectTcp(A, 80), p.connectTcp(A, 80), p.connectTcp(A, 80)]).toEqual([1000, 1001, -1]);
    // 1000..1006: high 1007, remaining 7 → 6, three ports per pass; a port wraps only at >= 1007, so the top
    // port 1006 is reachable. base 4, jitter 0 (offset = base % 6, made even):
    //  c1 offset 4 → 1004 (base 6); c2 offset 0 → 1000 (8); c3 offset 2 → 1002 (10)
    //  c4 offset 4: 1004 (i 0) taken, 1006 (i 2) free → base 10 + max(2, 0) + 2 = 14
    //  c5 offset 2: 1002, 1004, 1006 taken → odd pass 3 → 1003 (16)
    //  c6 offset 4: 1004, 1006, 1008→1002 taken → odd 5 → 1005 (18)
    //  c7 offset 0: 1000, 1002, 1004 taken → odd 1 → 1001 (20)
    //  c8 offset 2: evens taken; odd 1003, 1005, 1007→1001 taken → -1.
    const q = new EphemeralPorts(CLIENT, scriptedRng([4], [0]), { low: 1000, high: 1006 });
    const got: number[] = [];
    for (let n = 0; n < 8; n++) got.push(q.connectTcp(A, 80));
    expect(got).toEqual([1004, 1000, 1002, 1006, 1003, 1005, 1001, -1]);
    const one = new EphemeralPorts(CLIENT, scriptedRng([0], [0]), { low: 5000, high: 5000 });
    expect([one.connectTcp(A, 80), one.connectTcp(A, 80)]).toEqual([5000, -1]);
  });

  test.prop([
    fc.integer(),
    fc.integer({ min: 1024, max: 65000 }),
    fc.integer({ min: 0, max: 40 }),
    fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.nat()), { maxLength: 300 }),
  ])('ports stay in range and unique per destination while open; -1 only when all usable ports are taken', (seed, low, span, ops) => {
    const high = Math.min(65535, low + span);
    const p = new EphemeralPorts(CLIENT, createRng(seed), { low, high });
    // Each connect scans remaining = (high - low + 1) rounded down to even (at least 1) distinct ports, so it
    // fails only when at least that many are open toward the destination.
    const size = high - low + 1;
    const usable = size > 1 ? size & ~1 : 1;
    const open = new Map<number, number[]>([
      [A, []],
      [B, []],
    ]);
    for (const [toB, connect, pick] of ops) {
      const d = toB ? B : A;
      const mine = open.get(d)!;
      if (connect || mine.length === 0) {
        const port = p.connectTcp(d, 443);
        if (port < 0) {
          expect(mine.length).toBeGreaterThanOrEqual(usable);
        } else {
          expect(port).toBeGreaterThanOrEqual(low);
          expect(port).toBeLessThanOrEqual(high);
          expect(mine).not.toContain(port);
          mine.push(port);
        }
      } else {
        const [port] = mine.splice(pick % mine.length, 1);
        p.releaseTcp(d, 443, port!);
      }
      expect(p.tcpOpen).toBe(open.get(A)!.length + open.get(B)!.length);
    }
  });

  it('refuses to release a port that is not open, and bad ranges', () => {
    const p = new EphemeralPorts(CLIENT, createRng(1));
    expect(() => p.releaseTcp(A, 80, 40000)).toThrow(InvalidArgumentError);
    expect(() => p.releaseUdp(40000)).toThrow(/lbsim\/workload\.EphemeralPorts\.releaseUdp/);
    expect(() => new EphemeralPorts(CLIENT, createRng(1), { low: 0, high: 10 })).toThrow(InvalidArgumentError);
    expect(() => new EphemeralPorts(CLIENT, createRng(1), { low: 20, high: 10 })).toThrow(InvalidArgumentError);
  });
});

describe('EphemeralPorts: UDP', () => {
  it('starts at low + reciprocal_scale(rand, remaining) and skips ports of any open UDP socket', () => {
    // remaining = 60999 - 32768 + 1 = 28232; (2^31 * 28232) >> 32 = 14116 → 46884.
    const p = new EphemeralPorts(CLIENT, scriptedRng([0x80000000], [0]));
    expect(p.connectUdp()).toBe(46884);
    expect(p.connectUdp()).toBe(46885);
    expect(p.udpInUse(46884)).toBe(true);
    p.releaseUdp(46884);
    expect(p.connectUdp()).toBe(46884);
    // The top of the range wraps to the bottom.
    const q = new EphemeralPorts(CLIENT, scriptedRng([0xffffffff], [0]), { low: 100, high: 102 });
    expect([q.connectUdp(), q.connectUdp(), q.connectUdp(), q.connectUdp()]).toEqual([102, 100, 101, -1]);
  });
});
