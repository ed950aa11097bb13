import { In, IsNull, LessThanOrEqual, MoreThan, Not, type DataSource, type EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock';
import { newId } from '../../common/ids';
import { Ticker } from '../../common/ticker';
import type { Presence } from '../../live/presence';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics/metrics';
import { Absence } from '../absences/absence.entity';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import { Message } from '../messages/message.entity';
import { seesStaffNotes } from '../messages/staff-notes';
import { Participant } from '../threads/participant.entity';
import { User } from '../users/user.entity';
import type { Mailer } from './mailer';
import { NotificationChannel } from './notification-channel';
import { afterSending, backoffMs, decide, effectiveSettings, LEASE_MS, MAX_ATTEMPTS, type Decision, type DueFacts } from './notification-rules';
import { waitingRow } from './notification-schedule';
import { NotificationSetting } from './notification-setting.entity';
import type { PushSender } from './push-sender';
import { PushSubscription } from './push-subscription.entity';
import { ScheduledNotification } from './scheduled-notification.entity';
import type { SendOutcome } from './send-outcome';
import { unsubscribeLink } from './unsubscribe-token';

/** Rows a round takes at once; a full batch starts the next round at once. */
const BATCH = 20;

export interface NotifierDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  pollMs: number;
  mailer: Mailer | null;
  push: PushSender | null;
  presence: Presence;
  /** Signs the unsubscribe links. */
  secret: Uint8Array;
  /** The origin links point to (PUBLIC_URL, else the server's own address once it listens). */
  origin: () => string;
}

type Held = ScheduledNotification & { leaseId: string };

/**
 * Sends the notifications the schedule holds (notification-schedule.ts writes
 * it). Every instance polls it; a round takes due rows under a lease (one
 * UPDATE each, which only one instance's can win), decides on fresh facts
 * (notification-rules.ts), sends outside any transaction, then records the
 * outcome and the audit (NOTIFICATION_SENT per channel) in one, only while it
 * still holds the lease. A failure is retried with backoff, channels already
 * sent in this round not again; rows of an instance that died are taken again
 * once its lease ends. An instance that dies after a send and before its
 * record sends that one again (no protocol here can take a send back): the
 * e-mail's Message-ID names the notification, so receivers may drop the copy.
 */
export class Notifier {
  private readonly ticker: Ticker;

  constructor(private readonly deps: NotifierDeps) {
    this.ticker = new Ticker(deps.pollMs, () => this.runDue(), (error) => deps.logger.error({ err: error }, 'notification round failed'));
  }

  start(): void {
    this.deps.presence.start();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.deps.presence.close();
    this.deps.mailer?.close();
  }

  /** Handles every row due by the clock's now; returns how many notifications went out. */
  async runDue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const { found, held } = await this.take();
      for (const row of held) sent += (await this.handle(row)) ? 1 : 0;
      // Rows another instance took count too: a full batch found means more may be due.
      if (found < BATCH) return sent;
    }
  }

  private async take(): Promise<{ found: number; held: Held[] }> {
    const now = this.deps.clock.now();
    const leaseId = newId();
    const due = await this.deps.db.manager.find(ScheduledNotification, {
      where: [
        { dueAt: LessThanOrEqual(now), leaseUntil: IsNull() },
        { dueAt: LessThanOrEqual(now), leaseUntil: LessThanOrEqual(now) },
      ],
      order: { dueAt: 'ASC' },
      take: BATCH,
    });
    const held: Held[] = [];
    for (const row of due) {
      // Only one instance's UPDATE finds the lease free: the others change nothing and skip the row.
      const taken = await this.deps.db.manager
        .createQueryBuilder()
        .update(ScheduledNotification)
        .set({ leaseId, leaseUntil: new Date(now.getTime() + LEASE_MS) })
        .where('userId = :userId AND threadId = :threadId AND (leaseUntil IS NULL OR leaseUntil <= :now)', { userId: row.userId, threadId: row.threadId, now })
        .execute();
      if (taken.affected) held.push({ ...row, leaseId });
    }
    return { found: due.length, held };
  }

  /** True when it sent. */
  private async handle(row: Held): Promise<boolean> {
    const now = this.deps.clock.now();
    const m = this.deps.db.manager;
    const user = await m.findOneBy(User, { id: row.userId });
    if (!user) return false;
    const facts = await this.facts(m, row, user, now);
    const decision = decide(row, facts.due, now);
    if (decision.act === 'drop') return this.drop(row, user, facts.due);
    if (decision.act === 'later') return this.release(row, decision.at);
    return this.send(row, user, decision, facts.subscriptions, facts.messageId, now);
  }

  private async facts(m: EntityManager, row: Held, user: User, now: Date) {
    const [participant, setting, subscriptions, absence] = await Promise.all([
      m.findOne(Participant, { where: { threadId: row.threadId, userId: row.userId }, select: { viaTeamId: true, lastReadSeq: true, threadId: true, userId: true } }),
      m.findOneBy(NotificationSetting, { userId: row.userId }),
      this.deps.push ? m.findBy(PushSubscription, { userId: row.userId }) : Promise.resolve([]),
      m.findOne(Absence, { where: { userId: row.userId, startsAt: LessThanOrEqual(now), endsAt: MoreThan(now) }, order: { endsAt: 'DESC' } }),
    ]);
    const settings = effectiveSettings(setting, user.kind);
    const usable = [...(this.deps.mailer ? [NotificationChannel.EMAIL] : []), ...(subscriptions.length ? [NotificationChannel.PUSH] : [])];
    const unread = participant ? await unreadOf(m, row.threadId, user, participant.lastReadSeq) : null;
    const due: DueFacts = {
      participant,
      disabled: user.disabled,
      channels: settings.channels.filter((channel) => usable.includes(channel)),
      settings,
      unread: unread && { firstSeq: unread.first.seq, firstAt: unread.first.createdAt, lastSeq: unread.last.seq },
      awayUntil: absence?.endsAt ?? null,
      live: await this.deps.presence.isLive(row.userId),
    };
    return { due, subscriptions, messageId: unread?.shown.id ?? null };
  }

  private async send(row: Held, user: User, decision: Extract<Decision, { act: 'send' }>, subscriptions: PushSubscription[], messageId: string | null, now: Date): Promise<boolean> {
    const origin = this.deps.origin();
    const appUrl = `${origin}/app`;
    const outcomes = new Map<NotificationChannel, SendOutcome>();
    if (decision.channels.includes(NotificationChannel.EMAIL) && !row.emailSentAt) {
      const outcome = await this.deps.mailer!.send({
        to: user.email,
        reminder: decision.reminder,
        appUrl,
        unsubscribeUrl: await unsubscribeLink(this.deps.secret, origin, user.id),
        messageId: `<${row.userId}.${row.threadId}.${row.seq}.${decision.reminder ? 'r' : 'n'}@carethread>`,
      });
      this.deps.metrics.countNotification(NotificationChannel.EMAIL, outcome);
      outcomes.set(NotificationChannel.EMAIL, outcome);
    }
    if (decision.channels.includes(NotificationChannel.PUSH) && !row.pushSentAt) outcomes.set(NotificationChannel.PUSH, await this.pushAll(subscriptions, decision.reminder, appUrl));
    const sentNow = [...outcomes].filter(([, outcome]) => outcome === 'sent').map(([channel]) => channel);
    const emailSentAt = row.emailSentAt ?? (sentNow.includes(NotificationChannel.EMAIL) ? now : null);
    const pushSentAt = row.pushSentAt ?? (sentNow.includes(NotificationChannel.PUSH) ? now : null);
    const attempts = row.attempts + 1;
    if ([...outcomes.values()].includes('retry') && attempts < MAX_ATTEMPTS) {
      await this.update(row, { emailSentAt, pushSentAt, attempts, dueAt: new Date(now.getTime() + backoffMs(attempts)), leaseId: null, leaseUntil: null });
      return false;
    }
    if (attempts >= MAX_ATTEMPTS) this.deps.logger.error({ userId: row.userId, threadId: row.threadId, attempts }, 'a notification was given up after repeated failures');
    const sent = [...(emailSentAt ? [NotificationChannel.EMAIL] : []), ...(pushSentAt ? [NotificationChannel.PUSH] : [])];
    const next = afterSending(decision.reminder, user.kind, now);
    await this.deps.uow.run(async (tx) => {
      const recorded = await tx.manager.update(
        ScheduledNotification,
        { userId: row.userId, threadId: row.threadId, leaseId: row.leaseId },
        { ...next, seq: decision.throughSeq, notifiedAt: sent.length ? now : row.notifiedAt, attempts: 0, emailSentAt: null, pushSentAt: null, leaseId: null, leaseUntil: null },
      );
      // The lease ran out and another round has the row: it records what it sends.
      if (!recorded.affected) return;
      await tx.audit(...sent.map((channel) => ({ actor: user, action: AuditAction.NotificationSent, threadId: row.threadId, messageId, channel })));
    });
    return sent.length > 0;
  }

  /** One push per registered browser: sent when any took it; browsers their push service no longer knows are removed. */
  private async pushAll(subscriptions: PushSubscription[], reminder: boolean, appUrl: string): Promise<SendOutcome> {
    const outcomes = await Promise.all(subscriptions.map((s) => this.deps.push!.send(s, reminder, appUrl)));
    for (const outcome of outcomes) this.deps.metrics.countNotification(NotificationChannel.PUSH, outcome);
    const gone = subscriptions.filter((_, i) => outcomes[i] === 'gone').map((s) => s.endpoint);
    if (gone.length) await this.deps.db.manager.delete(PushSubscription, { endpoint: In(gone) });
    if (outcomes.includes('sent')) return 'sent';
    return outcomes.includes('retry') ? 'retry' : 'failed';
  }

  /** Lets the row go, due again at `at`, while this round holds it. */
  private async release(row: Held, at: Date): Promise<false> {
    await this.update(row, { dueAt: at, leaseId: null, leaseUntil: null });
    return false;
  }

  /**
   * Deletes the row, while this round holds it. A message committed since the
   * facts were read found the row there and scheduled nothing: read again
   * after the delete, it is scheduled here (one committed after the delete
   * scheduled itself).
   */
  private async drop(row: Held, user: User, facts: DueFacts): Promise<false> {
    const m = this.deps.db.manager;
    await m.delete(ScheduledNotification, { userId: row.userId, threadId: row.threadId, leaseId: row.leaseId });
    // Members in through a team are scheduled by its escalations only.
    if (!facts.participant || facts.participant.viaTeamId !== null || facts.disabled) return false;
    const participant = await m.findOne(Participant, { where: { threadId: row.threadId, userId: row.userId }, select: { lastReadSeq: true, threadId: true, userId: true } });
    const unread = participant && (await unreadOf(m, row.threadId, user, participant.lastReadSeq));
    if (!unread || unread.last.seq <= Math.max(row.seq, facts.unread?.lastSeq ?? 0)) return false;
    const dueAt = new Date(unread.first.createdAt.getTime() + facts.settings.delayMinutes * 60_000);
    await m.createQueryBuilder().insert().into(ScheduledNotification).values(waitingRow(row.userId, row.threadId, dueAt, unread.first.seq)).orIgnore().execute();
    return false;
  }

  private update(row: Held, change: Partial<ScheduledNotification>) {
    return this.deps.db.manager.update(ScheduledNotification, { userId: row.userId, threadId: row.threadId, leaseId: row.leaseId }, change);
  }
}

/**
 * The first and last messages of the thread the user has not read and may
 * see, by others, and the one the audit names: the last a patient may see
 * (a patient's access log then shows it), else the last note.
 */
async function unreadOf(m: EntityManager, threadId: string, user: User, lastReadSeq: number) {
  const where = { threadId, seq: MoreThan(lastReadSeq), authorId: Not(user.id), ...(seesStaffNotes(user) ? {} : { staffOnly: false }) };
  const select = { id: true, seq: true, createdAt: true, staffOnly: true };
  const [first, last] = await Promise.all([m.findOne(Message, { where, select, order: { seq: 'ASC' } }), m.findOne(Message, { where, select, order: { seq: 'DESC' } })]);
  if (!first || !last) return null;
  const shown = last.staffOnly ? ((await m.findOne(Message, { where: { ...where, staffOnly: false }, select, order: { seq: 'DESC' } })) ?? last) : last;
  return { first, last, shown };
}
