// The real kernel's costs, transcribed from ../shared/reference/kernel-costs.md
// ("Real netfilter costs on this kind of machine": KVM guest, 2 vCPU Xeon with
// 2 MiB L2 per core, kernel 6.18, iptables 1.8.9 legacy and nf_tables back
// ends, nftables 1.0.6; kube-proxy-shaped nat table of N ClusterIP services
// × 10 endpoints, 4 + 11N chains, 8 + 31N rules). Only numbers that appear in
// that file are here; `null` is a "–" cell of the file. Nothing is measured
// by lbsim: these are the reference points the report sets its own numbers
// beside. The restore and packet tables are lbsim's own calibration data
// (src/kube/cost-model.ts KERNEL_COSTS_REFERENCE, which the modeled kernel
// cost interpolates); this module adds the file's other columns and tables.
import { KERNEL_COSTS_REFERENCE } from '../src/kube/cost-model.js';
import type { IptablesBackendName, PacketCostRow, RestoreCostRow } from '../src/kube/cost-model.js';

/** Where every number in this module comes from. */
export const KERNEL_COSTS_SOURCE =
  'shared/reference/kernel-costs.md (KVM guest, 2 vCPU Xeon, 2 MiB L2/core, kernel 6.18, iptables 1.8.9 legacy + nft, nftables 1.0.6)';

/** Endpoints per service in every measured ruleset. */
export const KERNEL_COSTS_ENDPOINTS = 10;

/** `iptables` back end of a column. */
export type KernelBackend = IptablesBackendName;

/** One row of "Rule sync, seconds (median of 3)". */
export type KernelSyncRow = RestoreCostRow;

/** One row of "New-connection cost on the OUTPUT path, ns per packet (median)", one back end. */
export interface KernelPacketRow extends PacketCostRow {
  /** (last − first)/(N − 1), ns per rule, as printed in the file (null: "–"). */
  readonly nsPerRule: number | null;
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
export const KERNEL_SYNC_SECONDS: Readonly<Record<KernelBackend, readonly KernelSyncRow[]>> = KERNEL_COSTS_REFERENCE.restore;

/** The file's "ns/rule" column of the packet table, per back end and N, as printed (it rounds to 3 digits). */
const PRINTED_NS_PER_RULE: Readonly<Record<KernelBackend, ReadonlyMap<number, number>>> = {
  legacy: new Map([[100, 3.1], [1000, 5.27], [2000, 5.42], [5000, 5.49], [7500, 6.46], [10_000, 16.4]]),
  nft: new Map([[100, 15.0], [1000, 10.4], [2000, 11.3], [5000, 11.0], [7500, 10.7], [10_000, 11.5]]),
};

const withNsPerRule = (b: KernelBackend): KernelPacketRow[] =>
  KERNEL_COSTS_REFERENCE.packet[b].map((r) => ({ ...r, nsPerRule: PRINTED_NS_PER_RULE[b].get(r.services) ?? null }));

/** "New-connection cost on the OUTPUT path, ns per packet (median)", per back end. Row N = 0 is "no service". */
export const KERNEL_PACKET_NS: Readonly<Record<KernelBackend, readonly KernelPacketRow[]>> = {
  legacy: withNsPerRule('legacy'),
  nft: withNsPerRule('nft'),
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
