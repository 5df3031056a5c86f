/**
 * Deterministic work counts: what a packet cost in simulated-kernel terms,
 * independent of the machine running the simulation. Benchmarks report
 * these next to ns/op; tests compare them against formulas.
 */
export class WorkCounts {
  /** iptables rules whose matches were evaluated. */
  rulesEvaluated = 0;
  /** iptables chains entered (built-in hook chains and jumps). */
  chainsEntered = 0;
  /** Hash buckets looked into (IPVS service and connection tables, conntrack, ipsets). */
  hashProbes = 0;
  /** Entries compared while walking hash chains. */
  chainSteps = 0;
  /** Real servers examined by a scheduler. */
  destsExamined = 0;

  /** Sets every count to zero. */
  reset(): void {
    this.rulesEvaluated = 0;
    this.chainsEntered = 0;
    this.hashProbes = 0;
    this.chainSteps = 0;
    this.destsExamined = 0;
  }

  /** Adds another set of counts into this one. */
  add(other: WorkCounts): void {
    this.rulesEvaluated += other.rulesEvaluated;
    this.chainsEntered += other.chainsEntered;
    this.hashProbes += other.hashProbes;
    this.chainSteps += other.chainSteps;
    this.destsExamined += other.destsExamined;
  }

  /** A plain-object copy, for reports and snapshots. */
  toJSON(): WorkCountsSnapshot {
    return {
      rulesEvaluated: this.rulesEvaluated,
      chainsEntered: this.chainsEntered,
      hashProbes: this.hashProbes,
      chainSteps: this.chainSteps,
      destsExamined: this.destsExamined,
    };
  }
}

/** A frozen copy of {@link WorkCounts}. */
export interface WorkCountsSnapshot {
  readonly rulesEvaluated: number;
  readonly chainsEntered: number;
  readonly hashProbes: number;
  readonly chainSteps: number;
  readonly destsExamined: number;
}
