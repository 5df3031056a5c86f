/**
 * Per-rule and per-namespace state of iptables matches: `-m recent` tables and `-m limit` buckets.
 *
 * @module
 */
export {
  RECENT_MAX_RING,
  RecentTables,
  XT_RECENT_MAX_NSTAMPS,
  XT_RECENT_NAME_LEN,
  type RecentEntryInfo,
  type RecentOptions,
  type RecentPacket,
} from './recent.js';
export {
  XT_LIMIT_SCALE,
  createLimiter,
  creditsPerJiffy,
  limitAvg,
  user2credits,
  type LimitParams,
  type Limiter,
} from './limit.js';
