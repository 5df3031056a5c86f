import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/errors.js';
import { ipv4, parseIPv4 } from '../../../src/net/ipv4.js';
import type { RecentMatch } from '../../../src/netfilter/ast.js';
import { RecentTables } from '../../../src/netfilter/state/recent.js';

// Expected values follow net/netfilter/xt_recent.c (recent_mt, recent_mt_check,
// recent_entry_init/update/reap, recent_seq_show), kernel ≥ 4.10, HZ 1000.

function rm(command: RecentMatch['command'], extra: Partial<RecentMatch> = {}): RecentMatch {
  return {
    module: 'recent',
    command,
    name: 'DEFAULT',
    side: 'source',
    seconds: 0,
    reap: false,
    hitcount: 0,
    rttl: false,
    mask: 0xffffffff,
    invert: false,
    ...extra,
  };
}

const pkt = (src: string, dst = '192.168.0.1'): { saddr: number; daddr: number } => ({
  saddr: parseIPv4(src),
  daddr: parseIPv4(dst),
});

describe('ssh brute-force pattern', () => {
  // -A INPUT -p tcp --dport 22 -m state --state NEW -m recent --set --name SSH
  // -A INPUT -p tcp --dport 22 -m state --state NEW -m recent --update --seconds 60 --hitcount 4 --name SSH -j DROP
  const set = rm('set', { name: 'SSH' });
  const update = rm('update', { name: 'SSH', seconds: 60, hitcount: 4 });

  function attempt(r: RecentTables, t: number, src = '203.0.113.9'): boolean {
    expect(r.evaluate(set, pkt(src), t)).toBe(true);
    return r.evaluate(update, pkt(src), t); // true = dropped
  }

  it('drops the 4th new connection within 60 s and lets it through once old stamps age out', () => {
    const r = new RecentTables();
    r.register(set);
    r.register(update);
    // Stamps after --set at 0,1,2 s: 1, 2, 3 → fewer than 4 hits.
    expect(attempt(r, 0)).toBe(false);
    expect(attempt(r, 1000)).toBe(false);
    expect(attempt(r, 2000)).toBe(false);
    // 4th: --set makes 4 stamps → 4 hits → match (DROP); --update adds a 5th stamp at 3000.
    expect(attempt(r, 3000)).toBe(true);
    expect(r.procText('SSH')).toBe('src=203.0.113.9 ttl: 64 last_seen: 3000 oldest_pkt: 5 0, 1000, 2000, 3000, 3000\n');
    // At 62.5 s: time = 2500; stamps 0,1000,2000 are older; 3000, 3000, 62500 = 3 hits → passes.
    expect(attempt(r, 62_500)).toBe(false);
    // Another source is independent.
    expect(attempt(r, 62_500, '198.51.100.1')).toBe(false);
  });

  it('a stamp exactly --seconds old still counts (time_after is strict)', () => {
    const r = new RecentTables();
    r.evaluate(rm('set'), pkt('10.0.0.1'), 0);
    const check = rm('rcheck', { seconds: 10 });
    expect(r.evaluate(check, pkt('10.0.0.1'), 10_000)).toBe(true);
    expect(r.evaluate(check, pkt('10.0.0.1'), 10_001)).toBe(false);
    // --rcheck never adds an entry and never updates.
    expect(r.evaluate(check, pkt('10.0.0.2'), 10_001)).toBe(false);
    expect(r.entries('DEFAULT').length).toBe(1);
  });
});

describe('table size and eviction', () => {
  it('keeps ip_list_tot = 100 entries by default, dropping the least recently used', () => {
    const r = new RecentTables();
    const set = rm('set');
    for (let i = 1; i <= 100; i++) r.evaluate(set, { saddr: ipv4(10, 0, 0, i), daddr: 0 }, i);
    // Refresh 10.0.0.1 so that 10.0.0.2 becomes the oldest.
    r.evaluate(set, { saddr: ipv4(10, 0, 0, 1), daddr: 0 }, 500);
    r.evaluate(set, { saddr: ipv4(10, 0, 1, 1), daddr: 0 }, 600);
    const addrs = r.entries('DEFAULT').map((e) => e.addr);
    expect(addrs.length).toBe(100);
    expect(addrs.includes(ipv4(10, 0, 0, 2))).toBe(false);
    expect(addrs.includes(ipv4(10, 0, 0, 1))).toBe(true);
    expect(addrs[0]).toBe(ipv4(10, 0, 0, 3));
  });

  it('ip_list_tot = 200 as a module parameter', () => {
    const r = new RecentTables({ ipListTot: 200 });
    const set = rm('set');
    for (let i = 0; i < 201; i++) r.evaluate(set, { saddr: ipv4(10, 0, i >> 8, i & 255), daddr: 0 }, i);
    const addrs = r.entries('DEFAULT').map((e) => e.addr);
    expect(addrs.length).toBe(200);
    expect(addrs[0]).toBe(ipv4(10, 0, 0, 1));
  });

  it('the timestamp ring holds 32 stamps without a hitcount; the index wraps', () => {
    const r = new RecentTables();
    const set = rm('set');
    for (let i = 0; i < 33; i++) r.evaluate(set, pkt('10.0.0.1'), i * 10);
    // init writes stamps[0] = 0 (index 1); updates fill 1..31 (index 32); the 33rd stamp (320)
    // goes to slot 32 & 31 = 0 and index becomes 1.
    const e = r.entries('DEFAULT')[0]!;
    expect(e.stamps.length).toBe(32);
    expect(e.stamps[0]).toBe(320);
    expect(e.stamps[1]).toBe(10);
    expect(e.oldestPkt).toBe(1);
    expect(e.lastSeen).toBe(320);
  });
});

describe('--reap', () => {
  it('drops only the oldest entry of the table, when its last stamp is older than --seconds', () => {
    const r = new RecentTables();
    const set = rm('set');
    r.evaluate(set, pkt('10.0.0.1'), 0);
    r.evaluate(set, pkt('10.0.0.3'), 1000);
    r.evaluate(set, pkt('10.0.0.2'), 5000);
    const check = rm('rcheck', { seconds: 10, reap: true });
    // time = 12000 - 10000 = 2000: 10.0.0.2 has a hit; the LRU head 10.0.0.1 (last 0) goes.
    expect(r.evaluate(check, pkt('10.0.0.2'), 12_000)).toBe(true);
    expect(r.entries('DEFAULT').map((e) => e.addr)).toEqual([parseIPv4('10.0.0.3'), parseIPv4('10.0.0.2')]);
    // Next evaluation reaps 10.0.0.3 (last 1000 < 2000).
    expect(r.evaluate(check, pkt('10.0.0.2'), 12_000)).toBe(true);
    expect(r.entries('DEFAULT').map((e) => e.addr)).toEqual([parseIPv4('10.0.0.2')]);
    // A lookup that finds nothing does not reap.
    r.evaluate(set, pkt('10.0.0.9'), 12_000);
    expect(r.evaluate(check, pkt('10.0.0.8'), 40_000)).toBe(false);
    expect(r.entries('DEFAULT').length).toBe(2);
  });

  it('never reaps the entry that ! --update is about to update', () => {
    const r = new RecentTables();
    r.evaluate(rm('set'), pkt('10.0.0.1'), 0);
    // Only entry, last stamp 0 < time 1000; the inverted update matches and updates it, so it stays.
    expect(r.evaluate(rm('update', { seconds: 10, reap: true, invert: true }), pkt('10.0.0.1'), 11_000)).toBe(true);
    expect(r.entries('DEFAULT')[0]!.stamps).toEqual([0, 11_000]);
    // --rcheck does not update: the same situation reaps it.
    expect(r.evaluate(rm('rcheck', { seconds: 1, reap: true }), pkt('10.0.0.1'), 13_000)).toBe(false);
    expect(r.entries('DEFAULT').length).toBe(0);
  });
});

describe('options', () => {
  it('--rdest, --mask, --remove', () => {
    const r = new RecentTables();
    const setDst = rm('set', { name: 'D', side: 'dest', mask: parseIPv4('255.255.255.0') });
    r.evaluate(setDst, pkt('1.1.1.1', '10.0.0.7'), 0);
    const check = rm('rcheck', { name: 'D', side: 'dest' });
    // The table keeps the mask of the rule that created it (recent_mt uses t->mask).
    expect(r.evaluate(check, pkt('9.9.9.9', '10.0.0.200'), 1)).toBe(true);
    expect(r.procText('D')).toBe('src=10.0.0.0 ttl: 64 last_seen: 0 oldest_pkt: 1 0\n');
    expect(r.evaluate(rm('remove', { name: 'D', side: 'dest' }), pkt('9.9.9.9', '10.0.0.1'), 2)).toBe(true);
    expect(r.evaluate(check, pkt('9.9.9.9', '10.0.0.1'), 3)).toBe(false);
  });

  it('--rttl requires the stored TTL; --update records the new TTL', () => {
    const r = new RecentTables();
    r.evaluate(rm('set'), pkt('10.0.0.1'), 0, 64);
    const ttlCheck = rm('rcheck', { rttl: true });
    expect(r.evaluate(ttlCheck, pkt('10.0.0.1'), 1, 63)).toBe(false);
    expect(r.evaluate(ttlCheck, pkt('10.0.0.1'), 1, 64)).toBe(true);
    r.evaluate(rm('update'), pkt('10.0.0.1'), 2, 50);
    expect(r.evaluate(ttlCheck, pkt('10.0.0.1'), 3, 50)).toBe(true);
  });

  it('! inverts, and --update records a stamp when the inverted result is true', () => {
    const r = new RecentTables();
    r.evaluate(rm('set'), pkt('10.0.0.1'), 0);
    const notUpdate = rm('update', { seconds: 5, invert: true });
    expect(r.evaluate(notUpdate, pkt('10.0.0.1'), 1000)).toBe(false);
    expect(r.entries('DEFAULT')[0]!.stamps).toEqual([0]);
    expect(r.evaluate(notUpdate, pkt('10.0.0.1'), 9000)).toBe(true);
    expect(r.entries('DEFAULT')[0]!.stamps).toEqual([0, 9000]);
  });

  it('refuses what recent_mt_check refuses', () => {
    const r = new RecentTables();
    expect(() => {
      r.register(rm('set', { seconds: 5 }));
    }).toThrow(OperationError);
    expect(() => {
      r.register(rm('rcheck', { reap: true }));
    }).toThrow(/--reap needs --seconds/);
    expect(() => {
      r.register(rm('rcheck', { name: 'a/b' }));
    }).toThrow(/invalid list name/);
    // Kernel ≥ 6.11 accepts any u32 hitcount (checked on 6.18 with --hitcount 300).
    expect(() => {
      r.register(rm('update', { hitcount: 300 }));
    }).not.toThrow();
    const legacy = new RecentTables({ legacyHitcountLimit: true });
    expect(() => {
      legacy.register(rm('update', { hitcount: 256 }));
    }).toThrow(/larger than allowed maximum \(255\)/);
    expect(() => {
      legacy.register(rm('update', { hitcount: 255, seconds: 1 }));
    }).not.toThrow();
  });

  it('hitcount 300 needs a ring of 512 and can match (kernel ≥ 6.11)', () => {
    const r = new RecentTables();
    const set = rm('set', { name: 'H' });
    const check = rm('rcheck', { name: 'H', hitcount: 300 });
    r.register(set);
    r.register(check);
    for (let i = 0; i < 299; i++) r.evaluate(set, pkt('10.0.0.1'), i);
    expect(r.evaluate(check, pkt('10.0.0.1'), 300)).toBe(false);
    r.evaluate(set, pkt('10.0.0.1'), 299);
    expect(r.evaluate(check, pkt('10.0.0.1'), 300)).toBe(true);
  });

  it('a rule needing a larger ring flushes the existing table', () => {
    const r = new RecentTables();
    r.evaluate(rm('set', { name: 'X' }), pkt('10.0.0.1'), 0);
    r.register(rm('update', { name: 'X', hitcount: 20 })); // 31 is enough: kept
    expect(r.entries('X').length).toBe(1);
    r.evaluate(rm('set', { name: 'X' }), pkt('10.0.0.1'), 0);
    r.check(rm('update', { name: 'X', hitcount: 100 })); // validation only: no flush
    expect(r.entries('X').length).toBe(1);
    r.register(rm('update', { name: 'X', hitcount: 40 })); // needs 63: flushed
    expect(r.entries('X').length).toBe(0);
  });

  it('HZ 100 stamps jiffies at 10 ms resolution', () => {
    const r = new RecentTables({ hz: 100 });
    r.evaluate(rm('set'), pkt('10.0.0.1'), 1234);
    expect(r.entries('DEFAULT')[0]!.lastSeen).toBe(123);
    // --seconds 1 = 100 jiffies: at 2239 ms (jiffy 223) time = 123, stamp 123 is not older.
    expect(r.evaluate(rm('rcheck', { seconds: 1 }), pkt('10.0.0.1'), 2239)).toBe(true);
    expect(r.evaluate(rm('rcheck', { seconds: 1 }), pkt('10.0.0.1'), 2240)).toBe(false);
  });

  it('/proc writes: +addr, -addr and / (recent_mt_proc_write)', () => {
    const r = new RecentTables();
    r.register(rm('rcheck', { name: 'P' }));
    r.procWrite('P', '+10.1.1.1\n', 7000);
    expect(r.procText('P')).toBe('src=10.1.1.1 ttl: 0 last_seen: 7000 oldest_pkt: 1 7000\n');
    r.procWrite('P', '+10.1.1.1', 8000);
    expect(r.entries('P')[0]!.stamps).toEqual([7000, 8000]);
    r.procWrite('P', '-10.1.1.1', 9000);
    expect(r.entries('P').length).toBe(0);
    r.procWrite('P', '+10.1.1.2', 9000);
    r.procWrite('P', '/', 9000);
    expect(r.procText('P')).toBe('');
    expect(() => {
      r.procWrite('P', '10.1.1.1', 0);
    }).toThrow(/Need "\+ip", "-ip" or "\/"/);
  });
});
