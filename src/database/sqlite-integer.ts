/**
 * A parameter as SQLite should get it: an integer as a BigInt, which SQLite
 * stores and compares as the INTEGER its literal would be (a plain number
 * would make TypeORM's SQLite driver write it into the statement's text:
 * data-source.ts).
 */
export const sqliteParameter = (value: unknown): unknown => (typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value);
