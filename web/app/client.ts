// The dashboard's GraphQL client: urql with a normalized cache (graphcache, cache.ts), queries
// and mutations over HTTP, the live feed over graphql-ws. Every open view reads the one cache,
// so a live event written into it updates all of them.
import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { GRAPHQL_PATH, liveClient, type LiveEvents } from './api';
import { ListedThreadDocument } from '../gql/graphql';
import { normalizedCache } from './cache';

/** The signed-in client, and its live connection to dispose of on sign-out. */
interface SignedInClient {
  client: Client;
  dispose(): void;
}

/**
 * A client signed with `token`. An UNAUTHENTICATED answer (a token expired,
 * revoked or of a disabled account) calls `ended`, as does the live
 * connection refusing it.
 */
export function signedInClient(token: string, live: Omit<LiveEvents, 'refused'>, ended: () => void): SignedInClient {
  const ws = liveClient(token, { ...live, refused: ended });
  const client = new Client({
    url: GRAPHQL_PATH,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    // What the live feed keeps current (the thread list, team inboxes) is read once and then
    // kept by its events: asking again on every visit would be a THREAD_READ of every thread
    // listed each time. Views the feed does not cover ask each time they open (requestPolicy cache-and-network).
    requestPolicy: 'cache-first',
    // POST only: a query sent as GET would put its variables (a searched name, a thread's id)
    // in the URL, which proxies and access logs keep.
    preferGetMethod: false,
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) ended();
        },
      }),
      normalizedCache((id) =>
        // After the cache has written the event that asks: a query from inside the write would re-enter it.
        setTimeout(() => void client.query(ListedThreadDocument, { id }, { requestPolicy: 'network-only' }).toPromise()),
      ),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}

/** A client without a token, for signing in. */
export const anonymousClient = () => new Client({ url: GRAPHQL_PATH, exchanges: [fetchExchange], requestPolicy: 'network-only' });
