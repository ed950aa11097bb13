import { readFileSync } from 'node:fs';
import { printedSchema, SCHEMA_FILE } from '../src/schema';

// That schema.graphql keeps the public contract is test/unit/contract.test.ts.
test('schema.graphql is the schema the code builds (run `npm run schema` after changing the API)', async () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printedSchema());
});
