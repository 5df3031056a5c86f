/**
 * Constants of the kernel's connection tracker: `IPS_*` status bits, the TCP
 * conntrack states, the TCP state transition table and the default timeouts
 * (sysctls). Values are those of torvalds/linux
 * `include/uapi/linux/netfilter/nf_conntrack_common.h`,
 * `include/uapi/linux/netfilter/nf_conntrack_tcp.h` and
 * `net/netfilter/nf_conntrack_proto_{tcp,udp,icmp,generic}.c`.
 *
 * @module
 */

/**
 * `enum ip_conntrack_status` bits (include/uapi/linux/netfilter/nf_conntrack_common.h).
 * `NAT_CLASH` is the kernel-internal alias of the obsolete `UNTRACKED` bit.
 */
export const IPS = {
  /** Expected connection (created by a helper expectation). */
  EXPECTED: 1,
  /** A packet was seen in the reply direction. */
  SEEN_REPLY: 2,
  /** Never early-dropped. */
  ASSURED: 4,
  /** In the hash table. */
  CONFIRMED: 8,
  /** The reply tuple was altered by a source manip. */
  SRC_NAT: 16,
  /** The reply tuple was altered by a destination manip. */
  DST_NAT: 32,
  /** TCP sequence numbers are adjusted (helpers; not modelled). */
  SEQ_ADJUST: 64,
  /** The source manip is set up (possibly a null binding). */
  SRC_NAT_DONE: 128,
  /** The destination manip is set up (possibly a null binding). */
  DST_NAT_DONE: 256,
  /** Removed from the table; cannot be unset. */
  DYING: 512,
  /** The timeout is never refreshed. */
  FIXED_TIMEOUT: 1024,
  /** A template entry (CT target). */
  TEMPLATE: 2048,
  /** Kernel-internal: inserted on a NAT clash (alias of the obsolete UNTRACKED bit). */
  NAT_CLASH: 4096,
  /** A helper was attached by the CT target. */
  HELPER: 8192,
  /** Offloaded to a flow table. */
  OFFLOAD: 16384,
  /** Offloaded to hardware. */
  HW_OFFLOAD: 32768,
} as const;

/** `IPS_NAT_MASK`: both NAT bits. */
export const IPS_NAT_MASK: number = IPS.SRC_NAT | IPS.DST_NAT;

/** `enum tcp_conntrack` (include/uapi/linux/netfilter/nf_conntrack_tcp.h). */
export const TcpState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  /** Simultaneous open: a SYN seen in the reply direction (was `LISTEN`). */
  SYN_SENT2: 9,
  /** `TCP_CONNTRACK_MAX`: in the table it means "invalid" (`sIV`). */
  MAX: 10,
  /** `TCP_CONNTRACK_IGNORE` (`sIG`). */
  IGNORE: 11,
  /** Timeout slot used after too many retransmissions. */
  RETRANS: 12,
  /** Timeout slot used while data is unacknowledged. */
  UNACK: 13,
} as const;

/** A TCP conntrack state number. */
export type TcpStateNumber = (typeof TcpState)[keyof typeof TcpState];

/** `tcp_conntrack_names[]` of nf_conntrack_proto_tcp.c, indexed by state number. */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];

/** `enum tcp_bit_set` of nf_conntrack_proto_tcp.c: the flag index of the transition table. */
export const TcpIndex = {
  SYN: 0,
  SYNACK: 1,
  FIN: 2,
  ACK: 3,
  RST: 4,
  NONE: 5,
} as const;

/** `ip_ct_tcp_state.flags` bits (include/uapi/linux/netfilter/nf_conntrack_tcp.h). */
export const TcpFlagBit = {
  WINDOW_SCALE: 0x01,
  SACK_PERM: 0x02,
  /** This direction sent the first FIN. */
  CLOSE_INIT: 0x04,
  BE_LIBERAL: 0x08,
  DATA_UNACKNOWLEDGED: 0x10,
  MAXACK_SET: 0x20,
  /** `last_flags`: an RFC 5961 challenge ACK may follow. */
  EXP_CHALLENGE_ACK: 0x40,
  /** `last_flags`: simultaneous open in progress. */
  SIMULTANEOUS_OPEN: 0x80,
} as const;

const sSS = TcpState.SYN_SENT;
const sSR = TcpState.SYN_RECV;
const sES = TcpState.ESTABLISHED;
const sFW = TcpState.FIN_WAIT;
const sCW = TcpState.CLOSE_WAIT;
const sLA = TcpState.LAST_ACK;
const sTW = TcpState.TIME_WAIT;
const sCL = TcpState.CLOSE;
const sS2 = TcpState.SYN_SENT2;
const sIV = TcpState.MAX;
const sIG = TcpState.IGNORE;

/**
 * `tcp_conntracks[2][6][TCP_CONNTRACK_MAX]` of torvalds/linux
 * `net/netfilter/nf_conntrack_proto_tcp.c` (as of v6.17 / v7.0-rc), copied cell
 * by cell and flattened: the next state is
 * `TCP_TRANSITIONS[(dir * 6 + index) * 10 + oldState]`.
 *
 * ```
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
 * ```
 */
export const TCP_TRANSITIONS: Uint8Array = Uint8Array.from([
  // ORIGINAL
  /* syn    */ sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2,
  /* synack */ sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR,
  /* fin    */ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV,
  /* ack    */ sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV,
  /* rst    */ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
  /* none   */ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV,
  // REPLY
  /* syn    */ sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2,
  /* synack */ sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR,
  /* fin    */ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV,
  /* ack    */ sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG,
  /* rst    */ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
  /* none   */ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV,
]);

/** Looks up {@link TCP_TRANSITIONS}: `tcp_conntracks[dir][index][state]`. */
export function tcpTransition(dir: number, index: number, state: number): number {
  return TCP_TRANSITIONS[(dir * 6 + index) * 10 + state]!;
}

/**
 * The conntrack timeout sysctls in seconds (`net.netfilter.nf_conntrack_*`),
 * as Documentation/networking/nf_conntrack-sysctl.rst names them.
 */
export interface ConntrackTimeouts {
  /** `nf_conntrack_tcp_timeout_syn_sent`. */
  readonly tcpSynSent: number;
  /** `nf_conntrack_tcp_timeout_syn_recv`. */
  readonly tcpSynRecv: number;
  /** `nf_conntrack_tcp_timeout_established`. */
  readonly tcpEstablished: number;
  /** `nf_conntrack_tcp_timeout_fin_wait`. */
  readonly tcpFinWait: number;
  /** `nf_conntrack_tcp_timeout_close_wait`. */
  readonly tcpCloseWait: number;
  /** `nf_conntrack_tcp_timeout_last_ack`. */
  readonly tcpLastAck: number;
  /** `nf_conntrack_tcp_timeout_time_wait`. */
  readonly tcpTimeWait: number;
  /** `nf_conntrack_tcp_timeout_close`. */
  readonly tcpClose: number;
  /** `nf_conntrack_tcp_timeout_max_retrans`. */
  readonly tcpMaxRetrans: number;
  /** `nf_conntrack_tcp_timeout_unacknowledged`. */
  readonly tcpUnacknowledged: number;
  /** `nf_conntrack_udp_timeout` (no reply seen yet, or a reply within 2 s of creation). */
  readonly udp: number;
  /** `nf_conntrack_udp_timeout_stream` (traffic both ways, still active 2 s after creation). */
  readonly udpStream: number;
  /** `nf_conntrack_icmp_timeout`. */
  readonly icmp: number;
  /** `nf_conntrack_generic_timeout` (protocols without a tracker). */
  readonly generic: number;
}

/**
 * Kernel defaults of the timeout sysctls (seconds), from the static tables of
 * nf_conntrack_proto_tcp.c (`tcp_timeouts`), nf_conntrack_proto_udp.c
 * (`udp_timeouts`), nf_conntrack_proto_icmp.c and nf_conntrack_proto_generic.c.
 *
 * `udpStream` is 120 s in current kernels (v5.x through v7.0-rc; the 5.10 stable
 * backport of "set on IPS_ASSURED if flows enters internal stream state" already
 * describes the 120 s stream timeout). Kernels up to about v5.x used 180 s, which
 * is why older documentation and distribution sysctl files show 180.
 */
export const DEFAULT_TIMEOUTS: ConntrackTimeouts = {
  tcpSynSent: 120,
  tcpSynRecv: 60,
  tcpEstablished: 432000,
  tcpFinWait: 120,
  tcpCloseWait: 60,
  tcpLastAck: 30,
  tcpTimeWait: 120,
  tcpClose: 10,
  tcpMaxRetrans: 300,
  tcpUnacknowledged: 300,
  udp: 30,
  udpStream: 120,
  icmp: 30,
  generic: 600,
};

/** The per-TCP-state timeout table in ms, indexed like the kernel's `tcp_timeouts[]` (0..13). */
export function tcpTimeoutTable(t: ConntrackTimeouts): Float64Array {
  const a = new Float64Array(14);
  a[TcpState.SYN_SENT] = t.tcpSynSent * 1000;
  a[TcpState.SYN_RECV] = t.tcpSynRecv * 1000;
  a[TcpState.ESTABLISHED] = t.tcpEstablished * 1000;
  a[TcpState.FIN_WAIT] = t.tcpFinWait * 1000;
  a[TcpState.CLOSE_WAIT] = t.tcpCloseWait * 1000;
  a[TcpState.LAST_ACK] = t.tcpLastAck * 1000;
  a[TcpState.TIME_WAIT] = t.tcpTimeWait * 1000;
  a[TcpState.CLOSE] = t.tcpClose * 1000;
  // SYN_SENT2 has no sysctl (nf_conntrack_standalone_init_tcp_sysctl): always tcp_timeouts[]'s 2 minutes.
  a[TcpState.SYN_SENT2] = 120_000;
  a[TcpState.RETRANS] = t.tcpMaxRetrans * 1000;
  a[TcpState.UNACK] = t.tcpUnacknowledged * 1000;
  return a;
}

/**
 * `tcp_valid_flags[]` of nf_conntrack_proto_tcp.c: the flag combinations
 * `tcp_error` accepts, after PSH, ECE and CWR are masked off. Index = flag byte
 * `& (FIN|SYN|RST|ACK|URG)`.
 */
export const TCP_VALID_FLAGS: Uint8Array = (() => {
  const FIN = 0x01;
  const SYN = 0x02;
  const RST = 0x04;
  const ACK = 0x10;
  const URG = 0x20;
  const a = new Uint8Array((FIN | SYN | RST | ACK | URG) + 1);
  for (const v of [SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG]) a[v] = 1;
  return a;
})();
