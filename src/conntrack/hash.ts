/**
 * Hash helpers of the conntrack model: `reciprocal_scale`, `jhash2` (for NAT
 * address selection, bit-exact with torvalds/linux `include/linux/jhash.h`) and
 * the seeded bucket hash of tuples.
 *
 * The kernel hashes tuples with `siphash` under a random boot-time key
 * (`hash_conntrack_raw` in nf_conntrack_core.c), so exact bucket numbers are
 * not reproducible anyway; lbsim uses `jhash2` over the tuple words with a key
 * drawn from the simulation's seeded {@link Rng}, which gives the same
 * statistics (uniform buckets, the direction bit excluded from the key).
 *
 * @module
 */

/** `JHASH_INITVAL` of include/linux/jhash.h. */
const JHASH_INITVAL = 0xdeadbeef;

/**
 * `reciprocal_scale(val, range)` of include/linux/math.h:
 * `(u32)(((u64)val * range) >> 32)`, computed exactly on doubles.
 *
 * @param val - uint32
 * @param range - uint32 (0 gives 0)
 */
export function reciprocalScale(val: number, range: number): number {
  const v = val >>> 0;
  const r = range >>> 0;
  const hi = (v >>> 16) * r;
  const lo = Math.floor(((v & 0xffff) * r) / 65536);
  return Math.floor((hi + lo) / 65536);
}

function rol32(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * `jhash2(k, 4, initval)` of include/linux/jhash.h for four 32-bit words:
 * one `__jhash_mix` round over the first three words, then the fourth word and
 * `__jhash_final`.
 */
export function jhash2Words4(k0: number, k1: number, k2: number, k3: number, initval: number): number {
  let a = (JHASH_INITVAL + (4 << 2) + initval) | 0;
  let b = a;
  let c = a;
  a = (a + k0) | 0;
  b = (b + k1) | 0;
  c = (c + k2) | 0;
  // __jhash_mix(a, b, c)
  a = (a - c) | 0; a ^= rol32(c, 4); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol32(a, 6); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol32(b, 8); b = (b + a) | 0;
  a = (a - c) | 0; a ^= rol32(c, 16); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol32(a, 19); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol32(b, 4); b = (b + a) | 0;
  // remaining length 1: a += k[3]; __jhash_final(a, b, c)
  a = (a + k3) | 0;
  c ^= b; c = (c - rol32(b, 14)) | 0;
  a ^= c; a = (a - rol32(c, 11)) | 0;
  b ^= a; b = (b - rol32(a, 25)) | 0;
  c ^= b; c = (c - rol32(b, 16)) | 0;
  a ^= c; a = (a - rol32(c, 4)) | 0;
  b ^= a; b = (b - rol32(a, 14)) | 0;
  c ^= b; c = (c - rol32(b, 24)) | 0;
  return c >>> 0;
}

/** Byte-swaps a uint32 (`ntohl`/`htonl` on a little-endian host). */
export function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * The raw 32-bit hash of a tuple (the stand-in for `hash_conntrack_raw`):
 * `jhash2` over `[src, dst, sport << 16 | dport, proto]` keyed by `seed`.
 */
export function tupleHash(proto: number, src: number, sport: number, dst: number, dport: number, seed: number): number {
  return jhash2Words4(src | 0, dst | 0, ((sport << 16) | dport) | 0, proto | 0, seed | 0);
}
