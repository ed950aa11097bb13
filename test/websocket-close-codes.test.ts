import type { Client } from 'graphql-ws';
import { retryingClient, untilSubscribed } from './support/live';
import { useLiveWorld } from './support/world';

// What graphql-ws's own client, with its default retry rules, does when
// CareThread closes its socket (the close codes of docs/api.md). The identity
// provider's outage (1013, retried) is in oidc.test.ts.

const env = useLiveWorld();
const SET_DISABLED = `mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id } }`;
const MESSAGE_ADDED = 'subscription { messageAdded { id } }';

/** The error `client`'s subscription ends with. */
function subscriptionError(client: Client): Promise<{ code?: number }> {
  return new Promise((resolve, reject) =>
    client.subscribe({ query: MESSAGE_ADDED }, { next: () => undefined, error: (error) => resolve(error as { code?: number }), complete: () => reject(new Error('completed without an error')) }),
  );
}

test('a refused token is not retried: its one connection attempt ends every subscription with 4401 at once', async () => {
  const { client, attempts, closes } = retryingClient(env.server.wsUrl, 'not-a-jwt');
  env.clients.push(client);
  const error = await subscriptionError(client);
  expect({ code: error.code, attempts: attempts(), closes }).toEqual({ code: 4401, attempts: 1, closes: [4401] });
});

test('an open socket whose account is disabled is not reconnected with its revoked token: the subscription ends with 4401', async () => {
  const nurse = await env.world.professional('Close Codes Nurse');
  const { client, attempts, closes } = retryingClient(env.server.wsUrl, nurse.token);
  env.clients.push(client);
  const ended = subscriptionError(client);
  await untilSubscribed(env.server, 1);
  await env.world.as(env.world.admin, SET_DISABLED, { u: nurse.id, d: true });
  expect((await ended).code).toBe(4401);
  expect({ attempts: attempts(), closes }).toEqual({ attempts: 1, closes: [4401] });
});
