/** Small statistics and the number formats the bench prints. */

export const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

export function quantile(xs: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const median = (xs: ArrayLike<number>) => quantile(xs, 0.5);

/** Each figure's median over `runs` (one object of figures per repetition). */
export function medians<T extends Record<string, number>>(runs: T[]): T {
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((run) => run[k]))])) as T;
}

export const ratio = (a: number, reference: number) => `${(a / reference).toFixed(2)}x`;

/** A plain-text table: a header row, then rows, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
