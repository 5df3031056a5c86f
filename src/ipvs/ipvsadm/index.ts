/**
 * ipvsadm compatibility: parse ipvsadm command lines, run them against an
 * `Ipvs` engine, and print the table, the counters and the connection list
 * byte for byte as ipvsadm does.
 *
 * **Version.** Syntax, checks, messages and output follow ipvsadm 1.31
 * (`ipvsadm.c`, `libipvs/libipvs.c`; GitHub mirror `louygan/ipvsadm`), the
 * version current distributions ship. For TCP/UDP services without `-o`,
 * `-b` or tunnels its output is byte-identical to 1.26 (`Distrotech/ipvsadm`).
 * Where 1.26 differs: it has no `--sctp-service`, `-b`, `--pe` or `--tun-*`;
 * `-S` writes one-packet services as ` ops` (which `-R` then refuses) where
 * 1.31 writes ` -o`; `-L` shows ` ops` only on persistent services; the
 * ENOENT text is "Scheduler not found"; `-Lc --persistent-conn` is refused.
 *
 * **What lbsim does not do.**
 * - Names: ipvsadm resolves host and service names (DNS, /etc/services) on
 *   input, and without `-n` prints names. lbsim never resolves: names are
 *   refused on input and output is always numeric, with or without `-n`.
 * - IPv4 only: IPv6 addresses and `-6` are refused.
 * - Sync daemons (`--start-daemon`, `--stop-daemon`) and `-h`/`-v` are
 *   refused; `-L --daemon` prints nothing (no daemon runs).
 * - No persistence engines: `--pe NAME` fails as on a kernel without the
 *   `ip_vs_pe_NAME` module (ENOENT). Tunnels are ipip only (`--tun-type gue`
 *   and `gre` are refused).
 *
 * **ipvsadm behaviour kept on purpose.**
 * - `-p` takes the next word as its timeout unless it starts with `-`
 *   (popt's optional argument), so `-p rr` is "invalid timeout value".
 * - `-A`/`-E`/`-a`/`-e` send complete entries: options not given take
 *   ipvsadm's defaults (wlc, not persistent, /32, `-g`, weight 1, no
 *   thresholds), so `-E` without `-p` makes a service non-persistent.
 * - For `-g`/`-i` on non-fwmark services the real-server port is forced to
 *   the service port; `-r` without a port takes the service port known at
 *   that point of the line.
 * - Sorting uses libipvs' comparators, whose address difference wraps as a
 *   C `int` (10.0.0.0/8 sorts after 192.168.0.0/16), run through glibc's
 *   merge sort; `--nosort` shows kernel order.
 * - `-S` does not save thresholds, prints fwmarks with `%d` (marks above
 *   2^31 - 1 come out negative and `-R` refuses them), and — because of
 *   the comparator — can reorder dests whose addresses are exactly 2^31
 *   apart after a `-R`.
 * - `-Z -t 0.0.0.0:0` zeroes everything (libipvs sends no service then).
 *
 * **Differences from ipvsadm.**
 * - `-R` ({@link restoreIpvsadm}) is atomic: nothing changes unless every
 *   line succeeds (ipvsadm stops at the failing line, earlier lines
 *   applied). Lines whose first word starts with `#` are skipped.
 * - Errors are thrown, not printed: `ParseError` (with line and column) for
 *   what ipvsadm refuses itself, `OperationError` (errno code, ipvsadm's
 *   `ipvs_strerror` text, the engine's error as `cause`) for kernel refusals.
 *
 * @module
 */

export {
  execIpvsadm,
  ipvsStrerror,
  restoreIpvsadm,
  runIpvsadmCommand,
} from './exec.js';
export type { LibipvsCall } from './exec.js';
export {
  inetAton,
  IPVSADM_DEFAULT_SCHEDULER,
  IPVSADM_MAX_TIMEOUT,
  parseIpvsadm,
  parseIpvsadmTokens,
  tokenizeIpvsadm,
} from './parse.js';
export type {
  IpvsadmAddServer,
  IpvsadmAddService,
  IpvsadmClear,
  IpvsadmCommand,
  IpvsadmDeleteServer,
  IpvsadmDeleteService,
  IpvsadmDestOptions,
  IpvsadmEditServer,
  IpvsadmEditService,
  IpvsadmList,
  IpvsadmListFormat,
  IpvsadmParseContext,
  IpvsadmRestore,
  IpvsadmSave,
  IpvsadmServer,
  IpvsadmServiceOptions,
  IpvsadmSetTimeouts,
  IpvsadmToken,
  IpvsadmZero,
} from './parse.js';
export {
  compareDestsLikeIpvsadm,
  compareServicesLikeIpvsadm,
  destsInListOrder,
  formatIpvsadmConnections,
  formatIpvsadmList,
  formatIpvsadmSave,
  formatIpvsadmService,
  formatIpvsadmTimeouts,
  formatLargeNumber,
  formatListTitle,
  formatProcIpVsConn,
  formatServiceEntry,
  IPVS_VERSION_STRING,
  ipvsProtoName,
  servicesInListOrder,
} from './print.js';
export type { IpvsadmPrintFormat } from './print.js';
