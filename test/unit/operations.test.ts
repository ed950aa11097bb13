import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSchema, concatAST, NoUnusedFragmentsRule, parse, Source, specifiedRules, validate } from 'graphql';
import config from '../../codegen';

// The dashboard, GraphiQL and the tests send web/operations/*.graphql through web/gql: each
// operation must be one the server accepts, and web/gql what codegen makes of them today.
const root = resolve(__dirname, '..', '..');
const operationsDir = join(root, 'web', 'operations');
const files = readdirSync(operationsDir).filter((f) => f.endsWith('.graphql'));
const schema = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));

// Parsed together: a fragment of one file is spread in another.
const documents = concatAST(files.map((f) => parse(new Source(readFileSync(join(operationsDir, f), 'utf8'), `web/operations/${f}`))));

// @graphql-codegen/cli loads yargs, an ES module that jest cannot require, so generate() runs
// in a child node (which can), with codegen.ts's config, and answers without writing a file.
const GENERATE = `
const { generate } = require('@graphql-codegen/cli');
let config = '';
process.stdin.on('data', (chunk) => (config += chunk)).on('end', async () => {
  const outputs = await generate({ ...JSON.parse(config), silent: true }, false);
  process.stdout.write(JSON.stringify(outputs.map(({ filename, content }) => ({ filename, content }))));
});`;

function generated(): { filename: string; content: string }[] {
  return JSON.parse(execFileSync(process.execPath, ['-e', GENERATE], { cwd: root, input: JSON.stringify(config), encoding: 'utf8', maxBuffer: 64 << 20 }));
}

test('every operation and fragment of web/operations validates against schema.graphql', () => {
  expect(files.length).toBeGreaterThan(0);
  // Every rule but unused fragments: a fragment may serve code rather than an operation (cache.ts writes ThreadListEntry).
  const rules = specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule);
  const errors = validate(schema, documents, rules).map((e) => `${e.source?.name}:${e.locations?.[0]?.line}: ${e.message}`);
  expect(errors).toEqual([]);
});

test('web/gql is what npm run codegen generates now', () => {
  const outputs = generated();
  const checkedIn = readdirSync(join(root, 'web', 'gql')).map((f) => `web/gql/${f}`);
  const stale = [
    ...outputs.filter(({ filename, content }) => !checkedIn.includes(filename) || readFileSync(join(root, filename), 'utf8') !== content).map((o) => o.filename),
    ...checkedIn.filter((f) => !outputs.some((o) => o.filename === f)),
  ];
  if (stale.length) throw new Error(`web/gql is stale: run npm run codegen (${stale.join(', ')})`);
});
