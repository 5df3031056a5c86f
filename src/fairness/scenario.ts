import { Decision, type Verdict } from '../classify/decision.js';
import { OperationError } from '../errors.js';
import type { Dest } from '../ipvs/dest.js';
import { ForwardMethod } from '../ipvs/flags.js';
import type { Ipvs, ServiceKey } from '../ipvs/ipvs.js';
import { Packet } from '../net/packet.js';
import { Protocol } from '../net/protocol.js';
import { TcpFlag } from '../net/tcp-flags.js';
import { indexInto, type ClientPopulation, type ClientSpec, type IpvsOperation } from './arbitraries.js';

/** What one applied operation did. */
export type ScenarioOutcome =
  | { readonly kind: 'configured' }
  | { readonly kind: 'refused'; readonly code: string }
  | { readonly kind: 'skipped' }
  | { readonly kind: 'packet'; readonly verdict: Verdict; readonly backend: number | null; readonly newConnection: boolean }
  | { readonly kind: 'advanced' };

/** Options of {@link IpvsScenario}. */
export interface IpvsScenarioOptions {
  /** Forwarding method of added servers. @defaultValue {@link ForwardMethod.MASQ} (so replies are seen) */
  fwd?: ForwardMethod;
}

interface Flow {
  readonly client: ClientSpec;
  backendAddr: number;
  backendPort: number;
}

/**
 * Applies {@link IpvsOperation} sequences (from {@link ipvsOperationsArb})
 * to one virtual service of an {@link Ipvs} engine, and tallies where new
 * connections went. Refusals the kernel would make (a duplicate server, a
 * missing one) are recorded as `refused` outcomes, never thrown, so any
 * generated sequence runs to the end.
 *
 * ```ts
 * const sc = new IpvsScenario(ipvs, key, population);
 * for (const op of ops) sc.apply(op);
 * jainIndex(sc.pickCounts(sc.liveServers()));
 * ```
 */
export class IpvsScenario {
  /** The engine. */
  readonly ipvs: Ipvs;
  /** The service operated on. */
  readonly key: ServiceKey;
  /** Client population connections are opened from. */
  readonly population: ClientPopulation;
  readonly #fwd: ForwardMethod;
  readonly #flows: Flow[] = [];
  readonly #picks = new Map<Dest, number>();
  readonly #pkt = new Packet();
  readonly #d = new Decision();
  readonly #proto: number;
  readonly #vaddr: number;
  readonly #vport: number;

  /**
   * @param ipvs - engine with the service already added
   * @param key - the service (⟨proto, addr, port⟩; fwmark services are not supported here)
   * @param population - clients to draw from
   * @param options - see {@link IpvsScenarioOptions}
   */
  constructor(ipvs: Ipvs, key: ServiceKey, population: ClientPopulation, options: IpvsScenarioOptions = {}) {
    if (key.fwmark !== undefined) throw new OperationError('EINVAL', 'lbsim/fairness.IpvsScenario: fwmark services are not supported');
    if (ipvs.getService(key) === undefined) {
      throw new OperationError('ESRCH', 'lbsim/fairness.IpvsScenario: the service must exist');
    }
    this.ipvs = ipvs;
    this.key = key;
    this.population = population;
    this.#fwd = options.fwd ?? ForwardMethod.MASQ;
    this.#proto = key.proto;
    this.#vaddr = key.addr;
    this.#vport = key.port;
  }

  /** Real servers currently in the service, in kernel order. */
  liveServers(): readonly Dest[] {
    return this.ipvs.getService(this.key)?.dests ?? [];
  }

  /** New connections each dest received, in the order of `dests` (0 for dests never picked). */
  pickCounts(dests: readonly Dest[]): number[] {
    return dests.map((d) => this.#picks.get(d) ?? 0);
  }

  /** Number of flows opened so far. */
  get flowCount(): number {
    return this.#flows.length;
  }

  /** Applies one operation. */
  apply(op: IpvsOperation): ScenarioOutcome {
    switch (op.kind) {
      case 'addServer': {
        const s = op.server;
        return this.#configure(() =>
          this.ipvs.addDest(this.key, s.addr, s.port, {
            weight: s.weight,
            uThreshold: s.uThreshold,
            lThreshold: s.lThreshold,
            fwd: this.#fwd,
          }),
        );
      }
      case 'removeServer': {
        const dests = this.liveServers();
        const i = indexInto(op.index, dests.length);
        if (i < 0) return { kind: 'skipped' };
        const d = dests[i]!;
        return this.#configure(() => {
          this.ipvs.deleteDest(this.key, d.addr, d.port);
        });
      }
      case 'editServer': {
        const dests = this.liveServers();
        const i = indexInto(op.index, dests.length);
        if (i < 0) return { kind: 'skipped' };
        const d = dests[i]!;
        return this.#configure(() =>
          this.ipvs.editDest(this.key, d.addr, d.port, {
            weight: op.weight,
            uThreshold: op.uThreshold,
            lThreshold: op.lThreshold,
          }),
        );
      }
      case 'connect': {
        const clients = this.population.clients;
        const i = indexInto(op.client, clients.length);
        if (i < 0) return { kind: 'skipped' };
        const c = clients[i]!;
        const flags = this.#proto === Protocol.TCP ? TcpFlag.SYN : 0;
        this.#pkt.set(this.#proto, c.addr, c.port, this.#vaddr, this.#vport, flags);
        const d = this.ipvs.classify(this.#pkt, this.#d);
        if (d.newConnection && d.hasBackend) {
          const dest = this.liveServers().find((x) => x.addr === d.backendAddr && x.port === d.backendPort);
          if (dest !== undefined) this.#picks.set(dest, (this.#picks.get(dest) ?? 0) + 1);
        }
        this.#flows.push({ client: c, backendAddr: d.backendAddr, backendPort: d.backendPort });
        return this.#packetOutcome(d);
      }
      case 'packet': {
        const i = indexInto(op.conn, this.#flows.length);
        if (i < 0) return { kind: 'skipped' };
        const f = this.#flows[i]!;
        const flags = this.#proto === Protocol.TCP ? op.flags : 0;
        if (op.reply) {
          if (f.backendAddr === 0) return { kind: 'skipped' };
          this.#pkt.set(this.#proto, f.backendAddr, f.backendPort, f.client.addr, f.client.port, flags);
        } else {
          this.#pkt.set(this.#proto, f.client.addr, f.client.port, this.#vaddr, this.#vport, flags);
        }
        return this.#packetOutcome(this.ipvs.classify(this.#pkt, this.#d));
      }
      case 'advanceClock':
        this.ipvs.clock.advance(op.ms);
        return { kind: 'advanced' };
    }
  }

  /** Applies every operation in order; returns the outcomes. */
  run(ops: Iterable<IpvsOperation>): ScenarioOutcome[] {
    const out: ScenarioOutcome[] = [];
    for (const op of ops) out.push(this.apply(op));
    return out;
  }

  #packetOutcome(d: Decision): ScenarioOutcome {
    return {
      kind: 'packet',
      verdict: d.verdict,
      backend: d.hasBackend ? d.backendAddr : null,
      newConnection: d.newConnection,
    };
  }

  #configure(f: () => unknown): ScenarioOutcome {
    try {
      f();
      return { kind: 'configured' };
    } catch (e) {
      if (e instanceof OperationError) return { kind: 'refused', code: e.code };
      throw e;
    }
  }
}
