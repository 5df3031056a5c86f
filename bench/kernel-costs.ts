// The real kernel's costs, transcribed from ../shared/reference/kernel-costs.md
// ("Real netfilter costs on this kind of machine": KVM guest, 2 vCPU Xeon with
// 2 MiB L2 per core, kernel 6.18, iptables 1.8.9 legacy and nf_tables back
// ends, nftables 1.0.6; kube-proxy-shaped nat table of N ClusterIP services
// × 10 endpoints, 4 + 11N chains, 8 + 31N rules). Only numbers that appear in
// that file are here; `null` is a "–" cell of the file. Nothing is measured
// by lbsim: these are the reference points the report sets its own numbers
// beside.

/** Where every number in this module comes from. */
export const KERNEL_COSTS_SOURCE =
  'shared/reference/kernel-costs.md (KVM guest, 2 vCPU Xeon, 2 MiB L2/core, kernel 6.18, iptables 1.8.9 legacy + nft, nftables 1.0.6)';

/** Endpoints per service in every measured ruleset. */
export const KERNEL_COSTS_ENDPOINTS = 10;

/** `iptables` back end of a column. */
export type KernelBackend = 'legacy' | 'nft';

/** One row of "Rule sync, seconds (median of 3)". */
export interface KernelSyncRow {
  /** N: ClusterIP services in the table. */
  readonly services: number;
  /** `iptables-restore` of the whole table into a fresh namespace, s. */
  readonly full: number;
  /** The same file again over the populated table, s. */
  readonly replace: number;
  /** One more service with `--noflush`, s. */
  readonly addOne: number;
  /** kube-proxy-style partial restore (KUBE-SERVICES re-declared and rewritten + the new service's chains), s. */
  readonly partial: number;
}

/** One row of "New-connection cost on the OUTPUT path, ns per packet (median)", one back end. */
export interface KernelPacketRow {
  readonly services: number;
  /** New connection to the first service in KUBE-SERVICES, ns/packet. */
  readonly first: number;
  /** New connection to the last service, ns/packet (null: "–"). */
  readonly last: number | null;
  /** (last − first)/(N − 1), ns per rule, as printed in the file (null: "–"). */
  readonly nsPerRule: number | null;
  /** Established packet (one 5-tuple repeated), ns/packet (null: "–"). */
  readonly established: number | null;
}

/** One row of the nftables-mode table (kube-proxy nftables shape, one verdict-map lookup). */
export interface KernelNftablesModeRow {
  readonly services: number;
  /** `nft -f` into a fresh namespace, s (null: not measured). */
  readonly fresh: number | null;
  /** The same ruleset again, s; "over 150" is stored as 150 with `replaceAtLeast`. */
  readonly replace: number | null;
  /** True when the file gives only a lower bound for `replace`. */
  readonly replaceAtLeast?: boolean;
  /** One more service, s (null: "–"). */
  readonly addOne: number | null;
  /** New connection, first service (at N = 0: with no service), ns (null: "–"). */
  readonly first: number | null;
  /** New connection, last service, ns (null: "–"). */
  readonly last: number | null;
  /** Established packet, ns (null: "–"). */
  readonly established: number | null;
  /** A remark the file attaches to the row ("1 run", "about"). */
  readonly note?: string;
}

/** "Rule sync, seconds (median of 3)", per back end. */
export const KERNEL_SYNC_SECONDS: Readonly<Record<KernelBackend, readonly KernelSyncRow[]>> = {
  legacy: [
    { services: 0, full: 0.003, replace: 0.003, addOne: 0.003, partial: 0.003 },
    { services: 100, full: 0.021, replace: 0.027, addOne: 0.011, partial: 0.014 },
    { services: 1000, full: 0.368, replace: 0.382, addOne: 0.176, partial: 0.208 },
    { services: 2000, full: 0.57, replace: 0.91, addOne: 0.3, partial: 0.38 },
    { services: 5000, full: 2.548, replace: 3.426, addOne: 0.789, partial: 0.928 },
    { services: 10_000, full: 7.812, replace: 11.088, addOne: 2.111, partial: 2.212 },
  ],
  nft: [
    { services: 0, full: 0.002, replace: 0.013, addOne: 0.003, partial: 0.019 },
    { services: 100, full: 0.054, replace: 0.059, addOne: 0.005, partial: 0.021 },
    { services: 1000, full: 0.513, replace: 0.557, addOne: 0.023, partial: 0.075 },
    { services: 2000, full: 1.131, replace: 1.307, addOne: 0.046, partial: 0.153 },
    { services: 5000, full: 4.123, replace: 4.044, addOne: 0.113, partial: 0.44 },
    { services: 10_000, full: 14.136, replace: 13.462, addOne: 0.247, partial: 1.287 },
  ],
};

/** "New-connection cost on the OUTPUT path, ns per packet (median)", per back end. Row N = 0 is "no service". */
export const KERNEL_PACKET_NS: Readonly<Record<KernelBackend, readonly KernelPacketRow[]>> = {
  legacy: [
    { services: 0, first: 2572, last: null, nsPerRule: null, established: 1271 },
    { services: 100, first: 3213, last: 3520, nsPerRule: 3.1, established: 1364 },
    { services: 1000, first: 3243, last: 8512, nsPerRule: 5.27, established: 1448 },
    { services: 2000, first: 2989, last: 13_831, nsPerRule: 5.42, established: 1386 },
    { services: 5000, first: 3207, last: 30_643, nsPerRule: 5.49, established: 1394 },
    { services: 7500, first: 3130, last: 51_606, nsPerRule: 6.46, established: null },
    { services: 10_000, first: 3126, last: 166_782, nsPerRule: 16.4, established: 1436 },
  ],
  nft: [
    { services: 0, first: 2654, last: null, nsPerRule: null, established: 1237 },
    { services: 100, first: 3313, last: 4798, nsPerRule: 15.0, established: 1366 },
    { services: 1000, first: 3628, last: 14_056, nsPerRule: 10.4, established: 1302 },
    { services: 2000, first: 3282, last: 25_935, nsPerRule: 11.3, established: 1357 },
    { services: 5000, first: 3577, last: 58_438, nsPerRule: 11.0, established: 1441 },
    { services: 7500, first: 3403, last: 83_453, nsPerRule: 10.7, established: null },
    { services: 10_000, first: 3352, last: 118_820, nsPerRule: 11.5, established: 1491 },
  ],
};

/** "nftables, kube-proxy nftables-mode shape (one `ip daddr . meta l4proto . th dport vmap` lookup)". */
export const KERNEL_NFTABLES_MODE: readonly KernelNftablesModeRow[] = [
  { services: 0, fresh: 0.004, replace: 0.021, addOne: 0.005, first: 2428, last: null, established: 1274, note: 'first: no service' },
  { services: 100, fresh: 0.049, replace: 0.064, addOne: 0.008, first: 2788, last: 2820, established: 1437 },
  { services: 1000, fresh: 0.886, replace: 1.345, addOne: 0.044, first: 2802, last: 2846, established: 1414 },
  { services: 2000, fresh: 2.564, replace: 4.324, addOne: 0.104, first: null, last: null, established: null },
  { services: 5000, fresh: 12.0, replace: 25.0, addOne: 0.352, first: null, last: null, established: null, note: 'fresh and replace: 1 run' },
  {
    services: 10_000,
    fresh: 61,
    replace: 150,
    replaceAtLeast: true,
    addOne: null,
    first: 2726,
    last: 2729,
    established: 1264,
    note: 'fresh: about 61 s (1 run); replace: over 150 s',
  },
];

/** "A namespace with no rules at all: 1,062 ns per packet (the syscall and the packet sink)." */
export const KERNEL_NO_RULES_NS = 1062;

/** "Restore peak memory at N = 10,000": the iptables-restore process, bytes (MB = 10^6 bytes as printed). */
export const KERNEL_RESTORE_PEAK_BYTES_10K: Readonly<Record<KernelBackend, number>> = { legacy: 565e6, nft: 680e6 };

/** The sync row of `backend` at exactly `services`, or undefined when the file has no such row. */
export function kernelSyncAt(backend: KernelBackend, services: number): KernelSyncRow | undefined {
  return KERNEL_SYNC_SECONDS[backend].find((r) => r.services === services);
}

/** The packet row of `backend` at exactly `services`, or undefined when the file has no such row. */
export function kernelPacketAt(backend: KernelBackend, services: number): KernelPacketRow | undefined {
  return KERNEL_PACKET_NS[backend].find((r) => r.services === services);
}
