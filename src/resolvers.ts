import type { App } from './app';
import { AbsenceResolver, UserAbsenceResolver } from './modules/absences/absence.resolver';
import { ActivityResolver } from './modules/activity/activity.resolver';
import { DenialRecorder } from './modules/audit/audit-denials';
import { AttachmentResolver, MessageAttachmentsResolver } from './modules/attachments/attachment.resolver';
import { AuditCheckpointResolver } from './modules/audit/audit-checkpoint.resolver';
import { AuditSearchResolver } from './modules/audit/audit-search.resolver';
import { AuditResolver } from './modules/audit/audit.resolver';
import { AuthResolver } from './modules/auth/auth.resolver';
import { CareNetworkResolver } from './modules/care-network/care-network.resolver';
import { InboxResolver } from './modules/inbox/inbox.resolver';
import { ThreadInboxResolver } from './modules/inbox/thread-inbox.resolver';
import { MessageResolver } from './modules/messages/message.resolver';
import { NotificationSettingsResolver } from './modules/notifications/notification-settings.resolver';
import { OrganisationResolver } from './modules/organisations/organisation.resolver';
import { RecipientsResolver } from './modules/recipients/recipients.resolver';
import { TeamResolver } from './modules/teams/team.resolver';
import { ParticipantResolver } from './modules/threads/participant.resolver';
import { ThreadResolver } from './modules/threads/thread.resolver';
import { UserResolver } from './modules/users/user.resolver';
import type { ResolverContainer } from './request-context';

/**
 * One server's resolvers, each with only the collaborators it uses, and the
 * DenialRecorder of AuditDenials: type-graphql gets its instances from here
 * (buildApiSchema's `container`, through the context). Resolvers hold no
 * per-request state, so one instance each serves every request.
 */
export function createResolvers(app: App): ResolverContainer {
  const { access, messages, metrics } = app;
  const instances: object[] = [
    new AuthResolver({ users: app.users, sessions: app.sessions }),
    new UserResolver({ users: app.users }),
    new OrganisationResolver({ organisations: app.organisations }),
    new UserAbsenceResolver(),
    new AbsenceResolver({ absences: app.absences }),
    new TeamResolver({ teams: app.teams }),
    new CareNetworkResolver({ careNetwork: app.careNetwork }),
    new RecipientsResolver({ recipients: app.recipients }),
    new ThreadResolver({ threads: app.threads, messages, access, metrics }),
    new ThreadInboxResolver({ access }),
    new InboxResolver({ inbox: app.inbox }),
    new NotificationSettingsResolver({ settings: app.notificationSettings, pushPublicKey: app.config.notifications.vapid?.publicKey ?? null }),
    new ParticipantResolver(),
    new MessageResolver({ messages, metrics }),
    new MessageAttachmentsResolver(),
    new AttachmentResolver({ attachments: app.attachments, secret: app.config.jwtSecret, links: app.links, clock: app.clock }),
    new ActivityResolver({ activity: app.activity, access }),
    new AuditResolver({ audit: app.audit }),
    new AuditSearchResolver({ auditSearch: app.auditSearch }),
    new AuditCheckpointResolver({ db: app.db, publicKeys: () => [app.auditSealer.publicKey, ...app.config.auditRetiredKeys] }),
    new DenialRecorder(app.audit),
  ];
  const byType = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  return {
    get<T>(type: abstract new (...args: never[]) => T): T {
      const instance = byType.get(type);
      if (!instance) throw new Error(`${type.name} is not wired in src/resolvers.ts`);
      return instance as T;
    },
  };
}

const perApp = new WeakMap<App, ResolverContainer>();

/** The resolvers of `app`'s server: made by the first request's context, then the same for every request. */
export function resolversOf(app: App): ResolverContainer {
  let container = perApp.get(app);
  if (!container) perApp.set(app, (container = createResolvers(app)));
  return container;
}
