import type DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';
import type { ContainerType } from 'type-graphql';
import { unauthenticated } from './errors';
import type { Loaders } from './loaders';
import type { RequestOrigin } from './common/request-origin';
import type { User } from './modules/users/user.entity';

/**
 * The resolvers of one server (and what the schema's middlewares use), each
 * built once with only the collaborators it needs (src/resolvers.ts). The
 * schema is shared by every server in a process; type-graphql finds this
 * server's instances here, through the context.
 */
export interface ResolverContainer extends ContainerType {
  /** The instance of `type` for this server; throws for a type src/resolvers.ts does not wire. */
  get<T>(type: abstract new (...args: never[]) => T): T;
}

/** Per request (HTTP) or per subscription (websocket). */
export interface Context {
  /** The signed-in individual; null without a token. */
  viewer: User | null;
  /** The session the request's token names; null without a token, or for an identity provider's token. */
  sessionId: string | null;
  /** Why a token that was sent was refused; raised by the first resolver that needs a viewer. */
  authError: GraphQLError | null;
  container: ResolverContainer;
  client: RequestOrigin;
  loaders: Loaders;
  /** Records THREAD_READ once per thread per request; see AuditService.readRecorder. */
  threadReads: DataLoader<string, true>;
}

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(context: Context): User {
  if (context.authError) throw context.authError;
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
}
