import { globalAgent } from 'node:https';
import { decodeJwt } from 'jose';
import { DateTime } from 'luxon';
import { Session } from '../src/modules/auth/session.entity';
import webpush from 'web-push';
import { HOUR, MINUTE, TestClock } from './support/clock';
import { codes, ok } from './support/graphql';
import { connect, subscribe, until } from './support/live';
import { startMailCatcher, type MailCatcher } from './support/mail-catcher';
import { scrape, total } from './support/metrics';
import { startPushEndpoint, type PushEndpoint } from './support/push-endpoint';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, PASSWORD, signIn, World, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// Notifications through real servers, a real SMTP server (smtp-server) and a
// real Web Push endpoint that decrypts what it receives. Message times are
// real; the notifier reads a TestClock that the tests move forward, and its
// rounds are run by the tests (runDue) rather than by its timer.

const clock = new TestClock();
const vapid = webpush.generateVAPIDKeys();
let mail: MailCatcher;
let push: PushEndpoint;
let server: TestServer;
let world: World;

const SETTINGS = `{ channels available delayMinutes quietHours { start end timeZone } pushDevices }`;
const GET = `query { notificationSettings ${SETTINGS} }`;
const UPDATE = `mutation($i: NotificationSettingsInput!) { updateNotificationSettings(input: $i) ${SETTINGS} }`;
const REGISTER = `mutation($s: PushSubscriptionInput!) { registerPushSubscription(subscription: $s) ${SETTINGS} }`;
const MARK_READ = `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`;
const ACCESS_LOG = `query { myAccessLog(first: 100) { edges { node { action who { id } threadId } } } }`;
const AUDIT = `query($t: ID) { auditEvents(filter: { action: "NOTIFICATION_SENT", threadId: $t }, first: 100) { edges { node { actor { id } channel threadId messageId } } } }`;

beforeAll(async () => {
  [mail, push] = await Promise.all([startMailCatcher(), startPushEndpoint()]);
  // The push endpoint's certificate is made for this run; the server pushes through the default agent.
  globalAgent.options.ca = push.ca;
  server = await startTestServer(
    { SMTP_URL: mail.url, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@clinic.example', PUSH_SERVICE_HOSTS: '127.0.0.1', NOTIFY_POLL_MS: '3600000' },
    { clock },
  );
  world = await World.create(server);
});
afterAll(async () => {
  await server?.close();
  await Promise.all([mail?.close(), push?.close()]);
  globalAgent.options.ca = undefined;
});
beforeEach(() => clock.reset());

const run = () => server.app.notifier!.runDue();
const mailsTo = (person: Person) => mail.mails.filter((m) => m.to.includes(person.email));

/** A patient's thread with a professional, the patient's message waiting. */
async function patientWrites(label: string) {
  const doctor = await world.professional(`Dr ${label}`);
  const patient = await world.patient(`Patient ${label}`);
  await world.share(patient, doctor);
  const threadId = await world.thread(patient, [asRecipient(doctor)], `Symptoms of ${label}`, `About ${label}`);
  return { doctor, patient, threadId };
}

test('a message unread after the delay is told by a generic e-mail with a one-click unsubscribe, audited as NOTIFICATION_SENT', async () => {
  const { doctor, patient, threadId } = await patientWrites('delay');
  expect(await run()).toBe(0);
  clock.advance(4 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(2 * MINUTE);
  expect(await run()).toBe(1);
  const [sent] = mailsTo(doctor);
  expect(sent.subject).toBe('A secure message is waiting for you');
  expect(sent.text).toContain('/app');
  expect(sent.headers.get('list-unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/notifications\/unsubscribe\?token=[\w.-]+>$/);
  expect(sent.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
  expect(mailsTo(patient)).toHaveLength(0);

  const events = (await ok(server.url, AUDIT, { t: threadId }, world.admin.token)).auditEvents.edges.map((e: any) => e.node);
  expect(events).toEqual([expect.objectContaining({ actor: { id: doctor.id }, channel: 'EMAIL', threadId, messageId: expect.any(String) })]);
  // The patient sees who was told, and nothing of how.
  const log = (await ok(server.url, ACCESS_LOG, {}, patient.token)).myAccessLog.edges.map((e: any) => e.node);
  expect(log).toContainEqual({ action: 'NOTIFICATION_SENT', who: { id: doctor.id }, threadId });
});

test('one notification per thread per window, however many messages: the next after the window covers what came since', async () => {
  const { doctor, patient, threadId } = await patientWrites('digest');
  await world.send(patient, threadId, 'second');
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(1);
  await world.send(patient, threadId, 'third');
  clock.advance(30 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(31 * MINUTE);
  expect(await run()).toBe(1);
  expect(mailsTo(doctor)).toHaveLength(2);
  // Nothing new since: the window ends without a third.
  clock.advance(2 * HOUR);
  expect(await run()).toBe(0);
  expect(mailsTo(doctor)).toHaveLength(2);
});

test('read on another device before the delay: nothing is sent', async () => {
  const { doctor, threadId } = await patientWrites('read');
  await ok(server.url, MARK_READ, { t: threadId }, doctor.token);
  clock.advance(10 * MINUTE);
  expect(await run()).toBe(0);
  expect(mailsTo(doctor)).toHaveLength(0);
});

test('someone connected live is not notified; once gone, they are after their delay', async () => {
  const { doctor } = await patientWrites('live');
  const client = connect(server.url.replace('http', 'ws'), doctor.token);
  subscribe(client, `subscription { messageAdded { id } }`);
  await until(() => server.app.liveSessions.count(doctor.id) > 0);
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(0);
  await client.dispose();
  await until(() => server.app.liveSessions.count(doctor.id) === 0);
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(1);
  expect(mailsTo(doctor)).toHaveLength(1);
});

test('quiet hours hold a notification until they end, in the user’s time zone', async () => {
  const { doctor } = await patientWrites('quiet');
  const at = new Date(Date.now() + 6 * MINUTE);
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  await ok(server.url, UPDATE, { i: { quietHours: { start: hhmm(new Date(at.getTime() - HOUR)), end: hhmm(new Date(at.getTime() + HOUR)), timeZone: 'UTC' } } }, doctor.token);
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(HOUR + 2 * MINUTE);
  expect(await run()).toBe(1);
});

test('an absent professional is not notified while away', async () => {
  const { doctor } = await patientWrites('absent');
  const endsAt = new Date(Date.now() + 3 * HOUR).toISOString();
  await ok(server.url, `mutation($e: DateTime!) { recordAbsence(startsAt: "2020-01-01T00:00:00Z", endsAt: $e) { id } }`, { e: endsAt }, doctor.token);
  clock.advance(10 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(3 * HOUR);
  expect(await run()).toBe(1);
});

test('a patient is told after 15 minutes and reminded once the next day while it stays unread', async () => {
  const doctor = await world.professional('Dr Reminder');
  const patient = await world.patient('Patient Reminder');
  await world.share(patient, doctor);
  await world.thread(doctor, [asRecipient(patient)], 'Your results are ready', 'Results');
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(10 * MINUTE);
  expect(await run()).toBe(1);
  clock.advance(23 * HOUR);
  expect(await run()).toBe(0);
  clock.advance(2 * HOUR);
  expect(await run()).toBe(1);
  expect(mailsTo(patient).map((m) => m.subject)).toEqual(['A secure message is waiting for you', 'Reminder: a secure message is waiting for you']);
  clock.advance(3 * 24 * HOUR);
  expect(await run()).toBe(0);
});

test('a staff-only note notifies professionals, never the patient', async () => {
  const doctor = await world.professional('Dr Note');
  const nurse = await world.professional('Nurse Note');
  const patient = await world.patient('Patient Note');
  await world.share(patient, doctor);
  const threadId = await world.thread(doctor, [asRecipient(patient), asRecipient(nurse)], 'Hello', 'Note');
  await ok(server.url, MARK_READ, { t: threadId }, patient.token);
  await ok(server.url, MARK_READ, { t: threadId }, nurse.token);
  await ok(server.url, SendMessageDocument, { staffOnly: true, threadId, body: 'Staff only' }, doctor.token);
  clock.advance(HOUR);
  expect(await run()).toBe(1);
  expect(mailsTo(nurse)).toHaveLength(1);
  expect(mailsTo(patient)).toHaveLength(0);
  // Nor does the patient's access log show that staff were told of something.
  const log = (await ok(server.url, ACCESS_LOG, {}, patient.token)).myAccessLog.edges.map((e: any) => e.node);
  expect(log.filter((e: any) => e.action === 'NOTIFICATION_SENT' && e.threadId === threadId)).toEqual([]);
});

test('a team’s members are told when the escalation rules alert them, not of every message', async () => {
  const a = await world.professional('Team member A');
  const b = await world.professional('Team member B');
  const team = await world.team('Escalating team', { autoCc: true, members: [a, b] });
  await ok(server.url, `mutation($t: ID!) { setTeamWaitingLimit(teamId: $t, minutes: 30) { id } }`, { t: team.id }, world.admin.token);
  const patient = await world.patient('Patient Team');
  await world.share(patient, team);
  await world.thread(patient, [asRecipient(team)], 'Please call', 'Team');
  clock.advance(10 * MINUTE);
  expect(await run()).toBe(0);
  clock.advance(25 * MINUTE);
  expect(await server.app.escalations.runDue()).toBe(1);
  expect(await run()).toBe(2);
  expect([...mailsTo(a), ...mailsTo(b)]).toHaveLength(2);
});

test('Web Push: registered browsers get the generic payload, encrypted for them; a browser its push service forgot is removed', async () => {
  const { doctor } = await patientWrites('push');
  const browser = push.subscribe({ applicationServerKey: vapid.publicKey });
  const registered = (await ok(server.url, REGISTER, { s: browser }, doctor.token)).registerPushSubscription;
  expect(registered.pushDevices).toBe(1);
  await ok(server.url, UPDATE, { i: { channels: ['PUSH'] } }, doctor.token);
  clock.advance(6 * MINUTE);
  const before = push.received.length;
  expect(await run()).toBe(1);
  const [received] = push.received.slice(before);
  expect(JSON.parse(received.payload)).toEqual({ title: 'CareThread', body: 'A secure message is waiting for you.', url: expect.stringMatching(/\/app$/), tag: 'carethread-waiting' });
  expect(mailsTo(doctor)).toHaveLength(0);

  const { doctor: forgotten } = await patientWrites('push-gone');
  const gone = push.subscribe({ applicationServerKey: vapid.publicKey });
  await ok(server.url, REGISTER, { s: gone }, forgotten.token);
  await ok(server.url, UPDATE, { i: { channels: ['PUSH'] } }, forgotten.token);
  push.answer(410, gone.endpoint);
  clock.advance(6 * MINUTE);
  await run();
  expect((await ok(server.url, GET, {}, forgotten.token)).notificationSettings.pushDevices).toBe(0);
});

test('the unsubscribe link turns e-mail off without a sign-in; a forged one changes nothing', async () => {
  const { doctor, patient, threadId } = await patientWrites('unsubscribe');
  clock.advance(6 * MINUTE);
  await run();
  const link = mailsTo(doctor)[0].headers.get('list-unsubscribe')!.slice(1, -1);
  const forged = await fetch(link.replace(/token=.*/, 'token=eyJhbGciOiJIUzI1NiJ9.e30.forged'), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(forged.status).toBe(400);
  expect(((await forged.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('INVALID_UNSUBSCRIBE_LINK');
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings.channels).toEqual(['EMAIL', 'PUSH']);
  // A GET (a mail scanner following the link) only shows the button.
  expect((await fetch(link)).status).toBe(200);
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings.channels).toEqual(['EMAIL', 'PUSH']);

  const oneClick = await fetch(link, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(oneClick.status).toBe(200);
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings.channels).toEqual(['PUSH']);
  await world.send(patient, threadId, 'again');
  clock.advance(3 * HOUR);
  await run();
  expect(mailsTo(doctor)).toHaveLength(1);
});

test('a browser’s push stops when the session that registered it is signed out (a shared computer), not when it expires; everywhere stops all', async () => {
  const doctor = await world.professional('Dr Shared');
  const tokens = [doctor.token, (await signIn(server.url, doctor.email, PASSWORD)).token, (await signIn(server.url, doctor.email, PASSWORD)).token];
  for (const token of tokens) await ok(server.url, REGISTER, { s: push.subscribe({ applicationServerKey: vapid.publicKey }) }, token);
  const devices = async () => (await ok(server.url, GET, {}, (await signIn(server.url, doctor.email, PASSWORD)).token)).notificationSettings.pushDevices;
  expect(await devices()).toBe(3);
  // The third session runs out (as after TOKEN_TTL_SECONDS): its browser is still told, the point of push.
  await server.app.db.manager.update(Session, { id: decodeJwt(tokens[2]).sid as string }, { expiresAt: new Date(Date.now() - 1000) });
  expect(await devices()).toBe(3);
  await ok(server.url, 'mutation { signOut }', {}, tokens[0]);
  expect(await devices()).toBe(2);
  await ok(server.url, 'mutation { signOutEverywhere }', {}, tokens[1]);
  expect(await devices()).toBe(0);
});

test('settings: defaults by kind, and bad input refused with a code, nothing changed', async () => {
  const doctor = await world.professional('Dr Settings');
  const patient = await world.patient('Patient Settings');
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings).toEqual({ channels: ['EMAIL', 'PUSH'], available: ['EMAIL', 'PUSH'], delayMinutes: 5, quietHours: null, pushDevices: 0 });
  expect((await ok(server.url, GET, {}, patient.token)).notificationSettings.delayMinutes).toBe(15);
  const before = (await ok(server.url, GET, {}, doctor.token)).notificationSettings;
  const refused = async (query: string, variables: Record<string, unknown>) => codes(server.url, query, variables, doctor.token);
  expect(await refused(UPDATE, { i: { delayMinutes: 0 } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(UPDATE, { i: { delayMinutes: 1441 } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(UPDATE, { i: { delayMinutes: 30, quietHours: { start: '25:00', end: '07:00', timeZone: 'UTC' } } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(UPDATE, { i: { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(UPDATE, { i: { channels: ['SMS'] } })).toEqual(['BAD_USER_INPUT']);
  const browser = push.subscribe();
  expect(await refused(REGISTER, { s: { ...browser, endpoint: browser.endpoint.replace('https:', 'http:') } })).toEqual(['BAD_USER_INPUT']);
  // Not a push service the server knows (PUSH_SERVICE_HOSTS): it would POST wherever a caller says.
  expect(await refused(REGISTER, { s: { ...browser, endpoint: 'https://169.254.169.254/latest/meta-data' } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(REGISTER, { s: { ...browser, endpoint: browser.endpoint.replace('127.0.0.1', 'evil127.0.0.1.example') } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(REGISTER, { s: { ...browser, keys: { ...browser.keys, p256dh: 'AAAA' } } })).toEqual(['BAD_USER_INPUT']);
  expect(await refused(REGISTER, { s: { ...browser, keys: { ...browser.keys, auth: 'not base64!' } } })).toEqual(['BAD_USER_INPUT']);
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings).toEqual(before);
  expect(await codes(server.url, GET)).toEqual(['UNAUTHENTICATED']);
});

test('quiet hours are kept in the user’s own time zone, not UTC', async () => {
  const doctor = await world.professional('Dr Zone');
  const patient = await world.patient('Patient Zone');
  await world.share(patient, doctor);
  // Asia/Kolkata is UTC+05:30 all year: hours read as UTC would be five and a half hours off, and not hold this one.
  const timeZone = 'Asia/Kolkata';
  const at = new Date(Date.now() + 6 * MINUTE);
  const local = (d: Date) => DateTime.fromJSDate(d, { zone: timeZone }).toFormat('HH:mm');
  const quietHours = { start: local(new Date(at.getTime() - HOUR)), end: local(new Date(at.getTime() + HOUR)), timeZone };
  expect((await ok(server.url, UPDATE, { i: { quietHours } }, doctor.token)).updateNotificationSettings.quietHours).toEqual(quietHours);
  await world.thread(patient, [asRecipient(doctor)], 'Zone question', 'Zone');
  clock.advance(6 * MINUTE);
  await run();
  expect(mailsTo(doctor)).toHaveLength(0);
  clock.advance(HOUR + 2 * MINUTE);
  await run();
  expect(mailsTo(doctor)).toHaveLength(1);
});

test('a delay shorter than the default is kept: with 1 minute, told after 1 minute, not 5', async () => {
  const doctor = await world.professional('Dr Quick');
  const patient = await world.patient('Patient Quick');
  await world.share(patient, doctor);
  await ok(server.url, UPDATE, { i: { delayMinutes: 1 } }, doctor.token);
  await world.thread(patient, [asRecipient(doctor)], 'Quick question', 'Quick');
  clock.advance(2 * MINUTE);
  await run();
  expect(mailsTo(doctor)).toHaveLength(1);
});

test('a patient waiting for a reminder: a staff-only note neither tells them nor moves it; a new message is told at once, not at the reminder', async () => {
  const doctor = await world.professional('Dr Cycle');
  const patient = await world.patient('Patient Cycle');
  await world.share(patient, doctor);
  const threadId = await world.thread(doctor, [asRecipient(patient)], 'First news', 'Cycle');
  clock.advance(16 * MINUTE);
  await run();
  const subjects = () => mailsTo(patient).map((m) => m.subject);
  expect(subjects()).toEqual(['A secure message is waiting for you']);
  // Two hours on, the first message still unread: a staff-only note is nothing the patient is told of.
  clock.advance(2 * HOUR);
  await ok(server.url, SendMessageDocument, { staffOnly: true, threadId, body: 'Cycle staff remark' }, doctor.token);
  await run();
  expect(subjects()).toEqual(['A secure message is waiting for you']);
  // They read it; a new message then is told after its own delay (past here), not held for the day-old reminder.
  await ok(server.url, MARK_READ, { t: threadId }, patient.token);
  await world.send(doctor, threadId, 'Second news');
  clock.advance(MINUTE);
  await run();
  expect(subjects()).toEqual(['A secure message is waiting for you', 'A secure message is waiting for you']);
  // And it is reminded of once, a day later, while unread.
  clock.advance(25 * HOUR);
  await run();
  clock.advance(3 * 24 * HOUR);
  await run();
  expect(subjects()).toEqual(['A secure message is waiting for you', 'A secure message is waiting for you', 'Reminder: a secure message is waiting for you']);
});

test('the audit of a notification names the last message the patient may see, not a staff-only note after it, so the patient’s access log shows it', async () => {
  const doctor = await world.professional('Dr Named');
  const nurse = await world.professional('Nurse Named');
  const patient = await world.patient('Patient Named');
  await world.share(patient, doctor);
  const threadId = await world.thread(doctor, [asRecipient(patient), asRecipient(nurse)], 'Named hello', 'Named');
  await ok(server.url, MARK_READ, { t: threadId }, patient.token);
  await ok(server.url, MARK_READ, { t: threadId }, nurse.token);
  const question = await world.send(patient, threadId, 'Named question');
  // The doctor's unread: the patient's question, then the nurse's note (the last).
  await ok(server.url, SendMessageDocument, { staffOnly: true, threadId, body: 'Named remark' }, nurse.token);
  clock.advance(6 * MINUTE);
  await run();
  expect(mailsTo(doctor)).toHaveLength(1);
  const events = (await ok(server.url, AUDIT, { t: threadId }, world.admin.token)).auditEvents.edges.map((e: any) => e.node);
  expect(events.filter((e: any) => e.actor.id === doctor.id)).toEqual([expect.objectContaining({ channel: 'EMAIL', messageId: question })]);
  const log = (await ok(server.url, ACCESS_LOG, {}, patient.token)).myAccessLog.edges.map((e: any) => e.node);
  expect(log).toContainEqual({ action: 'NOTIFICATION_SENT', who: { id: doctor.id }, threadId });
});

test('a retry sends again only the channel that failed: what went out on the other is not sent twice', async () => {
  const audited = async (threadId: string) => (await ok(server.url, AUDIT, { t: threadId }, world.admin.token)).auditEvents.edges.map((e: any) => e.node.channel).sort();
  // The push service down: the e-mail goes, the push is retried.
  const first = await patientWrites('retry-push');
  const browser = push.subscribe({ applicationServerKey: vapid.publicKey });
  await ok(server.url, REGISTER, { s: browser }, first.doctor.token);
  const pushed = (endpoint: string) => push.received.filter((p) => p.endpoint === endpoint);
  push.answer(503, browser.endpoint);
  clock.advance(6 * MINUTE);
  await run();
  expect([mailsTo(first.doctor).length, pushed(browser.endpoint).length]).toEqual([1, 0]);
  push.answer(201, browser.endpoint);
  clock.advance(MINUTE + 1000);
  await run();
  expect([mailsTo(first.doctor).length, pushed(browser.endpoint).length]).toEqual([1, 1]);
  expect(await audited(first.threadId)).toEqual(['EMAIL', 'PUSH']);

  // The SMTP server down: the push goes, the e-mail is retried.
  clock.reset();
  const second = await patientWrites('retry-mail');
  const other = push.subscribe({ applicationServerKey: vapid.publicKey });
  await ok(server.url, REGISTER, { s: other }, second.doctor.token);
  mail.setDown(true);
  try {
    clock.advance(6 * MINUTE);
    await run();
  } finally {
    mail.setDown(false);
  }
  expect([mailsTo(second.doctor).length, pushed(other.endpoint).length]).toEqual([0, 1]);
  clock.advance(MINUTE + 1000);
  await run();
  expect([mailsTo(second.doctor).length, pushed(other.endpoint).length]).toEqual([1, 1]);
  expect(await audited(second.threadId)).toEqual(['EMAIL', 'PUSH']);
});

test('an API access token is no unsubscribe token: a link carrying one is refused and changes nothing', async () => {
  const doctor = await world.professional('Dr Audience');
  const link = new URL(`/notifications/unsubscribe?token=${doctor.token}`, server.url).href;
  expect((await fetch(link)).status).toBe(400);
  const posted = await fetch(link, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(posted.status).toBe(400);
  expect(((await posted.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('INVALID_UNSUBSCRIBE_LINK');
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings.channels).toEqual(['EMAIL', 'PUSH']);
});

test('push registration refused: a 65-byte key that is no uncompressed P-256 point, an endpoint over 1000 characters', async () => {
  const doctor = await world.professional('Dr Keys');
  const browser = push.subscribe();
  const compressed = Buffer.concat([Buffer.from([2]), Buffer.from(browser.keys.p256dh, 'base64url').subarray(1)]).toString('base64url');
  expect(await codes(server.url, REGISTER, { s: { ...browser, keys: { ...browser.keys, p256dh: compressed } } }, doctor.token)).toEqual(['BAD_USER_INPUT']);
  expect(await codes(server.url, REGISTER, { s: { ...browser, endpoint: `${browser.endpoint}/${'a'.repeat(1000)}` } }, doctor.token)).toEqual(['BAD_USER_INPUT']);
  expect((await ok(server.url, GET, {}, doctor.token)).notificationSettings.pushDevices).toBe(0);
});

test('a message committed while a round decides to drop the row (all read) is still told of: the round schedules it again', async () => {
  const { doctor, patient, threadId } = await patientWrites('race');
  await ok(server.url, MARK_READ, { t: threadId }, doctor.token);
  clock.advance(6 * MINUTE);
  // The round reads the unread messages (none), then asks who is connected: the patient writes just then,
  // and their send finds the row still there, so it schedules nothing of its own.
  const presence = server.app.notifier!['deps'].presence;
  const isLive = presence.isLive.bind(presence);
  presence.isLive = async (userId: string) => {
    presence.isLive = isLive;
    await world.send(patient, threadId, 'Written meanwhile');
    return isLive(userId);
  };
  expect(await run()).toBe(0);
  expect(mailsTo(doctor)).toHaveLength(0);
  clock.advance(6 * MINUTE);
  expect(await run()).toBe(1);
  expect(mailsTo(doctor)).toHaveLength(1);
});

test('GET /metrics counts the sends by channel and result, nothing per person (after the tests above: it reads what they sent)', async () => {
  const samples = (await scrape(server.url)).filter((sample) => sample.name === 'carethread_notifications_total');
  for (const { labels } of samples) expect(Object.keys(labels).sort()).toEqual(['channel', 'result']);
  const count = (channel: string, result: string) => total(samples, 'carethread_notifications_total', { channel, result });
  expect(count('EMAIL', 'sent')).toBe(mail.mails.length);
  expect(count('PUSH', 'sent')).toBe(push.received.length);
  expect([count('EMAIL', 'retry'), count('PUSH', 'retry'), count('PUSH', 'gone')].every((n) => n >= 1)).toBe(true);
});

test('no notification of this file carries a message’s text, a subject or a name (the last test: it reads what the others sent)', () => {
  // What a person reads of each: an e-mail's subject and text, a push's payload.
  const read = [...mail.mails.map((m) => `${m.subject}\n${m.text}\n${m.html ?? ''}`), ...push.received.map((p) => p.payload)].flatMap((notice) => [notice, decodeURIComponent(notice)]);
  expect(read.length).toBeGreaterThan(10);
  // With the staff-only notes, which the World does not send.
  const said = [...world.said, 'Staff only', 'Cycle staff remark', 'Named remark'];
  expect(said.length).toBeGreaterThan(40);
  expect(said.filter((text) => read.some((notice) => notice.includes(text)))).toEqual([]);
});
