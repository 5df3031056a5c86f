// lblcr expectations derived by hand from torvalds/linux net/netfilter/ipvs/ip_vs_lblcr.c:
// with an entry for daddr: lastuse = now; dest = ip_vs_dest_set_min(set) (the
// weighted least-connection AVAILABLE member); then, if |set| > 1 and
// now > lastmod + lblcr_expiration, ip_vs_dest_set_max(set) (weighted most
// connections, weight > 0) is erased (lastmod = now); dest is used unless NULL
// or lblc-overloaded, else the wlc choice over all dests is used and inserted at
// the head of the set (lastmod = now) if not already there. Without an entry the
// wlc choice creates one. Same table and timers as lblc.
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../../src/ipvs/dest.js';
import { LblcrScheduler, lblcrScheduler } from '../../../src/ipvs/schedulers/lblcr.js';
import { harness } from './harness.js';
import { schedOf, syn } from './hash-helpers.js';

const MIN = 60_000;
const VIP = 0x0a000001;

function setup() {
  const h = harness(lblcrScheduler);
  const c = h.add('10.1.0.3', 1);
  const b = h.add('10.1.0.2', 1);
  const a = h.add('10.1.0.1', 1);
  const s = schedOf(h, LblcrScheduler);
  const name = (d: Dest | null): string => (d === a ? 'a' : d === b ? 'b' : d === c ? 'c' : d === null ? '-' : '?');
  const set = (): string => (s.cachedSet(VIP) ?? []).map(name).join('');
  return { h, s, a, b, c, name, set };
}

describe('lblcr', () => {
  it('has the kernel name', () => {
    expect(lblcrScheduler.name).toBe('lblcr');
  });

  it('creates a one-member entry from the wlc choice; all clients of a VIP share it', () => {
    const { h, s, a, set } = setup();
    for (let i = 0; i < 50; i++) expect(h.pick(syn(0xc0a80000 + i, 3000 + i, VIP))).toBe(a);
    expect(set()).toBe('a');
    expect(s.cacheSize).toBe(1);
  });

  it('grows the set when its best member is overloaded: a -> ba -> cba', () => {
    const { h, s, a, b, c, set } = setup();
    h.ctx.time = 1000;
    expect(h.pick(syn(1, 1, VIP))).toBe(a);
    expect(s.lastMod(VIP)).toBe(1000);
    // a: 2 active > weight 1, and b has 0*2 < 1 -> overloaded; wlc: a 512, b 0 -> b; c ties -> b.
    a.activeConns = 2;
    h.ctx.time = 2000;
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
    expect(set()).toBe('ba');
    expect(s.lastMod(VIP)).toBe(2000);
    // set_min over [b, a] picks b (0 < 512) and b is fine.
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
    // b overloaded too: set_min = b (512 vs 512, tie keeps b), wlc over a, b, c -> c.
    b.activeConns = 2;
    h.ctx.time = 3000;
    expect(h.pick(syn(1, 1, VIP))).toBe(c);
    expect(set()).toBe('cba');
    // Picking the same wlc choice again does not re-insert it or touch lastmod.
    expect(s.lastMod(VIP)).toBe(3000);
  });

  it('shrinks by the most loaded member once now > lastmod + lblcr_expiration', () => {
    const { h, s, a, b, c, set } = setup();
    h.ctx.lblcrExpirationMs = () => 1000;
    h.pick(syn(1, 1, VIP)); // [a], lastmod 0
    a.activeConns = 2;
    h.pick(syn(1, 1, VIP)); // [b a]
    b.activeConns = 2;
    h.pick(syn(1, 1, VIP)); // [c b a], lastmod 0
    expect(set()).toBe('cba');
    h.ctx.time = 1000; // not yet: 1000 > 0 + 1000 is false
    expect(h.pick(syn(1, 1, VIP))).toBe(c);
    expect(set()).toBe('cba');
    h.ctx.time = 1001;
    // set_max: c (0) first, b: 0*1 < 512*1 -> b; a: 512*1 < 512*1 no -> erase b.
    expect(h.pick(syn(1, 1, VIP))).toBe(c);
    expect(set()).toBe('ca');
    expect(s.lastMod(VIP)).toBe(1001);
    // Right after a change nothing more goes.
    h.ctx.time = 1500;
    h.pick(syn(1, 1, VIP));
    expect(set()).toBe('ca');
    h.ctx.time = 2002;
    h.pick(syn(1, 1, VIP)); // set_max of [c(0), a(512)] = a
    expect(set()).toBe('c');
    h.ctx.time = 9999;
    h.pick(syn(1, 1, VIP)); // one member: never shrinks
    expect(set()).toBe('c');
  });

  it('returns the dest chosen before the shrink even if the shrink erased it (kernel order)', () => {
    const { h, a, b, name, set } = setup();
    h.ctx.lblcrExpirationMs = () => 1000;
    h.pick(syn(1, 1, VIP)); // [a]
    a.activeConns = 2;
    h.pick(syn(1, 1, VIP)); // [b a]
    a.activeConns = 0;
    h.setWeight(a, 0); // a: weight 0, so set_max skips it and set_min too
    h.ctx.time = 5000;
    // set_min -> b; shrink: set_max -> b (a has weight 0) -> erase b; b is still returned.
    expect(name(h.pick(syn(1, 1, VIP)))).toBe('b');
    expect(set()).toBe('a');
    // Next: set_min over [a] finds nothing (weight 0) -> wlc -> b, inserted at the head.
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
    expect(set()).toBe('ba');
  });

  it('skips deleted (not AVAILABLE) members', () => {
    const { h, a, b, set } = setup();
    h.pick(syn(1, 1, VIP)); // [a]
    h.del(a);
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
    expect(set()).toBe('ba');
    expect(h.pick(syn(1, 1, VIP))).toBe(b);
  });

  it('without any usable dest: NULL and no entry', () => {
    const h = harness(lblcrScheduler);
    const s = schedOf(h, LblcrScheduler);
    h.add('10.1.0.1', 0);
    expect(h.pick(syn(1, 1, VIP))).toBeNull();
    expect(s.cacheSize).toBe(0);
  });

  it('expires idle entries at the 30th timer run with lblcr_expiration', () => {
    const { h, s } = setup();
    h.ctx.lblcrExpirationMs = () => 10 * MIN;
    h.pick(syn(1, 1, VIP));
    h.pick(syn(1, 1, VIP + 1));
    h.ctx.time = 25 * MIN;
    h.pick(syn(1, 1, VIP + 1));
    s.runTimers(29 * MIN);
    expect(s.cacheSize).toBe(2);
    s.runTimers(30 * MIN);
    expect(s.cachedSet(VIP)).toBeNull();
    expect(s.cachedSet(VIP + 1)).not.toBeNull();
    expect(s.entriesCounter).toBe(1);
    s.runTimers(60 * MIN);
    expect(s.cacheSize).toBe(0);
  });

  it('doneService flushes and stops the timer', () => {
    const { h, s } = setup();
    h.pick(syn(1, 1, VIP));
    s.doneService();
    expect(s.cacheSize).toBe(0);
    expect(s.nextTimerAt).toBe(Number.POSITIVE_INFINITY);
  });
});
