import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { byKey, byName, groupByKey } from './common/batch';
import { systemClock, type Clock } from './common/clock';
import { Absence } from './modules/absences/absence.entity';
import { awayUntil } from './modules/absences/away-until';
import type { AttachmentData } from './events/event-bus';
import { attachmentsOfMessages } from './modules/attachments/message-attachments';
import { Message } from './modules/messages/message.entity';
import { Organisation } from './modules/organisations/organisation.entity';
import { TeamMember } from './modules/teams/team-member.entity';
import { Team } from './modules/teams/team.entity';
import { Participant } from './modules/threads/participant.entity';
import { ThreadTeam } from './modules/threads/thread-team.entity';
import { Thread } from './modules/threads/thread.entity';
import { PARTICIPATION, seesEveryMessage, visibleMessages, visibleThreads, withoutHiddenNotes } from './modules/threads/thread-visibility';
import { User } from './modules/users/user.entity';

export type Loaders = ReturnType<typeof createLoaders>;

/**
 * One set per request (or per execution of a live event), for one viewer,
 * never shared between users. `clock` says who is away now (the app's clock;
 * the system clock by default).
 */
export function createLoaders(db: DataSource, viewer: Pick<User, 'id' | 'kind'> | null, options: { clock?: Clock } = {}) {
  const m = db.manager;
  const viewerId = viewer?.id ?? null;
  const loader = <K, V>(batch: (keys: readonly K[]) => Promise<V[]>) =>
    new DataLoader<K, V>(batch, { maxBatchSize: 500 });
  const found = <T>(rows: (T | null | Error)[]) => rows.filter((r): r is T => r !== null && !(r instanceof Error));

  const user = loader<string, User | null>(async (ids) => byKey(ids, await m.findBy(User, { id: In([...ids]) }), (u) => u.id));
  const team = loader<string, Team | null>(async (ids) => byKey(ids, await m.findBy(Team, { id: In([...ids]) }), (t) => t.id));
  const organisation = loader<string, Organisation | null>(async (ids) => byKey(ids, await m.findBy(Organisation, { id: In([...ids]) }), (o) => o.id));

  /** Loads link rows, then the linked entities through a cached loader, sorted by name. */
  const linked = async <L, T extends { id: string; name: string }>(
    keys: readonly string[],
    links: L[],
    keyOf: (link: L) => string,
    targetOf: (link: L) => string,
    targets: DataLoader<string, T | null>,
  ): Promise<T[][]> => {
    const byId = new Map(found(await targets.loadMany(links.map(targetOf))).map((t) => [t.id, t]));
    return groupByKey(keys, links, keyOf).map((group) =>
      group
        .map((l) => byId.get(targetOf(l)))
        .filter((t): t is T => t !== undefined)
        .sort(byName),
    );
  };

  return {
    user,
    team,
    organisation,
    /** The thread, if the viewer may see it; null otherwise. */
    thread: loader<string, Thread | null>(async (ids) => {
      if (!viewer) return ids.map(() => null);
      const rows = await visibleThreads(m.createQueryBuilder(Thread, 't'), viewer, 't.id').where('t.id IN (:...ids)', { ids }).getMany();
      return byKey(ids, rows, (t) => t.id);
    }),
    teamsOfUser: loader<string, Team[]>(async (userIds) =>
      linked(userIds, await m.findBy(TeamMember, { userId: In([...userIds]) }), (l) => l.userId, (l) => l.teamId, team),
    ),
    membersOfTeam: loader<string, User[]>(async (teamIds) =>
      linked(teamIds, await m.findBy(TeamMember, { teamId: In([...teamIds]) }), (l) => l.teamId, (l) => l.userId, user),
    ),
    teamsOfThread: loader<string, Team[]>(async (threadIds) =>
      linked(threadIds, await m.findBy(ThreadTeam, { threadId: In([...threadIds]) }), (l) => l.threadId, (l) => l.teamId, team),
    ),
    /** The thread's items in the inboxes of the viewer's teams. */
    inboxOfThread: loader<string, ThreadTeam[]>(async (threadIds) => {
      if (!viewerId) return threadIds.map(() => []);
      const items = await m
        .createQueryBuilder(ThreadTeam, 'tt')
        .innerJoin(TeamMember, 'tm', 'tm.teamId = tt.teamId AND tm.userId = :viewerId', { viewerId })
        .where('tt.threadId IN (:...threadIds)', { threadIds })
        .orderBy('tt.addedAt', 'ASC')
        .getMany();
      return groupByKey(threadIds, items, (item) => item.threadId);
    }),
    attachmentsOfMessage: loader<string, AttachmentData[]>((messageIds) => attachmentsOfMessages(m, messageIds)),
    participantsOfThread: loader<string, Participant[]>(async (threadIds) =>
      groupByKey(
        threadIds,
        await m.find(Participant, { where: { threadId: In([...threadIds]) }, order: { joinedAt: 'ASC', userId: 'ASC' } }),
        (p) => p.threadId,
      ),
    ),
    /** The newest message the viewer may see, per thread; null when they see none (or not the thread). */
    lastMessageOfThread: loader<string, Message | null>(async (threadIds) => {
      if (!viewer) return threadIds.map(() => null);
      const q = visibleMessages(m.createQueryBuilder(Message, 'msg'), viewer, 'msg').where('msg.threadId IN (:...threadIds)', { threadIds });
      // One index lookup per thread when nothing is hidden from the viewer; otherwise the newest of those they may see.
      if (seesEveryMessage(viewer)) q.innerJoin(Thread, 't', 't.id = msg.threadId AND msg.seq = t.lastSeq');
      else {
        q.andWhere((sub) => {
          const newest = sub.subQuery().select('MAX(seen.seq)').from(Message, 'seen').where('seen.threadId = msg.threadId');
          return `msg.seq = ${withoutHiddenNotes(newest, viewer, 'seen').getQuery()}`;
        });
      }
      const rows = await q.getMany();
      return byKey(threadIds, rows, (msg) => msg.threadId);
    }),
    /** Messages by others after the viewer's read mark that the viewer may see, per thread (0 for a thread they may not see). */
    unreadCount: loader<string, number>(async (threadIds) => {
      if (!viewer) return threadIds.map(() => 0);
      const q = visibleMessages(m.createQueryBuilder(Message, 'msg'), viewer, 'msg')
        .select('msg.threadId', 'threadId')
        .addSelect('COUNT(*)', 'unread')
        .where('msg.threadId IN (:...threadIds)', { threadIds })
        .andWhere(`msg.seq > ${PARTICIPATION}.lastReadSeq`)
        .andWhere('msg.authorId != :viewerId', { viewerId: viewer.id })
        .groupBy('msg.threadId');
      const rows: { threadId: string; unread: string | number }[] = await q.getRawMany();
      const counts = new Map(rows.map((r) => [r.threadId, Number(r.unread)]));
      return threadIds.map((id) => counts.get(id) ?? 0);
    }),
    /**
     * Per user, their current and upcoming absences (earliest start first) and
     * when they are back if they are away now; both from one reading of the clock.
     */
    absencesOfUser: loader<string, { absences: Absence[]; awayUntil: Date | null }>(async (userIds) => {
      const now = (options.clock ?? systemClock).now();
      const rows = await m
        .createQueryBuilder(Absence, 'a')
        .where('a.userId IN (:...userIds)', { userIds })
        .andWhere('a.endsAt > :now', { now })
        .orderBy('a.startsAt', 'ASC')
        .addOrderBy('a.id', 'ASC')
        .getMany();
      return groupByKey(userIds, rows, (a) => a.userId).map((absences) => ({ absences, awayUntil: awayUntil(absences, now) }));
    }),
  };
}
