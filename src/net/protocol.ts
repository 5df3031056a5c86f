import { InvalidArgumentError } from '../errors.js';

/** IP protocol numbers lbsim models. `IP` (0) is what the kernel uses for fwmark templates. */
export const Protocol = {
  IP: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  SCTP: 132,
} as const;

/** An IP protocol number. */
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

/** Upper-case protocol name as ipvsadm and iptables-save print it (`TCP`, `UDP`, `SCTP`). */
export function protocolName(proto: number): string {
  switch (proto) {
    case Protocol.TCP:
      return 'TCP';
    case Protocol.UDP:
      return 'UDP';
    case Protocol.SCTP:
      return 'SCTP';
    case Protocol.ICMP:
      return 'ICMP';
    case Protocol.IP:
      return 'IP';
    default:
      return String(proto);
  }
}

/**
 * Parses a protocol name (case-insensitive `tcp`, `udp`, `sctp`, `icmp`) or number.
 *
 * @throws {InvalidArgumentError} for unknown names
 */
export function parseProtocol(text: string): Protocol {
  switch (text.toLowerCase()) {
    case 'tcp':
    case '6':
      return Protocol.TCP;
    case 'udp':
    case '17':
      return Protocol.UDP;
    case 'sctp':
    case '132':
      return Protocol.SCTP;
    case 'icmp':
    case '1':
      return Protocol.ICMP;
    default:
      throw new InvalidArgumentError(`lbsim/net.parseProtocol: unknown protocol ${JSON.stringify(text)}`);
  }
}
