import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../src/modules/auth/password';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { intact, verifyChain } from '../src/modules/audit/audit-verify';
import { DirectoryFileError, readDirectory } from '../src/modules/directory/directory-file';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { TeamMember } from '../src/modules/teams/team-member.entity';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { runCli } from './support/cli';
import { failure } from './support/graphql';
import { offered } from './support/recipients';
import { ADMIN, startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { signIn, World } from './support/world';

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`;

let server: TestServer;
let world: World;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carethread-import-'));
  server = await startTestServer(TEST_POSTGRES_URL ? {} : { DATABASE_URL: `sqlite:${join(dir, 'carethread.sqlite')}` });
  world = await World.create(server);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The directory CLI as a child process on the test server's database, as the start-up admin unless `args` say otherwise. */
function importCli(name: string, content: string, args: string[] = []) {
  const file = join(dir, name);
  writeFileSync(file, content);
  return runCli('directory-import.ts', [...(args.length ? args : ['--as', ADMIN.email]), file], server.databaseEnv!);
}

/** Everything an import could change: every row count, and the audit trail's length. */
async function counts() {
  const db = server.app.db;
  return {
    users: await db.getRepository(User).count(),
    teams: await db.getRepository(Team).count(),
    members: await db.getRepository(TeamMember).count(),
    audit: await db.getRepository(AuditEvent).count(),
  };
}

describe('npm run import', () => {
  // Each run of the CLI starts ts-node: a few seconds, more on a busy machine.
  jest.setTimeout(120_000);

  test('a CSV file creates the people, teams, members and shares it holds, audited as the admin, once', async () => {
    const caller = await world.professional('Import Caller');
    const csv = [
      '# a clinic',
      'professional,ann.lee@clinic.example,Ann Lee',
      'professional,bob.roy@clinic.example,Bob Roy,false',
      'professional,cy.dunn@clinic.example,"Dunn, Cy",true',
      'patient,pat.moss@clinic.example,Pat Moss',
      'team,Cardiologie Équipe,true',
      'team,Ward 9',
      'member,Cardiologie Équipe,ann.lee@clinic.example',
      'member,Cardiologie Équipe,bob.roy@clinic.example',
      'member,Ward 9,cy.dunn@clinic.example',
      'share-team,pat.moss@clinic.example,Cardiologie Équipe',
      `share-professional,pat.moss@clinic.example,${caller.email}`,
    ].join('\n');
    const before = await counts();
    const run = await importCli('clinic.csv', csv);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^imported 3 professionals, 1 patients, 2 teams, 3 memberships, 2 shares in [\d.]+ s\n$/);

    // The drop-down finds them (searchName filled by the import), teams with their members, people one by one.
    expect(await offered(world, caller, { search: 'equipe' })).toEqual({ teams: [{ name: 'Cardiologie Équipe', members: ['Ann Lee'] }], users: [] });
    expect((await offered(world, caller, { search: 'dunn' })).users).toEqual(['Dunn, Cy']);
    expect((await offered(world, caller, { search: 'moss' })).users).toEqual(['Pat Moss']);

    // One audit entry per user, team, membership and share, as the API writes them, by the admin; the chain still verifies.
    const events = await server.app.db.getRepository(AuditEvent).find({ where: { actorId: world.admin.id }, order: { id: 'ASC' } });
    const actions = events.slice(-11).map((e) => e.action);
    expect(actions).toEqual([
      ...Array(4).fill(AuditAction.UserCreated),
      ...Array(2).fill(AuditAction.TeamCreated),
      ...Array(3).fill(AuditAction.TeamMemberAdded),
      ...Array(2).fill(AuditAction.RecordShared),
    ]);
    expect((await counts()).audit).toBe(before.audit + 11);
    // The import wrote them unsealed; the server's sealer chains them (now, rather than within the second).
    await server.app.auditSealer.sealAll(true);
    expect(intact(await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey }))).toBe(true);

    // The same file again is refused: every email and team name is taken; nothing changes.
    const after = await counts();
    const again = await refusedImport(csv);
    expect(again).toContain('line 2: a user with email ann.lee@clinic.example already exists');
    expect(again).toContain('line 6: a team named "Cardiologie Équipe" already exists');
    expect(await counts()).toEqual(after);
  });

  test('a bad file is refused with every problem and where it is, and changes nothing', async () => {
    const pat = await world.patient('Existing Patient');
    const before = await counts();
    const csv = [
      'professional,ok@clinic.example,Fine Person',
      'professional,not-an-email,Someone',
      'patient,p2@clinic.example,   ',
      'team,Night,maybe',
      'member,Nowhere Team,ok@clinic.example',
      'share-team,ok@clinic.example,Unknown Team',
      `share-professional,${pat.email},nobody@clinic.example`,
      'doctor,x@clinic.example,X',
      'patient,ok@clinic.example,Twice',
    ].join('\n');
    const run = await importCli('bad.csv', csv);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      'directory not imported, nothing changed:',
      'line 2: "not-an-email" is not an email address',
      'line 3: name must not be blank',
      'line 4: autoCc must be true or false, not "maybe"',
      'line 8: unknown record type "doctor": one of professional, patient, team, member, share-team, share-professional',
      'line 5: team "Nowhere Team" is not a team of this file (members are added to existing teams through addTeamMember)',
      'line 9: email ok@clinic.example is also at line 1',
    ]);
    expect(await counts()).toEqual(before);

    // Past the file's own checks, those against the database: also everything at once, also nothing changed.
    const refs = await refusedImport(['professional,new@clinic.example,New Person', 'share-team,new@clinic.example,Unknown Team', `share-professional,${pat.email},nobody@clinic.example`].join('\n'));
    expect(refs).toEqual([
      'line 2: new@clinic.example is not a patient (only a patient record can be shared)',
      'line 2: there is no team named "Unknown Team"',
      'line 3: nobody has the email nobody@clinic.example',
    ]);
    expect(await counts()).toEqual(before);
  });

  test('an unknown admin changes nothing (exit 2)', async () => {
    const before = await counts();
    expect(await importCli('clinic.csv', 'professional,a@b.example,A', ['--as', 'nobody@clinic.example'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('nobody@clinic.example is not an enabled admin'),
    });
    expect(await counts()).toEqual(before);
  });
});

/** The problems the import (in this process) finds in a CSV file, after checking it changed nothing. */
async function refusedImport(csv: string): Promise<string[]> {
  const before = await counts();
  const admin = await server.app.db.getRepository(User).findOneByOrFail({ email: ADMIN.email });
  const error = await new DirectoryImport({ uow: server.app.uow }).run(admin, readDirectory(csv, 'csv')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DirectoryFileError);
  expect(await counts()).toEqual(before);
  return (error as DirectoryFileError).problems;
}

describe('imported people', () => {
  test('sign in with the password hash the file gave them; without one, no password signs them in', async () => {
    const hash = await hashPassword('imported-password-1', 10);
    const directory = readDirectory(
      JSON.stringify({
        professionals: [{ email: 'with.hash@clinic.example', name: 'With Hash', passwordHash: hash }],
        patients: [{ email: 'no.hash@clinic.example', name: 'No Hash' }],
      }),
      'json',
    );
    const admin = await server.app.db.getRepository(User).findOneByOrFail({ email: ADMIN.email });
    expect(await new DirectoryImport({ uow: server.app.uow }).run(admin, directory)).toEqual({ professionals: 1, patients: 1, teams: 0, memberships: 0, shares: 0 });

    expect((await signIn(server.url, 'with.hash@clinic.example', 'imported-password-1')).user.name).toBe('With Hash');
    for (const password of ['', 'imported-password-1', 'not a password']) {
      const error = await failure(server.url, LOGIN, { e: 'no.hash@clinic.example', p: password });
      expect({ code: error.extensions?.code, message: error.message }).toEqual({ code: 'UNAUTHENTICATED', message: 'Wrong email or password' });
    }
  });
});
