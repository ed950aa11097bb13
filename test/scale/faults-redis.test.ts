import { asRecipient, type Person, type World } from '../support/world';
import { Connection, send, settle, untilLive } from './support/clients';
import type { RunDatabase } from './support/database';
import { isError, startInstance, type Instance, type LogLine } from './support/instance';
import { REDIS_URL } from './support/services';
import { describeScale, teamThread, useCluster } from './support/suite';
import { TcpProxy } from './support/tcp-proxy';

// "Faults": Redis unavailable. Each instance reaches Redis through its own TCP
// proxy (test/scale/support/tcp-proxy.ts), so a test takes Redis away from one
// process without touching the machine's Redis, which other runs share:
// - cut: connections reset and refused, as when Redis is down;
// - stall: connections stay open and nothing answers, as in a network partition.
//
// The instances of this file run with a 128 MB heap (--max-old-space-size), so
// that V8 cannot put off collecting for long and a server that keeps something
// per send runs out of memory within the burst. Bodies are 10,000 characters,
// the most a message may have. Checked by breaking it on purpose: keeping one
// copy of each send made B run out of memory here, and so did a feed that kept
// every event it saw (RSS +40 MB over 3,000 sends before that); as it is, RSS
// stays within a few MB across 4,000 sends.

const HEAP = '--max-old-space-size=128';
const LOST = (line: LogLine) => line.msg.startsWith('lost the Redis link');
const BACK = (line: LogLine) => line.msg === 'Redis link is back';
/** B's outbox relay is done with the outage: it delivered what B missed and sent what it could not. */
const CAUGHT_UP = (line: LogLine) => line.msg.startsWith('delivered the events written while the Redis link was down');
const BODY = 'x'.repeat(10_000);
const MB = 1024;

describeScale('faults: Redis unavailable', () => {
  const cluster = useCluster('faults_redis', { proxied: true, nodeArgs: [HEAP] });
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
    cluster.proxies.a.restore();
    cluster.proxies.b.restore();
  });

  function online(person: Person, instance: Instance): Connection {
    const connection = new Connection(person, instance);
    open.push(connection);
    return connection;
  }

  test('Redis unavailable: the server stays up, sends still store and reach subscribers on the same instance, memory stays bounded, and subscribers on the other instance catch up when Redis returns', async () => {
    const { a, b, world, db, schema, proxies } = cluster;
    const { pat, members, everyone, team, threadId, probeId } = await teamThread(world, 'Outage', 3);
    // A second thread of the same people, written only through A while B is cut off.
    const second = await world.thread(pat, [asRecipient(team)], 'Outage: second thread first');
    const connections = everyone.flatMap((person) => [online(person, a), online(person, b)]);
    const onA = connections.filter((c) => c.instance === a);
    const onB = connections.filter((c) => c.instance === b);
    await untilLive(connections, probeId, a, pat);

    const mark = b.logs().length;
    proxies.b.cut();
    await b.waitForLog(LOST, 10_000, mark);

    // Through both instances in turn, ending with B: B's subscribers get every message (A's fill
    // the gaps between B's from the database); A's lack the last one until Redis returns.
    const sent: string[] = [];
    for (let i = 1; i <= 3; i++) {
      sent.push(await send(b, pat, threadId, `outage via B ${i}`));
      sent.push(await send(a, members[0], threadId, `outage via A ${i}`));
    }
    sent.push(await send(b, members[1], threadId, 'outage via B, last'));
    const secondSent = [await send(a, members[2], second, 'second via A 1'), await send(a, pat, second, 'second via A 2')];

    expect((await db.messages(schema, threadId)).filter((m) => m.seq > 1).map((m) => m.id)).toEqual(sent);
    for (const connection of onB) await connection.until(() => connection.ids(threadId).length === sent.length);
    for (const connection of onA) await connection.until(() => connection.ids(threadId).length === sent.length - 1 && connection.ids(second).length === 2);
    await settle(onB, probeId, pat, [b]);
    for (const connection of onB) expect(connection.ids(second)).toEqual([]);

    const rss = await sendBurst(world, db, schema, b, 'Outage', [1000, 1000, 1000, 1000]);

    // Redis returns: what was committed meanwhile reaches both ways (B delivers what it missed, the outbox relay sends what B could not), with no new message needed.
    proxies.b.restore();
    await b.waitForLog(BACK, 15_000, mark);
    for (const connection of connections) {
      await connection.until(() => connection.ids(threadId).length >= sent.length && connection.ids(second).length >= secondSent.length, 30_000);
    }
    await settle(connections, probeId, pat, [a, b]);
    for (const connection of connections) {
      const who = `${connection.person.name}@${connection.instance.name}`;
      expect({ who, first: connection.ids(threadId), second: connection.ids(second) }).toEqual({ who, first: sent, second: secondSent });
    }
    expect([...a.logs(), ...b.logs()].filter(isError)).toEqual([]);
    // The catch-up replays everything written since the outage began, whoever it is for: once it
    // ends, the next test's threads cannot reach its subscribers as a replay of this outage.
    await b.waitForLog(CAUGHT_UP, 60_000, mark);
    console.log(`Redis cut off from B: RSS of B ${rss}`);
  });

  test('Redis stops answering on an open connection (a partition): sends still store, memory stays bounded, and subscribers on the other instance catch up when it answers again', async () => {
    const { a, b, world, db, schema, proxies } = cluster;
    const { pat, everyone, threadId, probeId } = await teamThread(world, 'Stall', 2);
    const connections = everyone.flatMap((person) => [online(person, a), online(person, b)]);
    await untilLive(connections, probeId, a, pat);

    const mark = b.logs().length;
    proxies.b.stall();
    const sent = [await send(b, pat, threadId, 'stalled via B 1'), await send(b, pat, threadId, 'stalled via B 2')];
    // Every send waits for a reply that never comes: the server must not keep them all.
    const rss = await sendBurst(world, db, schema, b, 'Stall', [1000, 1000, 1000]);

    proxies.b.restore();
    await b.waitForLog(BACK, 30_000, mark);
    for (const connection of connections) await connection.until(() => connection.ids(threadId).length >= sent.length, 30_000);
    await settle(connections, probeId, pat, [a, b]);
    for (const connection of connections) expect(connection.ids(threadId)).toEqual(sent);
    await b.waitForLog(CAUGHT_UP, 60_000, mark);
    console.log(`Redis stalled for B: RSS of B ${rss}`);
  });

  test('SIGTERM while Redis does not answer still closes everything and exits 0 within 10 s', async () => {
    const proxy = await new TcpProxy(REDIS_URL).start();
    const c = await startInstance('C', { schema: cluster.schema, redisUrl: proxy.url, nodeArgs: [HEAP] });
    try {
      await c.waitForLog((line) => line.msg === 'CareThread is listening');
      proxy.stall();
      const signalledAt = Date.now();
      c.signal('SIGTERM');
      const exit = await c.exited;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.at - signalledAt).toBeLessThan(10_000);
      console.log(`SIGTERM with Redis stalled: exit 0 after ${exit.at - signalledAt} ms`);
    } finally {
      await c.stop();
      await proxy.close();
    }
  });
});

/**
 * Sends rounds of 10,000-character messages through `via` (8 at a time) in a
 * thread with a subscriber on the same instance; checks that each is stored
 * and delivered there, that the server stays up and that its RSS stays within
 * a generous bound. Returns the RSS samples, for the log.
 */
async function sendBurst(world: World, db: RunDatabase, schema: string, via: Instance, label: string, rounds: number[]): Promise<string> {
  const doctor = await world.professional(`${label} Bulk Dr`);
  const nurse = await world.professional(`${label} Bulk Nurse`);
  const bulk = await world.thread(doctor, [asRecipient(nurse)], 'bulk');
  const nurseThere = new Connection(nurse, via);
  try {
    await untilLive([nurseThere], bulk, via, doctor);
    const before = (await db.messages(schema, bulk)).length;
    const started = Date.now();
    const samples: number[] = [];
    let ended = false;
    void via.exited.then(() => (ended = true));
    for (const count of rounds) {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < count) {
            next++;
            await send(via, doctor, bulk, BODY);
          }
        }),
      );
      samples.push(via.rssKb());
    }
    const total = rounds.reduce((sum, n) => sum + n, 0);
    expect(ended).toBe(false);
    expect(await db.messages(schema, bulk)).toHaveLength(before + total);
    const received = () => nurseThere.received.filter((m) => m.threadId === bulk && m.body === BODY).length;
    await nurseThere.until(() => received() === total, 30_000, () => `(${received()} of ${total})`);
    // After the first round the heap has grown to its working size: from there on, no steady growth.
    expect(samples.at(-1)! - samples[0]).toBeLessThan(24 * MB);
    return `${samples.map((kb) => `${(kb / MB).toFixed(0)} MB`).join(' -> ')} after each round of ${rounds.join('/')} sends (${Date.now() - started} ms)`;
  } finally {
    await nurseThere.dispose();
  }
}
