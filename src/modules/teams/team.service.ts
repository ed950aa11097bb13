import { In, type DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { requireName } from '../../common/text';
import { badUserInput, forbidden } from '../../errors';
import { TEAM_MEMBER_ADDED, TEAM_MEMBER_REMOVED } from '../../events/tx-events';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import type { CareNetworkService } from '../care-network/care-network.service';
import { isProfessional, User } from '../users/user.entity';
import { Organisation } from '../organisations/organisation.entity';
import { autoCcRefusal } from '../organisations/auto-cc-allowed';
import { lockedOrganisation } from '../organisations/organisation-lookup';
import { requireAdmin, requirePlatformAdmin } from '../users/user-rules';
import { requireCoverageWithout } from './team-coverage';
import { teamOrFail } from './team-lookup';
import { TeamMember } from './team-member.entity';
import { Team } from './team.entity';

const MAX_COVERAGE_MINIMUM = 100;

export interface TeamDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  careNetwork: CareNetworkService;
}

/**
 * Teams and their members. A membership change is announced in its
 * transaction (TEAM_MEMBER_ADDED, TEAM_MEMBER_REMOVED): the threads module
 * makes the member follow into or out of the team's threads, the inbox
 * unassigns a leaver and reschedules alerts.
 */
export class TeamService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly careNetwork: CareNetworkService;

  constructor(deps: TeamDeps) {
    ({ db: this.db, uow: this.uow, careNetwork: this.careNetwork } = deps);
  }

  /** The teams of their organisation for professionals; a patient sees only the teams in their care network, of any organisation. */
  async list(viewer: User): Promise<Team[]> {
    if (isProfessional(viewer)) return this.db.manager.find(Team, { where: { organisationId: viewer.organisationId! }, order: { name: 'ASC' } });
    const { teamIds } = await this.careNetwork.sharesOf(this.db.manager, viewer.id);
    return this.db.manager.find(Team, { where: { id: In([...teamIds]) }, order: { name: 'ASC' } });
  }

  /** In the admin's organisation; with auto-CC only where the organisation allows it. */
  async create(viewer: User, name: string, autoCc: boolean): Promise<Team> {
    const organisationId = requireAdmin(viewer);
    const team = Object.assign(new Team(), { id: newId(), name: requireName('name', name), autoCc, organisationId, createdAt: new Date() });
    return this.uow.run(async ({ manager: m, audit }) => {
      if (autoCc) requireAutoCcAllowed(await lockedOrganisation(m, organisationId, 'share'));
      if (await m.existsBy(Team, { organisationId, name: team.name })) throw badUserInput(`A team named "${team.name}" already exists`);
      await m.insert(Team, team);
      await audit({ actor: viewer, action: AuditAction.TeamCreated, teamId: team.id });
      return team;
    });
  }

  /**
   * A contactable, enabled member joining an auto-CC team also joins the
   * threads open in its inbox (team-threads.ts). Adding a current member
   * changes nothing.
   */
  async addMember(viewer: User, teamId: string, userId: string): Promise<Team> {
    const organisationId = requireAdmin(viewer);
    if (userId === viewer.id) throw forbidden('An admin cannot add themself to a team (it would open its threads to them): another admin must');
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockTeams([teamId], 'change');
      const team = await teamOrFail(m, teamId, organisationId);
      const user = await this.careNetwork.userOfOrganisation(m, organisationId, userId);
      if (!user) throw badUserInput('Unknown user');
      if (!isProfessional(user)) throw badUserInput('Only professionals can be team members');
      if (await m.existsBy(TeamMember, { teamId, userId })) return team;
      await m.insert(TeamMember, { teamId, userId, addedAt: new Date() });
      await tx.audit({ actor: viewer, action: AuditAction.TeamMemberAdded, teamId, subjectUserId: userId });
      await tx.emit(TEAM_MEMBER_ADDED, { teamId, userId, actor: viewer });
      return team;
    });
  }

  /**
   * Refused when it would take an auto-CC team below its coverage minimum
   * (team-coverage.ts). The member leaves the threads they were in only
   * through this team (team-threads.ts), and is unassigned from the team's
   * threads they had.
   */
  async removeMember(viewer: User, teamId: string, userId: string): Promise<Team> {
    const organisationId = requireAdmin(viewer);
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockTeams([teamId], 'change');
      const team = await teamOrFail(m, teamId, organisationId);
      await requireCoverageWithout(m, userId, teamId);
      const { affected } = await m.delete(TeamMember, { teamId, userId });
      if (!affected) throw badUserInput('This user is not a member of the team');
      await tx.audit({ actor: viewer, action: AuditAction.TeamMemberRemoved, teamId, subjectUserId: userId });
      await tx.emit(TEAM_MEMBER_REMOVED, { teamId, userId, actor: viewer });
      return team;
    });
  }

  /**
   * Changes only future recipient choices: existing threads keep their participants. Turning it on
   * only where the team's organisation allows it.
   */
  setAutoCc(viewer: User, teamId: string, enabled: boolean): Promise<Team> {
    return this.changeSetting(viewer, teamId, 'autoCc', enabled, AuditAction.TeamAutoCcChanged);
  }

  /**
   * Platform admins only: whether the organisation's admins may turn automatic CC on for its teams.
   * Disallowing it turns it off in every team of the organisation that has it (each audited); existing
   * threads keep their participants, as when a team turns it off.
   */
  async setOrganisationAutoCc(viewer: User, organisationId: string, allowed: boolean): Promise<Organisation> {
    requirePlatformAdmin(viewer);
    return this.uow.run(async ({ manager: m, audit }) => {
      const organisation = await lockedOrganisation(m, organisationId, 'update');
      if (organisation.autoCcAllowed === allowed) return organisation;
      await m.update(Organisation, { id: organisation.id }, { autoCcAllowed: allowed });
      await audit({ actor: viewer, action: AuditAction.OrganisationAutoCcChanged, organisationId: organisation.id });
      if (!allowed) {
        const teams = await m.find(Team, { select: { id: true }, where: { organisationId: organisation.id, autoCc: true } });
        if (teams.length) {
          await m.update(Team, { id: In(teams.map((t) => t.id)) }, { autoCc: false });
          await audit(...teams.map((t) => ({ actor: viewer, action: AuditAction.TeamAutoCcChanged, teamId: t.id, organisationId: organisation.id })));
        }
      }
      return Object.assign(organisation, { autoCcAllowed: allowed });
    });
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
    const organisationId = requireAdmin(viewer);
    return this.uow.run(async ({ manager: m, audit }) => {
      const team = await teamOrFail(m, teamId, organisationId);
      if (key === 'autoCc' && value === true) requireAutoCcAllowed(await lockedOrganisation(m, organisationId, 'share'));
      if (team[key] !== value) {
        await m.update(Team, { id: teamId }, { [key]: value });
        await audit({ actor: viewer, action, teamId });
        team[key] = value;
      }
      return team;
    });
  }
}

/** FORBIDDEN unless a platform admin allowed automatic CC in the organisation. */
function requireAutoCcAllowed(organisation: Organisation): void {
  const refusal = autoCcRefusal(organisation);
  if (refusal) throw forbidden(refusal);
}
