import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { IPS, TcpState, tcpTransition, TcpIndex } from '../../src/conntrack/constants.js';
import { ACK, C, FINACK, makeCt, only, left, RST, RSTACK, S, send, SYN, SYNACK, tcp } from './helpers.js';

/*
 * Expected states are read off the kernel's table, tcp_conntracks[2][6][10] of
 * torvalds/linux net/netfilter/nf_conntrack_proto_tcp.c (v6.17 / v7.0-rc):
 *
 *  ORIGINAL  sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
 *  syn       sSS  sSS  sIG  sIG  sIG  sIG  sIG  sSS  sSS  sS2
 *  synack    sIV  sIV  sSR  sIV  sIV  sIV  sIV  sIV  sIV  sSR
 *  fin       sIV  sIV  sFW  sFW  sLA  sLA  sLA  sTW  sCL  sIV
 *  ack       sES  sIV  sES  sES  sCW  sCW  sTW  sTW  sCL  sIV
 *  rst       sIV  sCL  sCL  sCL  sCL  sCL  sCL  sCL  sCL  sCL
 *  none      sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV
 *  REPLY
 *  syn       sIV  sS2  sIV  sIV  sIV  sIV  sIV  sSS  sIV  sS2
 *  synack    sIV  sSR  sIG  sIG  sIG  sIG  sIG  sIG  sIG  sSR
 *  fin       sIV  sIV  sFW  sFW  sLA  sLA  sLA  sTW  sCL  sIV
 *  ack       sIV  sIG  sSR  sES  sCW  sCW  sTW  sTW  sCL  sIG
 *  rst       sIV  sCL  sCL  sCL  sCL  sCL  sCL  sCL  sCL  sCL
 *  none      sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV  sIV
 *
 * Timeouts (tcp_timeouts[]): SYN_SENT 120 s, SYN_RECV 60, ESTABLISHED 432000,
 * FIN_WAIT 120, CLOSE_WAIT 60, LAST_ACK 30, TIME_WAIT 120, CLOSE 10,
 * UNACK 300. A RST always takes the CLOSE timeout.
 */

const O = 0;
const R = 1;
const { NONE, SYN_SENT: SS, SYN_RECV: SR, ESTABLISHED: ES, FIN_WAIT: FW, CLOSE_WAIT: CW, LAST_ACK: LA, TIME_WAIT: TW, CLOSE: CL, SYN_SENT2: S2, MAX: IV, IGNORE: IG } =
  TcpState;

describe('tcp_conntracks cells', () => {
  it.each([
    // [dir, index, old, new] with the kernel comment that documents the cell
    [O, TcpIndex.SYN, NONE, SS], // sNO -> sSS Initialize a new connection
    [O, TcpIndex.SYN, TW, SS], // sTW -> sSS Reopened connection (RFC 1122)
    [O, TcpIndex.SYN, S2, S2], // sS2 -> sS2 Late retransmitted SYN
    [O, TcpIndex.SYN, ES, IG], // sES -> sIG
    [O, TcpIndex.SYNACK, SR, SR], // sSR -> sSR Late retransmitted SYN/ACK in simultaneous open
    [O, TcpIndex.SYNACK, ES, IV], // sES -> sIV Invalid SYN/ACK packets sent by the client
    [O, TcpIndex.FIN, SS, IV], // sSS -> sIV we enforce waiting for a SYN/ACK reply first
    [O, TcpIndex.ACK, NONE, ES], // sNO -> sES Assumed
    [O, TcpIndex.ACK, SS, IV], // sSS -> sIV we haven't seen a SYN/ACK yet
    [O, TcpIndex.ACK, LA, TW], // sLA -> sTW Last ACK detected
    [O, TcpIndex.RST, NONE, IV],
    [O, TcpIndex.NONE, ES, IV],
    [R, TcpIndex.SYN, SS, S2], // sSS -> sS2 Simultaneous open
    [R, TcpIndex.SYN, TW, SS], // sTW -> sSS Reopened connection, server may have switched role
    [R, TcpIndex.SYN, NONE, IV], // sNO -> sIV Never reached
    [R, TcpIndex.SYNACK, SS, SR], // sSS -> sSR Standard open
    [R, TcpIndex.SYNACK, ES, IG], // sES -> sIG Late retransmitted SYN/ACK?
    [R, TcpIndex.ACK, SS, IG], // sSS -> sIG Might be a half-open connection
    [R, TcpIndex.ACK, SR, SR], // sSR -> sSR Might answer late resent SYN
    [R, TcpIndex.FIN, CW, LA], // sCW -> sLA
    [R, TcpIndex.RST, CL, CL],
  ])('dir %i index %i: %i -> %i', (dir, index, old, next) => {
    expect(tcpTransition(dir, index, old)).toBe(next);
  });
});

describe('TCP tracking', () => {
  it('3-way handshake: NEW SYN_SENT, SYN_RECV, then ESTABLISHED and ASSURED on the last ACK', () => {
    const { ct, clock } = makeCt();
    // SYN (orig): sNO -> sSS, ctinfo NEW, 120 s.
    let lk = send(ct, tcp(C, 40000, S, 80, SYN));
    expect(lk.ctinfo).toBe('NEW');
    const e = only(ct);
    expect(e.tcpState).toBe(SS);
    expect(left(ct, e)).toBe(120_000);
    expect(e.status & IPS.SEEN_REPLY).toBe(0);
    clock.advance(10);
    // SYN/ACK (reply): sSS -> sSR, ESTABLISHED (reply direction), 60 s; SEEN_REPLY after.
    lk = send(ct, tcp(S, 80, C, 40000, SYNACK));
    expect([lk.ctinfo, lk.dir]).toEqual(['ESTABLISHED', 'reply']);
    expect(e.tcpState).toBe(SR);
    expect(left(ct, e)).toBe(60_000);
    expect(e.status & IPS.SEEN_REPLY).not.toBe(0);
    expect(e.assured).toBe(false);
    clock.advance(10);
    // ACK (orig): sSR -> sES; SEEN_REPLY set, old SYN_RECV -> ASSURED; 432000 s.
    lk = send(ct, tcp(C, 40000, S, 80, ACK));
    expect([lk.ctinfo, lk.dir]).toEqual(['ESTABLISHED', 'original']);
    expect(e.tcpState).toBe(ES);
    expect(e.assured).toBe(true);
    expect(left(ct, e)).toBe(432_000_000);
    expect(ct.count).toBe(1);
    expect([e.packetsOriginal, e.packetsReply, e.bytesOriginal]).toEqual([2, 1, 120]);
  });

  it('active close from the client: FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT with their timeouts', () => {
    const { ct, clock } = makeCt();
    handshake(ct);
    const e = only(ct);
    send(ct, tcp(C, 40000, S, 80, FINACK)); // orig fin: sES -> sFW
    expect([e.tcpState, left(ct, e)]).toEqual([FW, 120_000]);
    send(ct, tcp(S, 80, C, 40000, ACK)); // reply ack: sFW -> sCW
    expect([e.tcpState, left(ct, e)]).toEqual([CW, 60_000]);
    send(ct, tcp(S, 80, C, 40000, FINACK)); // reply fin: sCW -> sLA
    expect([e.tcpState, left(ct, e)]).toEqual([LA, 30_000]);
    send(ct, tcp(C, 40000, S, 80, ACK)); // orig ack: sLA -> sTW
    expect([e.tcpState, left(ct, e)]).toEqual([TW, 120_000]);
    expect(ct.formatEntry(e)).toBe(
      'ipv4     2 tcp      6 120 TIME_WAIT src=10.0.0.1 dst=10.1.0.1 sport=40000 dport=80 ' +
        'src=10.1.0.1 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 zone=0 use=2',
    );
    clock.advance(119_999);
    expect(ct.count).toBe(1);
    clock.advance(1);
    expect(ct.count).toBe(0);
    expect(e.dying).toBe(true);
  });

  it('simultaneous close: FIN both ways then the last ACK', () => {
    const { ct } = makeCt();
    handshake(ct);
    const e = only(ct);
    send(ct, tcp(C, 40000, S, 80, FINACK)); // orig fin: sES -> sFW
    send(ct, tcp(S, 80, C, 40000, FINACK)); // reply fin: sFW -> sLA
    expect(e.tcpState).toBe(LA);
    send(ct, tcp(C, 40000, S, 80, ACK)); // orig ack: sLA -> sTW
    expect(e.tcpState).toBe(TW);
  });

  it('a SYN in TIME_WAIT after a FIN reopens: the old entry dies and a NEW one starts', () => {
    const { ct } = makeCt();
    handshake(ct);
    const old = only(ct);
    send(ct, tcp(C, 40000, S, 80, FINACK));
    send(ct, tcp(S, 80, C, 40000, FINACK));
    send(ct, tcp(C, 40000, S, 80, ACK));
    expect(old.tcpState).toBe(TW);
    // orig syn: sTW -> sSS with CLOSE_INIT set -> nf_ct_kill, -NF_REPEAT, tracked again.
    const lk = send(ct, tcp(C, 40000, S, 80, SYN));
    expect(lk.ctinfo).toBe('NEW');
    expect(old.dying).toBe(true);
    const e = only(ct);
    expect(e).not.toBe(old);
    expect([e.tcpState, e.assured, ct.count]).toEqual([SS, false, 1]);
  });

  it('RST moves an established connection to CLOSE with the 10 s timeout', () => {
    const { ct, clock } = makeCt();
    handshake(ct);
    const e = only(ct);
    send(ct, tcp(S, 80, C, 40000, RSTACK)); // reply rst: sES -> sCL
    expect([e.tcpState, left(ct, e)]).toEqual([CL, 10_000]);
    clock.advance(10_000);
    expect(ct.count).toBe(0);
  });

  it('a RST answering the SYN (no reply seen before) deletes the entry at once', () => {
    const { ct } = makeCt();
    send(ct, tcp(C, 40000, S, 80, SYN));
    const e = only(ct);
    const lk = send(ct, tcp(S, 80, C, 40000, RSTACK)); // reply rst: sSS -> sCL, !SEEN_REPLY -> kill
    expect(lk.ctinfo).toBe('ESTABLISHED');
    expect(e.dying).toBe(true);
    expect(ct.count).toBe(0);
  });

  it('SYN retransmit keeps SYN_SENT and does not renew the timeout', () => {
    const { ct, clock } = makeCt();
    send(ct, tcp(C, 40000, S, 80, SYN));
    const e = only(ct);
    clock.advance(60_000);
    const lk = send(ct, tcp(C, 40000, S, 80, SYN)); // orig syn: sSS -> sSS, returns before the refresh
    expect(lk.ctinfo).toBe('NEW');
    expect([e.tcpState, left(ct, e), e.packetsOriginal]).toEqual([SS, 60_000, 1]);
    clock.advance(60_000);
    expect(ct.count).toBe(0);
  });

  it('simultaneous open: SYN both ways, SYN/ACK, then the reply ACK reaches ESTABLISHED', () => {
    const { ct } = makeCt();
    send(ct, tcp(C, 40000, S, 80, SYN)); // orig syn: sNO -> sSS
    const e = only(ct);
    send(ct, tcp(S, 80, C, 40000, SYN)); // reply syn: sSS -> sS2, SIMULTANEOUS_OPEN (timeout not renewed)
    expect([e.tcpState, left(ct, e)]).toEqual([S2, 120_000]);
    send(ct, tcp(C, 40000, S, 80, SYNACK)); // orig synack: sS2 -> sSR
    expect(e.tcpState).toBe(SR);
    send(ct, tcp(S, 80, C, 40000, ACK)); // reply ack: sSR -> sSR, but simultaneous open -> sES
    expect([e.tcpState, e.assured]).toEqual([ES, true]);
  });

  it('packets the table marks sIV are INVALID and leave the entry alone', () => {
    const { ct } = makeCt();
    send(ct, tcp(C, 40000, S, 80, SYN));
    const e = only(ct);
    const lk = ct.conntrackIn(tcp(C, 40000, S, 80, ACK), new WorkCounts()); // orig ack: sSS -> sIV
    expect([lk.ctinfo, lk.entry]).toEqual(['INVALID', null]);
    expect([e.tcpState, e.packetsOriginal, ct.count]).toEqual([SS, 1, 1]);
  });

  it('ignored packets (sIG) pass with the entry but change nothing', () => {
    const { ct, clock } = makeCt();
    handshake(ct);
    const e = only(ct);
    clock.advance(1000);
    const before = e.timeout;
    const lk = send(ct, tcp(S, 80, C, 40000, SYNACK)); // reply synack: sES -> sIG
    expect([lk.ctinfo, lk.entry]).toEqual(['ESTABLISHED', e]);
    expect([e.tcpState, e.timeout, e.packetsReply]).toEqual([ES, before, 1]);
  });

  it('a SYN/ACK answering an ignored SYN resynchronises to SYN_RECV', () => {
    const { ct } = makeCt();
    handshake(ct);
    const e = only(ct);
    send(ct, tcp(C, 40000, S, 80, SYN)); // orig syn: sES -> sIG, remembered
    expect(e.tcpState).toBe(ES);
    send(ct, tcp(S, 80, C, 40000, SYNACK)); // reply synack: sES -> sIG, but answers the SYN -> sSR
    expect([e.tcpState, left(ct, e)]).toEqual([SR, 60_000]);
    send(ct, tcp(C, 40000, S, 80, ACK)); // orig ack: sSR -> sES
    expect(e.tcpState).toBe(ES);
  });

  it('first packets: only a SYN, or with nf_conntrack_tcp_loose a plain ACK, create entries', () => {
    const { ct } = makeCt();
    const w = new WorkCounts();
    for (const flags of [SYNACK, FINACK, RST, RSTACK, 0, 0x01 /* FIN */, SYN | 0x01 /* SYN+FIN */]) {
      const lk = ct.conntrackIn(tcp(C, 1000 + flags, S, 80, flags), w);
      expect([flags, lk.ctinfo, lk.entry]).toEqual([flags, 'INVALID', null]);
    }
    ct.release();
    expect(ct.count).toBe(0);
    // Mid-stream pickup: orig ack sNO -> sES, no reply yet -> UNACK timeout (300 s), not assured.
    send(ct, tcp(C, 40000, S, 80, ACK | 0x08 /* PSH */));
    const e = only(ct);
    expect([e.tcpState, left(ct, e), e.assured]).toEqual([ES, 300_000, false]);
    send(ct, tcp(S, 80, C, 40000, ACK)); // reply ack: sES -> sES, SEEN_REPLY still unset inside -> 300 s
    expect(left(ct, e)).toBe(300_000);
    send(ct, tcp(C, 40000, S, 80, ACK)); // now SEEN_REPLY, old ES new ES -> ASSURED, 5 days
    expect([e.assured, left(ct, e)]).toEqual([true, 432_000_000]);

    const { ct: strict } = makeCt({ tcpLoose: false });
    const lk = strict.conntrackIn(tcp(C, 40000, S, 80, ACK), w);
    expect(lk.ctinfo).toBe('INVALID');
    strict.release();
    expect(strict.count).toBe(0);
  });

  it('custom timeouts come from the sysctls; SYN_SENT2 has none and stays at 120 s', () => {
    const { ct } = makeCt({ timeouts: { tcpEstablished: 3600, tcpSynSent: 5 } });
    send(ct, tcp(C, 40000, S, 80, SYN));
    const e = only(ct);
    expect(left(ct, e)).toBe(5_000);
    send(ct, tcp(S, 80, C, 40000, SYNACK));
    send(ct, tcp(C, 40000, S, 80, ACK));
    expect(left(ct, e)).toBe(3_600_000);
    send(ct, tcp(C, 40001, S, 80, SYN));
    // reply syn: sSS -> sS2. SEEN_REPLY is not set yet inside the handler and this is
    // "index SYN, old SYN_SENT": the timeout is not renewed (still the 5 s of SYN_SENT).
    send(ct, tcp(S, 80, C, 40001, SYN));
    const f = [...ct.entries()].find((x) => x.original.sport === 40001)!;
    expect([f.tcpState, left(ct, f)]).toEqual([S2, 5_000]);
    send(ct, tcp(C, 40001, S, 80, SYN)); // orig syn: sS2 -> sS2, refreshed to tcp_timeouts[SYN_SENT2]
    expect([f.tcpState, left(ct, f)]).toEqual([S2, 120_000]);
  });

  it('an RFC 5961 challenge ACK to a SYN seen in LAST_ACK does not count as the last ACK', () => {
    const { ct } = makeCt();
    handshake(ct);
    const e = only(ct);
    send(ct, tcp(S, 80, C, 40000, FINACK)); // reply fin: sES -> sFW
    send(ct, tcp(C, 40000, S, 80, FINACK)); // orig fin: sFW -> sLA
    expect(e.tcpState).toBe(LA);
    send(ct, tcp(C, 40000, S, 80, SYN)); // orig syn: sLA -> sIG, expect a challenge ACK
    expect(e.tcpState).toBe(LA);
    send(ct, tcp(S, 80, C, 40000, ACK)); // reply ack: sLA -> sTW, but it is the challenge ACK
    expect(e.tcpState).toBe(LA);
    send(ct, tcp(S, 80, C, 40000, ACK)); // the real last ACK
    expect(e.tcpState).toBe(TW);
  });

  it('counts one bucket probe and the chain walk on an established hit', () => {
    const { ct } = makeCt();
    handshake(ct);
    const w = new WorkCounts();
    ct.conntrackIn(tcp(C, 40000, S, 80, ACK), w);
    expect(w.hashProbes).toBe(1);
    expect(w.chainSteps).toBeGreaterThanOrEqual(1);
  });
});

function handshake(ct: ReturnType<typeof makeCt>['ct']): void {
  send(ct, tcp(C, 40000, S, 80, SYN));
  send(ct, tcp(S, 80, C, 40000, SYNACK));
  send(ct, tcp(C, 40000, S, 80, ACK));
}
