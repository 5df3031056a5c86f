// The contract between the bench runner (bench/run.ts) and the suites
// (bench/suites/*.ts): suites describe tasks and record facts; the runner
// times, prints, writes JSON and regenerates the docs.

/** `quick`: `npm run bench`, ≤ 3 minutes on 2 cores. `full`: `--full`, the sweep to 100k services. */
export type Profile = 'quick' | 'full';

/** Proxy mode a record belongs to, when it belongs to one. */
export type BenchMode = 'ipvs' | 'iptables';

/**
 * What a record is about, so the report can group and chart records
 * without parsing task names. Every field is optional; set what applies.
 */
export interface RecordMeta {
  /** Proxy mode measured. */
  readonly mode?: BenchMode;
  /** Number of Services in the simulated cluster (the N of "cost vs N"). */
  readonly services?: number;
  /** Endpoints per Service. */
  readonly endpoints?: number;
  /**
   * What is measured, a stable identifier the report keys on, e.g.
   * `new-conn`, `established`, `full-restore-text`, `full-apply`,
   * `partial-sync`, `add-service`, `endpoint-change`, `heap`, `schedule`.
   */
  readonly metric?: string;
  /** For iptables first-packet costs: which service in KUBE-SERVICES was targeted. */
  readonly position?: 'first' | 'median' | 'last';
  /** IPVS scheduler name, for scheduler records. */
  readonly scheduler?: string;
  /** Live connections in the table, when that is the variable. */
  readonly connections?: number;
}

/** Options of a timed task. */
export interface TaskOptions extends RecordMeta {
  /** Operations per call of the task function; ns/op divides the call's time by it. */
  readonly batch: number;
  /** Minimum number of timed calls (default: the runner's). Use small values for calls of seconds. */
  readonly minIterations?: number;
  /** Sampling time budget for this task in ms (default: the runner's, from BENCH_TIME_MS). */
  readonly timeMs?: number;
  /** Runs before each timed call, untimed (e.g. to reset state). */
  readonly beforeEach?: () => void;
}

/** One line of results: a timing (`ns/op`) or a measured quantity or work count. */
export interface BenchRecord extends RecordMeta {
  readonly suite: string;
  readonly task: string;
  /** `ns/op` for timings; otherwise the quantity's unit, e.g. `rules/packet`, `bytes`, `bytes/service`, `ms`. */
  readonly unit: string;
  readonly value: number;
  /** Timings only: tinybench's relative margin of error, percent. */
  readonly rme?: number;
  /** Timings only: number of samples behind the median. */
  readonly samples?: number;
}

/** What a suite gets from the runner. */
export interface SuiteContext {
  readonly profile: Profile;
  /** Adds a timed task; the runner reports the median ns per operation. */
  task(name: string, fn: () => void, options: TaskOptions): void;
  /**
   * Records a deterministic work count (rules evaluated, hash probes, rules
   * written, bytes of restore text) or a non-timed measurement (heap bytes).
   */
  record(task: string, unit: string, value: number, meta?: RecordMeta): void;
  /** One line of progress for the terminal (input building can take seconds). */
  progress(message: string): void;
}

/** A benchmark suite. `run` registers tasks and records; the runner times the tasks after `run` returns. */
export interface Suite {
  /** Short kebab-case name; `npm run bench -- <filter>` selects suites by substring. */
  readonly name: string;
  /** One sentence for the printed header and the docs. */
  readonly description: string;
  run(ctx: SuiteContext): void | Promise<void>;
}
