// Running ipvsadm lines against the engine and printing like ipvsadm 1.31.
// Every expected text below is written by hand from the printf formats of
// ipvsadm.c (mirror louygan/ipvsadm), quoted next to it, and from the kernel
// rules that produce the numbers (torvalds/linux net/netfilter/ipvs/).
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { Decision } from '../../../src/classify/decision.js';
import { OperationError, ParseError } from '../../../src/errors.js';
import { Ipvs } from '../../../src/ipvs/ipvs.js';
import {
  compareServicesLikeIpvsadm,
  execIpvsadm,
  formatLargeNumber,
  formatProcIpVsConn,
  restoreIpvsadm,
  servicesInListOrder,
} from '../../../src/ipvs/ipvsadm/index.js';
import { formatIPv4, parseIPv4 } from '../../../src/net/ipv4.js';
import { Packet } from '../../../src/net/packet.js';
import { Protocol } from '../../../src/net/protocol.js';
import { TcpFlag } from '../../../src/net/tcp-flags.js';

const ip = parseIPv4;
const { SYN, ACK } = TcpFlag;

/** Sends one packet through the engine's classify() at the current simulated time. */
function send(ipvs: Ipvs, saddr: string, sport: number, daddr: string, dport: number, flags: number, len: number, proto: number = Protocol.TCP): Decision {
  return ipvs.classify(new Packet(proto, ip(saddr), sport, ip(daddr), dport, flags, len), new Decision());
}

function run(ipvs: Ipvs, lines: readonly string[]): void {
  for (const l of lines) expect(execIpvsadm(ipvs, l)).toBe('');
}

// print_title (no format flag): two fixed lines.
const TITLE = 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
// list_all: "IP Virtual Server version %d.%d.%d (size=%d)\n", IP_VS_VERSION_CODE 0x010201, 2^12 buckets.
const HEADER = 'IP Virtual Server version 1.2.1 (size=4096)\n';

describe('-Ln', () => {
  it('prints services and dests with the printf layout of print_service_entry', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, [
      '-A -t 10.0.0.1:80 -s rr',
      '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 2',
      '-a -t 10.0.0.1:80 -r 192.168.1.1',
      '-A -u 10.0.0.1:53 -p 100 -M 255.255.255.0',
      '-a -u 10.0.0.1:53 -r 192.168.1.3 -i -w 0',
      '-A -f 7 -s sh -b sh-fallback,sh-port',
      '-A -u 10.0.0.9:5353 -o',
    ]);
    // Service line: "%s %s" of svc_name ("%-4s %s": "TCP " + " " + addr:port) and the
    // scheduler, then " (%s)" sched flags, " persistent %u", " mask %s", " ops".
    // Dest line: "  -> %-28s %-7s %-6d %-10u %-10u\n" (fwd_name, weight, active, inactive).
    // Sorted (ipvs_cmp_services): fwmark 0 first, then protocol TCP(6) < UDP(17), address, port;
    // dests by address then port.
    expect(execIpvsadm(ipvs, '-Ln')).toBe(
      HEADER +
        TITLE +
        'TCP  10.0.0.1:80 rr\n' +
        //  "  -> " + "192.168.1.1:80" padded to 28 + " " + "Route" to 7 + " " + "1" to 6 + " " + "0" to 10 + " " + "0" to 10
        '  -> 192.168.1.1:80               Route   1      0          0         \n' +
        '  -> 192.168.1.2:8080             Masq    2      0          0         \n' +
        'UDP  10.0.0.1:53 wlc persistent 100 mask 255.255.255.0\n' +
        '  -> 192.168.1.3:53               Tunnel  0      0          0         \n' +
        'UDP  10.0.0.9:5353 wlc ops\n' +
        'FWM  7 sh (sh-fallback,sh-port)\n',
    );
  });

  it('with --nosort prints kernel order: hash buckets, and dests newest first', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, [
      '-A -t 10.0.0.2:80',
      '-A -t 10.0.0.1:80',
      '-a -t 10.0.0.1:80 -r 192.168.1.1',
      '-a -t 10.0.0.1:80 -r 192.168.1.2',
      '-a -t 10.0.0.1:80 -r 192.168.1.3',
    ]);
    // ip_vs_svc_hashkey = (proto ^ addr ^ (port >> 8) ^ port) & 255:
    //   10.0.0.2:80 → 6 ^ 2 ^ 0 ^ 0x50 = 0x54; 10.0.0.1:80 → 6 ^ 1 ^ 0x50 = 0x57 → .2 first.
    // __ip_vs_update_dest adds each dest at the list head: .3, .2, .1.
    const dest = (a: string): string => `  -> ${`${a}:80`.padEnd(28)} Route   1      0          0         \n`;
    expect(execIpvsadm(ipvs, '-Ln --nosort')).toBe(
      HEADER + TITLE + 'TCP  10.0.0.2:80 wlc\n' + 'TCP  10.0.0.1:80 wlc\n' + dest('192.168.1.3') + dest('192.168.1.2') + dest('192.168.1.1'),
    );
    expect(execIpvsadm(ipvs, '-Ln')).toBe(
      HEADER + TITLE + 'TCP  10.0.0.1:80 wlc\n' + dest('192.168.1.1') + dest('192.168.1.2') + dest('192.168.1.3') + 'TCP  10.0.0.2:80 wlc\n',
    );
  });

  it("sorts with libipvs' int-overflowing comparator: 192.168.0.1 before 10.0.0.1", () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80', '-A -t 192.168.0.1:80']);
    // ipvs_cmp_services: r = ntohl(a) - ntohl(b) as int:
    //   0x0a000001 - 0xc0a80001 = -0xb6a80000 → wraps to +0x49580000 > 0, so 10.0.0.1 sorts after.
    expect(execIpvsadm(ipvs, '-Ln')).toBe(HEADER + TITLE + 'TCP  192.168.0.1:80 wlc\n' + 'TCP  10.0.0.1:80 wlc\n');
  });

  it("orders a comparator cycle the way glibc's merge sort does", () => {
    const ipvs = new Ipvs({ seed: 1 });
    // a = 1.0.0.1, b = 97.0.0.1, c = 193.0.0.1: cmp(a,b) = -0x60000000 < 0, cmp(b,c) = -0x60000000 < 0,
    // cmp(c,a) = (0xc1000001 - 0x01000001) as int = 0xc0000000 → -0x40000000 < 0: a < b < c < a.
    run(ipvs, ['-A -t 1.0.0.1:80', '-A -t 97.0.0.1:80', '-A -t 193.0.0.1:80']);
    // All three hash to bucket (6 ^ 0x01 ^ 0x50) & 255 = 0x57; the chain is newest first: [c, b, a].
    // msort: n1 = 1 → [c]; right half [b, a]: cmp(b, a) = +0x60000000 > 0 → [a, b];
    // merge [c] with [a, b]: cmp(c, a) < 0 → c first, then a, b.
    expect(servicesInListOrder(ipvs).map((s) => formatIPv4(s.addr))).toEqual(['193.0.0.1', '1.0.0.1', '97.0.0.1']);
    expect(compareServicesLikeIpvsadm(servicesInListOrder(ipvs)[0]!, servicesInListOrder(ipvs)[1]!)).toBeLessThan(0);
  });

  it('lists one service with -L -t (list_service: title and entry, no version line)', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80 -s wrr', '-a -t 10.0.0.1:80 -r 192.168.1.2:80', '-A -t 10.0.0.2:80']);
    expect(execIpvsadm(ipvs, '-Ln -t 10.0.0.1:80')).toBe(
      TITLE + 'TCP  10.0.0.1:80 wrr\n' + '  -> 192.168.1.2:80               Route   1      0          0         \n',
    );
    // ipvs_get_service fails with ESRCH → "No such service"
    expect(() => execIpvsadm(ipvs, '-Ln -t 10.0.0.3:80')).toThrow(/No such service/);
  });

  it('prints SCTP services as "SCTP" and saves them with --sctp-service (1.31)', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A --sctp-service 10.0.0.1:3868 -s rr', '-a --sctp-service 10.0.0.1:3868 -r 192.168.1.2 -g']);
    expect(execIpvsadm(ipvs, '-Ln')).toBe(
      HEADER + TITLE + 'SCTP 10.0.0.1:3868 rr\n' + '  -> 192.168.1.2:3868             Route   1      0          0         \n',
    );
    expect(execIpvsadm(ipvs, '-Sn')).toBe(
      '-A --sctp-service 10.0.0.1:3868 -s rr\n' + '-a --sctp-service 10.0.0.1:3868 -r 192.168.1.2:3868 -g -w 1\n',
    );
  });

  it('prints --thresholds, --persistent-conn and --tun-info columns', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80 -p 300', '-a -t 10.0.0.1:80 -r 192.168.1.2 -x 100 -y 50', '-a -t 10.0.0.1:80 -r 192.168.1.3 -i']);
    // "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n", then rows "  -> %-28s %-10u %-10u %-10u %-10u\n";
    // the service line keeps the plain "%s %s" form.
    expect(execIpvsadm(ipvs, '-Ln --thresholds')).toBe(
      HEADER +
        'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80 wlc persistent 300\n' +
        '  -> 192.168.1.2:80               100        50         0          0         \n' +
        '  -> 192.168.1.3:80               0          0          0          0         \n',
    );
    // "%-33s %-9s %-11s %-10s %-10s\n", rows "  -> %-28s %-9u %-11u %-10u %-10u\n"
    expect(execIpvsadm(ipvs, '-Ln --persistent-conn')).toBe(
      HEADER +
        'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80 wlc persistent 300\n' +
        '  -> 192.168.1.2:80               1         0           0          0         \n' +
        '  -> 192.168.1.3:80               1         0           0          0         \n',
    );
    // rows "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" with fwd_tun_info ("ipip" or "n/a")
    expect(execIpvsadm(ipvs, '-Ln --tun-info')).toBe(
      HEADER +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 wlc persistent 300\n' +
        '  -> 192.168.1.2:80               Route   n/a           1      0          0         \n' +
        '  -> 192.168.1.3:80               Tunnel  ipip          1      0          0         \n',
    );
  });
});

describe('print_largenum', () => {
  it('switches to K/M/G/T at 10^8, 10^9, 10^11, 10^14 and pads exact values to 9 or len + 1', () => {
    expect(formatLargeNumber(0)).toBe('        0'); // %9llu
    expect(formatLargeNumber(99_999_999)).toBe(' 99999999');
    expect(formatLargeNumber(100_000_000)).toBe('  100000K'); // %8lluK of i / 1000
    expect(formatLargeNumber(999_999_999)).toBe('  999999K');
    expect(formatLargeNumber(1_000_000_000)).toBe('    1000M'); // %8lluM of i / 10^6
    expect(formatLargeNumber(99_999_999_999)).toBe('   99999M');
    expect(formatLargeNumber(100_000_000_000)).toBe('     100G'); // %8lluG of i / 10^9
    expect(formatLargeNumber(100_000_000_000_000)).toBe('     100T'); // %8lluT of i / 10^12
    expect(formatLargeNumber(12_345_678, true)).toBe(' 12345678');
    expect(formatLargeNumber(123_456_789, true)).toBe(' 123456789'); // len 9 → width 10
    expect(formatLargeNumber(1_234_567_890_123, true)).toBe(' 1234567890123');
  });
});

/**
 * One NAT service with traffic:
 *  t = 0     SYN     172.16.0.5:40000 → 10.0.0.1:80 (60 B)   new conn, INPUT syn NONE → SYN_RECV (60 s)
 *  t = 0     SYN|ACK 192.168.1.2:8080 → 172.16.0.5:40000 (60 B) reply: OUTPUT syn SYN_RECV → SYN_RECV
 *  t = 0     ACK     172.16.0.5:40000 → 10.0.0.1:80 (52 B)   INPUT ack SYN_RECV → ESTABLISHED (900 s): active
 *  t = 0     SYN     172.16.0.6:40001 → 10.0.0.1:80 (60 B)   second conn, SYN_RECV (60 s): inactive
 * (tcp_state_idx checks rst, syn, fin, ack in that order; tcp_states[] of ip_vs_proto_tcp.c)
 *  Counters: Conns 2, InPkts 3, OutPkts 1, InBytes 172, OutBytes 60.
 */
function trafficEngine(): Ipvs {
  const ipvs = new Ipvs({ seed: 7 });
  run(ipvs, ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m']);
  expect(send(ipvs, '172.16.0.5', 40000, '10.0.0.1', 80, SYN, 60).verdict).toBe('forwarded');
  expect(send(ipvs, '192.168.1.2', 8080, '172.16.0.5', 40000, SYN | ACK, 60).verdict).toBe('forwarded');
  expect(send(ipvs, '172.16.0.5', 40000, '10.0.0.1', 80, ACK, 52).verdict).toBe('forwarded');
  expect(send(ipvs, '172.16.0.6', 40001, '10.0.0.1', 80, SYN, 60).verdict).toBe('forwarded');
  return ipvs;
}

describe('counters after traffic', () => {
  it('-Ln shows ActiveConn 1 (ESTABLISHED) and InActConn 1 (SYN_RECV)', () => {
    const ipvs = trafficEngine();
    expect(execIpvsadm(ipvs, '-Ln')).toBe(
      HEADER + TITLE + 'TCP  10.0.0.1:80 rr\n' + '  -> 192.168.1.2:8080             Masq    1      1          1         \n',
    );
  });

  it('--stats prints the five counters with print_largenum', () => {
    const ipvs = trafficEngine();
    // print_title: "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n";
    // rows: "%-33s" / "  -> %-28s" then five "%9llu".
    const expected =
      HEADER +
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  10.0.0.1:80                         2        3        1      172       60\n' +
      '  -> 192.168.1.2:8080                    2        3        1      172       60\n';
    expect(execIpvsadm(ipvs, '-Ln --stats')).toBe(expected);
    // --exact: "%*llu" with width 9 for up to 8 digits: identical here.
    expect(execIpvsadm(ipvs, '-Ln --stats --exact')).toBe(expected);
    // -Z on the service zeroes its counters (kstats0 = current), nothing else changes.
    execIpvsadm(ipvs, '-Z -t 10.0.0.1:80');
    expect(execIpvsadm(ipvs, '-Ln --stats')).toBe(
      HEADER +
        'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80                         0        0        0        0        0\n' +
        '  -> 192.168.1.2:8080                    0        0        0        0        0\n',
    );
    expect(execIpvsadm(ipvs, '-Ln')).toContain('Masq    1      1          1         \n');
  });

  it('--rate prints the 2-second estimator after 100 connections', () => {
    const ipvs = new Ipvs({ seed: 7 });
    run(ipvs, ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m']);
    for (let i = 0; i < 100; i++) send(ipvs, '172.16.0.5', 10000 + i, '10.0.0.1', 80, SYN, 60);
    ipvs.clock.advance(2000);
    // ip_vs_est.c, one tick over 2 s: rate = delta << 9, avg += (rate - avg) >> 2, read (avg + 0x1FF) >> 10;
    // bytes: rate = delta << 4, read (avg + 0xF) >> 5.
    //   cps   = inpps: 100 << 9 = 51200 → avg 12800 → (12800 + 511) >> 10 = 12
    //   inbps: 6000 << 4 = 96000 → avg 24000 → (24000 + 15) >> 5 = 750
    // Service row: "%-33s" + five print_largenum; dest row: "  -> %-28s %8llu %8llu %8llu" + two print_largenum.
    expect(execIpvsadm(ipvs, '-Ln --rate')).toBe(
      HEADER +
        'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80                        12       12        0      750        0\n' +
        '  -> 192.168.1.2:8080                   12       12        0      750        0\n',
    );
  });

  it('-Lcn lists the entries with mm:ss from the simulated clock', () => {
    const ipvs = trafficEngine();
    ipvs.clock.advance(1500);
    // expires - now: ESTABLISHED 900 000 - 1 500 ms → 898 s = 14:58; SYN_RECV 60 000 - 1 500 → 58 s = 00:58
    // (jiffies_delta_to_msecs(expires - jiffies) / 1000; print_conn: "%02d:%02d").
    // Rows: "%-3s %-6s %-11s %-18s %-18s %s\n".
    const rows = new Map([
      ['172.16.0.5:40000', 'TCP 14:58  ESTABLISHED 172.16.0.5:40000   10.0.0.1:80        192.168.1.2:8080\n'],
      ['172.16.0.6:40001', 'TCP 00:58  SYN_RECV    172.16.0.6:40001   10.0.0.1:80        192.168.1.2:8080\n'],
    ]);
    // Entries come in connection-table order (bucket by bucket), as /proc/net/ip_vs_conn walks it.
    const order = [...ipvs.connections()].map((c) => `${formatIPv4(c.caddr)}:${c.cport}`);
    expect(order.sort()).toEqual([...rows.keys()].sort());
    const tableOrder = [...ipvs.connections()].map((c) => rows.get(`${formatIPv4(c.caddr)}:${c.cport}`)!);
    const title = 'IPVS connection entries\npro expire state       source             virtual            destination\n';
    expect(execIpvsadm(ipvs, '-Lcn')).toBe(title + tableOrder.join(''));
    // 1.31 with --persistent-conn: "pro expire %-11s %-18s %-18s %-18s %-16s %s\n" header; rows without
    // pe data keep the short form (print_conn prints the long row only when sscanf finds 11 fields).
    expect(execIpvsadm(ipvs, '-Lcn --persistent-conn')).toBe(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination        pe name          pe_data\n' +
        tableOrder.join(''),
    );
    // At t = 60 s the SYN_RECV entry's timer fires; the established one has 900 - 60 = 840 s = 14:00 left.
    ipvs.clock.advance(58_500);
    expect(execIpvsadm(ipvs, '-Lcn')).toBe(title + 'TCP 14:00  ESTABLISHED 172.16.0.5:40000   10.0.0.1:80        192.168.1.2:8080\n');
    // /proc/net/ip_vs_conn: "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s\n"
    // 172.16.0.5 = AC100005, 40000 = 9C40, 10.0.0.1 = 0A000001, 80 = 0050, 192.168.1.2 = C0A80102, 8080 = 1F90.
    expect(formatProcIpVsConn(ipvs)).toBe(
      'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n' +
        'TCP AC100005 9C40 0A000001 0050 C0A80102 1F90 ESTABLISHED     840\n',
    );
    expect(execIpvsadm(ipvs, '-Ln')).toContain('Masq    1      1          0         \n');
  });

  it('persistent services show the template in PersistConn and -Lcn', () => {
    const ipvs = new Ipvs({ seed: 7 });
    run(ipvs, ['-A -t 10.0.0.2:443 -p 300', '-a -t 10.0.0.2:443 -r 192.168.1.4']);
    send(ipvs, '172.16.0.9', 50000, '10.0.0.2', 443, SYN, 60);
    expect(execIpvsadm(ipvs, '-Ln --persistent-conn')).toContain('  -> 192.168.1.4:443              1         1           0          1         \n');
    // Template: <TCP, client, 0, VIP, 443> → dest:443, state NONE, timeout = the service's 300 s (05:00);
    // the DR connection: INPUT-ONLY syn NONE → SYN_RECV, 60 s (01:00). ip_vs_sched_persist, ip_vs_proto_tcp.c.
    const out = execIpvsadm(ipvs, '-Lcn');
    expect(out).toContain('TCP 05:00  NONE        172.16.0.9:0       10.0.0.2:443       192.168.1.4:443\n');
    expect(out).toContain('TCP 01:00  SYN_RECV    172.16.0.9:50000   10.0.0.2:443       192.168.1.4:443\n');
    expect(out.split('\n')).toHaveLength(2 + 2 + 1);
  });
});

describe('--set and --timeout', () => {
  it('round-trips; a 0 keeps the current value; new ESTABLISHED entries use it', () => {
    const ipvs = new Ipvs({ seed: 2 });
    // list_timeout: "Timeout (tcp tcpfin udp): %d %d %d\n"; defaults 900 120 300 (tcp_timeouts, udp_timeouts)
    expect(execIpvsadm(ipvs, '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
    expect(execIpvsadm(ipvs, '--set 100 20 30')).toBe('');
    expect(execIpvsadm(ipvs, '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 100 20 30\n');
    execIpvsadm(ipvs, '--set 0 0 45');
    expect(execIpvsadm(ipvs, '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 100 20 45\n');
    run(ipvs, ['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 192.168.1.2']);
    send(ipvs, '172.16.0.5', 40000, '10.0.0.1', 80, SYN, 60);
    send(ipvs, '172.16.0.5', 40000, '10.0.0.1', 80, ACK, 52);
    expect(execIpvsadm(ipvs, '-Lcn')).toContain('TCP 01:40  ESTABLISHED 172.16.0.5:40000'); // 100 s
    expect(execIpvsadm(ipvs, '-L --daemon')).toBe('');
  });
});

describe('-S and -R', () => {
  const CONFIG = [
    '-A -t 10.0.0.1:80 -s rr',
    '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3',
    '-a -t 10.0.0.1:80 -r 192.168.1.1 -g -w 0',
    '-A -t 10.0.0.1:443 -s wlc -p 600 -M 255.255.255.0',
    '-a -t 10.0.0.1:443 -r 192.168.1.5 -i',
    '-A -u 10.0.0.10:53 -s sh -b sh-fallback,sh-port -o',
    '-a -u 10.0.0.10:53 -r 192.168.2.1:5353 -m',
    '-A -f 12 -s mh -b mh-port -p',
    '-a -f 12 -r 192.168.3.1 -w 7',
    '-A --sctp-service 10.0.0.20:3868 -s lblc',
  ];

  it('-S prints -A/-a lines (fwd_switch; -p, -M, -o, -b; --tun-type ipip for tunnels)', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, CONFIG);
    // "-A %s -s %s" [" -p %u" [" -M %s"]] [" -o"] [" -b %s"]; "-a %s -r %s %s -w %d\n";
    // print_tunnel_rule for ipip: "-a %s -r %s %s -w %d --tun-type %s\n".
    expect(execIpvsadm(ipvs, '-Sn')).toBe(
      '-A -t 10.0.0.1:80 -s rr\n' +
        '-a -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 0\n' +
        '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3\n' +
        '-A -t 10.0.0.1:443 -s wlc -p 600 -M 255.255.255.0\n' +
        '-a -t 10.0.0.1:443 -r 192.168.1.5:443 -i -w 1 --tun-type ipip\n' +
        '-A -u 10.0.0.10:53 -s sh -o -b sh-fallback,sh-port\n' +
        '-a -u 10.0.0.10:53 -r 192.168.2.1:5353 -m -w 1\n' +
        '-A --sctp-service 10.0.0.20:3868 -s lblc\n' +
        '-A -f 12 -s mh -p 360 -b mh-port\n' +
        '-a -f 12 -r 192.168.3.1:0 -g -w 7\n',
    );
  });

  it('-S, -R into a fresh engine, -S gives identical text (and -Ln is identical too)', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, CONFIG);
    const saved = execIpvsadm(ipvs, '-S');
    const fresh = new Ipvs({ seed: 99 });
    expect(execIpvsadm(fresh, '-R', saved)).toBe('');
    expect(execIpvsadm(fresh, '-S')).toBe(saved);
    expect(execIpvsadm(fresh, '-Ln')).toBe(execIpvsadm(ipvs, '-Ln'));
  });

  it('-S does not save thresholds (ipvsadm never writes -x/-y)', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 192.168.1.2 -x 10 -y 2']);
    const fresh = new Ipvs();
    restoreIpvsadm(fresh, execIpvsadm(ipvs, '-S'));
    expect(execIpvsadm(fresh, '-Ln --thresholds')).toContain('  -> 192.168.1.2:80               0          0   ');
  });

  it('-S prints fwmarks with %d, so a mark above 2^31 - 1 saves as a negative number -R refuses', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -f 4294967295']);
    // print_service_entry: sprintf(svc_name, "-f %d", se->fwmark) / "FWM  %d" with the __u32 mark.
    expect(execIpvsadm(ipvs, '-Sn')).toBe('-A -f -1 -s wlc\n');
    expect(execIpvsadm(ipvs, '-Ln')).toBe(HEADER + TITLE + 'FWM  -1 wlc\n');
    // parse_fwmark: l <= 0 → "invalid fwmark value `-1' specified"
    expect(() => restoreIpvsadm(new Ipvs(), execIpvsadm(ipvs, '-Sn'))).toThrow(/invalid fwmark value `-1' specified/);
  });

  it('-R drops every word "ipvsadm", skips blank and # lines, and returns -L output', () => {
    const ipvs = new Ipvs({ seed: 1 });
    const out = restoreIpvsadm(
      ipvs,
      '# saved by hand\n\nipvsadm -A -t 10.0.0.1:80 -s rr\n  -a -t 10.0.0.1:80 ipvsadm -r 192.168.1.2\r\n-Ln -t 10.0.0.1:80\n',
    );
    expect(out).toBe(TITLE + 'TCP  10.0.0.1:80 rr\n' + '  -> 192.168.1.2:80               Route   1      0          0         \n');
  });

  it('is not always the identity: addresses exactly 2^31 apart compare "less" both ways, so kernel order decides', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 99.0.0.1', '-a -t 10.0.0.1:80 -r 227.0.0.1']);
    // Kernel list [227.0.0.1, 99.0.0.1] (newest first); ipvs_cmp_dests: (0xe3000001 - 0x63000001) as int
    // = 0x80000000 = INT_MIN < 0, and the reverse difference is INT_MIN too, so msort keeps the input order.
    const saved = execIpvsadm(ipvs, '-Sn');
    expect(saved).toBe('-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 227.0.0.1:80 -g -w 1\n-a -t 10.0.0.1:80 -r 99.0.0.1:80 -g -w 1\n');
    const fresh = new Ipvs();
    restoreIpvsadm(fresh, saved);
    // Restored in saved order, the kernel list is reversed, and so is the "sorted" output.
    expect(execIpvsadm(fresh, '-Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 99.0.0.1:80 -g -w 1\n-a -t 10.0.0.1:80 -r 227.0.0.1:80 -g -w 1\n');
  });

  // Addresses in 10.0.0.0/8 and 192.168.0.0/16 lie on an arc shorter than 2^31 of the 32-bit
  // circle, where libipvs' wrapping comparator is a consistent total order (192.168/16 before 10/8).
  const HOST = fc.oneof(
    fc.integer({ min: 0x0a000001, max: 0x0afffffe }),
    fc.integer({ min: 0xc0a80001, max: 0xc0a8fffe }),
    fc.integer({ min: 1, max: 0x7fffffff }).filter((h) => h < 0x0a000000),
  );

  test.prop([
    fc.array(
      fc.record({
        proto: fc.constantFrom('-t', '-u', '--sctp-service', '-f'),
        host: HOST,
        // fwmarks above 2^31 - 1 would be saved as negative numbers (see above), so stay under it
        mark: fc.integer({ min: 1, max: 0x7fffffff }),
        port: fc.integer({ min: 1, max: 65535 }),
        sched: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'fo', 'ovf', 'dh', 'sh', 'mh', 'lblc', 'lblcr', 'twos'),
        persistent: fc.option(fc.integer({ min: 1, max: 86400 })),
        mask: fc.integer({ min: 8, max: 32 }),
        dests: fc.array(
          fc.record({
            host: HOST,
            port: fc.integer({ min: 0, max: 65535 }),
            fwd: fc.constantFrom('-g', '-m', '-i'),
            weight: fc.integer({ min: 0, max: 65535 }),
          }),
          { maxLength: 4 },
        ),
      }),
      { maxLength: 6 },
    ),
  ])('-S → -R → -S is the identity for random tables', (services) => {
    const ipvs = new Ipvs({ seed: 5 });
    for (const s of services) {
      const svc = s.proto === '-f' ? `-f ${s.mark}` : `${s.proto} ${formatIPv4(s.host)}:${s.port}`;
      const mask = s.mask === 32 ? 0xffffffff : (0xffffffff << (32 - s.mask)) >>> 0;
      const p = s.persistent === null ? '' : ` -p ${s.persistent} -M ${formatIPv4(mask)}`;
      try {
        execIpvsadm(ipvs, `-A ${svc} -s ${s.sched}${p}`);
      } catch (e) {
        expect(e).toBeInstanceOf(OperationError); // a duplicate service
        continue;
      }
      for (const d of s.dests) {
        try {
          execIpvsadm(ipvs, `-a ${svc} -r ${formatIPv4(d.host)}:${d.port} ${d.fwd} -w ${d.weight}`);
        } catch (e) {
          expect(e).toBeInstanceOf(OperationError); // a duplicate dest
        }
      }
    }
    const saved = execIpvsadm(ipvs, '-S');
    const fresh = new Ipvs({ seed: 6 });
    restoreIpvsadm(fresh, saved);
    expect(execIpvsadm(fresh, '-S')).toBe(saved);
    expect(execIpvsadm(fresh, '-Ln')).toBe(execIpvsadm(ipvs, '-Ln'));
  });
});

describe('restore is atomic', () => {
  function busyEngine(): Ipvs {
    const ipvs = trafficEngine();
    run(ipvs, ['-A -u 10.0.0.1:53 -p', '-a -u 10.0.0.1:53 -r 192.168.1.7 -x 5 -y 1', '--set 500 60 90']);
    send(ipvs, '172.16.0.8', 5353, '10.0.0.1', 53, 0, 80, Protocol.UDP);
    ipvs.clock.advance(3000);
    return ipvs;
  }
  const snapshot = (ipvs: Ipvs): string =>
    ['-Sn', '-Ln', '-Ln --nosort', '-Ln --stats', '-Ln --rate', '-Ln --thresholds', '-Ln --persistent-conn', '-Lcn', '-L --timeout']
      .map((l) => execIpvsadm(ipvs, l))
      .join('');

  it('a kernel refusal on the last line leaves everything as it was (counters and connections too)', () => {
    const ipvs = busyEngine();
    const before = snapshot(ipvs);
    const text = [
      '-Z',
      '--set 1 1 1',
      '-D -t 10.0.0.1:80',
      '-C',
      '-A -t 10.0.0.5:80 -s rr',
      '-a -t 10.0.0.5:80 -r 192.168.9.9',
      '-E -u 10.0.0.1:53 -s rr', // fine: the service exists again? no — -C removed it
    ].join('\n');
    let err: unknown;
    try {
      restoreIpvsadm(ipvs, text);
    } catch (e) {
      err = e;
    }
    // Line 7 edits a service line 4 deleted: ESRCH "No such service".
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).code).toBe('ESRCH');
    expect((err as OperationError).message).toBe(
      'lbsim/ipvsadm.restoreIpvsadm: line 7: lbsim/ipvsadm.execIpvsadm: No such service (lbsim/ipvs.Ipvs.editService: no service UDP 10.0.0.1:53)',
    );
    expect(snapshot(ipvs)).toBe(before);
  });

  it('a duplicate service, an unknown scheduler or lower > upper anywhere refuses the whole input', () => {
    const ipvs = busyEngine();
    const before = snapshot(ipvs);
    const cases: readonly (readonly [string, string, number])[] = [
      ['-A -t 10.0.0.9:80\n-A -t 10.0.0.9:80', 'EEXIST', 2],
      ['-A -t 10.0.0.9:80 -s nosuch', 'ENOENT', 1],
      ['-C\n-A -t 10.0.0.9:80\n-a -t 10.0.0.9:80 -r 1.2.3.4 -x 1 -y 2', 'ERANGE', 3],
      ['-e -t 10.0.0.1:80 -r 192.168.1.2:9999 -m', 'ENOENT', 1],
      ['-a -t 10.0.0.99:80 -r 1.2.3.4', 'ESRCH', 1],
      // the dest exists in the live table: the scratch copy carries the services the input names
      ['-A -t 10.0.0.9:80\n-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m', 'EEXIST', 2],
      ['-Z -t 10.0.0.1:80\n-D -t 10.0.0.1:80\n-Z -t 10.0.0.1:80', 'ESRCH', 3],
    ];
    for (const [text, code, line] of cases) {
      let err: unknown;
      try {
        restoreIpvsadm(ipvs, text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).code).toBe(code);
      expect((err as OperationError).message).toMatch(new RegExp(`^lbsim/ipvsadm.restoreIpvsadm: line ${line}: `));
      expect(snapshot(ipvs)).toBe(before);
    }
  });

  it('a malformed line is a ParseError with its line and column, before anything runs', () => {
    const ipvs = busyEngine();
    const before = snapshot(ipvs);
    let err: unknown;
    try {
      restoreIpvsadm(ipvs, '-C\n-A -t 10.0.0.9:80\n  -a -t 10.0.0.9:80 -r 1.2.3.4 -w 99999\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).line).toBe(3);
    expect((err as ParseError).column).toBe(35); // "99999": 34 characters precede it, two leading blanks included
    expect((err as ParseError).message).toContain('illegal weight specified');
    expect(snapshot(ipvs)).toBe(before);
    // -R inside -R: restore_table's "avoid infinite loop" → the usage hint.
    expect(() => restoreIpvsadm(ipvs, '-R')).toThrow(/Try `ipvsadm -h'/);
    expect(snapshot(ipvs)).toBe(before);
  });

  it('kernel refusals surface with the line too, and thresholds up to INT_MAX are accepted', () => {
    const ipvs = busyEngine();
    const before = snapshot(ipvs);
    const text = '-a -t 10.0.0.1:80 -r 1.2.3.4 -x 70000\n-a -t 10.0.0.1:80 -r 1.2.3.4 -x 70000';
    expect(() => restoreIpvsadm(ipvs, text)).toThrow(OperationError);
    expect(() => restoreIpvsadm(ipvs, text)).toThrow(/line 2: /);
    expect(snapshot(ipvs)).toBe(before);
    restoreIpvsadm(ipvs, '-a -t 10.0.0.1:80 -r 1.2.3.4 -x 70000');
    expect(execIpvsadm(ipvs, '-Ln --thresholds')).toContain('1.2.3.4:80');
  });

  it('applies everything when every line succeeds', () => {
    const ipvs = busyEngine();
    restoreIpvsadm(ipvs, '-C\n-A -t 10.0.0.9:80 -s rr\n-a -t 10.0.0.9:80 -r 1.2.3.4 -m -w 4\n--set 0 0 33');
    expect(execIpvsadm(ipvs, '-Sn')).toBe('-A -t 10.0.0.9:80 -s rr\n-a -t 10.0.0.9:80 -r 1.2.3.4:80 -m -w 4\n');
    expect(execIpvsadm(ipvs, '-L --timeout')).toBe('Timeout (tcp tcpfin udp): 500 60 33\n');
  });
});

describe('kernel refusals through execIpvsadm', () => {
  function base(): Ipvs {
    const ipvs = new Ipvs({ seed: 4 });
    run(ipvs, ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m', '-A -t 10.0.0.1:443 -p']);
    return ipvs;
  }
  // ipvs_strerror (libipvs.c, 1.31) texts per failing call.
  const CASES: readonly (readonly [string, string, string])[] = [
    ['-A -t 10.0.0.1:80', 'EEXIST', 'Service already exists'],
    ['-A -t 10.0.0.2:80 -s nosuch', 'ENOENT', 'Scheduler or persistence engine not found'],
    ['-E -t 10.0.0.1:80 -s nosuch', 'ENOENT', 'Scheduler or persistence engine not found'],
    ['-A -t 10.0.0.2:80 --pe sip', 'ENOENT', 'Scheduler or persistence engine not found'],
    ['-A -t 10.0.0.1:80 --pe sip', 'EEXIST', 'Service already exists'],
    ['-E -t 10.0.0.9:80', 'ESRCH', 'No such service'],
    ['-D -t 10.0.0.9:80', 'ESRCH', 'No such service'],
    ['-Z -t 10.0.0.9:80', 'ESRCH', 'No such service'],
    ['-a -t 10.0.0.9:80 -r 192.168.1.2', 'ESRCH', 'Service not defined'],
    ['-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m', 'EEXIST', 'Destination already exists'],
    ['-a -t 10.0.0.1:80 -r 192.168.1.3 -x 5 -y 6', 'ERANGE', 'Numerical result out of range'],
    // -e sends -g by default, which forces the service port: 192.168.1.2:80 does not exist.
    ['-e -t 10.0.0.1:80 -r 192.168.1.2:8080 -w 5', 'ENOENT', 'No such destination'],
    // ip_vs_edit_dest checks the thresholds before looking the dest up.
    ['-e -t 10.0.0.1:80 -r 192.168.1.9 -x 1 -y 2', 'ERANGE', 'Numerical result out of range'],
    ['-d -t 10.0.0.1:80 -r 192.168.1.2', 'ENOENT', 'No such destination'],
    ['-d -t 10.0.0.9:80 -r 192.168.1.2', 'ESRCH', 'Service not defined'],
  ];

  it.each(CASES)('%s → %s "%s", state unchanged', (line, code, text) => {
    const ipvs = base();
    const before = execIpvsadm(ipvs, '-Sn') + execIpvsadm(ipvs, '-Ln --thresholds');
    let err: unknown;
    try {
      execIpvsadm(ipvs, line);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).code).toBe(code);
    expect((err as OperationError).message).toContain(`lbsim/ipvsadm.execIpvsadm: ${text}`);
    expect(execIpvsadm(ipvs, '-Sn') + execIpvsadm(ipvs, '-Ln --thresholds')).toBe(before);
  });
});

describe('-E and -e send complete entries', () => {
  it('-E without -p makes a persistent service non-persistent; -E without -s resets to wlc', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80 -s rr -p 500 -M 255.255.0.0']);
    execIpvsadm(ipvs, '-E -t 10.0.0.1:80');
    expect(execIpvsadm(ipvs, '-Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n');
  });

  it('-e without -m turns a NAT dest into DR when the ports match; -e -m keeps NAT', () => {
    const ipvs = new Ipvs({ seed: 1 });
    run(ipvs, ['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 5', '-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -m -w 5']);
    execIpvsadm(ipvs, '-e -t 10.0.0.1:80 -r 192.168.1.2');
    execIpvsadm(ipvs, '-e -t 10.0.0.1:80 -r 192.168.1.3:8080 -m');
    expect(execIpvsadm(ipvs, '-Sn')).toBe(
      '-A -t 10.0.0.1:80 -s wlc\n' + '-a -t 10.0.0.1:80 -r 192.168.1.2:80 -g -w 1\n' + '-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -m -w 1\n',
    );
    // -d with the real port removes the NAT dest
    execIpvsadm(ipvs, '-d -t 10.0.0.1:80 -r 192.168.1.3:8080');
    expect(execIpvsadm(ipvs, '-Sn')).toBe('-A -t 10.0.0.1:80 -s wlc\n' + '-a -t 10.0.0.1:80 -r 192.168.1.2:80 -g -w 1\n');
    execIpvsadm(ipvs, '-C');
    expect(execIpvsadm(ipvs, '-Sn')).toBe('');
  });
});
