import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import type { Person } from '../support/world';
import { SendMessageDocument } from '../../web/gql/graphql';
import { source } from '../support/graphql';
import { Connection, send, ThreadReader, untilLive } from './support/clients';
import { isError, startInstance, type Instance } from './support/instance';
import { describeScale, teamThread, useCluster } from './support/suite';

// "Faults" of a server process: a graceful stop (SIGTERM) and a crash
// (kill -9), each during a burst of sends. A and B of the cluster stay up for
// fixtures and checks; the process that is stopped or killed is an extra one
// on the same database and Redis.

const SEND = source(SendMessageDocument);

interface Burst {
  /** Ids of the sends that got a successful response. */
  ok: string[];
  /** Sends that got a response carrying errors: a stopping server must never answer like that. */
  refused: unknown[];
  /** Sends that got no response (connection refused, reset or closed). */
  lost: number;
}

/**
 * Sends through `via` as `author`, one after another, until `count` were sent,
 * `stop()` says so, or the server stops answering.
 */
async function burst(via: Instance, author: Person, threadId: string, count: number, into: Burst, stop: () => boolean = () => false): Promise<void> {
  for (let i = 1; i <= count && !stop(); i++) {
    let body: { data?: { sendMessage?: { id: string } }; errors?: unknown[] };
    try {
      const res = await fetch(via.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${author.token}` },
        body: JSON.stringify({ query: SEND, variables: { threadId, body: `${author.name} via ${via.name} #${i}` } }),
      });
      body = (await res.json()) as typeof body;
    } catch {
      into.lost++;
      return;
    }
    if (body.data?.sendMessage) into.ok.push(body.data.sendMessage.id);
    else into.refused.push(body.errors ?? body);
  }
}

/** Whether a new TCP connection to the port is refused. */
const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describeScale('faults: a server process stops or crashes', () => {
  const cluster = useCluster('faults_process');
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });

  test('SIGTERM during a burst of sends: stops accepting, finishes in-flight mutations, closes sockets with 1001, closes Redis and the database, exits 0 within 10 s; every send that got a response is stored', async () => {
    const { a, world, db, schema } = cluster;
    const t = await startInstance('T', { schema });
    const { pat, members, threadId, probeId } = await teamThread(world, 'Term', 2);
    const listener = new Connection(members[0], t);
    open.push(listener);
    await untilLive([listener], probeId, a, pat);

    // A request in flight that outlasts the signal: its headers are in, half of its body is not.
    const slowBody = JSON.stringify({ query: SEND, variables: { threadId, body: 'in flight across the SIGTERM' } });
    const { port } = new URL(t.url);
    const slow = request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(slowBody), authorization: `Bearer ${pat.token}` },
    });
    const slowResponse = new Promise<{ status: number; body: any }>((resolve, reject) => {
      slow.once('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      slow.once('error', reject);
    });
    slow.write(slowBody.slice(0, 20));

    const result: Burst = { ok: [], refused: [], lost: 0 };
    const senders = [pat, ...members].flatMap((person) => [burst(t, person, threadId, 1000, result), burst(t, person, threadId, 1000, result)]);
    await until(() => result.ok.length >= 40, 20_000, '40 sends');
    const signalledAt = Date.now();
    t.signal('SIGTERM');
    await t.waitForLog((line) => line.msg === 'shutting down', 5_000);

    // No new connection, while the process is still draining the request in flight.
    await until(() => refusesConnections(Number(port)), 2_000, 'the port to refuse connections');
    let exitedEarly = false;
    void t.exited.then(() => (exitedEarly = true));
    expect(exitedEarly).toBe(false);
    // The drain waits for it (up to the server's grace period) rather than cutting it off.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(exitedEarly).toBe(false);
    slow.end(slowBody.slice(20));
    const finished = await slowResponse;
    expect(finished.status).toBe(200);
    expect(finished.body.errors).toBeUndefined();
    result.ok.push(finished.body.data.sendMessage.id);

    await Promise.all(senders);
    const exit = await t.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    expect(await listener.closed).toBe(1001);
    expect(t.logs().filter(isError)).toEqual([]);

    // Every send that got a response is stored; none was answered with an error.
    expect(result.refused).toEqual([]);
    const stored = new Set((await db.messages(schema, threadId)).map((m) => m.id));
    expect(result.ok.filter((id) => !stored.has(id))).toEqual([]);
    console.log(
      `SIGTERM: ${result.ok.length} sends answered (${stored.size - 1} stored), ${result.lost} cut off without a response; exit 0 after ${exit.at - signalledAt} ms`,
    );
  });

  test('kill -9 of one of two instances during a burst of sends through both: every send that got a response is stored and reaches every participant exactly once, live or by catch-up', async () => {
    const { a, world, db, schema } = cluster;
    const k = await startInstance('K', { schema });
    const { pat, everyone, threadId, probeId } = await teamThread(world, 'Crash', 3);

    // Every participant reads the thread on A and on K.
    const readers = everyone.flatMap((person) => [a, k].map((instance) => ({ reader: new ThreadReader(person, threadId), instance })));
    for (const { reader, instance } of readers) open.push(reader.connect(instance));
    await untilLive(
      readers.map((r) => r.reader.connection!),
      probeId,
      a,
      pat,
    );
    await Promise.all(readers.map(({ reader, instance }) => reader.catchUp(instance)));
    const firstConnections = readers.map((r) => r.reader.connection!);

    const result: Burst = { ok: [], refused: [], lost: 0 };
    const PER_SENDER = 25;
    const senders = everyone.flatMap((person) => [burst(a, person, threadId, PER_SENDER, result), burst(k, person, threadId, PER_SENDER, result)]);
    await until(() => result.ok.length >= 30, 20_000, '30 sends');
    k.signal('SIGKILL');
    const exit = await k.exited;
    expect(exit.signal).toBe('SIGKILL');

    // The clients of K lose their socket, reconnect to the survivor, subscribe, then catch up.
    const moved = readers.filter((r) => r.instance === k);
    await Promise.all(moved.map((r) => r.reader.connection!.closed));
    for (const { reader } of moved) open.push(reader.connect(a));
    await untilLive(
      moved.map((r) => r.reader.connection!),
      probeId,
      a,
      pat,
    );
    await Promise.all(moved.map((r) => r.reader.catchUp(a)));
    await Promise.all(senders);
    // A message K committed but never published (killed in between) reaches A's subscribers with
    // the thread's next message, which fills the gap from the database: here, this one.
    result.ok.push(await send(a, pat, threadId, 'after the crash'));

    const stored = (await db.messages(schema, threadId)).map((m) => m.id);
    const storedSet = new Set(stored);
    expect(result.refused).toEqual([]);
    expect(result.ok.filter((id) => !storedSet.has(id))).toEqual([]);
    for (const { reader } of readers) {
      await reader.connection!.until(() => reader.messages.length >= stored.length, 15_000, () => `(${reader.messages.length} of ${stored.length})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const { reader, instance } of readers) {
      expect({ who: `${reader.person.name}, first on ${instance.name}`, messages: reader.messages }).toEqual({
        who: `${reader.person.name}, first on ${instance.name}`,
        messages: stored,
      });
    }
    // Each live stream, before and after the move, was in sequence order without duplicates.
    const seq = new Map((await db.messages(schema, threadId)).map((m) => [m.id, m.seq]));
    for (const connection of [...firstConnections, ...readers.map((r) => r.reader.connection!)]) {
      const seqs = connection.ids(threadId).map((id) => seq.get(id)!);
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
    }
    console.log(`kill -9: ${result.ok.length} sends answered, ${result.lost} cut off, ${stored.length} stored; ${moved.length} clients moved to A`);
  });
});
