import { recipientsOf, type AnyBusEvent } from '../../src/events/event-bus';
import { hasShardedPubSub } from '../../src/events/redis-transport';
import { LINGER_MS, SHARDS, ShardWatches, shardOf, shardsOf, type ShardListener } from '../../src/events/shards';

// Which instances an event goes to: its recipients, their shards, and the shards an instance listens to.

/** Distinct users in distinct shards. */
function usersInDistinctShards(count: number): string[] {
  const users = new Map<number, string>();
  for (let i = 0; users.size < count; i++) if (!users.has(shardOf(`user-${i}`))) users.set(shardOf(`user-${i}`), `user-${i}`);
  return [...users.values()];
}

/** Another user in the shard of `userId`. */
function neighbourOf(userId: string): string {
  for (let i = 0; ; i++) if (`n-${i}` !== userId && shardOf(`n-${i}`) === shardOf(userId)) return `n-${i}`;
}

class RecordingListener implements ShardListener {
  calls: string[] = [];
  listen(shard: number) {
    this.calls.push(`listen ${shard}`);
  }
  unlisten(shard: number) {
    this.calls.push(`unlisten ${shard}`);
  }
}

describe('shards', () => {
  test('shardOf is fixed: every instance and version sends a user to the same channel', () => {
    expect([shardOf(''), shardOf('a'), shardOf('3f2c1a9e-0d4b-4c55-9a1e-7b6f0c2d8e11')]).toEqual([3525, 2348, 3265]);
    expect(SHARDS).toBe(4096);
  });

  test('shardsOf gives each shard once', () => {
    const [u1, u2] = usersInDistinctShards(2);
    expect(shardsOf([u1, neighbourOf(u1), u2, u1]).sort()).toEqual([shardOf(u1), shardOf(u2)].sort());
    expect(shardsOf([])).toEqual([]);
  });

  test('recipientsOf: who each topic is for', () => {
    const at = new Date().toISOString();
    const message = { id: 'm', threadId: 't', seq: 1, authorId: 'a', body: 'b', createdAt: at, readByCareTeamAt: null, clientMessageId: null, staffOnly: false };
    const events: [AnyBusEvent, string[]][] = [
      [{ id: '1', topic: 'MESSAGE_ADDED', payload: { message, recipientIds: ['a', 'b'] } }, ['a', 'b']],
      [{ id: '2', topic: 'PARTICIPANTS_CHANGED', payload: { threadId: 't', participantIds: ['a', 'c'], addedIds: ['c'], removedIds: ['b'], actorId: 'a', created: false, at } }, ['a', 'c', 'b']],
      [{ id: '3', topic: 'INBOX_CHANGED', payload: { threadId: 't', teamId: 'T', recipientIds: ['d'], escalated: false, actorId: 'd', at } }, ['d']],
      [{ id: '4', topic: 'USER_DISABLED', payload: { userId: 'e' } }, ['e']],
      [{ id: '5', topic: 'SESSIONS_ENDED', payload: { userId: 'f', sessionIds: ['s1', 's2'], everySession: false, reason: 'Signed out' } }, ['f']],
    ];
    for (const [event, recipients] of events) expect(recipientsOf(event)).toEqual(recipients);
  });

  test('Redis 7 and later have sharded pub/sub, as INFO server tells', () => {
    expect(hasShardedPubSub('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n')).toBe(true);
    expect(hasShardedPubSub('# Server\r\nredis_version:6.2.14\r\n')).toBe(false);
    expect(hasShardedPubSub('# Server\r\nredis_version:10.0.0\r\n')).toBe(true);
    expect(hasShardedPubSub('')).toBe(false);
  });
});

describe('ShardWatches', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a shard is listened to from its first watch until LINGER_MS after its last release', () => {
    const listener = new RecordingListener();
    const watches = new ShardWatches(listener);
    const [u1] = usersInDistinctShards(1);
    const shard = shardOf(u1);
    const first = watches.watch(u1);
    const again = watches.watch(u1);
    const neighbour = watches.watch(neighbourOf(u1));
    expect(listener.calls).toEqual([`listen ${shard}`]);

    first();
    first();
    again();
    jest.advanceTimersByTime(LINGER_MS);
    expect(listener.calls).toEqual([`listen ${shard}`]);
    neighbour();
    jest.advanceTimersByTime(LINGER_MS - 1);
    expect(listener.calls).toEqual([`listen ${shard}`]);
    jest.advanceTimersByTime(1);
    expect(listener.calls).toEqual([`listen ${shard}`, `unlisten ${shard}`]);
  });

  test('a watch while the shard lingers keeps the subscription, with no unsubscribe and subscribe again', () => {
    const listener = new RecordingListener();
    const watches = new ShardWatches(listener);
    const [u1] = usersInDistinctShards(1);
    watches.watch(u1)();
    jest.advanceTimersByTime(LINGER_MS / 2);
    const release = watches.watch(u1);
    jest.advanceTimersByTime(LINGER_MS * 2);
    expect(listener.calls).toEqual([`listen ${shardOf(u1)}`]);
    release();
    jest.advanceTimersByTime(LINGER_MS);
    expect(listener.calls).toEqual([`listen ${shardOf(u1)}`, `unlisten ${shardOf(u1)}`]);
  });

  test('each shard on its own', () => {
    const listener = new RecordingListener();
    const watches = new ShardWatches(listener);
    const [u1, u2] = usersInDistinctShards(2);
    const release1 = watches.watch(u1);
    watches.watch(u2);
    release1();
    jest.advanceTimersByTime(LINGER_MS);
    expect(listener.calls).toEqual([`listen ${shardOf(u1)}`, `listen ${shardOf(u2)}`, `unlisten ${shardOf(u1)}`]);
  });

  test('close forgets pending unsubscribes; without a listener (no Redis) nothing waits', () => {
    const listener = new RecordingListener();
    const watches = new ShardWatches(listener);
    const [u1] = usersInDistinctShards(1);
    watches.watch(u1)();
    watches.close();
    jest.advanceTimersByTime(LINGER_MS);
    expect(listener.calls).toEqual([`listen ${shardOf(u1)}`]);

    const local = new ShardWatches(null);
    local.watch(u1)();
    expect(jest.getTimerCount()).toBe(0);
  });
});
