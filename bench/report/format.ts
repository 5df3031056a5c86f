// Number formatting shared by the printed tables, the markdown and the chart
// labels. Pure functions: the same number always prints the same way.

/** Significant-digit rounding that never prints more than `maxDecimals` decimals. */
function sig(value: number, digits: number, maxDecimals = 3): string {
  if (value === 0) return '0';
  const r = Number(value.toPrecision(digits)); // rounds first, so 999.96 → 1000 counts as four integer digits
  const decimals = Math.min(maxDecimals, Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(r)))));
  return r.toFixed(decimals);
}

/** A duration given in nanoseconds, in the largest unit that keeps it ≥ 1: `84.2 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  const units = [
    { name: 'ns', scale: 1, maxDecimals: 1 },
    { name: 'µs', scale: 1e3, maxDecimals: 3 },
    { name: 'ms', scale: 1e6, maxDecimals: 3 },
  ] as const;
  for (const u of units) {
    const text = sig(ns / u.scale, 3, u.maxDecimals);
    // 999.96 ns rounds to "1000": print it in the next unit instead
    if (Math.abs(Number(text)) < 1000) return `${text} ${u.name}`;
  }
  return `${sig(ns / 1e9, 3)} s`;
}

/** A duration given in seconds (the kernel reference's unit), formatted like {@link formatNs}. */
export function formatSeconds(s: number): string {
  return formatNs(s * 1e9);
}

/** A ratio `a/b` as `0.42×`, `3.1×`, `1,234×`. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '–';
  if (r >= 1000) return `${Math.round(r).toLocaleString('en-US')}×`;
  return `${sig(r, 2, 6)}×`;
}

/** Bytes in binary units: `512 B`, `1.5 KiB`, `2.34 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${sig(v, 3)} ${units[i]!}`;
}

/** A service count as the tables write N: `100`, `1k`, `2.5k`, `100k`, `1M`. */
export function formatCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** A plain quantity (work counts, averages of counts): integers and values ≥ 1000 rounded with separators, others to 3 significant digits. */
export function formatQuantity(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return sig(v, 3);
}

/** A value in its record unit: durations for `ns/op` and seconds (`s`, `…-s`), binary sizes for byte units, plain numbers otherwise. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'ns/op') return formatNs(value);
  if (unit === 'bytes' || unit.startsWith('bytes/')) return formatBytes(value);
  if (unit === 's' || unit.endsWith('-s')) return formatSeconds(value);
  return formatQuantity(value);
}
