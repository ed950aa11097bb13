import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrations as allMigrations } from '../src/tables';
import { killIfRunning, runOnTakenPort, runToExit, spawnEntry, STACK_FRAME } from './support/entry-point';
import { gql, ok } from './support/graphql';
import { until } from './support/live';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { World, type Person } from './support/world';

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));

const BASE_ENV = { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1' };

// The settings' rules themselves, without a process: test/unit/config.test.ts.
describe('configuration is validated before anything starts', () => {
  test('NODE_ENV=production without JWT_SECRET refuses to start: exit code 1, a clear message, no stack trace', async () => {
    const result = await runToExit('src/main.ts', { ...BASE_ENV, NODE_ENV: 'production' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/JWT_SECRET is required when NODE_ENV=production/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stdout).not.toMatch(/listening/);
  }, 30000);

  test('a bad DATABASE_URL or PORT stops the real entry point with a clear config error and exit code 1', async () => {
    const result = await runToExit('src/main.ts', { ...BASE_ENV, JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'mysql://db.example/carethread', PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration/);
    // Every problem at once, each naming its setting.
    expect(result.stderr).toMatch(/DATABASE_URL: must look like sqlite:<path>, sqlite::memory: or postgres:\/\/user@host\/db \(got "mysql:\/\/db\.example\/carethread"\)/);
    expect(result.stderr).toMatch(/PORT: /);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stdout).not.toMatch(/listening/);
  }, 30000);
});

describe('the real entry point', () => {
  test('without NODE_ENV=production and without JWT_SECRET it starts (warning, random key), logs where it listens, and exits 0 on SIGTERM', async () => {
    const main = spawnEntry('src/main.ts', { ...BASE_ENV, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    const { child, exited, output } = main;
    try {
      await until(() => jsonLines(output().stdout).some((l) => l.msg === 'CareThread is listening') || child.exitCode !== null, 20000, 'the listening log line');
      const lines = jsonLines(output().stdout);
      const listening = lines.find((l) => l.msg === 'CareThread is listening');
      expect(listening).toBeDefined();
      expect(listening!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect(lines.find((l) => l.level === 40)?.msg).toMatch(/JWT_SECRET is not set: using a random key/);

      // It really serves: health check and a login with the start-up admin.
      const url = String(listening!.url);
      const health = await fetch(url.replace(/\/graphql$/, '/healthz'));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const { login } = await ok(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { isAdmin } } }`, { e: ADMIN.email, p: ADMIN.password });
      expect(login.user.isAdmin).toBe(true);

      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code).toBe(0);
      expect(jsonLines(result.stdout).some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
      expect(result.stderr).toBe('');
    } finally {
      killIfRunning(main);
    }
  }, 30000);

  test('a port in use ends it with one line naming PORT: exit code 1, no stack trace', async () => {
    const { port, ...result } = await runOnTakenPort('src/main.ts', { ...BASE_ENV, JWT_SECRET: 'x'.repeat(32) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Port ${port} is in use: set PORT to another port\n`);
    // Nothing else either: no error logged with a stack on the way out.
    expect(result.stdout).toBe('');
  }, 30000);
});

describe('a running server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('GET /healthz answers 200 {status: "ok"}', async () => {
    const res = await fetch(server.url.replace(/\/graphql$/, '/healthz'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('GET / leads to the dashboard at /app', async () => {
    const res = await fetch(server.url.replace(/\/graphql$/, '/'), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app');
  });

  test('uses migrations, never synchronize', () => {
    expect(server.app.db.options.synchronize).toBe(false);
    expect(server.app.db.options.migrationsRun).toBe(false);
  });
});

describe('an sqlite file database', () => {
  /** Every migration, each run once, in order. */
  const migrationNames = allMigrations.map((Migration) => ({ name: new Migration().name }));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'carethread-startup-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('DATABASE_URL=sqlite:<file> keeps data across a restart, and migrations run at start (once)', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'nested', 'carethread.sqlite')}` };
    const first = await startTestServer(env);
    let person: Person;
    try {
      const migrations = await first.app.db.query('SELECT name FROM migrations ORDER BY id');
      expect(migrations).toEqual(migrationNames);
      const world = await World.create(first);
      person = await world.professional('Persisted Pro');
      await world.team('Persisted Team', { members: [person] });
    } finally {
      await first.close();
    }

    const second = await startTestServer(env);
    try {
      // Started again on the same file: no migration runs twice, the data is there.
      expect(await second.app.db.query('SELECT name FROM migrations ORDER BY id')).toEqual(migrationNames);
      expect(await second.app.db.showMigrations()).toBe(false); // nothing pending
      const { login } = await ok(second.url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id name teams { name } } } }`, {
        e: person.email,
        p: 'password-1234',
      });
      expect(login.user).toEqual({ id: person.id, name: 'Persisted Pro', teams: [{ name: 'Persisted Team' }] });
      // The start-up admin is not created twice (the email is unique, so a second one would have failed to start).
      const admins = await second.app.db.query(`SELECT COUNT(*) AS n FROM users WHERE isAdmin = 1`);
      expect(Number(admins[0].n)).toBe(1);
      // A token signed before the restart still works: the JWT_SECRET is the same.
      expect((await gql(second.url, '{ me { id } }', {}, login.token)).data).toEqual({ me: { id: person.id } });
    } finally {
      await second.close();
    }
  });

  test('the schema comes from the migration: its tables exist before any request', async () => {
    const server = await startTestServer({ DATABASE_URL: `sqlite:${join(dir, 'fresh.sqlite')}` });
    try {
      const tables = (await server.app.db.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)).map((t: { name: string }) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining(['audit_events', 'messages', 'migrations', 'participants', 'professional_shares', 'team_members', 'team_shares', 'teams', 'thread_teams', 'threads', 'users']),
      );
    } finally {
      await server.close();
    }
  });
});
