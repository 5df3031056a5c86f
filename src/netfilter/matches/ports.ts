import { Protocol } from '../../net/protocol.js';
import type { PortRangeMatch, SctpMatch, TcpMatch, UdpMatch } from '../ast.js';
import type { MatchFn } from './types.js';

// xt_tcpudp.c port_match: min <= port <= max, XOR invert. A packet of another
// protocol never matches (the rule's -p guarantees the protocol in practice).
function portTest(r: PortRangeMatch | undefined): (port: number) => boolean {
  if (r === undefined) return () => true;
  const { min, max, invert } = r;
  return invert ? (p) => p < min || p > max : (p) => p >= min && p <= max;
}

/** `-m tcp`: ports and `--tcp-flags` (tcp_mt). `--tcp-option` cannot be seen in lbsim packets and never matches. */
export function compileTcp(m: TcpMatch): MatchFn {
  const sp = portTest(m.sport);
  const dp = portTest(m.dport);
  const f = m.tcpFlags;
  const o = m.tcpOption;
  if (o !== undefined) return (p) => p.proto === Protocol.TCP && o.invert && sp(p.sport) && dp(p.dport);
  if (f === undefined) return (p) => p.proto === Protocol.TCP && sp(p.sport) && dp(p.dport);
  const { mask, comp, invert } = f;
  return (p) => p.proto === Protocol.TCP && sp(p.sport) && dp(p.dport) && ((p.flags & mask) === comp) !== invert;
}

/** `-m udp`. */
export function compileUdp(m: UdpMatch): MatchFn {
  const sp = portTest(m.sport);
  const dp = portTest(m.dport);
  return (p) => p.proto === Protocol.UDP && sp(p.sport) && dp(p.dport);
}

/** `-m sctp` (ports only). */
export function compileSctp(m: SctpMatch): MatchFn {
  const sp = portTest(m.sport);
  const dp = portTest(m.dport);
  return (p) => p.proto === Protocol.SCTP && sp(p.sport) && dp(p.dport);
}
