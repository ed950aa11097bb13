import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import { byName, groupByKey } from '../../common/batch';
import { derivedId } from '../../common/ids';
import { checkPageSize } from '../../common/pagination';
import { badUserInput } from '../../errors';
import type { CareNetworkService } from '../care-network/care-network.service';
import { ProfessionalShare, TeamShare } from '../care-network/record-share.entity';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import type { ThreadAccess } from '../threads/thread.access';
import { Participant } from '../threads/participant.entity';
import { UserKind } from '../users/user-kind';
import { isProfessional, User } from '../users/user.entity';
import type { RecipientInput } from './recipient.input';
import { TeamRecipient, UserRecipient } from './recipient-option.type';
import { judgeTeam, judgeUser, type RecipientFacts } from './recipient-policy';

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
 * The recipient drop-down and the check of what a caller picked. Both run the
 * rules of recipient-policy.ts over facts loaded here in a fixed number of
 * statements, whatever the number of users and teams. Statements run one after
 * another: inside a transaction they share one connection.
 */
export class RecipientService {
  private readonly db: DataSource;
  private readonly careNetwork: CareNetworkService;
  private readonly access: ThreadAccess;

  constructor(deps: { db: DataSource; careNetwork: CareNetworkService; access: ThreadAccess }) {
    ({ db: this.db, careNetwork: this.careNetwork, access: this.access } = deps);
  }

  /** Teams first, then people, each by name. With threadId: what may still be added to that thread. */
  async options(viewer: User, query: RecipientQuery): Promise<(TeamRecipient | UserRecipient)[]> {
    const first = checkPageSize(query.first);
    const m = this.db.manager;
    const participantIds = query.threadId ? await this.participantIds(m, viewer, query.threadId) : new Set<string>();
    const needle = query.search?.trim().toLowerCase() ?? '';
    const matches = (name: string) => name.toLowerCase().includes(needle);
    const { facts, autoCcTeams } = await this.loadFacts(m, viewer);

    const teamOptions = autoCcTeams.flatMap(({ team, members }) => {
      const verdict = judgeTeam(facts, team, members, participantIds);
      if (!verdict.ok || !verdict.members.length) return [];
      // A member of an auto-CC team is only reachable through the team, so searching for them finds it.
      if (!matches(team.name) && !verdict.members.some((u) => matches(u.name))) return [];
      const id = derivedId('TeamRecipient', team.id, ...(query.threadId ? [query.threadId] : []));
      return [Object.assign(new TeamRecipient(), { id, team, members: verdict.members, reachCount: verdict.reachCount })];
    });
    const userOptions = (await this.candidates(m, viewer))
      .filter((user) => matches(user.name) && !participantIds.has(user.id) && judgeUser(facts, user).ok)
      .map((user) => Object.assign(new UserRecipient(), { user }));
    return [...teamOptions, ...userOptions].slice(0, first);
  }

  /**
   * Turns picks into participants to add, applying the same rules as `options`.
   * Current participants (and teams whose members all are) change nothing; any
   * other pick the drop-down would not offer fails the whole request with
   * BAD_USER_INPUT naming every reason.
   */
  async resolve(m: EntityManager, viewer: User, picks: RecipientInput[], participantIds: Set<string>): Promise<Resolution> {
    if (!picks.length) throw badUserInput('At least one recipient is required');
    const parsed = picks.map((p) => p.exactlyOne());
    const userIds = unique(parsed.flatMap((p) => (p.userId === undefined ? [] : [p.userId])));
    const teamIds = unique(parsed.flatMap((p) => (p.teamId === undefined ? [] : [p.teamId])));
    const { facts } = await this.loadFacts(m, viewer);
    const users = userIds.length ? await m.findBy(User, { id: In(userIds) }) : [];
    const teams = await this.teamsWithMembers(m, teamIds);

    const problems: string[] = [];
    if (users.length < userIds.length || teams.length < teamIds.length) problems.push('Unknown recipient');
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
    if (problems.length) throw badUserInput(problems.join('; '));
    return { additions: [...additions.values()], teamIds: addedTeams };
  }

  private async participantIds(m: EntityManager, viewer: User, threadId: string): Promise<Set<string>> {
    await this.access.participation(m, viewer.id, threadId);
    return new Set((await m.findBy(Participant, { threadId })).map((p) => p.userId));
  }

  private async loadFacts(m: EntityManager, caller: User): Promise<{ facts: RecipientFacts; autoCcTeams: TeamWithMembers[] }> {
    const professional = isProfessional(caller);
    const autoCcTeams = await this.autoCcTeams(m);
    const patientNetwork = professional ? null : await this.patientNetwork(m, caller.id);
    const sharingPatientIds = professional ? await this.careNetwork.patientsSharingWith(m, caller.id) : new Set<string>();
    const autoCcTeamsOf = new Map<string, Team[]>();
    for (const { team, members } of autoCcTeams) {
      for (const user of members) autoCcTeamsOf.set(user.id, [...(autoCcTeamsOf.get(user.id) ?? []), team]);
    }
    return { facts: { caller, patientNetwork, sharingPatientIds, autoCcTeamsOf }, autoCcTeams };
  }

  private async autoCcTeams(m: EntityManager): Promise<TeamWithMembers[]> {
    const teams = await m.find(Team, { where: { autoCc: true }, order: { name: 'ASC' } });
    const memberships = await m
      .createQueryBuilder(TeamMember, 'tm')
      .innerJoin(Team, 't', 't.id = tm.teamId')
      .where('t.autoCc = :yes', { yes: true })
      .getMany();
    const members = await m
      .createQueryBuilder(User, 'u')
      .innerJoin(TeamMember, 'tm', 'tm.userId = u.id')
      .innerJoin(Team, 't', 't.id = tm.teamId')
      .where('t.autoCc = :yes', { yes: true })
      .getMany();
    return attachMembers(teams, memberships, members);
  }

  private async teamsWithMembers(m: EntityManager, teamIds: string[]): Promise<TeamWithMembers[]> {
    if (!teamIds.length) return [];
    const teams = await m.findBy(Team, { id: In(teamIds) });
    const memberships = await m.findBy(TeamMember, { teamId: In(teamIds) });
    const memberIds = unique(memberships.map((tm) => tm.userId));
    const members = memberIds.length ? await m.findBy(User, { id: In(memberIds) }) : [];
    return attachMembers(teams, memberships, members);
  }

  private async patientNetwork(m: EntityManager, patientId: string): Promise<NonNullable<RecipientFacts['patientNetwork']>> {
    const shares = await this.careNetwork.sharesOf(m, patientId);
    const teamMembers = await m
      .createQueryBuilder(TeamMember, 'tm')
      .innerJoin(TeamShare, 'ts', 'ts.teamId = tm.teamId')
      .where('ts.patientId = :patientId', { patientId })
      .getMany();
    return { ...shares, teamMemberIds: new Set(teamMembers.map((tm) => tm.userId)) };
  }

  /**
   * Users who might be offered individually, narrowed in SQL by who can be reached at all.
   * `options` applies the search in JS, as for teams: SQLite's LOWER folds ASCII only, so
   * "élodie" would not find "Élodie".
   */
  private candidates(m: EntityManager, caller: User): Promise<User[]> {
    const reachable = new Brackets((b) => {
      // An optimisation, to read fewer rows: the rule is judgeUser's (recipient-policy.ts), which every option
      // and every pick passes. It may only leave out whom judgeUser refuses, or the drop-down would hide a valid pick.
      b.where('u.kind = :professional AND u.contactable = :yes', { professional: UserKind.PROFESSIONAL, yes: true });
      if (!isProfessional(caller)) return;
      const direct = m.createQueryBuilder(ProfessionalShare, 'ps').select('ps.patientId').where('ps.professionalId = :me');
      const viaTeam = m
        .createQueryBuilder(TeamShare, 'ts')
        .select('ts.patientId')
        .innerJoin(TeamMember, 'tm', 'tm.teamId = ts.teamId')
        .where('tm.userId = :me');
      b.orWhere(`u.kind = :patient AND (u.id IN (${direct.getQuery()}) OR u.id IN (${viaTeam.getQuery()}))`, {
        patient: UserKind.PATIENT,
        me: caller.id,
      });
    });
    return m.createQueryBuilder(User, 'u').where(reachable).orderBy('u.name', 'ASC').addOrderBy('u.id', 'ASC').getMany();
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
