import type { InboxChangedEvent, MessageAddedEvent, ParticipantsChangedEvent } from '../../src/events/event-bus';
import { activityFeed, changeActivity } from '../../src/modules/activity/activity-feed';
import { ThreadActivityKind } from '../../src/modules/activity/thread-activity.type';

// What each event of the dashboard feed (threadActivity) means to one viewer.

const AT = '2026-01-02T03:04:05.000Z';

const change = (over: Partial<ParticipantsChangedEvent>): ParticipantsChangedEvent => ({
  threadId: 't',
  participantIds: [],
  addedIds: [],
  removedIds: [],
  actorId: 'actor',
  created: false,
  at: AT,
  ...over,
});

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function all<T>(feed: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of feed) out.push(item);
  return out;
}

describe('changeActivity: a participants change as the viewer hears of it', () => {
  const kindFor = (event: ParticipantsChangedEvent, viewer: string) => changeActivity(event, viewer)?.kind ?? null;

  test('the viewer left (they removed themself): LEFT_THREAD', () => {
    expect(kindFor(change({ removedIds: ['me'], actorId: 'me' }), 'me')).toBe(ThreadActivityKind.LEFT_THREAD);
  });

  test('someone else removed the viewer: REMOVED_FROM_THREAD', () => {
    expect(kindFor(change({ removedIds: ['me'], actorId: 'admin' }), 'me')).toBe(ThreadActivityKind.REMOVED_FROM_THREAD);
  });

  test('the viewer was added, also as a recipient of a new thread: ADDED_TO_THREAD', () => {
    expect(kindFor(change({ addedIds: ['me'] }), 'me')).toBe(ThreadActivityKind.ADDED_TO_THREAD);
    expect(kindFor(change({ addedIds: ['me'], created: true, actorId: 'creator' }), 'me')).toBe(ThreadActivityKind.ADDED_TO_THREAD);
  });

  test('the creator of a new thread hears nothing: they were added to nothing', () => {
    expect(changeActivity(change({ addedIds: ['other'], created: true, actorId: 'me' }), 'me')).toBeNull();
  });

  test('someone else joined or left a thread the viewer is in (the viewer may be who added them): PARTICIPANTS_CHANGED', () => {
    expect(kindFor(change({ addedIds: ['other'], actorId: 'me' }), 'me')).toBe(ThreadActivityKind.PARTICIPANTS_CHANGED);
    expect(kindFor(change({ removedIds: ['other'], actorId: 'other' }), 'me')).toBe(ThreadActivityKind.PARTICIPANTS_CHANGED);
  });

  test('it names the thread and the time of the change, no message and no team', () => {
    const activity = changeActivity(change({ threadId: 'thread-9', addedIds: ['me'] }), 'me');
    expect(activity).toMatchObject({ threadId: 'thread-9', message: null, teamId: null, at: new Date(AT) });
  });
});

describe('activityFeed: the three sources merged for one viewer', () => {
  const messageEvent: MessageAddedEvent = {
    message: { id: 'm1', threadId: 't', seq: 1, authorId: 'a', body: 'Hello', createdAt: AT, readByCareTeamAt: null, clientMessageId: null, staffOnly: false },
    recipientIds: ['me', 'a'],
  };
  const inbox = (over: Partial<InboxChangedEvent>): InboxChangedEvent => ({ threadId: 't', teamId: 'team', recipientIds: ['me'], escalated: false, actorId: 'a', at: AT, ...over });

  test('messages, the changes the viewer may hear of and the inbox changes addressed to them; an escalation is ESCALATED', async () => {
    const activities = await all(
      activityFeed({
        viewerId: 'me',
        messages: from([messageEvent]),
        changes: from([change({ addedIds: ['me'] }), change({ threadId: 'elsewhere', addedIds: ['x'] })]),
        canReceiveChange: (event) => event.threadId === 't',
        inboxChanges: from([inbox({}), inbox({ escalated: true }), inbox({ recipientIds: ['someone-else'] })]),
      }),
    );
    const kinds = activities.map((a) => a.kind).sort();
    expect(kinds).toEqual([ThreadActivityKind.ADDED_TO_THREAD, ThreadActivityKind.ESCALATED, ThreadActivityKind.INBOX_CHANGED, ThreadActivityKind.MESSAGE_ADDED].sort());
    const added = activities.find((a) => a.kind === ThreadActivityKind.MESSAGE_ADDED)!;
    expect(added).toMatchObject({ threadId: 't', teamId: null, at: new Date(AT), message: { id: 'm1', body: 'Hello', createdAt: new Date(AT), readByCareTeamAt: null } });
    expect(activities.find((a) => a.kind === ThreadActivityKind.ESCALATED)).toMatchObject({ threadId: 't', teamId: 'team', message: null, at: new Date(AT) });
  });

  test("a creator's own new thread does not appear as a change", async () => {
    const activities = await all(
      activityFeed({ viewerId: 'me', messages: from([]), changes: from([change({ created: true, actorId: 'me', addedIds: ['b'] })]), canReceiveChange: () => true, inboxChanges: from([]) }),
    );
    expect(activities).toEqual([]);
  });
});
