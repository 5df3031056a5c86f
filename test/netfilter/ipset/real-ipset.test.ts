import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsetStore } from '../../../src/netfilter/ipset/index.js';
import { createRng } from '../../../src/sim/rng.js';

// Differential check against the real kernel and ipset tool. Opt-in only
// (LBSIM_REAL_IPSET=1, as root, with `ipset` installed): it works inside a
// network namespace of its own, never on the host's sets, and deletes it after.
const enabled = process.env['LBSIM_REAL_IPSET'] === '1';
const ns = `lbsim-set-${process.pid}`;

function ipset(args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ipset', ...args], input === undefined ? {} : { input });
  return { ok: r.status === 0, out: r.stdout.toString() };
}

describe.skipIf(!enabled)('against the real ipset (LBSIM_REAL_IPSET=1)', () => {
  beforeAll(() => {
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it.each([1, 2, 3])('random restore, save contents and test answers agree (seed %i)', (seed) => {
    const rng = createRng(seed);
    const ip = (): string => `10.${rng.below(2)}.${rng.below(3)}.${rng.below(4)}`;
    const port = (): string => `${['tcp:', 'udp:', 'sctp:', 'icmp:8/'][rng.below(4)]!}${rng.below(3)}`;
    const lines = ['create N hash:net', 'create E hash:ip,port,net', 'create P hash:ip,port', 'create B bitmap:port range 0-5'];
    for (let i = 0; i < 60; i++) {
      const c = [8, 16, 24, 30, 32][rng.below(5)]!;
      const nm = rng.below(3) === 0 ? ' nomatch' : '';
      lines.push(`add N ${ip()}/${c}${nm}`);
      lines.push(`add E 10.0.0.${rng.below(2)},${['tcp', 'udp'][rng.below(2)]!}:${rng.below(2)},${ip()}/${c}${nm}`);
      lines.push(`add P ${ip()},${port()}`);
      if (rng.below(4) === 0) lines.push(`del N ${ip()}/${c}`);
      lines.push(`add B ${rng.below(6)}`);
    }
    const text = lines.join('\n') + '\n';
    ipset(['destroy']);
    expect(ipset(['-exist', 'restore'], text).ok).toBe(true);
    const s = new IpsetStore();
    s.restore(text, true);
    const adds = (t: string): string[] =>
      t
        .split('\n')
        .filter((l) => l.startsWith('add'))
        .sort();
    expect(adds(ipset(['save']).out)).toEqual(adds(s.save()));
    for (let i = 0; i < 60; i++) {
      const probes: [string, string][] = [
        ['N', ip()],
        ['N', `${ip()}/${[8, 16, 24][rng.below(3)]!}`],
        ['E', `10.0.0.${rng.below(2)},${['tcp', 'udp'][rng.below(2)]!}:${rng.below(2)},${ip()}`],
        ['P', `${ip()},${port()}`],
        ['B', String(rng.below(7))],
      ];
      for (const [set, e] of probes) expect([set, e, s.test(set, e)]).toEqual([set, e, ipset(['test', set, e]).ok]);
    }
  });
});
