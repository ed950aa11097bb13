import { join } from 'node:path';
import madge from 'madge';

// The direction of imports is part of the design (docs/architecture.md): a loop
// between files means a listener is being called by hand, or a rule sits in the
// wrong place. Type-only imports count: they are the same dependency on paper.

const SRC = join(__dirname, '..', '..', 'src');
/**
 * Code that knows nothing of patients or teams: the domain (src/modules) builds on it, never
 * the reverse. Not events/: besides the bus, the outbox and the Redis transport it holds the
 * events' vocabulary (what a message or a participants change carries), which names domain types.
 */
const PLATFORM = /^(common|database|graphql|live|metrics)\//;

let graph: Record<string, string[]>;
let circles: string[][];

beforeAll(async () => {
  const result = await madge(SRC, { fileExtensions: ['ts'], tsConfig: join(SRC, '..', 'tsconfig.json') });
  graph = result.obj();
  circles = result.circular();
}, 30_000);

test('no file under src/ imports itself through others', () => {
  expect(circles.map((loop) => loop.join(' > '))).toEqual([]);
});

test('platform code (common, database, graphql, live, metrics) never imports the domain (src/modules)', () => {
  const backEdges = Object.entries(graph).flatMap(([file, imports]) =>
    PLATFORM.test(file) ? imports.filter((target) => target.startsWith('modules/')).map((target) => `${file} -> ${target}`) : [],
  );
  expect(backEdges).toEqual([]);
});
