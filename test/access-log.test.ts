import type { Client } from 'graphql-ws';
import { auditEvents, call, codesOf, deliveriesRecorded } from './support/audit-requests';
import { connect, settle, subscribe, until, untilSubscribed } from './support/live';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// The patient access log (issue "Audit a clinic can trust"): a patient can
// see who (name, role, team) accessed their threads and messages and when,
// newest first, paginated; only their own; their own accesses left out
// unless asked for. Real server, real HTTP and graphql-ws.

interface Entry {
  at: string;
  action: string;
  outcome: string;
  role: string | null;
  threadId: string | null;
  messageId: string | null;
  who: { id: string; name: string };
  team: { id: string; name: string } | null;
}
interface Edge {
  cursor: string;
  node: Entry;
}

const LOG = `query($first: Int, $after: String, $own: Boolean!) {
  myAccessLog(first: $first, after: $after, includeOwn: $own) {
    edges { cursor node { at action outcome role threadId messageId who { id name } team { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const READ = `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`;
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { id } }`;
const MESSAGE_ADDED = `subscription { messageAdded { id } }`;

let server: TestServer;
let world: World;

/** What the world below did to the patient's data, oldest first. */
interface Access {
  action: string;
  outcome: 'SUCCESS' | 'DENIED';
  who: Person;
  role: string | null;
  team: TeamRef | null;
  threadId: string;
  messageId: string | null;
}

let p: Person;
let q: Person;
let a: Person;
let b: Person;
let gp: Person;
let outsider: Person;
let team: TeamRef;
let t1: string;
let t2: string;
let tq: string;
let accesses: Access[];
/** How many times the patient has read their log so far. */
let logReads = 0;

beforeAll(async () => {
  server = await startTestServer({ INSTANCE_ID: 'access-log-instance' });
  world = await World.create(server);
  a = await world.professional('Log Dr A');
  b = await world.professional('Log Dr B');
  gp = await world.professional('Log GP');
  outsider = await world.professional('Log outsider');
  team = await world.team('Log Ward', { autoCc: true, members: [a, b] });
  p = await world.patient('Log Pat P');
  q = await world.patient('Log Pat Q');
  await world.share(p, team);
  await world.share(p, gp);
  await world.share(q, team);
  t1 = await world.thread(p, [asRecipient(team)], 'My results', 'Results');
  t2 = await world.thread(p, [asRecipient(gp)], 'Repeat prescription', 'Prescription');
  tq = await world.thread(q, [asRecipient(team)], 'Q asks', 'Q thread');
  accesses = [];
  const did = (access: Omit<Access, 'outcome' | 'messageId'> & Partial<Pick<Access, 'outcome' | 'messageId'>>) =>
    accesses.push({ outcome: 'SUCCESS', messageId: null, ...access });

  await world.as(a, READ, { t: t1 });
  did({ action: 'THREAD_READ', who: a, role: 'PROFESSIONAL', team, threadId: t1 });
  await world.as(p, READ, { t: t1 });
  did({ action: 'THREAD_READ', who: p, role: 'PATIENT', team: null, threadId: t1 });
  await world.as(gp, READ, { t: t2 });
  did({ action: 'THREAD_READ', who: gp, role: 'PROFESSIONAL', team: null, threadId: t2 });
  await world.as(b, `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`, { t: t1 });
  did({ action: 'THREAD_READ', who: b, role: 'PROFESSIONAL', team, threadId: t1 });
  // Another patient's thread, read by the same professional: never in P's log.
  await world.as(a, READ, { t: tq });

  // Live: B and the patient are subscribed when A answers; A is not.
  const clients: Client[] = [connect(server.wsUrl, b.token), connect(server.wsUrl, p.token), connect(server.wsUrl, q.token)];
  try {
    const feeds = clients.map((client) => subscribe(client, MESSAGE_ADDED));
    await untilSubscribed(server, 3);
    const messageId = await world.send(a, t1, 'Come in tomorrow');
    await Promise.all(feeds.slice(0, 2).map((feed) => feed.waitFor(1)));
    for (const client of clients) await settle(client);
    await deliveriesRecorded(server, messageId, 2);
    expect(feeds[2].received).toEqual([]);
    // One event for both, listed in the log one entry per recipient.
    did({ action: 'MESSAGE_DELIVERED', who: b, role: 'PROFESSIONAL', team, threadId: t1, messageId });
    did({ action: 'MESSAGE_DELIVERED', who: p, role: 'PATIENT', team: null, threadId: t1, messageId });
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
  await until(() => server.live.size === 0);

  await world.as(world.admin, TRAIL, { t: t1 });
  did({ action: 'AUDIT_TRAIL_READ', who: world.admin, role: 'ADMIN', team: null, threadId: t1 });
  expect(codesOf(await call(server.url, READ, { t: t1 }, { token: outsider.token }))).toEqual(['NOT_FOUND']);
  did({ action: 'THREAD_READ', outcome: 'DENIED', who: outsider, role: 'PROFESSIONAL', team: null, threadId: t1 });
  await world.leave(b, t1);
  expect(codesOf(await call(server.url, READ, { t: t1 }, { token: b.token }))).toEqual(['NOT_FOUND']);
  did({ action: 'THREAD_READ', outcome: 'DENIED', who: b, role: 'PROFESSIONAL', team: null, threadId: t1 });
  await world.as(a, TRAIL, { t: t1 });
  did({ action: 'AUDIT_TRAIL_READ', who: a, role: 'PROFESSIONAL', team, threadId: t1 });
}, 30_000);
afterAll(() => server?.close());

/** One page of the caller's log. */
async function page(who: Person, variables: { first?: number; after?: string | null; own?: boolean } = {}) {
  const answer = await call(server.url, LOG, { first: variables.first ?? 100, after: variables.after ?? null, own: variables.own ?? false }, { token: who.token });
  if (answer.errors?.length) throw new Error(`myAccessLog failed: ${answer.text}`);
  if (who === p) logReads++;
  return answer.data.myAccessLog as { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Every page of the caller's log, `first` at a time. */
async function walk(who: Person, first: number, own = false): Promise<Edge[]> {
  const edges: Edge[] = [];
  let after: string | null = null;
  for (let i = 0; i < 500; i++) {
    const { edges: more, pageInfo }: { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = await page(who, { first, after, own });
    expect(more.length).toBeLessThanOrEqual(first);
    edges.push(...more);
    if (!pageInfo.hasNextPage) {
      expect(pageInfo.endCursor).toBe(more.length ? more[more.length - 1].cursor : null);
      return edges;
    }
    expect(more).toHaveLength(first);
    expect(pageInfo.endCursor).toBe(more[more.length - 1].cursor);
    after = pageInfo.endCursor;
  }
  throw new Error('the log never ended');
}

/** Comparable form; entries of one delivery (same message) may come in any order among themselves. */
const brief = (entries: Entry[]) =>
  entries.map((e) => ({
    action: e.action,
    outcome: e.outcome,
    who: e.who.id,
    role: e.role,
    team: e.team?.id ?? null,
    threadId: e.threadId,
    messageId: e.messageId,
  }));
const expected = (list: Access[]) =>
  list.map((x) => ({ action: x.action, outcome: x.outcome, who: x.who.id, role: x.role, team: x.team?.id ?? null, threadId: x.threadId, messageId: x.messageId }));
const normal = <T extends { messageId: string | null; who: string }>(list: T[]) => {
  // Newest first overall; within one delivery, by who.
  const out = [...list];
  for (let i = 0; i < out.length; i++) {
    let j = i;
    while (j + 1 < out.length && out[j + 1].messageId !== null && out[j + 1].messageId === out[i].messageId) j++;
    out.splice(i, j - i + 1, ...out.slice(i, j + 1).sort((x, y) => x.who.localeCompare(y.who)));
    i = j;
  }
  return out;
};

test("the patient sees who accessed their threads and messages (name, role, team), newest first, without their own accesses", async () => {
  const { edges, pageInfo } = await page(p);
  expect(pageInfo.hasNextPage).toBe(false);
  const others = accesses.filter((x) => x.who.id !== p.id).reverse();
  expect(normal(brief(edges.map((e) => e.node)))).toEqual(normal(expected(others)));
  // Names, not just ids.
  const read = edges.find((e) => e.node.who.id === a.id && e.node.action === 'THREAD_READ')!.node;
  expect(read).toMatchObject({ who: { name: 'Log Dr A' }, role: 'PROFESSIONAL', team: { name: 'Log Ward' } });
  const trail = edges.find((e) => e.node.action === 'AUDIT_TRAIL_READ' && e.node.who.id === world.admin.id)!.node;
  expect(trail).toMatchObject({ who: { name: 'Administrator' }, role: 'ADMIN', team: null, outcome: 'SUCCESS' });
  // Newest first, in server time.
  const times = edges.map((e) => Date.parse(e.node.at));
  expect(times).toEqual([...times].sort((x, y) => y - x));
  expect(edges.every((e) => /Z$/.test(e.node.at))).toBe(true);
});

test('includeOwn: true adds the patient’s own reads and deliveries to them', async () => {
  const { edges } = await page(p, { own: true });
  expect(normal(brief(edges.map((e) => e.node)))).toEqual(normal(expected([...accesses].reverse())));
  expect(edges.filter((e) => e.node.who.id === p.id).map((e) => e.node.action).sort()).toEqual(['MESSAGE_DELIVERED', 'THREAD_READ']);
});

test('only their own data: another patient’s log shows only accesses to their threads, never this patient’s', async () => {
  const mine = [t1, t2];
  const pEdges = await walk(p, 100, true);
  expect(pEdges.every((e) => e.node.threadId !== null && mine.includes(e.node.threadId))).toBe(true);
  const qEdges = await walk(q, 100, true);
  expect(qEdges.map((e) => [e.node.action, e.node.who.id, e.node.threadId])).toEqual([['THREAD_READ', a.id, tq]]);
  // The patient's delivery on a socket that Q also held open never reached Q, and is not in Q's log.
  expect(qEdges.some((e) => e.node.action === 'MESSAGE_DELIVERED')).toBe(false);
});

test('pagination with first/after gives every entry exactly once across pages, in the same order', async () => {
  for (const own of [false, true]) {
    const whole = await walk(p, 100, own);
    expect(whole.length).toBeGreaterThan(5);
    for (const size of [1, 2, 3]) {
      const paged = await walk(p, size, own);
      expect(paged.map((e) => e.cursor)).toEqual(whole.map((e) => e.cursor));
      expect(paged.map((e) => e.node)).toEqual(whole.map((e) => e.node));
      expect(new Set(paged.map((e) => e.cursor)).size).toBe(paged.length);
    }
  }
});

test('a page boundary inside one delivery (several recipients) loses and repeats nobody', async () => {
  const c = await world.professional('Log Dr C');
  await world.share(p, c);
  const thread = await world.thread(p, [asRecipient(c), asRecipient(gp)], 'Three on a thread', 'Split');
  const clients: Client[] = [connect(server.wsUrl, c.token), connect(server.wsUrl, gp.token), connect(server.wsUrl, p.token)];
  try {
    const feeds = clients.map((client) => subscribe(client, MESSAGE_ADDED));
    await untilSubscribed(server, 3);
    const messageId = await world.send(p, thread, 'To all three');
    await Promise.all(feeds.map((feed) => feed.waitFor(1)));
    await deliveriesRecorded(server, messageId, 3);
    const [first] = (await page(p, { first: 1 })).edges;
    expect(first.node).toMatchObject({ action: 'MESSAGE_DELIVERED', messageId });
    const second = await page(p, { first: 1, after: first.cursor });
    expect(second.edges[0].node).toMatchObject({ action: 'MESSAGE_DELIVERED', messageId });
    expect([first.node.who.id, second.edges[0].node.who.id].sort()).toEqual([c.id, gp.id].sort());
    const withOwn = (await walk(p, 1, true)).filter((e) => e.node.messageId === messageId);
    expect(withOwn.map((e) => e.node.who.id).sort()).toEqual([c.id, gp.id, p.id].sort());
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
  await until(() => server.live.size === 0);
});

test('only patients: professionals and admins get FORBIDDEN, anonymous UNAUTHENTICATED; bad pages are BAD_USER_INPUT', async () => {
  for (const who of [a, gp, world.admin]) {
    const answer = await call(server.url, LOG, { first: 10, after: null, own: false }, { token: who.token });
    expect(codesOf(answer)).toEqual(['FORBIDDEN']);
    expect(answer.data?.myAccessLog ?? null).toBeNull();
  }
  expect(codesOf(await call(server.url, LOG, { first: 10, after: null, own: false }))).toEqual(['UNAUTHENTICATED']);
  expect(codesOf(await call(server.url, LOG, { first: 10, after: null, own: false }, { token: 'not-a-token' }))).toEqual(['UNAUTHENTICATED']);
  const made = (keys: unknown[]) => Buffer.from(JSON.stringify(keys)).toString('base64url');
  const madeUp = [[1e300, 0], [1.5, 0], [3, -1], [3]].map((keys) => ({ first: 5, after: made(keys) }));
  for (const variables of [{ first: 0 }, { first: 101 }, { first: 5, after: 'not-a-cursor' }, ...madeUp]) {
    expect(codesOf(await call(server.url, LOG, { after: null, own: false, ...variables }, { token: p.token }))).toEqual(['BAD_USER_INPUT']);
  }
});

test('reading the log is itself recorded (ACCESS_LOG_READ, with the request), and is not an entry of the log', async () => {
  const before = await auditEvents(server.url, world.admin.token, { actorId: p.id, action: 'ACCESS_LOG_READ' });
  const answer = await call(server.url, LOG, { first: 5, after: null, own: true }, { token: p.token, requestId: 'log-read-1', userAgent: 'PatientApp/9' });
  expect(answer.errors).toBeUndefined();
  const after = await auditEvents(server.url, world.admin.token, { actorId: p.id, action: 'ACCESS_LOG_READ' });
  expect(after.length).toBe(before.length + 1);
  expect(after[0]).toMatchObject({
    actor: { id: p.id },
    actorRole: 'PATIENT',
    outcome: 'SUCCESS',
    requestId: 'log-read-1',
    userAgent: 'PatientApp/9',
    instanceId: 'access-log-instance',
  });
  // Every successful read of the log so far was recorded, once.
  expect(after.length).toBe(logReads + 1);
  // It concerns the patient (the admin finds it by patient), but it is not an access to their threads.
  expect((await auditEvents(server.url, world.admin.token, { patientId: p.id, action: 'ACCESS_LOG_READ' })).map((e) => e.id)).toContain(after[0].id);
  expect(answer.data.myAccessLog.edges.some((e: Edge) => e.node.action === 'ACCESS_LOG_READ')).toBe(false);
  // Refused calls write nothing.
  await call(server.url, LOG, { first: 5, after: null, own: false }, { token: a.token });
  expect((await auditEvents(server.url, world.admin.token, { actorId: a.id, action: 'ACCESS_LOG_READ' })).length).toBe(0);
});
