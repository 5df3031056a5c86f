/** TCP header flag bits, as in the TCP header's flag byte. Combine with `|`. */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
} as const;

/** A set of TCP flags as a bit mask of {@link TcpFlag} values. */
export type TcpFlags = number;

/** Formats flags the way tcpdump/iptables do (`SYN,ACK`), for traces and messages only. */
export function formatTcpFlags(flags: TcpFlags): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(TcpFlag)) if ((flags & bit) !== 0) names.push(name);
  return names.length === 0 ? 'NONE' : names.join(',');
}
