import { Decision, type PacketClassifier, type Verdict } from '../../src/classify/decision.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import type { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { SimClock } from '../../src/sim/clock.js';
import type { Rng, RngState } from '../../src/sim/rng.js';

export const ip = parseIPv4;
export const VIP = ip('10.96.0.10');
export const BACKEND = ip('10.244.0.7');
export const TCP80 = { proto: Protocol.TCP, addr: VIP, port: 80 } as const;
export const UDP53 = { proto: Protocol.UDP, addr: VIP, port: 53 } as const;

/**
 * A classifier with a scripted policy: every packet gets `policy(pkt, now)`
 * (default: forwarded to BACKEND:8080). It owns a clock, as Ipvs does, so the
 * driver picks it up.
 */
export class StubClassifier implements PacketClassifier {
  readonly mode = 'stub';
  readonly clock = new SimClock();
  policy: (pkt: Packet, now: number) => Verdict = () => 'forwarded';

  classify(pkt: Packet, out: Decision): Decision {
    out.begin(pkt);
    const v = this.policy(pkt, this.clock.now);
    out.verdict = v;
    out.reason = v === 'forwarded' ? 'established' : 'no-destination';
    if (v === 'forwarded') {
      out.hasBackend = true;
      out.backendAddr = BACKEND;
      out.backendPort = 8080;
      out.newConnection = true;
      out.work.hashProbes = 1;
    }
    return out;
  }
}

/** An Rng whose draws are scripted: uint32() and below() return the given values in turn (the last one repeats). */
export function scriptedRng(uint32s: readonly number[], belows: readonly number[]): Rng {
  let u = 0;
  let b = 0;
  const rng: Rng = {
    next: () => 0,
    uint32: () => uint32s[Math.min(u++, uint32s.length - 1)]!,
    below: (bound: number) => {
      const v = belows[Math.min(b++, belows.length - 1)]!;
      if (v >= bound) throw new Error(`scripted below(${bound}) value ${v} out of range`);
      return v;
    },
    state: (): RngState => ({ i: 0, j: 0, S: [] }),
    fork: () => rng,
  };
  return rng;
}

export { Decision };
