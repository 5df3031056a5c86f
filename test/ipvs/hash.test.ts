import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  GOLDEN_RATIO_32,
  HsiphashKey,
  hash32,
  hsiphash1u32,
  hsiphash32,
  hsiphashBytes,
  jhash3words,
} from '../../src/ipvs/hash.js';
import { le32Bytes, refHash32, refHsiphash, refJhash, refMhHash } from './schedulers/hash-helpers.js';

// torvalds/linux lib/siphash_kunit.c (BITS_PER_LONG == 64): key and
// expected hsiphash(in, i, key) for in = {0, 1, ..., i-1}, i = 0..63.
const KUNIT_KEY0 = 0x0706050403020100n;
const KUNIT_KEY1 = 0x0f0e0d0c0b0a0908n;
const KUNIT_HSIPHASH_64BIT = [
  0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140, 0x8d299a8e,
  0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956, 0x7d908b66, 0x63dbd80c,
  0xb473e63e, 0x8d297d1c, 0xa6cce040, 0x2b45f844, 0xa320872e, 0xdae6c123, 0x67349c8c, 0x705b0979, 0xca9913a5,
  0x4ade3b35, 0xef6cd00d, 0x4ab1e1f4, 0x43c5e663, 0x8c21d1bc, 0x16a7b60d, 0x7a8ff9bf, 0x1f2a753e, 0xbf186b91,
  0xada26206, 0xa3c33057, 0xae3a36a1, 0x7b108392, 0x99e41531, 0x3f1ad944, 0xc8138825, 0xc28949a6, 0xfaf8876b,
  0x9f042196, 0x68b1d623, 0x8b5114fd, 0xdf074c46, 0x12cc86b3, 0x0a52098f, 0x9d292f9a, 0xa2f41f12, 0x43a71ed0,
  0x73f0bce6, 0x70a7e980, 0x243c6d75, 0xfdb71513, 0xa67d8a08, 0xb7e8f148, 0xf7a644ee, 0x0f1837f2, 0x4b6694e0,
  0xb7bbb3a8,
];

function counting(n: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

describe('hash32 (include/linux/hash.h hash_32)', () => {
  it('matches hand-computed values', () => {
    // 1 * 0x61C88647 = 0x61C88647; top 8 bits 0x61.
    expect(hash32(1, 8)).toBe(0x61);
    // 10.0.0.1 = 0x0a000001. 0x0a000000 * G mod 2^32 = ((0x0a * 0x47) & 0xff) << 24
    // = 0xC6000000; + G = 0x127C88647 -> 0x27C88647. Top 8 bits 0x27 = 39,
    // top 10 bits 0b0010011111 = 159.
    expect(hash32(0x0a000001, 8)).toBe(39);
    expect(hash32(0x0a000001, 10)).toBe(159);
    // 10.0.0.2: 2G = 0xC3910C8E; + 0xC6000000 = 0x189910C8E -> 0x89910C8E -> 0x89 = 137.
    expect(hash32(0x0a000002, 8)).toBe(137);
    // 10.0.0.3: 3G = 0x1255992D5 -> 0x255992D5; + 0xC6000000 = 0xEB5992D5 -> 0xEB = 235.
    expect(hash32(0x0a000003, 8)).toBe(235);
    expect(hash32(0, 8)).toBe(0);
    expect(hash32(1, 32)).toBe(GOLDEN_RATIO_32);
    // Wraps like u32: 2^32 + 1 hashes like 1.
    expect(hash32(0x100000001, 8)).toBe(0x61);
  });

  test.prop([fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 32 })])(
    'equals the BigInt definition',
    (v, bits) => {
      expect(hash32(v, bits)).toBe(refHash32(v, bits));
    },
  );
});

describe('jhash3words (include/linux/jhash.h jhash_3words)', () => {
  it('the reference lookup3 hashlittle reproduces Bob Jenkins published values', () => {
    const enc = new TextEncoder();
    expect(refJhash(new Uint8Array(0), 0)).toBe(0xdeadbeef);
    expect(refJhash(new Uint8Array(0), 0xdeadbeef)).toBe(0xbd5b7dde);
    expect(refJhash(enc.encode('Four score and seven years ago'), 0)).toBe(0x17770551);
    expect(refJhash(enc.encode('Four score and seven years ago'), 1)).toBe(0xcd628161);
  });

  it('matches lookup3 values for 3-word keys', () => {
    // hashword({1,2,3}, 3, 0) = 0xa46158f5 (lookup3.c driver values).
    expect(jhash3words(1, 2, 3, 0)).toBe(0xa46158f5);
    // hashlittle("hello world\0", 12, iv): words "hell", "o wo", "rld\0" little-endian.
    expect(jhash3words(0x6c6c6568, 0x6f77206f, 0x00646c72, 0)).toBe(0x14973b58);
    expect(jhash3words(0x6c6c6568, 0x6f77206f, 0x00646c72, 1)).toBe(0x4746e99f);
  });

  test.prop([
    fc.nat({ max: 0xffffffff }),
    fc.nat({ max: 0xffffffff }),
    fc.nat({ max: 0xffffffff }),
    fc.nat({ max: 0xffffffff }),
  ])('equals jhash over the 12 little-endian bytes', (a, b, c, iv) => {
    const bytes = new Uint8Array(12);
    bytes.set(le32Bytes(a), 0);
    bytes.set(le32Bytes(b), 4);
    bytes.set(le32Bytes(c), 8);
    const h = jhash3words(a, b, c, iv);
    expect(h).toBe(refJhash(bytes, iv));
    expect(h).toBeGreaterThanOrEqual(0);
  });
});

describe('hsiphash (lib/siphash.c, 64-bit kernel)', () => {
  const key = new HsiphashKey(KUNIT_KEY0, KUNIT_KEY1);

  it('the BigInt reference reproduces every kunit vector', () => {
    for (let i = 0; i < 64; i++) {
      expect(refHsiphash(counting(i), KUNIT_KEY0, KUNIT_KEY1), `len ${i}`).toBe(KUNIT_HSIPHASH_64BIT[i]);
    }
  });

  it('hsiphashBytes reproduces every kunit vector (lengths 0..63)', () => {
    for (let i = 0; i < 64; i++) {
      expect(hsiphashBytes(counting(i), key), `len ${i}`).toBe(KUNIT_HSIPHASH_64BIT[i]);
    }
  });

  it('the 4-byte form matches the kunit vector for {0,1,2,3} (hsiphash_1u32(0x03020100))', () => {
    expect(hsiphash1u32(0x03020100, key)).toBe(0x88d38328);
    expect(hsiphash32(0x03020100, KUNIT_KEY0, KUNIT_KEY1)).toBe(0x88d38328);
  });

  test.prop([fc.nat({ max: 0xffffffff }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })])(
    'hsiphash1u32 equals the reference over the 4 little-endian bytes for any key',
    (v, k0, k1) => {
      expect(hsiphash1u32(v, new HsiphashKey(k0, k1))).toBe(refHsiphash(le32Bytes(v), k0, k1));
    },
  );

  test.prop([fc.nat({ max: 0xffffffff })])('with the mh keys given as numbers', (v) => {
    expect(hsiphash32(v, 2654435761, 2654435761)).toBe(refMhHash(v, 2654435761n));
    expect(hsiphash32(v, 2654446892, 2654446892)).toBe(refMhHash(v, 2654446892n));
  });

  it('number keys above 2^32 split into both halves', () => {
    const k = 0x1234_5678_9abcd; // < 2^53
    expect(hsiphash32(7, k, k + 1)).toBe(refHsiphash(le32Bytes(7), BigInt(k), BigInt(k + 1)));
  });

  it('refuses key words outside [0, 2^64)', () => {
    expect(() => new HsiphashKey(-1, 0)).toThrow(InvalidArgumentError);
    expect(() => new HsiphashKey(0, 1.5)).toThrow(InvalidArgumentError);
    expect(() => new HsiphashKey(1n << 64n, 0)).toThrow(InvalidArgumentError);
    expect(() => new HsiphashKey(0, -1n)).toThrow(/lbsim\/ipvs\.HsiphashKey/);
  });
});
