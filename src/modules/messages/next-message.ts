import type { EntityManager } from 'typeorm';
import { tablePath } from '../../database/table-path';
import { Participant } from '../threads/participant.entity';
import { Thread } from '../threads/thread.entity';
import { UserKind } from '../users/user-kind';
import type { Actor } from '../users/user.entity';
import { Message } from './message.entity';

/** What a new message gets from its thread's row. */
export interface NextMessage {
  seq: number;
  /** Never earlier than the thread's previous message, whatever order the senders read their clocks in. */
  createdAt: Date;
  /** Whether this message started the patient's wait (a patient writing into a thread nobody waited on). */
  waitStarted: boolean;
}

/** The send that asks for the next message. */
export interface NewMessage {
  threadId: string;
  author: Actor;
  /** The sender's clock, read before the thread's lock was waited for. */
  now: Date;
  staffOnly: boolean;
  clientMessageId: string | null;
}

/**
 * The one statement of a send that touches its thread's row, and so locks it
 * (run it through tx.advanceThread): the next sequence number; the message's
 * time, `now` or the previous message's if that is later (the clock was read
 * before the lock was waited for); `lastActivityAt`, unless the message is a
 * staff-only note, which must not tell the patient a note came; and the wait:
 * a patient's message starts it if nobody waited, a professional's ends it, a
 * staff-only note is no reply and leaves it. Null when the thread does not
 * exist, the author is not one of its participants or already sent this
 * clientMessageId there (a retry): then nothing changed and no lock was taken,
 * so neither a stranger nor a retry makes the thread's senders wait.
 */
export async function nextMessage(m: EntityManager, send: NewMessage): Promise<NextMessage | null> {
  const { threadId, author, now, staffOnly, clientMessageId } = send;
  const driver = m.connection.driver;
  const threads = m.connection.getMetadata(Thread);
  const column = (name: keyof Thread) => threads.findColumnWithPropertyName(name)!;
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return driver.options.type === 'postgres' ? `$${params.length}` : '?';
  };
  const later = driver.options.type === 'postgres' ? 'GREATEST' : 'MAX';
  const stored = driver.preparePersistentValue(now, column('lastMessageAt'));
  // Each use its own placeholder: better-sqlite3 binds `?` by position only. Every SET sees the row as it was, so all agree.
  const time = () => `${later}(COALESCE("lastMessageAt", "lastActivityAt"), ${param(stored)})`;
  const patient = author.kind === UserKind.PATIENT;
  const sets = ['"lastSeq" = "lastSeq" + 1', `"lastMessageAt" = ${time()}`];
  if (!staffOnly) sets.push(`"lastActivityAt" = ${time()}`, `"waitingSince" = ${patient ? `COALESCE("waitingSince", ${time()})` : 'NULL'}`);
  const runner = m.queryRunner;
  if (!runner) throw new Error('nextMessage runs inside a transaction');
  const table = (entity: typeof Thread | typeof Participant | typeof Message) => tablePath(runner, m.connection.getMetadata(entity).tableName);
  const where = [
    `"id" = ${param(threadId)}`,
    `EXISTS (SELECT 1 FROM ${table(Participant)} p WHERE p."threadId" = ${param(threadId)} AND p."userId" = ${param(author.id)})`,
  ];
  if (clientMessageId !== null) {
    where.push(
      `NOT EXISTS (SELECT 1 FROM ${table(Message)} e WHERE e."threadId" = ${param(threadId)} AND e."authorId" = ${param(author.id)} AND e."clientMessageId" = ${param(clientMessageId)})`,
    );
  }
  const { records } = await runner.query(
    `UPDATE ${table(Thread)} SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING "lastSeq", "lastMessageAt", "waitingSince"`,
    params,
    true,
  );
  const row = records[0] as { lastSeq: number; lastMessageAt: unknown; waitingSince: unknown } | undefined;
  if (!row) return null;
  const createdAt: Date = driver.prepareHydratedValue(row.lastMessageAt, column('lastMessageAt'));
  const waitingSince: Date | null = row.waitingSince === null ? null : driver.prepareHydratedValue(row.waitingSince, column('waitingSince'));
  // A patient writing into a wait that began in the same millisecond counts as starting it: its
  // listener then only schedules again what was scheduled already.
  return { seq: Number(row.lastSeq), createdAt, waitStarted: !staffOnly && patient && waitingSince?.getTime() === createdAt.getTime() };
}
