import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from './common/clock';
import type { Config } from './config';
import { createUnitOfWork, type UnitOfWork } from './database/unit-of-work';
import { createEventBus, USER_DISABLED, type EventBus } from './events/event-bus';
import { LiveSessions } from './live-sessions';
import { Metrics } from './metrics/metrics';
import type { Logger } from './logger';
import { AbsenceService } from './modules/absences/absence.service';
import { ActivityService } from './modules/activity/activity.service';
import { AuditSearchService } from './modules/audit/audit-search.service';
import { AuditService } from './modules/audit/audit.service';
import { BearerIdentities } from './modules/auth/bearer-identity';
import { ExternalIdentities } from './modules/auth/external-identity';
import { LoginLimiter } from './modules/auth/login-limiter';
import { OidcVerifier } from './modules/auth/oidc';
import { TokenService } from './modules/auth/token.service';
import { CareNetworkService } from './modules/care-network/care-network.service';
import { EscalationService } from './modules/inbox/escalation.service';
import { InboxService } from './modules/inbox/inbox.service';
import { MessageService } from './modules/messages/message.service';
import { RecipientService } from './modules/recipients/recipients.service';
import { TeamService } from './modules/teams/team.service';
import { ThreadAccess } from './modules/threads/thread.access';
import { ThreadService } from './modules/threads/thread.service';
import { UserService } from './modules/users/user.service';

/** The services of one server, wired once at start; src/resolvers.ts hands each resolver the few it uses. */
export interface App {
  config: Config;
  db: DataSource;
  uow: UnitOfWork;
  events: EventBus;
  /** The graphql-ws connections open on this instance, by user; closed when revoked or expired. */
  liveSessions: LiveSessions;
  logger: Logger;
  /** This server's Prometheus metrics (GET /metrics), in a registry of its own. */
  metrics: Metrics;
  tokens: TokenService;
  /** Turns a bearer token (CareThread's own, or the OIDC provider's) into the user it names, for HTTP and websockets. */
  bearer: BearerIdentities;
  loginLimiter: LoginLimiter;
  access: ThreadAccess;
  audit: AuditService;
  auditSearch: AuditSearchService;
  users: UserService;
  teams: TeamService;
  careNetwork: CareNetworkService;
  recipients: RecipientService;
  messages: MessageService;
  threads: ThreadService;
  inbox: InboxService;
  /** Polls the escalation schedule once started (startServer starts it). */
  escalations: EscalationService;
  activity: ActivityService;
  absences: AbsenceService;
  /** What "now" is for absences and the escalation schedule: the system clock unless createApp was given one (tests move theirs forward). */
  clock: Clock;
  /** Stops the escalation poller, waits for audit writes in flight, then closes the Redis connections (events, login limits); the database is the caller's. */
  close(): Promise<void>;
}

/** `db` must be initialised and migrated. `clock` is what the escalation schedule and absences read (tests move it forward). */
export function createApp(config: Config, db: DataSource, logger: Logger, clock: Clock = systemClock): App {
  const uow = createUnitOfWork(db);
  const events = createEventBus({ redisUrl: config.redisUrl, instanceId: config.instanceId, logger });
  const tokens = new TokenService(config.jwtSecret, config.tokenTtlSeconds);
  const liveSessions = new LiveSessions();
  // Whichever instance the admin used, every instance closes the account's sockets.
  events.on(USER_DISABLED, ({ userId }) => liveSessions.revoke(userId, 'Account disabled'));
  const access = new ThreadAccess(db);
  const audit = new AuditService(db, uow, access, config.instanceId, logger);
  const careNetwork = new CareNetworkService(uow, audit);
  const recipients = new RecipientService(db, careNetwork, access);
  const inbox = new InboxService(db, uow, access, audit, events);
  const escalations = new EscalationService(uow, audit, inbox, logger, { pollMs: config.escalationPollMs, clock });
  const messages = new MessageService(db, uow, access, audit, events, inbox);
  const loginLimiter = new LoginLimiter(config.login, config.redisUrl, logger);
  const bearer = new BearerIdentities(
    tokens,
    config.oidc ? { verifier: new OidcVerifier(config.oidc), identities: new ExternalIdentities(db, uow, audit, logger) } : null,
  );
  const users = new UserService(db, uow, audit, tokens, bearer, events, loginLimiter, config.passwordCost);
  events.onReconnect((lostAt) => {
    users.republishDisabledSince(lostAt).then(
      (count) => logger.info({ count, lostAt }, 'sent again the disables committed while the Redis link was down'),
      (error) => logger.error({ err: error }, 'could not send again the disables after the Redis link came back'),
    );
  });
  events.onReconnect((lostAt) => {
    messages.republishSince(lostAt).then(
      (count) => logger.info({ count, lostAt }, 'republished messages committed while the Redis link was down'),
      (error) => logger.error({ err: error }, 'could not republish messages after the Redis link came back'),
    );
  });
  return {
    config,
    db,
    uow,
    events,
    liveSessions,
    logger,
    metrics: new Metrics(),
    tokens,
    bearer,
    loginLimiter,
    access,
    audit,
    auditSearch: new AuditSearchService(db, uow, audit),
    users,
    teams: new TeamService(db, uow, audit, careNetwork, inbox, events),
    careNetwork,
    recipients,
    messages,
    threads: new ThreadService(db, uow, access, recipients, messages, audit, events, inbox),
    inbox,
    escalations,
    activity: new ActivityService(events, access, messages),
    absences: new AbsenceService(uow, audit, clock),
    clock,
    close: async () => {
      await escalations.stop();
      await audit.settled();
      await events.close();
      loginLimiter.close();
    },
  };
}
