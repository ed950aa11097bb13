import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { notFound } from '../../errors';
import type { Loaders } from '../../loaders';
import { Participant } from './participant.entity';
import { Thread } from './thread.entity';

/**
 * The one answer to "may this user see this thread?" for one thread: only
 * current participants (the rule is written in thread-visibility.ts, whose
 * scopes are its query form for lists). Everyone else, like a thread that
 * does not exist, gets NOT_FOUND.
 */
export class ThreadAccess {
  /** The viewer's participation; NOT_FOUND when they are not a current participant. */
  async participation(manager: EntityManager, userId: string, threadId: string): Promise<Participant> {
    // Text that is no id names no thread; PostgreSQL would even refuse some of it (NUL).
    const participant = isId(threadId) ? await manager.findOneBy(Participant, { threadId, userId }) : null;
    if (!participant) throw notFound('Thread');
    return participant;
  }

  /** The thread, if the viewer may see it; NOT_FOUND otherwise. */
  async visibleThread(manager: EntityManager, userId: string, threadId: string): Promise<Thread> {
    await this.participation(manager, userId, threadId);
    const thread = await manager.findOneBy(Thread, { id: threadId });
    if (!thread) throw notFound('Thread');
    return thread;
  }

  /**
   * For resolvers: the thread through the request's batched loader, which
   * checks the viewer's participation in the statement that reads it (and
   * answers again from its cache); NOT_FOUND otherwise.
   */
  async loadVisible(loaders: Loaders, threadId: string): Promise<Thread> {
    const thread = isId(threadId) ? await loaders.thread.load(threadId) : null;
    if (!thread) throw notFound('Thread');
    return thread;
  }

  /** Whether the loaders' viewer is a current participant; for fields that answer null. */
  async isVisible(loaders: Loaders, threadId: string): Promise<boolean> {
    return isId(threadId) && (await loaders.thread.load(threadId)) !== null;
  }
}
