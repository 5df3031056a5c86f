/**
 * Protocol names as iptables 1.8.9 reads and prints them
 * (`xtables_parse_protocol` and `proto_to_name`, libxtables/xtables.c and
 * iptables/xshared.c).
 *
 * @module
 */

import { strtouiExact } from './lex.js';
import { protocolNameByNumber, protocolNumberByName } from './netdb.js';

/** libxtables `xtables_chain_protos`: names known without `/etc/protocols`. */
const CHAIN_PROTOS: readonly (readonly [string, number])[] = [
  ['tcp', 6],
  ['sctp', 132],
  ['udp', 17],
  ['udplite', 136],
  ['icmp', 1],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['esp', 50],
  ['ah', 51],
  ['ipv6-mh', 135],
  ['mh', 135],
  ['all', 0],
];

/**
 * `xtables_parse_protocol` on an already lower-cased name: a base-0 number
 * 0..255, `all`, an `/etc/protocols` name, or a libxtables built-in name.
 * Returns the number, or -1 when unknown. Protocol numbers above 255 (only
 * `mptcp` = 262 in netbase) are refused: the kernel's IPv4 rule keeps 8 bits
 * with nf_tables and lbsim models one byte.
 */
export function parseProtocolName(lower: string): number {
  const n = strtouiExact(lower, 0, 255);
  if (n >= 0) return n;
  if (lower === 'all') return 0;
  const p = protocolNumberByName(lower);
  if (p >= 0) return p <= 255 ? p : -1;
  const c = CHAIN_PROTOS.find(([name]) => name === lower);
  return c === undefined ? -1 : c[1];
}

/**
 * `proto_to_name(proto, 0)` as `iptables-save` prints `-p`: the
 * `/etc/protocols` name, else a libxtables built-in name, else null (the
 * caller prints the number).
 */
export function protocolPrintName(proto: number): string | null {
  const n = protocolNameByNumber(proto);
  if (n !== null) return n;
  const c = CHAIN_PROTOS.find(([, num]) => num === proto);
  return c === undefined ? null : c[0];
}

/**
 * The match extension that `-p NAME` loads implicitly when an option is not
 * otherwise known (`find_proto` in xshared.c): the name itself, or for a
 * number its printable name.
 */
export function implicitProtoModule(lower: string): string | null {
  const n = strtouiExact(lower, 0, 255);
  if (n >= 0) return protocolPrintName(n);
  return lower;
}
