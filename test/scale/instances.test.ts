import { ok } from '../support/graphql';
import { ADMIN } from '../support/server';
import { asRecipient, type Person } from '../support/world';
import { migrations } from '../../src/tables';
import { Connection, send, settle, untilLive } from './support/clients';
import { RunDatabase } from './support/database';
import { isError, startInstance, type Instance } from './support/instance';
import { newSchemaName } from './support/services';
import { describeScale, teamThread, useCluster } from './support/suite';

// "Several instances": two server processes on one PostgreSQL schema and one
// Redis. Fixtures are made through A; each rule is checked across A and B.

describeScale('several instances', () => {
  const cluster = useCluster('instances');
  const open: Connection[] = [];
  const online = (person: Person, instance: Instance) => {
    const connection = new Connection(person, instance);
    open.push(connection);
    return connection;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });

  test('a subscriber on instance A receives a message sent through instance B (team thread, several subscribers on both instances)', async () => {
    const { a, b, world } = cluster;
    const { pat, members, threadId, probeId } = await teamThread(world, 'Cross', 3);
    const [d1, d2, d3] = members;
    const outsider = await world.professional('Cross Outsider');
    const colleague = await world.professional('Cross Colleague');
    const outsiderProbe = await world.thread(outsider, [asRecipient(colleague)], 'probe', 'Probe');

    const team = [online(d1, a), online(d2, a), online(pat, a), online(d3, b), online(pat, b), online(d2, b)];
    const outside = [online(outsider, a), online(outsider, b)];
    await untilLive(team, probeId, a, pat);
    await untilLive(outside, outsiderProbe, a, outsider);

    const viaB = await send(b, pat, threadId, 'sent through B');
    const viaA = await send(a, d3, threadId, 'sent through A');

    for (const connection of team) await connection.until(() => connection.ids(threadId).length >= 2);
    await settle(team, probeId, pat, [a, b]);
    await settle(outside, outsiderProbe, outsider, [a, b]);
    for (const connection of team) {
      // Once each (an instance ignores its own echo from Redis), in the order sent.
      expect({ on: connection.instance.name, who: connection.person.name, ids: connection.ids(threadId) }).toEqual({
        on: connection.instance.name,
        who: connection.person.name,
        ids: [viaB, viaA],
      });
      expect(connection.errors).toEqual([]);
    }
    for (const connection of outside) expect(connection.ids(threadId)).toEqual([]);
  });

  test('joining (addParticipants) and leaving on one instance takes effect for deliveries on the other at once', async () => {
    const { a, b, world } = cluster;
    const doctor = await world.professional('Join Dr');
    const nurse = await world.professional('Join Nurse');
    const latecomer = await world.professional('Join Latecomer');
    const threadId = await world.thread(doctor, [asRecipient(nurse)], 'before the latecomer');
    const probe = await world.thread(doctor, [asRecipient(latecomer), asRecipient(nurse)], 'probe', 'Probe');

    const late = [online(latecomer, a), online(latecomer, b)];
    const stays = [online(nurse, a), online(nurse, b)];
    await untilLive([...late, ...stays], probe, a, doctor);

    // Added through B; the very next sends, through both instances, reach both of the latecomer's connections.
    await ok(b.url, `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`, { t: threadId, r: [asRecipient(latecomer)] }, doctor.token);
    const joined1 = await send(a, doctor, threadId, 'after joining, through A');
    const joined2 = await send(b, nurse, threadId, 'after joining, through B');
    for (const connection of late) await connection.until(() => connection.ids(threadId).length >= 2);

    // Leaves through A; the very next sends, through both instances, reach neither of them.
    await ok(a.url, `mutation($t: ID!) { leaveThread(threadId: $t) }`, { t: threadId }, latecomer.token);
    const left1 = await send(b, doctor, threadId, 'after leaving, through B');
    const left2 = await send(a, nurse, threadId, 'after leaving, through A');

    for (const connection of stays) await connection.until(() => connection.ids(threadId).length >= 4);
    await settle([...late, ...stays], probe, doctor, [a, b]);
    for (const connection of late) expect(connection.ids(threadId)).toEqual([joined1, joined2]);
    for (const connection of stays) expect(connection.ids(threadId)).toEqual([joined1, joined2, left1, left2]);
  });

  test('two instances starting at once on an empty database run the migrations safely (both come up, the migration ran once)', async () => {
    const schema = newSchemaName('migrate');
    // Startup jitter (about 2 s of compiling each) would make "at once" luck. The test creates the
    // schema in a transaction it keeps open: the first statement of a migration run (CREATE SCHEMA
    // IF NOT EXISTS) waits on it. Once both processes are held at that point (one there, the other
    // on the migration lock), the transaction rolls back and both are released together.
    const gate = await RunDatabase.open();
    await gate.query('BEGIN');
    await gate.query(`CREATE SCHEMA "${schema}"`);
    const started = Date.now();
    const starting = Promise.all([startInstance('C', { schema }), startInstance('D', { schema })]);
    let waiting: { pid: number; wait_event: string }[] = [];
    try {
      const deadline = Date.now() + 60_000;
      while (waiting.length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        waiting = await cluster.db.query(
          `SELECT pid, wait_event FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
      }
    } finally {
      await gate.query('ROLLBACK');
      await gate.close();
    }
    expect(waiting).toHaveLength(2);
    const [c, d] = await starting;
    const upAfter = Date.now() - started;
    try {
      const ran = await cluster.db.query<{ name: string }>(`SELECT name FROM "${schema}".migrations ORDER BY id`);
      expect(ran.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
      // The start-up admin is created once as well, though both instances were told to.
      const admins = await cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".users WHERE email = $1`, [ADMIN.email]);
      expect(Number(admins[0].n)).toBe(1);
      for (const instance of [c, d]) {
        expect((await fetch(instance.url.replace('/graphql', '/healthz'))).status).toBe(200);
        const { login } = await ok(instance.url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { id } } }`, {
          e: ADMIN.email,
          p: ADMIN.password,
        });
        expect(login.user.id).toEqual(expect.any(String));
        expect(instance.logs().filter(isError)).toEqual([]);
      }
      console.log(`two instances released together on an empty schema (waits: ${waiting.map((w) => w.wait_event).join(', ')}): both listening ${upAfter} ms after spawning`);
    } finally {
      await Promise.all([c.stop(), d.stop()]);
    }
  });
});
