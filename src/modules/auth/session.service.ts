import { badUserInput } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import { User } from '../users/user.entity';
import type { LoginLimiter } from './login-limiter';
import { hashPassword, verifyPassword } from './password';
import { endSessions } from './sessions';

const PROVIDER_TOKEN = "This token is the identity provider's: sign out there";
const WRONG_PASSWORD = 'The current password is wrong';

/**
 * What a signed-in person does to their own sessions: sign out, sign out
 * everywhere, change their password. Each ends sessions at once on every
 * instance (sessions.ts) and is audited with the person as actor.
 */
export class SessionService {
  private readonly uow: AuditedUnitOfWork;
  private readonly loginLimiter: LoginLimiter;
  private readonly passwordCost: number;

  constructor(deps: { uow: AuditedUnitOfWork; loginLimiter: LoginLimiter; passwordCost: number }) {
    ({ uow: this.uow, loginLimiter: this.loginLimiter, passwordCost: this.passwordCost } = deps);
  }

  /** Ends the session `sessionId` of the request's token; BAD_USER_INPUT for an identity provider's token (null), which is not CareThread's to end. */
  async signOut(viewer: User, sessionId: string | null): Promise<boolean> {
    if (!sessionId) throw badUserInput(PROVIDER_TOKEN);
    await this.uow.run(async (tx) => {
      if (await endSessions(tx, viewer.id, { only: sessionId }, 'Signed out')) await tx.audit({ actor: viewer, action: AuditAction.SignedOut, subjectUserId: viewer.id });
    });
    return true;
  }

  /** Ends every session of the viewer, the request's own included; returns how many. An identity provider's tokens are not sessions: they stay valid. */
  signOutEverywhere(viewer: User): Promise<number> {
    return this.uow.run(async (tx) => {
      const ended = await endSessions(tx, viewer.id, { except: null }, 'Signed out everywhere');
      await tx.audit({ actor: viewer, action: AuditAction.SignedOutEverywhere, subjectUserId: viewer.id });
      return ended;
    });
  }

  /**
   * Checks the current password as sign-in does (a wrong one counts as a failed sign-in
   * of the account: LoginLimiter), stores the new one hashed, and ends every session
   * of the viewer but `sessionId`, the request's own (null: all).
   */
  async changePassword(viewer: User, sessionId: string | null, current: string, next: string, clientIp: string): Promise<boolean> {
    const right = await this.loginLimiter.attempt(viewer.email, clientIp, () => verifyPassword(current, viewer.passwordHash));
    if (!right) throw badUserInput(WRONG_PASSWORD);
    const passwordHash = await hashPassword(next, this.passwordCost);
    await this.uow.run(async (tx) => {
      // Unless another change committed since the check: then `current` is no longer the password.
      const { affected } = await tx.manager.update(User, { id: viewer.id, passwordHash: viewer.passwordHash }, { passwordHash });
      if (!affected) throw badUserInput(WRONG_PASSWORD);
      await endSessions(tx, viewer.id, { except: sessionId }, 'Password changed');
      await tx.audit({ actor: viewer, action: AuditAction.PasswordChanged, subjectUserId: viewer.id });
    });
    return true;
  }
}
