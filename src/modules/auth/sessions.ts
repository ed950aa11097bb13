import { In, LessThan, Not, type DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { newId } from '../../common/ids';
import { hydrate, selectList } from '../../database/hydrate';
import { placeholder, statement } from '../../database/statements';
import { tablePath } from '../../database/table-path';
import { SESSIONS_ENDED } from '../../events/event-bus';
import type { AuditedTx } from '../audit/audit-entry';
import { User } from '../users/user.entity';
import { Session } from './session.entity';

/** Which of an account's sessions end: one, or all but one (none kept: `except` null). */
export type SessionsToEnd = { only: string } | { except: string | null };

/** Starts a session of `userId` in the transaction, and forgets the user's expired ones (nothing else removes them). */
export async function startSession(m: EntityManager, userId: string, expiresAt: Date): Promise<string> {
  const now = new Date();
  await m.delete(Session, { userId, expiresAt: LessThan(now) });
  const id = newId();
  await m.insert(Session, { id, userId, createdAt: now, expiresAt });
  return id;
}

/**
 * Ends sessions of `userId` in the transaction: their tokens are refused once
 * it commits, and every instance closes their sockets (4401, `reason`).
 * Returns how many ended.
 */
export async function endSessions(tx: AuditedTx, userId: string, which: SessionsToEnd, reason: string): Promise<number> {
  const where: FindOptionsWhere<Session> =
    'only' in which ? { userId, id: which.only } : which.except ? { userId, id: Not(which.except) } : { userId };
  const ended = await tx.manager.find(Session, { select: { id: true }, where });
  if (!ended.length) return 0;
  const sessionIds = ended.map((session) => session.id);
  await tx.manager.delete(Session, { id: In(sessionIds) });
  await tx.emit(SESSIONS_ENDED, { userId, sessionIds, everySession: 'except' in which && which.except === null, reason });
  return sessionIds.length;
}

/**
 * The user whose session `sessionId` is, if both exist: what every request
 * signed in with a token of `login` reads first.
 */
export async function sessionUser(db: DataSource, userId: string, sessionId: string): Promise<User | null> {
  const m = db.manager;
  const sql = statement(db, 'sessionUser', () => {
    const [users, sessions] = [User, Session].map((entity) => tablePath(m, db.getMetadata(entity).tableName));
    return `SELECT ${selectList(m, User, 'u')} FROM ${users} "u" INNER JOIN ${sessions} "s" ON "s"."userId" = "u"."id" WHERE "u"."id" = ${placeholder(db, 1)} AND "s"."id" = ${placeholder(db, 2)}`;
  });
  const [row] = (await db.query(sql, [userId, sessionId])) as Record<string, unknown>[];
  return row ? hydrate(m, User, row, 'u') : null;
}
