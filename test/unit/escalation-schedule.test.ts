import { escalationDue } from '../../src/modules/inbox/escalation-schedule';
import { InboxStatus } from '../../src/modules/threads/thread-team.entity';

// escalationDue: when a team's members are alerted that a patient's message waits too long.

const waiting = new Date('2026-03-02T10:00:00.000Z');
const open = { status: InboxStatus.OPEN, escalatedWaitingSince: null };

test('an open item whose thread waits: due at the wait plus the team limit', () => {
  expect(escalationDue(open, waiting, 30)).toEqual(new Date('2026-03-02T10:30:00.000Z'));
  expect(escalationDue(open, waiting, 0)).toEqual(waiting);
});

test('nothing is due when the item is done, the thread does not wait, or the team has no limit', () => {
  expect(escalationDue({ ...open, status: InboxStatus.DONE }, waiting, 30)).toBeNull();
  expect(escalationDue(open, null, 30)).toBeNull();
  expect(escalationDue(open, waiting, null)).toBeNull();
});

test('each wait is escalated once: not again for the same wait, but again for a new one', () => {
  expect(escalationDue({ ...open, escalatedWaitingSince: new Date(waiting) }, waiting, 30)).toBeNull();
  const earlierWait = new Date('2026-03-01T09:00:00.000Z');
  expect(escalationDue({ ...open, escalatedWaitingSince: earlierWait }, waiting, 30)).toEqual(new Date('2026-03-02T10:30:00.000Z'));
});
