import { Field, ObjectType } from 'type-graphql';
import { badUserInput } from '../errors';

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** Largest page a client may ask for; larger `first` values are refused, not trimmed. */
export const MAX_PAGE_SIZE = 100;

export function checkPageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}

/** Cursors are opaque to clients: base64url of a JSON array of sort keys. */
export function encodeCursor(keys: (string | number)[]): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

/** The sort keys in a cursor, checked against the expected types; BAD_USER_INPUT otherwise. */
export function decodeCursor<T extends ('string' | 'number')[]>(
  cursor: string,
  types: [...T],
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let keys: unknown;
  try {
    keys = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    keys = null;
  }
  if (!Array.isArray(keys) || keys.length !== types.length || keys.some((k, i) => typeof k !== types[i] || (typeof k === 'number' && !isIntegerKey(k)) || (typeof k === 'string' && k.includes('\0')))) {
    throw badUserInput('after is not a cursor from this list');
  }
  return keys as { [K in keyof T]: T[K] extends 'number' ? number : string };
}

/**
 * A time sort key from a cursor; BAD_USER_INPUT unless it is a time a
 * database stores (years 1 to 9999: PostgreSQL refuses some others with a 500).
 */
export function cursorTime(text: string): Date {
  const time = new Date(text);
  const year = time.getUTCFullYear();
  if (Number.isNaN(time.getTime()) || year < 1 || year > 9999) throw badUserInput('after is not a cursor from this list');
  return time;
}

/** Numeric sort keys are ids, sequence numbers and positions: integers a PostgreSQL integer column can compare with (else a 500 there). */
const isIntegerKey = (k: number) => Number.isInteger(k) && k >= 0 && k <= 2_147_483_647;

/** Splits one extra fetched row off into hasNextPage. */
export function toPage<T>(rows: T[], first: number, cursorOf: (row: T) => string) {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}
