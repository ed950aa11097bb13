import type { EntityManager } from 'typeorm';
import { badUserInput, forbidden, notFound } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import type { RecipientInput } from '../recipients/recipient.input';
import { Team } from '../teams/team.entity';
import { UserKind } from '../users/user-kind';
import { isProfessional, User } from '../users/user.entity';
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

  /** The patient themself, or an admin. Sharing twice is harmless. */
  async shareRecord(viewer: User, patientId: string, recipient: RecipientInput): Promise<boolean> {
    if (!viewer.isAdmin && viewer.id !== patientId) throw forbidden('Only the patient or an admin may share this record');
    const { teamId, userId } = recipient.exactlyOne();
    return this.uow.run(async ({ manager: m, audit }) => {
      const patient = await m.findOneBy(User, { id: patientId });
      if (!patient) throw notFound('Patient');
      if (patient.kind !== UserKind.PATIENT) throw badUserInput('Only a patient record can be shared');
      const sharedAt = new Date();
      if (teamId !== undefined) {
        if (!(await m.existsBy(Team, { id: teamId }))) throw badUserInput('Unknown team');
        await m.createQueryBuilder().insert().into(TeamShare).values({ patientId, teamId, sharedAt }).orIgnore().execute();
      } else {
        const professional = await m.findOneBy(User, { id: userId });
        if (!professional || !isProfessional(professional)) throw badUserInput('A record can be shared with a professional or a team');
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
