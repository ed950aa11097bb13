/** Orders batch results to match DataLoader keys: one value per key, `fallback` where none was found. */
export function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K, fallback: V | null = null): (V | null)[] {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? fallback);
}

/** Groups batch results under DataLoader keys: a list per key, empty where none matched. */
export function groupByKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>(keys.map((k) => [k, []]));
  for (const row of rows) map.get(keyOf(row))?.push(row);
  return keys.map((k) => map.get(k) ?? []);
}

/** localeCompare's order, from one collator: localeCompare makes one per call, which shows in long lists. */
const collator = new Intl.Collator();
export const byName = <T extends { name: string }>(a: T, b: T) => collator.compare(a.name, b.name) || 0;

/** Rows per statement: far below SQLite's and PostgreSQL's limits on bound parameters (a row has at most about 20). */
const ROWS_PER_STATEMENT = 500;

/** `items` in slices of ROWS_PER_STATEMENT, one multi-row statement each. */
export function* batches<T>(items: T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT) yield items.slice(start, start + ROWS_PER_STATEMENT);
}
