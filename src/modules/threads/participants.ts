import type { EntityManager } from 'typeorm';
import { placeholder, statement } from '../../database/statements';
import { tablePath } from '../../database/table-path';
import type { ParticipantsChangedEvent } from '../../events/event-bus';
import type { UserKind } from '../users/user-kind';
import { User, type Actor } from '../users/user.entity';
import { Participant } from './participant.entity';

/** The live event of a participants change; `participantIds` are those after it. */
export function participantsChanged(
  threadId: string,
  actor: Actor,
  participantIds: string[],
  change: { addedIds?: string[]; removedIds?: string[]; created?: boolean; at: Date },
): ParticipantsChangedEvent {
  return {
    threadId,
    participantIds,
    addedIds: change.addedIds ?? [],
    removedIds: change.removedIds ?? [],
    actorId: actor.id,
    created: change.created ?? false,
    at: change.at.toISOString(),
  };
}

/** A new participation with nothing read yet (the history is unread for them); callers set addedById and viaTeamId. */
export function newParticipant(threadId: string, userId: string, joinedAt: Date) {
  return { threadId, userId, joinedAt, viaTeamId: null, lastReadAt: null, lastReadSeq: 0 };
}

/** A current participant with what a send and its audit need of them: the team they are in through, their kind and organisation. */
export interface ParticipantFacts {
  threadId: string;
  userId: string;
  viaTeamId: string | null;
  kind: UserKind;
  isAdmin: boolean;
  organisationId: string | null;
}

/** The current participants of the threads, each with their kind, admin flag and organisation: one statement. */
export async function participantFacts(m: EntityManager, threadIds: string[]): Promise<ParticipantFacts[]> {
  if (!threadIds.length) return [];
  const db = m.connection;
  const sql = statement(db, `participantFacts ${threadIds.length}`, () => {
    const list = threadIds.map((_, i) => placeholder(db, i + 1)).join(', ');
    const [participants, users] = [Participant, User].map((entity) => tablePath(m, db.getMetadata(entity).tableName));
    return `SELECT p."threadId" AS "threadId", p."userId" AS "userId", p."viaTeamId" AS "viaTeamId", u."kind" AS "kind", u."isAdmin" AS "isAdmin", u."organisationId" AS "organisationId" FROM ${participants} p INNER JOIN ${users} u ON u."id" = p."userId" WHERE p."threadId" IN (${list})`;
  });
  const rows: (Omit<ParticipantFacts, 'isAdmin'> & { isAdmin: boolean | number })[] = await m.query(sql, threadIds);
  return rows.map((row) => ({ ...row, isAdmin: Boolean(row.isAdmin) }));
}
