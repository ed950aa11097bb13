import { checkPageSize, cursorTime, decodeCursor, encodeCursor, MAX_PAGE_SIZE, toPage } from '../../src/common/pagination';
import { badInput } from './support/bad-input';

const NOT_A_CURSOR = 'after is not a cursor from this list';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

test(`checkPageSize: first is a whole number from 1 to ${MAX_PAGE_SIZE}; anything else is refused, not trimmed`, () => {
  for (const first of [1, 50, MAX_PAGE_SIZE]) expect(checkPageSize(first)).toBe(first);
  for (const first of [0, -1, MAX_PAGE_SIZE + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    expect(badInput(() => checkPageSize(first))).toBe(`first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
});

test('a cursor is opaque base64url and gives back its sort keys, checked against their types', () => {
  const cursor = encodeCursor(['2026-03-02T10:00:00.000Z', 42]);
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(decodeCursor(cursor, ['string', 'number'])).toEqual(['2026-03-02T10:00:00.000Z', 42]);
  expect(decodeCursor(encodeCursor([0, 2_147_483_647]), ['number', 'number'])).toEqual([0, 2_147_483_647]);
});

test('anything but a cursor of this list is BAD_USER_INPUT', () => {
  const refused = [
    'not base64 json!',
    '',
    cursorOf({ id: 1 }),
    cursorOf(['a']), // too few keys
    cursorOf(['a', 1, 2]), // too many
    cursorOf([1, 'a']), // types swapped
    cursorOf(['a', 1.5]), // not an id, sequence number or position
    cursorOf(['a', -1]),
    cursorOf(['a', 2_147_483_648]), // beyond a PostgreSQL integer
    cursorOf(['a\0b', 1]), // NUL, which PostgreSQL text refuses
  ];
  for (const cursor of refused) expect([cursor, badInput(() => decodeCursor(cursor, ['string', 'number']))]).toEqual([cursor, NOT_A_CURSOR]);
});

test('cursorTime: a time a database stores (years 1 to 9999), else BAD_USER_INPUT', () => {
  expect(cursorTime('2026-03-02T10:00:00.000Z')).toEqual(new Date('2026-03-02T10:00:00.000Z'));
  expect(cursorTime('0001-01-01T00:00:00.000Z').getUTCFullYear()).toBe(1);
  expect(cursorTime('9999-12-31T23:59:59.999Z').getUTCFullYear()).toBe(9999);
  for (const text of ['yesterday', '', '+010000-01-01T00:00:00.000Z', '0000-12-31T00:00:00.000Z', '-000001-01-01T00:00:00.000Z']) {
    expect([text, badInput(() => cursorTime(text))]).toEqual([text, NOT_A_CURSOR]);
  }
});

test('toPage: `first` rows with their cursors; one more fetched row means a next page; endCursor is the last edge', () => {
  const cursor = (n: number) => `c${n}`;
  expect(toPage([1, 2, 3], 2, cursor)).toEqual({
    edges: [
      { cursor: 'c1', node: 1 },
      { cursor: 'c2', node: 2 },
    ],
    pageInfo: { hasNextPage: true, endCursor: 'c2' },
  });
  expect(toPage([1, 2], 2, cursor).pageInfo).toEqual({ hasNextPage: false, endCursor: 'c2' });
  expect(toPage([], 2, cursor)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
});
