import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import {
  cidrContains,
  formatCidr,
  formatIPv4,
  ipv4,
  maskPrefixLength,
  parseCidr,
  parseIPv4,
  prefixMask,
} from '../../src/net/ipv4.js';
import { InvalidArgumentError, ParseError } from '../../src/errors.js';

describe('parseIPv4', () => {
  it('parses dotted quads to host-order uint32', () => {
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('192.168.1.2')).toBe(ipv4(192, 168, 1, 2));
  });

  it.each([
    ['1.2.3', 6],
    ['256.0.0.1', 1],
    [' 1.2.3.4', 1],
    ['1.2.3.4 ', 8],
    ['x1.2.3.4', 1],
    ['1.2.3.4.5', 8],
    ['01.2.3.4', 1],
    ['1..3.4', 3],
    ['', 1],
    ['1.2.3.1000', 10],
    ['-1.2.3.4', 1],
  ])('refuses %j with a ParseError pointing at column %i', (text, column) => {
    let caught: unknown;
    try {
      parseIPv4(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ParseError);
    expect((caught as ParseError).column).toBe(column);
    expect((caught as ParseError).message).toContain('lbsim/net.parseIPv4');
  });

  test.prop([fc.nat({ max: 0xffffffff })])('format then parse is the identity', (addr) => {
    expect(parseIPv4(formatIPv4(addr))).toBe(addr);
  });

  test.prop([fc.ipV4()])('agrees with fast-check’s own valid addresses', (text) => {
    expect(formatIPv4(parseIPv4(text))).toBe(text);
  });
});

describe('formatIPv4', () => {
  it('refuses values outside uint32', () => {
    expect(() => formatIPv4(-1)).toThrow(InvalidArgumentError);
    expect(() => formatIPv4(2 ** 32)).toThrow(InvalidArgumentError);
    expect(() => formatIPv4(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('CIDR', () => {
  it('parses prefixes and clears host bits', () => {
    const c = parseCidr('10.1.2.3/8');
    expect(c.address).toBe(parseIPv4('10.0.0.0'));
    expect(c.prefixLength).toBe(8);
    expect(formatCidr(c)).toBe('10.0.0.0/8');
    expect(parseCidr('1.2.3.4').prefixLength).toBe(32);
    expect(parseCidr('0.0.0.0/0').mask).toBe(0);
  });

  it('refuses bad prefixes and, when strict, host bits', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(ParseError);
    expect(() => parseCidr('10.0.0.0/')).toThrow(ParseError);
    expect(() => parseCidr('10.0.0.0/08')).toThrow(ParseError);
    expect(() => parseCidr('10.0.0.1/8', true)).toThrow(ParseError);
  });

  it('tests membership', () => {
    const c = parseCidr('192.168.0.0/16');
    expect(cidrContains(c, parseIPv4('192.168.255.1'))).toBe(true);
    expect(cidrContains(c, parseIPv4('192.169.0.1'))).toBe(false);
  });

  test.prop([fc.integer({ min: 0, max: 32 })])('prefixMask and maskPrefixLength are inverse', (len) => {
    expect(maskPrefixLength(prefixMask(len))).toBe(len);
  });

  it('maskPrefixLength rejects non-contiguous masks', () => {
    expect(maskPrefixLength(parseIPv4('255.0.255.0'))).toBe(-1);
  });
});
