import type { EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock';
import { Ticker } from '../../common/ticker';
import { storedTime } from '../../database/stored-time';
import { INBOX_CHANGED } from '../../events/event-bus';
import type { Logger } from '../../logger';
import { Absence } from '../absences/absence.entity';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork, AuditEntry } from '../audit/audit-entry';
import { Message } from '../messages/message.entity';
import { TeamMember } from '../teams/team-member.entity';
import { Participant } from '../threads/participant.entity';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import { UserKind } from '../users/user-kind';
import { User } from '../users/user.entity';
import { inboxChanged } from './inbox-changed';

/** Alerts sent per transaction; more due ones wait for the next round, which starts at once. */
const BATCH = 50;

export interface EscalationDeps {
  uow: AuditedUnitOfWork;
  logger: Logger;
  /** How often this instance looks for due alerts. Default 30 s (ESCALATION_POLL_MS). */
  pollMs: number;
  clock: Clock;
}

/**
 * Alerts a team's members when a patient's message has waited longer than
 * the team's limit. The schedule lives in the database
 * (thread_teams.escalationDueAt, kept by every change that moves it), so it
 * survives restarts; every instance polls it, and each due alert is taken by
 * one transaction (SKIP LOCKED on PostgreSQL; SQLite writers take turns) that
 * clears it, audits it and writes the alert to the outbox: it fires once
 * however many instances run, and reaches the members live even when the
 * instance dies before it could send it (the outbox relay).
 */
export class EscalationService {
  private readonly ticker: Ticker;

  constructor(private readonly options: EscalationDeps) {
    this.ticker = new Ticker(options.pollMs, () => this.runDue(), (error) => options.logger.error({ err: error }, 'escalation round failed'));
  }

  start(): void {
    this.ticker.start();
  }

  /** Stops polling and waits for a round in progress. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /** Sends every alert due by the clock's now; returns how many were sent. */
  async runDue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const { alerts, taken } = await this.options.uow.run((tx) => this.takeDue(tx));
      sent += alerts;
      // Rows held back or cleared count too: a full batch means more may be due.
      if (taken < BATCH) return sent;
    }
  }

  private async takeDue(tx: AuditedTx): Promise<{ alerts: number; taken: number }> {
    const m = tx.manager;
    const now = this.options.clock.now();
    const due = m
      .createQueryBuilder(ThreadTeam, 'tt')
      .innerJoinAndMapOne('tt.thread', Thread, 't', 't.id = tt.threadId')
      .where('tt.escalationDueAt <= :now', { now })
      .orderBy('tt.escalationDueAt', 'ASC')
      .limit(BATCH);
    // Another instance's round holds its rows until it commits; this one takes the others.
    if (m.connection.options.type === 'postgres') due.setLock('pessimistic_write', undefined, ['tt']).setOnLocked('skip_locked');
    const items = await tx.lockInboxItems(() => due.getMany());
    let alerts = 0;
    const entries: AuditEntry[] = [];
    for (const item of items) {
      const waitingSince = item.thread!.waitingSince;
      const key = { threadId: item.threadId, teamId: item.teamId };
      const waiting = waitingSince ? await waitingMessage(m, item.threadId, waitingSince) : null;
      if (!waiting) {
        // Nothing waits after all: a schedule left behind by a bug must not block every round after it.
        this.options.logger.warn(key, 'an escalation was due on a thread where nobody waits: cleared');
        await m.update(ThreadTeam, key, { escalationDueAt: null });
        continue;
      }
      const alert = await inboxChanged(m, item, waiting.authorId, now);
      const back = alert.recipientIds.length ? null : await firstReturn(m, item, now);
      if (back) {
        // Everyone who could act is away: the alert waits for the first of them to come back rather than reach nobody.
        await m.update(ThreadTeam, key, { escalationDueAt: back });
        continue;
      }
      await m.update(ThreadTeam, key, { escalationDueAt: null, escalatedAt: now, escalatedWaitingSince: waitingSince });
      await tx.emit(INBOX_CHANGED, alert);
      alerts++;
      entries.push({
        actor: waiting.author,
        action: AuditAction.ThreadEscalated,
        threadId: item.threadId,
        messageId: waiting.id,
        teamId: item.teamId,
        recipientIds: alert.recipientIds,
      });
    }
    await tx.audit(...entries);
    return { alerts, taken: items.length };
  }
}

/** When the first of the team's members in the thread who is away at `now` (an enabled account) comes back; null when none is away. */
async function firstReturn(m: EntityManager, item: Pick<ThreadTeam, 'threadId' | 'teamId'>, now: Date): Promise<Date | null> {
  const row = await m
    .createQueryBuilder(Absence, 'a')
    .innerJoin(Participant, 'p', 'p.userId = a.userId AND p.threadId = :threadId', { threadId: item.threadId })
    .innerJoin(TeamMember, 'tm', 'tm.userId = a.userId AND tm.teamId = :teamId', { teamId: item.teamId })
    .innerJoin(User, 'u', 'u.id = a.userId AND u.disabled = :disabled', { disabled: false })
    .where('a.startsAt <= :now AND a.endsAt > :now', { now })
    .select('MIN(a.endsAt)', 'back')
    .getRawOne<{ back: Date | string | null }>();
  return row?.back ? storedTime(row.back) : null;
}

/** The oldest patient message of the current wait, with its author. */
async function waitingMessage(m: EntityManager, threadId: string, since: Date): Promise<(Message & { author: User }) | null> {
  return m
    .createQueryBuilder(Message, 'msg')
    .innerJoinAndMapOne('msg.author', User, 'u', 'u.id = msg.authorId AND u.kind = :patient', { patient: UserKind.PATIENT })
    .where('msg.threadId = :threadId AND msg.createdAt >= :since', { threadId, since })
    .orderBy('msg.seq', 'ASC')
    .limit(1)
    .getOne() as Promise<(Message & { author: User }) | null>;
}
