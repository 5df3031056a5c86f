// The bench runner's results file and the report generator's pure parts:
// the file shape (against bench/results/schema.json and by plain checks),
// the "beside the kernel" ratios, target evaluation, markdown rendering and
// the runner's command line. Behaviour only: no timing is asserted.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSuiteContext, parseBenchArgs, roundNs, timeTask } from '../../bench/context.js';
import { KERNEL_PACKET_NS, KERNEL_SYNC_SECONDS } from '../../bench/kernel-costs.js';
import { comparisonTables, kernelNsPerRuleTable, kernelRestoreTable, lookupTable, suiteTable, targetsTable } from '../../bench/report/comparison.js';
import { costVsNPoints, lineChartSpec, renderSvg } from '../../bench/report/chart.js';
import { formatBytes, formatCount, formatNs, formatRatio } from '../../bench/report/format.js';
import { loadSchema } from '../../bench/report/generate.js';
import { firstPacketRows, nsPerRuleRows, ratio, restoreRows, simulatedNsPerRule } from '../../bench/report/kernel.js';
import { BEGIN_MARKER, END_MARKER, renderGenerated, spliceGenerated } from '../../bench/report/markdown.js';
import { buildResultsFile } from '../../bench/report/results.js';
import type { ResultsFile, RunEnvironment } from '../../bench/report/results.js';
import { renderMarkdownTable, renderTextTable } from '../../bench/report/table.js';
import { evaluateTargets, TARGETS } from '../../bench/report/targets.js';
import { validateAgainstSchema } from '../../bench/report/validate.js';
import type { BenchRecord } from '../../bench/types.js';
import { KERNEL_COSTS_REFERENCE } from '../../src/kube/cost-model.js';

const ENV: RunEnvironment = {
  lbsimVersion: '0.1.0',
  nodeVersion: 'v20.0.0',
  cpu: { model: 'Test CPU', count: 2 },
  os: { platform: 'linux', release: '6.0', arch: 'x64' },
  heapLimitBytes: 4 * 2 ** 30,
};

/** A timing record. */
function t(task: string, value: number, meta: Partial<BenchRecord> = {}): BenchRecord {
  return { suite: 'lookup', task, unit: 'ns/op', value, rme: 1.5, samples: 100, ...meta };
}
/** A work-count record. */
function w(task: string, unit: string, value: number, meta: Partial<BenchRecord> = {}): BenchRecord {
  return { suite: 'lookup', task, unit, value, ...meta };
}

const ipt = { mode: 'iptables', metric: 'new-conn' } as const;

/** Hand-made records: two N for every lookup series, syncs, heap. */
const RECORDS: readonly BenchRecord[] = [
  t('ipvs new-conn N=100', 80, { mode: 'ipvs', metric: 'new-conn', services: 100 }),
  w('ipvs new-conn N=100', 'hash-probes/packet', 2, { mode: 'ipvs', metric: 'new-conn', services: 100 }),
  t('ipvs new-conn N=1000', 100, { mode: 'ipvs', metric: 'new-conn', services: 1000 }),
  t('ipvs est N=100', 30, { mode: 'ipvs', metric: 'established', services: 100 }),
  t('ipvs est N=1000', 40, { mode: 'ipvs', metric: 'established', services: 1000 }),
  t('iptables first N=1000', 100, { ...ipt, position: 'first', services: 1000 }),
  w('iptables first N=1000', 'rules/packet', 13, { ...ipt, position: 'first', services: 1000 }),
  t('iptables last N=1000', 1099, { ...ipt, position: 'last', services: 1000 }),
  w('iptables last N=1000', 'rules/packet', 1012, { ...ipt, position: 'last', services: 1000 }),
  t('iptables first N=30000', 100, { ...ipt, position: 'first', services: 30_000 }),
  t('iptables last N=30000', 60_098, { ...ipt, position: 'last', services: 30_000 }),
  t('iptables est N=1000', 50, { mode: 'iptables', metric: 'established', services: 1000 }),
  { suite: 'sync', task: 'full N=1000', unit: 'ns/op', value: 0.184e9, rme: 2, samples: 5, mode: 'iptables', metric: 'full-restore-text', services: 1000 },
  { suite: 'sync', task: 'full N=1000', unit: 'rules-written', value: 31_008, mode: 'iptables', metric: 'full-restore-text', services: 1000 },
  { suite: 'sync', task: 'partial N=10000', unit: 'ns/op', value: 2.212e6, rme: 2, samples: 5, mode: 'iptables', metric: 'partial-sync', services: 10_000 },
  { suite: 'sync', task: 'add N=30000', unit: 'ns/op', value: 1e6, rme: 2, samples: 5, mode: 'iptables', metric: 'add-service', services: 30_000 },
  { suite: 'memory', task: 'ipvs heap N=1000', unit: 'bytes', value: 3_000_000, mode: 'ipvs', metric: 'heap', services: 1000 },
];

function results(records: readonly BenchRecord[] = RECORDS): ResultsFile {
  return buildResultsFile(
    ENV,
    {
      date: '2025-01-02T03:04:05.000Z',
      profile: 'quick',
      settings: { timeMs: 150, minIterations: 5, filters: [], wallSeconds: 12.3 },
      suites: [
        { name: 'lookup', description: 'Lookup <cost> vs N.' },
        { name: 'sync', description: 'Sync cost.' },
        { name: 'memory', description: 'Heap.' },
      ],
      failures: [],
      records,
    },
    evaluateTargets(records),
  );
}

/** Plain-code shape check of a results file, independent of the schema validator. */
function shapeProblems(x: unknown): string[] {
  const p: string[] = [];
  if (typeof x !== 'object' || x === null) return ['not an object'];
  const o = x as Record<string, unknown>;
  if (o['schemaVersion'] !== 1) p.push('schemaVersion');
  for (const k of ['lbsimVersion', 'nodeVersion', 'date']) if (typeof o[k] !== 'string') p.push(k);
  if (o['profile'] !== 'quick' && o['profile'] !== 'full') p.push('profile');
  const cpu = o['cpu'] as Record<string, unknown> | undefined;
  if (typeof cpu?.['model'] !== 'string' || !Number.isInteger(cpu['count'])) p.push('cpu');
  if (!Array.isArray(o['records'])) return [...p, 'records'];
  (o['records'] as unknown[]).forEach((r, i) => {
    const rec = r as Record<string, unknown>;
    for (const k of ['suite', 'task', 'unit']) if (typeof rec[k] !== 'string' || rec[k] === '') p.push(`records/${i}/${k}`);
    if (typeof rec['value'] !== 'number' || !Number.isFinite(rec['value'])) p.push(`records/${i}/value`);
    if (rec['unit'] === 'ns/op' && (typeof rec['rme'] !== 'number' || !Number.isInteger(rec['samples']))) p.push(`records/${i}/timing`);
  });
  if (!Array.isArray(o['targets'])) return [...p, 'targets'];
  for (const tg of o['targets'] as Record<string, unknown>[]) {
    if (!['met', 'not met', 'not measured'].includes(tg['status'] as string)) p.push(`target ${String(tg['id'])} status`);
    if ((tg['status'] === 'not measured') !== (tg['value'] === null)) p.push(`target ${String(tg['id'])} value/status`);
  }
  return p;
}

describe('results file', () => {
  const schema = loadSchema();

  it('a produced file round-trips through JSON and matches schema.json and the plain shape check', () => {
    const json: unknown = JSON.parse(JSON.stringify(results()));
    expect(validateAgainstSchema(schema, json)).toEqual([]);
    expect(shapeProblems(json)).toEqual([]);
    expect((json as ResultsFile).targets.map((x) => x.id)).toEqual(TARGETS.map((x) => x.id));
  });

  it('the schema rejects what the shape forbids', () => {
    const good = JSON.parse(JSON.stringify(results())) as Record<string, unknown>;
    const bad = (patch: (o: Record<string, unknown>) => void): string[] => {
      const o = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
      patch(o);
      return validateAgainstSchema(schema, o);
    };
    expect(bad((o) => { o['schemaVersion'] = 2; })).toEqual(['/schemaVersion: expected 1']);
    expect(bad((o) => { delete o['records']; })).toEqual(['/records: required']);
    expect(bad((o) => { o['extra'] = 1; })).toEqual(['/extra: not allowed']);
    expect(bad((o) => { o['profile'] = 'medium'; })).toEqual(['/profile: "medium" is not one of ["quick","full"]']);
    expect(bad((o) => { (o['records'] as Record<string, unknown>[])[0]!['mode'] = 'nft'; })).toEqual(['/records/0/mode: "nft" is not one of ["ipvs","iptables"]']);
    expect(bad((o) => { (o['records'] as Record<string, unknown>[])[0]!['value'] = null; })).toEqual(['/records/0/value: expected number, got null']);
    expect(bad((o) => { (o['records'] as Record<string, unknown>[])[0]!['samples'] = 1.5; })).toEqual(['/records/0/samples: expected integer, got number']);
    expect(bad((o) => { (o['targets'] as Record<string, unknown>[])[0]!['status'] = 'ok'; })).toHaveLength(1);
  });

  it('every results file in bench/results/ matches the schema', () => {
    const dir = join(import.meta.dirname, '..', '..', 'bench', 'results');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'schema.json') : [];
    for (const f of files) {
      const v: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      expect(validateAgainstSchema(schema, v), f).toEqual([]);
      expect(shapeProblems(v), f).toEqual([]);
    }
  });
});

describe('kernel-costs.ts transcription', () => {
  it('matches the cost model calibration of src/kube/cost-model.ts cell by cell', () => {
    for (const b of ['legacy', 'nft'] as const) {
      expect(KERNEL_SYNC_SECONDS[b]).toEqual(KERNEL_COSTS_REFERENCE.restore[b]);
      expect(KERNEL_PACKET_NS[b].map(({ services, first, last, established }) => ({ services, first, last, established }))).toEqual(KERNEL_COSTS_REFERENCE.packet[b]);
    }
  });

  it('its ns/rule column is (last − first)/(N − 1) to the printed precision', () => {
    // kernel-costs.md: "Per-rule cost = (last − first)/(N − 1)", e.g. legacy N = 1,000: (8512 − 3243)/999 = 5.274 → 5.27
    for (const b of ['legacy', 'nft'] as const) {
      for (const r of KERNEL_PACKET_NS[b]) {
        if (r.last === null || r.nsPerRule === null) continue;
        const computed = (r.last - r.first) / (r.services - 1);
        expect(Math.abs(computed - r.nsPerRule), `${b} N=${r.services}`).toBeLessThanOrEqual(0.051);
      }
    }
  });
});

describe('beside the kernel: ratios', () => {
  it('ratio is a/b, undefined without both values or for b = 0', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(undefined, 4)).toBeUndefined();
    expect(ratio(1, null)).toBeUndefined();
    expect(ratio(1, 0)).toBeUndefined();
  });

  it('simulated ns/rule is (last − first)/(N − 1), or per rule evaluated from rules/packet', () => {
    // N = 1000: (1099 − 100)/999 = 1 ns; rules/packet: (1099 − 100)/(1012 − 13) = 1 ns over 999 rules
    expect(simulatedNsPerRule(RECORDS, 1000)).toEqual({ nsPerRule: 1, rules: 999, basis: 'services' });
    expect(simulatedNsPerRule(RECORDS, 1000, 'rules/packet')).toEqual({ nsPerRule: 1, rules: 999, basis: 'rules/packet' });
    // N = 30000 has no rules/packet records: falls back to N − 1 = 29999; (60098 − 100)/29999 = 2
    expect(simulatedNsPerRule(RECORDS, 30_000, 'rules/packet')).toEqual({ nsPerRule: 2, rules: 29_999, basis: 'services' });
    expect(simulatedNsPerRule(RECORDS, 100)).toBeUndefined();
  });

  it('ns/rule rows set the simulation beside the reference at the same N, – where it has none', () => {
    const rows = nsPerRuleRows(RECORDS);
    expect(rows.map((r) => r.services)).toEqual([1000, 30_000]);
    expect(rows[0]!.kernel).toEqual({ legacy: 5.27, nft: 10.4 });
    expect(rows[0]!.ratio.legacy).toBeCloseTo(1 / 5.27, 12);
    expect(rows[0]!.ratio.nft).toBeCloseTo(1 / 10.4, 12);
    expect(rows[1]!.kernel).toEqual({ legacy: undefined, nft: undefined });
    const md = renderMarkdownTable(kernelNsPerRuleTable(RECORDS)!);
    expect(md.split('\n')).toEqual([
      '| N | sim ns/rule | kernel legacy | sim/legacy | kernel nft | sim/nft |',
      '| :--- | ---: | ---: | ---: | ---: | ---: |',
      '| 1k | 1.00 | 5.27 | 0.19× | 10.4 | 0.096× |',
      '| 30k | 2.00 | – | – | – | – |',
    ]);
  });

  it('restore rows compare full/partial/+1 svc with iptables-restore at the same N', () => {
    const rows = restoreRows(RECORDS);
    expect(rows.map((r) => r.services)).toEqual([1000, 10_000, 30_000]);
    // 0.184 s vs legacy full 0.368 s and nft 0.513 s at N = 1,000
    const full = rows[0]!.cells.full;
    expect(full.sim).toBeCloseTo(0.184, 12);
    expect(full.kernel).toEqual({ legacy: 0.368, nft: 0.513 });
    expect(full.ratio.legacy).toBeCloseTo(0.5, 12);
    expect(full.ratio.nft).toBeCloseTo(0.184 / 0.513, 12);
    // 2.212 ms vs legacy partial 2.212 s at N = 10,000
    expect(rows[1]!.cells.partial.ratio.legacy).toBeCloseTo(0.001, 12);
    expect(rows[1]!.cells.full.sim).toBeUndefined();
    // N = 30,000: not in the reference
    expect(rows[2]!.cells.addOne).toEqual({ sim: 0.001, kernel: { legacy: undefined, nft: undefined }, ratio: { legacy: undefined, nft: undefined } });
    const md = renderMarkdownTable(kernelRestoreTable(RECORDS)!).split('\n');
    expect(md[2]).toBe('| 1k | full | 184 ms | 368 ms | 0.50× | 513 ms | 0.36× |');
    expect(md[4]).toBe('| 30k | +1 svc | 1.00 ms | – | – | – | – |');
  });

  it('first-packet rows use the cost model: measured rows exactly, interpolated or extrapolated elsewhere', () => {
    const rows = firstPacketRows(RECORDS);
    expect(rows.map((r) => r.services)).toEqual([1000, 30_000]);
    // N = 1,000 is a measured row of kernel-costs.md: legacy first 3243, last 8512, est 1448
    expect(rows[0]!.model.legacy).toEqual({ first: 3243, last: 8512, established: 1448 });
    expect(rows[0]!.model.nft.last).toBe(14_056);
    expect(rows[0]!.ratioLast.legacy).toBeCloseTo(1099 / 8512, 12);
    expect(rows[0]!.simEstablished).toBe(50);
    expect(rows[0]!.extrapolated).toBe(false);
    // N = 30,000 lies past 10k: last extrapolated along the 7,500 → 10,000 segment:
    // 166782 + (166782 − 51606)/2500 × 20000 = 1,088,190
    expect(rows[1]!.extrapolated).toBe(true);
    expect(rows[1]!.model.legacy.last).toBeCloseTo(166_782 + ((166_782 - 51_606) / 2500) * 20_000, 6);
  });
});

describe('targets', () => {
  const byId = (records: readonly BenchRecord[]): Map<string, ReturnType<typeof evaluateTargets>[number]> => new Map(evaluateTargets(records).map((x) => [x.id, x]));

  it('an empty run measures nothing', () => {
    for (const r of evaluateTargets([])) {
      expect(r.status).toBe('not measured');
      expect(r.value).toBeNull();
    }
  });

  it('met, not met and not measured from hand-made records', () => {
    const recs: BenchRecord[] = [
      t('a', 80, { mode: 'ipvs', metric: 'new-conn', services: 100 }),
      t('b', 160, { mode: 'ipvs', metric: 'new-conn', services: 100_000 }),
      t('c', 30, { mode: 'ipvs', metric: 'established', services: 100 }),
      t('d', 40, { mode: 'ipvs', metric: 'established', services: 100_000 }),
      t('e', 42, { mode: 'ipvs', metric: 'established', services: 100, connections: 1_000_000 }),
      t('f', 200, { ...ipt, position: 'first', services: 10_000 }),
      w('f', 'rules/packet', 13, { ...ipt, position: 'first', services: 10_000 }),
      t('g', 15_200, { ...ipt, position: 'last', services: 10_000 }),
      w('g', 'rules/packet', 10_012, { ...ipt, position: 'last', services: 10_000 }),
      t('h', 0.3e9, { mode: 'iptables', metric: 'full-restore-text', services: 10_000 }),
      t('i', 12_000, { mode: 'ipvs', metric: 'endpoint-change', services: 1000 }),
      t('j', 60, { mode: 'ipvs', metric: 'endpoint-change', services: 100 }),
      w('k', 'bytes', 3e9, { mode: 'ipvs', metric: 'heap', services: 100_000 }),
    ];
    const r = byId(recs);
    // worst over N: 160 ns at 100k > 150
    expect(r.get('ipvs-new-conn')).toMatchObject({ status: 'not met', value: 160 });
    // 40 ≤ 60; the 1M-connection record is not part of the N-sweep
    expect(r.get('ipvs-established')).toMatchObject({ status: 'met', value: 40 });
    expect(r.get('ipvs-new-conn-flat')).toMatchObject({ status: 'not met', value: 2 });
    expect(r.get('ipvs-established-flat')?.status).toBe('met');
    expect(r.get('ipvs-established-flat')?.value).toBeCloseTo(4 / 3, 12);
    // 42 ns with 1M connections / 30 ns with the N-sweep table = 1.4
    expect(r.get('ipvs-established-1m-conns')?.status).toBe('met');
    expect(r.get('ipvs-established-1m-conns')?.value).toBeCloseTo(1.4, 12);
    // (15200 − 200)/(10012 − 13) = 15000/9999 = 1.50015 > 1.5
    expect(r.get('iptables-ns-per-rule')?.status).toBe('not met');
    expect(r.get('iptables-ns-per-rule')?.value).toBeCloseTo(15_000 / 9999, 12);
    expect(r.get('full-restore-text-10k')).toMatchObject({ status: 'met', value: 0.3 });
    expect(r.get('partial-sync-10k')).toMatchObject({ status: 'not measured', value: null });
    expect(r.get('ipvs-endpoint-change')).toMatchObject({ status: 'not met', value: 12_000 });
    // only one mode has a heap record at 100k
    expect(r.get('heap-100k')?.status).toBe('not measured');
    expect(r.get('heap-100k')?.detail).toContain('iptables');
  });

  it('a value equal to the threshold is met', () => {
    const r = byId([t('e', 60, { mode: 'ipvs', metric: 'established', services: 1000 })]);
    expect(r.get('ipvs-established')).toMatchObject({ status: 'met', value: 60 });
  });

  it('flatness without the 100k point is not measured but says the partial ratio', () => {
    const r = byId(RECORDS).get('ipvs-new-conn-flat')!;
    expect(r.status).toBe('not measured');
    expect(r.detail).toContain('over N = 100…1k the ratio is 1.3×'); // 100 ns at 1k / 80 ns at 100 = 1.25, two significant digits
  });

  it('heap within 4 GB in both modes', () => {
    const recs = [
      w('a', 'bytes', 3e9, { mode: 'ipvs', metric: 'heap', services: 100_000 }),
      w('b', 'bytes', 2 ** 32 + 1, { mode: 'iptables', metric: 'heap', services: 100_000 }),
    ];
    expect(byId(recs).get('heap-100k')).toMatchObject({ status: 'not met', value: 2 ** 32 + 1 });
    expect(byId([recs[0]!, { ...recs[1]!, value: 2 ** 32 }]).get('heap-100k')).toMatchObject({ status: 'met', value: 2 ** 32 });
  });
});

describe('tables and markdown', () => {
  it('renders a markdown table with alignment, escaped pipes and – for missing cells', () => {
    const md = renderMarkdownTable({ title: 'x', headers: ['a', 'b', 'c'], rows: [['1', 'x|y'], ['2', '3', '4']] });
    expect(md).toBe(['| a | b | c |', '| :--- | ---: | ---: |', '| 1 | x\\|y | – |', '| 2 | 3 | 4 |'].join('\n'));
  });

  it('renders aligned text', () => {
    const txt = renderTextTable({ title: 'T', headers: ['name', 'v'], rows: [['ab', '1'], ['c', '100']] });
    expect(txt.split('\n')).toEqual(['T', '  name    v', '  ----  ---', '  ab      1', '  c     100']);
  });

  it('the lookup table puts both modes side by side, – where a series lacks an N', () => {
    const md = renderMarkdownTable(lookupTable(RECORDS)!).split('\n');
    expect(md[0]).toBe('| N | IPVS new-conn | IPVS established | iptables new-conn first | iptables new-conn last | iptables established |');
    expect(md[2]).toBe('| 100 | 80.0 ns | 30.0 ns | – | – | – |');
    expect(md[3]).toBe('| 1k | 100 ns | 40.0 ns | 100 ns | 1.10 µs | 50.0 ns |');
    expect(md[4]).toBe('| 30k | – | – | 100 ns | 60.1 µs | – |');
  });

  it('a suite table has one row per task, timing columns and one column per work unit', () => {
    const tb = suiteTable('lookup', RECORDS.slice(0, 3))!;
    expect(tb.headers).toEqual(['task', 'median', '±rme', 'samples', 'hash-probes/packet']);
    expect(tb.rows).toEqual([
      ['ipvs new-conn N=100', '80.0 ns', '1.5%', '100', '2'],
      ['ipvs new-conn N=1000', '100 ns', '1.5%', '100', '–'],
    ]);
  });

  it('the targets table shows status, value and threshold in the target’s unit', () => {
    const rows = targetsTable(evaluateTargets(RECORDS)).rows;
    const row = rows.find((r) => r[0] === 'IPVS new connection ≤ 150 ns')!;
    expect(row.slice(1, 4)).toEqual(['met', '100 ns', '≤ 150 ns']);
  });

  it('the generated section carries provenance, charts, targets and per-suite details', () => {
    const md = renderGenerated(results(), [{ file: 'bench-cost-vs-n.svg', alt: 'cost' }]);
    expect(md).toContain('Profile **quick**, 2025-01-02: lbsim 0.1.0, Node v20.0.0, 2 × Test CPU');
    expect(md).toContain('![cost](bench-cost-vs-n.svg)');
    expect(md).toContain('### Targets (issue 5 §3)');
    expect(md).toContain('### Beside the kernel: ns per KUBE-SERVICES rule');
    expect(md).toContain('<summary><code>lookup</code>: Lookup &lt;cost&gt; vs N.</summary>');
    expect(md).not.toContain(BEGIN_MARKER);
  });

  it('lists the run’s failures above the tables', () => {
    const r: ResultsFile = { ...results(), failures: [{ suite: 'sync', task: 'full N=1k', error: 'ran a partial sync' }, { suite: 'memory', task: null, error: 'out of memory' }] };
    expect(validateAgainstSchema(loadSchema(), JSON.parse(JSON.stringify(r)))).toEqual([]);
    const md = renderGenerated(r);
    expect(md).toContain('**2 failure(s) in this run** (their timings are missing):\n\n- `sync/full N=1k`: ran a partial sync\n- `memory`: out of memory');
  });

  it('splices the generated section between the markers and keeps the rest byte for byte', () => {
    const doc = `# Title\n\nhand text\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\ntail\n`;
    expect(spliceGenerated(doc, 'new\nlines')).toBe(`# Title\n\nhand text\n\n${BEGIN_MARKER}\nnew\nlines\n${END_MARKER}\n\ntail\n`);
    expect(spliceGenerated('# T\n', 'x')).toBe(`# T\n\n${BEGIN_MARKER}\nx\n${END_MARKER}\n`);
    expect(() => spliceGenerated(`${END_MARKER}\n${BEGIN_MARKER}\n`, 'x')).toThrow(/broken generated section/);
    expect(() => spliceGenerated(`${BEGIN_MARKER}\n`, 'x')).toThrow(/broken generated section/);
  });

  it('docs/benchmarks.md has exactly one generated section', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md'), 'utf8');
    expect(doc.split(BEGIN_MARKER)).toHaveLength(2);
    expect(doc.split(END_MARKER)).toHaveLength(2);
    expect(doc.indexOf(BEGIN_MARKER)).toBeLessThan(doc.indexOf(END_MARKER));
  });
});

describe('formatting', () => {
  it('formats durations, ratios, sizes and counts', () => {
    expect([formatNs(84.24), formatNs(999.4), formatNs(999.6), formatNs(12_345), formatNs(4.567e6), formatNs(1.234e9)]).toEqual(['84.2 ns', '999 ns', '1.00 µs', '12.3 µs', '4.57 ms', '1.23 s']);
    expect([formatRatio(0.5), formatRatio(0.000123), formatRatio(12.34), formatRatio(2500)]).toEqual(['0.50×', '0.00012×', '12×', '2,500×']);
    expect([formatBytes(512), formatBytes(1536), formatBytes(2 ** 32)]).toEqual(['512 B', '1.50 KiB', '4.00 GiB']);
    expect([formatCount(100), formatCount(1000), formatCount(2500), formatCount(100_000), formatCount(1_000_000), formatCount(1024)]).toEqual(['100', '1k', '2.5k', '100k', '1M', '1024']);
  });

  it('rounds ns/op to 0.1 ns below 1 µs and to 4 significant digits above', () => {
    expect(roundNs(84.26)).toBe(84.3);
    expect(roundNs(123_456)).toBe(123_500);
  });
});

describe('chart', () => {
  it('plots the simulated lookup series and the modeled kernel cost at the simulated N', () => {
    const pts = costVsNPoints(RECORDS);
    const series = [...new Set(pts.map((p) => p.series))];
    expect(series).toEqual([
      'IPVS new-conn (sim)',
      'IPVS established (sim)',
      'iptables new-conn last (sim)',
      'iptables established (sim)',
      'kernel new-conn last (model, legacy)',
      'kernel new-conn first (model, legacy)',
    ]);
    expect(pts.find((p) => p.series === 'kernel new-conn last (model, legacy)' && p.services === 1000)?.value).toBe(8512);
  });

  it('renders the same SVG twice for the same data', async () => {
    const spec = lineChartSpec(costVsNPoints(RECORDS), 'cost', 'ns');
    const a = await renderSvg(spec);
    const b = await renderSvg(spec);
    expect(a.startsWith('<svg')).toBe(true);
    expect(a).toContain('IPVS new-conn (sim)');
    expect(a).toBe(b);
  });
});

describe('runner', () => {
  it('parses the command line', () => {
    expect(parseBenchArgs([])).toMatchObject({ profile: 'quick', filters: [], json: undefined, docs: true, timing: { timeMs: 150, minIterations: 5 } });
    expect(parseBenchArgs(['--full', 'ipvs', '--json', 'out.json', '--no-docs', 'sync'], { BENCH_TIME_MS: '40' })).toMatchObject({
      profile: 'full',
      filters: ['ipvs', 'sync'],
      json: 'out.json',
      docs: false,
      timing: { timeMs: 40, minIterations: 10 },
    });
    expect(() => parseBenchArgs(['--json'])).toThrow(/--json needs a file/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseBenchArgs([], { BENCH_TIME_MS: 'abc' })).toThrow(/BENCH_TIME_MS/);
  });

  it('the suite context collects tasks and records with their metadata and refuses bad input', () => {
    const c = createSuiteContext('s', 'quick', () => undefined);
    c.ctx.task('a', () => undefined, { batch: 10, mode: 'ipvs', services: 5 });
    c.ctx.record('a', 'rules/packet', 3, { mode: 'ipvs', services: 5 });
    expect(c.tasks.map((x) => x.name)).toEqual(['a']);
    expect(c.records).toEqual([{ suite: 's', task: 'a', unit: 'rules/packet', value: 3, mode: 'ipvs', services: 5 }]);
    expect(() => { c.ctx.task('a', () => undefined, { batch: 1 }); }).toThrow(/duplicate task name/);
    expect(() => { c.ctx.task('b', () => undefined, { batch: 0 }); }).toThrow(/batch must be a positive integer/);
    expect(() => { c.ctx.record('a', 'x', Number.NaN); }).toThrow(/must be finite/);
    expect(() => { c.ctx.record('a', 'ns/op', 1); }).toThrow(/unit/);
  });

  it('times a task with tinybench: a ns/op record with its metadata, beforeEach before every call', async () => {
    let calls = 0;
    let befores = 0;
    let pending = false;
    const c = createSuiteContext('s', 'quick', () => undefined);
    c.ctx.task('t', () => {
      expect(pending).toBe(true);
      pending = false;
      calls++;
    }, { batch: 4, minIterations: 7, timeMs: 1, mode: 'iptables', metric: 'new-conn', position: 'last', services: 9, beforeEach: () => { befores++; pending = true; } });
    const out = await timeTask(c.tasks[0]!, { timeMs: 1, minIterations: 1 });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.record).toMatchObject({ suite: 's', task: 't', unit: 'ns/op', mode: 'iptables', metric: 'new-conn', position: 'last', services: 9 });
    expect(out.record.samples).toBeGreaterThanOrEqual(7);
    expect(out.record.value).toBeGreaterThanOrEqual(0);
    expect(befores).toBe(calls);
  });

  it('reports a task that throws as a failure', async () => {
    const c = createSuiteContext('s', 'quick', () => undefined);
    c.ctx.task('boom', () => { throw new Error('boom'); }, { batch: 1 });
    const out = await timeTask(c.tasks[0]!, { timeMs: 1, minIterations: 1 });
    expect(out.ok).toBe(false);
  });
});

describe('runner wall budget', () => {
  it('stops sampling a task whose untimed beforeEach is slow, but only after minIterations calls', async () => {
    let calls = 0;
    const c = createSuiteContext('s', 'quick', () => undefined);
    const busy = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end) { /* spin */ }
    };
    // each call is ~free, each beforeEach 5 ms: without the wall budget tinybench would need ~1e5 calls to fill 20 ms of timed calls
    c.ctx.task('slow-setup', () => { calls++; }, { batch: 1, minIterations: 4, timeMs: 20, beforeEach: () => { busy(5); } });
    const out = await timeTask(c.tasks[0]!, { timeMs: 20, minIterations: 1 });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.record.samples).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThan(1000);
  });
});

describe('sync and memory tables', () => {
  const s = (task: string, unit: string, value: number, meta: Partial<BenchRecord>): BenchRecord => ({ suite: 'sync', task, unit, value, ...meta });
  const full = { mode: 'iptables', metric: 'full-restore-text', services: 1000 } as const;
  const chg = { mode: 'ipvs', metric: 'endpoint-change', services: 1000 } as const;
  const recs: BenchRecord[] = [
    s('full', 'ns/op', 0.2e9, full),
    s('full', 'rules-written', 32_009, full),
    s('full', 'modeled-kernel-s', 0.375, full),
    s('chg', 'ns/op', 800, chg),
    s('chg', 'ipvs-ops', 2, chg),
    s('ipt heap', 'bytes', 3 * 2 ** 20, { mode: 'iptables', metric: 'heap', services: 1000 }),
    s('ipt heap', 'bytes/rule', 96, { mode: 'iptables', metric: 'heap', services: 1000 }),
    s('ipvs heap', 'bytes', 2 ** 20, { mode: 'ipvs', metric: 'heap', services: 1000 }),
  ];

  it('work per sync: one row per N and series, one column per unit, seconds for modeled-kernel-s', () => {
    const md = renderMarkdownTable(comparisonTables(recs).find((x) => x.title.startsWith('Work per sync'))!).split('\n');
    expect(md).toEqual([
      '| N | sync | rules-written | ipvs-ops | modeled-kernel-s |',
      '| :--- | :--- | ---: | ---: | ---: |',
      '| 1k | iptables full-restore-text | 32,009 | – | 375 ms |',
      '| 1k | IPVS endpoint-change | – | 2 | – |',
    ]);
  });

  it('the restore comparison shows the suite’s modeled kernel seconds when recorded', () => {
    const tb = kernelRestoreTable(recs)!;
    expect(tb.headers.at(-1)).toBe('lbsim kernel model');
    expect(tb.rows).toEqual([['1k', 'full', '200 ms', '368 ms', '0.54×', '513 ms', '0.39×', '375 ms']]);
  });

  it('memory: one row per N and mode, bytes columns first', () => {
    const tb = comparisonTables(recs).find((x) => x.title.startsWith('Memory'))!;
    expect(tb.headers).toEqual(['N', 'mode', 'metric', 'bytes', 'bytes/rule']);
    expect(tb.rows).toEqual([
      ['1k', 'iptables', 'heap', '3.00 MiB', '96 B'],
      ['1k', 'IPVS', 'heap', '1.00 MiB', '–'],
    ]);
  });
});

describe('scheduler table', () => {
  it('pivots scheduler records into one row per scheduler', () => {
    const r = (task: string, scheduler: string, unit: string, value: number): BenchRecord => ({ suite: 'sched', task, unit, value, scheduler, metric: 'schedule' });
    const tb = comparisonTables([
      r('rr pick', 'rr', 'ns/op', 20),
      r('rr pick', 'rr', 'dests-examined/pick', 1),
      r('wlc pick', 'wlc', 'ns/op', 45),
      r('wlc pick', 'wlc', 'dests-examined/pick', 10),
    ]).find((x) => x.title === 'IPVS schedulers')!;
    expect(tb.headers).toEqual(['scheduler', 'pick median', 'pick dests-examined/pick']);
    expect(tb.rows).toEqual([
      ['rr', '20.0 ns', '1'],
      ['wlc', '45.0 ns', '10'],
    ]);
  });
});

describe('noise', () => {
  it('a last-service timing below the first-service one is flagged as noise, without ratios', () => {
    const recs = [
      t('f', 500, { ...ipt, position: 'first', services: 100 }),
      t('l', 400, { ...ipt, position: 'last', services: 100 }),
    ];
    // (400 − 500)/99 = −1.01 ns/rule
    expect(kernelNsPerRuleTable(recs)!.rows).toEqual([['100', '-1.01 (noise)', '3.1', '–', '15', '–']]);
  });
});
