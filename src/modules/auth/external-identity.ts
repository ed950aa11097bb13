import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../database/errors';
import { unauthenticated } from '../../errors';
import type { Logger } from '../../logger';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import { ACCOUNT_DISABLED, normalizeEmail } from '../users/user-rules';
import { isProfessional, User } from '../users/user.entity';
import type { OidcIdentity } from './oidc';

const NO_ACCOUNT = 'No CareThread account for this identity; ask an administrator';

/**
 * Finds the CareThread account of someone the hospital's identity provider
 * signed in. First by the stored link (issuer + subject); else by the token's
 * email, when the provider vouches for it (`email_verified`), matched as local
 * logins match emails, and then the link is stored (audited as
 * EXTERNAL_IDENTITY_LINKED), so that a later change of address at the provider
 * keeps working. Nobody is created here: roles, teams and contactability are
 * clinical decisions an admin makes, so an identity without an account is
 * refused (UNAUTHENTICATED, NO_ACCOUNT).
 *
 * Staff only. A patient account is never matched, by link or by email: the
 * hospital's provider vouches for its workforce, not for patients, and a staff
 * identity that happened to carry a patient's address (a typo, a recycled or
 * shared mailbox, an identity an IdP admin made) would otherwise read that
 * patient's messages.
 */
export class ExternalIdentities {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly logger: Logger;

  constructor(deps: { db: DataSource; uow: AuditedUnitOfWork; logger: Logger }) {
    ({ db: this.db, uow: this.uow, logger: this.logger } = deps);
  }

  /** The account for `identity` from `issuer`; UNAUTHENTICATED when there is none it may use. */
  async account(issuer: string, identity: OidcIdentity): Promise<User> {
    const linked = await this.linkedTo(issuer, identity.subject);
    if (linked) return usable(linked);
    if (!identity.email || !identity.emailVerified) throw unauthenticated(NO_ACCOUNT);
    const user = await this.db.manager.findOneBy(User, { email: normalizeEmail(identity.email) });
    if (!user) throw unauthenticated(NO_ACCOUNT);
    return this.link(usable(user), issuer, identity.subject);
  }

  private linkedTo(issuer: string, subject: string): Promise<User | null> {
    return this.db.manager.findOneBy(User, { externalIssuer: issuer, externalSubject: subject });
  }

  /**
   * Stores the link, and audits it, unless the account has one for this issuer
   * already: then it is used if it is this subject's (two first sign-ins at once:
   * one links, the other finds the link), and refused if it is another's.
   */
  private async link(user: User, issuer: string, subject: string): Promise<User> {
    let linked: boolean;
    try {
      linked = await this.uow.run(async ({ manager: m, audit }) => {
        // A link from another issuer (the hospital changed provider) is replaced; one from this issuer never is.
        const { affected } = await m
          .createQueryBuilder()
          .update(User)
          .set({ externalIssuer: issuer, externalSubject: subject })
          .where('id = :id', { id: user.id })
          .andWhere('("externalIssuer" IS NULL OR "externalIssuer" <> :issuer)', { issuer })
          .execute();
        if (!affected) return false;
        await audit({ actor: user, action: AuditAction.ExternalIdentityLinked, subjectUserId: user.id });
        return true;
      });
    } catch (error) {
      // The subject was linked to another account meanwhile (its email changed between two first requests).
      if (!isUniqueViolation(error)) throw error;
      linked = false;
    }
    if (linked) return Object.assign(user, { externalIssuer: issuer, externalSubject: subject });
    const current = await this.linkedTo(issuer, subject);
    if (current) return usable(current);
    return this.refuseRelink(await this.db.manager.findOneByOrFail(User, { id: user.id }), subject);
  }

  /** The account is linked to another identity of this issuer: a second identity with the same email does not take it. */
  private refuseRelink(user: User, subject: string): never {
    this.logger.warn(
      { userId: user.id, issuer: user.externalIssuer, linkedSubject: user.externalSubject, refusedSubject: subject },
      'refused an identity-provider sign-in: the account with its email is linked to another subject',
    );
    throw unauthenticated(NO_ACCOUNT);
  }
}

/** Staff, and enabled; a stored link does not outlive a change of either. */
function usable(user: User): User {
  if (!isProfessional(user)) throw unauthenticated(NO_ACCOUNT);
  if (user.disabled) throw unauthenticated(ACCOUNT_DISABLED);
  return user;
}
