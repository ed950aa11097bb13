import DataLoader from 'dataloader';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { batches } from '../../common/batch';
import type { AuditWriter } from '../../database/unit-of-work';
import type { MessageAddedEvent, MessageData } from '../../events/event-bus';
import { notFound } from '../../errors';
import type { Logger } from '../../logger';
import { Team } from '../teams/team.entity';
import { participantFacts } from '../threads/participants';
import { organisationInThread } from '../threads/thread-organisations';
import type { ThreadAccess } from '../threads/thread.access';
import { UserKind } from '../users/user-kind';
import { User, type Actor } from '../users/user.entity';
import { sentHere, type SentHere } from '../messages/sent-here';
import { AuditAction } from './audit-action';
import type { AuditEntry, AuditedUnitOfWork } from './audit-entry';
import type { ChainedContent } from './audit-chain';
import { AuditEvent, AuditEventOrganisation, AuditEventPatient, AuditOutcome, AuditRole } from './audit-event.entity';
import { currentOrigin } from '../../common/request-origin';
import { GroupCommit } from '../../database/group-commit';
import { insertRows } from '../../database/insert-rows';
import { ofOrganisation } from './audit-scope';
import { patientView } from './patient-view';

/**
 * One entry of MESSAGE_DELIVERED's `recipients` (stored as JSON): as at the
 * message's commit when this instance sent it, otherwise as when the event is
 * written (role null for someone no longer in the thread).
 */
export interface DeliveryRecipient {
  id: string;
  role: AuditRole | null;
  teamId: string | null;
}


const DELIVERY_BATCH_MS = 10;

/**
 * Batches of reads committing at once on PostgreSQL, so that a read never
 * waits for another batch's commit, only for its own: fewer than half the
 * pool's connections (DATABASE_POOL_SIZE), which writers and the reads' own
 * queries share; 4 with the default 10.
 */
const readBatchesInFlight = (poolSize: number) => Math.floor((poolSize - 1) / 2);

/** A message pushed live to some of its recipients by this instance. */
interface Delivery {
  event: MessageAddedEvent;
  userIds: string[];
}

/**
 * Text from a client as the database will store it, so the hash is computed
 * over what is stored: at most `max` code points, no lone surrogates (stored
 * as U+FFFD) and no NUL (which PostgreSQL refuses).
 */
function storable(text: string, max: number): string {
  return [...text.replace(/\0/g, '')]
    .slice(0, max)
    .map((c) => (c.length === 1 && c >= '\ud800' && c <= '\udfff' ? '\ufffd' : c))
    .join('');
}

/** An entry as prepared inside its transaction, short of its time. */
type PreparedEntry = Omit<ChainedContent, 'at'>;

export const roleOf = (user: Pick<Actor, 'kind' | 'isAdmin'>): AuditRole =>
  user.isAdmin ? AuditRole.ADMIN : user.kind === UserKind.PATIENT ? AuditRole.PATIENT : AuditRole.PROFESSIONAL;

/** Writes audit events (insert only; the sealer chains them) and reads a thread's trail. */
export class AuditService {
  /**
   * Live deliveries of the same few milliseconds, written in one transaction:
   * one MESSAGE_DELIVERED per message. Under load this is what keeps
   * deliveries from queueing one by one for a transaction each.
   */
  private readonly deliveries = new DataLoader<Delivery, void>(
    (deliveries) => this.recordDeliveries(deliveries),
    {
      cache: false,
      batchScheduleFn: (flush) => setTimeout(flush, DELIVERY_BATCH_MS),
      maxBatchSize: 1_000,
    },
  );

  /** The THREAD_READs of every request of the same moment, in one transaction (see readRecorder). */
  private readonly reads: GroupCommit<AuditEntry>;

  private readonly recording = new Set<Promise<void>>();
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly access: ThreadAccess;
  private readonly instanceId: string;
  private readonly logger: Logger;

  /** Becomes the audit writer of `uow`: tx.audit of every transaction lands here. */
  constructor(deps: { db: DataSource; uow: AuditedUnitOfWork; access: ThreadAccess; instanceId: string; logger: Logger }) {
    ({ db: this.db, uow: this.uow, access: this.access, instanceId: this.instanceId, logger: this.logger } = deps);
    this.uow.auditWith(this.writer);
    // SQLite's transactions take turns: a second batch would wait behind the first instead of gathering.
    const inFlight = this.db.options.type === 'postgres' ? readBatchesInFlight((this.db.options.extra as { max: number }).max) : 1;
    this.reads = new GroupCommit((entries) => this.uow.run((tx) => tx.audit(...entries)), inFlight);
  }

  /**
   * Records that `event`'s message was pushed live to `userIds` by this
   * instance, with every other delivery of the same few milliseconds, in the
   * background: delivery never waits for the audit trail. A failure is logged
   * as an error.
   */
  delivered(event: MessageAddedEvent, userIds: string[]): void {
    const recorded = this.deliveries.load({ event, userIds }).catch((error: unknown) => {
      this.logger.error({ err: error, messageId: event.message.id, userIds }, 'could not record a live delivery in the audit trail');
    });
    this.recording.add(recorded);
    void recorded.finally(() => this.recording.delete(recorded));
  }

  /** Resolves once the deliveries being recorded are written (or failed): at shutdown, before the database closes. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.recording]);
  }

  /**
   * Per request: records one THREAD_READ per thread whose messages the viewer
   * read. Resolvers await it before returning the messages, so a read that
   * cannot be audited fails. The reads of every request of the same moment go
   * in one short transaction (a group commit), so that a burst of reads takes
   * one turn of SQLite's writer, not one each behind the writers.
   */
  readRecorder(viewer: Actor | null): DataLoader<string, true> {
    return new DataLoader(async (threadIds) => {
      if (!viewer) throw new Error('reads are recorded only for a signed-in viewer');
      const origin = currentOrigin() ?? null;
      await this.reads.add(threadIds.map((threadId) => ({ actor: viewer, action: AuditAction.ThreadRead, threadId, origin })));
      return threadIds.map(() => true as const);
    });
  }

  /** An attempt refused with NOT_FOUND or FORBIDDEN, in its own transaction (nothing else was done). */
  denied(entry: AuditEntry & { denied: string }): Promise<void> {
    return this.uow.run((tx) => tx.audit(entry));
  }

  /**
   * The unit of work's audit writer. `prepare` reads, when tx.audit is called,
   * what the entries need (a thread's patients, the actor's team in it);
   * `write` inserts them at the end of the transaction, so both commit or
   * neither. Events are inserted unsealed: no lock, nothing read, so audited
   * transactions never wait for each other here; the sealer (audit-sealer.ts)
   * chains them shortly after the commit.
   */
  private readonly writer: AuditWriter<AuditEntry, PreparedEntry> = {
    prepare: async (m, entries) => {
      const facts = await this.facts(m, entries);
      const current = currentOrigin();
      return entries.map((e) => {
        // A read recorded in a group commit brings its own request's origin.
        const origin = e.origin === undefined ? current : e.origin;
        return {
          action: e.action,
          outcome: e.denied ? AuditOutcome.DENIED : AuditOutcome.SUCCESS,
          reason: e.denied ? storable(e.denied, 300) : null,
          actorId: e.actor.id,
          actorRole: roleOf(e.actor),
          actorTeamId: e.threadId ? (facts.teamOf.get(`${e.threadId}:${e.actor.id}`) ?? null) : null,
          threadId: e.threadId ?? null,
          messageId: e.messageId ?? null,
          subjectUserId: e.subjectUserId ?? null,
          patientId: e.patientId ?? null,
          teamId: e.teamId ?? null,
          patientIds: [
            ...new Set([
              ...(e.patientId ? [e.patientId] : []),
              ...(e.threadId ? (facts.patientsOf.get(e.threadId) ?? []) : []),
              ...(e.subjectUserId && facts.patientSubjects.has(e.subjectUserId) ? [e.subjectUserId] : []),
            ]),
          ],
          organisationIds: facts.organisations(e),
          channel: e.channel ?? null,
          recipients: e.recipientIds ? JSON.stringify([...e.recipientIds].sort().map((id) => facts.recipient(e.threadId ?? null, id))) : null,
          requestId: origin?.requestId ?? null,
          clientIp: origin ? storable(origin.ip, 64) : null,
          userAgent: origin?.userAgent ? storable(origin.userAgent, 300) : null,
          instanceId: this.instanceId,
        };
      });
    },
    // Two multi-row INSERTs per slice of events, however many: each statement is a round trip and
    // a turn of the event loop, which is what a group commit of reads waits on beside busy writers.
    write: async (m, prepared) => {
      const at = new Date();
      for (const slice of batches(prepared)) {
        // Sorted: a sequence numbers a statement's rows in the order of its VALUES, whatever order RETURNING lists them in.
        const rows = slice.map(({ patientIds: _, organisationIds, ...columns }) => ({ ...columns, organisationId: organisationIds[0] ?? null, at }));
        const ids = ((await insertRows(m, AuditEvent, rows, 'id')) as (number | string)[]).map(Number).sort((a, b) => a - b);
        const links = slice.flatMap(({ patientIds }, i) => patientIds.map((patientId) => ({ eventId: ids[i], patientId })));
        for (const batch of batches(links)) await insertRows(m, AuditEventPatient, batch);
        // Only events of a thread across organisations have more than one: most transactions write none.
        const more = slice.flatMap(({ organisationIds }, i) => organisationIds.slice(1).map((organisationId) => ({ eventId: ids[i], organisationId })));
        for (const batch of batches(more)) await insertRows(m, AuditEventOrganisation, batch);
      }
    },
  };

  /**
   * Oldest first. Participants; and admins of an organisation in the thread (a professional of it
   * participates, or a team of it is addressed), for the events of their organisation (audit-scope.ts):
   * NOT_FOUND for everyone else, as for an unknown thread. The read is itself recorded.
   * A patient's trail leaves out staff data (patientView).
   */
  async trail(viewer: User, threadId: string): Promise<AuditEvent[]> {
    const organisationId = viewer.isAdmin ? viewer.organisationId : null;
    const events = (m: EntityManager) => {
      const q = m.createQueryBuilder(AuditEvent, 'e').where('e.threadId = :threadId', { threadId }).orderBy('e.id', 'ASC');
      return organisationId ? ofOrganisation(q, organisationId) : viewer.kind === UserKind.PATIENT ? patientView(q) : q;
    };
    if (!organisationId) await this.access.participation(this.db.manager, viewer.id, threadId);
    else if (!(await organisationInThread(this.db.manager, organisationId, threadId))) throw notFound('Thread');
    return this.uow.run(async (tx) => {
      await tx.audit({ actor: viewer, action: AuditAction.AuditTrailRead, threadId });
      return events(tx.manager).getMany();
    });
  }

  private async recordDeliveries(deliveries: readonly Delivery[]): Promise<void[]> {
    const byMessage = new Map<string, { message: MessageData; userIds: string[]; sent?: SentHere }>();
    for (const { event, userIds } of deliveries) {
      const group = byMessage.get(event.message.id) ?? { message: event.message, userIds: [], sent: sentHere(event) };
      group.userIds.push(...userIds);
      byMessage.set(event.message.id, group);
    }
    // Only the authors of messages sent on another instance (or read back to fill a gap) are read.
    const authors = new Map<string, Actor>();
    for (const { sent } of byMessage.values()) if (sent) authors.set(sent.author.id, sent.author);
    const unknown = [...new Set(deliveries.map((d) => d.event.message.authorId).filter((id) => !authors.has(id)))];
    if (unknown.length) for (const user of await this.db.manager.find(User, { where: { id: In(unknown) } })) authors.set(user.id, user);
    await this.uow.run((tx) =>
      tx.audit(
        ...[...byMessage.values()].map(({ message, userIds, sent }) => ({
          actor: authors.get(message.authorId)!,
          action: AuditAction.MessageDelivered,
          threadId: message.threadId,
          messageId: message.id,
          recipientIds: [...new Set(userIds)],
          participants: sent?.participants,
        })),
      ),
    );
    return deliveries.map(() => undefined);
  }

  /**
   * The patients of the entries' threads, the actors' teams in them, and which
   * subjects are patients: two queries at most, none for threads whose
   * participants an entry brought along.
   */
  private async facts(m: EntityManager, entries: AuditEntry[]) {
    const given = entries.flatMap((e) => (e.threadId && e.participants ? e.participants : []));
    const known = new Set(given.map((row) => row.threadId));
    const threadIds = [...new Set(entries.flatMap((e) => (e.threadId && !known.has(e.threadId) ? [e.threadId] : [])))];
    const subjectIds = [...new Set(entries.flatMap((e) => (e.subjectUserId ? [e.subjectUserId] : [])))];
    const patientsOf = new Map<string, string[]>();
    const organisationsOf = new Map<string, Set<string>>();
    const teamOf = new Map<string, string | null>();
    const roleIn = new Map<string, AuditRole>();
    for (const row of [...given, ...(await participantFacts(m, threadIds))]) {
      if (row.kind === UserKind.PATIENT) patientsOf.set(row.threadId, [...(patientsOf.get(row.threadId) ?? []), row.userId]);
      teamOf.set(`${row.threadId}:${row.userId}`, row.viaTeamId);
      roleIn.set(`${row.threadId}:${row.userId}`, roleOf(row));
      if (row.organisationId) organisationsOf.set(row.threadId, new Set([...(organisationsOf.get(row.threadId) ?? []), row.organisationId]));
    }
    const subjects = subjectIds.length ? await m.find(User, { where: { id: In(subjectIds) }, select: { id: true, kind: true, organisationId: true } }) : [];
    const patientSubjects = new Set(subjects.filter((u) => u.kind === UserKind.PATIENT).map((u) => u.id));
    const organisationOf = new Map<string, string>(subjects.flatMap((u) => (u.organisationId ? [[u.id, u.organisationId] as const] : [])));
    // A team's organisation is its members' and its admins': read only for what a patient did outside a thread (a share).
    const teamIds = [...new Set(entries.flatMap((e) => (e.teamId && !e.threadId && !e.actor.organisationId ? [e.teamId] : [])))];
    for (const team of teamIds.length ? await m.find(Team, { where: { id: In(teamIds) }, select: { id: true, organisationId: true } }) : []) {
      organisationOf.set(team.id, team.organisationId);
    }
    /**
     * The organisations an entry concerns, sorted: its actor's (a professional's), the one it is about, those of the thread's
     * professionals, of the professional or team it is about; or else, for a patient's own doings, the
     * organisation that registered them.
     */
    const organisations = (e: AuditEntry): string[] => {
      const found = new Set<string>([
        ...(e.actor.organisationId ? [e.actor.organisationId] : []),
        ...(e.organisationId ? [e.organisationId] : []),
        ...(e.threadId ? (organisationsOf.get(e.threadId) ?? []) : []),
        ...[e.subjectUserId, e.teamId].flatMap((id) => (id && organisationOf.has(id) ? [organisationOf.get(id)!] : [])),
      ]);
      if (!found.size && e.actor.registeredByOrganisationId) found.add(e.actor.registeredByOrganisationId);
      return [...found].sort();
    };
    /** A recipient of a delivery as the access log shows them: role, and the team they are in the thread through. */
    const recipient = (threadId: string | null, id: string): DeliveryRecipient => ({
      id,
      role: roleIn.get(`${threadId}:${id}`) ?? null,
      teamId: teamOf.get(`${threadId}:${id}`) ?? null,
    });
    return { patientsOf, teamOf, patientSubjects, recipient, organisations };
  }
}
