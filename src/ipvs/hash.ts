/**
 * The kernel hash functions IPVS uses, bit-exact with Linux on x86-64:
 *
 * - {@link hash32}: `hash_32` of torvalds/linux `include/linux/hash.h`
 *   (sh, dh, lblc, lblcr bucket choice);
 * - {@link jhash3words}: `jhash_3words` of `include/linux/jhash.h`
 *   (the connection table);
 * - {@link hsiphash1u32} / {@link hsiphash32}: `hsiphash(&v, 4, key)` of
 *   `include/linux/siphash.h` and `lib/siphash.c` on a 64-bit kernel (mh).
 *
 * Everything works on plain numbers: 32-bit values as uint32, 64-bit values
 * as two uint32 halves. Nothing here allocates except the key constructors.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.js';

/** `GOLDEN_RATIO_32` of `include/linux/hash.h`. */
export const GOLDEN_RATIO_32 = 0x61c88647;

/** `JHASH_INITVAL` of `include/linux/jhash.h`. */
export const JHASH_INITVAL = 0xdeadbeef;

/**
 * `hash_32(val, bits)` (torvalds/linux `include/linux/hash.h`):
 * `(val * GOLDEN_RATIO_32) >> (32 - bits)` with a 32-bit wrapping multiply,
 * keeping the top `bits` bits.
 *
 * @param val - any number; only its low 32 bits are used
 * @param bits - 1..32
 * @returns a uint32 below `2^bits`
 */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * `jhash_3words(a, b, c, initval)` (torvalds/linux `include/linux/jhash.h`):
 * `__jhash_nwords(a, b, c, initval + JHASH_INITVAL + (3 << 2))`, i.e. add the
 * seed to each word and run `__jhash_final`. Equal to Bob Jenkins' lookup3
 * `hashword(k, 3, initval)`.
 *
 * @param a - first word (low 32 bits used)
 * @param b - second word
 * @param c - third word
 * @param initval - seed
 * @returns uint32 hash
 */
export function jhash3words(a: number, b: number, c: number, initval: number): number {
  const iv = (initval + JHASH_INITVAL + 12) | 0;
  a = (a + iv) | 0;
  b = (b + iv) | 0;
  c = (c + iv) | 0;
  // __jhash_final(a, b, c)
  c ^= b;
  c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c;
  a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a;
  b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b;
  c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c;
  a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a;
  b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b;
  c = (c - ((b << 24) | (b >>> 8))) | 0;
  return c >>> 0;
}

const TWO_32 = 0x100000000;

/** Splits a u64 given as a bigint or a safe non-negative integer into [hi, lo]. */
function splitU64(where: string, k: number | bigint): [number, number] {
  if (typeof k === 'bigint') {
    if (k < 0n || k > 0xffffffffffffffffn) {
      throw new InvalidArgumentError(`lbsim/ipvs.${where}: key word must be in [0, 2^64) (got ${k})`);
    }
    return [Number((k >> 32n) & 0xffffffffn), Number(k & 0xffffffffn)];
  }
  if (!Number.isSafeInteger(k) || k < 0) {
    throw new InvalidArgumentError(
      `lbsim/ipvs.${where}: key word must be a non-negative safe integer or a bigint (got ${k})`,
    );
  }
  return [Math.floor(k / TWO_32) >>> 0, k >>> 0];
}

/**
 * An `hsiphash_key_t` of a 64-bit kernel (two `unsigned long` words), held as
 * the SipHash initial state it produces, so each hash starts without work.
 */
export class HsiphashKey {
  /** `v0` high half after the key is mixed in. */
  readonly v0h: number;
  /** `v0` low half. */
  readonly v0l: number;
  /** `v1` high half. */
  readonly v1h: number;
  /** `v1` low half. */
  readonly v1l: number;
  /** `v2` high half. */
  readonly v2h: number;
  /** `v2` low half. */
  readonly v2l: number;
  /** `v3` high half. */
  readonly v3h: number;
  /** `v3` low half. */
  readonly v3l: number;

  /**
   * @param key0 - `key[0]` as a bigint or a non-negative safe integer
   * @param key1 - `key[1]`
   * @throws {InvalidArgumentError} when a word is not in [0, 2^64)
   */
  constructor(key0: number | bigint, key1: number | bigint) {
    const [k0h, k0l] = splitU64('HsiphashKey', key0);
    const [k1h, k1l] = splitU64('HsiphashKey', key1);
    // PREAMBLE of lib/siphash.c: the "somepseudorandomlygeneratedbytes" constants.
    this.v0h = (0x736f6d65 ^ k0h) >>> 0;
    this.v0l = (0x70736575 ^ k0l) >>> 0;
    this.v1h = (0x646f7261 ^ k1h) >>> 0;
    this.v1l = (0x6e646f6d ^ k1l) >>> 0;
    this.v2h = (0x6c796765 ^ k0h) >>> 0;
    this.v2l = (0x6e657261 ^ k0l) >>> 0;
    this.v3h = (0x74656462 ^ k1h) >>> 0;
    this.v3l = (0x79746573 ^ k1l) >>> 0;
  }
}

/**
 * `hsiphash_1u32(first, key)` on a 64-bit kernel (torvalds/linux
 * `lib/siphash.c`, `BITS_PER_LONG == 64`), which is what
 * `hsiphash(&v, sizeof(u32), key)` compiles to on x86-64 (little-endian
 * load of the 4 bytes). There "HalfSipHash-1-3" is SipHash-1-3 on 64-bit
 * words: `b = (4 << 56) | first`; `v3 ^= b`; one SIPROUND; `v0 ^= b`;
 * `v2 ^= 0xff`; three SIPROUNDs; the result is the low 32 bits of
 * `v0 ^ v1 ^ v2 ^ v3`. Implemented on 32-bit halves; allocates nothing.
 *
 * @param first - the u32 hashed (low 32 bits used)
 * @param key - the key
 * @returns uint32 hash
 */
export function hsiphash1u32(first: number, key: HsiphashKey): number {
  // The four rounds are unrolled and every half is kept as an int32: this is
  // the per-packet path of mh (about twice as fast as a round loop).
  let v0h = key.v0h | 0;
  let v0l = key.v0l | 0;
  let v1h = key.v1h | 0;
  let v1l = key.v1l | 0;
  let v2h = key.v2h | 0;
  let v2l = key.v2l | 0;
  // HPREAMBLE(4): b = 4 << 56 | first; HPOSTAMBLE: v3 ^= b.
  const bl = first | 0;
  let v3h = (key.v3h ^ 0x04000000) | 0;
  let v3l = (key.v3l ^ bl) | 0;
  let l: number;
  let t: number;
  // SIPROUND (lib/siphash.c) on (hi, lo) int32 halves:
  // v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32);
  l = (v0l + v1l) | 0;
  v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v1h << 13) | (v1l >>> 19);
  v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
  v1h = t ^ v0h;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rol64(v3, 16); v3 ^= v2;
  l = (v2l + v3l) | 0;
  v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = t ^ v2h;
  // v0 += v3; v3 = rol64(v3, 21); v3 ^= v0;
  l = (v0l + v3l) | 0;
  v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v3h << 21) | (v3l >>> 11);
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  v3h = t ^ v0h;
  // v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32);
  l = (v2l + v1l) | 0;
  v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v1h << 17) | (v1l >>> 15);
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
  v1h = t ^ v2h;
  t = v2h;
  v2h = v2l;
  v2l = t;
  // v0 ^= b; v2 ^= 0xff;
  v0h ^= 0x04000000;
  v0l ^= bl;
  v2l ^= 0xff;
  // SIPROUND
  l = (v0l + v1l) | 0;
  v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v1h << 13) | (v1l >>> 19);
  v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
  v1h = t ^ v0h;
  t = v0h;
  v0h = v0l;
  v0l = t;
  l = (v2l + v3l) | 0;
  v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = t ^ v2h;
  l = (v0l + v3l) | 0;
  v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v3h << 21) | (v3l >>> 11);
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  v3h = t ^ v0h;
  l = (v2l + v1l) | 0;
  v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v1h << 17) | (v1l >>> 15);
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
  v1h = t ^ v2h;
  t = v2h;
  v2h = v2l;
  v2l = t;
  // SIPROUND
  l = (v0l + v1l) | 0;
  v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v1h << 13) | (v1l >>> 19);
  v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
  v1h = t ^ v0h;
  t = v0h;
  v0h = v0l;
  v0l = t;
  l = (v2l + v3l) | 0;
  v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = t ^ v2h;
  l = (v0l + v3l) | 0;
  v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v3h << 21) | (v3l >>> 11);
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  v3h = t ^ v0h;
  l = (v2l + v1l) | 0;
  v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v1h << 17) | (v1l >>> 15);
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
  v1h = t ^ v2h;
  t = v2h;
  v2h = v2l;
  v2l = t;
  // SIPROUND, last one: only what the low halves of the result need.
  l = (v0l + v1l) | 0;
  v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
  v0l = l;
  t = (v1h << 13) | (v1l >>> 19);
  v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
  v1h = t ^ v0h;
  v0l = v0h;
  l = (v2l + v3l) | 0;
  v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v2l = l;
  t = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = t ^ v2h;
  v0l = (v0l + v3l) | 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  // v2 += v1 (the high half v2h is the low half after rol64(v2, 32)).
  l = (v2l + v1l) | 0;
  t = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ l;
  return (v0l ^ v1l ^ t ^ v3l) >>> 0;
}

/**
 * `hsiphash(&value, 4, {key0, key1})` on a 64-bit kernel. Convenience form
 * of {@link hsiphash1u32} that builds the key on every call (it allocates:
 * hot paths keep an {@link HsiphashKey} and call {@link hsiphash1u32}).
 *
 * @param value - the u32 hashed
 * @param key0 - `key[0]` (bigint, or a non-negative safe integer)
 * @param key1 - `key[1]`
 * @returns uint32 hash
 * @throws {InvalidArgumentError} when a key word is not in [0, 2^64)
 */
export function hsiphash32(value: number, key0: number | bigint, key1: number | bigint): number {
  return hsiphash1u32(value, new HsiphashKey(key0, key1));
}

/**
 * `hsiphash(data, len, key)` for any length on a 64-bit kernel
 * (`__hsiphash_aligned` of torvalds/linux `lib/siphash.c`): each full
 * little-endian 64-bit word goes through one SIPROUND, the 0..7 tail bytes
 * and `len << 56` form the final word. Not used on hot paths; it exists so
 * the kernel's published test vectors (all lengths 0..63) can check the
 * round function that {@link hsiphash1u32} shares with it.
 *
 * @param data - bytes to hash
 * @param key - the key
 * @returns uint32 hash
 */
export function hsiphashBytes(data: Uint8Array, key: HsiphashKey): number {
  const st = new Uint32Array(8);
  st[0] = key.v0h;
  st[1] = key.v0l;
  st[2] = key.v1h;
  st[3] = key.v1l;
  st[4] = key.v2h;
  st[5] = key.v2l;
  st[6] = key.v3h;
  st[7] = key.v3l;
  const len = data.length;
  const full = len - (len % 8);
  const le32 = (i: number): number =>
    ((data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24)) >>> 0;
  for (let i = 0; i < full; i += 8) {
    const ml = le32(i);
    const mh = le32(i + 4);
    st[6] = st[6] ^ mh;
    st[7] = st[7] ^ ml;
    sipRound(st);
    st[0] = st[0] ^ mh;
    st[1] = st[1] ^ ml;
  }
  let bh = (len & 0xff) << 24;
  let bl = 0;
  const left = len - full;
  for (let j = 0; j < left; j++) {
    const byte = data[full + j] ?? 0;
    if (j < 4) bl |= byte << (8 * j);
    else bh |= byte << (8 * (j - 4));
  }
  bh >>>= 0;
  bl >>>= 0;
  // HPOSTAMBLE (64-bit)
  st[6] = st[6] ^ bh;
  st[7] = st[7] ^ bl;
  sipRound(st);
  st[0] = st[0] ^ bh;
  st[1] = st[1] ^ bl;
  st[5] = st[5] ^ 0xff;
  sipRound(st);
  sipRound(st);
  sipRound(st);
  return (st[1] ^ st[3] ^ st[5] ^ st[7]) >>> 0;
}

/** One SIPROUND on a state laid out as [v0h, v0l, v1h, v1l, v2h, v2l, v3h, v3l]. */
function sipRound(st: Uint32Array): void {
  let v0h = st[0]!;
  let v0l = st[1]!;
  let v1h = st[2]!;
  let v1l = st[3]!;
  let v2h = st[4]!;
  let v2l = st[5]!;
  let v3h = st[6]!;
  let v3l = st[7]!;
  let s = v0l + v1l;
  v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = s >>> 0;
  let t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = (t ^ v0h) >>> 0;
  v1l = (v1l ^ v0l) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;
  s = v2l + v3l;
  v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = s >>> 0;
  t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = (t ^ v2h) >>> 0;
  v3l = (v3l ^ v2l) >>> 0;
  s = v0l + v3l;
  v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = s >>> 0;
  t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = (t ^ v0h) >>> 0;
  v3l = (v3l ^ v0l) >>> 0;
  s = v2l + v1l;
  v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = s >>> 0;
  t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = (t ^ v2h) >>> 0;
  v1l = (v1l ^ v2l) >>> 0;
  t = v2h;
  v2h = v2l;
  v2l = t;
  st[0] = v0h;
  st[1] = v0l;
  st[2] = v1h;
  st[3] = v1l;
  st[4] = v2h;
  st[5] = v2l;
  st[6] = v3h;
  st[7] = v3l;
}
