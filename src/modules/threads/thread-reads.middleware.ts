import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { answeredPerViewer } from '../../live/audience';
import type { Context } from '../../request-context';
import type { Thread } from './thread.entity';

/**
 * The fields of Thread that tell nothing of what was written in it, so reading
 * them is no THREAD_READ: its id; when and by whom it began (createdAt,
 * createdBy); the auto-CC teams it is addressed to (teams); the team inboxes'
 * handling of it (inbox: status, assignee, waiting time); how many messages
 * the caller has not read (unreadCount); when it last had a message everyone
 * in it sees (lastActivityAt, the list's order). A client lists threads by these
 * without reading any. Every other field, including any added later, is
 * content: subject, participants, messages, lastMessage.
 */
export const THREAD_METADATA: ReadonlySet<string> = new Set(['id', 'createdAt', 'createdBy', 'teams', 'inbox', 'unreadCount', 'lastActivityAt']);

/**
 * The one place reads of a thread's content are audited: wraps every field of
 * Thread in `schema` but THREAD_METADATA, whichever resolver declares it, so
 * that its value goes out only once THREAD_READ is recorded (once per thread
 * per request, AuditService.readRecorder). A read that cannot be recorded
 * fails the field; a null value (lastMessage of a thread whose messages the
 * caller may not see) records nothing. Applied once to the built schema,
 * rather than as a type-graphql global middleware, so the fields of every
 * other type stay synchronous. Returns `schema`.
 */
export function auditThreadReads(schema: GraphQLSchema): GraphQLSchema {
  const thread = schema.getType('Thread');
  if (!isObjectType(thread)) throw new Error('the schema has no Thread type to audit');
  for (const field of Object.values(thread.getFields())) {
    if (THREAD_METADATA.has(field.name)) continue;
    // The read is recorded against each viewer: live, each gets their own execution.
    answeredPerViewer(field);
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (root: Thread, args, context: Context, info) => {
      const value: unknown = await resolve(root, args, context, info);
      if (value !== null && value !== undefined) await context.threadReads.load(root.id);
      return value;
    };
  }
  return schema;
}
