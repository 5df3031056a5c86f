import { InvalidArgumentError } from '../errors.js';

/**
 * A modeled kernel cost for what kube-proxy makes the kernel do: the wall
 * time of `iptables-restore` for a sync, and the per-packet cost of a new
 * connection walking `KUBE-SERVICES`. The default calibration is the table
 * measured for lbsim on a KVM guest (`/work/shared/reference/kernel-costs.md`:
 * kernel 6.18, iptables 1.8.9 legacy and nf_tables back ends, N ClusterIP
 * services × 10 endpoints); values between the measured N are interpolated
 * linearly, values beyond the largest N extrapolated along the last segment
 * (an underestimate for the legacy full restore, which grows faster than
 * linearly). Pass your own {@link KernelCostCalibration} to model other
 * hardware.
 *
 * This is a model of *kernel* time. It is unrelated to how long lbsim itself
 * takes, which sync reports give separately as simulator wall time.
 *
 * @module
 */

/** `iptables` back end: legacy (x_tables) or iptables-nft (nf_tables). */
export type IptablesBackendName = 'legacy' | 'nft';

/** One measured row of restore times, in seconds, for a table of `services` service ports. */
export interface RestoreCostRow {
  /** N: services in the measured table (each with the calibration's endpoints per service). */
  readonly services: number;
  /** `iptables-restore` of the whole table into an empty namespace. */
  readonly full: number;
  /** The same whole-table restore again, into the populated table. */
  readonly replace: number;
  /** One more service with `--noflush`. */
  readonly addOne: number;
  /** A kube-proxy partial restore: `KUBE-SERVICES` re-declared and rewritten plus one service's chains. */
  readonly partial: number;
}

/** One measured row of new-connection costs on the OUTPUT path, in nanoseconds per packet. */
export interface PacketCostRow {
  readonly services: number;
  /** The target is the first service in `KUBE-SERVICES`. */
  readonly first: number;
  /** The target is the last service (null when not measured). */
  readonly last: number | null;
  /** An established packet (conntrack hit, no nat traversal); null when not measured. */
  readonly established: number | null;
}

/** The shape of the measured ruleset, to convert a table's size into the calibration's N. */
export interface CalibrationShape {
  /** Rules present with no service. */
  readonly baseRules: number;
  /** Rules each measured service adds (1 KUBE-SERVICES + E statistic jumps + 2E SEP rules). */
  readonly rulesPerService: number;
  /** Rules a measured partial restore writes besides the N+1 `KUBE-SERVICES` service rules. */
  readonly partialExtraRules: number;
}

/** A full calibration: restore and packet tables per back end, plus per-operation costs. */
export interface KernelCostCalibration {
  /** Where the numbers come from. */
  readonly source: string;
  readonly shape: CalibrationShape;
  readonly restore: Readonly<Record<IptablesBackendName, readonly RestoreCostRow[]>>;
  readonly packet: Readonly<Record<IptablesBackendName, readonly PacketCostRow[]>>;
  /**
   * Seconds per IPVS netlink operation (get/add/edit/delete of a virtual or
   * real server). kernel-costs.md has no IPVS row (IPVS is not available on
   * the measured kernel), so the default is 0: IPVS syncs then cost only
   * their iptables-restore. Set it from your own measurements.
   */
  readonly ipvsOperationSeconds: number;
  /** Seconds per ipset add/del/list/create; 0 by default for the same reason. */
  readonly ipsetOperationSeconds: number;
  /** Seconds per separate `iptables` command (EnsureChain/EnsureRule); 0 by default (not measured). */
  readonly iptablesCommandSeconds: number;
}

/**
 * `/work/shared/reference/kernel-costs.md` as data: medians of 3 restores
 * and of 5 packet runs, N ClusterIP services × 10 endpoints, 4 + 11N chains
 * and 8 + 31N rules.
 */
export const KERNEL_COSTS_REFERENCE: KernelCostCalibration = {
  source: 'kernel-costs.md (KVM guest, 2 vCPU Xeon, kernel 6.18, iptables 1.8.9)',
  shape: { baseRules: 8, rulesPerService: 31, partialExtraRules: 31 },
  restore: {
    legacy: [
      { services: 0, full: 0.003, replace: 0.003, addOne: 0.003, partial: 0.003 },
      { services: 100, full: 0.021, replace: 0.027, addOne: 0.011, partial: 0.014 },
      { services: 1000, full: 0.368, replace: 0.382, addOne: 0.176, partial: 0.208 },
      { services: 2000, full: 0.57, replace: 0.91, addOne: 0.3, partial: 0.38 },
      { services: 5000, full: 2.548, replace: 3.426, addOne: 0.789, partial: 0.928 },
      { services: 10000, full: 7.812, replace: 11.088, addOne: 2.111, partial: 2.212 },
    ],
    nft: [
      { services: 0, full: 0.002, replace: 0.013, addOne: 0.003, partial: 0.019 },
      { services: 100, full: 0.054, replace: 0.059, addOne: 0.005, partial: 0.021 },
      { services: 1000, full: 0.513, replace: 0.557, addOne: 0.023, partial: 0.075 },
      { services: 2000, full: 1.131, replace: 1.307, addOne: 0.046, partial: 0.153 },
      { services: 5000, full: 4.123, replace: 4.044, addOne: 0.113, partial: 0.44 },
      { services: 10000, full: 14.136, replace: 13.462, addOne: 0.247, partial: 1.287 },
    ],
  },
  packet: {
    legacy: [
      { services: 0, first: 2572, last: null, established: 1271 },
      { services: 100, first: 3213, last: 3520, established: 1364 },
      { services: 1000, first: 3243, last: 8512, established: 1448 },
      { services: 2000, first: 2989, last: 13831, established: 1386 },
      { services: 5000, first: 3207, last: 30643, established: 1394 },
      { services: 7500, first: 3130, last: 51606, established: null },
      { services: 10000, first: 3126, last: 166782, established: 1436 },
    ],
    nft: [
      { services: 0, first: 2654, last: null, established: 1237 },
      { services: 100, first: 3313, last: 4798, established: 1366 },
      { services: 1000, first: 3628, last: 14056, established: 1302 },
      { services: 2000, first: 3282, last: 25935, established: 1357 },
      { services: 5000, first: 3577, last: 58438, established: 1441 },
      { services: 7500, first: 3403, last: 83453, established: null },
      { services: 10000, first: 3352, last: 118820, established: 1491 },
    ],
  },
  ipvsOperationSeconds: 0,
  ipsetOperationSeconds: 0,
  iptablesCommandSeconds: 0,
};

/** What kind of `iptables-restore` a sync ran. */
export type RestoreKind = 'full' | 'replace' | 'partial';

/** What a sync made the kernel do, as counted by the sync engines. */
export interface KernelWork {
  /** The restore kind, or null when no restore ran. */
  readonly restoreKind: RestoreKind | null;
  /** Rules in the kube-proxy-owned nat + filter tables after the restore (the table the kernel rewrites). */
  readonly tableRules: number;
  /** `-A` lines in the restore input. */
  readonly rulesWritten: number;
  /** IPVS netlink operations (reads and writes). */
  readonly ipvsOperations: number;
  /** ipset operations. */
  readonly ipsetOperations: number;
  /** Separate `iptables` invocations (EnsureChain/EnsureRule/…). */
  readonly iptablesCommands: number;
}

/** A modeled cost in seconds, by component. */
export interface KernelCost {
  readonly seconds: number;
  readonly restoreSeconds: number;
  readonly ipvsSeconds: number;
  readonly ipsetSeconds: number;
  readonly iptablesCommandSeconds: number;
  /** N of the calibration the table size corresponds to. */
  readonly equivalentServices: number;
}

const WHERE = 'lbsim/kube.KernelCostModel';

/** Piecewise-linear interpolation over rows sorted by x; linear extrapolation past the ends, clamped at 0. */
function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0) return 0;
  if (n === 1) return ys[0]!;
  let i = 0;
  if (x <= xs[0]!) i = 0;
  else if (x >= xs[n - 1]!) i = n - 2;
  else while (i < n - 2 && x > xs[i + 1]!) i++;
  const x0 = xs[i]!;
  const x1 = xs[i + 1]!;
  const y0 = ys[i]!;
  const y1 = ys[i + 1]!;
  const y = x1 === x0 ? y0 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  return y < 0 ? 0 : y;
}

function column<T extends { services: number }>(rows: readonly T[], pick: (r: T) => number | null): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const r of rows) {
    const v = pick(r);
    if (v === null) continue;
    xs.push(r.services);
    ys.push(v);
  }
  return { xs, ys };
}

/** Options of {@link KernelCostModel}. */
export interface KernelCostModelOptions {
  /** @defaultValue {@link KERNEL_COSTS_REFERENCE} */
  readonly calibration?: KernelCostCalibration;
  /** @defaultValue 'legacy' */
  readonly backend?: IptablesBackendName;
}

/**
 * Turns counted kernel work into modeled seconds by interpolating a
 * calibration table.
 *
 * Restores: the table's rule count R is mapped to the calibration's N by
 * N = (R − baseRules) / rulesPerService (so a table is as expensive as the
 * measured table of the same size). `full` (into empty tables) and
 * `replace` (a full sync over existing rules) read their columns at N. A
 * `partial` restore costs the measured partial at N when it writes as many
 * rules as the measured one (N + 1 + partialExtraRules), the measured
 * replace when it writes the whole table, and in between linearly in the
 * rules written.
 */
export class KernelCostModel {
  /** The calibration in use. */
  readonly calibration: KernelCostCalibration;
  /** The back end whose columns are used. */
  readonly backend: IptablesBackendName;

  /**
   * @param options - calibration and back end
   * @throws {InvalidArgumentError} for a calibration without restore rows or with unsorted rows
   */
  constructor(options: KernelCostModelOptions = {}) {
    this.calibration = options.calibration ?? KERNEL_COSTS_REFERENCE;
    this.backend = options.backend ?? 'legacy';
    for (const b of ['legacy', 'nft'] as const) {
      const rows = this.calibration.restore[b];
      for (let i = 1; i < rows.length; i++) {
        if (rows[i]!.services <= rows[i - 1]!.services) {
          throw new InvalidArgumentError(`${WHERE}.constructor: restore rows of ${b} must be sorted by services, strictly increasing`);
        }
      }
    }
    if (this.calibration.restore[this.backend].length === 0) {
      throw new InvalidArgumentError(`${WHERE}.constructor: the calibration has no restore rows for back end ${this.backend}`);
    }
    if (this.calibration.shape.rulesPerService <= 0) {
      throw new InvalidArgumentError(`${WHERE}.constructor: shape.rulesPerService must be > 0`);
    }
  }

  /** The calibration's N for a table of `tableRules` rules (0 at the base size, fractional in between). */
  equivalentServices(tableRules: number): number {
    const s = this.calibration.shape;
    return Math.max(0, (tableRules - s.baseRules) / s.rulesPerService);
  }

  /**
   * Modeled seconds of one `iptables-restore`.
   *
   * @param kind - `full` (into empty tables), `replace` (everything again) or `partial`
   * @param tableRules - rules in the kube-proxy tables after the restore
   * @param rulesWritten - `-A` lines in the input (used by `partial`)
   */
  restoreSeconds(kind: RestoreKind, tableRules: number, rulesWritten: number): number {
    const rows = this.calibration.restore[this.backend];
    const n = this.equivalentServices(tableRules);
    const at = (pick: (r: RestoreCostRow) => number): number => {
      const c = column(rows, pick);
      return interpolate(c.xs, c.ys, n);
    };
    if (kind === 'full') return at((r) => r.full);
    const replace = at((r) => r.replace);
    if (kind === 'replace') return replace;
    const partial = at((r) => r.partial);
    const s = this.calibration.shape;
    const wPartial = n + 1 + s.partialExtraRules;
    const wReplace = s.baseRules + s.rulesPerService * n;
    if (wReplace <= wPartial) return partial;
    const f = Math.min(1, Math.max(0, (rulesWritten - wPartial) / (wReplace - wPartial)));
    return partial + (replace - partial) * f;
  }

  /**
   * Modeled nanoseconds for the first packet of a new connection whose
   * service rule is at `position` (1-based) of a `KUBE-SERVICES` chain with
   * `services` service rules: the measured first-service cost plus the
   * per-rule walk, interpolated between the first and last measurements.
   */
  newConnectionNs(position: number, services: number): number {
    const rows = this.calibration.packet[this.backend];
    const first = column(rows, (r) => r.first);
    const last = column(rows, (r) => r.last);
    const f = interpolate(first.xs, first.ys, services);
    if (services <= 1 || last.xs.length === 0) return f;
    const l = interpolate(last.xs, last.ys, services);
    const p = Math.min(Math.max(position, 1), services);
    return f + ((l - f) * (p - 1)) / (services - 1);
  }

  /** Modeled nanoseconds for an established packet (conntrack hit; no nat walk). */
  establishedNs(services: number): number {
    const c = column(this.calibration.packet[this.backend], (r) => r.established);
    return interpolate(c.xs, c.ys, services);
  }

  /** Modeled cost of a sync's kernel work. */
  cost(work: KernelWork): KernelCost {
    const c = this.calibration;
    const restoreSeconds = work.restoreKind === null ? 0 : this.restoreSeconds(work.restoreKind, work.tableRules, work.rulesWritten);
    const ipvsSeconds = work.ipvsOperations * c.ipvsOperationSeconds;
    const ipsetSeconds = work.ipsetOperations * c.ipsetOperationSeconds;
    const iptablesCommandSeconds = work.iptablesCommands * c.iptablesCommandSeconds;
    return {
      seconds: restoreSeconds + ipvsSeconds + ipsetSeconds + iptablesCommandSeconds,
      restoreSeconds,
      ipvsSeconds,
      ipsetSeconds,
      iptablesCommandSeconds,
      equivalentServices: this.equivalentServices(work.tableRules),
    };
  }
}
