import { createHash } from 'node:crypto';

/**
 * kube-proxy's iptables chain names. Mirrors kubernetes/kubernetes
 * `pkg/proxy/iptables/proxier.go` (`portProtoHash`,
 * `servicePortPolicyClusterChain`, `servicePortPolicyLocalChainName`,
 * `serviceFirewallChainName`, `serviceExternalChainName`,
 * `servicePortEndpointChainName`): the first 16 characters of
 * `base32.StdEncoding(sha256(input))`, where input is the ServicePortName
 * string (`ns/name` plus `:portName` when the port is named) followed by the
 * lower-case protocol and, for endpoint chains, the endpoint `ip:port`.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * RFC 4648 base32 with the standard alphabet and `=` padding, as Go's `base32.StdEncoding.EncodeToString`.
 *
 * @param bytes - data to encode
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET.charAt((buffer >>> bits) & 31);
    }
  }
  if (bits > 0) out += ALPHABET.charAt((buffer << (5 - bits)) & 31);
  while (out.length % 8 !== 0) out += '=';
  return out;
}

/** `hash[:16]` of sha256 → base32: the first 10 digest bytes give exactly 16 characters. */
function hash16(input: string): string {
  const digest = createHash('sha256').update(input, 'utf8').digest();
  return base32Encode(digest.subarray(0, 10));
}

/**
 * `portProtoHash`: the 16-character suffix shared by a service port's SVC, SVL, EXT and FW chains.
 *
 * @param servicePortName - `ns/name` or `ns/name:portName`
 * @param protocol - lower-case protocol (`tcp`, `udp`, `sctp`)
 */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol);
}

/** `KUBE-SVC-…`: endpoints for the Cluster traffic policy. */
export function servicePortPolicyClusterChain(servicePortName: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-SVL-…`: endpoints for the Local traffic policy. */
export function servicePortPolicyLocalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-FW-…`: loadBalancerSourceRanges filtering. */
export function serviceFirewallChainName(servicePortName: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-EXT-…`: external destinations (NodePort, externalIPs, LoadBalancer IPs). */
export function serviceExternalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(servicePortName, protocol)}`;
}

/**
 * `KUBE-SEP-…`: one endpoint of a service port.
 *
 * @param servicePortName - `ns/name` or `ns/name:portName`
 * @param protocol - lower-case protocol
 * @param endpoint - `ip:port` (`net.JoinHostPort`)
 */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol + endpoint)}`;
}

/** The prefixes of per-service chains (`isServiceChainName`): stale ones are deleted on sync. */
export const SERVICE_CHAIN_PREFIXES: readonly string[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];

/** `isServiceChainName`: whether a chain is a per-service chain kube-proxy owns. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
