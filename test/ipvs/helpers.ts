import { Decision } from '../../src/classify/decision.js';
import { Ipvs, type IpvsOptions, type ServiceKey } from '../../src/ipvs/ipvs.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';

export const ip = parseIPv4;
export const VIP = ip('10.0.0.1');
export const TCP80: ServiceKey = { proto: Protocol.TCP, addr: VIP, port: 80 };
export const UDP53: ServiceKey = { proto: Protocol.UDP, addr: VIP, port: 53 };
export const { SYN, ACK, FIN, RST } = TcpFlag;

/** A small driver: one engine, one reusable packet and decision. */
export class Driver {
  readonly ipvs: Ipvs;
  readonly pkt = new Packet();
  readonly d = new Decision();

  constructor(opts: IpvsOptions = {}) {
    this.ipvs = new Ipvs({ seed: 1, ...opts });
  }

  /** Client → VIP packet. */
  send(client: string, cport: number, flags: number, key: { addr: number; port: number; proto?: number } = { addr: VIP, port: 80 }, len = 60, mark = 0): Decision {
    this.pkt.set(key.proto ?? Protocol.TCP, ip(client), cport, key.addr, key.port, flags, len, mark);
    return this.ipvs.classify(this.pkt, this.d);
  }

  /** Real server → client reply. */
  reply(server: string, sport: number, client: string, cport: number, flags: number, proto: number = Protocol.TCP, len = 60): Decision {
    this.pkt.set(proto, ip(server), sport, ip(client), cport, flags, len, 0);
    return this.ipvs.classify(this.pkt, this.d);
  }

  advance(seconds: number): void {
    this.ipvs.clock.advance(Math.round(seconds * 1000));
  }
}

export function last(addr: number): number {
  return addr & 255;
}
