import type { DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { requireName } from '../../common/text';
import { isUniqueViolation } from '../../database/errors';
import { badUserInput, forbidden, notFound, unauthenticated } from '../../errors';
import { USER_DISABLED } from '../../events/event-bus';
import { USER_ENABLED } from '../../events/tx-events';
import type { Metrics } from '../../metrics/metrics';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork } from '../audit/audit-entry';
import { hashPassword, verifyPassword } from '../auth/password';
import type { BearerIdentities } from '../auth/bearer-identity';
import type { LoginLimiter } from '../auth/login-limiter';
import { endSessions, sessionUser, startSession } from '../auth/sessions';
import type { TokenService } from '../auth/token.service';
import type { CareNetworkService } from '../care-network/care-network.service';
import { requireCoverageWithout } from '../teams/team-coverage';
import type { CreateUserInput } from './create-user.input';
import { UserKind } from './user-kind';
import { Organisation } from '../organisations/organisation.entity';
import { isProfessional, User } from './user.entity';
import { ACCOUNT_DISABLED, DISABLED_REASON, normalizeEmail, requireAdmin } from './user-rules';

export interface UserDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  tokens: TokenService;
  bearer: BearerIdentities;
  loginLimiter: LoginLimiter;
  metrics: Metrics;
  /** bcrypt cost of new passwords (PASSWORD_COST). */
  passwordCost: number;
  /** Whom an admin may act on (CareNetworkService.userOfOrganisation). */
  careNetwork: Pick<CareNetworkService, 'userOfOrganisation'>;
}

const LOGIN_FAILED = 'Wrong email or password';
const SESSION_ENDED = 'This session has ended: sign in again';

/** Who a request's token signed in, and through which session (null for an identity provider's token). */
export interface SignedIn {
  user: User;
  sessionId: string | null;
}

export class UserService {
  /** Compared against when the email is unknown, so both failures take as long. */
  private dummyHash: Promise<string>;
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly tokens: TokenService;
  private readonly bearer: BearerIdentities;
  private readonly loginLimiter: LoginLimiter;
  private readonly metrics: Metrics;
  private readonly passwordCost: number;
  private readonly careNetwork: UserDeps['careNetwork'];

  constructor(deps: UserDeps) {
    ({
      db: this.db,
      uow: this.uow,
      tokens: this.tokens,
      bearer: this.bearer,
      loginLimiter: this.loginLimiter,
      metrics: this.metrics,
      passwordCost: this.passwordCost,
      careNetwork: this.careNetwork,
    } = deps);
    this.dummyHash = hashPassword('not a password', this.passwordCost);
  }

  /**
   * A token for the right email and password, naming a new session; the same UNAUTHENTICATED message for every
   * failure, except that a disabled account says so once its password was right.
   * Too many failures for the account or from `clientIp` give TOO_MANY_REQUESTS (see LoginLimiter).
   */
  async login(email: string, password: string, clientIp: string): Promise<{ token: string; user: User }> {
    const account = normalizeEmail(email);
    let found = null as User | null;
    // The try is counted before the account is read and its password checked (LoginLimiter.attempt).
    const ok = await this.loginLimiter.attempt(account, clientIp, async () => {
      found = await this.db.manager.findOneBy(User, { email: account });
      // An account without a password (imported: docs/operations.md) is checked against the dummy too: as slow, and never right.
      const stored = found?.passwordHash || (await this.dummyHash);
      const right = (await verifyPassword(password, stored)) && stored === found?.passwordHash;
      this.metrics.checkedPassword(right);
      return right;
    });
    const user = found;
    if (!user || !ok) throw unauthenticated(LOGIN_FAILED);
    const expiresAt = this.tokens.expiryFromNow();
    const sessionId = await this.uow.run(async ({ manager: m }) => {
      // Only after the password check: otherwise anyone could probe which accounts are disabled.
      // Read FOR SHARE: a disable committing meanwhile either sees this session (and ends it) or is seen here.
      const enabled = m.createQueryBuilder(User, 'user').where('user.id = :id AND user.disabled = :no', { id: user.id, no: false });
      if (m.connection.options.type === 'postgres') enabled.setLock('pessimistic_read');
      if (!(await enabled.getExists())) throw unauthenticated(ACCOUNT_DISABLED);
      return startSession(m, user.id, expiresAt);
    });
    return { token: await this.tokens.issue({ userId: user.id, sessionId, expiresAt }), user };
  }

  /**
   * The user a valid token (CareThread's own, or the identity provider's) names, and its session;
   * UNAUTHENTICATED when the token is bad, its session ended, the user is gone or disabled. See
   * BearerIdentities. A token of `login` costs one lookup by primary keys: the user with its session.
   */
  async byToken(token: string): Promise<SignedIn> {
    const { userId, sessionId } = await this.bearer.identify(token);
    return this.signedIn(userId, sessionId);
  }

  /** The account of a session still open (or, with no session, of an identity provider's token); UNAUTHENTICATED as byToken otherwise. */
  async signedIn(userId: string, sessionId: string | null): Promise<SignedIn> {
    const user = sessionId ? await sessionUser(this.db, userId, sessionId) : await this.db.manager.findOneBy(User, { id: userId });
    if (user?.disabled) throw unauthenticated(ACCOUNT_DISABLED);
    if (user) return { user, sessionId };
    // Refused either way; a second look only to say why.
    if (sessionId && (await this.db.manager.existsBy(User, { id: userId, disabled: true }))) throw unauthenticated(ACCOUNT_DISABLED);
    throw unauthenticated(sessionId ? SESSION_ENDED : 'Invalid or expired token');
  }

  /** A professional joins the admin's organisation; a patient joins none, and is registered by it. */
  async createUser(viewer: User, input: CreateUserInput): Promise<User> {
    const user = await this.newAccount(input, requireAdmin(viewer));
    return this.uow.run((tx) => this.insertAccount(tx, viewer, user));
  }

  /**
   * The account `input` describes, for `organisationId` (checked, its password hashed; not stored):
   * a professional of it, or a patient it registers.
   */
  async newAccount(input: CreateUserInput, organisationId: string): Promise<User> {
    const professional = input.kind === UserKind.PROFESSIONAL;
    if (!professional && input.isAdmin) throw badUserInput('A patient cannot be an admin');
    return this.newUser({
      email: input.email,
      name: requireName('name', input.name),
      kind: input.kind,
      password: input.password,
      // Patients are never contactable: the flag is about staff recipient lists.
      contactable: professional && (input.contactable ?? true),
      isAdmin: input.isAdmin ?? false,
      isPlatformAdmin: false,
      organisationId: professional ? organisationId : null,
      registeredByOrganisationId: professional ? null : organisationId,
    });
  }

  /** Stores a newAccount in `tx`, created by `viewer`; BAD_USER_INPUT when its email is taken (in any organisation: it signs in one account). */
  async insertAccount(tx: AuditedTx, viewer: User, user: User): Promise<User> {
    if (await tx.manager.existsBy(User, { email: user.email })) throw badUserInput('A user with this email already exists');
    await tx.manager.insert(User, user);
    await tx.audit({ actor: viewer, action: AuditAction.UserCreated, subjectUserId: user.id });
    return user;
  }

  /**
   * Admins, or the professional themself. Switching it off is refused when it
   * would take an auto-CC team of theirs below its coverage minimum (team-coverage.ts).
   */
  async setContactable(viewer: User, userId: string, contactable: boolean): Promise<User> {
    const organisationId = viewer.id === userId ? null : requireAdmin(viewer, 'Only an admin or the professional themself may change this');
    return this.uow.run(async ({ manager: m, audit }) => {
      const user = organisationId ? await this.careNetwork.userOfOrganisation(m, organisationId, userId) : viewer;
      if (!user) throw notFound('User');
      if (!isProfessional(user)) throw badUserInput('Patients are never contactable');
      if (user.contactable !== contactable) {
        if (!contactable) await requireCoverageWithout(m, user.id);
        await m.update(User, { id: user.id }, { contactable });
        await audit({ actor: viewer, action: AuditAction.ContactableChanged, subjectUserId: user.id });
        user.contactable = contactable;
      }
      return user;
    });
  }

  /**
   * Admins only, for the users of their organisation (CareNetworkService.userOfOrganisation; a patient:
   * of the organisation that registered them). A disabled account cannot sign in, its sessions end (enabling
   * it again revives none), it is never a recipient, and once the change commits every instance closes its
   * live connections (4401). An admin cannot disable themself, so that one admin
   * at least is always left. Setting the current value changes and audits
   * nothing, but disabling again sends the revocation again (in case an
   * instance missed it), and the inbox reschedules the alerts an enabled
   * account may act on again. Unlike marking someone not contactable, disabling is
   * never refused for a team's coverage minimum: it is a security action,
   * and must work at once even for the last member of a team.
   */
  async setDisabled(viewer: User, userId: string, disabled: boolean): Promise<User> {
    const organisationId = requireAdmin(viewer);
    if (disabled && viewer.id === userId) throw badUserInput('You cannot disable your own account');
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      const user = await this.careNetwork.userOfOrganisation(m, organisationId, userId);
      if (!user) throw notFound('User');
      // A patient's account serves every organisation they shared with: the one that registered them decides.
      if (!isProfessional(user) && user.registeredByOrganisationId !== organisationId) {
        throw forbidden("Only an admin of the organisation that registered this patient may change whether their account is disabled");
      }
      if (user.disabled === disabled) {
        if (disabled) await tx.emit(USER_DISABLED, { userId: user.id });
        return user;
      }
      await m.update(User, { id: user.id }, { disabled });
      await tx.emit(disabled ? USER_DISABLED : USER_ENABLED, { userId: user.id });
      if (disabled) await endSessions(tx, user.id, { except: null }, DISABLED_REASON);
      const action = disabled ? AuditAction.UserDisabled : AuditAction.UserEnabled;
      await tx.audit({ actor: viewer, action, subjectUserId: user.id });
      user.disabled = disabled;
      return user;
    });
  }

  /**
   * Creates the start-up admin, the platform admin: a non-contactable
   * professional and admin of the first organisation, unless a user with that
   * email exists. An existing user is left as it is, but an admin among them
   * is made the platform admin (what the start-up admin of a database from
   * before organisations becomes).
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const [first] = await this.db.manager.find(Organisation, { select: { id: true }, order: { createdAt: 'ASC', id: 'ASC' }, take: 1 });
    const admin = await this.newUser({
      email,
      name: 'Administrator',
      kind: UserKind.PROFESSIONAL,
      password,
      contactable: false,
      isAdmin: true,
      isPlatformAdmin: true,
      organisationId: first.id,
      registeredByOrganisationId: null,
    });
    try {
      await this.uow.run(async ({ manager: m, audit }) => {
        const existing = await m.findOneBy(User, { email: admin.email });
        if (existing) {
          if (!existing.isAdmin || existing.isPlatformAdmin) return;
          await m.update(User, { id: existing.id }, { isPlatformAdmin: true });
          await audit({ actor: existing, action: AuditAction.PlatformAdminGranted, subjectUserId: existing.id });
          return;
        }
        await m.insert(User, admin);
        await audit({ actor: admin, action: AuditAction.UserCreated, subjectUserId: admin.id });
      });
    } catch (error) {
      // Another instance starting at the same time created it first.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  private async newUser(
    fields: Omit<User, 'id' | 'passwordHash' | 'createdAt' | 'disabled' | 'externalIssuer' | 'externalSubject' | 'searchName'> & { password: string },
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
