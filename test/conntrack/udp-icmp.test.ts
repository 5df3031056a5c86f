import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { IPS } from '../../src/conntrack/constants.js';
import { Packet } from '../../src/net/packet.js';
import { C, icmp, left, makeCt, only, S, send, udp } from './helpers.js';

/*
 * nf_conntrack_udp_packet (torvalds/linux net/netfilter/nf_conntrack_proto_udp.c):
 * - unconfirmed entry: stream_ts = now + 2 s;
 * - no reply seen yet (SEEN_REPLY is set by nf_conntrack_in only after the
 *   handler, so the first reply still counts as "not seen"): timeout 30 s;
 * - reply seen: 30 s, or, once time_after(now, stream_ts), the stream timeout
 *   (120 s) and ASSURED.
 */
describe('UDP', () => {
  it('first packet NEW and UNREPLIED with 30 s; expires after 30 s', () => {
    const { ct, clock } = makeCt();
    const lk = send(ct, udp(C, 5000, S, 53));
    expect(lk.ctinfo).toBe('NEW');
    const e = only(ct);
    expect(left(ct, e)).toBe(30_000);
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 udp      17 30 src=10.0.0.1 dst=10.1.0.1 sport=5000 dport=53 [UNREPLIED] ' +
        'src=10.1.0.1 dst=10.0.0.1 sport=53 dport=5000 mark=0 zone=0 use=2',
    );
    expect(ct.formatConntrackL(e)).toBe(
      'udp      17 30 src=10.0.0.1 dst=10.1.0.1 sport=5000 dport=53 [UNREPLIED] ' +
        'src=10.1.0.1 dst=10.0.0.1 sport=53 dport=5000 mark=0 use=1',
    );
    clock.advance(29_999);
    expect(ct.count).toBe(1);
    clock.advance(1);
    expect(ct.count).toBe(0);
  });

  it('reply within 2 s: ESTABLISHED but 30 s and not assured; traffic after 2 s: 120 s and ASSURED', () => {
    const { ct, clock } = makeCt();
    send(ct, udp(C, 5000, S, 53)); // t=0, stream_ts = 2000
    const e = only(ct);
    clock.advance(100);
    const lk = send(ct, udp(S, 53, C, 5000));
    expect([lk.ctinfo, lk.dir]).toEqual(['ESTABLISHED', 'reply']);
    expect(e.status & IPS.SEEN_REPLY).not.toBe(0);
    expect([left(ct, e), e.assured]).toEqual([30_000, false]);
    clock.advance(1900); // t=2000: time_after(2000, 2000) is false
    send(ct, udp(C, 5000, S, 53));
    expect([left(ct, e), e.assured]).toEqual([30_000, false]);
    clock.advance(1); // t=2001
    send(ct, udp(C, 5000, S, 53));
    expect([left(ct, e), e.assured]).toEqual([120_000, true]);
    expect([e.packetsOriginal, e.packetsReply, e.bytesOriginal]).toEqual([3, 1, 300]);
  });

  it('a first reply after 2 s still gets 30 s (SEEN_REPLY is set after the handler); the next packet makes it a stream', () => {
    const { ct, clock } = makeCt();
    send(ct, udp(C, 5000, S, 53));
    const e = only(ct);
    clock.advance(5000);
    send(ct, udp(S, 53, C, 5000));
    expect([left(ct, e), e.assured]).toEqual([30_000, false]);
    send(ct, udp(S, 53, C, 5000));
    expect([left(ct, e), e.assured]).toEqual([120_000, true]);
  });

  it('stream timeout sysctl', () => {
    const { ct, clock } = makeCt({ timeouts: { udp: 10, udpStream: 180 } });
    send(ct, udp(C, 5000, S, 53));
    const e = only(ct);
    expect(left(ct, e)).toBe(10_000);
    send(ct, udp(S, 53, C, 5000));
    clock.advance(3000);
    send(ct, udp(C, 5000, S, 53));
    expect(left(ct, e)).toBe(180_000);
  });
});

/*
 * nf_conntrack_proto_icmp.c: the tuple is (id, type, code); the reply tuple
 * maps the type through invmap[] (echo 8 <-> echo reply 0, 13 <-> 14,
 * 15 <-> 16, 17 <-> 18). Only query types (valid_new: 8, 13, 15, 17) may
 * create an entry; timeout 30 s.
 */
describe('ICMP', () => {
  it('echo request / reply', () => {
    const { ct } = makeCt();
    const req = icmp(C, S, 8);
    (req as Packet & { icmpId: number }).icmpId = 77;
    expect(send(ct, req).ctinfo).toBe('NEW');
    const e = only(ct);
    expect([e.reply.src, e.reply.dst, e.reply.dport >>> 8, e.reply.sport]).toEqual([S, C, 0, 77]);
    const rep = icmp(S, C, 0);
    (rep as Packet & { icmpId: number }).icmpId = 77;
    const lk = send(ct, rep);
    expect([lk.ctinfo, lk.dir, left(ct, e)]).toEqual(['ESTABLISHED', 'reply', 30_000]);
    expect(e.assured).toBe(false);
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 icmp     1 30 src=10.0.0.1 dst=10.1.0.1 type=8 code=0 id=77 ' +
        'src=10.1.0.1 dst=10.0.0.1 type=0 code=0 id=77 mark=0 zone=0 use=2',
    );
  });

  it('an echo reply without a request is allocated, then refused and freed', () => {
    const { ct } = makeCt();
    const lk = ct.conntrackIn(icmp(S, C, 0), new WorkCounts());
    expect([lk.ctinfo, lk.entry, ct.count]).toEqual(['INVALID', null, 0]);
  });

  it('types without a reply type and error types get no entry', () => {
    const { ct } = makeCt();
    for (const type of [9, 10, 3, 11, 40]) {
      const lk = ct.conntrackIn(icmp(C, S, type), new WorkCounts());
      expect([type, lk.ctinfo, ct.count]).toEqual([type, 'INVALID', 0]);
    }
  });

  it('an ICMP error quoting a tracked packet is RELATED', () => {
    const { ct } = makeCt();
    send(ct, udp(C, 5000, S, 53));
    const e = only(ct);
    // S answers port unreachable; the quoted packet is C:5000 -> S:53 as sent.
    // nf_conntrack_inet_error looks up the inverted inner tuple S:53 -> C:5000,
    // the entry's reply tuple: RELATED in the reply direction ("case 1" of the
    // kernel comment), and the outer destination C is that tuple's destination.
    const outer = icmp(S, C, 3, 3);
    const lk = ct.resolveRelated(outer, udp(C, 5000, S, 53), new WorkCounts());
    expect([lk.ctinfo, lk.entry, lk.dir]).toEqual(['RELATED', e, 'reply']);
    // wrong outer destination: INVALID
    const bad = ct.resolveRelated(icmp(S, S, 3, 3), udp(C, 5000, S, 53), new WorkCounts());
    expect(bad.ctinfo).toBe('INVALID');
  });
});

describe('generic protocols', () => {
  it('ESP (no tracker of its own) uses the generic one: no ports, 600 s, printed as "unknown"', () => {
    const { ct } = makeCt();
    const p = new Packet(50, C, 1234, S, 5678, 0, 100);
    send(ct, p);
    const e = only(ct);
    expect([e.original.sport, e.original.dport, left(ct, e)]).toEqual([0, 0, 600_000]);
    expect(send(ct, new Packet(50, S, 0, C, 0, 0, 100)).dir).toBe('reply');
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 unknown  50 600 src=10.0.0.1 dst=10.1.0.1 src=10.1.0.1 dst=10.0.0.1 mark=0 zone=0 use=2',
    );
  });
});
