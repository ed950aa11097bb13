import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent as FhirAuditEvent } from 'fhir/r4';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent, AuditEventOrganisation, AuditEventPatient, AuditOutcome } from '../src/modules/audit/audit-event.entity';
import { verifyChain } from '../src/modules/audit/audit-verify';
import { CARETHREAD, FHIR_ACTIONS } from '../src/modules/audit/fhir-audit-event';
import { runCli } from './support/cli';
import { extension, r4Problems } from './support/fhir-r4';
import { codes } from './support/graphql';
import { connect, subscribe, until, untilSubscribed } from './support/live';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';

/** The CLI as a child process, on `databaseEnv` (the test server's database unless told otherwise). */
const exportCli = (args: string[], databaseEnv: Record<string, string> = server.databaseEnv!) => runCli('audit-export.ts', args, databaseEnv);

/** An export that must succeed: its resources, after checking the output is NDJSON and the summary says how many. */
async function exported(args: string[]): Promise<FhirAuditEvent[]> {
  const run = await exportCli(args);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^exported \d+ audit events?\n$/) });
  expect(run.stdout === '' || run.stdout.endsWith('\n')).toBe(true);
  const lines = run.stdout.split('\n').slice(0, -1);
  const resources = lines.map((line) => {
    expect(line).not.toContain('\n');
    const value = JSON.parse(line);
    expect(typeof value).toBe('object');
    return value as FhirAuditEvent;
  });
  expect(run.stderr).toBe(`exported ${resources.length} audit event${resources.length === 1 ? '' : 's'}\n`);
  return resources;
}

const requestor = (r: FhirAuditEvent) => r.agent.find((a) => a.requestor)!;
const patientsOf = (r: FhirAuditEvent) => (r.entity ?? []).filter((e) => e.role?.code === '1').map((e) => e.what?.reference);

let server: TestServer;
let world: World;
let sqliteDir: string | null = null;
/** The activity: a patient's thread with a team, a live delivery, reads, a denied read; another patient's thread after `mid`. */
const act = {} as { pat: Person; other: Person; b: Person; outsider: Person; threadId: string; otherThreadId: string; mid: Date; organisationId: string };

const rows = () => server.app.db.getRepository(AuditEvent).find({ order: { id: 'ASC' } });
const idsOf = (events: readonly { id?: number | string }[]) => events.map((e) => String(e.id));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('npm run audit:export', () => {
  // Each run of the CLI starts ts-node: a few seconds, more on a busy machine.
  jest.setTimeout(120_000);

  beforeAll(async () => {
    if (!TEST_POSTGRES_URL) sqliteDir = mkdtempSync(join(tmpdir(), 'carethread-export-'));
    server = await startTestServer(sqliteDir ? { DATABASE_URL: `sqlite:${join(sqliteDir, 'carethread.sqlite')}` } : {});
    world = await World.create(server);
    act.organisationId = (await world.as(world.admin, '{ me { organisation { id } } }')).me.organisation.id;
    const { a, b, team, pat } = await world.careTeam('Export');
    const outsider = await world.professional('Outsider');

    // b, in the thread through the team, is pushed both messages live: two MESSAGE_DELIVERED.
    let threadId: string;
    const client = connect(server.wsUrl, b.token);
    try {
      const feed = subscribe(client, 'subscription { messageAdded { id } }');
      await untilSubscribed(server, 1);
      threadId = await world.thread(pat, [asRecipient(team)], 'first');
      await feed.waitFor(1);
      await world.send(a, threadId, 'reply');
      await feed.waitFor(2);
      const delivered = async () => (await server.app.db.getRepository(AuditEvent).countBy({ action: AuditAction.MessageDelivered })) >= 2;
      for (let ok = await delivered(); !ok; ok = await delivered()) await pause(10);
    } finally {
      await client.dispose();
    }
    await until(() => server.live.size === 0);
    await world.as(b, `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`, { t: threadId });
    await codes(server.url, `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`, { t: threadId }, outsider.token);

    await pause(5);
    const mid = new Date();
    await pause(5);
    const other = await world.patient('Other');
    const gp = await world.professional('GP');
    await world.share(other, gp);
    const otherThreadId = await world.thread(other, [asRecipient(gp)], 'other');
    Object.assign(act, { pat, other, b, outsider, threadId, otherThreadId, mid });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  });


  test('everything, oldest first: one valid R4 AuditEvent per line, matching the database, the chain head as audit:verify reports it', async () => {
    // Sealed now rather than within the second: every event has its hash.
    await server.app.auditSealer.sealAll(true);
    const [resources, events, links] = await Promise.all([exported([]), rows(), server.app.db.getRepository(AuditEventPatient).find()]);
    expect(idsOf(resources)).toEqual(idsOf(events));
    expect(resources.flatMap(r4Problems)).toEqual([]);
    resources.forEach((r, i) => {
      const e = events[i];
      expect(r.subtype).toEqual([{ system: CARETHREAD.action, code: e.action }]);
      expect(r.action).toBe(FHIR_ACTIONS[e.action].action);
      expect(r.outcome).toBe(e.outcome === AuditOutcome.DENIED ? '4' : '0');
      expect(r.recorded).toBe(e.at.toISOString());
      expect(requestor(r).who?.reference).toMatch(new RegExp(`^(Practitioner|Patient)/${e.actorId}$`));
      expect(r.source.observer.display).toBe(e.instanceId);
      expect(extension(r, CARETHREAD.hash)).toBe(e.hash);
      expect(patientsOf(r).sort()).toEqual(links.filter((l) => l.eventId === e.id).map((l) => `Patient/${l.patientId}`).sort());
    });
    expect(extension(resources[resources.length - 1], CARETHREAD.hash)).toBe((await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey })).head);

    const delivery = resources.find((r) => r.subtype?.[0].code === 'MESSAGE_DELIVERED' && r.agent.some((a) => a.who?.reference === `Practitioner/${act.b.id}`));
    expect(delivery?.agent.find((a) => a.who?.reference === `Practitioner/${act.b.id}`)).toMatchObject({ requestor: false, who: { display: act.b.name } });
    expect(patientsOf(delivery!)).toEqual([`Patient/${act.pat.id}`]);
  });

  test('--patient: the events concerning that patient, each naming them', async () => {
    const links = await server.app.db.getRepository(AuditEventPatient).findBy({ patientId: act.pat.id });
    const resources = await exported(['--patient', act.pat.id]);
    expect(idsOf(resources)).toEqual(links.map((l) => String(l.eventId)).sort((x, y) => Number(x) - Number(y)));
    expect(resources.length).toBeGreaterThan(5);
    expect(resources.every((r) => patientsOf(r).includes(`Patient/${act.pat.id}`))).toBe(true);
    expect(resources.some((r) => patientsOf(r).includes(`Patient/${act.other.id}`))).toBe(false);
  });

  test('--action and --thread', async () => {
    const [events, reads, thread] = await Promise.all([
      rows(),
      exported(['--action', 'THREAD_READ']),
      exported(['--thread', act.otherThreadId, '--action', 'MESSAGE_SENT']),
    ]);
    expect(idsOf(reads)).toEqual(idsOf(events.filter((e) => e.action === AuditAction.ThreadRead)));
    expect(reads.map((r) => r.outcome).sort()).toEqual(['0', '4']);
    expect(idsOf(thread)).toEqual(idsOf(events.filter((e) => e.threadId === act.otherThreadId && e.action === AuditAction.MessageSent)));
    expect(thread).toHaveLength(1);
  });

  test("--organisation: that organisation's events only, as its admins search them", async () => {
    const { id, world: clinic } = await world.organisation('Export Clinic');
    await clinic.professional('Export Clinic Nurse');
    const [all, links, ofClinic, ofFirst] = await Promise.all([
      rows(),
      server.app.db.getRepository(AuditEventOrganisation).find(),
      exported(['--organisation', id]),
      exported(['--organisation', act.organisationId]),
    ]);
    const of = (organisationId: string) => all.filter((e) => e.organisationId === organisationId || links.some((l) => l.eventId === e.id && l.organisationId === organisationId));
    expect(idsOf(ofClinic)).toEqual(idsOf(of(id)));
    // Made by the platform admin, of the first organisation: the organisation and its first admin are both's; the nurse its own.
    expect(ofClinic.map((r) => r.subtype?.[0]?.code).sort()).toEqual(['ORGANISATION_CREATED', 'USER_CREATED', 'USER_CREATED']);
    expect(idsOf(ofFirst)).toEqual(idsOf(of(act.organisationId)));
    expect(ofFirst.length).toBe(all.length - 1);
  });

  test('a denied attempt: outcome 4 with the reason, the one who tried as requestor (--actor)', async () => {
    const resources = await exported(['--actor', act.outsider.id]);
    expect(resources).toHaveLength(1);
    const [denied] = resources;
    const row = (await rows()).find((e) => e.outcome === AuditOutcome.DENIED)!;
    expect(denied).toMatchObject({
      id: String(row.id),
      subtype: [{ code: 'THREAD_READ' }],
      outcome: '4',
      outcomeDesc: 'NOT_FOUND: Thread not found',
      agent: [{ requestor: true, who: { reference: `Practitioner/${act.outsider.id}`, display: act.outsider.name } }],
    });
  });

  test('--from and --to, inclusive', async () => {
    const events = await rows();
    const first = events[0].at.toISOString();
    const [after, before, firstOnly, none] = await Promise.all([
      exported(['--from', act.mid.toISOString()]),
      exported(['--to', act.mid.toISOString()]),
      exported(['--from', first, '--to', first]),
      exported(['--to', '2000-01-01']),
    ]);
    expect(idsOf(after)).toEqual(idsOf(events.filter((e) => e.at >= act.mid)));
    expect(idsOf(before)).toEqual(idsOf(events.filter((e) => e.at <= act.mid)));
    expect(after.length * before.length).toBeGreaterThan(0);
    expect(after.some((r) => patientsOf(r).includes(`Patient/${act.other.id}`))).toBe(true);
    expect(before.some((r) => patientsOf(r).includes(`Patient/${act.other.id}`))).toBe(false);
    expect(idsOf(firstOnly)).toEqual(idsOf(events.filter((e) => e.at.getTime() === events[0].at.getTime())));
    expect(none).toEqual([]);
  });

  test('bad options and settings: exit 2, one line on stderr, nothing on stdout', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'carethread-export-empty-'));
    try {
      writeFileSync(join(emptyDir, 'empty.sqlite'), '');
      const cases: [string[], Record<string, string> | undefined, RegExp][] = [
        [['--patinet', 'x'], undefined, /Unknown option '--patinet'.*usage: audit-export/],
        [['--action', 'THREAD_DELETED'], undefined, /--action must be one of THREAD_CREATED, .*\(got "THREAD_DELETED"\)/],
        [['--from', 'yesterday'], undefined, /--from must be an ISO 8601 date/],
        [['--from', '2025-01-02', '--to', '2025-01-01'], undefined, /--from \(2025-01-02T00:00:00.000Z\) is after --to/],
        [['--organisation', '00000000-0000-4000-8000-000000000000'], undefined, /no organisation has the id 00000000-0000-4000-8000-000000000000/],
        [[], { DATABASE_URL: 'mysql://nope' }, /Invalid configuration: DATABASE_URL: must look like/],
        [[], { DATABASE_URL: `sqlite:${join(emptyDir, 'missing.sqlite')}` }, /no database file at .*missing\.sqlite/],
        [[], { DATABASE_URL: `sqlite:${join(emptyDir, 'empty.sqlite')}` }, /has no CareThread tables/],
      ];
      const runs = await Promise.all(cases.map(([args, env]) => exportCli(args, env)));
      runs.forEach((run, i) => {
        expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
        expect(run.stderr).toMatch(/^audit events not exported: [^\n]+\n$/);
        expect(run.stderr).toMatch(cases[i][2]);
      });
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
