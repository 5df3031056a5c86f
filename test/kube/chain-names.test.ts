import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  base32Encode,
  isServiceChainName,
  portProtoHash,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortEndpointChainName,
  servicePortPolicyClusterChain,
  servicePortPolicyLocalChainName,
} from '../../src/kube/chain-names.js';
import { MAX_CHAIN_NAME } from '../../src/netfilter/ruleset.js';

/**
 * A second implementation for cross-checking: WebCrypto's SHA-256 (not node:crypto's createHash) and a base32
 * encoder that treats the whole 256-bit digest as one BigInt (RFC 4648: 5-bit groups, most significant first,
 * the last group padded with zero bits), then keeps 16 characters as proxier.go's `encoded[:16]` does.
 */
async function independentHash16(input: string): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(input)));
  let n = 0n;
  for (const b of digest) n = (n << 8n) | BigInt(b);
  const bits = digest.length * 8; // 256 bits → 52 groups (260 bits, 4 zero bits appended)
  const groups = Math.ceil(bits / 5);
  n <<= BigInt(groups * 5 - bits);
  let out = '';
  for (let g = groups - 1; g >= 0; g--) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.charAt(Number((n >> BigInt(g * 5)) & 31n));
  return out.slice(0, 16);
}

describe('chain names', () => {
  it('matches the worked example of kube-proxy.md §1.3', () => {
    // hash input "ns1/svc1:p80tcp" → KUBE-SVC-XPGD46QRK7WJZT7O; "ns1/svc1:p80tcp10.180.0.1:80" → KUBE-SEP-SXIVWICOYRO3J4NJ
    expect(servicePortPolicyClusterChain('ns1/svc1:p80', 'tcp')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('matches the other names hard-coded in upstream TestOverallIPTablesRules', () => {
    expect(portProtoHash('ns2/svc2:p80', 'tcp')).toBe('GNZBNJ2PO5MGZ6GT');
    expect(portProtoHash('ns3/svc3:p80', 'tcp')).toBe('X27LE4BHSL4DOUIK');
    expect(portProtoHash('ns4/svc4:p80', 'tcp')).toBe('4SW47YFZTEDKD3PK');
    expect(portProtoHash('ns5/svc5:p80', 'tcp')).toBe('NUKIZ6OKUXPJNT4C');
    expect(servicePortEndpointChainName('ns2/svc2:p80', 'tcp', '10.180.0.2:80')).toBe('KUBE-SEP-RS4RBKLTHTF2IUXJ');
    expect(servicePortEndpointChainName('ns3/svc3:p80', 'tcp', '10.180.0.3:80')).toBe('KUBE-SEP-OYPFS5VJICHGATKP');
    expect(servicePortEndpointChainName('ns4/svc4:p80', 'tcp', '10.180.0.4:80')).toBe('KUBE-SEP-UKSFD7AGPMPPLUHC');
    expect(servicePortEndpointChainName('ns4/svc4:p80', 'tcp', '10.180.0.5:80')).toBe('KUBE-SEP-C6EBXVWJJZMIWKLZ');
    expect(servicePortEndpointChainName('ns5/svc5:p80', 'tcp', '10.180.0.3:80')).toBe('KUBE-SEP-I77PXRDZVX7PMWMN');
  });

  it('gives SVC, SVL, EXT and FW of one port the same suffix, and fits the 28-character limit', () => {
    const h = portProtoHash('shop/web:http', 'tcp');
    expect(servicePortPolicyClusterChain('shop/web:http', 'tcp')).toBe(`KUBE-SVC-${h}`);
    expect(servicePortPolicyLocalChainName('shop/web:http', 'tcp')).toBe(`KUBE-SVL-${h}`);
    expect(serviceExternalChainName('shop/web:http', 'tcp')).toBe(`KUBE-EXT-${h}`);
    expect(serviceFirewallChainName('shop/web:http', 'tcp')).toBe(`KUBE-FW-${h}`);
    expect(servicePortPolicyClusterChain('shop/web:http', 'tcp').length).toBeLessThanOrEqual(MAX_CHAIN_NAME);
    expect(h).toMatch(/^[A-Z2-7]{16}$/);
  });

  it('hashes the protocol and the port name: udp, unnamed ports and other services differ', async () => {
    // kube-dns serves "dns" on UDP and "dns-tcp" on TCP; an unnamed port hashes "ns/name" + proto
    const names = ['kube-system/kube-dns:dnsudp', 'kube-system/kube-dns:dns-tcptcp', 'shop/apitcp', 'shop/apiudp', 'shop/apisctp'];
    const got = [
      portProtoHash('kube-system/kube-dns:dns', 'udp'),
      portProtoHash('kube-system/kube-dns:dns-tcp', 'tcp'),
      portProtoHash('shop/api', 'tcp'),
      portProtoHash('shop/api', 'udp'),
      portProtoHash('shop/api', 'sctp'),
    ];
    expect(new Set(got).size).toBe(5);
    for (let i = 0; i < names.length; i++) expect(got[i]).toBe(await independentHash16(names[i]!));
    expect(servicePortEndpointChainName('shop/api', 'tcp', '10.244.0.31:8443')).toBe(
      `KUBE-SEP-${await independentHash16('shop/apitcp10.244.0.31:8443')}`,
    );
  });

  test.prop([fc.string({ maxLength: 80 }), fc.constantFrom('tcp', 'udp', 'sctp'), fc.ipV4(), fc.integer({ min: 1, max: 65535 })])(
    'agrees with an independent implementation on any input',
    async (spn, proto, ip, port) => {
      expect(portProtoHash(spn, proto)).toBe(await independentHash16(spn + proto));
      expect(servicePortEndpointChainName(spn, proto, `${ip}:${port}`)).toBe(`KUBE-SEP-${await independentHash16(`${spn}${proto}${ip}:${port}`)}`);
    },
  );

  it('base32 follows the RFC 4648 test vectors (Go StdEncoding, padded)', () => {
    const enc = (s: string): string => base32Encode(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('MY======');
    expect(enc('fo')).toBe('MZXQ====');
    expect(enc('foo')).toBe('MZXW6===');
    expect(enc('foob')).toBe('MZXW6YQ=');
    expect(enc('fooba')).toBe('MZXW6YTB');
    expect(enc('foobar')).toBe('MZXW6YTBOI======');
  });

  it('recognises per-service chains', () => {
    expect(isServiceChainName('KUBE-SVC-XPGD46QRK7WJZT7O')).toBe(true);
    expect(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ')).toBe(true);
    expect(isServiceChainName('KUBE-SERVICES')).toBe(false);
    expect(isServiceChainName('KUBE-MARK-MASQ')).toBe(false);
  });
});
