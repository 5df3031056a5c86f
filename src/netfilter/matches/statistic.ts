import type { StatisticMatch } from '../ast.js';
import type { MatchEnv, MatchFn } from './types.js';

/**
 * `-m statistic` (xt_statistic.c statistic_mt).
 * - random: matches when `(get_random_u32() & 0x7fffffff) < probability`, with
 *   the 31-bit probability iptables stored; the draw comes from the seeded Rng.
 * - nth: a counter per rule that runs 0..every−1 (`nval = oval == every−1 ? 0 : oval + 1`)
 *   and matches when it equals `packet`; it starts at 0.
 */
export function compileStatistic(m: StatisticMatch, env: MatchEnv): MatchFn {
  const invert = m.invert;
  if (m.mode === 'random') {
    const probability = m.probability;
    const rng = env.rng;
    return () => ((rng.uint32() & 0x7fffffff) < probability) !== invert;
  }
  const every = m.every - 1;
  const packet = m.packet;
  let count = 0;
  return () => {
    count = count === every ? 0 : count + 1;
    return (count === packet) !== invert;
  };
}
