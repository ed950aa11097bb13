import DataLoader from 'dataloader';
import type { DataSource, EntityManager } from 'typeorm';
import type { UnitOfWork } from '../../database/unit-of-work';
import { notFound } from '../../errors';
import type { ThreadAccess } from '../threads/thread.access';
import type { User } from '../users/user.entity';
import { AuditAction } from './audit-action';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  actorId: string;
  action: AuditAction;
  threadId?: string | null;
  messageId?: string | null;
  subjectUserId?: string | null;
  patientId?: string | null;
  teamId?: string | null;
}

/** Writes audit events (insert only) and reads a thread's trail. */
export class AuditService {
  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly access: ThreadAccess,
  ) {}

  /**
   * Per request: records one THREAD_READ per thread whose messages the viewer
   * read, the threads of one request in one transaction. Resolvers await it
   * before returning the messages, so a read that cannot be audited fails.
   */
  readRecorder(viewerId: string | null): DataLoader<string, true> {
    return new DataLoader(async (threadIds) => {
      if (!viewerId) throw new Error('reads are recorded only for a signed-in viewer');
      const entries = threadIds.map((threadId) => ({ actorId: viewerId, action: AuditAction.ThreadRead, threadId }));
      await this.uow.transaction((m) => this.record(m, ...entries));
      return threadIds.map(() => true as const);
    });
  }

  /** Pass the manager of the transaction that makes the change, so both commit or neither. */
  async record(manager: EntityManager, ...entries: AuditEntry[]): Promise<void> {
    if (!entries.length) return;
    const at = new Date();
    await manager.insert(
      AuditEvent,
      entries.map((e) => ({
        at,
        actorId: e.actorId,
        action: e.action,
        threadId: e.threadId ?? null,
        messageId: e.messageId ?? null,
        subjectUserId: e.subjectUserId ?? null,
        patientId: e.patientId ?? null,
        teamId: e.teamId ?? null,
      })),
    );
  }

  /** Oldest first. Participants and admins; NOT_FOUND for everyone else. */
  async trail(viewer: User, threadId: string): Promise<AuditEvent[]> {
    if (!viewer.isAdmin) await this.access.participation(this.db.manager, viewer.id, threadId);
    else if (!(await this.access.exists(threadId))) throw notFound('Thread');
    return this.db.manager.find(AuditEvent, { where: { threadId }, order: { id: 'ASC' } });
  }
}
