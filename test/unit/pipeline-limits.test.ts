import 'reflect-metadata';
import { getIntrospectionQuery, GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import { costError, GRAPHQL_LIMITS, textError, operationRules, type OperationRules } from '../../src/graphql/limits';
import { OperationPipeline, type Caller } from '../../src/graphql/pipeline';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics/metrics';
import type { Transport } from '../../src/metrics/metrics';
import { getSchema } from '../../src/schema';
import { LIMITS, nested } from '../support/limit-operations';

// The pipeline's refusals without a server or a database. An operation that meets every
// rule reaches the transport's admission, last before the context: here it answers
// PASSED, so an operation refused with PASSED is one the rules let through.

const PASSED = 'PASSED';
const vars = { id: '00000000-0000-4000-8000-000000000000' };
const origin = { requestId: 'unit', ip: '127.0.0.1', userAgent: null, authorization: undefined };

/** A pipeline that never gets as far as a context: every operation is refused before. */
async function pipeline(rules: OperationRules = operationRules({ introspection: true })): Promise<OperationPipeline> {
  const context = () => Promise.reject(new Error('no operation gets this far'));
  return new OperationPipeline({ schema: await getSchema(), rules, metrics: new Metrics(), logger: createLogger('silent'), context });
}

/** The errors `query` is refused with over `transport` (PASSED when it met every rule), and the status. */
async function refusal(p: OperationPipeline, query: string, variables: Record<string, unknown> = vars, transport: Transport = 'http', operationName?: string) {
  const caller: Caller = { transport, client: origin, admit: () => new GraphQLError('met every rule', { extensions: { code: PASSED } }) };
  const prepared = await p.prepare({ query, variables, operationName }, caller);
  if (prepared.ok) throw new Error('admit refuses every operation: prepare cannot succeed');
  return { status: prepared.status, errors: prepared.formatted };
}

const codes = (errors: GraphQLFormattedError[]) => errors.map((e) => e.extensions?.code);

describe('each limit: the operation at it passes, the one over it is refused with its code and status 400', () => {
  test.each(LIMITS)('%s', async (_limit, inside, over, code, message) => {
    const p = await pipeline();
    for (const transport of ['http', 'ws'] as const) {
      expect(codes((await refusal(p, inside, vars, transport)).errors)).toEqual([PASSED]);
      const { status, errors } = await refusal(p, over, vars, transport);
      expect(status).toBe(400);
      expect(codes(errors)).toEqual([code]);
      expect(errors[0].message).toMatch(message);
    }
  });
});

test('NUL text, in a literal or a variable, is BAD_USER_INPUT', async () => {
  const p = await pipeline();
  for (const [query, variables] of [
    ['mutation { createTeam(name: "a\\u0000b") { id } }', {}],
    ['mutation($n: String!) { createTeam(name: $n) { id } }', { n: 'a\u0000b' }],
  ] as const) {
    const { status, errors } = await refusal(p, query, variables);
    expect(status).toBe(400);
    expect(errors.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'Text must not contain NUL characters (U+0000)']]);
  }
});

test('with introspection off, __schema and __type are refused as unknown fields; __typename stays', async () => {
  const off = await pipeline(operationRules({ introspection: false }));
  for (const query of [getIntrospectionQuery(), '{ __type(name: "Query") { name } }']) {
    const { status, errors } = await refusal(off, query, {});
    expect(status).toBe(400);
    expect(new Set(codes(errors))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(errors[0].message).toMatch(/introspection/);
  }
  expect(codes((await refusal(off, '{ __typename }', {})).errors)).toEqual([PASSED]);
  expect(codes((await refusal(await pipeline(), getIntrospectionQuery(), {})).errors)).toEqual([PASSED]);
});

test('a subscription is refused over HTTP (BAD_REQUEST, before validation) and goes through over graphql-ws', async () => {
  const p = await pipeline();
  for (const query of ['subscription { messageAdded { id } }', 'subscription($v: Boolean) { messageAdded @include(if: $v) { id } }']) {
    const { status, errors } = await refusal(p, query, {}, 'http');
    expect(status).toBe(400);
    expect(codes(errors)).toEqual(['BAD_REQUEST']);
    expect(errors[0].message).toMatch(/graphql-ws/);
  }
  expect(codes((await refusal(p, 'subscription { messageAdded { id } }', {}, 'ws')).errors)).toEqual([PASSED]);
  // The subscription root rule: no @include on the root field, over graphql-ws either.
  expect(codes((await refusal(p, 'subscription($v: Boolean!) { messageAdded @include(if: $v) { id } }', { v: true }, 'ws')).errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
});

test('an operation name the document lacks is OPERATION_RESOLUTION_FAILURE', async () => {
  const { status, errors } = await refusal(await pipeline(), 'query A { __typename }', {}, 'ws', 'B');
  expect(status).toBe(400);
  expect(errors).toEqual([{ message: 'Unknown operation named "B".', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }]);
});

test('a rule added to the list is met on both transports; a check added sees the variables', async () => {
  const rules = operationRules({ introspection: true });
  const p = await pipeline({
    ...rules,
    validation: [...rules.validation, (context) => ({ Field: (node) => void (node.name.value === 'teams' && context.reportError(new GraphQLError('no teams today', { nodes: node }))) })],
    checks: [...rules.checks, ({ variables }) => (variables?.stop ? new GraphQLError('stopped', { extensions: { code: 'BAD_USER_INPUT' } }) : null)],
  });
  for (const transport of ['http', 'ws'] as const) {
    expect((await refusal(p, '{ teams { id } }', {}, transport)).errors).toEqual([
      { message: 'no teams today', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    expect(codes((await refusal(p, '{ me { id } }', { stop: true }, transport)).errors)).toEqual(['BAD_USER_INPUT']);
    expect(codes((await refusal(p, '{ me { id } }', {}, transport)).errors)).toEqual([PASSED]);
  }
});

test('a list literal nested too deeply for the stack is GRAPHQL_PARSE_FAILED, never a crash', async () => {
  const p = await pipeline();
  // Within the token limit, 1,990 nested lists still exhaust the stack when the request arrives
  // already deep in it (as under the HTTP stack): the parse is run from a deep recursion here.
  const query = `{ thread(id: ${'['.repeat(1_990)}) { id } }`;
  const atDepth = (frames: number, work: () => ReturnType<typeof refusal>): ReturnType<typeof refusal> => (frames ? atDepth(frames - 1, work) : work());
  const { status, errors } = await atDepth(6_000, () => refusal(p, query));
  expect(status).toBe(400);
  expect(errors.map((e) => [e.extensions?.code, e.message])).toEqual([['GRAPHQL_PARSE_FAILED', 'The operation is nested too deeply']]);
});

/** `nested(depth)` with everything under its root field moved into a fragment. */
function throughFragment(operation: string): string {
  const root = 'thread(id: $id) { ';
  const start = operation.indexOf(root) + root.length;
  return `${operation.slice(0, start)}...Deep } } fragment Deep on Thread { ${operation.slice(start, -' } }'.length)} }`;
}

test('depth counts a fragment as its fields: the deepest operation allowed passes through a fragment, one deeper does not', async () => {
  const p = await pipeline();
  expect(codes((await refusal(p, throughFragment(nested(GRAPHQL_LIMITS.maxDepth)))).errors)).toEqual([PASSED]);
  expect(codes((await refusal(p, throughFragment(nested(GRAPHQL_LIMITS.maxDepth + 1)))).errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
});

describe('cost', () => {
  const messages = 'edges { node { messages(first: 100) { edges { node { body } } } } }';
  // 1 + 65 x 303 + (1 + 303): each thread's page of messages costs 303, each threads field 1.
  const AT_LIMIT = `{ threads(first: 65) { ${messages} } more: threads(first: 1) { ${messages} } }`;

  test('an operation costing exactly the limit passes; two more (me { id }) is over it, and the refusal says by how much', async () => {
    const p = await pipeline();
    expect(codes((await refusal(p, AT_LIMIT)).errors)).toEqual([PASSED]);
    const { errors } = await refusal(p, AT_LIMIT.replace(/ }$/, ' me { id } }'));
    expect(errors.map((e) => e.message)).toEqual(['Query cost 20002 is over the limit of 20000; ask for smaller pages or fewer fields']);
  });

  test('introspection fields count one each, their children added', async () => {
    // __type (1) + fields (1) + name (1).
    const { errors } = await refusal(await pipeline(), AT_LIMIT.replace(/ }$/, ' __type(name: "Query") { fields { name } } }'));
    expect(errors.map((e) => e.message)).toEqual(['Query cost 20003 is over the limit of 20000; ask for smaller pages or fewer fields']);
  });

  test('a list without `first` counts as 10 items, a connection\'s edges as the page its field asked for', async () => {
    // 1 + 100 x (edges 1 + node 1 + participants (1 + 10 x (user 1 + teams (1 + 10 x (members 1 + 10 x name 1))))).
    const { errors } = await refusal(await pipeline(), '{ threads(first: 100) { edges { node { participants { user { teams { members { name } } } } } } } }');
    expect(errors.map((e) => e.message)).toEqual(['Query cost 112301 is over the limit of 20000; ask for smaller pages or fewer fields']);
  });

  test('variables that do not fit are left to execution to report, whatever the cost', async () => {
    const query = `query($n: Int!) { threads(first: $n) { ${messages} } }`;
    expect(codes((await refusal(await pipeline(), query, { n: 'all of them' })).errors)).toEqual([PASSED]);
  });

  test('one document sent again with other variables is costed again: a page size or a directive given by a variable', async () => {
    const schema = await getSchema();
    const paged = parse(`query($n: Int!) { threads(first: $n) { ${messages} } }`);
    expect(costError(schema, paged, { n: 1 }, undefined)).toBeNull();
    expect(costError(schema, paged, { n: 100 }, undefined)?.message).toMatch(/^Query cost \d+ is over the limit/);
    const included = parse(`query($all: Boolean!) { threads(first: 65) { ${messages} } more: threads(first: 2) @include(if: $all) { ${messages} } }`);
    expect(costError(schema, included, { all: false }, undefined)).toBeNull();
    expect(costError(schema, included, { all: true }, undefined)?.message).toMatch(/^Query cost \d+ is over the limit/);
  });

  test('a document whose cost no variable changes keeps it per operation of the document', async () => {
    const schema = await getSchema();
    const twoOperations = parse(`query Small { me { id } } query Large { threads(first: 100) { ${messages} } }`);
    expect(costError(schema, twoOperations, {}, 'Small')).toBeNull();
    expect(costError(schema, twoOperations, {}, 'Large')?.message).toMatch(/^Query cost \d+ is over the limit/);
    expect(costError(schema, twoOperations, {}, 'Small')).toBeNull();
  });

  test('the refusal carries its own code and status, as every check\'s does', async () => {
    expect(costError(await getSchema(), parse(AT_LIMIT.replace(/ }$/, ' me { id } }')), {}, undefined)?.extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      http: { status: 400 },
    });
  });
});

describe('NUL characters', () => {
  test('text without one passes, in a literal or among variables of every kind', async () => {
    const p = await pipeline();
    expect(codes((await refusal(p, 'mutation { createTeam(name: "a b") { id } }', {})).errors)).toEqual([PASSED]);
    const variables = { n: 'a b', count: 3, on: false, none: null, list: ['x', { y: 'z' }] };
    expect(codes((await refusal(p, 'mutation($n: String!) { createTeam(name: $n) { id } }', variables)).errors)).toEqual([PASSED]);
  });

  test('one document sent again is checked against each request\'s variables', () => {
    const document = parse('mutation($b: String!) { sendMessage(threadId: "t", body: $b) { id } }');
    expect(textError(document, { b: 'fine' })).toBeNull();
    expect(textError(document, { b: 'a\u0000' })?.extensions.code).toBe('BAD_USER_INPUT');
    expect(textError(document, { b: 'fine again' })).toBeNull();
  });

  test('a variable whose name holds one is refused too', async () => {
    expect(codes((await refusal(await pipeline(), '{ me { id } }', { 'a\u0000': 'b' })).errors)).toEqual(['BAD_USER_INPUT']);
  });

  test('the refusal carries its own code and status, as every check\'s does', () => {
    expect(textError(parse('{ me { id } }'), { n: 'a\u0000' })?.extensions).toEqual({ code: 'BAD_USER_INPUT', http: { status: 400 } });
  });
});

describe("a subscription's root field cannot take @skip or @include, however it is written", () => {
  const REFUSED = "A subscription's root field cannot take @skip or @include";

  test.each([
    ['@include on the field', 'subscription { messageAdded @include(if: true) { id } }'],
    ['@skip on the field', 'subscription { messageAdded @skip(if: false) { id } }'],
    ['on an inline fragment', 'subscription { ... on Subscription @include(if: true) { messageAdded { id } } }'],
    ['inside an inline fragment', 'subscription { ... on Subscription { messageAdded @skip(if: false) { id } } }'],
    ['inside the second of two inline fragments', 'subscription { ... on Subscription { messageAdded { id } } ... on Subscription { messageAdded @include(if: true) { id } } }'],
    ['inside a named fragment', 'subscription { ...Root } fragment Root on Subscription { messageAdded @include(if: true) { id } }'],
  ])('%s', async (_how, query) => {
    const { errors } = await refusal(await pipeline(), query, {}, 'ws');
    expect(errors.map((e) => [e.extensions?.code, e.message])).toEqual([['GRAPHQL_VALIDATION_FAILED', REFUSED]]);
  });

  test('the refusal points at the selection that has it', async () => {
    const { errors } = await refusal(await pipeline(), 'subscription { messageAdded @include(if: true) { id } }', {}, 'ws');
    expect(errors[0].locations).toEqual([{ line: 1, column: 16 }]);
  });

  test.each([
    ['a root field without them, through a fragment', 'subscription { ...Root } fragment Root on Subscription { messageAdded { id } }'],
    ['them below the root field', 'subscription { messageAdded { id @include(if: true) } }'],
    ["them on a query's root field", '{ me @include(if: true) { id } }'],
  ])('%s pass', async (_how, query) => {
    expect(codes((await refusal(await pipeline(), query, {}, 'ws')).errors)).toEqual([PASSED]);
  });
});
