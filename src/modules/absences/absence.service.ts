import type { EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock';
import { isId, newId } from '../../common/ids';
import { optionalText } from '../../common/text';
import type { UnitOfWork } from '../../database/unit-of-work';
import { badUserInput, forbidden, notFound } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import { reschedule } from '../inbox/escalation-schedule';
import type { AuditService } from '../audit/audit.service';
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
  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * A professional records their own absence, or an admin one for any
   * professional. FORBIDDEN for patients and for someone else's absence;
   * NOT_FOUND for an unknown user; BAD_USER_INPUT for a patient, an end not
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
    return this.uow.transaction(async (m) => {
      const user = isId(userId) ? await m.findOneBy(User, { id: userId }) : null;
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
      await this.audit.record(m, { actor: viewer, action: AuditAction.AbsenceRecorded, subjectUserId: user.id });
      return absence;
    });
  }

  /**
   * Deletes an absence: the professional's own, or any for an admin. NOT_FOUND
   * for an unknown id and, so that ids reveal nothing, for someone else's.
   */
  async cancel(viewer: User, id: string): Promise<boolean> {
    return this.uow.transaction(async (m) => {
      const absence = await this.visible(m, viewer, id);
      await m.delete(Absence, { id: absence.id });
      await reschedule(m, { memberId: absence.userId });
      await this.audit.record(m, { actor: viewer, action: AuditAction.AbsenceCancelled, subjectUserId: absence.userId });
      return true;
    });
  }

  private async visible(m: EntityManager, viewer: User, id: string): Promise<Absence> {
    const absence = isId(id) ? await m.findOneBy(Absence, { id }) : null;
    if (!absence || (absence.userId !== viewer.id && !viewer.isAdmin)) throw notFound('Absence');
    return absence;
  }
}

/**
 * When a professional with these absences is back: the end of the absence
 * they are in at `now`, carried on through every absence that overlaps or
 * touches it. Null when they are not away at `now`. `absences` must be sorted
 * by start.
 */
export function awayUntil(absences: readonly Pick<Absence, 'startsAt' | 'endsAt'>[], now: Date): Date | null {
  let until: number | null = null;
  const at = now.getTime();
  for (const { startsAt, endsAt } of absences) {
    const start = startsAt.getTime();
    const end = endsAt.getTime();
    if (start <= at && end > at) until = Math.max(until ?? end, end);
    else if (until !== null && start <= until) until = Math.max(until, end);
    else if (start > at) break;
  }
  return until === null ? null : new Date(until);
}
