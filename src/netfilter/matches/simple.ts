import type { AddrtypeMatch, IcmpMatch, MarkMatch } from '../ast.js';
import type { MatchEnv, MatchFn } from './types.js';

/**
 * `-m icmp --icmp-type`: lbsim packets carry the ICMP type in `dport` and the
 * code in `sport` (documented in docs/netfilter.md). Type 255 matches any.
 */
export function compileIcmp(m: IcmpMatch): MatchFn {
  const { type, codeMin, codeMax, invert } = m;
  return (p) => {
    if (p.proto !== 1) return false;
    const hit = type === 0xff || (p.dport === type && p.sport >= codeMin && p.sport <= codeMax);
    return hit !== invert;
  };
}

/** `-m mark` (xt_mark.c): `(skb->mark & mask) == mark` XOR invert. */
export function compileMark(m: MarkMatch): MatchFn {
  const { value, mask, invert } = m;
  return (p) => ((p.mark & mask) >>> 0 === value >>> 0) !== invert;
}

/**
 * `-m addrtype` (xt_addrtype.c, addrtype_mt_v1): the type of the source and/or
 * destination address as the routing table classifies it. `--limit-iface-in/out`
 * restrict the lookup to the packet's interface; lbsim's host has one routing
 * table, so they do not change the result.
 */
export function compileAddrtype(m: AddrtypeMatch, env: MatchEnv): MatchFn {
  const host = env.host;
  const src = m.srcType;
  const dst = m.dstType;
  return (p) => {
    if (src !== undefined && ((host.addrType(p.saddr) & src.types) !== 0) === src.invert) return false;
    if (dst !== undefined && ((host.addrType(p.daddr) & dst.types) !== 0) === dst.invert) return false;
    return true;
  };
}
