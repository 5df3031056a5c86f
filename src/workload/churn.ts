import { InvalidArgumentError } from '../errors.js';
import { ForwardMethod } from '../ipvs/flags.js';
import type { Ipvs, ServiceKey } from '../ipvs/ipvs.js';
import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';

/** A backend of a service as the workload names it. */
export interface Endpoint {
  /** Address. */
  readonly addr: IPv4;
  /** Port. */
  readonly port: Port;
  /** Weight when added. @defaultValue 1 (kube-proxy's real-server weight) */
  readonly weight?: number;
}

/**
 * How endpoint churn reaches the mode under test. The workload does not know
 * any mode's configuration API: it calls these at the scheduled simulated
 * times, with the clock already advanced (`now` is the clock's absolute
 * time in ms). {@link IpvsEndpointAdapter} implements them for one IPVS
 * service; write your own for other modes.
 */
export interface EndpointOps {
  /** Put a new endpoint in service. */
  addEndpoint(ep: Endpoint, now: number): void;
  /** Take an endpoint out of service. */
  removeEndpoint(ep: Endpoint, now: number): void;
  /** Change an endpoint's weight (0 = quiesce: no new connections, existing ones continue). */
  setWeight(ep: Endpoint, weight: number, now: number): void;
}

/** Add endpoints (scale up), all at once or one every `stepMs`. */
export interface ScaleUpEvent {
  readonly kind: 'scale-up';
  /** When, in ms after the workload's start. */
  readonly atMs: number;
  /** Endpoints to add, in order. */
  readonly endpoints: readonly Endpoint[];
  /** Delay between successive additions. @defaultValue 0 */
  readonly stepMs?: number;
}

/** Remove endpoints (scale down), all at once or one every `stepMs`. */
export interface ScaleDownEvent {
  readonly kind: 'scale-down';
  /** When, in ms after the workload's start. */
  readonly atMs: number;
  /** Endpoints to remove, in order. */
  readonly endpoints: readonly Endpoint[];
  /** Delay between successive removals. @defaultValue 0 */
  readonly stepMs?: number;
  /**
   * Graceful removal: when > 0, an endpoint first gets weight 0 and is
   * removed `drainMs` later (kube-proxy's IPVS graceful termination quiesces
   * the same way before deleting).
   * @defaultValue 0 (removed at once)
   */
  readonly drainMs?: number;
}

/** One endpoint replaced by another during a {@link RollingUpdateEvent}. */
export interface Replacement {
  /** The endpoint that goes away. */
  readonly from: Endpoint;
  /** The endpoint that takes its place. */
  readonly to: Endpoint;
}

/**
 * Replace endpoints one by one: replacement `i` starts at `atMs + i·stepMs`.
 *
 * - `order: 'surge'` (a Deployment with maxSurge 1, maxUnavailable 0): add
 *   the new endpoint, then retire the old one `gapMs` later.
 * - `order: 'unavailable'` (maxSurge 0, maxUnavailable 1): retire the old
 *   endpoint, then add the new one `gapMs` later.
 *
 * "Retire" is a removal, or with `drainMs > 0` weight 0 then removal
 * `drainMs` later. Time-based steps stand in for readiness: Kubernetes waits
 * for the new pod to be ready, which the workload does not model.
 */
export interface RollingUpdateEvent {
  readonly kind: 'rolling-update';
  /** When the first replacement starts, in ms after the workload's start. */
  readonly atMs: number;
  /** The replacements, in order. */
  readonly replacements: readonly Replacement[];
  /** Delay between the starts of successive replacements. @defaultValue 0 */
  readonly stepMs?: number;
  /** Which half of a replacement comes first. @defaultValue `'surge'` */
  readonly order?: 'surge' | 'unavailable';
  /** Delay between the two halves of one replacement. @defaultValue 0 */
  readonly gapMs?: number;
  /** Quiesce (weight 0) this long before removing a retired endpoint. @defaultValue 0 */
  readonly drainMs?: number;
}

/** Change one endpoint's weight. */
export interface WeightChangeEvent {
  readonly kind: 'weight';
  /** When, in ms after the workload's start. */
  readonly atMs: number;
  /** The endpoint. */
  readonly endpoint: Endpoint;
  /** The new weight (an integer ≥ 0; the mode's adapter checks its own upper bound). */
  readonly weight: number;
}

/** Run any callback at a simulated time (config changes the other kinds do not cover). */
export interface CallEvent {
  readonly kind: 'call';
  /** When, in ms after the workload's start. */
  readonly atMs: number;
  /** The callback; `now` is the clock's absolute time. */
  readonly run: (now: number) => void;
}

/** A churn event on the workload's timeline. */
export type ChurnEvent = ScaleUpEvent | ScaleDownEvent | RollingUpdateEvent | WeightChangeEvent | CallEvent;

/** What a single scheduled churn action does. */
export type ChurnOp = 'add' | 'remove' | 'weight' | 'call';

/** One primitive action a {@link ChurnEvent} expands into. */
export interface ChurnAction {
  /** When, in ms after the workload's start. */
  readonly atMs: number;
  /** What to do. */
  readonly op: ChurnOp;
  /** The endpoint (`null` for `call`). */
  readonly endpoint: Endpoint | null;
  /** New weight for `weight`; the endpoint's weight (default 1) for `add`; 0 otherwise. */
  readonly weight: number;
  /** The callback of a `call`. */
  readonly run: ((now: number) => void) | null;
  /** Index of the {@link ChurnEvent} it came from. */
  readonly event: number;
}

function checkMs(where: string, name: string, v: number | undefined, def: number): number {
  const x = v ?? def;
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new InvalidArgumentError(`lbsim/${where}: ${name} must be an integer number of ms >= 0 (got ${x})`);
  }
  return x;
}

function checkEndpoint(where: string, name: string, ep: Endpoint): Endpoint {
  if (!Number.isInteger(ep.addr) || ep.addr < 0 || ep.addr > 0xffffffff) {
    throw new InvalidArgumentError(`lbsim/${where}: ${name}.addr must be a uint32 (got ${ep.addr})`);
  }
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) {
    throw new InvalidArgumentError(`lbsim/${where}: ${name}.port must be an integer in [0, 65535] (got ${ep.port})`);
  }
  const w = ep.weight ?? 1;
  if (!Number.isInteger(w) || w < 0) {
    throw new InvalidArgumentError(`lbsim/${where}: ${name}.weight must be an integer >= 0 (got ${w})`);
  }
  return ep;
}

/**
 * Expands churn events into primitive actions, sorted by time (stable:
 * actions at the same time keep the order the events and their steps were
 * given in, so a surge's add precedes the removal it makes room for).
 *
 * @throws {InvalidArgumentError} for negative or non-integer times and malformed endpoints
 */
export function expandChurn(events: readonly ChurnEvent[]): ChurnAction[] {
  const where = 'workload.expandChurn';
  const out: ChurnAction[] = [];
  const add = (atMs: number, ep: Endpoint, event: number): void => {
    out.push({ atMs, op: 'add', endpoint: ep, weight: ep.weight ?? 1, run: null, event });
  };
  const remove = (atMs: number, ep: Endpoint, event: number): void => {
    out.push({ atMs, op: 'remove', endpoint: ep, weight: 0, run: null, event });
  };
  const weight = (atMs: number, ep: Endpoint, w: number, event: number): void => {
    out.push({ atMs, op: 'weight', endpoint: ep, weight: w, run: null, event });
  };
  const retire = (atMs: number, ep: Endpoint, drainMs: number, event: number): void => {
    if (drainMs > 0) {
      weight(atMs, ep, 0, event);
      remove(atMs + drainMs, ep, event);
    } else {
      remove(atMs, ep, event);
    }
  };
  events.forEach((e, index) => {
    const name = `churn[${index}]`;
    const at = checkMs(where, `${name}.atMs`, e.atMs, 0);
    switch (e.kind) {
      case 'scale-up': {
        const step = checkMs(where, `${name}.stepMs`, e.stepMs, 0);
        e.endpoints.forEach((ep, i) => {
          add(at + i * step, checkEndpoint(where, `${name}.endpoints[${i}]`, ep), index);
        });
        break;
      }
      case 'scale-down': {
        const step = checkMs(where, `${name}.stepMs`, e.stepMs, 0);
        const drain = checkMs(where, `${name}.drainMs`, e.drainMs, 0);
        e.endpoints.forEach((ep, i) => {
          retire(at + i * step, checkEndpoint(where, `${name}.endpoints[${i}]`, ep), drain, index);
        });
        break;
      }
      case 'rolling-update': {
        const step = checkMs(where, `${name}.stepMs`, e.stepMs, 0);
        const gap = checkMs(where, `${name}.gapMs`, e.gapMs, 0);
        const drain = checkMs(where, `${name}.drainMs`, e.drainMs, 0);
        const order: string = e.order ?? 'surge'; // checked: JavaScript callers can pass anything
        if (order !== 'surge' && order !== 'unavailable') {
          throw new InvalidArgumentError(`lbsim/${where}: ${name}.order must be 'surge' or 'unavailable'`);
        }
        e.replacements.forEach((r, i) => {
          const from = checkEndpoint(where, `${name}.replacements[${i}].from`, r.from);
          const to = checkEndpoint(where, `${name}.replacements[${i}].to`, r.to);
          const t = at + i * step;
          if (order === 'surge') {
            add(t, to, index);
            retire(t + gap, from, drain, index);
          } else {
            retire(t, from, drain, index);
            add(t + gap, to, index);
          }
        });
        break;
      }
      case 'weight': {
        const w = e.weight;
        if (!Number.isInteger(w) || w < 0) {
          throw new InvalidArgumentError(`lbsim/${where}: ${name}.weight must be an integer >= 0 (got ${w})`);
        }
        weight(at, checkEndpoint(where, `${name}.endpoint`, e.endpoint), w, index);
        break;
      }
      case 'call':
        if (typeof e.run !== 'function') {
          throw new InvalidArgumentError(`lbsim/${where}: ${name}.run must be a function`);
        }
        out.push({ atMs: at, op: 'call', endpoint: null, weight: 0, run: e.run, event: index });
        break;
      default:
        throw new InvalidArgumentError(
          `lbsim/${where}: ${name} has an unknown kind ${JSON.stringify((e as { kind: unknown }).kind)}`,
        );
    }
  });
  // Array.prototype.sort is stable (ES2019), so equal times keep their order.
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** One change an {@link IpvsEndpointAdapter} made. */
export interface EndpointChange {
  /** Absolute clock time of the change (ms). */
  readonly timeMs: number;
  /** What was done. */
  readonly op: 'add' | 'remove' | 'weight';
  /** Endpoint address. */
  readonly addr: IPv4;
  /** Endpoint port. */
  readonly port: Port;
  /** Weight after the change (0 for a removal). */
  readonly weight: number;
  /** Real servers of the service able to take new connections right after the change (weight > 0). */
  readonly inService: number;
  /** Real servers in the service's list right after the change, weight 0 included. */
  readonly dests: number;
}

/** Options of an {@link IpvsEndpointAdapter}. */
export interface IpvsEndpointAdapterOptions {
  /**
   * Forwarding method of added real servers.
   * @defaultValue {@link ForwardMethod.MASQ} (kube-proxy's choice; replies pass the director)
   */
  readonly fwd?: ForwardMethod;
}

/**
 * {@link EndpointOps} for one IPVS virtual service: `addEndpoint` is
 * `ipvsadm -a` ({@link Ipvs.addDest}), `removeEndpoint` is `ipvsadm -d`
 * ({@link Ipvs.deleteDest}, immediate: the dest leaves the list and waits in
 * the trash for its connections), `setWeight` is `ipvsadm -e -w`
 * ({@link Ipvs.editDest}). Kernel refusals (`EEXIST` for a duplicate add,
 * `ENOENT` for an unknown dest) propagate as `OperationError`s: a churn plan
 * that makes them is wrong.
 *
 * Every change is appended to {@link IpvsEndpointAdapter.log} with the
 * number of real servers still able to take new connections, so tests can
 * check that a rolling update never leaves the service without one.
 */
export class IpvsEndpointAdapter implements EndpointOps {
  /** The engine. */
  readonly ipvs: Ipvs;
  /** The service whose real servers change. */
  readonly key: ServiceKey;
  /** Every change made, in order. */
  readonly log: EndpointChange[] = [];
  readonly #fwd: ForwardMethod;

  /**
   * @param ipvs - the engine
   * @param key - the service (must exist)
   * @param options - see {@link IpvsEndpointAdapterOptions}
   * @throws {InvalidArgumentError} when the service does not exist
   */
  constructor(ipvs: Ipvs, key: ServiceKey, options: IpvsEndpointAdapterOptions = {}) {
    if (ipvs.getService(key) === undefined) {
      throw new InvalidArgumentError('lbsim/workload.IpvsEndpointAdapter.constructor: the service must exist');
    }
    this.ipvs = ipvs;
    this.key = key;
    this.#fwd = options.fwd ?? ForwardMethod.MASQ;
  }

  /** Real servers able to take new connections now (in the list, weight > 0). */
  inService(): number {
    const svc = this.ipvs.getService(this.key);
    if (svc === undefined) return 0;
    let n = 0;
    for (const d of svc.dests) if (d.weight > 0) n++;
    return n;
  }

  /** `ipvsadm -a` with the endpoint's weight (default 1). */
  addEndpoint(ep: Endpoint, now: number): void {
    const weight = ep.weight ?? 1;
    this.ipvs.addDest(this.key, ep.addr, ep.port, { weight, fwd: this.#fwd });
    this.#record(now, 'add', ep, weight);
  }

  /** `ipvsadm -d`. */
  removeEndpoint(ep: Endpoint, now: number): void {
    this.ipvs.deleteDest(this.key, ep.addr, ep.port);
    this.#record(now, 'remove', ep, 0);
  }

  /** `ipvsadm -e -w weight`. */
  setWeight(ep: Endpoint, weight: number, now: number): void {
    this.ipvs.editDest(this.key, ep.addr, ep.port, { weight });
    this.#record(now, 'weight', ep, weight);
  }

  #record(timeMs: number, op: EndpointChange['op'], ep: Endpoint, weight: number): void {
    const dests = this.ipvs.getService(this.key)?.dests.length ?? 0;
    this.log.push({ timeMs, op, addr: ep.addr, port: ep.port, weight, inService: this.inService(), dests });
  }
}
