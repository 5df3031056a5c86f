import type { SimClock } from '../sim/clock.js';
import type { Counters, MatchSpec, RecentMatch, RuleSpec } from './ast.js';
import type { StatefulMatchCompiler } from './compile.js';
import { IpsetStore } from './ipset/store.js';
import { matchSet } from './ipset/match.js';
import type { MatchFn } from './matches/types.js';
import { RecentTables } from './state/recent.js';
import { createLimiter } from './state/limit.js';

/**
 * The state iptables matches keep outside the ruleset — `recent` lists,
 * ipsets, `limit` buckets, `nfacct` counters — and their evaluators.
 */
export class StatefulMatches implements StatefulMatchCompiler {
  /** `-m recent` lists (`/proc/net/xt_recent/`). */
  readonly recent: RecentTables;
  /** ipsets (`ipset list`). */
  readonly ipsets: IpsetStore;
  /** `nfacct` counters by name. */
  readonly nfacct: Map<string, Counters> = new Map<string, Counters>();
  readonly #clock: SimClock;
  #pending: RecentMatch[] = [];
  #active: RecentMatch[] = [];
  #pendingSets: string[] = [];
  #activeSets: string[] = [];

  /**
   * @param clock - simulated clock (limit buckets, recent timestamps, set timeouts)
   * @param recent - recent tables (default: kernel module defaults)
   * @param ipsets - ipset store (default: an empty one on `clock`)
   */
  constructor(clock: SimClock, recent?: RecentTables, ipsets?: IpsetStore) {
    this.#clock = clock;
    this.recent = recent ?? new RecentTables();
    this.ipsets = ipsets ?? new IpsetStore({ clock });
  }

  /**
   * The rule-load checks of these modules (`checkentry`): recent's option
   * rules and list names, and that a `--match-set` set exists.
   *
   * @throws {Error} with the kernel's reason when a rule would be refused
   */
  checkRule(rule: RuleSpec): void {
    for (const m of rule.matches) {
      if (m.module === 'recent') {
        this.recent.check(m);
      } else if (m.module === 'set' && !this.ipsets.has(m.setName)) {
        throw new Error(`Set ${m.setName} doesn't exist.`);
      }
    }
  }

  /** Compiles a stateful match (see {@link StatefulMatchCompiler}). */
  compile(m: MatchSpec): MatchFn | null {
    switch (m.module) {
      case 'recent': {
        this.recent.register(m);
        this.#pending.push(m);
        const recent = this.recent;
        return (p) => recent.evaluate(m, p, p.now);
      }
      case 'set': {
        this.ipsets.reference(m.setName);
        this.#pendingSets.push(m.setName);
        const store = this.ipsets;
        return (p) => matchSet(store, m, p, p.work);
      }
      case 'limit': {
        const l = createLimiter(m, this.#clock.now);
        return (p) => l.match(p.now);
      }
      case 'nfacct': {
        let c = this.nfacct.get(m.name);
        if (c === undefined) {
          c = { packets: 0, bytes: 0 };
          this.nfacct.set(m.name, c);
        }
        const counters = c;
        return (p) => {
          counters.packets++;
          counters.bytes += p.length;
          return true;
        };
      }
      default:
        return null;
    }
  }

  /**
   * Called after a whole ruleset compiled: the previous rules' references
   * are dropped only now, so lists and sets survive a table replacement as
   * they do in the kernel (new rules are checked before old ones are freed).
   */
  commit(): void {
    for (const m of this.#active) this.recent.unregister(m);
    for (const s of this.#activeSets) if (this.ipsets.has(s)) this.ipsets.release(s);
    this.#active = this.#pending;
    this.#activeSets = this.#pendingSets;
    this.#pending = [];
    this.#pendingSets = [];
  }
}
