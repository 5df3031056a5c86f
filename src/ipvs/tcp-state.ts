/**
 * IPVS per-connection protocol states and their default timeouts
 * (torvalds/linux `net/netfilter/ipvs/ip_vs_proto_tcp.c`, `ip_vs_proto_udp.c`).
 *
 * @module
 */

/** TCP connection states (`IP_VS_TCP_S_*`), in the kernel's numbering. */
export const TcpState = {
  NONE: 0,
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT: 4,
  TIME_WAIT: 5,
  CLOSE: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  LISTEN: 9,
  SYNACK: 10,
} as const;

/** A TCP state number. */
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** State names as `/proc/net/ip_vs_conn` and `ipvsadm -Lc` print them (`tcp_state_name_table`). */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'SYNACK',
];

/** Default TCP timeouts in seconds, indexed by {@link TcpState} (`tcp_timeouts`). */
export const DEFAULT_TCP_TIMEOUTS_S: readonly number[] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];

/** Default UDP timeout in seconds (`udp_timeouts[IP_VS_UDP_S_NORMAL]`). */
export const DEFAULT_UDP_TIMEOUT_S = 300;

/** Default SCTP timeout in seconds for lbsim's single-state SCTP model (see docs/ipvs.md). */
export const DEFAULT_SCTP_TIMEOUT_S = 900;

/** Timeout of a freshly created connection before its first state transition (`ip_vs_conn_new`: 3 s). */
export const NEW_CONN_TIMEOUT_MS = 3000;

/** Re-arm period of a template that still controls connections (`ip_vs_conn_expire`: 60 s). */
export const TEMPLATE_RECHECK_MS = 60_000;

/** Direction offsets into the state table (`TCP_DIR_INPUT` 0, `TCP_DIR_OUTPUT` 4, `TCP_DIR_INPUT_ONLY` 8). */
export const TcpDirection = { INPUT: 0, OUTPUT: 4, INPUT_ONLY: 8 } as const;

/** A direction offset. */
export type TcpDirection = (typeof TcpDirection)[keyof typeof TcpDirection];

const sES = 1;
const sSS = 2;
const sSR = 3;
const sFW = 4;
const sTW = 5;
const sCL = 6;
const sCW = 7;
const sLA = 8;
const sLI = 9;
const sSA = 10;

// Rows: direction offset + flag index (syn 0, fin 1, ack 2, rst 3); columns: current state.
// Copied cell by cell from `tcp_states[]` in ip_vs_proto_tcp.c.
const TCP_STATES: readonly (readonly number[])[] = [
  // INPUT
  [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],
  [sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],
  // OUTPUT
  [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],
  [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  // INPUT-ONLY
  [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  [sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

// `tcp_states_dos[]`: the stricter table `secure_tcp` swaps in.
const TCP_STATES_SECURE: readonly (readonly number[])[] = [
  [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA],
  [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA],
  [sCL, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA],
  [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
  [sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA],
  [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  [sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA],
  [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  [sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

/**
 * `tcp_state_idx`: rst → 3, syn → 0, fin → 1, ack → 2, none → -1 (checked in that order).
 */
export function tcpFlagIndex(flags: number): number {
  if ((flags & 0x04) !== 0) return 3;
  if ((flags & 0x02) !== 0) return 0;
  if ((flags & 0x01) !== 0) return 1;
  if ((flags & 0x10) !== 0) return 2;
  return -1;
}

/** Number of state columns per table row. */
const STATES = 11;

// Both tables flattened (row-major, the secure table after the normal one) so
// a transition is one load from one typed array.
const FLAT_STATES: Uint8Array = (() => {
  const flat = new Uint8Array(2 * TCP_STATES.length * STATES);
  [...TCP_STATES, ...TCP_STATES_SECURE].forEach((row, r) => {
    flat.set(row, r * STATES);
  });
  return flat;
})();
const SECURE_OFFSET = TCP_STATES.length * STATES;

// tcpFlagIndex of every combination of the four flags it reads (rst 0x04,
// syn 0x02, fin 0x01, ack 0x10), indexed by `flags & 0x17`.
const FLAG_INDEX: Int8Array = (() => {
  const t = new Int8Array(0x18);
  for (let f = 0; f < t.length; f++) t[f] = tcpFlagIndex(f);
  return t;
})();

/**
 * The next TCP state (`set_tcp_state`): a packet with none of rst/syn/fin/ack set moves the connection to CLOSE.
 *
 * @param state - current state
 * @param direction - {@link TcpDirection} offset (already INPUT_ONLY when the connection has NOOUTPUT)
 * @param flags - TCP flag bits of the packet
 * @param secure - use the `secure_tcp` table
 */
export function nextTcpState(state: number, direction: number, flags: number, secure = false): number {
  const idx = FLAG_INDEX[flags & 0x17]!;
  if (idx < 0) return sCL;
  return FLAT_STATES[(secure ? SECURE_OFFSET : 0) + (direction + idx) * STATES + state]!;
}
