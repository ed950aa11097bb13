import { LEASE_MS } from '../src/modules/notifications/notification-rules';
import { ScheduledNotification } from '../src/modules/notifications/scheduled-notification.entity';
import { MINUTE, TestClock } from './support/clock';
import { ok } from './support/graphql';
import { connect, subscribe, until } from './support/live';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';
import { startMailCatcher, type MailCatcher } from './support/mail-catcher';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { sharedDatabase } from './support/shared-database';
import { asRecipient, World, type Person } from './support/world';

// The notification schedule is the database's: it survives a restart, several
// instances send each notification once, and an SMTP outage delays e-mails
// without losing or doubling them. Each test runs its servers' rounds itself
// (runDue) against a real SMTP server.

const DATABASES: ('sqlite' | 'postgres')[] = TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const AUDIT = `query { auditEvents(filter: { action: "NOTIFICATION_SENT" }, first: 100) { edges { node { actor { id } channel } } } }`;
let mail: MailCatcher;

beforeAll(async () => {
  mail = await startMailCatcher();
});
afterAll(() => mail.close());

const settings = (database: { env: Record<string, string> }) => ({ ...database.env, SMTP_URL: mail.url, NOTIFY_POLL_MS: '3600000' });

/** `count` patients each writing to a professional of their own; the professionals. */
async function waiting(world: World, label: string, count: number): Promise<Person[]> {
  const doctors: Person[] = [];
  for (let i = 0; i < count; i++) {
    const doctor = await world.professional(`${label} doctor ${i}`);
    const patient = await world.patient(`${label} patient ${i}`);
    await world.share(patient, doctor);
    await world.thread(patient, [asRecipient(doctor)], 'Question', 'Question');
    doctors.push(doctor);
  }
  return doctors;
}

const mailsTo = (people: Person[]) => mail.mails.filter((m) => people.some((p) => m.to.includes(p.email)));

/** One server with a clock of its own on a database of its own, where a patient's message waits for `doctor`; dropped after. */
async function withOneWaiting(kind: 'sqlite' | 'postgres', label: string, test: (s: { server: TestServer; clock: TestClock; doctor: Person }) => Promise<void>) {
  const database = sharedDatabase(label, kind);
  let server: TestServer | undefined;
  try {
    const clock = new TestClock();
    server = await startTestServer(settings(database), { clock });
    const [doctor] = await waiting(await World.create(server), `${label}-${kind}`, 1);
    await test({ server, clock, doctor });
  } finally {
    await server?.close();
    await database.drop();
  }
}

describe.each(DATABASES)('on %s', (kind) => {
  test('a server closed between schedule and send: the next one, knowing only the database, sends it once', async () => {
    const database = sharedDatabase('notify-restart', kind);
    let server: TestServer | undefined;
    try {
      server = await startTestServer(settings(database), { clock: new TestClock() });
      const world = await World.create(server);
      const [doctor] = await waiting(world, `restart-${kind}`, 1);
      await server.close();

      server = await startTestServer(settings(database), { clock: new TestClock(6 * MINUTE) });
      expect(await server.app.notifier!.runDue()).toBe(1);
      expect(await server.app.notifier!.runDue()).toBe(0);
      expect(mailsTo([doctor])).toHaveLength(1);
    } finally {
      await server?.close();
      await database.drop();
    }
  });

  test('two instances polling together: each notification goes out once', async () => {
    const database = sharedDatabase('notify-instances', kind);
    const servers: TestServer[] = [];
    try {
      const clock = new TestClock();
      servers.push(await startTestServer({ ...settings(database), INSTANCE_ID: `a-${database.tag}` }, { clock }));
      servers.push(await startTestServer({ ...settings(database), INSTANCE_ID: `b-${database.tag}` }, { clock }));
      const world = await World.create(servers[0]);
      // More than a round's batch (20): rounds that take a full batch go on.
      const doctors = await waiting(world, `instances-${kind}`, 25);
      clock.advance(6 * MINUTE);
      const sent = await Promise.all([...servers, ...servers].map((s) => s.app.notifier!.runDue()));
      expect(sent.reduce((a, b) => a + b)).toBe(25);
      const mails = mailsTo(doctors);
      expect(mails).toHaveLength(25);
      expect(new Set(mails.flatMap((m) => m.to)).size).toBe(25);
      const audited = (await ok(servers[0].url, AUDIT, {}, world.admin.token)).auditEvents.edges;
      expect(audited).toHaveLength(25);
    } finally {
      for (const server of servers) await server.close();
      await database.drop();
    }
  });

  test('an instance that died holding a row: once its lease ends, another round takes it and sends it, once', () =>
    withOneWaiting(kind, 'notify-lease', async ({ server, clock, doctor }) => {
      clock.advance(6 * MINUTE);
      // What a round of an instance that then died leaves: the row taken until its lease ends, nothing sent or recorded.
      const taken = await server.app.db.manager.update(ScheduledNotification, { userId: doctor.id }, { leaseId: 'died', leaseUntil: new Date(clock.now().getTime() + LEASE_MS) });
      expect(taken.affected).toBe(1);
      expect(await server.app.notifier!.runDue()).toBe(0);
      clock.advance(LEASE_MS + 1000);
      expect(await server.app.notifier!.runDue()).toBe(1);
      expect(await server.app.notifier!.runDue()).toBe(0);
      expect(mailsTo([doctor])).toHaveLength(1);
    }));

  test('SMTP down, then back: retried with backoff, not lost, not doubled', () =>
    withOneWaiting(kind, 'notify-outage', async ({ server, clock, doctor }) => {
      clock.advance(6 * MINUTE);
      mail.setDown(true);
      try {
        expect(await server.app.notifier!.runDue()).toBe(0);
        clock.advance(MINUTE + 1000);
        expect(await server.app.notifier!.runDue()).toBe(0);
      } finally {
        mail.setDown(false);
      }
      // The second failure waits two minutes.
      expect(await server.app.notifier!.runDue()).toBe(0);
      clock.advance(2 * MINUTE + 1000);
      expect(await server.app.notifier!.runDue()).toBe(1);
      clock.advance(10 * MINUTE);
      expect(await server.app.notifier!.runDue()).toBe(0);
      expect(mailsTo([doctor])).toHaveLength(1);
    }));
});

test('with Redis, someone connected to another instance is not notified; once they leave it, they are', async () => {
  if (!(await redisAnswers())) return console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
  const database = sharedDatabase('notify-presence');
  const servers: TestServer[] = [];
  try {
    const clock = new TestClock();
    for (const name of ['a', 'b']) servers.push(await startTestServer({ ...settings(database), REDIS_URL: TEST_REDIS_URL, INSTANCE_ID: `${name}-${database.tag}` }, { clock }));
    const [a, b] = servers;
    const world = await World.create(a);
    const [doctor] = await waiting(world, 'presence', 1);
    const client = connect(b.wsUrl, doctor.token);
    subscribe(client, 'subscription { messageAdded { id } }');
    const presence = a.app.notifier!['deps'].presence;
    await until(() => presence.isLive(doctor.id), 3000, 'instance a never saw the connection to b');
    clock.advance(6 * MINUTE);
    expect(await a.app.notifier!.runDue()).toBe(0);
    await client.dispose();
    await until(async () => !(await presence.isLive(doctor.id)), 3000, 'instance a still sees a connection to b');
    clock.advance(6 * MINUTE);
    expect(await a.app.notifier!.runDue()).toBe(1);
    expect(mailsTo([doctor])).toHaveLength(1);
  } finally {
    for (const server of servers) await server.close();
    await database.drop();
  }
});
