import 'reflect-metadata';
import { getIntrospectionQuery, GraphQLError, type GraphQLFormattedError } from 'graphql';
import { operationRules, type OperationRules } from '../../src/graphql/limits';
import { OperationPipeline, type Caller } from '../../src/graphql/pipeline';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics/metrics';
import type { Transport } from '../../src/metrics/metrics';
import { getSchema } from '../../src/schema';
import { LIMITS } from '../support/limit-operations';

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
