import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printedSchema, SCHEMA_FILE } from '../src/schema';

test('schema.graphql is the schema the code builds (run `npm run schema` after changing the API)', async () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printedSchema());
});

const contractCheck = join(__dirname, '..', '..', 'shared', 'tools', 'check-contract.mjs');

(existsSync(contractCheck) ? test : test.skip)('schema.graphql keeps every part of ../shared/contract.graphql', () => {
  const out = execFileSync(process.execPath, [contractCheck], { cwd: join(__dirname, '..'), encoding: 'utf8' });
  expect(out).toContain('keeps all of contract.graphql');
});
