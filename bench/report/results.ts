// The results file: what `npm run bench` writes to
// bench/results/<profile>-latest.json and what bench/report.ts reads back.
// Its JSON Schema is bench/results/schema.json (kept in step by
// test/bench/results-schema.test.ts).
import type { BenchRecord, Profile } from '../types.js';

/** Version of the results file layout; bumped on any incompatible change. */
export const RESULTS_SCHEMA_VERSION = 1;

/** Outcome of one target. */
export type TargetStatus = 'met' | 'not met' | 'not measured';

/** A target as evaluated from one run's records. */
export interface TargetResult {
  /** Stable identifier, e.g. `ipvs-new-conn`. */
  readonly id: string;
  /** The target in words, e.g. `IPVS new connection ≤ 150 ns`. */
  readonly description: string;
  /** What must hold: `value ≤ threshold`. */
  readonly threshold: number;
  /** Unit of `value` and `threshold` (`ns`, `s`, `ratio`, `bytes`, `ns/rule`). */
  readonly unit: string;
  readonly status: TargetStatus;
  /** The evaluated value, null when not measured. */
  readonly value: number | null;
  /** How the value was obtained from the records, or why it was not. */
  readonly detail: string;
}

/** Where and on what a run happened. */
export interface RunEnvironment {
  /** `version` of lbsim's package.json. */
  readonly lbsimVersion: string;
  /** `process.version`. */
  readonly nodeVersion: string;
  readonly cpu: { readonly model: string; readonly count: number };
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
  /** V8 heap size limit of the run, bytes. */
  readonly heapLimitBytes: number;
}

/** Runner settings a run used. */
export interface RunSettings {
  /** Sampling time per task, ms (tasks may set their own). */
  readonly timeMs: number;
  /** Minimum timed calls per task (tasks may set their own). */
  readonly minIterations: number;
  /** Suite name filters; empty for a complete run. */
  readonly filters: readonly string[];
  /** Wall time of the whole run, seconds. */
  readonly wallSeconds: number;
}

/** A suite or task that threw. */
export interface RunFailure {
  readonly suite: string;
  /** The task, or null when the suite failed while building its tasks. */
  readonly task: string | null;
  /** The error's message (first line). */
  readonly error: string;
}

/** A suite that ran. */
export interface SuiteInfo {
  readonly name: string;
  readonly description: string;
}

/** The whole file. */
export interface ResultsFile extends RunEnvironment {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  /** ISO 8601 time the run ended. */
  readonly date: string;
  readonly profile: Profile;
  readonly settings: RunSettings;
  /** The suites that ran, in run order. */
  readonly suites: readonly SuiteInfo[];
  /** Suites or tasks that threw (their timings are missing); empty for a clean run. */
  readonly failures: readonly RunFailure[];
  readonly records: readonly BenchRecord[];
  readonly targets: readonly TargetResult[];
}

/** Everything a results file holds besides the environment and the derived targets. */
export interface RunOutcome {
  readonly date: string;
  readonly profile: Profile;
  readonly settings: RunSettings;
  readonly suites: readonly SuiteInfo[];
  readonly failures: readonly RunFailure[];
  readonly records: readonly BenchRecord[];
}

/** Assembles a results file; `targets` are evaluated by the caller (bench/report/targets.ts). */
export function buildResultsFile(env: RunEnvironment, run: RunOutcome, targets: readonly TargetResult[]): ResultsFile {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    lbsimVersion: env.lbsimVersion,
    nodeVersion: env.nodeVersion,
    cpu: { model: env.cpu.model, count: env.cpu.count },
    os: { platform: env.os.platform, release: env.os.release, arch: env.os.arch },
    heapLimitBytes: env.heapLimitBytes,
    date: run.date,
    profile: run.profile,
    settings: run.settings,
    suites: run.suites,
    failures: run.failures,
    records: run.records,
    targets,
  };
}
