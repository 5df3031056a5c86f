// Behaviour of the IPVS engine against the kernel rules in
// ../shared/reference/ipvs.md and torvalds/linux net/netfilter/ipvs/
// (ip_vs_core.c, ip_vs_conn.c, ip_vs_ctl.c, ip_vs_proto_tcp.c).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OperationError } from '../../src/errors.js';
import { ConnFlag } from '../../src/ipvs/conn.js';
import { ForwardMethod, ServiceFlag } from '../../src/ipvs/flags.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { ServiceTable } from '../../src/ipvs/service-table.js';
import { readRates } from '../../src/ipvs/stats.js';
import { TcpState } from '../../src/ipvs/tcp-state.js';
import { Protocol } from '../../src/net/protocol.js';
import { ACK, Driver, FIN, ip, last, RST, SYN, TCP80, UDP53, VIP } from './helpers.js';

function threeDests(drv: Driver, fwd: ForwardMethod = ForwardMethod.MASQ, sched = 'rr'): void {
  drv.ipvs.addService(TCP80, { scheduler: sched });
  for (const a of ['10.1.0.11', '10.1.0.12', '10.1.0.13']) drv.ipvs.addDest(TCP80, ip(a), 8080, { fwd });
}

describe('service table', () => {
  it('hashes like ip_vs_svc_hashkey: (proto ^ addr ^ (port >> 8) ^ port) & 255', () => {
    // 6 ^ 0x0a000001 ^ (80 >> 8) ^ 80 = 6 ^ 1 ^ 0 ^ 0x50 (low byte of addr is 0x01) → 0x57
    expect(ServiceTable.hashKey(6, VIP, 80)).toBe(0x57);
    // port 0x1f90 (8080): 0x11 ^ 0x0a000001 low byte 0x01 ^ 0x1f ^ 0x90 → 0x11^0x01^0x1f^0x90 = 0x9f
    expect(ServiceTable.hashKey(17, VIP, 8080)).toBe(0x11 ^ 0x01 ^ 0x1f ^ 0x90);
  });

  it('counts one probe and one chain step for a direct hit', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr' });
    drv.ipvs.addDest(TCP80, ip('10.1.0.11'), 80);
    const d = drv.send('192.168.0.1', 40000, SYN);
    expect(d.verdict).toBe('forwarded');
    // one conn-table probe (miss), one service probe (hit)
    expect(d.work.hashProbes).toBe(2);
  });

  it('looks up fwmark first, then the exact service, then the port-0 persistent catch-all', () => {
    const drv = new Driver();
    const ipvs = drv.ipvs;
    ipvs.addService({ proto: Protocol.TCP, addr: VIP, port: 0 }, { scheduler: 'rr', persistent: true });
    ipvs.addDest({ proto: Protocol.TCP, addr: VIP, port: 0 }, ip('10.1.0.10'), 0);
    ipvs.addService(TCP80, { scheduler: 'rr' });
    ipvs.addDest(TCP80, ip('10.1.0.11'), 80);
    ipvs.addService({ fwmark: 7 }, { scheduler: 'rr' });
    ipvs.addDest({ fwmark: 7 }, ip('10.1.0.12'), 0);

    expect(last(drv.send('192.168.0.1', 40001, SYN).backendAddr)).toBe(11);
    // port 443 has no exact entry → port-0 service, with the packet's port kept (dest port 0)
    const d443 = drv.send('192.168.0.1', 40002, SYN, { addr: VIP, port: 443 });
    expect(last(d443.backendAddr)).toBe(10);
    expect(d443.backendPort).toBe(443);
    // marked packets go to the fwmark service even when an exact service exists
    const marked = drv.send('192.168.0.1', 40003, SYN, { addr: VIP, port: 80 }, 60, 7);
    expect(last(marked.backendAddr)).toBe(12);
    // a mark without a fwmark service falls through to the exact lookup
    expect(last(drv.send('192.168.0.1', 40004, SYN, { addr: VIP, port: 80 }, 60, 9).backendAddr)).toBe(11);
  });

  it('a non-persistent port-0 service rejects (the kernel logs "port zero only supported in persistent services")', () => {
    const drv = new Driver();
    const key = { proto: Protocol.TCP, addr: VIP, port: 0 };
    drv.ipvs.addService(key, { scheduler: 'rr' });
    drv.ipvs.addDest(key, ip('10.1.0.10'), 0);
    const d = drv.send('192.168.0.1', 40000, SYN, { addr: VIP, port: 22 });
    expect(d.verdict).toBe('rejected');
    expect(d.reason).toBe('no-destination');
  });

  it('lists services in bucket order, fwmark services last', () => {
    const ipvs = new Ipvs();
    const keys = [
      { proto: Protocol.TCP, addr: ip('10.0.0.9'), port: 80 },
      { proto: Protocol.TCP, addr: ip('10.0.0.2'), port: 80 },
      { proto: Protocol.UDP, addr: ip('10.0.0.2'), port: 53 },
    ];
    ipvs.addService({ fwmark: 1 });
    for (const k of keys) ipvs.addService(k);
    const buckets = [...ipvs.services()].map((s) =>
      s.fwmark !== 0 ? 256 + s.fwmark : ServiceTable.hashKey(s.proto, s.addr, s.port),
    );
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect([...ipvs.services()].at(-1)!.fwmark).toBe(1);
  });
});

describe('configuration refusals leave state untouched', () => {
  it('refuses duplicate services, unknown schedulers and bad keys', () => {
    const ipvs = new Ipvs();
    ipvs.addService(TCP80);
    expect(() => ipvs.addService(TCP80)).toThrow(OperationError);
    try {
      ipvs.addService({ proto: Protocol.TCP, addr: VIP, port: 81 }, { scheduler: 'nope' });
    } catch (e) {
      expect((e as OperationError).code).toBe('ENOENT');
    }
    expect(ipvs.serviceCount).toBe(1);
    expect(() => ipvs.addService({ proto: 1, addr: VIP, port: 1 })).toThrow(InvalidArgumentError);
    expect(() => ipvs.addService({ proto: 6, addr: -1, port: 1 })).toThrow(InvalidArgumentError);
    expect(() => ipvs.addService({ proto: 6, addr: VIP, port: 70000 })).toThrow(InvalidArgumentError);
    expect(() => ipvs.addService({ fwmark: 0 })).toThrow(InvalidArgumentError);
    expect(ipvs.serviceCount).toBe(1);
  });

  it('refuses bad dests with the kernel errno and changes nothing', () => {
    const ipvs = new Ipvs();
    ipvs.addService(TCP80);
    const d = ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { weight: 3, uThreshold: 10, lThreshold: 5 });
    const expectCode = (f: () => unknown, code: string): void => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).code).toBe(code);
    };
    expectCode(() => ipvs.addDest(TCP80, ip('10.1.0.1'), 80), 'EEXIST');
    expectCode(() => ipvs.addDest(TCP80, ip('10.1.0.2'), 80, { uThreshold: 1, lThreshold: 2 }), 'ERANGE');
    expectCode(() => ipvs.editDest(TCP80, ip('10.1.0.1'), 80, { uThreshold: 0, lThreshold: 1 }), 'ERANGE');
    expectCode(() => ipvs.editDest(TCP80, ip('10.1.0.9'), 80, { weight: 1 }), 'ENOENT');
    expectCode(() => {
      ipvs.deleteDest(TCP80, ip("10.1.0.9"), 80);
    }, "ENOENT");
    expectCode(() => ipvs.addDest({ proto: 6, addr: VIP, port: 81 }, ip('10.1.0.9'), 80), 'ESRCH');
    expect(() => ipvs.addDest(TCP80, ip('10.1.0.3'), 80, { weight: 65536 })).toThrow(
      /weight must be an integer in \[0, 65535\] \(got 65536\)/,
    );
    expect(() => ipvs.addDest(TCP80, ip('10.1.0.3'), 80, { weight: 1.5 })).toThrow(InvalidArgumentError);
    const svc = ipvs.getService(TCP80)!;
    expect(svc.dests).toEqual([d]);
    expect([d.weight, d.uThreshold, d.lThreshold]).toEqual([3, 10, 5]);
  });
});

describe('real servers', () => {
  it('keeps the kernel list newest first', () => {
    const drv = new Driver();
    threeDests(drv);
    expect(drv.ipvs.getService(TCP80)!.dests.map((d) => last(d.addr))).toEqual([13, 12, 11]);
  });

  it('sets last_weight on add and on non-zero edits only', () => {
    const ipvs = new Ipvs();
    ipvs.addService(TCP80);
    const d = ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { weight: 5 });
    ipvs.editDest(TCP80, d.addr, 80, { weight: 0 });
    expect([d.weight, d.lastWeight]).toEqual([0, 5]);
    ipvs.editDest(TCP80, d.addr, 80, { weight: 7 });
    expect([d.weight, d.lastWeight]).toEqual([7, 7]);
    const z = ipvs.addDest(TCP80, ip('10.1.0.2'), 80, { weight: 0 });
    expect(z.lastWeight).toBe(0);
  });

  it('forwards as Local when the real server address is local to the director', () => {
    const ipvs = new Ipvs({ localAddresses: [ip('10.1.0.1')] });
    ipvs.addService(TCP80);
    expect(ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { fwd: ForwardMethod.MASQ }).fwd).toBe(ForwardMethod.LOCAL);
  });
});

describe('connections and TCP states', () => {
  it('NAT: SYN → SYN_RECV (inactive), SYN-ACK keeps SYN_RECV, the client ACK → ESTABLISHED (active)', () => {
    const drv = new Driver();
    threeDests(drv, ForwardMethod.MASQ);
    const d = drv.send('192.168.0.1', 40000, SYN);
    expect(d.verdict).toBe('forwarded');
    expect(d.newConnection).toBe(true);
    expect(last(d.backendAddr)).toBe(13); // rr starts at the list head: the newest dest
    expect(d.daddr).toBe(d.backendAddr); // NAT rewrites the destination
    expect(d.dport).toBe(8080);
    const dest = drv.ipvs.getService(TCP80)!.dests[0]!;
    const conn = [...drv.ipvs.connections()][0]!;
    expect(conn.state).toBe(TcpState.SYN_RECV);
    expect(conn.timeoutMs).toBe(60_000);
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);

    // tcp_state_idx checks syn before ack, so the server's SYN+ACK uses the OUTPUT/syn row: sSR → sSR.
    const r = drv.reply('10.1.0.13', 8080, '192.168.0.1', 40000, SYN | ACK);
    expect(r.direction).toBe('reply');
    expect(r.saddr).toBe(VIP); // un-NAT on the way back
    expect(r.sport).toBe(80);
    expect(conn.state).toBe(TcpState.SYN_RECV);

    drv.send('192.168.0.1', 40000, ACK);
    expect(conn.state).toBe(TcpState.ESTABLISHED);
    expect(conn.timeoutMs).toBe(900_000);
    expect([dest.activeConns, dest.inactConns]).toEqual([1, 0]);

    // INPUT/fin at ESTABLISHED → CLOSE_WAIT: active → inactive again
    drv.send('192.168.0.1', 40000, FIN | ACK);
    expect(conn.state).toBe(TcpState.CLOSE_WAIT);
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
  });

  it('DR uses the INPUT-ONLY table: SYN → SYN_RECV, ACK → ESTABLISHED, FIN → FIN_WAIT, RST → CLOSE', () => {
    const drv = new Driver();
    threeDests(drv, ForwardMethod.DROUTE);
    const d = drv.send('192.168.0.2', 40000, SYN);
    expect(d.daddr).toBe(VIP); // direct routing leaves the packet unchanged
    const conn = [...drv.ipvs.connections()][0]!;
    expect(conn.flags & ConnFlag.NOOUTPUT).not.toBe(0);
    drv.send('192.168.0.2', 40000, ACK);
    expect(conn.state).toBe(TcpState.ESTABLISHED);
    drv.send('192.168.0.2', 40000, FIN | ACK);
    expect(conn.state).toBe(TcpState.FIN_WAIT);
    expect(conn.timeoutMs).toBe(120_000);
    drv.send('192.168.0.2', 40000, RST);
    expect(conn.state).toBe(TcpState.CLOSE);
    expect(conn.timeoutMs).toBe(10_000);
    // a packet with none of syn/fin/ack/rst moves to CLOSE (set_tcp_state default)
  });

  it('schedules only SYN without RST; other packets without a connection are not IPVS traffic', () => {
    const drv = new Driver();
    threeDests(drv);
    expect(drv.send('192.168.0.3', 1, ACK).reason).toBe('not-syn');
    expect(drv.send('192.168.0.3', 2, SYN | RST).reason).toBe('not-syn');
    expect(drv.ipvs.connectionCount).toBe(0);
    const sloppy = new Driver({ sysctl: { sloppyTcp: true } });
    threeDests(sloppy);
    expect(sloppy.send('192.168.0.3', 1, ACK).verdict).toBe('forwarded');
  });

  it('traffic to an address without a service is accepted untouched', () => {
    const drv = new Driver();
    threeDests(drv);
    const d = drv.send('192.168.0.1', 40000, SYN, { addr: ip('10.9.9.9'), port: 80 });
    expect(d.verdict).toBe('accepted');
    expect(d.reason).toBe('no-service');
  });

  it('rejects when no dest is available (ip_vs_leave → ICMP port unreachable)', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr' });
    expect(drv.send('192.168.0.1', 40000, SYN).verdict).toBe('rejected');
    drv.ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { weight: 0 });
    expect(drv.send('192.168.0.1', 40000, SYN).reason).toBe('no-destination');
  });

  it('expires entries on the simulated clock and moves the counters back', () => {
    const drv = new Driver();
    threeDests(drv);
    drv.send('192.168.0.1', 40000, SYN);
    drv.send('192.168.0.1', 40001, SYN);
    drv.send('192.168.0.1', 40001, ACK);
    const dests = drv.ipvs.getService(TCP80)!.dests;
    drv.advance(59.999);
    expect(drv.ipvs.connectionCount).toBe(2);
    drv.advance(0.001); // SYN_RECV lasts 60 s
    expect(drv.ipvs.connectionCount).toBe(1);
    expect(dests.map((d) => [d.activeConns, d.inactConns])).toEqual([
      [0, 0],
      [1, 0],
      [0, 0],
    ]);
    drv.advance(900);
    expect(drv.ipvs.connectionCount).toBe(0);
    expect(dests.every((d) => d.activeConns === 0 && d.inactConns === 0)).toBe(true);
  });

  it('every packet re-arms the timer', () => {
    const drv = new Driver();
    threeDests(drv);
    drv.send('192.168.0.1', 40000, SYN);
    drv.send('192.168.0.1', 40000, ACK);
    for (let i = 0; i < 5; i++) {
      drv.advance(800);
      drv.send('192.168.0.1', 40000, ACK);
    }
    expect(drv.ipvs.connectionCount).toBe(1);
    drv.advance(900);
    expect(drv.ipvs.connectionCount).toBe(0);
  });

  it('UDP connections stay inactive and last 300 s; --set changes the timeouts', () => {
    const drv = new Driver();
    drv.ipvs.addService(UDP53, { scheduler: 'rr' });
    const dest = drv.ipvs.addDest(UDP53, ip('10.1.0.1'), 53);
    drv.send('192.168.0.1', 5000, 0, { proto: Protocol.UDP, addr: VIP, port: 53 });
    drv.send('192.168.0.1', 5000, 0, { proto: Protocol.UDP, addr: VIP, port: 53 });
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
    expect(drv.ipvs.stateName([...drv.ipvs.connections()][0]!)).toBe('UDP');
    drv.advance(299);
    expect(drv.ipvs.connectionCount).toBe(1);
    drv.advance(1);
    expect(drv.ipvs.connectionCount).toBe(0);

    expect(drv.ipvs.getTimeouts()).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    drv.ipvs.setTimeouts({ tcp: 0, tcpfin: 30, udp: 10 });
    expect(drv.ipvs.getTimeouts()).toEqual({ tcp: 900, tcpfin: 30, udp: 10 });
    expect(() => {
      drv.ipvs.setTimeouts({ udp: -1 });
    }).toThrow(InvalidArgumentError);
    expect(drv.ipvs.getTimeouts().udp).toBe(10);
  });

  it('one-packet scheduling: UDP entries are not hashed and are gone after the packet', () => {
    const drv = new Driver();
    drv.ipvs.addService(UDP53, { scheduler: 'rr', onePacket: true });
    const a = drv.ipvs.addDest(UDP53, ip('10.1.0.1'), 53);
    const b = drv.ipvs.addDest(UDP53, ip('10.1.0.2'), 53);
    const picks = [0, 1, 2, 3].map(
      () => last(drv.send('192.168.0.1', 5000, 0, { proto: Protocol.UDP, addr: VIP, port: 53 }).backendAddr),
    );
    expect(picks).toEqual([2, 1, 2, 1]); // every datagram scheduled anew
    expect(drv.ipvs.connectionCount).toBe(0);
    expect([a.inactConns, b.inactConns, a.stats.conns, b.stats.conns]).toEqual([0, 0, 2, 2]);
  });
});

describe('thresholds and OVERLOAD (ip_vs_bind_dest / ip_vs_unbind_dest)', () => {
  it('sets OVERLOAD at >= upper, clears below 3/4 of upper when no lower threshold', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr' });
    const a = drv.ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { uThreshold: 4 });
    const picks: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = drv.send('192.168.0.1', 40000 + i, SYN);
      picks.push(d.verdict === 'forwarded' ? 1 : 0);
      drv.advance(10);
    }
    // the 4th connection reaches the threshold and is still accepted; the 5th is refused
    expect(picks).toEqual([1, 1, 1, 1, 0]);
    expect(a.overloaded).toBe(true);
    // SYN_RECV entries expire 60 s after their SYN: at t=60 the first goes (total 3: 3*4 < 4*3 is false)
    drv.advance(10); // t = 60
    expect(a.inactConns).toBe(3);
    expect(a.overloaded).toBe(true);
    drv.advance(10); // t = 70: second expires → total 2: 8 < 12 → cleared
    expect(a.inactConns).toBe(2);
    expect(a.overloaded).toBe(false);
  });

  it('with a lower threshold, clears only below it; an edit raising the upper threshold clears at once', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr' });
    const a = drv.ipvs.addDest(TCP80, ip('10.1.0.1'), 80, { uThreshold: 3, lThreshold: 1 });
    for (let i = 0; i < 3; i++) drv.send('192.168.0.1', 40000 + i, SYN);
    expect(a.overloaded).toBe(true);
    drv.ipvs.editDest(TCP80, a.addr, 80, { uThreshold: 3, lThreshold: 1 });
    expect(a.overloaded).toBe(true); // same upper threshold: flag kept
    drv.ipvs.editDest(TCP80, a.addr, 80, { uThreshold: 5, lThreshold: 1 });
    expect(a.overloaded).toBe(false);
    drv.send('192.168.0.1', 40010, SYN);
    drv.send('192.168.0.1', 40011, SYN);
    expect(a.overloaded).toBe(true);
    drv.advance(60);
    expect(a.inactConns).toBe(0);
    expect(a.overloaded).toBe(false);
  });
});

describe('quiescing, deletion and the trash', () => {
  it('weight 0 takes no new connections but existing ones keep flowing', () => {
    const drv = new Driver();
    threeDests(drv);
    // Decisions are reused records: keep the value, not the record.
    const quiesced = drv.send('192.168.0.1', 40000, SYN).backendAddr;
    drv.ipvs.editDest(TCP80, quiesced, 8080, { weight: 0 });
    expect(drv.send('192.168.0.1', 40000, ACK).backendAddr).toBe(quiesced);
    for (let i = 1; i < 10; i++) expect(drv.send('192.168.0.1', 40000 + i, SYN).backendAddr).not.toBe(quiesced);
  });

  it('a deleted dest drops its connections’ packets, then leaves the trash when they expire', () => {
    const drv = new Driver();
    threeDests(drv);
    const first = drv.send('192.168.0.1', 40000, SYN);
    const svc = drv.ipvs.getService(TCP80)!;
    drv.ipvs.deleteDest(TCP80, first.backendAddr, 8080);
    expect(svc.trash.length).toBe(1);
    const d = drv.send('192.168.0.1', 40000, ACK);
    expect(d.verdict).toBe('dropped');
    expect(d.reason).toBe('destination-unavailable');
    drv.advance(60);
    expect(svc.trash.length).toBe(0);
  });

  it('re-adding a dest that is still in the trash brings back its counters', () => {
    const drv = new Driver();
    threeDests(drv);
    const first = drv.send('192.168.0.1', 40000, SYN);
    const svc = drv.ipvs.getService(TCP80)!;
    const dest = svc.dests[0]!;
    drv.ipvs.deleteDest(TCP80, first.backendAddr, 8080);
    const again = drv.ipvs.addDest(TCP80, first.backendAddr, 8080, { fwd: ForwardMethod.MASQ });
    expect(again).toBe(dest);
    expect(again.inactConns).toBe(1);
    expect(svc.trash.length).toBe(0);
    expect(drv.send('192.168.0.1', 40000, ACK).verdict).toBe('forwarded');
  });

  it('expire_nodest_conn expires the entry of a deleted dest on its next packet', () => {
    const drv = new Driver({ sysctl: { expireNodestConn: true } });
    threeDests(drv);
    const first = drv.send('192.168.0.1', 40000, SYN);
    drv.ipvs.deleteDest(TCP80, first.backendAddr, 8080);
    expect(drv.send('192.168.0.1', 40000, ACK).verdict).toBe('dropped');
    expect(drv.ipvs.connectionCount).toBe(0);
    expect(drv.ipvs.getService(TCP80)!.trash.length).toBe(0);
  });

  it('deleting a service keeps connections until they expire, dropping their packets', () => {
    const drv = new Driver();
    threeDests(drv);
    drv.send('192.168.0.1', 40000, SYN);
    drv.ipvs.deleteService(TCP80);
    expect(drv.ipvs.serviceCount).toBe(0);
    expect(drv.send('192.168.0.1', 40000, ACK).verdict).toBe('dropped');
    drv.advance(60);
    expect(drv.ipvs.connectionCount).toBe(0);
  });
});

describe('connection reuse (conn_reuse_mode)', () => {
  function timeWait(drv: Driver): number {
    const d = drv.send('192.168.0.1', 40000, SYN);
    drv.send('192.168.0.1', 40000, ACK);
    drv.reply(`10.1.0.${last(d.backendAddr)}`, 8080, '192.168.0.1', 40000, FIN | ACK); // OUTPUT fin at ES → FIN_WAIT
    drv.send('192.168.0.1', 40000, FIN | ACK); // INPUT fin at FW → TIME_WAIT
    expect(drv.ipvs.stateName([...drv.ipvs.connections()][0]!)).toBe('TIME_WAIT');
    return d.backendAddr;
  }

  it('mode 1: a SYN hitting a TIME_WAIT entry is scheduled afresh', () => {
    const drv = new Driver();
    threeDests(drv);
    const firstDest = timeWait(drv);
    const d = drv.send('192.168.0.1', 40000, SYN);
    expect(d.verdict).toBe('forwarded');
    expect(d.newConnection).toBe(true);
    expect(d.backendAddr).not.toBe(firstDest); // rr moved on
    expect(drv.ipvs.connectionCount).toBe(1);
  });

  it('mode 0: the SYN reuses the old entry and dest', () => {
    const drv = new Driver({ sysctl: { connReuseMode: 0 } });
    threeDests(drv);
    const firstDest = timeWait(drv);
    const d = drv.send('192.168.0.1', 40000, SYN);
    expect(d.newConnection).toBe(false);
    expect(d.backendAddr).toBe(firstDest);
  });

  it('with conntrack=1 the SYN is dropped (the kube-proxy 1-second reconnect delay)', () => {
    const drv = new Driver({ sysctl: { conntrack: true } });
    threeDests(drv);
    timeWait(drv);
    const d = drv.send('192.168.0.1', 40000, SYN);
    expect(d.verdict).toBe('dropped');
    expect(d.reason).toBe('connection-reuse-drop');
    expect(drv.ipvs.connectionCount).toBe(0); // old entry expired; the retransmitted SYN schedules
    expect(drv.send('192.168.0.1', 40000, SYN).newConnection).toBe(true);
  });
});

describe('persistence (ip_vs_sched_persist)', () => {
  it('keeps a client on one dest through a template, counted in persistconns', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr', persistent: true, timeout: 360 });
    for (const a of ['10.1.0.11', '10.1.0.12']) drv.ipvs.addDest(TCP80, ip(a), 80, { fwd: ForwardMethod.MASQ });
    const picks = [0, 1, 2, 3].map((i) => last(drv.send('192.168.0.1', 40000 + i, SYN).backendAddr));
    expect(new Set(picks).size).toBe(1);
    const other = last(drv.send('192.168.0.2', 40000, SYN).backendAddr);
    expect(other).not.toBe(picks[0]);
    const conns = [...drv.ipvs.connections()];
    expect(conns.filter((c) => c.isTemplate).length).toBe(2);
    const dest = drv.ipvs.getService(TCP80)!.dests.find((d) => last(d.addr) === picks[0])!;
    expect(dest.persistConns).toBe(1);
    expect(dest.inactConns).toBe(4);
    expect(dest.stats.conns).toBe(4); // templates are not counted in Conns
  });

  it('groups clients by the -M netmask', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr', persistent: true, netmask: ip('255.255.255.0') });
    for (const a of ['10.1.0.11', '10.1.0.12']) drv.ipvs.addDest(TCP80, ip(a), 80);
    const a = drv.send('192.168.0.1', 1, SYN).backendAddr;
    expect(drv.send('192.168.0.200', 1, SYN).backendAddr).toBe(a);
    expect(drv.send('192.168.1.1', 1, SYN).backendAddr).not.toBe(a);
  });

  it('templates ignore OVERLOAD but not deletion', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr', persistent: true });
    const a = drv.ipvs.addDest(TCP80, ip('10.1.0.11'), 80, { uThreshold: 1 });
    drv.ipvs.addDest(TCP80, ip('10.1.0.12'), 80);
    const first = drv.send('192.168.0.1', 1, SYN);
    expect(last(first.backendAddr)).toBe(12); // list head
    drv.ipvs.editDest(TCP80, ip('10.1.0.12'), 80, { uThreshold: 1 });
    drv.send('192.168.0.9', 1, SYN); // goes to .11, which then reaches its threshold
    expect(a.overloaded).toBe(true);
    drv.send('192.168.0.1', 2, SYN); // → .12 reaches 2 ≥ 1
    const dest12 = drv.ipvs.getService(TCP80)!.dests[0]!;
    expect(dest12.overloaded).toBe(true);
    expect(last(drv.send('192.168.0.1', 3, SYN).backendAddr)).toBe(12); // still persistent
    drv.ipvs.deleteDest(TCP80, ip('10.1.0.12'), 80);
    // template invalid → rescheduled; .11 is overloaded → nothing eligible
    expect(drv.send('192.168.0.1', 4, SYN).verdict).toBe('rejected');
  });

  it('expire_quiescent_template moves clients off a weight-0 dest', () => {
    for (const [flag, expectMove] of [
      [false, false],
      [true, true],
    ] as const) {
      const drv = new Driver({ sysctl: { expireQuiescentTemplate: flag } });
      drv.ipvs.addService(TCP80, { scheduler: 'rr', persistent: true });
      drv.ipvs.addDest(TCP80, ip('10.1.0.11'), 80);
      drv.ipvs.addDest(TCP80, ip('10.1.0.12'), 80);
      const a = drv.send('192.168.0.1', 1, SYN).backendAddr;
      drv.ipvs.editDest(TCP80, a, 80, { weight: 0 });
      const b = drv.send('192.168.0.1', 2, SYN).backendAddr;
      expect(b !== a).toBe(expectMove);
    }
  });

  it('a template outlives its timeout while it controls connections, re-armed 60 s at a time', () => {
    const drv = new Driver();
    drv.ipvs.addService(TCP80, { scheduler: 'rr', persistent: true, timeout: 100 });
    drv.ipvs.addDest(TCP80, ip('10.1.0.11'), 80);
    drv.send('192.168.0.1', 1, SYN);
    drv.send('192.168.0.1', 1, ACK); // ESTABLISHED: 900 s
    const tpl = [...drv.ipvs.connections()].find((c) => c.isTemplate)!;
    drv.advance(100);
    expect(tpl.nControl).toBe(1);
    expect(tpl.timeoutMs).toBe(60_000);
    expect(drv.ipvs.connectionCount).toBe(2);
    drv.advance(800); // t = 900: the connection expires
    expect(drv.ipvs.connectionCount).toBe(1);
    drv.advance(60); // the template's next 60 s check finds no controlled connection
    expect(drv.ipvs.connectionCount).toBe(0);
    expect(drv.ipvs.getService(TCP80)!.dests[0]!.persistConns).toBe(0);
  });
});

describe('statistics', () => {
  it('counts conns, packets and bytes per dest, service and total; NAT replies count as out', () => {
    const drv = new Driver();
    threeDests(drv);
    drv.send('192.168.0.1', 40000, SYN, undefined, 60);
    drv.send('192.168.0.1', 40000, ACK, undefined, 1500);
    drv.reply('10.1.0.13', 8080, '192.168.0.1', 40000, ACK, Protocol.TCP, 400);
    const svc = drv.ipvs.getService(TCP80)!;
    const dest = svc.dests[0]!;
    for (const s of [dest.stats, svc.stats, drv.ipvs.totalStats]) {
      expect(s.read()).toEqual({ conns: 1, inPkts: 2, outPkts: 1, inBytes: 1560, outBytes: 400 });
    }
    drv.ipvs.zero(TCP80);
    expect(dest.stats.read()).toEqual({ conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 });
    expect(drv.ipvs.totalStats.read().conns).toBe(1);
    drv.ipvs.zero();
    expect(drv.ipvs.totalStats.read().conns).toBe(0);
  });

  it('estimates rates every 2 s with 1/4 smoothing, converging to the steady rate', () => {
    const drv = new Driver();
    threeDests(drv);
    // 10 new connections per simulated second for 60 s
    let port = 1;
    for (let t = 0; t < 600; t++) {
      drv.send('192.168.0.1', port++, SYN, undefined, 100);
      drv.ipvs.clock.advance(100);
    }
    const r = readRates(drv.ipvs.totalStats);
    expect(r.cps).toBe(10);
    expect(r.inpps).toBe(10);
    expect(r.inbps).toBe(1000);
  });
});

describe('connection table', () => {
  it('chains grow as the table fills, and the cost is counted', () => {
    const small = new Driver({ connTabBits: 8 });
    threeDests(small);
    for (let i = 0; i < 4096; i++) small.send(`192.168.${i >> 8}.${i & 255}`, 1000, SYN);
    expect(small.ipvs.connectionCount).toBe(4096);
    expect(small.ipvs.longestConnChain()).toBeGreaterThanOrEqual(16); // 4096 entries / 256 buckets
    const d = small.send('192.168.0.0', 1000, ACK);
    expect(d.work.chainSteps).toBeGreaterThanOrEqual(1);
    expect(() => new Ipvs({ connTabBits: 7 })).toThrow(InvalidArgumentError);
    expect(() => new Ipvs({ connTabBits: 21 })).toThrow(InvalidArgumentError);
    expect(new Ipvs().connTabSize).toBe(4096);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): string => {
      const drv = new Driver({ seed });
      threeDests(drv, ForwardMethod.MASQ, 'twos');
      const out: number[] = [];
      for (let i = 0; i < 200; i++) out.push(drv.send('192.168.0.1', 1000 + i, SYN).backendAddr);
      return JSON.stringify([out, [...drv.ipvs.connections()].map((c) => c.cport)]);
    };
    expect(run(5)).toBe(run(5));
    expect(run(5)).not.toBe(run(6));
  });
});

describe('scheduler changes', () => {
  it('-E with a new scheduler calls done/init and keeps the dests', () => {
    const ipvs = new Ipvs();
    ipvs.addService(TCP80, { scheduler: 'rr' });
    ipvs.addDest(TCP80, ip('10.1.0.1'), 80);
    ipvs.editService(TCP80, { scheduler: 'wrr', persistent: true, timeout: 50, schedFlags: ServiceFlag.SCHED1 });
    const svc = ipvs.getService(TCP80)!;
    expect(svc.schedulerName).toBe('wrr');
    expect(svc.persistent).toBe(true);
    expect(svc.timeoutMs).toBe(50_000);
    expect(svc.flags & ServiceFlag.SCHED1).not.toBe(0);
    expect(() => ipvs.editService(TCP80, { scheduler: 'bogus' })).toThrow(OperationError);
    expect(svc.schedulerName).toBe('wrr');
  });
});

describe('scheduler init failure on -E', () => {
  it('restores the old scheduler when the new one refuses the service (ip_vs_edit_service)', () => {
    const ipvs = new Ipvs();
    ipvs.schedulers.register({
      name: 'picky',
      create: () => ({
        name: 'picky',
        initService: () => {
          throw new OperationError('EINVAL', 'picky: refuses');
        },
        doneService: () => undefined,
        addDest: () => undefined,
        delDest: () => undefined,
        updDest: () => undefined,
        schedule: () => null,
      }),
    });
    ipvs.addService(TCP80, { scheduler: 'rr' });
    ipvs.addDest(TCP80, ip('10.1.0.1'), 80);
    ipvs.addDest(TCP80, ip('10.1.0.2'), 80);
    expect(() => ipvs.editService(TCP80, { scheduler: 'picky', persistent: true })).toThrow(OperationError);
    const svc = ipvs.getService(TCP80)!;
    expect(svc.schedulerName).toBe('rr');
    expect(svc.persistent).toBe(false);
    const drv = new Driver();
    expect(svc.scheduler.schedule(svc, drv.pkt.set(6, 1, 1, VIP, 80, SYN), drv.d.work)).not.toBeNull();
  });
});

describe('user schedulers', () => {
  it('a scheduler registered under a new name schedules like a built-in; names are unique', () => {
    const ipvs = new Ipvs();
    // "last": always the oldest dest (the end of the kernel list).
    ipvs.schedulers.register({
      name: 'last',
      create: () => ({
        name: 'last',
        initService: () => undefined,
        doneService: () => undefined,
        addDest: () => undefined,
        delDest: () => undefined,
        updDest: () => undefined,
        schedule: (svc, _pkt, work) => {
          work.destsExamined++;
          return svc.dests.at(-1) ?? null;
        },
      }),
    });
    expect(() => ipvs.schedulers.register({ name: 'rr', create: () => { throw new Error('unused'); } })).toThrow(OperationError);
    expect(() => ipvs.schedulers.register({ name: 'x'.repeat(16), create: () => { throw new Error('unused'); } })).toThrow(InvalidArgumentError);
    ipvs.addService(TCP80, { scheduler: 'last' });
    ipvs.addDest(TCP80, ip('10.1.0.1'), 80);
    ipvs.addDest(TCP80, ip('10.1.0.2'), 80);
    const drv = new Driver();
    const d = ipvs.classify(drv.pkt.set(6, ip('192.168.0.1'), 1000, VIP, 80, SYN), drv.d);
    expect(last(d.backendAddr)).toBe(1);
    expect(d.work.destsExamined).toBe(1);
  });
});
