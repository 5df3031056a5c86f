import { describe, expect, it } from 'vitest';
import { test as proptest, fc } from '@fast-check/vitest';
import { WorkCounts } from '../../../src/classify/work.js';
import { ParseError } from '../../../src/errors.js';
import { ipv4, parseIPv4 } from '../../../src/net/ipv4.js';
import { Packet } from '../../../src/net/packet.js';
import { Protocol } from '../../../src/net/protocol.js';
import type { SetMatch } from '../../../src/netfilter/ast.js';
import { IpsetError, IpsetStore, matchSet } from '../../../src/netfilter/ipset/index.js';
import { createRng } from '../../../src/sim/rng.js';
import { SimClock } from '../../../src/sim/clock.js';

const ip = parseIPv4;

function m(setName: string, dirs: readonly ('src' | 'dst')[], extra: Partial<SetMatch> = {}): SetMatch {
  return { module: 'set', setName, dirs, invert: false, returnNomatch: false, ...extra };
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpsetError) return e.reason;
    throw e;
  }
  return 'none';
}

describe('hash:ip', () => {
  it('matches the address chosen by the direction flag', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    s.add('A', '10.0.0.1');
    const w = new WorkCounts();
    const p = new Packet(Protocol.TCP, ip('10.0.0.1'), 1234, ip('10.0.0.2'), 80);
    expect(matchSet(s, m('A', ['src']), p, w)).toBe(true);
    expect(matchSet(s, m('A', ['dst']), p, w)).toBe(false);
    expect(matchSet(s, m('A', ['dst'], { invert: true }), p, w)).toBe(true);
    // Extra directions are ignored (only opt->dim < set->type->dimension fails).
    expect(matchSet(s, m('A', ['src', 'dst', 'dst']), p, w)).toBe(true);
    expect(w.hashProbes).toBe(4);
  });

  it('refuses 0.0.0.0 on add and never matches it (hash_ip4_uadt/kadt)', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    expect(reason(() => s.add('A', '0.0.0.0'))).toBe('NULL_ELEMENT');
    const p = new Packet(Protocol.UDP, 0, 1, ip('1.1.1.1'), 2);
    expect(matchSet(s, m('A', ['src'], { invert: true }), p, new WorkCounts())).toBe(true);
  });

  it('expands a CIDR or range on add and del, refuses duplicates without -exist', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    s.add('A', '11.0.0.0/30');
    s.add('A', '12.0.0.1-12.0.0.3');
    expect(s.list('A')[0]!.entries).toBe(7);
    expect(reason(() => s.add('A', '11.0.0.2'))).toBe('ELEM_EXISTS');
    s.add('A', '11.0.0.2', { exist: true });
    // A range hitting an existing element fails as a whole (lbsim is atomic; the kernel stops midway).
    expect(reason(() => s.add('A', '11.0.0.3-11.0.0.5'))).toBe('ELEM_EXISTS');
    expect(s.test('A', '11.0.0.4')).toBe(false);
    s.del('A', '12.0.0.0/30', true);
    expect(s.list('A')[0]!.entries).toBe(4);
    expect(reason(() => s.del('A', '12.0.0.1'))).toBe('ELEM_MISSING');
  });
});

describe('hash:ip,port', () => {
  it('stores the protocol with the port; tcp is the default', () => {
    const s = new IpsetStore();
    s.create('P', 'hash:ip,port');
    s.add('P', '10.0.0.1,80');
    s.add('P', '10.0.0.1,udp:53');
    s.add('P', '10.0.0.1,sctp:3868');
    expect(s.test('P', '10.0.0.1,tcp:80')).toBe(true);
    expect(s.test('P', '10.0.0.1,udp:80')).toBe(false);
    expect(s.test('P', '10.0.0.1,53')).toBe(false);
    expect(s.test('P', '10.0.0.1,udp:53')).toBe(true);
    const w = new WorkCounts();
    const tcp80 = new Packet(Protocol.TCP, ip('192.168.1.1'), 40000, ip('10.0.0.1'), 80);
    const udp80 = new Packet(Protocol.UDP, ip('192.168.1.1'), 40000, ip('10.0.0.1'), 80);
    const sctp = new Packet(Protocol.SCTP, ip('192.168.1.1'), 3868, ip('10.0.0.1'), 3868);
    expect(matchSet(s, m('P', ['dst', 'dst']), tcp80, w)).toBe(true);
    expect(matchSet(s, m('P', ['dst', 'dst']), udp80, w)).toBe(false);
    expect(matchSet(s, m('P', ['dst', 'dst']), sctp, w)).toBe(true);
    // dst,src takes the source port 40000.
    expect(matchSet(s, m('P', ['dst', 'src']), tcp80, w)).toBe(false);
    // One direction for a two-dimensional set never matches (ip_set_test: opt->dim < dimension).
    expect(matchSet(s, m('P', ['dst']), tcp80, w)).toBe(false);
    expect(matchSet(s, m('P', ['dst'], { invert: true }), tcp80, w)).toBe(true);
  });

  it('ICMP uses (type << 8) | code, other protocols port 0, protocol 0 never matches (ip_set_getport.c)', () => {
    const s = new IpsetStore();
    s.create('P', 'hash:ip,port');
    s.add('P', '10.0.0.1,icmp:echo-request');
    s.add('P', '10.0.0.1,gre:0');
    s.add('P', '10.0.0.1,icmp:3/4');
    const w = new WorkCounts();
    // lbsim packets carry the ICMP type in dport and the code in sport.
    const echo = new Packet(Protocol.ICMP, ip('1.1.1.1'), 0, ip('10.0.0.1'), 8);
    const frag = new Packet(Protocol.ICMP, ip('1.1.1.1'), 4, ip('10.0.0.1'), 3);
    const gre = new Packet(47, ip('1.1.1.1'), 0, ip('10.0.0.1'), 0);
    const ipProto0 = new Packet(0, ip('1.1.1.1'), 0, ip('10.0.0.1'), 0);
    expect(matchSet(s, m('P', ['dst', 'dst']), echo, w)).toBe(true);
    expect(matchSet(s, m('P', ['dst', 'src']), echo, w)).toBe(true);
    expect(matchSet(s, m('P', ['dst', 'dst']), frag, w)).toBe(true);
    expect(matchSet(s, m('P', ['dst', 'dst']), gre, w)).toBe(true);
    expect(matchSet(s, m('P', ['dst', 'dst']), ipProto0, w)).toBe(false);
    expect(s.save('P').split('\n').slice(1, 4)).toEqual([
      'add P 10.0.0.1,icmp:echo-request',
      'add P 10.0.0.1,gre:0',
      'add P 10.0.0.1,icmp:fragmentation-needed',
    ]);
  });

  it('refuses a pseudo port on a portless protocol and expands port ranges', () => {
    const s = new IpsetStore();
    s.create('P', 'hash:ip,port');
    expect(() => {
      s.add('P', '10.0.0.1,gre:5');
    }).toThrow(/Protocol gre can be used with pseudo port value 0 only/);
    s.add('P', '10.0.0.1,tcp:80-82');
    expect(s.list('P')[0]!.members.map((x) => x.port)).toEqual([80, 81, 82]);
  });
});

describe('hash:net', () => {
  // ip_set_hash_gen.h mtype_test_cidrs(): the prefixes present are tried longest
  // first; the first equal live element decides; a nomatch element gives -ENOTEMPTY (no match).
  const s = new IpsetStore();
  s.create('N', 'hash:net');
  s.add('N', '10.0.0.0/8');
  s.add('N', '10.1.0.0/16', { nomatch: true });
  s.add('N', '10.1.1.0/24');
  const w = new WorkCounts();
  const pkt = (a: string): Packet => new Packet(Protocol.TCP, ip(a), 1, ip('9.9.9.9'), 2);

  it('longest stored prefix decides, nomatch excludes', () => {
    expect(matchSet(s, m('N', ['src']), pkt('10.1.1.5'), w)).toBe(true); // /24 plain
    expect(matchSet(s, m('N', ['src']), pkt('10.1.2.5'), w)).toBe(false); // /16 nomatch
    expect(matchSet(s, m('N', ['src']), pkt('10.2.0.1'), w)).toBe(true); // /8
    expect(matchSet(s, m('N', ['src']), pkt('11.0.0.1'), w)).toBe(false);
    expect(s.test('N', '10.1.2.5')).toBe(false);
    expect(s.test('N', '10.1.0.0/16')).toBe(false);
    expect(s.test('N', '10.1.0.0/16', true)).toBe(true);
  });

  it('--return-nomatch reverses plain and nomatch elements (ip_set_core.c ip_set_test)', () => {
    expect(matchSet(s, m('N', ['src'], { returnNomatch: true }), pkt('10.1.2.5'), w)).toBe(true);
    expect(matchSet(s, m('N', ['src'], { returnNomatch: true }), pkt('10.1.1.5'), w)).toBe(false);
    expect(matchSet(s, m('N', ['src'], { returnNomatch: true }), pkt('11.0.0.1'), w)).toBe(false);
  });

  it('counts one probe per stored prefix length tried', () => {
    const w2 = new WorkCounts();
    matchSet(s, m('N', ['src']), pkt('11.0.0.1'), w2);
    expect(w2.hashProbes).toBe(3); // /24, /16, /8 all tried, nothing found
    w2.reset();
    matchSet(s, m('N', ['src']), pkt('10.1.1.5'), w2);
    expect(w2.hashProbes).toBe(1); // /24 decides first
  });

  it('clears host bits, refuses /0 and splits ranges into CIDRs (ip_set_range_to_cidr)', () => {
    const t = new IpsetStore();
    t.create('N', 'hash:net');
    t.add('N', '10.0.0.5/8');
    expect(reason(() => t.add('N', '10.0.0.0/8'))).toBe('ELEM_EXISTS');
    expect(() => {
      t.add('N', '1.0.0.0/0');
    }).toThrow(ParseError);
    t.add('N', '192.168.0.1-192.168.0.6');
    // .1/32, .2/31, .4/31, .6/32
    expect(t.save('N').split('\n').slice(2, 6)).toEqual([
      'add N 192.168.0.1',
      'add N 192.168.0.2/31',
      'add N 192.168.0.4/31',
      'add N 192.168.0.6',
    ]);
  });
});

describe('hash:ip,port,ip and hash:ip,port,net', () => {
  it('KUBE-LOOP-BACK: dst,dst,src hairpin', () => {
    const s = new IpsetStore();
    s.create('KUBE-LOOP-BACK', 'hash:ip,port,ip');
    s.add('KUBE-LOOP-BACK', '10.244.1.5,tcp:8080,10.244.1.5');
    const w = new WorkCounts();
    const hairpin = new Packet(Protocol.TCP, ip('10.244.1.5'), 5555, ip('10.244.1.5'), 8080);
    const other = new Packet(Protocol.TCP, ip('10.244.1.6'), 5555, ip('10.244.1.5'), 8080);
    const spec = m('KUBE-LOOP-BACK', ['dst', 'dst', 'src']);
    expect(matchSet(s, spec, hairpin, w)).toBe(true);
    expect(matchSet(s, spec, other, w)).toBe(false);
    expect(matchSet(s, m('KUBE-LOOP-BACK', ['dst', 'dst']), hairpin, w)).toBe(false);
  });

  it('KUBE-LOAD-BALANCER-SOURCE-CIDR: the third dimension is searched by prefix', () => {
    const s = new IpsetStore();
    s.create('SRC', 'hash:ip,port,net');
    s.add('SRC', '1.2.3.4,tcp:443,192.168.0.0/16');
    s.add('SRC', '1.2.3.4,tcp:443,192.168.7.0/24', { nomatch: true });
    const spec = m('SRC', ['dst', 'dst', 'src']);
    const w = new WorkCounts();
    const from = (a: string, proto: number = Protocol.TCP): Packet => new Packet(proto, ip(a), 999, ip('1.2.3.4'), 443);
    expect(matchSet(s, spec, from('192.168.1.1'), w)).toBe(true);
    expect(matchSet(s, spec, from('192.168.7.1'), w)).toBe(false);
    expect(matchSet(s, spec, from('10.0.0.1'), w)).toBe(false);
    expect(matchSet(s, spec, from('192.168.1.1', Protocol.UDP), w)).toBe(false);
    expect(s.save('SRC').split('\n')[2]).toBe('add SRC 1.2.3.4,tcp:443,192.168.7.0/24 nomatch');
  });
});

describe('bitmap:port', () => {
  it('matches TCP and UDP ports in range only (ip_set_get_ip_port)', () => {
    const s = new IpsetStore();
    s.create('KUBE-NODE-PORT-TCP', 'bitmap:port', { range: { from: 0, to: 65535 } });
    s.add('KUBE-NODE-PORT-TCP', '30080');
    const w = new WorkCounts();
    const spec = m('KUBE-NODE-PORT-TCP', ['dst']);
    expect(matchSet(s, spec, new Packet(Protocol.TCP, 1, 1, 2, 30080), w)).toBe(true);
    expect(matchSet(s, spec, new Packet(Protocol.UDP, 1, 1, 2, 30080), w)).toBe(true);
    // SCTP is why kube-proxy uses KUBE-NODE-PORT-SCTP-HASH (hash:ip,port) instead.
    expect(matchSet(s, spec, new Packet(Protocol.SCTP, 1, 1, 2, 30080), w)).toBe(false);
    expect(matchSet(s, m('KUBE-NODE-PORT-TCP', ['src']), new Packet(Protocol.TCP, 1, 30080, 2, 1), w)).toBe(true);
  });

  it('refuses ports out of range; a reversed range is swapped', () => {
    const s = new IpsetStore();
    s.create('B', 'bitmap:port', { range: { from: 20, to: 10 } });
    expect(s.save()).toBe('create B bitmap:port range 10-20\n');
    expect(reason(() => s.add('B', '21'))).toBe('OUT_OF_RANGE');
    expect(s.test('B', '21')).toBe(false);
    s.add('B', 'udp:12');
    expect(s.test('B', '12')).toBe(true);
  });
});

describe('maxelem', () => {
  it('"Hash is full" once maxelem live elements are stored', () => {
    const s = new IpsetStore();
    s.create('B', 'hash:ip,port', { maxelem: 3 });
    s.add('B', '10.0.0.1,80');
    s.add('B', '10.0.0.1,81');
    s.add('B', '10.0.0.1,82');
    expect(() => {
      s.add('B', '10.0.0.1,83');
    }).toThrow(/Hash is full, cannot add more elements/);
    // An element that exists is reported as existing, not as full (mtype_add checks the bucket first).
    expect(reason(() => s.add('B', '10.0.0.1,82'))).toBe('ELEM_EXISTS');
    s.del('B', '10.0.0.1,80');
    s.add('B', '10.0.0.1,83');
    expect(s.list('B')[0]!.entries).toBe(3);
  });

  it('expired elements make room (the region gc runs before declaring the set full)', () => {
    const clock = new SimClock();
    const s = new IpsetStore({ clock });
    s.create('T', 'hash:ip', { maxelem: 2, timeout: 10 });
    s.add('T', '1.1.1.1');
    s.add('T', '1.1.1.2', { timeout: 0 });
    expect(reason(() => s.add('T', '1.1.1.3'))).toBe('HASH_FULL');
    clock.advance(10_001);
    s.add('T', '1.1.1.3');
    expect(s.list('T')[0]!.members.map((x) => x.ip)).toEqual([ipv4(1, 1, 1, 2), ipv4(1, 1, 1, 3)]);
  });
});

describe('timeouts on the simulated clock', () => {
  it('an element lives until add time + timeout inclusive (time_is_before_jiffies)', () => {
    const clock = new SimClock(5_000);
    const s = new IpsetStore({ clock });
    s.create('T', 'hash:net', { timeout: 30 });
    s.add('T', '10.0.0.0/8');
    s.add('T', '10.1.0.0/16', { timeout: 5, nomatch: true });
    const w = new WorkCounts();
    const p = new Packet(Protocol.TCP, ip('10.1.2.3'), 1, 2, 3);
    expect(matchSet(s, m('T', ['src']), p, w)).toBe(false); // nomatch /16 alive
    clock.advanceTo(10_000); // exactly 5 s later: still alive
    expect(matchSet(s, m('T', ['src']), p, w)).toBe(false);
    clock.advanceTo(10_001); // expired: the /8 decides
    expect(matchSet(s, m('T', ['src']), p, w)).toBe(true);
    // ip_set_timeout_get(): whole seconds left, never 0.
    expect(s.save('T').split('\n')[1]).toBe('add T 10.0.0.0/8 timeout 24');
    clock.advanceTo(34_500);
    expect(s.list('T')[0]!.members[0]!.timeout).toBe(1);
    clock.advanceTo(35_001);
    expect(s.list('T')[0]!.entries).toBe(0);
    expect(reason(() => s.del('T', '10.0.0.0/8'))).toBe('ELEM_MISSING');
  });

  it('re-adding an expired element is not an error; -exist rewrites the timeout', () => {
    const clock = new SimClock();
    const s = new IpsetStore({ clock });
    s.create('T', 'hash:ip', { timeout: 1 });
    s.add('T', '1.1.1.1');
    clock.advance(1_001);
    s.add('T', '1.1.1.1');
    s.add('T', '1.1.1.1', { exist: true, timeout: 100 });
    expect(s.list('T')[0]!.members[0]!.timeout).toBe(100);
  });

  it('timeout and comment need the set options', () => {
    const s = new IpsetStore();
    s.create('N', 'hash:net');
    expect(reason(() => s.add('N', '1.2.3.0/24', { timeout: 5 }))).toBe('NO_TIMEOUT');
    expect(reason(() => s.add('N', '1.2.3.0/24', { comment: 'x' }))).toBe('NO_COMMENT');
  });
});

describe('save and restore', () => {
  const text = [
    'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x00000001',
    'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443',
    'add KUBE-CLUSTER-IP 10.96.0.10,udp:53',
    'add KUBE-CLUSTER-IP 10.96.0.10,tcp:53',
    'create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xdeadbeef',
    'add KUBE-LOOP-BACK 10.244.0.5,tcp:53,10.244.0.5',
    'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
    'add KUBE-NODE-PORT-TCP 30080',
    'add KUBE-NODE-PORT-TCP 31000',
    'create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 64 maxelem 65536 timeout 300 comment bucketsize 12 initval 0x0000abcd',
    'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,192.168.0.0/16 timeout 300 comment "lb source"',
    'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,192.168.9.9 timeout 0 nomatch',
    '',
  ].join('\n');

  it('save → restore → save is identical (format as ipset 7.17 prints it)', () => {
    const a = new IpsetStore();
    a.restore(text);
    expect(a.save()).toBe(text);
    const b = new IpsetStore();
    b.restore(a.save());
    expect(b.save()).toBe(a.save());
  });

  it('hashsize is rounded to a power of two ≥ 64; bucketsize clamped and even', () => {
    const s = new IpsetStore({ rng: createRng(1) });
    s.restore('create X hash:ip hashsize 100 bucketsize 3 initval 0x1\ncreate Y hash:ip hashsize 1 initval 2\n');
    expect(s.save()).toBe(
      'create X hash:ip family inet hashsize 128 maxelem 65536 bucketsize 4 initval 0x00000001\n' +
        'create Y hash:ip family inet hashsize 64 maxelem 65536 bucketsize 12 initval 0x00000002\n',
    );
  });

  it('is atomic and reports the line of a refused command', () => {
    const s = new IpsetStore();
    s.restore('create A hash:ip\nadd A 1.1.1.1\n');
    const before = s.save();
    let err: unknown;
    try {
      s.restore('add A 2.2.2.2\ncreate B hash:ip\nadd A 1.1.1.1\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IpsetError);
    expect((err as IpsetError).line).toBe(3);
    expect((err as IpsetError).message).toMatch(/Error in line 3: Element cannot be added to the set: it's already added/);
    expect(s.save()).toBe(before);
    expect(s.has('B')).toBe(false);
    // -exist for the whole restore accepts it.
    s.restore('add A 2.2.2.2\ncreate B hash:ip\nadd A 1.1.1.1\n', true);
    expect(s.list('A')[0]!.entries).toBe(2);
  });

  it('ParseError carries line and column', () => {
    const s = new IpsetStore();
    let err: unknown;
    try {
      s.restore('create A hash:ip\nadd A 1.1.1.300\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).line).toBe(2);
    expect((err as ParseError).column).toBe(7);
    expect(s.has('A')).toBe(false);
    expect(() => {
      s.restore('create A hash:ip frobnicate\n');
    }).toThrow(/line 1, column 18/);
    expect(() => {
      s.restore('create P bitmap:port\n');
    }).toThrow(/Missing mandatory option 'range'/);
  });
});

describe('create, destroy, rename, swap, references', () => {
  it('-exist create accepts only an equal set', () => {
    const s = new IpsetStore();
    s.create('N', 'hash:net');
    expect(reason(() => s.create('N', 'hash:net'))).toBe('SET_EXISTS');
    s.create('N', 'hash:net', { hashsize: 4096 }, true); // hashsize is not compared (mtype_same_set)
    expect(reason(() => s.create('N', 'hash:net', { maxelem: 5 }, true))).toBe('SET_EXISTS');
    expect(reason(() => s.create('N', 'hash:ip', {}, true))).toBe('SET_EXISTS');
  });

  it('a destroyed set frees its index for the next create (save order)', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    s.create('B', 'hash:ip');
    s.destroy('A');
    s.create('C', 'hash:ip');
    expect(s.names()).toEqual(['C', 'B']);
  });

  it('swap exchanges contents between names; features must match', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    s.create('B', 'hash:ip');
    s.create('N', 'hash:net');
    s.add('A', '1.1.1.1');
    s.add('B', '2.2.2.2');
    s.reference('A');
    s.swap('A', 'B');
    expect(s.test('A', '2.2.2.2')).toBe(true);
    expect(s.test('B', '1.1.1.1')).toBe(true);
    expect(s.list('A')[0]!.references).toBe(1);
    expect(reason(() => s.swap('A', 'N'))).toBe('TYPE_MISMATCH');
  });

  it('a referenced set cannot be destroyed or renamed', () => {
    const s = new IpsetStore();
    s.create('A', 'hash:ip');
    s.create('B', 'hash:ip');
    s.reference('A');
    expect(reason(() => s.destroy('A'))).toBe('REFERENCED');
    expect(reason(() => s.destroy())).toBe('REFERENCED');
    expect(s.names()).toEqual(['A', 'B']);
    expect(reason(() => s.rename('A', 'Z'))).toBe('RENAME_REFERENCED');
    expect(reason(() => s.rename('B', 'A'))).toBe('NEW_NAME_EXISTS');
    s.release('A');
    s.rename('A', 'Z');
    expect(s.names()).toEqual(['Z', 'B']);
    expect(reason(() => s.reference('nope'))).toBe('NO_SET');
  });
});

describe('kube-proxy IPVS-mode sets (kube-proxy.md §6.2)', () => {
  it('KUBE-CLUSTER-IP dst,dst matches service VIP:port and protocol', () => {
    const s = new IpsetStore();
    s.create('KUBE-CLUSTER-IP', 'hash:ip,port');
    s.create('KUBE-IPVS-IPS', 'hash:ip');
    s.create('KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port');
    s.add('KUBE-CLUSTER-IP', '10.96.0.10,udp:53');
    s.add('KUBE-IPVS-IPS', '10.96.0.10');
    s.add('KUBE-NODE-PORT-SCTP-HASH', '192.168.1.10,sctp:30500');
    const w = new WorkCounts();
    const dns = new Packet(Protocol.UDP, ip('10.244.1.3'), 40000, ip('10.96.0.10'), 53);
    const dnsTcp = new Packet(Protocol.TCP, ip('10.244.1.3'), 40000, ip('10.96.0.10'), 53);
    expect(matchSet(s, m('KUBE-CLUSTER-IP', ['dst', 'dst']), dns, w)).toBe(true);
    expect(matchSet(s, m('KUBE-CLUSTER-IP', ['dst', 'dst']), dnsTcp, w)).toBe(false);
    expect(matchSet(s, m('KUBE-IPVS-IPS', ['dst']), dnsTcp, w)).toBe(true);
    const sctp = new Packet(Protocol.SCTP, ip('8.8.8.8'), 1, ip('192.168.1.10'), 30500);
    expect(matchSet(s, m('KUBE-NODE-PORT-SCTP-HASH', ['dst', 'dst']), sctp, w)).toBe(true);
  });
});

describe('property: add/del sequences agree with a plain Set', () => {
  proptest.prop([fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 })])(
    'hash:ip,port membership, errors and save contents',
    (ops) => {
      const s = new IpsetStore();
      s.create('S', 'hash:ip,port');
      const model = new Set<string>();
      const protos = ['tcp', 'udp', 'sctp', 'udplite'];
      for (const [isAdd, host, p] of ops) {
        const elem = `10.0.0.${host},${protos[p]!}:${host * 10 + p}`;
        if (isAdd) {
          const r = reason(() => s.add('S', elem));
          expect(r).toBe(model.has(elem) ? 'ELEM_EXISTS' : 'none');
          model.add(elem);
        } else {
          const r = reason(() => s.del('S', elem));
          expect(r).toBe(model.has(elem) ? 'none' : 'ELEM_MISSING');
          model.delete(elem);
        }
      }
      for (let host = 1; host <= 40; host++) {
        for (let p = 0; p < 4; p++) {
          const elem = `10.0.0.${host},${protos[p]!}:${host * 10 + p}`;
          expect(s.test('S', elem)).toBe(model.has(elem));
        }
      }
      const saved = s
        .save('S')
        .split('\n')
        .filter((l) => l.startsWith('add'))
        .map((l) => l.slice('add S '.length));
      expect(new Set(saved)).toEqual(model);
      expect(saved.length).toBe(model.size);
    },
  );

  proptest.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 24, max: 32 }), fc.boolean()), { maxLength: 40 }), fc.integer({ min: 0, max: 255 })])(
    'hash:net test equals a longest-prefix scan over the stored networks',
    (nets, probe) => {
      const s = new IpsetStore();
      s.create('N', 'hash:net');
      const stored = new Map<string, { net: number; cidr: number; nomatch: boolean }>();
      for (const [last, cidr, nomatch] of nets) {
        const mask = cidr === 32 ? 0xffffffff : (0xffffffff << (32 - cidr)) >>> 0;
        const net = (ipv4(10, 0, 0, last) & mask) >>> 0;
        s.add('N', { ip: net, cidr, proto: 0, port: 0, ip2: 0, cidr2: 32 }, { nomatch, exist: true });
        stored.set(`${net}/${cidr}`, { net, cidr, nomatch });
      }
      const addr = ipv4(10, 0, 0, probe);
      let best: { cidr: number; nomatch: boolean } | null = null;
      for (const e of stored.values()) {
        const mask = e.cidr === 32 ? 0xffffffff : (0xffffffff << (32 - e.cidr)) >>> 0;
        if (((addr & mask) >>> 0) === e.net && (best === null || e.cidr > best.cidr)) best = e;
      }
      const expected = best !== null && !best.nomatch;
      const pkt = new Packet(Protocol.TCP, addr, 1, 2, 3);
      expect(matchSet(s, m('N', ['src']), pkt, new WorkCounts())).toBe(expected);
    },
  );
});
