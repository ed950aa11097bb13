import { In, MoreThanOrEqual, type DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { isUniqueViolation } from '../../database/errors';
import type { UnitOfWork } from '../../database/unit-of-work';
import { badUserInput, forbidden, notFound, unauthenticated } from '../../errors';
import { USER_DISABLED, type EventBus } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import { AuditEvent } from '../audit/audit-event.entity';
import type { AuditService } from '../audit/audit.service';
import { reschedule } from '../inbox/escalation-schedule';
import { hashPassword, verifyPassword } from '../auth/password';
import type { BearerIdentities } from '../auth/bearer-identity';
import type { LoginLimiter } from '../auth/login-limiter';
import type { TokenService } from '../auth/token.service';
import { requireCoverageWithout } from '../teams/team-coverage';
import type { CreateUserInput } from './create-user.input';
import { UserKind } from './user-kind';
import { isProfessional, User } from './user.entity';

const LOGIN_FAILED = 'Wrong email or password';
export const ACCOUNT_DISABLED = 'This account is disabled';
/** Clocks of instances may disagree by this much. */
const REPUBLISH_MARGIN_MS = 5_000;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function requireAdmin(viewer: User): void {
  if (!viewer.isAdmin) throw forbidden('Only an admin may do this');
}

export class UserService {
  /** Compared against when the email is unknown, so both failures take as long. */
  private dummyHash: Promise<string>;

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly tokens: TokenService,
    private readonly bearer: BearerIdentities,
    private readonly events: EventBus,
    private readonly loginLimiter: LoginLimiter,
    private readonly passwordCost: number,
  ) {
    this.dummyHash = hashPassword('not a password', passwordCost);
  }

  /**
   * A token for the right email and password; the same UNAUTHENTICATED message for every
   * failure, except that a disabled account says so once its password was right.
   * Too many failures for the account or from `clientIp` give TOO_MANY_REQUESTS (see LoginLimiter).
   */
  async login(email: string, password: string, clientIp: string): Promise<{ token: string; user: User }> {
    const account = normalizeEmail(email);
    await this.loginLimiter.check(account, clientIp);
    const user = await this.db.manager.findOneBy(User, { email: account });
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !ok) {
      await this.loginLimiter.failed(account, clientIp);
      throw unauthenticated(LOGIN_FAILED);
    }
    await this.loginLimiter.succeeded(account);
    // Only after the password check: otherwise anyone could probe which accounts are disabled.
    if (user.disabled) throw unauthenticated(ACCOUNT_DISABLED);
    return { token: await this.tokens.issue(user.id), user };
  }

  /**
   * The user a valid token (CareThread's own, or the identity provider's) names; UNAUTHENTICATED
   * when the token is bad, the user is gone or disabled. See BearerIdentities.
   */
  async byToken(token: string): Promise<User> {
    const { userId } = await this.bearer.identify(token);
    const user = await this.db.manager.findOneBy(User, { id: userId });
    if (!user) throw unauthenticated('Invalid or expired token');
    if (user.disabled) throw unauthenticated(ACCOUNT_DISABLED);
    return user;
  }

  async createUser(viewer: User, input: CreateUserInput): Promise<User> {
    requireAdmin(viewer);
    const professional = input.kind === UserKind.PROFESSIONAL;
    if (!professional && input.isAdmin) throw badUserInput('A patient cannot be an admin');
    const user = await this.newUser({
      email: input.email,
      name: input.name.trim(),
      kind: input.kind,
      password: input.password,
      // Patients are never contactable: the flag is about staff recipient lists.
      contactable: professional && (input.contactable ?? true),
      isAdmin: input.isAdmin ?? false,
    });
    return this.uow.transaction(async (m) => {
      if (await m.existsBy(User, { email: user.email })) throw badUserInput('A user with this email already exists');
      await m.insert(User, user);
      await this.audit.record(m, { actor: viewer, action: AuditAction.UserCreated, subjectUserId: user.id });
      return user;
    });
  }

  /**
   * Admins, or the professional themself. Switching it off is refused when it
   * would take an auto-CC team of theirs below its coverage minimum (team-coverage.ts).
   */
  async setContactable(viewer: User, userId: string, contactable: boolean): Promise<User> {
    if (!viewer.isAdmin && viewer.id !== userId) throw forbidden('Only an admin or the professional themself may change this');
    return this.uow.transaction(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw notFound('User');
      if (!isProfessional(user)) throw badUserInput('Patients are never contactable');
      if (user.contactable !== contactable) {
        if (!contactable) await requireCoverageWithout(m, user.id);
        await m.update(User, { id: user.id }, { contactable });
        await this.audit.record(m, { actor: viewer, action: AuditAction.ContactableChanged, subjectUserId: user.id });
        user.contactable = contactable;
      }
      return user;
    });
  }

  /**
   * Admins only. A disabled account cannot sign in, its tokens stop working, it
   * is never a recipient, and once the change commits every instance closes its
   * live connections (4403). An admin cannot disable themself, so that one admin
   * at least is always left. Setting the current value changes and audits
   * nothing, but disabling again sends the revocation again (in case an
   * instance missed it). Unlike marking someone not contactable, disabling is
   * never refused for a team's coverage minimum: it is a security action,
   * and must work at once even for the last member of a team.
   */
  async setDisabled(viewer: User, userId: string, disabled: boolean): Promise<User> {
    requireAdmin(viewer);
    if (disabled && viewer.id === userId) throw badUserInput('You cannot disable your own account');
    const user = await this.uow.transaction(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw notFound('User');
      if (user.disabled === disabled) return user;
      await m.update(User, { id: user.id }, { disabled });
      // Back at work: an alert held back while nobody in the thread could act may go out now.
      if (!disabled) await reschedule(m, { memberId: user.id });
      const action = disabled ? AuditAction.UserDisabled : AuditAction.UserEnabled;
      await this.audit.record(m, { actor: viewer, action, subjectUserId: user.id });
      user.disabled = disabled;
      return user;
    });
    if (disabled) this.events.publish(USER_DISABLED, { userId: user.id });
    return user;
  }

  /**
   * Sends the revocation again for every account disabled since `since` (less a
   * margin for clocks) that is still disabled, after the link between instances
   * was down: an instance that missed it closes the account's sockets now.
   * Returns how many accounts were sent.
   */
  async republishDisabledSince(since: Date): Promise<number> {
    const from = new Date(since.getTime() - REPUBLISH_MARGIN_MS);
    const events = await this.db.manager.find(AuditEvent, {
      where: { action: AuditAction.UserDisabled, at: MoreThanOrEqual(from) },
      select: { id: true, subjectUserId: true },
    });
    const ids = [...new Set(events.flatMap((e) => (e.subjectUserId ? [e.subjectUserId] : [])))];
    if (!ids.length) return 0;
    const users = await this.db.manager.find(User, { where: { id: In(ids), disabled: true }, select: { id: true } });
    for (const user of users) this.events.publish(USER_DISABLED, { userId: user.id });
    return users.length;
  }

  /**
   * Creates the start-up admin (a non-contactable professional) unless a user
   * with that email exists; an existing user is left exactly as it is.
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const admin = await this.newUser({ email, name: 'Administrator', kind: UserKind.PROFESSIONAL, password, contactable: false, isAdmin: true });
    try {
      await this.uow.transaction(async (m) => {
        if (await m.existsBy(User, { email: admin.email })) return;
        await m.insert(User, admin);
        await this.audit.record(m, { actor: admin, action: AuditAction.UserCreated, subjectUserId: admin.id });
      });
    } catch (error) {
      // Another instance starting at the same time created it first.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  private async newUser(
    fields: Omit<User, 'id' | 'passwordHash' | 'createdAt' | 'disabled' | 'externalIssuer' | 'externalSubject'> & { password: string },
  ): Promise<User> {
    const { password, ...rest } = fields;
    return Object.assign(new User(), {
      ...rest,
      disabled: false,
      externalIssuer: null,
      externalSubject: null,
      id: newId(),
      email: normalizeEmail(rest.email),
      passwordHash: await hashPassword(password, this.passwordCost),
      createdAt: new Date(),
    });
  }
}
