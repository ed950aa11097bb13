import type { Person } from '../support/world';
import { Connection, send, settle, ThreadReader, untilLive } from './support/clients';
import type { Instance } from './support/instance';
import { describeScale, teamThread, useCluster } from './support/suite';

// "Order and catch-up" across two server processes: each thread's messages
// carry a gap-free sequence number, every subscriber gets them in that order
// and once, and a client that was away catches up with thread.messages(after:).

describeScale('order and catch-up', () => {
  const cluster = useCluster('order');
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });

  /** Sends `count` messages as `author` through `via`, one after another; returns their ids. */
  async function sendMany(via: Instance, author: Person, threadId: string, count: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 1; i <= count; i++) ids.push(await send(via, author, threadId, `${label} ${i}`));
    return ids;
  }

  /** The sequence numbers of `ids`, from the database. */
  async function seqs(threadId: string, ids: string[]): Promise<number[]> {
    const stored = new Map((await cluster.db.messages(cluster.schema, threadId)).map((m) => [m.id, m.seq]));
    return ids.map((id) => stored.get(id) ?? -1);
  }

  const increasing = (values: number[]) => values.every((v, i) => i === 0 || v > values[i - 1]);

  test('every subscriber receives one thread\'s messages in sequence order (concurrent senders through both instances) and each exactly once', async () => {
    const { a, b, world } = cluster;
    const { everyone, threadId, probeId, pat } = await teamThread(world, 'Order', 4);
    const connections = everyone.flatMap((person) => [a, b].map((instance) => new Connection(person, instance)));
    open.push(...connections);
    await untilLive(connections, probeId, a, pat);

    // Every participant sends through A and through B at the same time: ten concurrent senders.
    const PER_SENDER = 15;
    const sent = (await Promise.all(everyone.flatMap((person) => [a, b].map((via) => sendMany(via, person, threadId, PER_SENDER, `${person.name} via ${via.name}`))))).flat();
    const expected = (await cluster.db.messages(cluster.schema, threadId)).filter((m) => m.seq > 1).map((m) => m.id);
    expect(expected).toHaveLength(sent.length);
    expect(new Set(expected)).toEqual(new Set(sent));

    await Promise.all(connections.map((c) => c.until(() => c.ids(threadId).length >= expected.length, 30_000, () => `(${c.ids(threadId).length} of ${expected.length})`)));
    await settle(connections, probeId, pat, [a, b]);
    for (const connection of connections) {
      expect({ who: `${connection.person.name}@${connection.instance.name}`, ids: connection.ids(threadId) }).toEqual({
        who: `${connection.person.name}@${connection.instance.name}`,
        ids: expected,
      });
      expect(connection.errors).toEqual([]);
    }
  });

  test('catch-up: a client disconnects, messages are sent, it reconnects, subscribes, fetches thread.messages(after: lastCursor) and ends with every message exactly once, in order', async () => {
    const { a, b, world } = cluster;
    const { pat, members, threadId, probeId } = await teamThread(world, 'CatchUp', 2);
    const [reader, colleague] = members;
    const client = new ThreadReader(reader, threadId);

    open.push(client.connect(a));
    await untilLive([client.connection!], probeId, b, pat);
    await client.catchUp(a);
    const before = [...(await sendMany(a, pat, threadId, 3, 'seen live via A')), ...(await sendMany(b, colleague, threadId, 3, 'seen live via B'))];
    await client.connection!.until(() => client.messages.length === 1 + before.length);
    const firstConnection = client.connection!;

    // Offline: the thread moves on through both instances.
    await firstConnection.dispose();
    await Promise.all([sendMany(a, pat, threadId, 10, 'missed via A'), sendMany(b, colleague, threadId, 10, 'missed via B')]);

    // Back, on the other instance, while both keep sending.
    let sending = true;
    const background = Promise.all(
      [
        [a, pat],
        [b, colleague],
        [a, colleague],
        [b, pat],
      ].map(async ([via, author], n) => {
        for (let i = 1; sending; i++) await send(via as Instance, author as Person, threadId, `during reconnect ${n}.${i}`);
      }),
    );
    open.push(client.connect(b));
    await untilLive([client.connection!], probeId, a, pat);
    await client.catchUp(b);
    await new Promise((resolve) => setTimeout(resolve, 300));
    sending = false;
    await background;
    await send(a, pat, threadId, 'last');

    const stored = (await cluster.db.messages(cluster.schema, threadId)).map((m) => m.id);
    await client.connection!.until(() => client.messages.length >= stored.length, 15_000, () => `(${client.messages.length} of ${stored.length})`);
    await settle([client.connection!], probeId, pat, [a, b]);
    expect(client.messages).toEqual(stored);
    // Each connection's live stream was itself in order, without duplicates.
    for (const connection of [firstConnection, client.connection!]) expect(increasing(await seqs(threadId, connection.ids(threadId)))).toBe(true);
    console.log(`catch-up: ${stored.length} messages, ${client.connection!.ids(threadId).length} of them live after reconnecting`);
  });
});
