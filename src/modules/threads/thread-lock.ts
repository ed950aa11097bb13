import type { EntityManager } from 'typeorm';
import { Thread } from './thread.entity';

/**
 * Takes the thread row's write lock (PostgreSQL; SQLite transactions already
 * take turns) so that participant changes, inbox changes and message sends on
 * one thread commit one after another: each message's recipients are exactly
 * the participants at its commit.
 */
export async function lockThread(m: EntityManager, threadId: string): Promise<void> {
  await m.createQueryBuilder().update(Thread).set({ lastSeq: () => '"lastSeq"' }).where('id = :threadId', { threadId }).execute();
}
