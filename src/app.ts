import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from './common/clock';
import type { Config } from './config';
import { createUnitOfWork } from './database/unit-of-work';
import { createEventBus, SESSIONS_ENDED, USER_DISABLED, type EventBus } from './events/event-bus';
import { OutboxRelay, OutboxTable } from './events/outbox';
import { LiveSessions } from './live-sessions';
import { Metrics } from './metrics/metrics';
import type { Logger } from './logger';
import { AbsenceService } from './modules/absences/absence.service';
import { ActivityService } from './modules/activity/activity.service';
import type { AuditedUnitOfWork, AuditEntry } from './modules/audit/audit-entry';
import { AttachmentService } from './modules/attachments/attachment.service';
import type { BlobStore } from './modules/attachments/blob-store';
import { DatabaseBlobStore } from './modules/attachments/database-blob-store';
import { DirectoryBlobStore } from './modules/attachments/directory-blob-store';
import { AuditSearchService } from './modules/audit/audit-search.service';
import { AuditService } from './modules/audit/audit.service';
import { AuditSealer } from './modules/audit/audit-sealer';
import { sealingTurn } from './modules/audit/audit-sealer-turn';
import { serverSigningKey } from './modules/audit/audit-signing-key';
import { BearerIdentities } from './modules/auth/bearer-identity';
import { ExternalIdentities } from './modules/auth/external-identity';
import { LoginLimiter } from './modules/auth/login-limiter';
import { OidcVerifier } from './modules/auth/oidc';
import { SessionService } from './modules/auth/session.service';
import { TokenService } from './modules/auth/token.service';
import { CareNetworkService } from './modules/care-network/care-network.service';
import { EscalationService } from './modules/inbox/escalation.service';
import { InboxService } from './modules/inbox/inbox.service';
import { MessageService } from './modules/messages/message.service';
import { RecipientService } from './modules/recipients/recipients.service';
import { Team } from './modules/teams/team.entity';
import { TeamService } from './modules/teams/team.service';
import { ThreadAccess } from './modules/threads/thread.access';
import { Thread } from './modules/threads/thread.entity';
import { ThreadService } from './modules/threads/thread.service';
import { User } from './modules/users/user.entity';
import { DISABLED_REASON } from './modules/users/user-rules';
import { UserService } from './modules/users/user.service';
import { OrganisationService } from './modules/organisations/organisation.service';
import { Presence } from './live/presence';
import { Mailer } from './modules/notifications/mailer';
import { NotificationChannel } from './modules/notifications/notification-channel';
import { listenForNotifications } from './modules/notifications/notification-schedule';
import { NotificationSettingsService } from './modules/notifications/notification-settings.service';
import { Notifier } from './modules/notifications/notifier';
import { PushSender } from './modules/notifications/push-sender';

/** The services of one server, wired once at start; src/resolvers.ts hands each resolver the few it uses. */
export interface App {
  config: Config;
  db: DataSource;
  uow: AuditedUnitOfWork;
  events: EventBus;
  /** Publishes what transactions wrote to the outbox; its relay runs once started (startServer starts it) until close. */
  outbox: OutboxRelay;
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
  /** Chains and checkpoints the audit events shortly after they commit, once started (startServer starts it) until close. */
  auditSealer: AuditSealer;
  auditSearch: AuditSearchService;
  users: UserService;
  organisations: OrganisationService;
  /** Signing out, everywhere, and changing one's password. */
  sessions: SessionService;
  teams: TeamService;
  careNetwork: CareNetworkService;
  recipients: RecipientService;
  messages: MessageService;
  /** Files on messages; sweeps uploads never sent once started (startServer starts it). */
  attachments: AttachmentService;
  threads: ThreadService;
  inbox: InboxService;
  /** Polls the escalation schedule once started (startServer starts it). */
  escalations: EscalationService;
  /** Sends the notifications the schedule holds once started (startServer starts it); null when no channel is configured. */
  notifier: Notifier | null;
  notificationSettings: NotificationSettingsService;
  /** Where the links in notifications point: set by startServer once it listens (PUBLIC_URL, else its own address). */
  links: { origin: string };
  activity: ActivityService;
  absences: AbsenceService;
  /** What "now" is for absences and the escalation schedule: the system clock unless createApp was given one (tests move theirs forward). */
  clock: Clock;
  /** Stops the escalation poller and the outbox relay, waits for audit writes in flight, seals them, then closes the Redis connections (events, login limits); the database is the caller's. */
  close(): Promise<void>;
}

/** `db` must be initialised and migrated. `clock` is what the escalation schedule and absences read (tests move it forward). */
export function createApp(config: Config, db: DataSource, logger: Logger, clock: Clock = systemClock): App {
  const events = createEventBus({ redisUrl: config.redisUrl, instanceId: config.instanceId, logger });
  const outbox = new OutboxRelay(new OutboxTable(db), events, logger, { relayMs: config.outboxRelayMs, keepMs: config.outboxKeepMs });
  const uow = createUnitOfWork<AuditEntry>(db, { teams: Team, threads: Thread }, outbox);
  const tokens = new TokenService(config.jwtSecret, config.tokenTtlSeconds);
  const liveSessions = new LiveSessions(events);
  // Whichever instance the admin used, every instance closes the account's sockets, unless the
  // account was enabled again meanwhile (an event delivered late, after an outage of the Redis link).
  events.on(USER_DISABLED, ({ userId }) => {
    db.manager.existsBy(User, { id: userId, disabled: true }).then(
      (disabled) => disabled && liveSessions.revoke(userId, DISABLED_REASON),
      (error: unknown) => logger.error({ err: error, userId }, 'could not check a disabled account: its live connections stay open'),
    );
  });
  // An ended session never comes back, so no check: its sockets close wherever they are.
  events.on(SESSIONS_ENDED, ({ userId, sessionIds, reason }) => liveSessions.endSessions(userId, sessionIds, reason));
  const access = new ThreadAccess();
  // Plugs itself in as the audit writer of every transaction (uow.auditWith).
  const audit = new AuditService({ db, uow, access, instanceId: config.instanceId, logger });
  const auditSealer = new AuditSealer({ db, turn: sealingTurn(db, uow), key: () => serverSigningKey(config, logger), logger, pollMs: config.auditSealMs });
  const careNetwork = new CareNetworkService({ uow });
  const recipients = new RecipientService({ db, access });
  const attachments = new AttachmentService({ db, uow, store: blobStore(config, db, uow), audit, config: config.attachments, clock, logger });
  const messages = new MessageService({ db, uow, access, events, logger, attachments });
  const threads = new ThreadService({ db, uow, access, recipients, messages });
  const inbox = new InboxService({ db, uow, access });
  // In-transaction listeners run in the order registered: the threads' before the inbox's (threads are locked before inbox items).
  threads.listen();
  inbox.listen();
  const escalations = new EscalationService({ uow, logger, pollMs: config.escalationPollMs, clock });
  const metrics = new Metrics();
  const { notifier, notificationSettings, links } = wireNotifications(config, { db, uow, liveSessions, logger, clock, metrics });
  const loginLimiter = new LoginLimiter(config.login, config.redisUrl, logger);
  const bearer = new BearerIdentities(
    tokens,
    config.oidc ? { verifier: new OidcVerifier(config.oidc), identities: new ExternalIdentities({ db, uow, logger }) } : null,
  );
  const users = new UserService({ db, uow, tokens, bearer, loginLimiter, metrics, passwordCost: config.passwordCost, careNetwork });
  return {
    config,
    db,
    uow,
    events,
    outbox,
    liveSessions,
    logger,
    metrics,
    tokens,
    bearer,
    loginLimiter,
    access,
    audit,
    auditSealer,
    auditSearch: new AuditSearchService({ db, uow }),
    users,
    organisations: new OrganisationService({ db, uow, users }),
    sessions: new SessionService({ uow, loginLimiter, passwordCost: config.passwordCost }),
    teams: new TeamService({ db, uow, careNetwork }),
    careNetwork,
    recipients,
    messages,
    attachments,
    threads,
    inbox,
    escalations,
    notifier,
    notificationSettings,
    links,
    activity: new ActivityService({ messages }),
    absences: new AbsenceService({ uow, clock, careNetwork }),
    clock,
    close: async () => {
      await escalations.stop();
      await attachments.stop();
      await notifier?.stop();
      await outbox.stop();
      await audit.settled();
      await auditSealer.stop();
      await events.close();
      loginLimiter.close();
    },
  };
}

/** Where attachments' bytes go: ATTACHMENTS_DIR if set, else the database. */
function blobStore(config: Config, db: DataSource, uow: AuditedUnitOfWork): BlobStore {
  return config.attachments.directory ? new DirectoryBlobStore(config.attachments.directory) : new DatabaseBlobStore({ db, uow });
}

/**
 * The channels the settings configure, the notifier that sends on them and
 * the schedule's listeners (registered after the inbox's: an escalation's
 * alert schedules its members). With no channel nothing is scheduled: a send
 * costs not one statement more.
 */
function wireNotifications(
  config: Config,
  { db, uow, liveSessions, logger, clock, metrics }: { db: DataSource; uow: AuditedUnitOfWork; liveSessions: LiveSessions; logger: Logger; clock: Clock; metrics: Metrics },
) {
  const { smtpUrl, mailFrom, vapid, pushServiceHosts, publicUrl, pollMs } = config.notifications;
  const mailer = smtpUrl ? new Mailer(smtpUrl, mailFrom, logger) : null;
  const push = vapid ? new PushSender(vapid, logger) : null;
  const available = [...(mailer ? [NotificationChannel.EMAIL] : []), ...(push ? [NotificationChannel.PUSH] : [])];
  const links = { origin: publicUrl ?? '' };
  const notificationSettings = new NotificationSettingsService({ db, uow, available, pushServiceHosts });
  notificationSettings.listen();
  if (!available.length) return { notifier: null, notificationSettings, links };
  listenForNotifications(uow);
  const presence = new Presence(liveSessions, config.redisUrl, config.instanceId, logger);
  const notifier = new Notifier({ db, uow, logger, clock, metrics, pollMs, mailer, push, presence, secret: config.jwtSecret, origin: () => links.origin });
  return { notifier, notificationSettings, links };
}
