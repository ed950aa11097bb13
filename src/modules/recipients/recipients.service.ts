import { In, type DataSource, type EntityManager } from 'typeorm';
import { byName, groupByKey } from '../../common/batch';
import { derivedId } from '../../common/ids';
import { checkPageSize } from '../../common/pagination';
import { likeContaining } from '../../common/text';
import { apiColumns, apiSelection } from '../../database/api-columns';
import { hydrate } from '../../database/hydrate';
import { badUserInput } from '../../errors';
import { patientsSharingWithOrganisation } from '../care-network/organisation-reach';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import type { ThreadAccess } from '../threads/thread.access';
import { isProfessional, User } from '../users/user.entity';
import type { RecipientInput } from './recipient.input';
import { TeamRecipient, UserRecipient } from './recipient-option.type';
import {
  addableMember,
  autoCcMemberships,
  directlySharedWith,
  offeredTeam,
  offeredUser,
  offerParams,
  patientsSharingWithCaller,
  reachable,
  sharedTeamMembers,
  teamsSharedWith,
  type NetworkOf,
  type OfferScope,
} from './recipient-offer';
import { judgeTeam, judgeUser, UNKNOWN_RECIPIENT, type CareNetwork, type RecipientFacts } from './recipient-policy';

export interface RecipientQuery {
  search?: string | null;
  threadId?: string | null;
  first: number;
}

/** Who a set of picks adds to a thread, and through which auto-CC team. */
export interface Resolution {
  additions: { user: User; viaTeamId: string | null }[];
  /** Auto-CC teams through which someone was added. */
  teamIds: string[];
}

interface TeamWithMembers {
  team: Team;
  members: User[];
}

/**
 * The recipient drop-down and the check of what a caller picked. A pick is
 * judged by the rules of recipient-policy.ts over facts about the picks alone;
 * the drop-down is those rules restated in SQL (recipient-offer.ts), so that the
 * database searches, orders and cuts it. Both take a fixed number of statements,
 * whatever the number of users and teams. Statements run one after another:
 * inside a transaction they share one connection.
 */
export class RecipientService {
  private readonly db: DataSource;
  private readonly access: ThreadAccess;

  constructor(deps: { db: DataSource; access: ThreadAccess }) {
    ({ db: this.db, access: this.access } = deps);
  }

  /**
   * Teams first, then people, each by name. With threadId: what may still be added to that thread.
   * The database filters, searches, orders and cuts (recipient-offer.ts): with threadId the caller's
   * participation, then the teams with the members they would add, then the people; a few statements
   * whatever the size of the directory.
   */
  async options(viewer: User, query: RecipientQuery): Promise<(TeamRecipient | UserRecipient)[]> {
    const first = checkPageSize(query.first);
    const m = this.db.manager;
    const threadId = query.threadId ?? null;
    if (threadId) await this.access.participation(m, viewer.id, threadId);
    const needle = query.search?.trim() ?? '';
    const scope: OfferScope = { m, patientCaller: !isProfessional(viewer), inThread: threadId !== null, search: needle !== '' };
    const params = offerParams(viewer.id, viewer.organisationId, threadId, needle ? likeContaining(needle) : null);

    const teams = await this.offeredTeams(scope, params, first);
    const teamOptions = teams.map(({ team, members, reachCount }) => {
      const id = derivedId('TeamRecipient', team.id, ...(threadId ? [threadId] : []));
      return Object.assign(new TeamRecipient(), { id, team, members, reachCount });
    });
    if (teamOptions.length === first) return teamOptions;
    const users = await m
      .createQueryBuilder(User, 'u')
      .select(apiSelection(m, User, 'u'))
      .where(offeredUser(scope, 'u'))
      .orderBy('u.name', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .limit(first - teamOptions.length)
      .setParameters(params)
      .getMany();
    return [...teamOptions, ...users.map((user) => Object.assign(new UserRecipient(), { user }))];
  }

  /** The first `first` teams offered, by name, each with the members picking it would add (by name) and its reachCount: one statement. */
  private async offeredTeams(scope: OfferScope, params: ReturnType<typeof offerParams>, first: number) {
    const { m } = scope;
    const reachCount = m
      .createQueryBuilder(TeamMember, 'rtm')
      .select('COUNT(*)')
      .innerJoin(User, 'ru', 'ru.id = rtm.userId')
      .where(`rtm.teamId = t.id AND ${reachable('ru')}`);
    // The page of teams first, with their columns and reachCount, read once per team rather than once per member row.
    // Options go nowhere but into the answer: only the columns the API shows are read.
    const offered = m
      .createQueryBuilder(Team, 't')
      .select(apiSelection(m, Team, 't'))
      .addSelect(`(${reachCount.getQuery()})`, 'reachCount')
      .where(offeredTeam(scope, 't'))
      .orderBy('t.name', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .limit(first);
    const rows: Record<string, unknown>[] = await m
      .createQueryBuilder(TeamMember, 'tm')
      .select('"page".*')
      .innerJoin(`(${offered.getQuery()})`, 'page', '"page"."t_id" = tm.teamId')
      .innerJoin(User, 'u', 'u.id = tm.userId')
      .addSelect(apiSelection(m, User, 'u'))
      .where(addableMember(scope, 'u'))
      .orderBy('"page"."t_name"', 'ASC')
      .addOrderBy('"page"."t_id"', 'ASC')
      .setParameters(params)
      .getRawMany();
    const teams = new Map<string, { team: Team; members: User[]; reachCount: number }>();
    for (const row of rows) {
      const teamId = String(row.t_id);
      if (!teams.has(teamId)) teams.set(teamId, { team: hydrate(m, Team, row, 't', apiColumns(m, Team)), members: [], reachCount: Number(row.reachCount) });
      teams.get(teamId)!.members.push(hydrate(m, User, row, 'u', apiColumns(m, User)));
    }
    return [...teams.values()].map((t) => ({ ...t, members: t.members.sort(byName) }));
  }

  /**
   * Turns picks into participants to add (to the thread `threadId`, or to a new thread when null),
   * applying the same rules as `options`. Current participants (and teams whose members all are)
   * change nothing; any other pick the drop-down would not offer fails the whole request with
   * BAD_USER_INPUT naming every reason.
   */
  async resolve(m: EntityManager, viewer: User, picks: RecipientInput[], participantIds: Set<string>, threadId: string | null): Promise<Resolution> {
    if (!picks.length) throw badUserInput('At least one recipient is required');
    const parsed = picks.map((p) => p.exactlyOne());
    const userIds = unique(parsed.flatMap((p) => (p.userId === undefined ? [] : [p.userId])));
    const teamIds = unique(parsed.flatMap((p) => (p.teamId === undefined ? [] : [p.teamId])));
    const users = userIds.length ? await m.findBy(User, { id: In(userIds) }) : [];
    const teams = await this.teamsWithMembers(m, teamIds);
    const facts = await this.factsAbout(m, viewer, userIds, teamIds, threadId);

    const problems: string[] = [];
    if (users.length < userIds.length || teams.length < teamIds.length) problems.push(UNKNOWN_RECIPIENT);
    const additions = new Map<string, { user: User; viaTeamId: string | null }>();
    const addedTeams: string[] = [];
    for (const user of users) {
      // The caller is a participant too, yet picking themself is refused rather than ignored.
      if (participantIds.has(user.id) && user.id !== viewer.id) continue;
      const verdict = judgeUser(facts, user);
      if (verdict.ok) additions.set(user.id, { user, viaTeamId: null });
      else problems.push(verdict.reason);
    }
    for (const { team, members } of teams) {
      const verdict = judgeTeam(facts, team, members, participantIds);
      if (!verdict.ok) {
        problems.push(verdict.reason);
        continue;
      }
      if (verdict.members.length) addedTeams.push(team.id);
      for (const user of verdict.members) if (!additions.has(user.id)) additions.set(user.id, { user, viaTeamId: team.id });
    }
    if (problems.length) throw badUserInput(unique(problems).join('; '));
    return { additions: [...additions.values()], teamIds: addedTeams };
  }

  /**
   * What judgeUser and judgeTeam need to know about the picked users and teams, and nothing else, so that
   * checking picks costs the same in any directory: a few statements, through the conditions the drop-down
   * offers by (recipient-offer.ts).
   */
  private async factsAbout(m: EntityManager, caller: User, userIds: string[], teamIds: string[], threadId: string | null): Promise<RecipientFacts> {
    const params = offerParams(caller.id, caller.organisationId, threadId, null);
    const which = async (target: typeof User | typeof Team, ids: string[], idsIn: string) => {
      if (!ids.length) return new Set<string>();
      const rows: { id: string }[] = await m
        .createQueryBuilder(target, 'x')
        .select('x.id', 'id')
        .where('x.id IN (:...ids)', { ids })
        .andWhere(`x.id IN (${idsIn})`)
        .setParameters(params)
        .getRawMany();
      return new Set(rows.map((r) => r.id));
    };
    const networkOf = async (of: NetworkOf): Promise<CareNetwork> => ({
      teamIds: await which(Team, teamIds, teamsSharedWith(m, of)),
      professionalIds: await which(User, userIds, directlySharedWith(m, of)),
      teamMemberIds: await which(User, userIds, sharedTeamMembers(m, of)),
    });
    const autoCcTeamsOf = await this.autoCcTeamsOf(m, userIds);
    if (isProfessional(caller)) {
      return {
        caller,
        patientNetwork: null,
        threadNetwork: threadId ? await networkOf('thread') : { teamIds: new Set(), professionalIds: new Set(), teamMemberIds: new Set() },
        sharingPatientIds: await which(User, userIds, patientsSharingWithCaller(m)),
        organisationPatientIds: await which(User, userIds, patientsSharingWithOrganisation(m)),
        autoCcTeamsOf,
      };
    }
    const none = { teamIds: new Set<string>(), professionalIds: new Set<string>(), teamMemberIds: new Set<string>() };
    return { caller, patientNetwork: await networkOf('caller'), threadNetwork: none, sharingPatientIds: new Set(), organisationPatientIds: new Set(), autoCcTeamsOf };
  }

  /** The auto-CC teams of each of these users who is in one. */
  private async autoCcTeamsOf(m: EntityManager, userIds: string[]): Promise<Map<string, Team[]>> {
    const teamsOf = new Map<string, Team[]>();
    if (!userIds.length) return teamsOf;
    const rows: Record<string, unknown>[] = await autoCcMemberships(m)
      .addSelect('actm.userId', 'userId')
      .andWhere('actm.userId IN (:...userIds)', { userIds })
      .orderBy('act.name', 'ASC')
      .setParameters(offerParams('', null, null, null))
      .getRawMany();
    for (const row of rows) {
      const userId = String(row.userId);
      teamsOf.set(userId, [...(teamsOf.get(userId) ?? []), hydrate(m, Team, row, 'act')]);
    }
    return teamsOf;
  }

  private async teamsWithMembers(m: EntityManager, teamIds: string[]): Promise<TeamWithMembers[]> {
    if (!teamIds.length) return [];
    const teams = await m.findBy(Team, { id: In(teamIds) });
    const memberships = await m.findBy(TeamMember, { teamId: In(teamIds) });
    const memberIds = unique(memberships.map((tm) => tm.userId));
    const members = memberIds.length ? await m.findBy(User, { id: In(memberIds) }) : [];
    return attachMembers(teams, memberships, members);
  }
}

function attachMembers(teams: Team[], memberships: TeamMember[], users: User[]): TeamWithMembers[] {
  const usersById = new Map(users.map((u) => [u.id, u]));
  const teamIds = teams.map((t) => t.id);
  return groupByKey(teamIds, memberships, (tm) => tm.teamId).map((group, i) => ({
    team: teams[i],
    members: group
      .map((tm) => usersById.get(tm.userId))
      .filter((u): u is User => u !== undefined)
      .sort(byName),
  }));
}

const unique = <T>(values: T[]) => [...new Set(values)];
