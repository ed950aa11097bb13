import { execFile } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_PASSWORD, demoLogins, seedDemo } from '../src/demo/demo-data';
import { UserKind } from '../src/modules/users/user-kind';
import { User } from '../src/modules/users/user.entity';
import { ok } from './support/graphql';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { signIn } from './support/world';

// npm run demo: its clinic, made by seedDemo on a real server's empty database, and the
// build it runs first.

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
    // The auto-CC team is one option without its non-contactable member; the other team's members come one by one.
    offered: ['Paul Park', 'Pia Perez', 'team Diabetes: Dr Dana Diaz, Nurse Nico Novak'],
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
    utimesSync(join(ROOT, 'web', 'app', 'dashboard.ts'), now, now);
    await build();
    const third = builtAt();
    expect(third['dist/web/app/dashboard.js']).toBeGreaterThan(first['dist/web/app/dashboard.js']);
    expect(third['dist/web/graphiql/graphiql.js']).toBeGreaterThan(first['dist/web/graphiql/graphiql.js']);
    expect(third['dist/src/main.js']).toBe(first['dist/src/main.js']);
  }, 180_000);
});
