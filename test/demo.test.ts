import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_ADMIN, DEMO_PASSWORD, demoLogins, seedDemo } from '../src/demo/demo-data';
import { UserKind } from '../src/modules/users/user-kind';
import { User } from '../src/modules/users/user.entity';
import { accepts, holdPort, killIfRunning, runOnTakenPort, spawnEntry } from './support/entry-point';
import { MINUTE, TestClock } from './support/clock';
import { ok } from './support/graphql';
import { until } from './support/live';
import { memoryLogger } from './support/logs';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { signIn } from './support/world';

// npm run demo: its clinic, made by seedDemo on a real server's empty database; the
// entry point itself in a child process; and the build it runs first.

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function emptyServer(): Promise<TestServer> {
  const server = await startTestServer();
  servers.push(server);
  return server;
}

/** The token of a demo person (the admin has a password of its own). */
const tokenOf = async (server: TestServer, email: string, password = DEMO_PASSWORD) => (await signIn(server.url, email, password)).token;

const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

/** What the demo's people see: the admin's teams, each patient's drop-down and threads. */
async function clinic(server: TestServer) {
  const admin = await tokenOf(server, ADMIN.email, ADMIN.password);
  const { teams } = await ok(server.url, '{ teams { name autoCc members { name contactable } } }', {}, admin);
  const asPatient = async (email: string) => {
    const token = await tokenOf(server, email);
    const { recipients, threads } = await ok(
      server.url,
      `{
        recipients { ... on TeamRecipient { team { name } members { name } } ... on UserRecipient { user { name } } }
        threads { edges { node { subject participants { user { name } } messages { edges { node { body } } } } } }
      }`,
      {},
      token,
    );
    return {
      offered: recipients.map((r: any) => (r.team ? `team ${r.team.name}: ${r.members.map((m: any) => m.name).sort().join(', ')}` : r.user.name)).sort(),
      threads: threads.edges.map(({ node }: any) => ({
        subject: node.subject,
        participants: node.participants.map((p: any) => p.user.name).sort(),
        messages: node.messages.edges.map((e: any) => e.node.body),
      })),
    };
  };
  return {
    teams: byName(teams).map((t: any) => ({ ...t, members: byName(t.members) })),
    pat: await asPatient('pat@demo.carethread'),
    sam: await asPatient('sam@demo.carethread'),
  };
}

const THE_CLINIC = {
  teams: [
    {
      name: 'Diabetes',
      autoCc: true,
      members: [
        { name: 'Dr Dana Diaz', contactable: true },
        { name: 'Dr Olive Oak', contactable: false },
        { name: 'Nurse Nico Novak', contactable: true },
      ],
    },
    {
      name: 'Physiotherapy',
      autoCc: false,
      members: [
        { name: 'Paul Park', contactable: true },
        { name: 'Pia Perez', contactable: true },
      ],
    },
  ],
  pat: {
    // The auto-CC team is one option without its non-contactable member; the other team's members come one by one;
    // the second organisation's team, shared with too, is offered beside the first's.
    offered: ['Paul Park', 'Pia Perez', 'team Cardiology: Dr Cora Chen, Nurse Cal Cruz', 'team Diabetes: Dr Dana Diaz, Nurse Nico Novak'],
    threads: [
      {
        subject: 'Morning glucose readings',
        participants: ['Dr Dana Diaz', 'Nurse Nico Novak', 'Pat Patient'],
        messages: ['My readings have been above 12 every morning this week.'],
      },
    ],
  },
  sam: { offered: ['Dr Gary Green'], threads: [] },
};

test('on an empty database the demo clinic is created as the README describes, and every demo login works', async () => {
  const server = await emptyServer();
  expect(await seedDemo(server.app, ADMIN.email)).toBe('created');
  expect(await clinic(server)).toEqual(THE_CLINIC);
  for (const { email } of demoLogins) await tokenOf(server, email);
});

test('with the demo’s SMTP_URL=log, a message left unread is told by the e-mail written to the log after the delay', async () => {
  const clock = new TestClock();
  const { logger, lines } = memoryLogger();
  const server = await startTestServer({ SMTP_URL: 'log', NOTIFY_POLL_MS: '3600000' }, { clock, logger });
  servers.push(server);
  await seedDemo(server.app, ADMIN.email);
  const gary = await signIn(server.url, 'gary@demo.carethread', DEMO_PASSWORD);
  await ok(server.url, `mutation($r: [RecipientInput!]!) { createThread(subject: "Repeat prescription", body: "Could I have more?", recipients: $r) { id } }`, { r: [{ userId: gary.user.id }] }, await tokenOf(server, 'sam@demo.carethread'));
  clock.advance(6 * MINUTE);
  expect(await server.app.notifier!.runDue()).toBe(1);
  const mail = lines.find((line) => line.msg === 'a notification e-mail (SMTP_URL=log: written here, not sent)');
  expect(mail).toMatchObject({ to: 'gary@demo.carethread', subject: 'A secure message is waiting for you', text: expect.stringContaining(`${new URL(server.url).origin}/app`) });
});

test('a second run changes nothing', async () => {
  const server = await emptyServer();
  await seedDemo(server.app, ADMIN.email);
  expect(await seedDemo(server.app, ADMIN.email)).toBe('present');
  expect(await clinic(server)).toEqual(THE_CLINIC);
});

test('a run stopped halfway is finished by the next, which reuses what the first made', async () => {
  const server = await emptyServer();
  // What a first run stopped by Ctrl-C leaves: some of the people, one team with one member.
  const admin = await server.app.db.manager.findOneByOrFail(User, { email: ADMIN.email });
  const dana = await server.app.users.createUser(admin, { email: 'dana@demo.carethread', name: 'Dr Dana Diaz', kind: UserKind.PROFESSIONAL, password: DEMO_PASSWORD, contactable: true, isAdmin: false });
  const diabetes = await server.app.teams.create(admin, 'Diabetes', true);
  await server.app.teams.addMember(admin, diabetes.id, dana.id);

  expect(await seedDemo(server.app, ADMIN.email)).toBe('created');
  expect(await clinic(server)).toEqual(THE_CLINIC);
});

describe('npm run demo, as a new user meets it', () => {
  const DEMO = 'src/demo/demo.ts';
  // Where it runs, as npm runs it in the project root: its data/ lands here.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'carethread-demo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('binds 127.0.0.1 on a database and admin of its own, answers a login the moment the port opens, then prints where to go and who each login is', async () => {
    const { port, release } = await holdPort();
    await release();
    // What a shell set up for npm start may hold: none of it is the demo's.
    const shellDatabase = join(dir, 'clinic.sqlite');
    const demo = spawnEntry(DEMO, { PORT: String(port), DATABASE_URL: `sqlite:${shellDatabase}`, ADMIN_EMAIL: 'admin@clinic.example', ADMIN_PASSWORD: 'the-real-one-1' }, dir);
    const url = `http://127.0.0.1:${port}/graphql`;
    try {
      await until(async () => (await accepts(port, '127.0.0.1')) || demo.child.exitCode !== null, 60000, `the demo did not open port ${port} within 60 s`);
      if (demo.child.exitCode !== null) throw new Error(`the demo ended before it opened its port:\n${demo.output().stderr}`);
      // The first connection finds the clinic made: the port opened only once it existed.
      expect((await signIn(url, 'pat@demo.carethread', DEMO_PASSWORD)).user.name).toBe('Pat Patient');
      // On Linux all of 127/8 is this machine: a server bound to 0.0.0.0 would accept here too.
      expect(await accepts(port, '127.0.0.2')).toBe(false);

      await until(() => demo.output().stdout.includes('Ctrl-C stops'), 10000, 'the demo printed no ready message');
      const printed = demo.output().stdout;
      expect(printed).toContain('CareThread demo is ready (demo clinic created)');
      expect(printed).toMatch(new RegExp(`Dashboard +http://127\\.0\\.0\\.1:${port}/app\n`));
      expect(printed).toMatch(new RegExp(`GraphiQL +http://127\\.0\\.0\\.1:${port}/graphql `));
      expect(printed).toMatch(/Database +data\/demo\.sqlite, the demo's own whatever DATABASE_URL says/);
      // Who each login is: a patient, a clinician and the team, the second organisation's admin; and the admin with its password.
      for (const { email, name, note } of demoLogins) {
        expect(note).toMatch(/^(patient|clinician|admin of Northside Hospital)\b/);
        expect(printed).toContain(`${email.padEnd(32)} ${name.padEnd(18)} ${note}\n`);
      }
      expect(printed).toMatch(new RegExp(`${DEMO_ADMIN.email} +Administrator +admin .*password ${DEMO_ADMIN.password}`));
      expect(printed).toContain(`Logins (password ${DEMO_PASSWORD}, except the admin's)`);
      expect(printed).toContain('Notifications are printed here ("a notification e-mail"), not sent');

      // Its own database and admin, whatever the shell said.
      expect(existsSync(join(dir, 'data', 'demo.sqlite'))).toBe(true);
      expect(existsSync(shellDatabase)).toBe(false);
      await signIn(url, DEMO_ADMIN.email, DEMO_ADMIN.password);
      await expect(signIn(url, 'admin@clinic.example', 'the-real-one-1')).rejects.toThrow();

      // / leads to the dashboard.
      const home = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
      expect(home.status).toBe(302);
      expect(home.headers.get('location')).toBe('/app');

      demo.child.kill('SIGINT');
      const result = await demo.exited;
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    } finally {
      killIfRunning(demo);
    }
  }, 90000);

  test('a port in use ends it with one line naming PORT: exit code 1, no stack trace', async () => {
    // On the clinic the test above made, so that it reaches the port at once.
    const { port, ...result } = await runOnTakenPort(DEMO, {}, { cwd: dir, timeoutMs: 30000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Port ${port} is in use: set PORT to another port\n`);
    expect(result.stdout).toBe('');
  }, 40000);
});

describe('npm run build, which npm run demo runs before it starts', () => {
  const ROOT = join(__dirname, '..');
  const build = () => promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 170_000 });
  const OUTPUTS = ['dist/src/main.js', 'dist/src/demo/demo.js', 'dist/web/app/dashboard.js', 'dist/web/graphiql/graphiql.js'];
  const builtAt = () => Object.fromEntries(OUTPUTS.map((file) => [file, statSync(join(ROOT, file)).mtimeMs]));

  test('a second run with nothing changed writes nothing; a changed page is bundled again, and only the pages', async () => {
    await build(); // from here on, the build is current
    const first = builtAt();
    await build();
    expect(builtAt()).toEqual(first);

    // Saved again (same text, a new date), as an editor would.
    const now = new Date();
    utimesSync(join(ROOT, 'web', 'app', 'main.tsx'), now, now);
    await build();
    const third = builtAt();
    expect(third['dist/web/app/dashboard.js']).toBeGreaterThan(first['dist/web/app/dashboard.js']);
    expect(third['dist/web/graphiql/graphiql.js']).toBeGreaterThan(first['dist/web/graphiql/graphiql.js']);
    expect(third['dist/src/main.js']).toBe(first['dist/src/main.js']);
  }, 180_000);
});
