import { EventEmitter } from 'node:events';
import { GraphQLError, parse, type ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { MESSAGE_ADDED, PARTICIPANTS_CHANGED, type MessageAddedEvent, type TopicEvent } from '../../src/events/event-bus';
import type { Audience } from '../../src/live/audience';
import { LiveFeed, type LiveViewer } from '../../src/live/live-feed';
import { LiveHub, MAX_SOCKET_BACKLOG_BYTES, type LiveOperation, type ThreadEvent } from '../../src/live/live-hub';
import { createLogger } from '../../src/logger';

// The live hub with sockets that only record what is written to them, feeds
// that count how often they are asked, and an execution that counts its runs.

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  frames: string[] = [];
  terminated = false;
  send(frame: string) {
    this.frames.push(frame);
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  payloads() {
    return this.frames.map((f) => JSON.parse(f) as { id: string; type: string; payload: ExecutionResult });
  }
}

/** A feed that hears every message as one root key, and counts how often the hub asked it. */
class CountingFeed extends LiveFeed {
  asked = 0;
  keyOf(event: TopicEvent): string | null {
    this.asked++;
    return event.topic === MESSAGE_ADDED ? 'message' : null;
  }
  rootOf(event: TopicEvent): unknown {
    return event.payload;
  }
}

const message = (threadId: string, seq: number, recipientIds: string[], authorId = 'author'): ThreadEvent => ({
  topic: MESSAGE_ADDED,
  payload: {
    message: { id: `${threadId}-${seq}`, threadId, seq, authorId, body: `#${seq}`, createdAt: '2026-01-01T00:00:00.000Z', readByCareTeamAt: null, clientMessageId: null, staffOnly: false },
    recipientIds,
  },
});

const OPERATION = parse('subscription { messageAdded { id } }');

function setUp(options: { audience?: Audience; execute?: (viewer: LiveViewer, root: unknown) => Promise<ExecutionResult> | ExecutionResult } = {}) {
  const runs: { viewer: string; root: unknown }[] = [];
  const delivered: [string, string[]][] = [];
  const counts = { subscriptions: 0, deliveries: 0 };
  const hub = new LiveHub({
    execute: (_operation, viewer, _origin, root) => {
      runs.push({ viewer: viewer.id, root });
      return options.execute?.(viewer, root) ?? { data: { messageAdded: { id: (root as MessageAddedEvent).message.id } } };
    },
    format: (_operation, _origin, errors) => errors.map((e) => ({ message: e.message, extensions: { code: 'MASKED' } })),
    audience: () => options.audience ?? 'shared',
    delivered: (event, userIds) => delivered.push([event.topic === MESSAGE_ADDED ? event.payload.message.id : event.topic, userIds]),
    count: { subscriptions: (_f, change) => (counts.subscriptions += change), deliveries: (_f, sent) => (counts.deliveries += sent) },
    logger: createLogger('silent'),
  });
  const operation = (variables: Record<string, unknown> = {}): LiveOperation => ({ document: OPERATION, variableValues: variables, labels: { type: 'subscription', fields: ['messageAdded'], fieldOf: () => 'messageAdded' } });
  let ids = 0;
  async function subscribe(userId: string, kind = 'PROFESSIONAL', over: { variables?: Record<string, unknown>; socket?: FakeSocket } = {}) {
    const socket = over.socket ?? new FakeSocket();
    const feed = new CountingFeed({ id: userId, kind });
    const iterator = await hub.add(feed, socket as unknown as WebSocket, `op-${++ids}`, operation(over.variables), { requestId: 'r', ip: '127.0.0.1', userAgent: null });
    return { socket, feed, iterator };
  }
  return { hub, runs, delivered, counts, subscribe };
}

test('an event reaches only the subscriptions of its recipients: no other feed is even asked', async () => {
  const { hub, subscribe } = setUp();
  const recipient = await subscribe('nurse');
  const outsiders = await Promise.all(Array.from({ length: 50 }, (_, i) => subscribe(`outsider-${i}`)));
  hub.route(message('t', 1, ['nurse', 'author']));
  await hub.settled();
  expect(recipient.socket.frames).toHaveLength(1);
  expect(outsiders.map((o) => [o.feed.asked, o.socket.frames.length])).toEqual(outsiders.map(() => [0, 0]));
});

test('recipients with the same operation, variables and kind share one execution and one payload; each frame names its own operation', async () => {
  const { hub, runs, counts, delivered, subscribe } = setUp();
  const listeners = await Promise.all(['a', 'b', 'c'].map((id) => subscribe(id)));
  hub.route(message('t', 1, ['a', 'b', 'c', 'author']));
  await hub.settled();
  expect(runs).toHaveLength(1);
  const frames = listeners.map((l) => l.socket.payloads()[0]);
  expect(frames.map((f) => f.id)).toEqual(['op-1', 'op-2', 'op-3']);
  expect(frames.map((f) => [f.type, f.payload])).toEqual(frames.map(() => ['next', { data: { messageAdded: { id: 't-1' } } }]));
  expect(counts.deliveries).toBe(3);
  // The audit hears of the event once, with everyone it was written to.
  expect(delivered).toEqual([['t-1', ['a', 'b', 'c']]]);
});

test('different variables, different kinds: separate executions', async () => {
  const { hub, runs, subscribe } = setUp();
  await subscribe('a');
  await subscribe('b', 'PROFESSIONAL', { variables: { t: 't' } });
  await subscribe('p', 'PATIENT');
  hub.route(message('t', 1, ['a', 'b', 'p']));
  await hub.settled();
  expect(runs.map((r) => r.viewer).sort()).toEqual(['a', 'b', 'p']);
});

test("an operation that asks for the author's own answer runs once for the author and once for the rest", async () => {
  const { hub, runs, subscribe } = setUp({ audience: 'author' });
  for (const id of ['author', 'a', 'b']) await subscribe(id);
  hub.route(message('t', 1, ['author', 'a', 'b']));
  await hub.settled();
  expect(runs.map((r) => r.viewer).sort()).toEqual(['a', 'author']);
});

test("an operation that asks for each viewer's own answer runs once per viewer", async () => {
  const { hub, runs, subscribe } = setUp({ audience: 'viewer' });
  for (const id of ['a', 'b', 'c']) await subscribe(id);
  hub.route(message('t', 1, ['a', 'b', 'c']));
  await hub.settled();
  expect(runs.map((r) => r.viewer).sort()).toEqual(['a', 'b', 'c']);
});

test("a thread's events go out in the order they came, even when the first takes longer; another thread's do not wait", async () => {
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  const { hub, subscribe } = setUp({
    execute: async (_viewer, root) => {
      const { message: m } = root as MessageAddedEvent;
      if (m.id === 't-1') await slow;
      return { data: { messageAdded: { id: m.id } } };
    },
  });
  const { socket } = await subscribe('a');
  hub.route(message('t', 1, ['a']));
  hub.route(message('t', 2, ['a']));
  hub.route(message('u', 1, ['a']));
  await new Promise((resolve) => setImmediate(resolve));
  expect(socket.payloads().map((f) => (f.payload.data as { messageAdded: { id: string } }).messageAdded.id)).toEqual(['u-1']);
  release();
  await hub.settled();
  expect(socket.payloads().map((f) => (f.payload.data as { messageAdded: { id: string } }).messageAdded.id)).toEqual(['u-1', 't-1', 't-2']);
});

test('a client that stopped reading is cut off once its backlog is full; the others still receive', async () => {
  const { hub, delivered, subscribe } = setUp();
  const stalled = await subscribe('a');
  const reading = await subscribe('b');
  stalled.socket.bufferedAmount = MAX_SOCKET_BACKLOG_BYTES + 1;
  hub.route(message('t', 1, ['a', 'b']));
  await hub.settled();
  expect(stalled.socket.terminated).toBe(true);
  expect(stalled.socket.frames).toEqual([]);
  expect(reading.socket.frames).toHaveLength(1);
  expect(delivered).toEqual([['t-1', ['b']]]);
  // Its close ended its subscription.
  expect(hub.size).toBe(1);
});

test('errors are formatted for clients once per group', async () => {
  const { hub, subscribe } = setUp({ execute: () => ({ data: null, errors: [new GraphQLError('secret detail')] }) });
  const { socket } = await subscribe('a');
  hub.route(message('t', 1, ['a']));
  await hub.settled();
  expect(socket.payloads()[0].payload).toEqual({ data: null, errors: [{ message: 'secret detail', extensions: { code: 'MASKED' } }] });
});

test('a subscription ends when graphql-ws returns it or its socket closes, and is then forgotten', async () => {
  const { hub, counts, subscribe } = setUp();
  const first = await subscribe('a');
  const second = await subscribe('a');
  expect([hub.size, counts.subscriptions, hub.countOn(first.socket as unknown as WebSocket)]).toEqual([2, 2, 1]);
  expect([hub.holds(first.socket as unknown as WebSocket, 'op-1'), hub.holds(first.socket as unknown as WebSocket, 'op-2')]).toEqual([true, false]);
  const next = first.iterator.next();
  await first.iterator.return!();
  await expect(next).resolves.toEqual({ done: true, value: undefined });
  second.socket.emit('close');
  await expect(second.iterator.next()).resolves.toEqual({ done: true, value: undefined });
  expect([hub.size, counts.subscriptions, hub.holds(first.socket as unknown as WebSocket, 'op-1')]).toEqual([0, 0, false]);
  hub.route(message('t', 1, ['a']));
  await hub.settled();
  expect([first.socket.frames, second.socket.frames]).toEqual([[], []]);
});

test('a subscription on a socket that closed before it started is never listed', async () => {
  const { hub, subscribe } = setUp();
  const socket = new FakeSocket();
  socket.readyState = 3;
  const { iterator } = await subscribe('a', 'PROFESSIONAL', { socket });
  expect(hub.size).toBe(0);
  await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
});

test('events a feed does not hear (null key) are neither executed nor written', async () => {
  const { hub, runs, subscribe } = setUp();
  const { socket } = await subscribe('a');
  hub.route({ topic: PARTICIPANTS_CHANGED, payload: { threadId: 't', participantIds: ['a'], addedIds: [], removedIds: [], actorId: 'a', created: false, at: '2026-01-01T00:00:00.000Z' } });
  await hub.settled();
  expect([runs, socket.frames]).toEqual([[], []]);
});
