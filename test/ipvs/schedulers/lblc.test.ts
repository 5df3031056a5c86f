// lblc expectations derived by hand from torvalds/linux net/netfilter/ipvs/ip_vs_lblc.c:
// the cache is keyed on the packet's destination address (hash_32(daddr, 10)),
// a cached dest is kept while AVAILABLE, weight > 0 and not "overloaded"
// (activeconns > weight while some dest has activeconns*2 < weight), else
// __ip_vs_lblc_schedule (weighted least connection, first in list order on
// ties) picks a new one; ip_vs_lblc_new replaces an entry that points
// elsewhere by a new one without decrementing tbl->entries. The timer runs
// every 60 s: a full check (idle >= lblc_expiration) when counter % 30 == 0,
// otherwise, only if entries > 16384, a partial sweep of entries idle >= 6 min
// from rover + 1 until (entries - 16384) * 4 / 3 are gone (counter unchanged).
import { describe, expect, it } from 'vitest';
import { DestFlag } from '../../../src/ipvs/flags.js';
import { hash32 } from '../../../src/ipvs/hash.js';
import { LblcScheduler, lblcScheduler } from '../../../src/ipvs/schedulers/lblc.js';
import { harness } from './harness.js';
import { schedOf, syn } from './hash-helpers.js';

const MIN = 60_000;
const VIP = 0x0a000001;

function setup() {
  const h = harness(lblcScheduler);
  const c = h.add('10.1.0.3', 1);
  const b = h.add('10.1.0.2', 1);
  const a = h.add('10.1.0.1', 1);
  return { h, s: schedOf(h, LblcScheduler), a, b, c };
}

describe('lblc', () => {
  it('has the kernel name', () => {
    expect(lblcScheduler.name).toBe('lblc');
  });

  it('all clients of one VIP share one entry and one real server', () => {
    const { h, s, a } = setup();
    for (let i = 0; i < 200; i++) expect(h.pick(syn(0xc0a80000 + i, 1024 + i, VIP))).toBe(a);
    expect(s.cacheSize).toBe(1);
    expect(s.entriesCounter).toBe(1);
    expect(s.cachedDest(VIP)).toBe(a);
  });

  it('switches when the cached dest is overloaded in lblc terms: a a b b c c c', () => {
    // Weights 1,1,1; each pick adds one active connection to the chosen dest.
    // 3rd pick: a has 2 > 1 active and b has 0*2 < 1 -> overloaded -> wlc:
    //   a (512) vs b (0): 512*1 > 0*1 -> b; c ties with b -> b stays.
    // 5th pick: b has 2 > 1, c has 0 -> wlc over a(512), b(512), c(0) -> c.
    // 7th pick: c has 2 > 1 but nobody has activeconns*2 < weight -> c stays.
    const { h, s, a, b, c } = setup();
    const seq: string[] = [];
    for (let i = 0; i < 7; i++) {
      const d = h.pick(syn(0xc0a80001, 2000 + i, VIP))!;
      d.activeConns++;
      seq.push(d === a ? 'a' : d === b ? 'b' : d === c ? 'c' : '?');
    }
    expect(seq.join(' ')).toBe('a a b b c c c');
    expect(s.cacheSize).toBe(1);
    // Two replacements, each hashing in a new entry without atomic_dec: the kernel's counter says 3.
    expect(s.entriesCounter).toBe(3);
  });

  it('keeps a cached dest that has the OVERLOAD flag (lblc does not look at it)', () => {
    const { h, a, b } = setup();
    expect(h.pick(syn(1, 1, VIP))).toBe(a);
    a.flags |= DestFlag.OVERLOAD;
    expect(h.pick(syn(2, 2, VIP))).toBe(a);
    // A new entry's wlc choice skips OVERLOAD dests.
    expect(h.pick(syn(2, 2, 0x0a000002))).toBe(b);
  });

  it('reschedules when the cached dest gets weight 0 or is deleted', () => {
    const { h, s, a, b, c } = setup();
    expect(h.pick(syn(1, 1, VIP))).toBe(a);
    h.setWeight(a, 0);
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
    expect(s.cachedDest(VIP)).toBe(b);
    h.del(b);
    expect(h.pick(syn(1, 1, VIP))).toBe(c);
    h.del(c);
    h.del(a);
    expect(h.pick(syn(1, 1, VIP))).toBeNull();
    // The stale entry stays (no del_dest hook) until the timer removes it.
    expect(s.cacheSize).toBe(1);
  });

  it('counts one hash probe per lookup and one chain step per entry compared; new entries go to the chain head', () => {
    const { h } = setup();
    // Another address in the same bucket as the VIP.
    const bucket = hash32(VIP, 10);
    let other = VIP + 1;
    while (hash32(other, 10) !== bucket) other++;
    h.work.reset();
    h.pick(syn(1, 1, VIP)); // miss (1 probe), then ip_vs_lblc_new looks again (1 probe)
    expect([h.work.hashProbes, h.work.chainSteps]).toEqual([2, 0]);
    h.pick(syn(1, 1, other)); // miss over 1 entry, new entry at the head
    h.work.reset();
    h.pick(syn(1, 1, VIP)); // chain: other, VIP
    expect([h.work.hashProbes, h.work.chainSteps]).toEqual([1, 2]);
    h.work.reset();
    h.pick(syn(1, 1, other));
    expect([h.work.hashProbes, h.work.chainSteps]).toEqual([1, 1]);
  });

  it('updates lastuse on every hit', () => {
    const { h, s } = setup();
    h.pick(syn(1, 1, VIP));
    h.ctx.time = 12345;
    h.pick(syn(1, 1, VIP));
    expect(s.lastUse(VIP)).toBe(12345);
  });

  describe('expiry timers', () => {
    it('the 30th run is a full check with lblc_expiration', () => {
      const { h, s } = setup();
      h.ctx.lblcExpirationMs = () => 10 * MIN;
      expect(s.nextTimerAt).toBe(MIN);
      h.pick(syn(1, 1, VIP));
      s.runTimers(29 * MIN);
      expect(s.cacheSize).toBe(1);
      expect(s.nextTimerAt).toBe(30 * MIN);
      s.runTimers(30 * MIN);
      expect(s.cacheSize).toBe(0);
      expect(s.entriesCounter).toBe(0);
    });

    it('default 24 h: an idle entry goes at the full check of minute 1440', () => {
      const { h, s } = setup();
      h.pick(syn(1, 1, VIP));
      s.runTimers(1439 * MIN);
      expect(s.cacheSize).toBe(1);
      s.runTimers(1440 * MIN);
      expect(s.cacheSize).toBe(0);
    });

    it('an entry used since survives the full check', () => {
      const { h, s } = setup();
      h.ctx.lblcExpirationMs = () => 10 * MIN;
      h.pick(syn(1, 1, VIP));
      s.runTimers(25 * MIN);
      h.ctx.time = 25 * MIN;
      h.pick(syn(1, 1, VIP));
      s.runTimers(59 * MIN);
      expect(s.cacheSize).toBe(1); // 30 < 25 + 10
      s.runTimers(60 * MIN);
      expect(s.cacheSize).toBe(0); // 60 >= 35
    });

    it('over max_size: partial sweeps of 6-min idle entries from the rover; they hold back the full check', () => {
      const { h, s } = setup();
      h.ctx.lblcExpirationMs = () => 10 * MIN;
      const n = 17000;
      const base = 0x0b000000;
      for (let i = 0; i < n; i++) h.pick(syn(1, 1, base + i));
      expect(s.cacheSize).toBe(n);
      // Runs at minutes 1..5: entries > 16384 -> partial sweep, nothing idle for 6 min yet.
      s.runTimers(5 * MIN);
      expect(s.cacheSize).toBe(n);
      // Minute 6: goal = (17000 - 16384) * 4 / 3 = 821; buckets 1, 2, ... are emptied until 821 are gone.
      const perBucket = new Array<number>(1024).fill(0);
      for (let i = 0; i < n; i++) perBucket[hash32(base + i, 10)]!++;
      let removed = 0;
      let k = 0;
      while (removed < 821) removed += perBucket[++k]!;
      s.runTimers(6 * MIN);
      expect(s.cacheSize).toBe(n - removed);
      expect(s.entriesCounter).toBe(n - removed);
      for (let i = 0; i < n; i += 97) {
        const b = hash32(base + i, 10);
        expect(s.cachedDest(base + i) === null, `addr #${i} bucket ${b}`).toBe(b >= 1 && b <= k);
      }
      // From minute 7 the counter counts again (it stayed 1 through the 6 partial runs):
      // counter reaches 30 before the run of minute 36, which is the full check.
      s.runTimers(35 * MIN);
      expect(s.cacheSize).toBe(n - removed);
      s.runTimers(36 * MIN);
      expect(s.cacheSize).toBe(0);
    });

    it('doneService stops the timer and flushes; initService re-arms from now', () => {
      const { h, s } = setup();
      h.pick(syn(1, 1, VIP));
      s.doneService();
      expect(s.cacheSize).toBe(0);
      expect(s.nextTimerAt).toBe(Number.POSITIVE_INFINITY);
      s.runTimers(100 * MIN);
      h.ctx.time = 7 * MIN;
      s.initService();
      expect(s.nextTimerAt).toBe(8 * MIN);
      expect(h.pick(syn(1, 1, VIP))).not.toBeNull();
      expect(s.cacheSize).toBe(1);
    });
  });
});
