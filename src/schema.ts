import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { GraphQLScalarType, isInputObjectType, printSchema, type GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type NonEmptyArray, type PubSub, type ResolverData } from 'type-graphql';
import type { Context } from './request-context';
import { AbsenceResolver, UserAbsenceResolver } from './modules/absences/absence.resolver';
import { ActivityResolver } from './modules/activity/activity.resolver';
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
import { RecipientsResolver } from './modules/recipients/recipients.resolver';
import { TeamResolver } from './modules/teams/team.resolver';
import { ParticipantResolver } from './modules/threads/participant.resolver';
import { auditThreadReads } from './modules/threads/thread-reads.middleware';
import { ThreadResolver } from './modules/threads/thread.resolver';
import { OrganisationResolver } from './modules/organisations/organisation.resolver';
import { UserResolver } from './modules/users/user.resolver';

const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  description: 'An ISO-8601 date-time string in UTC, e.g. 2026-11-24T09:30:00.000Z',
});

// Each @Subscription here brings its own `subscribe`, which returns a LiveFeed
// that the server's own live hub delivers (src/live/; so several servers can
// share one process). type-graphql still
// demands a pubSub for topic-based subscriptions; this one refuses to be used.
const topicSubscriptionsUnused: PubSub = {
  publish() {
    throw new Error('publish through App.events, not the schema pubSub');
  },
  subscribe() {
    throw new Error('topic-based @Subscription is not used: give it a subscribe function');
  },
};

/** Every resolver class of the API; src/resolvers.ts gives each server its instances. */
const RESOLVERS: NonEmptyArray<Function> = [
  AuthResolver,
  UserResolver,
  OrganisationResolver,
  UserAbsenceResolver,
  AbsenceResolver,
  TeamResolver,
  CareNetworkResolver,
  RecipientsResolver,
  ThreadResolver,
  ThreadInboxResolver,
  InboxResolver,
  NotificationSettingsResolver,
  ParticipantResolver,
  MessageResolver,
  MessageAttachmentsResolver,
  AttachmentResolver,
  ActivityResolver,
  AuditResolver,
  AuditSearchResolver,
  AuditCheckpointResolver,
];

/**
 * Builds the executable schema from RESOLVERS and `extra` (tests add resolvers of
 * their own), with reads of thread content audited (auditThreadReads). Resolver
 * instances come from the request's context: the schema holds no per-server state.
 */
export async function buildApiSchema(extra: Function[] = []): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...RESOLVERS, ...extra],
    container: ({ context }: ResolverData<Context>) => context.container,
    scalarsMap: [{ type: Date, scalar: DateTime }],
    pubSub: topicSubscriptionsUnused,
    validate: { forbidUnknownValues: false },
  });
  return auditThreadReads(oneOfInputs(schema));
}

/**
 * Makes each input type declared with `@Directive('@oneOf')` a OneOf input object,
 * of which graphql-js (16.9 and later) accepts a value only with exactly one
 * field, not null. type-graphql 2.0.0-rc.4 puts the directive on the type's
 * AST node only, and graphql-js reads `isOneOf`.
 */
function oneOfInputs(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInputObjectType(type) && type.astNode?.directives?.some((directive) => directive.name.value === 'oneOf')) {
      (type as { isOneOf: boolean }).isOneOf = true;
    }
  }
  return schema;
}

let built: Promise<GraphQLSchema> | undefined;

/** The executable schema, built once per process (it holds no per-server state). */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildApiSchema();
  return built;
}

/** npm scripts and jest run from the project root. */
export const SCHEMA_FILE = join(process.cwd(), 'schema.graphql');

/** The SDL checked in as schema.graphql. */
export async function printedSchema(): Promise<string> {
  const header = '# Emitted from the code by `npm run schema`; do not edit by hand.\n\n';
  return header + printSchema(await getSchema()) + '\n';
}

if (require.main === module) {
  printedSchema().then((sdl) => {
    writeFileSync(SCHEMA_FILE, sdl);
    console.log(`wrote ${SCHEMA_FILE}`);
  });
}
