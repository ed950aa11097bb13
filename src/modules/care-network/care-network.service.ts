import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { badUserInput, notFound } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import type { RecipientInput } from '../recipients/recipient.input';
import { Team } from '../teams/team.entity';
import { UserKind } from '../users/user-kind';
import { isProfessional, User } from '../users/user.entity';
import { requireAdmin } from '../users/user-rules';
import { reachedByOrganisation } from './organisation-reach';
import { ProfessionalShare, TeamShare } from './record-share.entity';

/** Who a patient has shared their record with: the edges of the care network. */
export class CareNetworkService {
  private readonly uow: AuditedUnitOfWork;

  constructor(deps: { uow: AuditedUnitOfWork }) {
    ({ uow: this.uow } = deps);
  }

  /** The teams and professionals a patient shared their record with. */
  async sharesOf(m: EntityManager, patientId: string): Promise<{ teamIds: Set<string>; professionalIds: Set<string> }> {
    const teams = await m.findBy(TeamShare, { patientId });
    const professionals = await m.findBy(ProfessionalShare, { patientId });
    return { teamIds: new Set(teams.map((s) => s.teamId)), professionalIds: new Set(professionals.map((s) => s.professionalId)) };
  }

  /**
   * The user, if an admin of `organisationId` may act on them: a professional of
   * the organisation, or a patient it registered or who shared their record with
   * it. Null otherwise, as for an unknown id (or text that is no id): nothing
   * tells an admin that someone of another organisation exists.
   */
  async userOfOrganisation(m: EntityManager, organisationId: string, userId: string): Promise<User | null> {
    if (!isId(userId)) return null;
    return m
      .createQueryBuilder(User, 'u')
      .where('u.id = :userId', { userId })
      .andWhere(...reachedByOrganisation(m, 'u', organisationId))
      .getOne();
  }

  /**
   * The patient themself, with any team or professional; or an admin, for a
   * patient of their organisation's (userOfOrganisation), with a team or
   * professional of it. Sharing twice is harmless.
   */
  async shareRecord(viewer: User, patientId: string, recipient: RecipientInput): Promise<boolean> {
    if (viewer.id !== patientId) requireAdmin(viewer, 'Only the patient or an admin may share this record');
    const { teamId, userId } = recipient.exactlyOne();
    // The admin's organisation, when an admin shares for the patient.
    const organisationId = viewer.id === patientId ? null : viewer.organisationId;
    return this.uow.run(async ({ manager: m, audit }) => {
      const patient = organisationId ? await this.userOfOrganisation(m, organisationId, patientId) : viewer;
      if (!patient) throw notFound('Patient');
      if (patient.kind !== UserKind.PATIENT) throw badUserInput('Only a patient record can be shared');
      const sharedAt = new Date();
      if (teamId !== undefined) {
        if (!(await m.existsBy(Team, organisationId ? { id: teamId, organisationId } : { id: teamId }))) throw badUserInput('Unknown team');
        await m.createQueryBuilder().insert().into(TeamShare).values({ patientId, teamId, sharedAt }).orIgnore().execute();
      } else {
        const professional = await m.findOneBy(User, { id: userId });
        if (!professional || !isProfessional(professional) || (organisationId && professional.organisationId !== organisationId)) {
          throw badUserInput('A record can be shared with a professional or a team');
        }
        await m
          .createQueryBuilder()
          .insert()
          .into(ProfessionalShare)
          .values({ patientId, professionalId: userId, sharedAt })
          .orIgnore()
          .execute();
      }
      await audit({
        actor: viewer,
        action: AuditAction.RecordShared,
        patientId,
        teamId: teamId ?? null,
        subjectUserId: userId ?? null,
      });
      return true;
    });
  }
}
