import type { AddrMatch, ConntrackMatch, PortRangeMatch, StateMatch } from '../ast.js';
import { CtStateBit } from '../ast.js';
import type { CtView, PacketState } from '../packet-state.js';
import type { MatchFn } from './types.js';

/** `IPS_SRC_NAT` and `IPS_DST_NAT` (include/uapi/linux/netfilter/nf_conntrack_common.h). */
const IPS_SRC_NAT = 1 << 4;
const IPS_DST_NAT = 1 << 5;

// The packet's state bit plus SNAT/DNAT as conntrack_mt computes it.
function stateBits(p: PacketState): number {
  let bits = p.ctState;
  const ct = p.ct;
  if (ct !== null) {
    if ((ct.status & IPS_SRC_NAT) !== 0) bits |= CtStateBit.SNAT;
    if ((ct.status & IPS_DST_NAT) !== 0) bits |= CtStateBit.DNAT;
  }
  return bits;
}

function addrOk(m: AddrMatch | undefined, addr: number): boolean {
  if (m === undefined) return true;
  return ((addr & m.mask) >>> 0 === m.addr) !== m.invert;
}

function portOk(m: PortRangeMatch | undefined, port: number): boolean {
  if (m === undefined) return true;
  return (port >= m.min && port <= m.max) !== m.invert;
}

/**
 * `-m conntrack` (xt_conntrack.c conntrack_mt, revision 3): the state test
 * first; without a conntrack entry the rule matches only if it tested the
 * state; then protocol, tuple addresses and ports, status, expiry and direction.
 */
export function compileConntrack(m: ConntrackMatch): MatchFn {
  const st = m.ctstate;
  const rest =
    m.ctproto !== undefined ||
    m.ctorigsrc !== undefined ||
    m.ctorigdst !== undefined ||
    m.ctreplsrc !== undefined ||
    m.ctrepldst !== undefined ||
    m.ctorigsrcport !== undefined ||
    m.ctorigdstport !== undefined ||
    m.ctreplsrcport !== undefined ||
    m.ctrepldstport !== undefined ||
    m.ctstatus !== undefined ||
    m.ctexpire !== undefined ||
    m.ctdir !== undefined;
  const tail = (p: PacketState, ct: CtView): boolean => {
    if (m.ctproto !== undefined && (ct.proto === m.ctproto.proto) === m.ctproto.invert) return false;
    if (!addrOk(m.ctorigsrc, ct.origSrc) || !addrOk(m.ctorigdst, ct.origDst)) return false;
    if (!addrOk(m.ctreplsrc, ct.replySrc) || !addrOk(m.ctrepldst, ct.replyDst)) return false;
    if (!portOk(m.ctorigsrcport, ct.origSport) || !portOk(m.ctorigdstport, ct.origDport)) return false;
    if (!portOk(m.ctreplsrcport, ct.replySport) || !portOk(m.ctrepldstport, ct.replyDport)) return false;
    if (m.ctstatus !== undefined && ((ct.status & m.ctstatus.status) !== 0) === m.ctstatus.invert) return false;
    if (m.ctexpire !== undefined) {
      const left = Math.max(0, Math.floor((ct.expires - p.now) / 1000));
      if ((left >= m.ctexpire.min && left <= m.ctexpire.max) === m.ctexpire.invert) return false;
    }
    if (m.ctdir !== undefined && (p.ctDir === 0) !== (m.ctdir === 'ORIGINAL')) return false;
    return true;
  };
  if (st === undefined) {
    return (p) => p.ct !== null && tail(p, p.ct);
  }
  const { states, invert } = st;
  if (!rest) return (p) => ((stateBits(p) & states) !== 0) !== invert;
  return (p) => {
    if (((stateBits(p) & states) !== 0) === invert) return false;
    return p.ct === null ? true : tail(p, p.ct);
  };
}

/** `-m state` (iptables 1.8 implements it with xt_conntrack's state test). */
export function compileState(m: StateMatch): MatchFn {
  const { states, invert } = m;
  return (p) => ((stateBits(p) & states) !== 0) !== invert;
}
