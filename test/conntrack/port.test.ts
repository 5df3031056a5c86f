import { describe, expect, it } from 'vitest';
import { WorkCounts } from '../../src/classify/work.js';
import { IPS } from '../../src/conntrack/constants.js';
import { ConntrackEntry } from '../../src/conntrack/entry.js';
import { createConntrackPort } from '../../src/conntrack/port.js';
import { CtStateBit } from '../../src/netfilter/ast.js';
import { PacketState } from '../../src/netfilter/packet-state.js';
import { Protocol } from '../../src/net/protocol.js';
import { ACK, B, C, makeCt, S, SYN, SYNACK } from './helpers.js';

function state(proto: number, saddr: number, sport: number, daddr: number, dport: number, flags: number): PacketState {
  const p = new PacketState();
  p.proto = proto;
  p.saddr = saddr;
  p.sport = sport;
  p.daddr = daddr;
  p.dport = dport;
  p.flags = flags;
  p.length = 60;
  return p;
}

describe('createConntrackPort', () => {
  it('drives a DNATed TCP connection the way the engine does', () => {
    const { ct } = makeCt({ buckets: 512 });
    const port = createConntrackPort(ct);
    const w = new WorkCounts();
    // SYN at PREROUTING: tracked NEW, DNAT rule binds, nat applied, confirmed at the end.
    const syn = state(Protocol.TCP, C, 40000, S, 80, SYN);
    expect(port.track(syn, w)).toBe(true);
    expect([syn.ctState, syn.ctDir]).toEqual([CtStateBit.NEW, 0]);
    const e = syn.ct!;
    expect(e).toBeInstanceOf(ConntrackEntry);
    expect(port.isNew(e)).toBe(true);
    expect(port.natInitialized(e, 1)).toBe(false);
    port.setupNat(e, 1, B, 8080, 8080, false);
    port.applyNat(e, 1, syn);
    expect([syn.daddr, syn.dport]).toEqual([B, 8080]);
    // POSTROUTING: no SNAT rule -> null binding, nothing changes.
    port.allocNullBinding(e, 0);
    port.applyNat(e, 0, syn);
    expect([syn.saddr, syn.sport]).toEqual([C, 40000]);
    expect(port.confirm(e, w)).toBe(true);
    expect(port.isNew(e)).toBe(false);
    expect(e.status & (IPS.DST_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE | IPS.CONFIRMED)).toBe(
      IPS.DST_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE | IPS.CONFIRMED,
    );
    // The backend's SYN/ACK: reply direction, source translated back at POSTROUTING.
    const synack = state(Protocol.TCP, B, 8080, C, 40000, SYNACK);
    expect(port.track(synack, w)).toBe(true);
    expect([synack.ct, synack.ctState, synack.ctDir]).toEqual([e, CtStateBit.ESTABLISHED, 1]);
    port.applyNat(e, 1, synack);
    port.applyNat(e, 0, synack);
    expect([synack.saddr, synack.sport, synack.daddr, synack.dport]).toEqual([S, 80, C, 40000]);
    expect(port.confirm(e, w)).toBe(true);
  });

  it('INVALID packets get no entry; a full table makes track() return false', () => {
    const { ct } = makeCt({ buckets: 512, max: 1 });
    const port = createConntrackPort(ct);
    const w = new WorkCounts();
    const bad = state(Protocol.TCP, C, 1, S, 80, ACK | SYN | 0x01);
    expect(port.track(bad, w)).toBe(true);
    expect([bad.ct, bad.ctState]).toEqual([null, CtStateBit.INVALID]);
    const a = state(Protocol.UDP, C, 1, S, 53, 0);
    expect(port.track(a, w)).toBe(true);
    // The engine drops it (say, a filter rule): release frees the unconfirmed entry.
    port.release();
    expect(ct.count).toBe(0);
    expect(port.track(a, w)).toBe(true);
    expect(port.confirm(a.ct!, w)).toBe(true);
    // A second flow: the table is full unless early_drop finds the first in range.
    let full = 0;
    for (let sport = 2; sport < 40 && full === 0; sport++) {
      const b = state(Protocol.UDP, C, sport, S, 53, 0);
      if (!port.track(b, w)) full++;
      else ct.release();
    }
    expect(full + ct.stats.earlyDrop).toBeGreaterThan(0);
    expect(ct.count).toBeLessThanOrEqual(1);
  });
});
