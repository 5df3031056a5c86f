/**
 * Protocol and ICMP names as the `ipset` tool reads and prints them in
 * `proto:port` element parts (`udp:53`, `icmp:echo-request`, `gre:0`).
 *
 * Protocol names are those of `/etc/protocols` (Debian netbase), which the
 * tool resolves with getprotobyname/getprotobynumber; ICMP names are the
 * tool's own table (ipset lib/icmp.c), checked against ipset 7.17's output.
 *
 * @module
 */

/** `/etc/protocols` names by number (the ones the tool prints instead of a number). */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [1, 'icmp'],
  [2, 'igmp'],
  [3, 'ggp'],
  [4, 'ipencap'],
  [5, 'st'],
  [6, 'tcp'],
  [8, 'egp'],
  [9, 'igp'],
  [12, 'pup'],
  [17, 'udp'],
  [20, 'hmp'],
  [22, 'xns-idp'],
  [27, 'rdp'],
  [29, 'iso-tp4'],
  [33, 'dccp'],
  [36, 'xtp'],
  [37, 'ddp'],
  [38, 'idpr-cmtp'],
  [41, 'ipv6'],
  [43, 'ipv6-route'],
  [44, 'ipv6-frag'],
  [45, 'idrp'],
  [46, 'rsvp'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [57, 'skip'],
  [58, 'ipv6-icmp'],
  [59, 'ipv6-nonxt'],
  [60, 'ipv6-opts'],
  [73, 'rspf'],
  [81, 'vmtp'],
  [88, 'eigrp'],
  [89, 'ospf'],
  [93, 'ax.25'],
  [94, 'ipip'],
  [97, 'etherip'],
  [98, 'encap'],
  [103, 'pim'],
  [108, 'ipcomp'],
  [112, 'vrrp'],
  [115, 'l2tp'],
  [124, 'isis'],
  [132, 'sctp'],
  [133, 'fc'],
  [135, 'mobility-header'],
  [136, 'udplite'],
  [137, 'mpls-in-ip'],
  [138, 'manet'],
  [139, 'hip'],
  [140, 'shim6'],
  [141, 'wesp'],
  [142, 'rohc'],
  [143, 'ethernet'],
]);

const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map<string, number>([
  ['ip', 0],
  ['hopopt', 0],
  ...[...PROTOCOL_NAMES].map(([n, s]) => [s, n] as [string, number]),
  ['icmpv6', 58],
]);

/** IP protocol numbers ipset treats specially. */
export const IPPROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
} as const;

/** Whether a protocol carries ports (ip_set_proto_with_ports() in include/linux/netfilter/ipset/ip_set_getport.h). */
export function protoWithPorts(proto: number): boolean {
  return proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.SCTP || proto === IPPROTO.UDPLITE;
}

/** The name the tool prints for a protocol number, or the number itself. */
export function protocolText(proto: number): string {
  return PROTOCOL_NAMES.get(proto) ?? String(proto);
}

/** Parses a protocol name or decimal number 0..255; -1 if unknown. */
export function protocolNumber(text: string): number {
  if (/^[0-9]{1,3}$/.test(text)) {
    const n = Number(text);
    return n <= 255 ? n : -1;
  }
  return PROTOCOL_NUMBERS.get(text.toLowerCase()) ?? -1;
}

/** ICMP type/code names of the ipset tool, as `(type << 8) | code`. */
const ICMP_NAMES: readonly (readonly [string, number])[] = [
  ['echo-reply', 0x0000],
  ['network-unreachable', 0x0300],
  ['host-unreachable', 0x0301],
  ['protocol-unreachable', 0x0302],
  ['port-unreachable', 0x0303],
  ['fragmentation-needed', 0x0304],
  ['source-route-failed', 0x0305],
  ['network-unknown', 0x0306],
  ['host-unknown', 0x0307],
  ['network-prohibited', 0x0309],
  ['host-prohibited', 0x030a],
  ['TOS-network-unreachable', 0x030b],
  ['TOS-host-unreachable', 0x030c],
  ['communication-prohibited', 0x030d],
  ['host-precedence-violation', 0x030e],
  ['precedence-cutoff', 0x030f],
  ['source-quench', 0x0400],
  ['network-redirect', 0x0500],
  ['host-redirect', 0x0501],
  ['TOS-network-redirect', 0x0502],
  ['TOS-host-redirect', 0x0503],
  ['echo-request', 0x0800],
  ['router-advertisement', 0x0900],
  ['router-solicitation', 0x0a00],
  ['ttl-zero-during-transit', 0x0b00],
  ['ttl-zero-during-reassembly', 0x0b01],
  ['ip-header-bad', 0x0c00],
  ['required-option-missing', 0x0c01],
  ['timestamp-request', 0x0d00],
  ['timestamp-reply', 0x0e00],
  ['address-mask-request', 0x1100],
  ['address-mask-reply', 0x1200],
];

const ICMP_BY_VALUE: ReadonlyMap<number, string> = new Map(ICMP_NAMES.map(([n, v]) => [v, n]));
const ICMP_BY_NAME: ReadonlyMap<string, number> = new Map(ICMP_NAMES.map(([n, v]) => [n.toLowerCase(), v]));

/** Prints an ICMP pseudo port `(type << 8) | code` as the tool does: a name when it has one, else `type/code`. */
export function icmpText(value: number): string {
  return ICMP_BY_VALUE.get(value) ?? `${value >>> 8}/${value & 255}`;
}

/** Parses `name` or `type/code` into `(type << 8) | code`; -1 if malformed. */
export function icmpValue(text: string): number {
  const byName = ICMP_BY_NAME.get(text.toLowerCase());
  if (byName !== undefined) return byName;
  const m = /^([0-9]{1,3})\/([0-9]{1,3})$/.exec(text);
  if (m === null) return -1;
  const t = Number(m[1]);
  const c = Number(m[2]);
  if (t > 255 || c > 255) return -1;
  return (t << 8) | c;
}
