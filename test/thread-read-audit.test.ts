import 'reflect-metadata';
import { execute, parse, type ExecutionResult, type GraphQLObjectType } from 'graphql';
import { Arg, FieldResolver, Resolver, Root } from 'type-graphql';
import { buildContext } from '../src/context';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { withOrigin } from '../src/common/request-origin';
import { THREAD_METADATA } from '../src/modules/threads/thread-reads.middleware';
import { Thread } from '../src/modules/threads/thread.entity';
import { buildApiSchema, getSchema } from '../src/schema';
import { failAuditInserts } from './support/audit-requests';
import { asRecipient, useWorld, type Person } from './support/world';

// Reading a thread's content is audited by one field middleware over every
// field of Thread (thread-reads.middleware.ts), not by each field: a field
// declared here, in the test only, is audited without saying so, and the
// metadata fields are not.

/** A Thread field no resolver of the application knows: declared only here. */
@Resolver(() => Thread)
class ThreadShoutResolver {
  @FieldResolver(() => String, { nullable: true, description: 'The subject in capitals; null when asked for nothing.' })
  shout(@Root() thread: Thread, @Arg('nothing', { defaultValue: false }) nothing: boolean): string | null {
    return nothing ? null : thread.subject.toUpperCase();
  }
}

const env = useWorld();
let run: (who: Person, query: string, threadId: string) => Promise<ExecutionResult>;

beforeAll(async () => {
  const schema = await buildApiSchema([ThreadShoutResolver]);
  const shout = new ThreadShoutResolver();
  run = async (who, query, threadId) => {
    const origin = { requestId: `shout-${Math.random()}`, ip: '127.0.0.1', userAgent: 'thread-read-audit test' };
    const context = await buildContext(env.server.app, { ...origin, authorization: `Bearer ${who.token}` });
    const container = context.container;
    context.container = { get: (type) => ((type as unknown) === ThreadShoutResolver ? shout : container.get(type)) as never };
    return withOrigin(origin, async () => execute({ schema, document: parse(query), variableValues: { t: threadId }, contextValue: context }));
  };
});

async function setUp(label: string) {
  const { world } = env;
  const dr = await world.professional(`${label} Dr`);
  const pat = await world.patient(`${label} Pat`);
  await world.share(pat, dr);
  const threadId = await world.thread(pat, [asRecipient(dr)], 'Hello', `${label} subject`);
  return { dr, pat, threadId };
}

const readsOf = (threadId: string, who: Person) =>
  env.server.app.db.getRepository(AuditEvent).countBy({ action: 'THREAD_READ' as AuditEvent['action'], threadId, actorId: who.id });

test('a Thread field declared only in this test is audited: THREAD_READ once per request, before its value goes out', async () => {
  const { dr, threadId } = await setUp('Shout');
  expect(await readsOf(threadId, dr)).toBe(0);

  const answer = await run(dr, `query($t: ID!) { thread(id: $t) { id shout again: shout } }`, threadId);
  expect(answer.errors).toBeUndefined();
  expect(answer.data).toEqual({ thread: { id: threadId, shout: 'SHOUT SUBJECT', again: 'SHOUT SUBJECT' } });
  expect(await readsOf(threadId, dr)).toBe(1);

  await run(dr, `query($t: ID!) { thread(id: $t) { shout } }`, threadId);
  expect(await readsOf(threadId, dr)).toBe(2);
});

test('a null value of a content field records nothing, as lastMessage of an empty view does not', async () => {
  const { dr, threadId } = await setUp('Null');
  const answer = await run(dr, `query($t: ID!) { thread(id: $t) { id shout(nothing: true) } }`, threadId);
  expect(answer.data).toEqual({ thread: { id: threadId, shout: null } });
  expect(await readsOf(threadId, dr)).toBe(0);
});

test('the new field fails when its read cannot be recorded, and its value does not go out', async () => {
  const { dr, threadId } = await setUp('Refused');
  const undo = await failAuditInserts(env.server, 'THREAD_READ');
  try {
    const answer = await run(dr, `query($t: ID!) { thread(id: $t) { id shout } }`, threadId);
    expect(answer.errors?.length).toBe(1);
    expect(answer.errors![0].path).toEqual(['thread', 'shout']);
    expect(JSON.stringify(answer.data)).not.toContain('SUBJECT');
  } finally {
    await undo();
  }
  expect(await readsOf(threadId, dr)).toBe(0);
});

test('the metadata fields are read without a THREAD_READ; every other field of the API schema is content', async () => {
  const { dr, pat, threadId } = await setUp('Meta');
  const metadata = `query($t: ID!) { thread(id: $t) { id createdAt createdBy { id } teams { id } inbox { status } unreadCount lastActivityAt } }`;
  for (const who of [dr, pat]) {
    const answer = await run(who, metadata, threadId);
    expect(answer.errors).toBeUndefined();
    expect(await readsOf(threadId, who)).toBe(0);
  }

  const content = Object.keys(((await getSchema()).getType('Thread') as GraphQLObjectType).getFields()).filter((name) => !THREAD_METADATA.has(name));
  expect(content.sort()).toEqual(['lastMessage', 'messages', 'participants', 'subject']);
  for (const [i, field] of content.entries()) {
    const selection = field === 'messages' ? 'messages { edges { node { id } } }' : field === 'lastMessage' || field === 'participants' ? `${field} { __typename }` : field;
    await run(dr, `query($t: ID!) { thread(id: $t) { ${selection} } }`, threadId);
    expect(await readsOf(threadId, dr)).toBe(i + 1);
  }
});
