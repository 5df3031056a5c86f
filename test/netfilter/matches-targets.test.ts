// One behaviour test per match module and per target, each written from the
// kernel module it mirrors (cited per case).
import { describe, expect, it } from 'vitest';
import { Decision } from '../../src/classify/decision.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import type { MatchSpec, RuleSpec, TargetSpec } from '../../src/netfilter/ast.js';
import { AddrTypeBit, CtStateBit } from '../../src/netfilter/ast.js';
import { Netfilter } from '../../src/netfilter/engine.js';
import { append, block, dst, rule, verdict } from './builders.js';

const ip = parseIPv4;
const HOST = { interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }, { name: 'docker0', addresses: ['172.17.0.1/16'] }] };

/** A forwarded packet from 10.0.0.9 (eth0) to 192.168.1.1, by default TCP SYN 40000 → 80. */
function pkt(over: Partial<Pick<Packet, 'proto' | 'saddr' | 'sport' | 'daddr' | 'dport' | 'flags' | 'mark' | 'ifindex'>> = {}): Packet {
  const p = new Packet(Protocol.TCP, ip('10.0.0.9'), 40000, ip('192.168.1.1'), 80, TcpFlag.SYN, 100);
  p.ifindex = 2;
  Object.assign(p, over);
  return p;
}

/** Whether a FORWARD rule `matches` DROPs the packet. */
function drops(m: MatchSpec | MatchSpec[], p: Packet, generic: Partial<RuleSpec> = {}): boolean {
  const nf = new Netfilter({ seed: 1, host: HOST });
  nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ ...generic, matches: Array.isArray(m) ? m : [m] }, verdict('DROP')))]));
  return nf.classify(p, new Decision()).verdict === 'dropped';
}

describe('matches', () => {
  it('tcp --sport/--dport ranges and ! (xt_tcpudp.c port_match)', () => {
    expect(drops({ module: 'tcp', dport: { min: 70, max: 90, invert: false } }, pkt())).toBe(true);
    expect(drops({ module: 'tcp', dport: { min: 70, max: 90, invert: true } }, pkt())).toBe(false);
    expect(drops({ module: 'tcp', sport: { min: 40000, max: 40000, invert: false } }, pkt())).toBe(true);
    expect(drops({ module: 'tcp', dport: { min: 80, max: 80, invert: false } }, pkt({ proto: Protocol.UDP }))).toBe(false);
  });

  it('tcp --tcp-flags mask comp (--syn = SYN,RST,ACK,FIN SYN)', () => {
    const syn: MatchSpec = { module: 'tcp', tcpFlags: { mask: TcpFlag.SYN | TcpFlag.RST | TcpFlag.ACK | TcpFlag.FIN, comp: TcpFlag.SYN, invert: false } };
    expect(drops(syn, pkt())).toBe(true);
    expect(drops(syn, pkt({ flags: TcpFlag.SYN | TcpFlag.ACK }))).toBe(false);
  });

  it('udp and sctp ports', () => {
    expect(drops({ module: 'udp', dport: { min: 53, max: 53, invert: false } }, pkt({ proto: Protocol.UDP, dport: 53, flags: 0 }))).toBe(true);
    expect(drops({ module: 'sctp', dport: { min: 36412, max: 36412, invert: false } }, pkt({ proto: Protocol.SCTP, dport: 36412 }))).toBe(true);
  });

  it('icmp --icmp-type type/code (type in dport, code in sport)', () => {
    const echo: MatchSpec = { module: 'icmp', type: 8, codeMin: 0, codeMax: 0xff, invert: false };
    expect(drops(echo, pkt({ proto: Protocol.ICMP, dport: 8, sport: 0, flags: 0 }))).toBe(true);
    expect(drops(echo, pkt({ proto: Protocol.ICMP, dport: 0, sport: 0, flags: 0 }))).toBe(false);
    expect(drops({ ...echo, type: 0xff }, pkt({ proto: Protocol.ICMP, dport: 3, sport: 1, flags: 0 }))).toBe(true);
  });

  it('multiport --dports/--sports/--ports with ranges and ! (xt_multiport.c)', () => {
    const web: MatchSpec = { module: 'multiport', kind: 'dports', ports: [{ min: 80, max: 80 }, { min: 8000, max: 8100 }], invert: false };
    expect(drops(web, pkt())).toBe(true);
    expect(drops(web, pkt({ dport: 8050 }))).toBe(true);
    expect(drops(web, pkt({ dport: 443 }))).toBe(false);
    expect(drops({ ...web, invert: true }, pkt({ dport: 443 }))).toBe(true);
    expect(drops({ ...web, kind: 'ports' }, pkt({ sport: 80, dport: 1 }))).toBe(true);
  });

  it('comment always matches; nfacct counts', () => {
    expect(drops({ module: 'comment', comment: 'x' }, pkt())).toBe(true);
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ matches: [{ module: 'nfacct', name: 'acct1' }] }, null))]));
    nf.classify(pkt(), new Decision());
    nf.classify(pkt(), new Decision());
    expect(nf.stateful.nfacct.get('acct1')).toEqual({ packets: 2, bytes: 200 });
  });

  it('mark value/mask and ! (xt_mark.c)', () => {
    expect(drops({ module: 'mark', value: 0x4000, mask: 0x4000, invert: false }, pkt({ mark: 0x4001 }))).toBe(true);
    expect(drops({ module: 'mark', value: 0x4000, mask: 0x4000, invert: true }, pkt({ mark: 0x4001 }))).toBe(false);
  });

  it('addrtype --dst-type LOCAL and --src-type (xt_addrtype.c, from the host addresses)', () => {
    const local: MatchSpec = { module: 'addrtype', dstType: { types: AddrTypeBit.LOCAL, invert: false }, limitIfaceIn: false, limitIfaceOut: false };
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(block('filter', [], [append('INPUT', rule({ matches: [local] }, verdict('DROP')))]));
    expect(nf.classify(pkt({ daddr: ip('172.17.0.1') }), new Decision()).verdict).toBe('dropped');
    const notLocal: MatchSpec = { ...local, dstType: { types: AddrTypeBit.LOCAL, invert: true } };
    expect(drops(notLocal, pkt())).toBe(true);
    const bcast: MatchSpec = { module: 'addrtype', dstType: { types: AddrTypeBit.BROADCAST | AddrTypeBit.MULTICAST, invert: false }, limitIfaceIn: false, limitIfaceOut: false };
    expect(drops(bcast, pkt({ daddr: ip('224.0.0.5') }))).toBe(true);
  });

  it('state and conntrack --ctstate, --ctproto, --ctorigdst, --ctdir', () => {
    expect(drops({ module: 'state', states: CtStateBit.NEW, invert: false }, pkt())).toBe(true);
    expect(drops({ module: 'state', states: CtStateBit.ESTABLISHED, invert: false }, pkt())).toBe(false);
    expect(drops({ module: 'conntrack', ctproto: { proto: Protocol.TCP, invert: false } }, pkt())).toBe(true);
    expect(drops({ module: 'conntrack', ctorigdst: { ...dst('192.168.0.0/16') } }, pkt())).toBe(true);
    expect(drops({ module: 'conntrack', ctdir: 'REPLY' }, pkt())).toBe(false);
    expect(drops({ module: 'conntrack', ctdir: 'ORIGINAL' }, pkt())).toBe(true);
  });

  it('limit: a burst of 3 at 1/second lets 3 packets through at once, then 1 per second (xt_limit.c)', () => {
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(
      block('filter', [['FORWARD', 'DROP']], [append('FORWARD', rule({ matches: [{ module: 'limit', count: 1, unit: 'second', burst: 3 }] }, verdict('ACCEPT')))]),
    );
    const d = new Decision();
    const pass = (): boolean => nf.classify(pkt(), d).verdict === 'forwarded';
    expect([pass(), pass(), pass(), pass()]).toEqual([true, true, true, false]);
    nf.clock.advance(1000);
    expect([pass(), pass()]).toEqual([true, false]);
  });

  it('generic -s/-d/-p/-i/-o with ! and + (ip_packet_match)', () => {
    expect(drops([], pkt(), { src: dst('10.0.0.0/24') })).toBe(true);
    expect(drops([], pkt(), { src: dst('10.0.0.0/24', true) })).toBe(false);
    expect(drops([], pkt(), { proto: { proto: Protocol.UDP, invert: true } })).toBe(true);
    expect(drops([], pkt(), { inIface: { name: 'eth+', invert: false } })).toBe(true);
    expect(drops([], pkt(), { outIface: { name: 'docker0', invert: true } })).toBe(true);
    expect(drops([], pkt({ daddr: ip('172.17.0.5') }), { outIface: { name: 'docker0', invert: false } })).toBe(true);
    expect(drops([], pkt(), { fragment: { invert: false } })).toBe(false);
  });
});

describe('targets', () => {
  function natNode(target: TargetSpec, chain: 'PREROUTING' | 'POSTROUTING' | 'OUTPUT', generic: Partial<RuleSpec> = {}): Netfilter {
    const nf = new Netfilter({ seed: 3, host: HOST });
    nf.ruleset.restore(block('nat', [], [append(chain, rule({ ...generic, matches: [] }, target))]));
    return nf;
  }

  it('SNAT rewrites the source of the first packet and of the connection', () => {
    const nf = natNode({ kind: 'SNAT', range: { minAddr: ip('10.0.0.1'), maxAddr: ip('10.0.0.1'), hasPorts: false, minPort: 0, maxPort: 0 }, random: false, randomFully: false, persistent: false }, 'POSTROUTING');
    const d = nf.classify(pkt(), new Decision());
    expect(d.saddr).toBe(ip('10.0.0.1'));
    expect(d.sport).toBe(40000); // the port is kept while the tuple stays unique
    const r = new Packet(Protocol.TCP, ip('192.168.1.1'), 80, ip('10.0.0.1'), 40000, TcpFlag.SYN | TcpFlag.ACK, 60);
    r.ifindex = 2;
    const back = nf.classify(r, new Decision());
    expect(back.daddr).toBe(ip('10.0.0.9'));
  });

  it('MASQUERADE uses the out interface address (docker0 here)', () => {
    const nf = natNode({ kind: 'MASQUERADE', ports: null, random: false, randomFully: false }, 'POSTROUTING');
    expect(nf.classify(pkt({ daddr: ip('172.17.0.5') }), new Decision()).saddr).toBe(ip('172.17.0.1'));
  });

  it('REDIRECT sends to the incoming interface address; DNAT port ranges', () => {
    const nf = natNode({ kind: 'REDIRECT', ports: { min: 3128, max: 3128 }, random: false }, 'PREROUTING');
    const d = nf.classify(pkt(), new Decision());
    expect([d.verdict, d.daddr, d.dport]).toEqual(['accepted', ip('10.0.0.1'), 3128]);
  });

  it('MARK forms as xmark, then CONNMARK save/restore carry it on the connection (xt_connmark.c)', () => {
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(
      block('mangle', [], [
        // the usual pattern: restore the connection's mark, mark new connections, save it back
        append('PREROUTING', rule({}, { kind: 'CONNMARK', mode: 'restore', value: 0, mask: 0, nfmask: 0xff, ctmask: 0xff })),
        append('PREROUTING', rule({ matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.NEW, invert: false } }] }, { kind: 'MARK', value: 0x7, mask: 0xff })),
        append('PREROUTING', rule({}, { kind: 'CONNMARK', mode: 'save', value: 0, mask: 0, nfmask: 0xff, ctmask: 0xff })),
      ]),
    );
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ matches: [{ module: 'mark', value: 0x7, mask: 0xff, invert: false }] }, { kind: 'LOG', prefix: 'marked ', level: 4, flags: 0 }))]));
    const p = pkt();
    nf.classify(p, new Decision());
    const r = new Packet(Protocol.TCP, ip('192.168.1.1'), 80, ip('10.0.0.9'), 40000, TcpFlag.SYN | TcpFlag.ACK, 60);
    r.ifindex = 2;
    nf.classify(r, new Decision()); // not NEW: the mark comes back from the connection
    expect(nf.log.map((l) => l.prefix)).toEqual(['marked ', 'marked ']);
  });

  it('LOG does not end the walk; REJECT ends it as rejected; RETURN at top level applies the policy', () => {
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(
      block('filter', [['FORWARD', 'DROP']], [
        append('FORWARD', rule({}, { kind: 'LOG', prefix: 'a', level: 4, flags: 0 })),
        append('FORWARD', rule({ proto: { proto: Protocol.UDP, invert: false } }, { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' })),
        append('FORWARD', rule({}, verdict('RETURN'))),
      ]),
    );
    expect(nf.classify(pkt(), new Decision()).reason).toBe('policy');
    expect(nf.classify(pkt({ proto: Protocol.UDP, flags: 0 }), new Decision()).verdict).toBe('rejected');
    expect(nf.log).toHaveLength(2);
  });

  it('CT --notrack behaves like NOTRACK', () => {
    const nf = new Netfilter({ host: HOST });
    nf.ruleset.restore(block('raw', [], [append('PREROUTING', rule({}, { kind: 'CT', notrack: true, zone: null }))]));
    nf.ruleset.restore(block('filter', [], [append('FORWARD', rule({ matches: [{ module: 'state', states: CtStateBit.UNTRACKED, invert: false }] }, verdict('DROP')))]));
    expect(nf.classify(pkt(), new Decision()).verdict).toBe('dropped');
  });
});
