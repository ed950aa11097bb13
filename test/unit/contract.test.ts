import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';

// The public API (docs/contract.graphql) against the schema the code emits (schema.graphql,
// which test/schema.test.ts keeps equal to the code): the schema may add to the contract,
// never take away or change a type, field, argument, enum value or input field of it.
const root = join(__dirname, '..', '..');
const sdl = (file: string) => buildSchema(readFileSync(join(root, file), 'utf8'));

test('schema.graphql keeps every part of docs/contract.graphql', () => {
  const breaks = findBreakingChanges(sdl('docs/contract.graphql'), sdl('schema.graphql'));
  expect(breaks.map((b) => `${b.type}: ${b.description}`)).toEqual([]);
});
