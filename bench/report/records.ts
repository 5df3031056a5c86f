// Picking records out of a results file by what they are about (RecordMeta),
// never by parsing task names.
import type { BenchMode, BenchRecord } from '../types.js';

/** Unit of every timing record. */
export const NS_PER_OP = 'ns/op';

/** What to look for. Set fields must match exactly; unset fields match anything. */
export interface RecordQuery {
  readonly suite?: string;
  readonly task?: string;
  readonly metric?: string;
  readonly mode?: BenchMode;
  readonly services?: number;
  readonly position?: 'first' | 'median' | 'last';
  readonly scheduler?: string;
  /** A number matches that count; `'any'` (default) matches records with or without one. */
  readonly connections?: number | 'any';
  readonly unit?: string;
}

/** Records matching `q`, in file order. */
export function select(records: readonly BenchRecord[], q: RecordQuery): BenchRecord[] {
  return records.filter(
    (r) =>
      (q.suite === undefined || r.suite === q.suite) &&
      (q.task === undefined || r.task === q.task) &&
      (q.metric === undefined || r.metric === q.metric) &&
      (q.mode === undefined || r.mode === q.mode) &&
      (q.services === undefined || r.services === q.services) &&
      (q.position === undefined || r.position === q.position) &&
      (q.scheduler === undefined || r.scheduler === q.scheduler) &&
      (q.connections === undefined || q.connections === 'any' || r.connections === q.connections) &&
      (q.unit === undefined || r.unit === q.unit),
  );
}

/**
 * The one record `q` means, when several match: a record without a
 * `connections` count first, then the smallest count (the N-sweeps use a
 * small connection table; a separate task varies the table size), then file
 * order.
 */
export function pick(records: readonly BenchRecord[], q: RecordQuery): BenchRecord | undefined {
  let best: BenchRecord | undefined;
  for (const r of select(records, q)) {
    if (best === undefined || (r.connections ?? -1) < (best.connections ?? -1)) best = r;
  }
  return best;
}

/** The value of {@link pick}, or undefined. */
export function valueOf(records: readonly BenchRecord[], q: RecordQuery): number | undefined {
  return pick(records, q)?.value;
}

/** The median ns/op of the timing `q` means (see {@link pick}), or undefined. */
export function nsOf(records: readonly BenchRecord[], q: RecordQuery): number | undefined {
  return valueOf(records, { ...q, unit: NS_PER_OP });
}

/**
 * A work count of the task a timing belongs to: the record with the same
 * suite and task name as the timing `q` picks, in `unit`.
 */
export function workOf(records: readonly BenchRecord[], q: RecordQuery, unit: string): number | undefined {
  const t = pick(records, { ...q, unit: NS_PER_OP });
  if (t === undefined) return undefined;
  return records.find((r) => r.suite === t.suite && r.task === t.task && r.unit === unit)?.value;
}

/** The distinct `services` values of records matching `q`, ascending. */
export function servicesOf(records: readonly BenchRecord[], q: RecordQuery): number[] {
  const set = new Set<number>();
  for (const r of select(records, q)) if (r.services !== undefined) set.add(r.services);
  return [...set].sort((a, b) => a - b);
}

/** Union of `servicesOf` over several queries, ascending. */
export function servicesOfAny(records: readonly BenchRecord[], qs: readonly RecordQuery[]): number[] {
  const set = new Set<number>();
  for (const q of qs) for (const n of servicesOf(records, q)) set.add(n);
  return [...set].sort((a, b) => a - b);
}
