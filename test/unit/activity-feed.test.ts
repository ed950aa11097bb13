import { INBOX_CHANGED, MESSAGE_ADDED, PARTICIPANTS_CHANGED, type InboxChangedEvent, type MessageAddedEvent, type ParticipantsChangedEvent, type TopicEvent } from '../../src/events/event-bus';
import { ActivityFeed, changeKind } from '../../src/modules/activity/activity-feed';
import { ThreadActivityKind } from '../../src/modules/activity/thread-activity.type';
import { UserKind } from '../../src/modules/users/user-kind';
import { User } from '../../src/modules/users/user.entity';

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

const feedOf = (kind: UserKind) => new ActivityFeed(Object.assign(new User(), { id: 'me', kind }), async () => undefined);
const staff = feedOf(UserKind.PROFESSIONAL);

/** What the viewer's feed makes of `event`: its kind, and the activity it executes with; null for nothing. */
function heard(event: TopicEvent, feed = staff) {
  const kind = feed.keyOf(event);
  return kind === null ? null : feed.rootOf(event, kind);
}

describe('changeKind: a participants change as the viewer hears of it', () => {
  const kindFor = changeKind;

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
    expect(kindFor(change({ addedIds: ['other'], created: true, actorId: 'me' }), 'me')).toBeNull();
  });

  test('someone else joined or left a thread the viewer is in (the viewer may be who added them): PARTICIPANTS_CHANGED', () => {
    expect(kindFor(change({ addedIds: ['other'], actorId: 'me' }), 'me')).toBe(ThreadActivityKind.PARTICIPANTS_CHANGED);
    expect(kindFor(change({ removedIds: ['other'], actorId: 'other' }), 'me')).toBe(ThreadActivityKind.PARTICIPANTS_CHANGED);
  });

  test('it names the thread and the time of the change, no message and no team', () => {
    const activity = heard({ topic: PARTICIPANTS_CHANGED, payload: change({ threadId: 'thread-9', addedIds: ['me'] }) });
    expect(activity).toMatchObject({ threadId: 'thread-9', message: null, teamId: null, at: new Date(AT) });
  });
});

describe('ActivityFeed: what each event addressed to the viewer is to them', () => {
  const messageEvent = (staffOnly = false): MessageAddedEvent => ({
    message: { id: 'm1', threadId: 't', seq: 1, authorId: 'a', body: 'Hello', createdAt: AT, readByCareTeamAt: null, clientMessageId: null, staffOnly },
    recipientIds: ['me', 'a'],
  });
  const inbox = (over: Partial<InboxChangedEvent>): InboxChangedEvent => ({ threadId: 't', teamId: 'team', recipientIds: ['me'], escalated: false, actorId: 'a', at: AT, ...over });

  test('a message is MESSAGE_ADDED with the message; an inbox change INBOX_CHANGED, an escalation ESCALATED, with the team', () => {
    expect(heard({ topic: MESSAGE_ADDED, payload: messageEvent() })).toMatchObject({
      kind: ThreadActivityKind.MESSAGE_ADDED,
      threadId: 't',
      teamId: null,
      at: new Date(AT),
      message: { id: 'm1', body: 'Hello', createdAt: new Date(AT), readByCareTeamAt: null },
    });
    expect(heard({ topic: INBOX_CHANGED, payload: inbox({}) })).toMatchObject({ kind: ThreadActivityKind.INBOX_CHANGED, teamId: 'team' });
    expect(heard({ topic: INBOX_CHANGED, payload: inbox({ escalated: true }) })).toMatchObject({ kind: ThreadActivityKind.ESCALATED, threadId: 't', teamId: 'team', message: null, at: new Date(AT) });
  });

  test('a staff-only note reaches staff, never a patient', () => {
    expect(heard({ topic: MESSAGE_ADDED, payload: messageEvent(true) })).toMatchObject({ kind: ThreadActivityKind.MESSAGE_ADDED });
    expect(heard({ topic: MESSAGE_ADDED, payload: messageEvent(true) }, feedOf(UserKind.PATIENT))).toBeNull();
    expect(heard({ topic: MESSAGE_ADDED, payload: messageEvent(false) }, feedOf(UserKind.PATIENT))).not.toBeNull();
  });

  test("a creator's own new thread does not appear as a change", () => {
    expect(heard({ topic: PARTICIPANTS_CHANGED, payload: change({ created: true, actorId: 'me', addedIds: ['b'] }) })).toBeNull();
  });
});
