import { describe, expect } from 'vitest';
import { test } from '@fast-check/vitest';
import { parseRestore, printSave, restoreToSavedTables, printRule, parseRuleLine } from '../../../src/io/iptables/index.js';
import { savedTableArb } from './arbitraries.js';

describe('iptables print → parse round trip', () => {
  test.prop([savedTableArb()])('parse(printSave(t)) is t and prints byte-identically', (table) => {
    const text = printSave([table], { counters: true });
    const back = restoreToSavedTables(parseRestore(text, { counters: true }));
    expect(back).toEqual([table]);
    expect(printSave(back, { counters: true })).toBe(text);
  });

  test.prop([savedTableArb()])('every rule line parses alone to the same rule', (table) => {
    for (const c of table.chains) {
      for (const r of c.rules) {
        const line = printRule(c.name, r.spec);
        const parsed = parseRuleLine(line, table.name);
        expect(parsed.rule).toEqual(r.spec);
        expect(printRule(parsed.chain, parsed.rule)).toBe(line);
      }
    }
  });
});
