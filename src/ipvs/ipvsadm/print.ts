/**
 * What `ipvsadm` prints, byte for byte, from the printf formats of ipvsadm
 * 1.31 `ipvsadm.c` (`list_all`, `list_service`, `print_title`,
 * `print_service_entry`, `print_largenum`, `print_sched_flags`,
 * `list_conn`/`print_conn`, `list_timeout`) and of the kernel's
 * `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show`, torvalds/linux
 * `net/netfilter/ipvs/ip_vs_conn.c`).
 *
 * Sorting follows libipvs `ipvs_cmp_services`/`ipvs_cmp_dests` run through
 * glibc's merge sort, including the C `int` wrap-around of the address
 * difference. lbsim never resolves names: output is always what `-n` gives.
 *
 * @module
 */

import { formatIPv4 } from '../../net/ipv4.js';
import { Protocol } from '../../net/protocol.js';
import type { Conn } from '../conn.js';
import type { Dest } from '../dest.js';
import { ForwardMethod, forwardName, ServiceFlag } from '../flags.js';
import type { Ipvs } from '../ipvs.js';
import type { VirtualService } from '../service.js';
import { readRates } from '../stats.js';

/** `IP_VS_VERSION_CODE` 0x010201, printed by `NVERSION` as 1.2.1. */
export const IPVS_VERSION_STRING = '1.2.1';

/** Output options of `ipvsadm -L` (every field optional, default false). */
export interface IpvsadmPrintFormat {
  /** `--stats`. */
  readonly stats?: boolean;
  /** `--rate`. */
  readonly rate?: boolean;
  /** `--thresholds`. */
  readonly thresholds?: boolean;
  /** `--persistent-conn`. */
  readonly persistentConn?: boolean;
  /** `--tun-info`. */
  readonly tunInfo?: boolean;
  /** `--exact`. */
  readonly exact?: boolean;
  /** `--nosort`: kernel order instead of ipvsadm's sort. */
  readonly nosort?: boolean;
}

const SCHED_MASK = ServiceFlag.SCHED1 | ServiceFlag.SCHED2 | ServiceFlag.SCHED3;

// -------------------------------------------------------------------- sorting

/**
 * glibc's `msort_with_tmp` (stdlib/msort.c): top-down merge sort that splits
 * at n/2 and takes from the left run while `cmp(left, right) <= 0`. Used
 * because ipvsadm's comparators are not transitive for addresses more than
 * 2^31 apart, so the algorithm decides the order.
 */
function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = Math.floor(n / 2);
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    let r1 = n1;
    let r2 = n2;
    let k = 0;
    while (r1 > 0 && r2 > 0) {
      if (cmp(a[i]!, a[j]!) <= 0) {
        tmp[k++] = a[i++]!;
        r1--;
      } else {
        tmp[k++] = a[j++]!;
        r2--;
      }
    }
    while (r1 > 0) {
      tmp[k++] = a[i++]!;
      r1--;
    }
    // The r2 elements left in the right run are already in place.
    for (let t = 0; t < n - r2; t++) a[lo + t] = tmp[t]!;
  };
  sort(0, a.length);
  return a;
}

/**
 * libipvs `ipvs_cmp_services`: fwmark, address family (always IPv4 here),
 * protocol, address, port. Each difference is taken the C way: unsigned
 * 32-bit subtraction converted to `int` (so 10.0.0.1 sorts *after*
 * 192.168.0.1: 0x0a000001 - 0xc0a80001 wraps to a positive int).
 * Fwmark services carry protocol, address and port 0, as the kernel's
 * netlink dump leaves them unset.
 */
export function compareServicesLikeIpvsadm(a: VirtualService, b: VirtualService): number {
  let r = (a.fwmark - b.fwmark) | 0;
  if (r !== 0) return r;
  r = a.proto - b.proto;
  if (r !== 0) return r;
  r = (a.addr - b.addr) | 0;
  if (r !== 0) return r;
  return a.port - b.port;
}

/** libipvs `ipvs_cmp_dests`: address (C `int` difference, as above), then port. */
export function compareDestsLikeIpvsadm(a: Dest, b: Dest): number {
  const r = (a.addr - b.addr) | 0;
  if (r !== 0) return r;
  return a.port - b.port;
}

/** Services in the order `ipvsadm -L` prints them (kernel order with `nosort`). */
export function servicesInListOrder(ipvs: Ipvs, nosort = false): VirtualService[] {
  const kernel = [...ipvs.services()];
  return nosort ? kernel : glibcMergeSort(kernel, compareServicesLikeIpvsadm);
}

/** A service's dests in the order `ipvsadm -L` prints them (kernel list order with `nosort`). */
export function destsInListOrder(svc: VirtualService, nosort = false): Dest[] {
  return nosort ? svc.dests.slice() : glibcMergeSort(svc.dests, compareDestsLikeIpvsadm);
}

// ------------------------------------------------------------ printf helpers

const left = (s: string, w: number): string => s.padEnd(w);
const right = (s: string, w: number): string => s.padStart(w);

/** `print_largenum`: 9 columns, K/M/G/T above 10^8, or exact widths with `--exact`. */
export function formatLargeNumber(i: number, exact = false): string {
  const s = String(i);
  if (exact) return right(s, s.length <= 8 ? 9 : s.length + 1);
  if (i < 1e8) return right(s, 9);
  if (i < 1e9) return right(String(Math.floor(i / 1e3)), 8) + 'K';
  if (i < 1e11) return right(String(Math.floor(i / 1e6)), 8) + 'M';
  if (i < 1e14) return right(String(Math.floor(i / 1e9)), 8) + 'G';
  return right(String(Math.floor(i / 1e12)), 8) + 'T';
}

/** `addrport_to_anyname` with `FMT_NUMERIC` for IPv4: `a.b.c.d:port`. */
function addrPort(addr: number, port: number): string {
  return `${formatIPv4(addr)}:${port}`;
}

// ipvsadm 1.31 `protocol_name`.
function protocolName(proto: number): string {
  if (proto === Protocol.TCP) return 'TCP';
  if (proto === Protocol.UDP) return 'UDP';
  if (proto === Protocol.SCTP) return 'SCTP';
  return '?';
}

// ipvsadm 1.31 `option_from_protocol` (NULL → "--xxx-service").
function protocolOption(proto: number): string {
  if (proto === Protocol.TCP) return '-t';
  if (proto === Protocol.UDP) return '-u';
  if (proto === Protocol.SCTP) return '--sctp-service';
  return '--xxx-service';
}

// `fwd_switch`: Local saves as -g.
function forwardSwitch(fwd: ForwardMethod): string {
  if (fwd === ForwardMethod.MASQ) return '-m';
  if (fwd === ForwardMethod.TUNNEL) return '-i';
  return '-g';
}

/** `print_sched_flags`: names depend on the scheduler (sh-*, mh-*, else flag-N). */
function schedFlagNames(svc: VirtualService): string {
  const f = svc.flags;
  const names: string[] = [];
  const sched = svc.scheduler.name;
  if (sched === 'sh') {
    if ((f & ServiceFlag.SCHED1) !== 0) names.push('sh-fallback');
    if ((f & ServiceFlag.SCHED2) !== 0) names.push('sh-port');
  } else if (sched === 'mh') {
    if ((f & ServiceFlag.SCHED1) !== 0) names.push('mh-fallback');
    if ((f & ServiceFlag.SCHED2) !== 0) names.push('mh-port');
  } else {
    if ((f & ServiceFlag.SCHED1) !== 0) names.push('flag-1');
    if ((f & ServiceFlag.SCHED2) !== 0) names.push('flag-2');
    if ((f & ServiceFlag.SCHED3) !== 0) names.push('flag-3');
  }
  return names.join(',');
}

/** The fwmark as C `%d` prints the unsigned value (marks above 2^31-1 come out negative). */
function fwmarkD(mark: number): string {
  return String(mark | 0);
}

/** `svc->timeout / HZ` in seconds. */
function timeoutSeconds(svc: VirtualService): number {
  return Math.floor(svc.timeoutMs / 1000);
}

// ----------------------------------------------------------------- -L / -S

/**
 * `print_title`: the column header lines for the chosen format (empty for `-S`).
 */
export function formatListTitle(format: IpvsadmPrintFormat = {}): string {
  if (format.stats === true) {
    return `${left('Prot LocalAddress:Port', 33)} ${right('Conns', 8)} ${right('InPkts', 8)} ${right('OutPkts', 8)} ${right('InBytes', 8)} ${right('OutBytes', 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (format.rate === true) {
    return `${left('Prot LocalAddress:Port', 33)} ${right('CPS', 8)} ${right('InPPS', 8)} ${right('OutPPS', 8)} ${right('InBPS', 8)} ${right('OutBPS', 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (format.thresholds === true) {
    return `${left('Prot LocalAddress:Port', 33)} ${left('Uthreshold', 10)} ${left('Lthreshold', 10)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (format.persistentConn === true) {
    return `${left('Prot LocalAddress:Port', 33)} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (format.tunInfo === true) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  }
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

// svc_name of print_service_entry (not FMT_RULE).
function listName(svc: VirtualService): string {
  if (svc.fwmark !== 0) return `FWM  ${fwmarkD(svc.fwmark)}`;
  return `${left(protocolName(svc.proto), 4)} ${addrPort(svc.addr, svc.port)}`.slice(0, 33);
}

// svc_name of print_service_entry with FMT_RULE.
function ruleName(svc: VirtualService): string {
  if (svc.fwmark !== 0) return `-f ${fwmarkD(svc.fwmark)}`;
  return `${protocolOption(svc.proto)} ${addrPort(svc.addr, svc.port)}`;
}

/**
 * `print_service_entry` for one service and its dests in a listing format
 * (not `-S`).
 */
export function formatServiceEntry(svc: VirtualService, format: IpvsadmPrintFormat = {}): string {
  const exact = format.exact === true;
  const name = listName(svc);
  let out: string;
  if (format.stats === true) {
    const s = svc.stats.read();
    out = left(name, 33) + [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((v) => formatLargeNumber(v, exact)).join('');
  } else if (format.rate === true) {
    const r = readRates(svc.stats);
    out = left(name, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((v) => formatLargeNumber(v, exact)).join('');
  } else {
    out = `${name} ${svc.scheduler.name}`;
    if ((svc.flags & SCHED_MASK) !== 0) out += ` (${schedFlagNames(svc)})`;
    if (svc.persistent) {
      out += ` persistent ${timeoutSeconds(svc)}`;
      if (svc.netmask !== 0xffffffff) out += ` mask ${formatIPv4(svc.netmask)}`;
    }
    if ((svc.flags & ServiceFlag.ONEPACKET) !== 0) out += ' ops';
  }
  out += '\n';
  for (const d of destsInListOrder(svc, format.nosort === true)) {
    const dname = addrPort(d.addr, d.port).slice(0, 28);
    if (format.stats === true) {
      const s = d.stats.read();
      out += `  -> ${left(dname, 28)}${[s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((v) => formatLargeNumber(v, exact)).join('')}\n`;
    } else if (format.rate === true) {
      const r = readRates(d.stats);
      out += `  -> ${left(dname, 28)} ${right(String(r.cps), 8)} ${right(String(r.inpps), 8)} ${right(String(r.outpps), 8)}${formatLargeNumber(r.inbps, exact)}${formatLargeNumber(r.outbps, exact)}\n`;
    } else if (format.thresholds === true) {
      out += `  -> ${left(dname, 28)} ${left(String(d.uThreshold), 10)} ${left(String(d.lThreshold), 10)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}\n`;
    } else if (format.persistentConn === true) {
      out += `  -> ${left(dname, 28)} ${left(String(d.weight), 9)} ${left(String(d.persistConns), 11)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}\n`;
    } else if (format.tunInfo === true) {
      // fwd_tun_info: lbsim tunnels are all ipip (IP_VS_CONN_F_TUNNEL_TYPE_IPIP); others "n/a".
      const ti = d.fwd === ForwardMethod.TUNNEL ? 'ipip' : 'n/a';
      out += `  -> ${left(dname, 28)} ${left(forwardName(d.fwd), 7)} ${left(ti, 13)} ${left(String(d.weight), 6)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}\n`;
    } else {
      out += `  -> ${left(dname, 28)} ${left(forwardName(d.fwd), 7)} ${left(String(d.weight), 6)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}\n`;
    }
  }
  return out;
}

/**
 * `list_all`: `ipvsadm -Ln` and its `--stats`/`--rate`/`--thresholds`/
 * `--persistent-conn`/`--tun-info`/`--exact`/`--nosort` variants.
 *
 * @example
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 * TCP  10.0.0.1:80 wlc
 *   -> 192.168.1.2:80               Masq    1      0          0
 * ```
 */
export function formatIpvsadmList(ipvs: Ipvs, format: IpvsadmPrintFormat = {}): string {
  let out = `IP Virtual Server version ${IPVS_VERSION_STRING} (size=${ipvs.connTabSize})\n`;
  out += formatListTitle(format);
  for (const svc of servicesInListOrder(ipvs, format.nosort === true)) out += formatServiceEntry(svc, format);
  return out;
}

/** `list_service`: `ipvsadm -Ln -t VIP:port` (title and one entry, no version line). */
export function formatIpvsadmService(svc: VirtualService, format: IpvsadmPrintFormat = {}): string {
  return formatListTitle(format) + formatServiceEntry(svc, format);
}

/**
 * `ipvsadm -Sn` (`list_all` with `FMT_RULE`): one `-A` line per service and
 * one `-a` line per dest, always sorted. Thresholds are not saved (ipvsadm
 * never writes `-x`/`-y`); tunnel dests carry `--tun-type ipip` as 1.31
 * prints them.
 */
export function formatIpvsadmSave(ipvs: Ipvs): string {
  let out = '';
  for (const svc of servicesInListOrder(ipvs)) {
    const name = ruleName(svc);
    out += `-A ${name} -s ${svc.scheduler.name}`;
    if (svc.persistent) {
      out += ` -p ${timeoutSeconds(svc)}`;
      if (svc.netmask !== 0xffffffff) out += ` -M ${formatIPv4(svc.netmask)}`;
    }
    if ((svc.flags & ServiceFlag.ONEPACKET) !== 0) out += ' -o';
    if ((svc.flags & SCHED_MASK) !== 0) out += ` -b ${schedFlagNames(svc)}`;
    out += '\n';
    for (const d of destsInListOrder(svc)) {
      out += `-a ${name} -r ${addrPort(d.addr, d.port)} ${forwardSwitch(d.fwd)} -w ${d.weight}`;
      if (d.fwd === ForwardMethod.TUNNEL) out += ' --tun-type ipip';
      out += '\n';
    }
  }
  return out;
}

/** `list_timeout`: `Timeout (tcp tcpfin udp): 900 120 300`. */
export function formatIpvsadmTimeouts(ipvs: Ipvs): string {
  const t = ipvs.getTimeouts();
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

// ---------------------------------------------------------------- connections

/** `ip_vs_proto_name` (torvalds/linux `net/netfilter/ipvs/ip_vs_core.c`). */
export function ipvsProtoName(proto: number): string {
  switch (proto) {
    case Protocol.IP:
      return 'IP';
    case Protocol.UDP:
      return 'UDP';
    case Protocol.TCP:
      return 'TCP';
    case Protocol.SCTP:
      return 'SCTP';
    case Protocol.ICMP:
      return 'ICMP';
    default:
      return `IP_${proto}`;
  }
}

/** Seconds left as the kernel prints them: `jiffies_delta_to_msecs(expires - jiffies) / 1000` (0 when overdue). */
function expiresSeconds(ipvs: Ipvs, c: Conn): number {
  return Math.floor(Math.max(0, c.expires - ipvs.clock.now) / 1000);
}

const hex = (v: number, w: number): string => v.toString(16).toUpperCase().padStart(w, '0');

/**
 * `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show`): addresses and ports in
 * upper-case hex, expiry in seconds, entries in connection-table order.
 */
export function formatProcIpVsConn(ipvs: Ipvs): string {
  let out = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
  for (const c of ipvs.connections()) {
    out += `${left(ipvsProtoName(c.proto), 3)} ${hex(c.caddr, 8)} ${hex(c.cport, 4)} ${hex(c.vaddr, 8)} ${hex(c.vport, 4)} ${hex(c.daddr, 8)} ${hex(c.dport, 4)} ${left(ipvs.stateName(c), 11)} ${right(String(expiresSeconds(ipvs, c)), 7)}\n`;
  }
  return out;
}

/**
 * `ipvsadm -Lcn` (`list_conn`/`print_conn`), read from the same data as
 * {@link formatProcIpVsConn}: `pro expire state source virtual destination`
 * with `expire` as `mm:ss` (minutes not wrapped). `persistentConn` adds the
 * `pe name`/`pe_data` header columns of 1.31; rows stay short because lbsim
 * has no persistence engines (ipvsadm prints the long row only when the
 * kernel line carries pe data).
 */
export function formatIpvsadmConnections(ipvs: Ipvs, options: { readonly persistentConn?: boolean } = {}): string {
  let out = 'IPVS connection entries\n';
  if (options.persistentConn === true) {
    out += `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data\n`;
  } else {
    out += `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination\n`;
  }
  for (const c of ipvs.connections()) {
    const secs = expiresSeconds(ipvs, c);
    const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    out += `${left(ipvsProtoName(c.proto), 3)} ${left(expire, 6)} ${left(ipvs.stateName(c), 11)} ${left(addrPort(c.caddr, c.cport), 18)} ${left(addrPort(c.vaddr, c.vport), 18)} ${addrPort(c.daddr, c.dport)}\n`;
  }
  return out;
}
