import { InvalidArgumentError, OperationError } from '../errors.js';
import type { SchedulerFactory } from './scheduler.js';
import { BUILTIN_SCHEDULERS } from './schedulers/index.js';

/** `IP_VS_SCHEDNAME_MAXLEN` is 16 including the NUL byte. */
const SCHED_NAME_MAX = 15;

/**
 * Scheduler modules known to an IPVS instance, by name (the kernel's
 * `ip_vs_schedulers` list). Starts with the 14 built-in schedulers; users
 * can register their own under a new name.
 */
export class SchedulerRegistry {
  readonly #byName = new Map<string, SchedulerFactory>();

  /** @param factories - initial schedulers (default: the 14 built-ins) */
  constructor(factories: Iterable<SchedulerFactory> = BUILTIN_SCHEDULERS) {
    for (const f of factories) this.register(f);
  }

  /**
   * Adds a scheduler (`register_ip_vs_scheduler`).
   *
   * @throws {InvalidArgumentError} when the name is empty, too long or not printable ASCII
   * @throws {OperationError} `EEXIST` when the name is taken
   */
  register(factory: SchedulerFactory): void {
    const name = factory.name;
    if (typeof name !== 'string' || !/^[\x21-\x7e]{1,15}$/.test(name)) {
      throw new InvalidArgumentError(
        `lbsim/ipvs.SchedulerRegistry.register: scheduler name must be 1..${SCHED_NAME_MAX} printable characters (got ${JSON.stringify(name)})`,
      );
    }
    if (this.#byName.has(name)) {
      throw new OperationError('EEXIST', `lbsim/ipvs.SchedulerRegistry.register: scheduler ${name} already registered`);
    }
    this.#byName.set(name, factory);
  }

  /** The factory registered under `name`, if any. */
  get(name: string): SchedulerFactory | undefined {
    return this.#byName.get(name);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Registered names in registration order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }
}
