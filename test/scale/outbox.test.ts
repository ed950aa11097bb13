import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ok } from '../support/graphql';
import { asRecipient, type Person } from '../support/world';
import { Connection, send, untilLive } from './support/clients';
import { isError, startInstance, type Instance } from './support/instance';
import { REDIS_URL } from './support/services';
import { describeScale, teamThread, useCluster } from './support/suite';
import { TcpProxy } from './support/tcp-proxy';

// The transactional outbox across processes: an event is written with the change that makes it,
// so neither a process killed between its commit and its publish, nor a Redis link that is down
// when the change commits, loses it for the subscribers of the other instances (src/events/outbox.ts).

/** Relays look every second for rows unpublished for longer than that; escalation rounds run only on the instance a test starts for them. */
const RELAY_MS = '1000';
const NO_ESCALATION_ROUNDS = '3600000';

const ACTIVITY = 'subscription { threadActivity { kind threadId teamId } }';

interface Activity {
  kind: string;
  threadId: string;
  teamId: string | null;
}

/** A dashboard's threadActivity subscription of one person on one instance. */
class ActivityFeed {
  readonly received: Activity[] = [];
  readonly errors: unknown[] = [];
  private readonly client: Client;

  constructor(
    readonly person: Person,
    readonly instance: Instance,
  ) {
    this.client = createClient({ url: instance.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${person.token}` }, retryAttempts: 0 });
    this.client.subscribe<{ threadActivity: Activity }>(
      { query: ACTIVITY },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.received.push(value.data.threadActivity);
        },
        error: (error) => this.errors.push(error),
        complete: () => undefined,
      },
    );
  }

  of(kind: string, threadId: string): Activity[] {
    return this.received.filter((a) => a.kind === kind && a.threadId === threadId);
  }

  dispose(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }
}

const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describeScale('outbox: live events survive a crash after the commit and a Redis outage', () => {
  const cluster = useCluster('outbox', { env: { OUTBOX_RELAY_MS: RELAY_MS, ESCALATION_POLL_MS: NO_ESCALATION_ROUNDS } });
  const open: { dispose(): Promise<void> }[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  async function proxiedInstance(name: string, env: Record<string, string> = {}): Promise<{ instance: Instance; proxy: TcpProxy }> {
    const proxy = await new TcpProxy(REDIS_URL).start();
    proxies.push(proxy);
    const instance = await startInstance(name, { schema: cluster.schema, redisUrl: proxy.url, env: { OUTBOX_RELAY_MS: RELAY_MS, ESCALATION_POLL_MS: NO_ESCALATION_ROUNDS, ...env } });
    return { instance, proxy };
  }

  test('kill -9 between commits and their publish: subscribers on the other instance get every message, in order and once, with no further send (the relay)', async () => {
    const { a, world, db, schema } = cluster;
    const { instance: k, proxy } = await proxiedInstance('K');
    const { pat, members, everyone, threadId, probeId } = await teamThread(world, 'Killed', 2);
    const connections = everyone.map((person) => new Connection(person, a));
    open.push(...connections);
    await untilLive(connections, probeId, a, pat);

    // K's Redis stops answering: each send commits, and its publish waits for a reply that never comes.
    proxy.stall();
    const sent: string[] = [];
    for (let i = 1; i <= 5; i++) sent.push(await send(k, i % 2 ? pat : members[0], threadId, `committed on K ${i}`));
    k.signal('SIGKILL');
    expect((await k.exited).signal).toBe('SIGKILL');

    const stored = (await db.messages(schema, threadId)).map((m) => m.id);
    expect(stored.slice(-sent.length)).toEqual(sent);
    for (const connection of connections) {
      await connection.until(() => sent.every((id) => connection.ids(threadId).includes(id)), 20_000, () => `(${connection.ids(threadId).length} messages)`);
    }
    // Nothing more comes: each once, in order.
    await new Promise((resolve) => setTimeout(resolve, 2 * Number(RELAY_MS)));
    for (const connection of connections) {
      const who = `${connection.person.name}@${connection.instance.name}`;
      expect({ who, ids: connection.ids(threadId) }).toEqual({ who, ids: stored.slice(1) });
    }
    const [{ count }] = await db.query<{ count: string }>(`SELECT count(*) FROM "${schema}".outbox_events WHERE "publishedAt" IS NULL`);
    expect(Number(count)).toBe(0);
    expect(a.logs().filter(isError)).toEqual([]);
  });

  test('participant changes and escalation alerts made while an instance had no Redis link reach the subscribers of the other instance once it is back, and it delivers what it missed', async () => {
    const { a, world, db, schema } = cluster;
    // C alone runs escalation rounds, every 200 ms.
    const { instance: c, proxy } = await proxiedInstance('C', { ESCALATION_POLL_MS: '200' });
    const { pat, members, team, threadId } = await teamThread(world, 'Cut', 2);
    const [m1, m2] = members;
    const extra = await world.professional('Cut Extra');
    const joiner = await world.professional('Cut Joiner');
    const prober = await world.professional('Cut Prober');
    await ok(a.url, 'mutation($t: ID!) { setTeamWaitingLimit(teamId: $t, minutes: 60) { id } }', { t: team.id }, m1.token);
    // The patient waits (alert due in an hour; the test moves it to now below).
    await send(a, pat, threadId, 'still waiting');

    const feeds = new Map<string, ActivityFeed>();
    for (const person of [m1, m2, extra, joiner]) {
      for (const instance of [a, c]) {
        const feed = new ActivityFeed(person, instance);
        open.push(feed);
        feeds.set(`${person.name}@${instance.name}`, feed);
      }
    }
    const feed = (person: Person, instance: Instance) => feeds.get(`${person.name}@${instance.name}`)!;
    // Live on both instances: probe threads through A until every feed heard of one.
    const probes = new Set<string>();
    await until(
      async () => {
        if ([...feeds.values()].every((f) => f.received.some((r) => probes.has(r.threadId)))) return true;
        probes.add(await world.thread(prober, [asRecipient(team), asRecipient(extra), asRecipient(joiner)], 'probe', 'Probe'));
        return false;
      },
      15_000,
      () => 'every activity feed to be live',
    );

    proxy.cut();
    await c.waitForLog((line) => line.msg.startsWith('lost the Redis link'), 10_000);

    // On C, whose events cannot reach Redis now:
    await ok(c.url, 'mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }', { t: threadId, r: [asRecipient(extra)] }, m2.token);
    await ok(c.url, 'mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }', { t: team.id, u: joiner.id }, world.admin.token);
    await db.query(`UPDATE "${schema}".thread_teams SET "escalationDueAt" = now() - interval '1 second' WHERE "threadId" = $1`, [threadId]);
    await until(
      async () => (await db.query(`SELECT 1 FROM "${schema}".thread_teams WHERE "threadId" = $1 AND "escalatedAt" IS NOT NULL`, [threadId])).length > 0,
      10_000,
      () => "C's escalation round to send the alert",
    );
    // On A meanwhile, which C cannot hear of now:
    const missed = await world.thread(m1, [asRecipient(extra)], 'while C was cut off', 'Missed');

    proxy.restore();
    await c.waitForLog((line) => line.msg === 'Redis link is back', 15_000);

    // [feed, kind, thread, how many]: m1 hears of two changes of the thread's participants (extra, then joiner through the team).
    const expectations: [ActivityFeed, string, string, number][] = [
      [feed(extra, a), 'ADDED_TO_THREAD', threadId, 1],
      [feed(m1, a), 'PARTICIPANTS_CHANGED', threadId, 2],
      [feed(joiner, a), 'ADDED_TO_THREAD', threadId, 1],
      [feed(m1, a), 'ESCALATED', threadId, 1],
      [feed(m2, a), 'ESCALATED', threadId, 1],
      [feed(joiner, a), 'ESCALATED', threadId, 1],
      [feed(extra, c), 'ADDED_TO_THREAD', missed, 1],
    ];
    for (const [f, kind, thread, count] of expectations) {
      await until(() => f.of(kind, thread).length >= count, 20_000, () => `${kind} on ${thread} for ${f.person.name}@${f.instance.name}: ${JSON.stringify(f.received)}`);
    }
    // Each once, however many instances relayed or replayed it.
    await new Promise((resolve) => setTimeout(resolve, 2 * Number(RELAY_MS)));
    const heard = (f: ActivityFeed, kind: string, thread: string) => ({ who: `${f.person.name}@${f.instance.name}`, kind, count: f.of(kind, thread).length });
    expect(expectations.map(([f, kind, thread]) => heard(f, kind, thread))).toEqual(expectations.map(([f, kind, , count]) => ({ ...heard(f, kind, ''), count })));
    for (const f of feeds.values()) expect(f.errors).toEqual([]);
    expect([...a.logs(), ...c.logs()].filter(isError)).toEqual([]);
  });
});
