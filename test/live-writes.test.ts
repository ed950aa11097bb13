import { Socket } from 'node:net';
import { connect, subscribe, until, untilSubscribed } from './support/live';
import { asRecipient, useLiveWorld } from './support/world';

// Frames written to one websocket in the same turn of the event loop leave
// in one write of its connection (live/corked-writes.ts), in order.

const env = useLiveWorld();

/** The writes of this process's sockets whose bytes hold `marker`, while `during` runs. */
async function writesHolding(marker: string, during: () => Promise<void>): Promise<string[]> {
  const writes: string[] = [];
  type Write = (this: Socket, chunk: Buffer | string, ...rest: unknown[]) => unknown;
  type Writev = (this: Socket, chunks: { chunk: Buffer | string }[], ...rest: unknown[]) => unknown;
  const proto = Socket.prototype as unknown as { _write: Write; _writev: Writev };
  const { _write: write, _writev: writev } = proto;
  const seen = (bytes: string) => bytes.includes(marker) && writes.push(bytes);
  proto._write = function (chunk, ...rest) {
    seen(String(chunk));
    return write.call(this, chunk, ...rest);
  };
  proto._writev = function (chunks, ...rest) {
    seen(chunks.map(({ chunk }) => String(chunk)).join(''));
    return writev.call(this, chunks, ...rest);
  };
  try {
    await during();
  } finally {
    Object.assign(proto, { _write: write, _writev: writev });
  }
  return writes;
}

test("a client's two subscriptions hear of a message in one write of its socket", async () => {
  const { server, world, clients } = env;
  const patient = await world.patient('Pat Corked');
  const professional = await world.professional('Dr Corked');
  const team = await world.team('Corked', { autoCc: true, members: [professional] });
  await world.share(patient, team);
  const threadId = await world.thread(patient, [asRecipient(team)]);
  const client = connect(server.wsUrl, professional.token);
  clients.push(client);
  const messages = subscribe(client, 'subscription { messageAdded { id body } }');
  const activity = subscribe(client, 'subscription { threadActivity { kind message { body } } }');
  await untilSubscribed(server, 2);

  const marker = 'Corked 7f3a';
  const writes = await writesHolding(marker, async () => {
    await world.send(patient, threadId, marker);
    await until(() => messages.received.length === 1 && activity.received.length === 1);
  });
  expect(messages.received).toEqual([{ messageAdded: { id: expect.any(String), body: marker } }]);
  expect(activity.received).toEqual([{ threadActivity: { kind: 'MESSAGE_ADDED', message: { body: marker } } }]);
  // The sendMessage request's own bytes hold the body too (its variables): one write of the websocket's.
  expect(writes.filter((bytes) => bytes.includes('"type":"next"'))).toHaveLength(1);
});
