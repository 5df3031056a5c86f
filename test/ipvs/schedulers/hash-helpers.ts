// Independent, deliberately plain reference implementations for the hash and
// hashing-scheduler tests. They are written from the kernel sources without
// sharing code with src/ipvs/hash.ts (BigInt for 64-bit words), and are
// themselves checked against published test vectors in hash.test.ts.
import { Packet } from '../../../src/net/packet.js';
import { Protocol } from '../../../src/net/protocol.js';

const M64 = (1n << 64n) - 1n;

function rotl64(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & M64;
}

/**
 * The 64-bit kernel's `hsiphash(data, len, key)` (torvalds/linux lib/siphash.c,
 * BITS_PER_LONG == 64): SipHash-1-3 over little-endian 64-bit words, the
 * length in the top byte of the last word, result truncated to u32.
 */
export function refHsiphash(data: Uint8Array, k0: bigint, k1: bigint): number {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64;
    v1 = rotl64(v1, 13n);
    v1 ^= v0;
    v0 = rotl64(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rotl64(v3, 16n);
    v3 ^= v2;
    v0 = (v0 + v3) & M64;
    v3 = rotl64(v3, 21n);
    v3 ^= v0;
    v2 = (v2 + v1) & M64;
    v1 = rotl64(v1, 17n);
    v1 ^= v2;
    v2 = rotl64(v2, 32n);
  };
  const len = data.length;
  const full = len - (len % 8);
  for (let i = 0; i < full; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(data[i + j]!);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  let b = BigInt(len & 0xff) << 56n;
  for (let j = 0; j < len - full; j++) b |= BigInt(data[full + j]!) << BigInt(8 * j);
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

/** The 4 little-endian bytes of a u32 (how x86 stores `unsigned int v`). */
export function le32Bytes(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

/** `hsiphash(&v, 4, {k, k})` as ip_vs_mh.c calls it, by the reference. */
export function refMhHash(v: number, key: bigint): number {
  return refHsiphash(le32Bytes(v >>> 0), key, key);
}

/**
 * Bob Jenkins' lookup3 `hashlittle` (= the kernel's `jhash(key, length,
 * initval)` on a little-endian machine), byte by byte.
 */
export function refJhash(k: Uint8Array, initval: number): number {
  const rot = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
  let length = k.length;
  let a = (0xdeadbeef + length + initval) >>> 0;
  let b = a;
  let c = a;
  let o = 0;
  const u = (i: number): number => k[o + i] ?? 0;
  while (length > 12) {
    a = (a + (u(0) | (u(1) << 8) | (u(2) << 16) | (u(3) << 24))) >>> 0;
    b = (b + (u(4) | (u(5) << 8) | (u(6) << 16) | (u(7) << 24))) >>> 0;
    c = (c + (u(8) | (u(9) << 8) | (u(10) << 16) | (u(11) << 24))) >>> 0;
    // __jhash_mix
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c;
  for (let i = length - 1; i >= 0; i--) {
    const byte = u(i);
    if (i >= 8) c = (c + (byte << (8 * (i - 8)))) >>> 0;
    else if (i >= 4) b = (b + (byte << (8 * (i - 4)))) >>> 0;
    else a = (a + (byte << (8 * i))) >>> 0;
  }
  // __jhash_final
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

/** `hash_32(val, bits)` with BigInt arithmetic. */
export function refHash32(val: number, bits: number): number {
  return Number(((BigInt(val >>> 0) * 0x61c88647n) & 0xffffffffn) >> BigInt(32 - bits));
}

/** A dest as the reference mh populate sees it. */
export interface RefMhDest {
  readonly addr: number;
  readonly port: number;
  readonly lastWeight: number;
}

/**
 * A straightforward transcription of ip_vs_mh.c (gcd_weight, shift_weight,
 * permutate, populate) over dests in kernel list order, using the BigInt
 * reference hsiphash. Returns, per slot, the index of the owning dest (or -1).
 */
export function refMhTable(dests: readonly RefMhDest[], m: number, tabBits: number): number[] {
  let g = 0;
  for (const d of dests) {
    if (d.lastWeight > 0) {
      if (g > 0) {
        let x = d.lastWeight;
        let y = g;
        while (y !== 0) [x, y] = [y, x % y];
        g = x;
      } else g = d.lastWeight;
    }
  }
  const table: number[] = new Array<number>(m).fill(-1);
  if (g < 1) return table;
  let mw = 0;
  for (const d of dests) if (d.lastWeight > mw) mw = d.lastWeight;
  const flsMw = Math.floor(mw / g).toString(2).length;
  const rshift = Math.max(0, flsMw - tabBits);
  const setup = dests.map((d) => {
    const offset = refMhHash(d.port + d.addr, 2654435761n) % m;
    const skip = (refMhHash(d.port + d.addr, 2654446892n) % (m - 1)) + 1;
    const t = Math.floor(d.lastWeight / g) >> rshift;
    return { perm: offset, skip, turns: t !== 0 ? t : d.lastWeight !== 0 ? 1 : 0 };
  });
  const taken: boolean[] = new Array<boolean>(m).fill(false);
  let n = 0;
  for (;;) {
    for (let i = 0; i < dests.length; i++) {
      const s = setup[i]!;
      for (let k = 0; k < s.turns; k++) {
        while (taken[s.perm]) s.perm = (s.perm + s.skip) % m;
        taken[s.perm] = true;
        table[s.perm] = i;
        if (++n === m) return table;
      }
    }
  }
}

/** A TCP SYN from `saddr:sport` to `daddr:80`. */
export function syn(saddr: number, sport = 40000, daddr = 0x0a000001, proto: number = Protocol.TCP): Packet {
  return new Packet(proto, saddr >>> 0, sport, daddr >>> 0, 80, 0x02);
}

/** The harness service's scheduler instance, checked to be a `cls`. */
export function schedOf<T>(h: { readonly svc: { readonly scheduler: unknown } }, cls: new (...args: never[]) => T): T {
  const s = h.svc.scheduler;
  if (!(s instanceof cls)) throw new Error(`scheduler is not a ${cls.name}`);
  return s;
}
