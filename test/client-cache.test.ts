import { failure, gql } from './support/graphql';
import { listen, untilSubscribed } from './support/live';
import { asRecipient, useLiveWorld } from './support/world';
import { ClaimThreadDocument, SendMessageDocument } from '../web/gql/graphql';

// What a client's normalized cache (Apollo Client 4's, keyed by __typename and
// id) needs to merge live updates into what it fetched: a stable id on every
// object it lists, and on a message the clientMessageId its author's optimistic
// copy was made with. Over real HTTP and graphql-ws.

const env = useLiveWorld();

const THREAD = `query($t: ID!) { thread(id: $t) { participants { id user { id } } inbox { id teamId } } }`;
const TEAM_INBOX = `query($team: ID!) { teamInbox(teamId: $team, first: 10) { edges { node { id threadId } } } }`;
const RECIPIENTS = `query($s: String, $t: ID) { recipients(search: $s, threadId: $t) {
  __typename ... on TeamRecipient { id team { id } } ... on UserRecipient { id user { id } }
} }`;
const MESSAGES = `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { clientMessageId } } } } }`;

test("a participant's id is the same in two queries and in a live payload, and differs between participants", async () => {
  const { a, b, team, pat } = await env.world.careTeam('Ids');
  const threadId = await env.world.thread(pat, [asRecipient(team)]);
  const first = (await env.world.as(pat, THREAD, { t: threadId })).thread.participants;
  const again = (await env.world.as(a, THREAD, { t: threadId })).thread.participants;
  expect(again).toEqual(first);
  expect(new Set(first.map((p: { id: string }) => p.id)).size).toBe(3);

  const feed = listen(env.server.wsUrl, b.token, 'subscription { messageAdded { thread { participants { id user { id } } } } }', env.clients);
  await untilSubscribed(env.server, 1);
  await env.world.send(pat, threadId, 'Live');
  const [live] = await feed.waitFor(1);
  expect(live.messageAdded.thread.participants).toEqual(first);
});

test("a team inbox item's id is the same in the team's inbox, in the thread's inbox and live (INBOX_CHANGED), and another team's item has another", async () => {
  const { a, b, team, pat } = await env.world.careTeam('Inbox Ids');
  const other = await env.world.team('Inbox Ids Other', { autoCc: true, members: [b, await env.world.professional('Inbox Ids Dr C')] });
  await env.world.share(pat, other);
  const threadId = await env.world.thread(pat, [asRecipient(team), asRecipient(other)]);
  const inTeam = (await env.world.as(a, TEAM_INBOX, { team: team.id })).teamInbox.edges.map((e: { node: unknown }) => e.node);
  expect(inTeam).toEqual([{ id: expect.any(String), threadId }]);
  const inThread = new Map((await env.world.as(b, THREAD, { t: threadId })).thread.inbox.map((item: { id: string; teamId: string }) => [item.teamId, item.id]));
  expect(inThread.get(team.id)).toBe(inTeam[0].id);
  expect(inThread.get(other.id)).toEqual(expect.any(String));
  expect(inThread.get(other.id)).not.toBe(inTeam[0].id);

  const feed = listen(env.server.wsUrl, b.token, 'subscription { threadActivity { kind inbox { id teamId } } }', env.clients);
  await untilSubscribed(env.server, 1);
  await env.world.as(a, ClaimThreadDocument, { threadId, teamId: team.id });
  const [live] = await feed.waitFor(1);
  expect(live.threadActivity).toEqual({ kind: 'INBOX_CHANGED', inbox: { id: inTeam[0].id, teamId: team.id } });
});

test("recipient options keep their ids from one query to the next; a team's option for a thread (fewer members) has its own", async () => {
  const { team, pat } = await env.world.careTeam('Option Ids');
  const gp = await env.world.professional('Option Ids GP');
  await env.world.share(pat, gp);
  const options = async (threadId?: string) => (await env.world.as(pat, RECIPIENTS, { s: 'Option Ids', t: threadId })).recipients;
  const first = await options();
  expect(first.map((o: { __typename: string }) => o.__typename)).toEqual(['TeamRecipient', 'UserRecipient']);
  expect(await options()).toEqual(first);
  expect(new Set(first.map((o: { id: string }) => o.id)).size).toBe(2);

  const threadId = await env.world.thread(pat, [asRecipient(gp)]);
  const [teamOption] = await options(threadId);
  expect(teamOption.team.id).toBe(team.id);
  expect(teamOption.id).not.toBe(first[0].id);
  expect((await options(threadId))[0].id).toBe(teamOption.id);
});

test("clientMessageId is its author's: they get it back over HTTP and live, everyone else gets null, in the same event", async () => {
  const { a, b, team, pat } = await env.world.careTeam('Client Ids');
  const threadId = await env.world.thread(pat, [asRecipient(team)]);
  const query = 'subscription($t: ID) { messageAdded(threadId: $t) { body clientMessageId } }';
  // Another professional beside the author: the one whose execution the author's could be shared with.
  const [author, colleague, patient] = [a, b, pat].map((person) => listen(env.server.wsUrl, person.token, query, env.clients));
  await untilSubscribed(env.server, 3);

  const { sendMessage } = await env.world.as(a, SendMessageDocument, { threadId, body: 'Optimistic', clientMessageId: 'c-42' });
  expect(sendMessage.clientMessageId).toBe('c-42');
  const live = await Promise.all([author, colleague, patient].map(async (feed) => (await feed.waitFor(1))[0].messageAdded.clientMessageId));
  expect(live).toEqual(['c-42', null, null]);

  const page = async (token: string) => (await gql(env.server.url, MESSAGES, { t: threadId }, token)).data.thread.messages.edges.map((e: { node: { clientMessageId: string | null } }) => e.node.clientMessageId);
  expect(await Promise.all([a, b, pat].map((person) => page(person.token)))).toEqual([
    [null, 'c-42'],
    [null, null],
    [null, null],
  ]);
});

describe('a recipient is exactly one of teamId and userId (RecipientInput is @oneOf)', () => {
  const SHARE = `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`;

  test('the schema says so to clients (introspection)', async () => {
    const { data } = await gql(env.server.url, '{ __type(name: "RecipientInput") { isOneOf } }', {}, env.world.admin.token);
    expect(data.__type).toEqual({ isOneOf: true });
  });

  // Both or neither: test/recipients.test.ts and test/admin.test.ts.
  test('an explicit null, beside the other id or alone, is refused before anything runs, and so is a literal with both', async () => {
    const pat = await env.world.patient('One Of Pat');
    const gp = await env.world.professional('One Of GP');
    for (const r of [{ userId: gp.id, teamId: null }, { userId: null }]) {
      const { data, errors = [] } = await gql(env.server.url, SHARE, { p: pat.id, r }, pat.token);
      expect([r, data, [...new Set(errors.map((e) => e.extensions?.code))], errors.map((e) => e.message).join()]).toEqual([
        r,
        undefined,
        ['BAD_USER_INPUT'],
        expect.stringMatching(/Exactly one key must be specified for OneOf type "RecipientInput"|Field "userId" must be non-null/),
      ]);
    }
    const literal = await failure(env.server.url, `mutation($p: ID!) { shareRecord(patientId: $p, recipient: { userId: "${gp.id}", teamId: "${gp.id}" }) }`, { p: pat.id }, pat.token);
    expect([literal.extensions?.code, literal.message]).toEqual(['GRAPHQL_VALIDATION_FAILED', 'OneOf Input Object "RecipientInput" must specify exactly one key.']);
    expect((await env.world.as(pat, '{ recipients(search: "One Of") { __typename } }')).recipients).toEqual([]);
  });
});
