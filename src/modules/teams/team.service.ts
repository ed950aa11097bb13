import { In, type DataSource, type EntityManager } from 'typeorm';
import { isId, newId } from '../../common/ids';
import { MAX_NAME_LENGTH, requireText } from '../../common/text';
import type { UnitOfWork } from '../../database/unit-of-work';
import { badUserInput, forbidden, notFound } from '../../errors';
import { PARTICIPANTS_CHANGED, type EventBus } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import type { AuditService } from '../audit/audit.service';
import type { CareNetworkService } from '../care-network/care-network.service';
import { reschedule } from '../inbox/escalation-schedule';
import type { InboxService } from '../inbox/inbox.service';
import { joinTeamThreads, leaveTeamThreads } from '../threads/team-threads';
import { isProfessional, User } from '../users/user.entity';
import { requireAdmin } from '../users/user.service';
import { requireCoverageWithout } from './team-coverage';
import { lockTeams } from './team-lock';
import { TeamMember } from './team-member.entity';
import { Team } from './team.entity';

const MAX_COVERAGE_MINIMUM = 100;

export class TeamService {
  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly careNetwork: CareNetworkService,
    private readonly inbox: InboxService,
    private readonly events: EventBus,
  ) {}

  /** Every team for professionals; a patient sees only the teams in their care network. */
  async list(viewer: User): Promise<Team[]> {
    if (isProfessional(viewer)) return this.db.manager.find(Team, { order: { name: 'ASC' } });
    const { teamIds } = await this.careNetwork.sharesOf(this.db.manager, viewer.id);
    return this.db.manager.find(Team, { where: { id: In([...teamIds]) }, order: { name: 'ASC' } });
  }

  async create(viewer: User, name: string, autoCc: boolean): Promise<Team> {
    requireAdmin(viewer);
    const team = Object.assign(new Team(), { id: newId(), name: requireText('name', name, MAX_NAME_LENGTH), autoCc, createdAt: new Date() });
    return this.uow.transaction(async (m) => {
      if (await m.existsBy(Team, { name: team.name })) throw badUserInput(`A team named "${team.name}" already exists`);
      await m.insert(Team, team);
      await this.audit.record(m, { actor: viewer, action: AuditAction.TeamCreated, teamId: team.id });
      return team;
    });
  }

  /**
   * A contactable, enabled member joining an auto-CC team also joins the
   * threads open in its inbox (team-threads.ts). Adding a current member
   * changes nothing.
   */
  async addMember(viewer: User, teamId: string, userId: string): Promise<Team> {
    requireAdmin(viewer);
    if (userId === viewer.id) throw forbidden('An admin cannot add themself to a team (it would open its threads to them): another admin must');
    const { team, changes } = await this.uow.transaction(async (m) => {
      await lockTeams(m, [teamId], 'change');
      const team = await teamOrFail(m, teamId);
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw badUserInput('Unknown user');
      if (!isProfessional(user)) throw badUserInput('Only professionals can be team members');
      if (await m.existsBy(TeamMember, { teamId, userId })) return { team, changes: [] };
      await m.insert(TeamMember, { teamId, userId, addedAt: new Date() });
      const joined = await joinTeamThreads(m, viewer, team, user);
      await reschedule(m, { memberId: userId });
      await this.audit.record(m, { actor: viewer, action: AuditAction.TeamMemberAdded, teamId, subjectUserId: userId }, ...joined.audit);
      return { team, changes: joined.changes };
    });
    for (const change of changes) this.events.publish(PARTICIPANTS_CHANGED, change);
    return team;
  }

  /**
   * Refused when it would take an auto-CC team below its coverage minimum
   * (team-coverage.ts). The member leaves the threads they were in only
   * through this team (team-threads.ts), and is unassigned from the team's
   * threads they had.
   */
  async removeMember(viewer: User, teamId: string, userId: string): Promise<Team> {
    requireAdmin(viewer);
    const { team, changes, inboxChanges } = await this.uow.transaction(async (m) => {
      await lockTeams(m, [teamId], 'change');
      const team = await teamOrFail(m, teamId);
      await requireCoverageWithout(m, userId, teamId);
      const { affected } = await m.delete(TeamMember, { teamId, userId });
      if (!affected) throw badUserInput('This user is not a member of the team');
      // Row locks first (threads, then their inbox items), the audit chain's lock last, as a send takes them.
      const left = await leaveTeamThreads(m, viewer, teamId, userId);
      const inboxChanges = await this.inbox.unassignLeaver(m, viewer, { teamId }, userId);
      await this.audit.record(m, { actor: viewer, action: AuditAction.TeamMemberRemoved, teamId, subjectUserId: userId }, ...left.audit);
      return { team, changes: left.changes, inboxChanges };
    });
    for (const change of changes) this.events.publish(PARTICIPANTS_CHANGED, change);
    this.inbox.publish(inboxChanges);
    return team;
  }

  /** Changes only future recipient choices: existing threads keep their participants. */
  setAutoCc(viewer: User, teamId: string, enabled: boolean): Promise<Team> {
    return this.changeSetting(viewer, teamId, 'autoCc', enabled, AuditAction.TeamAutoCcChanged);
  }

  /**
   * Admins only; `minimum` from 0 to 100. Raising it above the team's current
   * count is allowed: it only refuses further decreases (team-coverage.ts).
   */
  async setCoverageMinimum(viewer: User, teamId: string, minimum: number): Promise<Team> {
    requireAdmin(viewer);
    if (minimum < 0 || minimum > MAX_COVERAGE_MINIMUM) throw badUserInput(`The coverage minimum must be from 0 to ${MAX_COVERAGE_MINIMUM}`);
    return this.changeSetting(viewer, teamId, 'minimumContactable', minimum, AuditAction.TeamCoverageMinimumChanged);
  }

  /** Admins only: sets one of the team's settings, audited as `action` when the value changes. */
  private async changeSetting<K extends 'autoCc' | 'minimumContactable'>(viewer: User, teamId: string, key: K, value: Team[K], action: AuditAction): Promise<Team> {
    requireAdmin(viewer);
    return this.uow.transaction(async (m) => {
      const team = await teamOrFail(m, teamId);
      if (team[key] !== value) {
        await m.update(Team, { id: teamId }, { [key]: value });
        await this.audit.record(m, { actor: viewer, action, teamId });
        team[key] = value;
      }
      return team;
    });
  }
}

/** The team; NOT_FOUND for an unknown id (or text that is no id). */
export async function teamOrFail(m: EntityManager, teamId: string): Promise<Team> {
  const team = isId(teamId) ? await m.findOneBy(Team, { id: teamId }) : null;
  if (!team) throw notFound('Team');
  return team;
}
