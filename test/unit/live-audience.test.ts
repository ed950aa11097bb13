import 'reflect-metadata';
import { isObjectType, parse, type GraphQLSchema } from 'graphql';
import { operationAudience } from '../../src/live/audience';
import { getSchema } from '../../src/schema';

// Which recipients of one event may share an execution of a subscription:
// decided from the fields the operation selects, on the real schema.

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await getSchema();
});

const audienceOf = (query: string) => operationAudience(schema, parse(query));

test("a message's own fields, its author and its thread's id are the same for every recipient", () => {
  expect(audienceOf('subscription { messageAdded { id body createdAt staffOnly author { id name kind teams { id name } } thread { id createdAt } readBy { id } } }')).toBe('shared');
  expect(audienceOf('subscription { threadActivity { kind threadId teamId at message { id body author { name } } } }')).toBe('shared');
});

test("the care team's read time and the clientMessageId are their author's own: the author and the others get separate answers", () => {
  expect(audienceOf('subscription { messageAdded { id readByCareTeamAt } }')).toBe('author');
  expect(audienceOf('subscription { messageAdded { id clientMessageId } }')).toBe('author');
});

test("a thread's content (its read is audited against each viewer) and anything answered for the viewer are each viewer's own", () => {
  for (const selection of ['thread { subject }', 'thread { messages(first: 1) { edges { node { id } } } }', 'thread { unreadCount }', 'thread { inbox { status } }', 'author { awayUntil }']) {
    expect([selection, audienceOf(`subscription { messageAdded { id ${selection} } }`)]).toEqual([selection, 'viewer']);
  }
  expect(audienceOf('subscription { threadActivity { kind thread { id } } }')).toBe('viewer');
  expect(audienceOf('subscription { threadActivity { kind inbox { status } } }')).toBe('viewer');
});

test('fields selected through fragments count too', () => {
  expect(audienceOf('subscription { messageAdded { ...M } } fragment M on Message { id thread { subject } }')).toBe('viewer');
  expect(audienceOf('subscription { messageAdded { ... on Message { readByCareTeamAt } } }')).toBe('author');
});

test('only these field resolvers are declared the same for every recipient (each was checked to read nothing of the viewer)', () => {
  const declared: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) if (field.extensions.liveAudience) declared.push(`${type.name}.${field.name}: ${String(field.extensions.liveAudience)}`);
  }
  expect(declared.filter((d) => !d.endsWith(': viewer')).sort()).toEqual([
    'Message.attachments: shared',
    'Message.author: shared',
    'Message.clientMessageId: author',
    'Message.readBy: shared',
    'Message.readByCareTeamAt: author',
    'Message.thread: shared',
    'Team.organisation: shared',
    'Thread.createdBy: shared',
    'Thread.teams: shared',
    'User.organisation: shared',
    'User.teams: shared',
  ]);
});
