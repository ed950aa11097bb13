import type { EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock';
import { isId, newId } from '../../common/ids';
import { optionalText } from '../../common/text';
import { badUserInput, forbidden, notFound } from '../../errors';
import { ABSENCE_CANCELLED } from '../../events/tx-events';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import type { CareNetworkService } from '../care-network/care-network.service';
import { isProfessional, User } from '../users/user.entity';
import { Absence } from './absence.entity';

/** The `reason` column holds 200. */
export const MAX_REASON_LENGTH = 200;

export interface AbsenceInput {
  /** Whose absence; the caller when not given. */
  userId?: string | null;
  startsAt: Date;
  endsAt: Date;
  reason?: string | null;
}

/**
 * Professionals' absences. "Now" is the app's clock, the one the escalation
 * schedule reads, so that who is away and who is alerted always agree.
 */
export class AbsenceService {
  private readonly uow: AuditedUnitOfWork;
  private readonly clock: Clock;
  private readonly careNetwork: Pick<CareNetworkService, 'userOfOrganisation'>;

  constructor(deps: { uow: AuditedUnitOfWork; clock: Clock; careNetwork: Pick<CareNetworkService, 'userOfOrganisation'> }) {
    ({ uow: this.uow, clock: this.clock, careNetwork: this.careNetwork } = deps);
  }

  /**
   * A professional records their own absence, or an admin one for any
   * professional of their organisation. FORBIDDEN for patients and for someone else's absence;
   * NOT_FOUND for an unknown user (or one of another organisation); BAD_USER_INPUT for a patient, an end not
   * after the start, an end not in the future, or a reason over 200
   * characters. A start in the past is fine: the professional is away at once.
   */
  async record(viewer: User, input: AbsenceInput): Promise<Absence> {
    const userId = input.userId ?? viewer.id;
    if (!isProfessional(viewer)) throw forbidden('Only professionals have absences');
    if (userId !== viewer.id && !viewer.isAdmin) throw forbidden("Only an admin may record someone else's absence");
    const now = this.clock.now();
    if (input.endsAt.getTime() <= input.startsAt.getTime()) throw badUserInput('The end must be after the start');
    if (input.endsAt.getTime() <= now.getTime()) throw badUserInput('This is an absence in the past: its end must be in the future');
    const reason = optionalText('reason', input.reason, MAX_REASON_LENGTH);
    return this.uow.run(async ({ manager: m, audit }) => {
      const user = userId === viewer.id ? viewer : await this.careNetwork.userOfOrganisation(m, viewer.organisationId!, userId);
      if (!user) throw notFound('User');
      if (!isProfessional(user)) throw badUserInput('Only professionals have absences, not patients');
      const absence = Object.assign(new Absence(), {
        id: newId(),
        userId: user.id,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        reason,
        recordedById: viewer.id,
        recordedAt: now,
      });
      await m.insert(Absence, absence);
      await audit({ actor: viewer, action: AuditAction.AbsenceRecorded, subjectUserId: user.id });
      return absence;
    });
  }

  /**
   * Deletes an absence: the professional's own, or any of their organisation's for an admin. NOT_FOUND
   * for an unknown id and, so that ids reveal nothing, for anyone else's.
   */
  async cancel(viewer: User, id: string): Promise<boolean> {
    return this.uow.run(async (tx) => {
      const absence = await this.visible(tx.manager, viewer, id);
      await tx.manager.delete(Absence, { id: absence.id });
      await tx.emit(ABSENCE_CANCELLED, { userId: absence.userId });
      await tx.audit({ actor: viewer, action: AuditAction.AbsenceCancelled, subjectUserId: absence.userId });
      return true;
    });
  }

  private async visible(m: EntityManager, viewer: User, id: string): Promise<Absence> {
    const absence = isId(id) ? await m.findOneBy(Absence, { id }) : null;
    const theirs = absence?.userId === viewer.id || (viewer.isAdmin && absence && (await this.careNetwork.userOfOrganisation(m, viewer.organisationId!, absence.userId)));
    if (!absence || !theirs) throw notFound('Absence');
    return absence;
  }
}
