import { Protocol } from '../../net/protocol.js';
import type { MultiportMatch } from '../ast.js';
import type { MatchFn } from './types.js';

/**
 * `-m multiport` (xt_multiport.c ports_match_v1): any listed port or range;
 * `--ports` tests source or destination. Only TCP, UDP, UDPLITE, SCTP and
 * DCCP packets carry ports.
 */
export function compileMultiport(m: MultiportMatch): MatchFn {
  const mins = Int32Array.from(m.ports, (r) => r.min);
  const maxs = Int32Array.from(m.ports, (r) => r.max);
  const n = mins.length;
  const inList = (port: number): boolean => {
    for (let i = 0; i < n; i++) if (port >= mins[i]! && port <= maxs[i]!) return true;
    return false;
  };
  const invert = m.invert;
  const hasPorts = (proto: number): boolean => proto === Protocol.TCP || proto === Protocol.UDP || proto === Protocol.SCTP;
  switch (m.kind) {
    case 'sports':
      return (p) => hasPorts(p.proto) && inList(p.sport) !== invert;
    case 'dports':
      return (p) => hasPorts(p.proto) && inList(p.dport) !== invert;
    case 'ports':
      return (p) => hasPorts(p.proto) && (inList(p.sport) || inList(p.dport)) !== invert;
  }
}
