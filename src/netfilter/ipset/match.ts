import type { WorkCounts } from '../../classify/work.js';
import type { SetMatch } from '../ast.js';
import { IPPROTO } from './protocols.js';
import { IpsetError, IpsetFeature } from './set.js';
import type { IpsetStore } from './store.js';

/**
 * `-m set --match-set NAME dir[,dir…]` for an IPv4 packet, as xt_set.c
 * (set_match_v4 → ip_set_test) and the set types' kadt functions evaluate it.
 *
 * @module
 */

/** The packet fields `-m set` reads (both {@link Packet} and the engine's packet state have them). */
export interface SetPacket {
  readonly proto: number;
  readonly saddr: number;
  readonly sport: number;
  readonly daddr: number;
  readonly dport: number;
}

/**
 * Evaluates a `--match-set` for one packet, exactly as the kernel does:
 *
 * - `dirs[i]` picks the packet's source or destination for dimension i+1
 *   (IPSET_DIM_*_SRC flags); fewer directions than the set type's
 *   dimension never match (ip_set_test: `opt->dim < set->type->dimension`),
 *   extra directions are ignored.
 * - Ports come from ip_set_get_ip4_port(): TCP, UDP, SCTP and UDPLITE give
 *   the source or destination port; ICMP gives the pseudo port
 *   `(type << 8) | code` (lbsim packets carry the ICMP type in `dport` and the
 *   code in `sport`); any other protocol gives port 0 with its protocol
 *   number; protocol 0 never matches. bitmap:port
 *   (ip_set_get_ip_port) matches TCP and UDP only, and a port outside the
 *   bitmap's range does not match.
 * - hash:ip never matches address 0.0.0.0 (hash_ip4_kadt returns -EINVAL).
 * - hash:net and hash:ip,port,net search the stored prefixes longest first;
 *   a `nomatch` element stops the search with no match. With
 *   `--return-nomatch` (types with the nomatch feature) the answer is
 *   reversed: a `nomatch` element matches and a plain element does not.
 * - `!` inverts the result.
 *
 * Counts one `hashProbes` per bucket looked into (one per prefix length
 * tried for the net types) and one `chainSteps` per element compared.
 * Allocation-free.
 *
 * @param store - the namespace's sets
 * @param spec - the match
 * @param pkt - the packet
 * @param work - work counters
 * @throws {IpsetError} NO_SET when the set does not exist (a rule cannot reference a missing set)
 */
export function matchSet(store: IpsetStore, spec: SetMatch, pkt: SetPacket, work: WorkCounts): boolean {
  const set = store.get(spec.setName);
  if (set === undefined) throw new IpsetError('matchSet', 'NO_SET');
  const dirs = spec.dirs;
  const type = set.type;
  let ret = 0;
  if (dirs.length >= type.dimension) {
    const src1 = dirs[0] === 'src';
    const ip = src1 ? pkt.saddr : pkt.daddr;
    switch (type.name) {
      case 'hash:ip':
        ret = ip === 0 ? 0 : set.kernelTest(ip, 0, 0, 0, store.now, work);
        break;
      case 'hash:net':
        ret = set.kernelTest(ip, 0, 0, 0, store.now, work);
        break;
      case 'bitmap:port': {
        const proto = pkt.proto;
        if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
          ret = set.kernelTest(0, 0, src1 ? pkt.sport : pkt.dport, 0, store.now, work);
        }
        break;
      }
      default: {
        // hash:ip,port, hash:ip,port,ip, hash:ip,port,net: ip_set_get_ip4_port() with dimension 2's direction.
        const proto = pkt.proto;
        if (proto === 0) break;
        const src2 = dirs[1] === 'src';
        let port = 0;
        if (proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.SCTP || proto === IPPROTO.UDPLITE) {
          port = src2 ? pkt.sport : pkt.dport;
        } else if (proto === IPPROTO.ICMP) {
          port = ((pkt.dport & 255) << 8) | (pkt.sport & 255);
        }
        const ip2 = type.dimension === 3 ? (dirs[2] === 'src' ? pkt.saddr : pkt.daddr) : 0;
        ret = set.kernelTest(ip, proto, port, ip2, store.now, work);
        break;
      }
    }
    // ip_set_test(): --return-nomatch swaps a plain match and a nomatch element for nomatch-capable types.
    if (spec.returnNomatch && (type.features & IpsetFeature.NOMATCH) !== 0) ret = -ret;
  }
  return ret > 0 ? !spec.invert : spec.invert;
}
