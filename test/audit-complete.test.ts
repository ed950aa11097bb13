import type { Client } from 'graphql-ws';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  auditEvents,
  call,
  deliveriesRecorded,
  codesOf,
  failAuditInserts,
  LOOPBACK,
  wsClient,
  wsRun,
  type AuditEventView,
  type AuditFilter,
} from './support/audit-requests';
import { ok } from './support/graphql';
import { connect, settle, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// "Audit a clinic can trust": every create, update and read of thread data
// writes an event naming the individual, their role and team, the outcome,
// the server's UTC time, the request (id, client IP, user agent) and the
// instance; reads are recorded before the data goes out and fail when the
// record cannot be written; refused attempts are recorded; live deliveries
// are recorded as disclosures; admins can search it all. Real server, real
// HTTP and graphql-ws. The patient access log is in access-log.test.ts.

const INSTANCE_ID = 'audit-complete-instance-7';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

const THREAD = `query($t: ID!) { thread(id: $t) { id subject messages { edges { node { id body } } } } }`;
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { id } }`;
const SEND = `mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }`;
const ADD = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`;
const LEAVE = `mutation($t: ID!) { leaveThread(threadId: $t) }`;
const MARK = `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`;
const CREATE_THREAD = `mutation($s: String!, $b: String!, $r: [RecipientInput!]!) { createThread(subject: $s, body: $b, recipients: $r) { id } }`;
const MESSAGE_ADDED = `subscription($t: ID) { messageAdded(threadId: $t) { id threadId body } }`;
const ACTIVITY = `subscription { threadActivity { kind threadId message { id body } } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id name } } }`;

type Role = 'PATIENT' | 'PROFESSIONAL' | 'ADMIN';

let server: TestServer;
let world: World;
let adminToken: string;

beforeAll(async () => {
  server = await startTestServer({ INSTANCE_ID });
  world = await World.create(server);
  adminToken = world.admin.token;
});
afterAll(() => server?.close());

/** Every event matching `filter`, newest first, as the start-up admin reads it. */
const search = (filter: AuditFilter = {}, on: TestServer = server, token = adminToken) => auditEvents(on.url, token, filter);

/** The highest event id so far (searching adds an AUDIT_SEARCHED event above it, which later checks skip). */
async function lastEventId(on: TestServer = server, token = adminToken): Promise<number> {
  return Math.max(0, ...(await auditEvents(on.url, token, {}, { keepOwnSearches: true })).map((e) => Number(e.id)));
}

/** Events above `watermark`, less the searches this file makes to read them. */
const after = (events: AuditEventView[], watermark: number) =>
  events.filter((e) => Number(e.id) > watermark && !(e.action === 'AUDIT_SEARCHED' && e.requestId?.startsWith('walk-')));

async function careTeam(label: string) {
  const a = await world.professional(`${label} Dr A`);
  const b = await world.professional(`${label} Dr B`);
  const team = await world.team(`${label} Team`, { autoCc: true, members: [a, b] });
  const pat = await world.patient(`${label} Pat`);
  await world.share(pat, team);
  const thread = await world.thread(pat, [asRecipient(team)], `${label} first message`, `${label} subject`);
  return { a, b, team, pat, thread };
}

// ---------------------------------------------------------------------------

describe('1. every event of a busy world names the individual, role, team, outcome, time, request, client and instance', () => {
  let busy: TestServer;
  beforeAll(async () => {
    busy = await startTestServer({ INSTANCE_ID: 'busy-world-instance' });
  });
  afterAll(() => busy?.close());

  test('create, update and read over HTTP, each request sending its own X-Request-Id and User-Agent', async () => {
    const url = busy.url;
    const { login } = await ok(url, LOGIN, ADMIN);
    const admin = { id: login.user.id as string, name: 'Administrator', email: ADMIN.email, token: login.token as string };
    const roles = new Map<string, Role>([[admin.id, 'ADMIN']]);

    /** Each request this test sends, by the request id it sent; with the actions it must write. */
    const requests = new Map<string, { who: Person; userAgent: string; start: number; end: number; label: string; actions: string[] }>();
    let n = 0;
    async function act(who: Person, label: string, actions: string[], query: string, variables: Record<string, unknown> = {}) {
      n++;
      const requestId = `busy-${n}-${label}`;
      const userAgent = `BusyWorld/${n} (${label}; test)`;
      const answer = await call(url, query, variables, { token: who.token, requestId, userAgent });
      if (answer.errors?.length || !answer.data) throw new Error(`${label} failed: ${answer.text}`);
      expect(answer.requestId).toBe(requestId);
      requests.set(requestId, { who, userAgent, start: answer.start, end: answer.end, label, actions });
      return answer.data;
    }
    let users = 0;
    async function createUser(name: string, kind: 'PATIENT' | 'PROFESSIONAL', role: Role, extra: Record<string, unknown> = {}): Promise<Person> {
      const email = `busy-${++users}@test.example`;
      const input = { email, name, kind, password: 'busy-password-1', ...extra };
      const { createUser } = await act(admin, 'create-user', ['USER_CREATED'], `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: input });
      const signedIn = await ok(url, LOGIN, { email, password: 'busy-password-1' });
      roles.set(createUser.id, role);
      return { id: createUser.id, name, email, token: signedIn.login.token };
    }

    const watermark = await lastEventId(busy, admin.token);

    // People and teams: all by the admin, except what professionals and patients may do themselves.
    const a = await createUser('Ward Dr A', 'PROFESSIONAL', 'PROFESSIONAL');
    const b = await createUser('Ward Dr B', 'PROFESSIONAL', 'PROFESSIONAL');
    const c = await createUser('Dr C', 'PROFESSIONAL', 'PROFESSIONAL');
    const admin2 = await createUser('Second admin', 'PROFESSIONAL', 'ADMIN', { isAdmin: true, contactable: false });
    const p = await createUser('Pat P', 'PATIENT', 'PATIENT');
    const q = await createUser('Pat Q', 'PATIENT', 'PATIENT');
    const { createTeam: ward } = await act(admin, 'create-team', ['TEAM_CREATED'], `mutation { createTeam(name: "Ward", autoCc: false) { id } }`);
    for (const member of [a, b]) {
      await act(admin2, 'add-member', ['TEAM_MEMBER_ADDED'], `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: ward.id, u: member.id });
    }
    await act(admin, 'auto-cc', ['TEAM_AUTO_CC_CHANGED'], `mutation($t: ID!) { setTeamAutoCc(teamId: $t, enabled: true) { id } }`, { t: ward.id });
    const share = `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`;
    await act(p, 'share-team', ['RECORD_SHARED'], share, { p: p.id, r: { teamId: ward.id } });
    await act(p, 'share-pro', ['RECORD_SHARED'], share, { p: p.id, r: { userId: c.id } });
    await act(admin, 'share-for-q', ['RECORD_SHARED'], share, { p: q.id, r: { userId: c.id } });
    const contactable = `mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id } }`;
    await act(c, 'not-contactable', ['CONTACTABLE_CHANGED'], contactable, { u: c.id, c: false });
    await act(admin, 'contactable', ['CONTACTABLE_CHANGED'], contactable, { u: c.id, c: true });

    // Thread data: the patient writes to the auto-CC team; its members answer, read, add, leave.
    const { createThread: t1 } = await act(p, 'create-thread', ['THREAD_CREATED', 'PARTICIPANT_ADDED', 'PARTICIPANT_ADDED', 'MESSAGE_SENT'], CREATE_THREAD, {
      s: 'Results',
      b: 'My results worry me',
      r: [{ teamId: ward.id }],
    });
    await act(a, 'send', ['MESSAGE_SENT'], SEND, { t: t1.id, b: 'Come in tomorrow' });
    await act(b, 'read', ['THREAD_READ'], THREAD, { t: t1.id });
    await act(a, 'mark-read', ['THREAD_MARKED_READ'], MARK, { t: t1.id });
    await act(a, 'add', ['PARTICIPANT_ADDED'], ADD, { t: t1.id, r: [{ userId: c.id }] });
    await act(c, 'read', ['THREAD_READ'], THREAD, { t: t1.id });
    await act(p, 'read', ['THREAD_READ'], `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`, { t: t1.id });
    await act(b, 'leave', ['PARTICIPANT_LEFT'], LEAVE, { t: t1.id });
    // A professional writes to the patient: the patient is a recipient, not the creator.
    const { createThread: t2 } = await act(a, 'create-thread', ['THREAD_CREATED', 'PARTICIPANT_ADDED', 'MESSAGE_SENT'], CREATE_THREAD, {
      s: 'Follow-up',
      b: 'How are you feeling?',
      r: [{ userId: p.id }],
    });
    await act(p, 'send', ['MESSAGE_SENT'], SEND, { t: t2.id, b: 'Better, thanks' });
    // One contactable member is below the default minimum of 2: the admin lowers it first.
    await act(admin, 'coverage', ['TEAM_COVERAGE_MINIMUM_CHANGED'], `mutation($t: ID!) { setTeamCoverageMinimum(teamId: $t, minimum: 1) { id } }`, { t: ward.id });
    await act(admin, 'remove-member', ['TEAM_MEMBER_REMOVED'], `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: ward.id, u: b.id });
    const disable = `mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id } }`;
    await act(admin, 'disable', ['USER_DISABLED'], disable, { u: q.id, d: true });
    await act(admin, 'enable', ['USER_ENABLED'], disable, { u: q.id, d: false });
    await act(admin2, 'trail', ['AUDIT_TRAIL_READ'], TRAIL, { t: t1.id });
    await act(admin, 'search', ['AUDIT_SEARCHED'], `query($t: ID!) { auditEvents(filter: { threadId: $t }) { edges { node { id } } } }`, { t: t1.id });
    // Neither reads thread data nor changes anything: no event.
    await act(c, 'me', [], `{ me { id teams { id } } }`);
    await act(p, 'threads-list', [], `{ threads { edges { node { id unreadCount } } } }`);

    // Every event has its hash once sealed, within a second: sealed now rather than waited for.
    await busy.app.auditSealer.sealAll(true);
    const events = after(await search({}, busy, admin.token), watermark);
    const teamIds = new Set([ward.id]);
    const viaWard = new Set([a.id, b.id]);
    const problems: string[] = [];
    for (const e of events) {
      const r = e.requestId ? requests.get(e.requestId) : undefined;
      if (!r) {
        problems.push(`event ${e.id} ${e.action} names request ${e.requestId}, which this test did not send`);
        continue;
      }
      const where = `event ${e.id} ${e.action} of ${r.label}`;
      const expectedTeam = e.threadId === t1.id && viaWard.has(e.actor.id) ? ward.id : null;
      const checks: [string, unknown, unknown][] = [
        ['actor', e.actor.id, r.who.id],
        ['actor is a team', teamIds.has(e.actor.id), false],
        ['actorRole', e.actorRole, roles.get(r.who.id)],
        ['actorTeam', e.actorTeam?.id ?? null, expectedTeam],
        ['outcome', e.outcome, 'SUCCESS'],
        ['reason', e.reason, null],
        ['at is ISO UTC', ISO_UTC.test(e.at), true],
        ['at within the request', Date.parse(e.at) >= r.start && Date.parse(e.at) <= r.end, true],
        ['clientIp', LOOPBACK.includes(e.clientIp ?? ''), true],
        ['userAgent', e.userAgent, r.userAgent],
        ['instanceId', e.instanceId, 'busy-world-instance'],
        ['hash', HEX64.test(e.hash), true],
      ];
      // Thread, message, subject and team where they apply.
      const threadAction = ['THREAD_CREATED', 'MESSAGE_SENT', 'THREAD_READ', 'THREAD_MARKED_READ', 'PARTICIPANT_ADDED', 'PARTICIPANT_LEFT', 'AUDIT_TRAIL_READ'].includes(e.action);
      checks.push(['threadId', threadAction ? [t1.id, t2.id].includes(e.threadId) : e.threadId === null || e.action === 'AUDIT_SEARCHED', true]);
      checks.push(['messageId', e.messageId !== null, e.action === 'MESSAGE_SENT']);
      const subjectAction = /^(PARTICIPANT_|TEAM_MEMBER_|USER_|CONTACTABLE_)/.test(e.action) || (e.action === 'RECORD_SHARED' && r.label === 'share-pro');
      checks.push(['subject', e.subject !== null, subjectAction || (e.action === 'RECORD_SHARED' && r.label === 'share-for-q')]);
      if (e.action.startsWith('TEAM_')) checks.push(['team', e.team?.id, ward.id]);
      for (const [what, actual, expected] of checks) if (actual !== expected) problems.push(`${where}: ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
    // Every request wrote exactly the events it should: nothing unaudited, nothing twice.
    for (const [requestId, r] of requests) {
      const actions = events.filter((e) => e.requestId === requestId).map((e) => e.action);
      if (JSON.stringify([...actions].sort()) !== JSON.stringify([...r.actions].sort())) {
        problems.push(`${r.label} (${requestId}) wrote ${JSON.stringify(actions)}, expected ${JSON.stringify(r.actions)}`);
      }
    }

    // The patients each event concerns: P's threads, P's account and P's shares; Q's account and share.
    const concerns = (patient: Person, e: AuditEventView) => {
      if (e.threadId === t1.id || e.threadId === t2.id) return patient === p;
      if (e.subject?.id === patient.id) return true; // USER_CREATED, USER_DISABLED, USER_ENABLED
      if (e.action === 'RECORD_SHARED') {
        const label = requests.get(e.requestId!)?.label ?? '';
        return patient === p ? ['share-team', 'share-pro'].includes(label) : label === 'share-for-q';
      }
      return false;
    };
    for (const patient of [p, q]) {
      const found = new Set(after(await search({ patientId: patient.id }, busy, admin.token), watermark).map((e) => e.id));
      const missing = events.filter((e) => concerns(patient, e) && !found.has(e.id)).map((e) => `${e.id} ${e.action} (${requests.get(e.requestId!)?.label})`);
      const extra = events.filter((e) => !concerns(patient, e) && found.has(e.id)).map((e) => `${e.id} ${e.action} (${requests.get(e.requestId!)?.label})`);
      if (missing.length) problems.push(`auditEvents(filter: { patientId: ${patient.name} }) misses ${missing.join(', ')}`);
      if (extra.length) problems.push(`auditEvents(filter: { patientId: ${patient.name} }) has events not about them: ${extra.join(', ')}`);
    }
    expect(problems).toEqual([]);
  }, 60_000);

  test('a request without X-Request-Id (or with one that is not a plain token) gets a new id, echoed and recorded', async () => {
    const { login } = await ok(busy.url, LOGIN, ADMIN);
    const watermark = await lastEventId(busy, login.token);
    const create = (i: number) => `mutation { createTeam(name: "Unnamed request ${i}") { id } }`;
    const sent = [
      await call(busy.url, create(1), {}, { token: login.token }),
      await call(busy.url, create(2), {}, { token: login.token }),
      await call(busy.url, create(3), {}, { token: login.token, requestId: 'has spaces in it' }),
      await call(busy.url, create(4), {}, { token: login.token, requestId: 'x'.repeat(65) }),
    ];
    for (const answer of sent) {
      expect(answer.errors).toBeUndefined();
      expect(answer.requestId).toMatch(UUID);
    }
    expect(new Set(sent.map((s) => s.requestId)).size).toBe(4);
    const events = after(await search({ action: 'TEAM_CREATED' }, busy, login.token), watermark).reverse();
    expect(events.map((e) => e.requestId)).toEqual(sent.map((s) => s.requestId));
    expect(events.every((e) => e.userAgent === 'node' || e.userAgent?.startsWith('undici') || e.userAgent !== null)).toBe(true);

    // A refused request carries its id too (here: one that is not even valid GraphQL).
    const refused = await call(busy.url, '{ nope', {}, { requestId: 'refused-request-1' });
    expect(refused.status).toBe(400);
    expect(refused.requestId).toBe('refused-request-1');
  });
});

describe('1a. the client IP is the socket peer, or what a trusted proxy says (TRUST_PROXY)', () => {
  test('X-Forwarded-For is ignored by default and believed from a trusted proxy, over HTTP and graphql-ws', async () => {
    const trusting = await startTestServer({ INSTANCE_ID: 'behind-proxy', TRUST_PROXY: 'loopback' });
    try {
      for (const [on, expected] of [
        [server, 'socket'],
        [trusting, '203.0.113.9'],
      ] as const) {
        const w = on === server ? world : await World.create(on);
        const a = await w.professional('Proxied A');
        const b = await w.professional('Proxied B');
        const thread = await w.thread(a, [asRecipient(b)]);
        const watermark = await lastEventId(on, w.admin.token);
        const answer = await call(on.url, THREAD, { t: thread }, { token: b.token, requestId: `proxied-${expected}` });
        expect(answer.errors).toBeUndefined();
        await fetch(on.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}`, 'x-forwarded-for': '203.0.113.9' },
          body: JSON.stringify({ query: THREAD, variables: { t: thread } }),
        });
        const client = wsClient(on.wsUrl, b.token, { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'Proxied/1' });
        try {
          expect((await wsRun(client, THREAD, { t: thread })).errors).toEqual([]);
        } finally {
          await client.dispose();
        }
        const reads = after(await search({ threadId: thread, action: 'THREAD_READ' }, on, w.admin.token), watermark).reverse();
        expect(reads).toHaveLength(3);
        // The first request sent no X-Forwarded-For: always the socket peer.
        expect(LOOPBACK).toContain(reads[0].clientIp);
        for (const read of reads.slice(1)) {
          if (expected === 'socket') expect(LOOPBACK).toContain(read.clientIp);
          else expect(read.clientIp).toBe(expected);
        }
      }
    } finally {
      await trusting.close();
    }
  });
});

describe('1b. the two details of the busy world, one at a time', () => {
  test('PARTICIPANT_LEFT names the team the leaver was in the thread through (actorTeam)', async () => {
    const { a, team, thread } = await careTeam('Leaving member');
    await world.leave(a, thread);
    const [left] = await search({ threadId: thread, action: 'PARTICIPANT_LEFT' });
    expect(left).toMatchObject({ actor: { id: a.id }, subject: { id: a.id }, actorTeam: { id: team.id } });
  });

  test('THREAD_CREATED concerns a patient who is a recipient of the new thread, not only one who created it', async () => {
    const { a, pat } = await careTeam('Written to');
    const thread = await world.thread(a, [{ userId: pat.id }], 'How are you?');
    const created = await search({ threadId: thread, action: 'THREAD_CREATED' });
    expect(created).toHaveLength(1);
    expect((await search({ patientId: pat.id, threadId: thread })).map((e) => e.action)).toContain('THREAD_CREATED');
  });
});

// ---------------------------------------------------------------------------

describe('2. over graphql-ws, each operation is a request of its own', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  test("a query's THREAD_READ and a refused subscription's DENIED carry the upgrade's user agent and a request id per operation", async () => {
    const { a, pat, thread } = await careTeam('Ws');
    const outsider = await world.professional('Ws outsider');
    const userAgent = 'CareThreadDashboard/2.1 (ws test)';
    const watermark = await lastEventId();
    const client = wsClient(server.wsUrl, a.token, { 'user-agent': userAgent });
    clients.push(client);

    const before = Date.now();
    const first = await wsRun(client, THREAD, { t: thread });
    const second = await wsRun(client, `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`, { t: thread });
    const refusedClient = wsClient(server.wsUrl, outsider.token, { 'user-agent': 'Outsider/1' });
    clients.push(refusedClient);
    const refused = await wsRun(refusedClient, MESSAGE_ADDED, { t: thread });
    const done = Date.now();
    expect(first.errors).toEqual([]);
    expect(first.data.thread.messages.edges).toHaveLength(1);
    expect(second.errors).toEqual([]);
    expect(refused.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);

    const events = after(await search({ threadId: thread }), watermark).reverse();
    expect(events.map((e) => [e.action, e.outcome, e.actor.id])).toEqual([
      ['THREAD_READ', 'SUCCESS', a.id],
      ['THREAD_READ', 'SUCCESS', a.id],
      ['THREAD_READ', 'DENIED', outsider.id],
    ]);
    for (const e of events) {
      expect(e.requestId).toMatch(UUID);
      expect(LOOPBACK).toContain(e.clientIp);
      expect(e.instanceId).toBe(INSTANCE_ID);
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(e.at)).toBeLessThanOrEqual(done);
    }
    expect(events.map((e) => e.userAgent)).toEqual([userAgent, userAgent, 'Outsider/1']);
    // Two operations on one socket are two requests.
    expect(new Set(events.map((e) => e.requestId)).size).toBe(3);
    expect(events[0].actorTeam).not.toBeNull();
    expect(events[2]).toMatchObject({ reason: 'NOT_FOUND: Thread not found', actorRole: 'PROFESSIONAL', actorTeam: null });
    // The patient's data: every one of these concerns them.
    const forPatient = new Set((await search({ patientId: pat.id })).map((e) => e.id));
    expect(events.every((e) => forPatient.has(e.id))).toBe(true);
  });

  test('a mutation over graphql-ws is recorded with the socket origin as well', async () => {
    const { a, thread } = await careTeam('Ws send');
    const client = wsClient(server.wsUrl, a.token, { 'user-agent': 'WsSender/1' });
    clients.push(client);
    const watermark = await lastEventId();
    const sent = await wsRun(client, SEND, { t: thread, b: 'over the socket' });
    expect(sent.errors).toEqual([]);
    const [event] = after(await search({ threadId: thread, action: 'MESSAGE_SENT' }), watermark);
    expect(event).toMatchObject({ messageId: sent.data.sendMessage.id, userAgent: 'WsSender/1', instanceId: INSTANCE_ID, actor: { id: a.id } });
    expect(event.requestId).toMatch(UUID);
  });
});

// ---------------------------------------------------------------------------

describe('3. a read is recorded before the data goes out; if the record cannot be written, the read fails', () => {
  let failing: TestServer;
  let fw: World;
  const logged: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    failing = await startTestServer({ INSTANCE_ID: 'failing-audit-instance' }, { logger: pino({ level: 'error' }, stream) });
    fw = await World.create(failing);
  });
  afterAll(() => failing?.close());

  test('thread.messages (and the subject, and lastMessage) return an error and no data while THREAD_READ cannot be stored', async () => {
    const a = await fw.professional('Failing A');
    const b = await fw.professional('Failing B');
    const thread = await fw.thread(a, [asRecipient(b)], 'Secret body 123', 'Secret subject 456');
    const restore = await failAuditInserts(failing, 'THREAD_READ');
    try {
      for (const query of [
        THREAD,
        `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`,
        `query($t: ID!) { thread(id: $t) { subject } }`,
        `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`,
        `{ threads { edges { node { id lastMessage { body } } } } }`,
      ]) {
        const answer = await call(failing.url, query, { t: thread }, { token: b.token });
        expect(answer.errors?.length).toBeGreaterThan(0);
        expect(answer.text).not.toContain('Secret body 123');
        expect(answer.text).not.toContain('Secret subject 456');
        expect(answer.text).not.toContain('audit store unavailable');
      }
      // The same over graphql-ws.
      const client = connect(failing.wsUrl, b.token);
      try {
        const overWs = await wsRun(client, THREAD, { t: thread });
        expect(overWs.errors.length).toBeGreaterThan(0);
        expect(JSON.stringify(overWs)).not.toContain('Secret body 123');
      } finally {
        await client.dispose();
      }
    } finally {
      await restore();
    }
    // Nothing was recorded as read, and with the store back the same read works and is recorded.
    const readsBefore = await auditEvents(failing.url, fw.admin.token, { threadId: thread, action: 'THREAD_READ' });
    expect(readsBefore).toEqual([]);
    const answer = await call(failing.url, THREAD, { t: thread }, { token: b.token });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.thread.messages.edges[0].node.body).toBe('Secret body 123');
    const reads = await auditEvents(failing.url, fw.admin.token, { threadId: thread, action: 'THREAD_READ' });
    expect(reads.map((e) => [e.actor.id, e.requestId])).toEqual([[b.id, answer.requestId]]);
  });

  test('a change whose event cannot be stored is not made (same transaction)', async () => {
    const a = await fw.professional('Failing sender');
    const b = await fw.professional('Failing reader');
    const thread = await fw.thread(a, [asRecipient(b)], 'First');
    const restore = await failAuditInserts(failing, 'MESSAGE_SENT');
    try {
      const answer = await call(failing.url, SEND, { t: thread, b: 'Never stored' }, { token: a.token });
      expect(answer.errors?.length).toBeGreaterThan(0);
    } finally {
      await restore();
    }
    const { thread: read } = await fw.as(b, THREAD, { t: thread });
    expect(read.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['First']);
  });

  // Live deliveries are recorded once pushed, in the background (a subscriber never waits for the
  // audit chain): a disclosure that cannot be stored is logged as an error, naming the message.
  test('a live delivery whose disclosure cannot be stored is logged as an error (and the next one is recorded again)', async () => {
    const a = await fw.professional('Live sender');
    const b = await fw.professional('Live receiver');
    const thread = await fw.thread(a, [asRecipient(b)], 'First');
    const client = connect(failing.wsUrl, b.token);
    try {
      const feed = subscribe(client, MESSAGE_ADDED, { t: thread });
      await untilSubscribed(failing, 1);
      const restore = await failAuditInserts(failing, 'MESSAGE_DELIVERED');
      let lost: string;
      try {
        lost = await fw.send(a, thread, 'Pushed while the audit store is down');
        await feed.waitFor(1);
        await until(() => logged.some((line) => line.messageId === lost));
        await failing.app.audit.settled();
      } finally {
        await restore();
      }
      const error = logged.find((line) => line.messageId === lost)!;
      expect(error).toMatchObject({ level: 50, userIds: [b.id], msg: expect.stringMatching(/audit/) });
      expect(await auditEvents(failing.url, fw.admin.token, { action: 'MESSAGE_DELIVERED', threadId: thread })).toEqual([]);
      // With the store back, the next delivery is recorded.
      const next = await fw.send(a, thread, 'Recorded again');
      await feed.waitFor(2);
      await deliveriesRecorded(failing, next, 1);
      expect((await auditEvents(failing.url, fw.admin.token, { action: 'MESSAGE_DELIVERED', threadId: thread })).map((e) => e.messageId)).toEqual([next]);
    } finally {
      await client.dispose();
    }
  });
});

// ---------------------------------------------------------------------------

describe('4. refused attempts on a thread are recorded (DENIED, why, who); anonymous ones are not', () => {
  test('NOT_FOUND on thread, auditTrail, sendMessage, addParticipants, leaveThread, markThreadRead and messageAdded(threadId)', async () => {
    const { a, pat, thread } = await careTeam('Denied');
    const outsider = await world.professional('Denied outsider');
    const colleague = await world.professional('Denied colleague');
    const watermark = await lastEventId();

    const attempts: [string, string, Record<string, unknown>][] = [
      ['THREAD_READ', THREAD, { t: thread }],
      ['AUDIT_TRAIL_READ', TRAIL, { t: thread }],
      ['MESSAGE_SENT', SEND, { t: thread, b: 'let me in' }],
      ['PARTICIPANT_ADDED', ADD, { t: thread, r: [asRecipient(colleague)] }],
      ['PARTICIPANT_LEFT', LEAVE, { t: thread }],
      ['THREAD_MARKED_READ', MARK, { t: thread }],
    ];
    const requestIds: string[] = [];
    for (const [action, query, variables] of attempts) {
      const answer = await call(server.url, query, variables, { token: outsider.token, requestId: `denied-${action}`, userAgent: 'Prying/1' });
      expect({ action, codes: codesOf(answer), data: answer.data?.thread ?? null }).toEqual({ action, codes: ['NOT_FOUND'], data: null });
      requestIds.push(answer.requestId!);
    }
    const client = wsClient(server.wsUrl, outsider.token, { 'user-agent': 'Prying/1' });
    try {
      expect((await wsRun(client, MESSAGE_ADDED, { t: thread })).errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    } finally {
      await client.dispose();
    }

    const denied = after(await search({ actorId: outsider.id }), watermark).reverse();
    expect(denied.map((e) => e.action)).toEqual([...attempts.map(([action]) => action), 'THREAD_READ']);
    for (const e of denied) {
      expect(e).toMatchObject({
        outcome: 'DENIED',
        reason: 'NOT_FOUND: Thread not found',
        threadId: thread,
        actor: { id: outsider.id },
        actorRole: 'PROFESSIONAL',
        actorTeam: null,
        userAgent: 'Prying/1',
        instanceId: INSTANCE_ID,
      });
    }
    expect(denied.slice(0, attempts.length).map((e) => e.requestId)).toEqual(requestIds);
    expect(denied[attempts.length].requestId).toMatch(UUID);
    // The attempts concern the patient, and the outcome filter finds them.
    const forPatient = new Set((await search({ patientId: pat.id, outcome: 'DENIED' })).map((e) => e.id));
    expect(denied.every((e) => forPatient.has(e.id))).toBe(true);
    // Nothing else was written for them: the thread's own trail shows no success by the outsider.
    expect((await search({ threadId: thread, actorId: outsider.id, outcome: 'SUCCESS' })).length).toBe(0);
    // The participant's own events are untouched.
    expect((await search({ threadId: thread, outcome: 'DENIED' })).every((e) => e.actor.id !== a.id)).toBe(true);
  });

  test('someone who left is refused and recorded like anyone else; a thread that does not exist is recorded under the id tried', async () => {
    const { b, thread } = await careTeam('Left');
    await world.leave(b, thread);
    const watermark = await lastEventId();
    expect(codesOf(await call(server.url, SEND, { t: thread, b: 'still here?' }, { token: b.token }))).toEqual(['NOT_FOUND']);
    const missing = '00000000-0000-4000-8000-00000000abcd';
    expect(codesOf(await call(server.url, THREAD, { t: missing }, { token: b.token }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await call(server.url, TRAIL, { t: missing }, { token: adminToken }))).toEqual(['NOT_FOUND']);
    const events = after(await search({ outcome: 'DENIED' }), watermark).reverse();
    expect(events.map((e) => [e.action, e.threadId, e.actor.id, e.actorRole])).toEqual([
      ['MESSAGE_SENT', thread, b.id, 'PROFESSIONAL'],
      ['THREAD_READ', missing, b.id, 'PROFESSIONAL'],
      ['AUDIT_TRAIL_READ', missing, world.admin.id, 'ADMIN'],
    ]);
    expect(events[0].actorTeam).toBeNull();
  });

  test('anonymous attempts (no token, or a bad one) are refused with UNAUTHENTICATED and write nothing', async () => {
    const { thread } = await careTeam('Anonymous');
    const watermark = await lastEventId();
    for (const token of [null, 'not-a-token']) {
      for (const [query, variables] of [
        [THREAD, { t: thread }],
        [TRAIL, { t: thread }],
        [SEND, { t: thread, b: 'anonymous' }],
        [LEAVE, { t: thread }],
        [MARK, { t: thread }],
        [ADD, { t: thread, r: [] }],
      ] as const) {
        expect(codesOf(await call(server.url, query, variables, { token }))).toEqual(['UNAUTHENTICATED']);
      }
    }
    expect(after(await search(), watermark)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('5. live deliveries are recorded as disclosures: one MESSAGE_DELIVERED per message, listing who got it pushed', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await until(() => server.live.size === 0 && server.app.liveSessions.size === 0);
  });
  const online = (who: Person) => {
    const client = connect(server.wsUrl, who.token);
    clients.push(client);
    return client;
  };
  /** The recipients stored with an event (the schema shows them per patient, in the access log). */
  const recipientsOf = async (eventId: string): Promise<string[]> => {
    const row = await server.app.db.getRepository(AuditEvent).findOneByOrFail({ id: Number(eventId) });
    return (JSON.parse(row.recipients ?? '[]') as { id: string }[]).map((r) => r.id).sort();
  };

  test('several users on messageAdded and threadActivity; one holding both is listed once; outsiders and the unsubscribed are not', async () => {
    const { a, b, team, pat, thread } = await careTeam('Live');
    const gp = await world.professional('Live GP');
    await world.share(pat, gp);
    await world.addParticipants(pat, thread, [gp]);
    // In the team, not in the thread (joining the team joined it; they left it) and subscribed: never a recipient.
    const lateMember = await world.professional('Live late member');
    await world.addMember(team, lateMember);
    await world.leave(lateMember, thread);
    const outsider = await world.professional('Live outsider');

    const feeds: { who: Person; feed: Feed<any> }[] = [
      { who: pat, feed: subscribe(online(pat), MESSAGE_ADDED) },
      { who: a, feed: subscribe(online(a), ACTIVITY) },
      { who: gp, feed: subscribe(online(gp), MESSAGE_ADDED, { t: thread }) },
    ];
    const bClient = online(b);
    feeds.push({ who: b, feed: subscribe(bClient, MESSAGE_ADDED) }, { who: b, feed: subscribe(bClient, ACTIVITY) });
    const outsiderFeed = subscribe(online(outsider), MESSAGE_ADDED);
    const lateFeed = subscribe(online(lateMember), ACTIVITY);
    await untilSubscribed(server, 7);

    const watermark = await lastEventId();
    const messageId = await world.send(pat, thread, 'Disclosed live');
    await Promise.all(feeds.map(({ feed }) => until(() => feed.received.some((r) => (r.messageAdded ?? r.threadActivity?.message)?.id === messageId))));
    for (const client of clients) await settle(client);
    await deliveriesRecorded(server, messageId, 4);
    expect(outsiderFeed.received).toEqual([]);
    expect(lateFeed.received).toEqual([]);

    const delivered = after(await search({ action: 'MESSAGE_DELIVERED' }), watermark);
    expect(delivered).toHaveLength(1);
    const [event] = delivered;
    expect(event).toMatchObject({ messageId, threadId: thread, outcome: 'SUCCESS', actor: { id: pat.id }, actorRole: 'PATIENT', instanceId: INSTANCE_ID });
    expect(await recipientsOf(event.id)).toEqual([pat.id, a.id, b.id, gp.id].sort());
    // It concerns the patient, and the admin finds it by message thread and patient.
    expect((await search({ patientId: pat.id, action: 'MESSAGE_DELIVERED' })).map((e) => e.id)).toContain(event.id);
  });

  test('several messages at once: still exactly one event per message, each listing every subscriber', async () => {
    const { a, b, pat, thread } = await careTeam('Burst');
    const feeds = [pat, a, b].map((who) => ({ who, feed: subscribe(online(who), MESSAGE_ADDED) }));
    const second = subscribe(online(b), MESSAGE_ADDED, { t: thread }); // b again, on another socket
    await untilSubscribed(server, 4);
    const watermark = await lastEventId();
    const ids = await Promise.all(['one', 'two', 'three', 'four'].map((body, i) => world.send([pat, a, b, pat][i], thread, body)));
    await Promise.all([...feeds.map(({ feed }) => feed.waitFor(4)), second.waitFor(4)]);
    for (const client of clients) await settle(client);
    for (const id of ids) await deliveriesRecorded(server, id, 3);

    const delivered = after(await search({ action: 'MESSAGE_DELIVERED', threadId: thread }), watermark);
    expect(delivered.map((e) => e.messageId).sort()).toEqual([...ids].sort());
    for (const event of delivered) expect(await recipientsOf(event.id)).toEqual([pat.id, a.id, b.id].sort());
  });

  test('a message nobody is subscribed to is not recorded as delivered', async () => {
    const { a, thread } = await careTeam('Unwatched');
    const watermark = await lastEventId();
    await world.send(a, thread, 'Nobody is listening');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.app.audit.settled();
    expect(after(await search({ action: 'MESSAGE_DELIVERED' }), watermark)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('7. admin audit search', () => {
  let s: TestServer;
  let w: World;
  /** Every event of the world, newest first, read before the filter checks. */
  let all: AuditEventView[];
  let max: number;
  let people: { p: Person; q: Person; a: Person; b: Person; outsider: Person; team: TeamRef; t1: string; t2: string; tq: string };

  beforeAll(async () => {
    s = await startTestServer({ INSTANCE_ID: 'search-instance' });
    w = await World.create(s);
    const a = await w.professional('Search A');
    const b = await w.professional('Search B');
    const outsider = await w.professional('Search outsider');
    const gp = await w.professional('Search GP');
    const team = await w.team('Search team', { autoCc: true, members: [a, b] });
    const p = await w.patient('Search P');
    const q = await w.patient('Search Q');
    await w.share(p, team);
    await w.share(q, team);
    await w.share(p, gp);
    const t1 = await w.thread(p, [asRecipient(team)], 'p one');
    await new Promise((resolve) => setTimeout(resolve, 15));
    await w.send(a, t1, 'answer');
    await w.as(b, THREAD, { t: t1 });
    const t2 = await w.thread(p, [asRecipient(gp)], 'p two');
    await new Promise((resolve) => setTimeout(resolve, 15));
    const tq = await w.thread(q, [asRecipient(team)], 'q one');
    await w.as(a, THREAD, { t: tq });
    await w.as(a, MARK, { t: tq });
    await call(s.url, THREAD, { t: t1 }, { token: outsider.token });
    await call(s.url, SEND, { t: tq, b: 'no' }, { token: outsider.token });
    await w.leave(b, t1);
    people = { p, q, a, b, outsider, team, t1, t2, tq };
    all = await auditEvents(s.url, w.admin.token);
    max = Math.max(...all.map((e) => Number(e.id)));
  }, 30_000);
  afterAll(() => s?.close());

  /** Events matching `filter` up to the world's last one (later ones are the searches of this test). */
  const found = async (filter: AuditFilter, pageSize = 100) => (await auditEvents(s.url, w.admin.token, filter, { pageSize })).filter((e) => Number(e.id) <= max);
  const ids = (events: AuditEventView[]) => events.map((e) => e.id);

  test('the whole trail is newest first, ids unique', () => {
    const numbers = all.map((e) => Number(e.id));
    expect(numbers).toEqual([...numbers].sort((x, y) => y - x));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(all.length).toBeGreaterThan(20);
  });

  test('each filter narrows to exactly the matching events, and filters combine', async () => {
    const { p, q, a, outsider, t1, tq } = people;
    const cases: [AuditFilter, (e: AuditEventView) => boolean][] = [
      [{ actorId: a.id }, (e) => e.actor.id === a.id],
      [{ actorId: outsider.id }, (e) => e.actor.id === outsider.id],
      [{ threadId: t1 }, (e) => e.threadId === t1],
      [{ threadId: tq }, (e) => e.threadId === tq],
      [{ action: 'MESSAGE_SENT' }, (e) => e.action === 'MESSAGE_SENT'],
      [{ action: 'THREAD_READ' }, (e) => e.action === 'THREAD_READ'],
      [{ outcome: 'DENIED' }, (e) => e.outcome === 'DENIED'],
      [{ outcome: 'SUCCESS' }, (e) => e.outcome === 'SUCCESS'],
      [{ actorId: a.id, threadId: tq }, (e) => e.actor.id === a.id && e.threadId === tq],
      [{ action: 'THREAD_READ', outcome: 'DENIED' }, (e) => e.action === 'THREAD_READ' && e.outcome === 'DENIED'],
      [{ patientId: p.id, action: 'MESSAGE_SENT' }, (e) => e.action === 'MESSAGE_SENT' && (e.threadId === t1 || e.threadId === people.t2)],
      [{ patientId: q.id, threadId: t1 }, () => false],
    ];
    for (const [filter, matches] of cases) {
      const expected = all.filter(matches);
      expect({ filter, ids: ids(await found(filter)) }).toEqual({ filter, ids: ids(expected) });
    }
    expect(all.filter((e) => e.outcome === 'DENIED')).toHaveLength(2);
  });

  test('patientId: the events of their threads, their account and their shares, nobody else’s', async () => {
    const { p, q, t1, t2, tq } = people;
    const concerns = (patient: Person, threads: string[]) => (e: AuditEventView) =>
      (e.threadId !== null && threads.includes(e.threadId)) || e.subject?.id === patient.id || (e.action === 'RECORD_SHARED' && e.actor.id === patient.id);
    expect(ids(await found({ patientId: p.id }))).toEqual(ids(all.filter(concerns(p, [t1, t2]))));
    expect(ids(await found({ patientId: q.id }))).toEqual(ids(all.filter(concerns(q, [tq]))));
    expect(await found({ patientId: people.a.id })).toEqual([]);
  });

  test('from and to are inclusive bounds on the server time', async () => {
    const times = [...new Set(all.map((e) => e.at))].sort();
    expect(times.length).toBeGreaterThan(5);
    const from = times[Math.floor(times.length / 3)];
    const to = times[Math.floor((2 * times.length) / 3)];
    const at = (e: AuditEventView) => Date.parse(e.at);
    expect(ids(await found({ from }))).toEqual(ids(all.filter((e) => at(e) >= Date.parse(from))));
    expect(ids(await found({ to }))).toEqual(ids(all.filter((e) => at(e) <= Date.parse(to))));
    expect(ids(await found({ from, to }))).toEqual(ids(all.filter((e) => at(e) >= Date.parse(from) && at(e) <= Date.parse(to))));
    expect(ids(await found({ from: to, to: to }))).toEqual(ids(all.filter((e) => e.at === to)));
    const backwards = await call(s.url, `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { node { id } } } }`, { f: { from: to, to: from } }, { token: w.admin.token });
    expect(codesOf(backwards)).toEqual(from === to ? [] : ['BAD_USER_INPUT']);
    // A time range combined with another filter.
    expect(ids(await found({ from, to, actorId: people.a.id }))).toEqual(
      ids(all.filter((e) => at(e) >= Date.parse(from) && at(e) <= Date.parse(to) && e.actor.id === people.a.id)),
    );
  });

  test('cursor pagination: small pages give every event exactly once, newest first, even while new events arrive', async () => {
    for (const [filter, size] of [
      [{ actorId: people.a.id }, 1],
      [{}, 7],
      [{ threadId: people.t1 }, 2],
      [{ patientId: people.p.id }, 3],
    ] as [AuditFilter, number][]) {
      const paged = await found(filter, size);
      const whole = await found(filter, 100);
      expect(new Set(ids(paged)).size).toBe(paged.length);
      expect(ids(paged)).toEqual(ids(whole));
    }
    const first = await call(s.url, `query { auditEvents(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, {}, { token: w.admin.token });
    const { edges, pageInfo } = first.data.auditEvents;
    expect(pageInfo).toEqual({ hasNextPage: true, endCursor: edges[1].cursor });
    // Cursors are opaque; one made up (out of range, not a whole number) is bad input, on PostgreSQL too.
    const made = (keys: unknown[]) => Buffer.from(JSON.stringify(keys)).toString('base64url');
    const madeUp = [[1e300], [1.5], [-1], ['7'], [1, 2]].map((keys) => ({ first: 5, after: made(keys) }));
    for (const bad of [{ first: 0 }, { first: 101 }, { first: 5, after: 'garbage' }, ...madeUp]) {
      expect(codesOf(await call(s.url, `query($first: Int, $after: String) { auditEvents(first: $first, after: $after) { edges { node { id } } } }`, bad, { token: w.admin.token }))).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
  });

  test('non-admins get FORBIDDEN, anonymous UNAUTHENTICATED; an unknown action is BAD_USER_INPUT', async () => {
    const query = `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { node { id } } } }`;
    for (const who of [people.p, people.a, people.outsider]) {
      const answer = await call(s.url, query, { f: { threadId: people.t1 } }, { token: who.token });
      expect(codesOf(answer)).toEqual(['FORBIDDEN']);
      expect(answer.data?.auditEvents ?? null).toBeNull();
    }
    expect(codesOf(await call(s.url, query, {}))).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await call(s.url, query, { f: { action: 'THREAD_EATEN' } }, { token: w.admin.token }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await call(s.url, query, { f: { action: 'thread_read' } }, { token: w.admin.token }))).toEqual(['BAD_USER_INPUT']);
  });

  test('every search is itself recorded (AUDIT_SEARCHED: who, which thread, which patient, the request)', async () => {
    const admin2 = await w.professional('Search admin 2', { isAdmin: true, contactable: false });
    const answer = await call(
      s.url,
      `query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { node { id } } } }`,
      { f: { threadId: people.t1, patientId: people.p.id } },
      { token: admin2.token, requestId: 'search-audited-1', userAgent: 'AuditorTool/3' },
    );
    expect(answer.errors).toBeUndefined();
    const searches = await auditEvents(s.url, w.admin.token, { actorId: admin2.id, action: 'AUDIT_SEARCHED' });
    expect(searches).toHaveLength(1);
    expect(searches[0]).toMatchObject({
      actorRole: 'ADMIN',
      threadId: people.t1,
      requestId: 'search-audited-1',
      userAgent: 'AuditorTool/3',
      outcome: 'SUCCESS',
      instanceId: 'search-instance',
    });
    expect((await auditEvents(s.url, w.admin.token, { patientId: people.p.id, action: 'AUDIT_SEARCHED' })).map((e) => e.id)).toContain(searches[0].id);
  });
});

// ---------------------------------------------------------------------------

describe('8. auditTrail keeps its contract and gains the new fields', () => {
  const CONTRACT = `id at actor { id } action threadId messageId subject { id }`;
  const NEW = `actorRole outcome reason hash actorTeam { id } team { id } requestId clientIp userAgent instanceId`;
  const FULL = `query($t: ID!) { auditTrail(threadId: $t) { ${CONTRACT} ${NEW} } }`;

  test('participants see every field but the request, client and instance (null); admins see those too', async () => {
    const { a, b, team, pat, thread } = await careTeam('Trail');
    await call(server.url, SEND, { t: thread, b: 'reply' }, { token: a.token, requestId: 'trail-send-1', userAgent: 'TrailClient/1' });
    await world.as(b, THREAD, { t: thread });
    await server.app.auditSealer.sealAll(true);

    // The contract's query still answers as before.
    const contract = await world.as(pat, `query($t: ID!) { auditTrail(threadId: $t) { ${CONTRACT} } }`, { t: thread });
    expect(contract.auditTrail.length).toBeGreaterThan(4);
    for (const e of contract.auditTrail) expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'at', 'id', 'messageId', 'subject', 'threadId']);

    for (const who of [pat, a]) {
      await server.app.auditSealer.sealAll(true);
      const { auditTrail } = await world.as(who, FULL, { t: thread });
      for (const e of auditTrail) {
        expect(e).toMatchObject({ requestId: null, clientIp: null, userAgent: null, instanceId: null, outcome: 'SUCCESS', reason: null });
        expect(e.hash).toMatch(HEX64);
        expect(['PATIENT', 'PROFESSIONAL', 'ADMIN']).toContain(e.actorRole);
        expect(e.at).toMatch(ISO_UTC);
      }
      const sent = auditTrail.find((e: any) => e.action === 'MESSAGE_SENT' && e.actor.id === a.id);
      expect(sent).toMatchObject({ actorRole: 'PROFESSIONAL', actorTeam: { id: team.id } });
      const created = auditTrail.find((e: any) => e.action === 'THREAD_CREATED');
      expect(created).toMatchObject({ actorRole: 'PATIENT', actorTeam: null, actor: { id: pat.id } });
      const added = auditTrail.filter((e: any) => e.action === 'PARTICIPANT_ADDED');
      expect(added.map((e: any) => e.team?.id)).toEqual([team.id, team.id]);
    }

    await server.app.auditSealer.sealAll(true);
    const { auditTrail } = await world.as(world.admin, FULL, { t: thread });
    const sent = auditTrail.find((e: any) => e.action === 'MESSAGE_SENT' && e.actor.id === a.id);
    expect(sent).toMatchObject({ requestId: 'trail-send-1', userAgent: 'TrailClient/1', instanceId: INSTANCE_ID });
    expect(LOOPBACK).toContain(sent.clientIp);
    // Oldest first, and the same events (and hashes) the admin search shows.
    const viaSearch = (await search({ threadId: thread })).reverse();
    const trailIds = auditTrail.map((e: any) => e.id);
    expect(viaSearch.map((e) => e.id).slice(0, trailIds.length)).toEqual(trailIds);
    expect(viaSearch.slice(0, trailIds.length).map((e) => e.hash)).toEqual(auditTrail.map((e: any) => e.hash));
  });
});
