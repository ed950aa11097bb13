import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { seesStaffNotes } from '../messages/staff-notes';
import type { User } from '../users/user.entity';
import { Participant } from './participant.entity';

// What a viewer may see, the one rule behind every read of threads and messages:
// - a thread, while the viewer is one of its current participants (someone who
//   left, like someone never added, sees nothing of it: NOT_FOUND);
// - a message of such a thread, except a staff-only note when the viewer is a
//   patient (staff-notes.ts).
// ThreadAccess answers it for one thread; the scopes below are its query form,
// used by every list and batch read (thread lists, team inboxes, message pages,
// live gap filling, last message, unread counts, live baselines).

/** Who is asking: their id names their participations, their kind decides staff-only notes. */
export type Viewer = Pick<User, 'id' | 'kind'>;

/** The alias of the viewer's participation row that the scopes join (its lastReadSeq is the viewer's read mark). */
export const PARTICIPATION = 'viewer_participation';

/**
 * Restricts `q` to rows of threads `viewer` is a current participant of;
 * `threadIdColumn` names the thread's id in `q` (`t.id`, `msg.threadId`...).
 * Joins the participation as PARTICIPATION (a join, so a later `where` keeps
 * the restriction). Returns `q`.
 */
export function visibleThreads<Q extends SelectQueryBuilder<ObjectLiteral>>(q: Q, viewer: Viewer, threadIdColumn: string): Q {
  return joinParticipation(q, viewer, threadIdColumn, '');
}

/** Restricts `q`, a query of messages aliased `alias`, to those `viewer` may see (in the same join as visibleThreads). Returns `q`. */
export function visibleMessages<Q extends SelectQueryBuilder<ObjectLiteral>>(q: Q, viewer: Viewer, alias: string): Q {
  return joinParticipation(q, viewer, `${alias}.threadId`, seesStaffNotes(viewer) ? '' : ` AND ${alias}.staffOnly = :hiddenStaffOnly`);
}

/**
 * Only the message half of the rule, for a subquery over messages of threads
 * the outer query already scoped (call it after the subquery's `where`):
 * leaves out staff-only notes for a patient, nothing for staff. Returns `q`.
 */
export function withoutHiddenNotes<Q extends SelectQueryBuilder<ObjectLiteral>>(q: Q, viewer: Viewer, alias: string): Q {
  return seesStaffNotes(viewer) ? q : q.andWhere(`${alias}.staffOnly = :hiddenStaffOnly`, { hiddenStaffOnly: false });
}

/** Whether `viewer` sees every message of the threads they see (staff): the newest they may see is then the thread's lastSeq. */
export const seesEveryMessage = (viewer: Viewer): boolean => seesStaffNotes(viewer);

function joinParticipation<Q extends SelectQueryBuilder<ObjectLiteral>>(q: Q, viewer: Viewer, threadIdColumn: string, alsoOn: string): Q {
  return q.innerJoin(Participant, PARTICIPATION, `${PARTICIPATION}.threadId = ${threadIdColumn} AND ${PARTICIPATION}.userId = :visibleToViewerId${alsoOn}`, {
    visibleToViewerId: viewer.id,
    ...(alsoOn ? { hiddenStaffOnly: false } : {}),
  });
}
