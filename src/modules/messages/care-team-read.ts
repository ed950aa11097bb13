import { IsNull, LessThanOrEqual, Not, type EntityManager } from 'typeorm';
import { isProfessional, type User } from '../users/user.entity';
import { Message } from './message.entity';

// The read receipt a message's author gets: that the care team has read it,
// and when, never who. It is stored on the message because the participants'
// read marks cannot tell it: each mark moves on every later read and goes
// with a reader who leaves the thread.

/**
 * Inside the caller's transaction, when `reader` marks the thread read up to
 * `upToSeq` (its last message at the mark): stamps `at` on the messages up to
 * there that others wrote and no professional had read yet, in one UPDATE.
 * Only a professional's read counts (a patient is not the care team), and a
 * stamp is never moved, so it keeps the first read.
 */
export async function recordCareTeamRead(m: EntityManager, reader: User, threadId: string, upToSeq: number, at: Date): Promise<void> {
  if (!isProfessional(reader)) return;
  await m.update(
    Message,
    { threadId, seq: LessThanOrEqual(upToSeq), authorId: Not(reader.id), readByCareTeamAt: IsNull() },
    { readByCareTeamAt: at },
  );
}
