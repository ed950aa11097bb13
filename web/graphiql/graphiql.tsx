import type { Fetcher, FetcherParams } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { getOperationAST, type ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
// For window.MonacoEnvironment's type (monaco itself comes with graphiql).
import type {} from 'monaco-editor';
import { createRoot } from 'react-dom/client';
import { EXAMPLES, HEADERS, TOKEN_PLACEHOLDER } from './examples';
import './page.css';

// Monaco runs its language services in workers. scripts/build-web.mjs bundles them beside this
// file; without this, monaco would fall back to running them on the page's main thread.
const workers: Record<string, string> = { json: 'json.worker.js', graphql: 'graphql.worker.js' };
window.MonacoEnvironment = {
  getWorker: (_id, label) => new Worker(new URL(workers[label] ?? 'editor.worker.js', import.meta.url), { type: 'module' }),
};

// The page is served on the GraphQL URL itself, for HTTP and for graphql-ws (whose path must match
// exactly, so no trailing slash).
const url = location.origin + location.pathname.replace(/\/$/, '');
const wsUrl = url.replace(/^http/, 'ws');

let loginToken: string | undefined;

/** The headers editor's headers with TOKEN_PLACEHOLDER replaced by the last login's token; a header still holding it is left out. */
function withToken(headers: Record<string, unknown> = {}): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = String(value);
    if (!text.includes(TOKEN_PLACEHOLDER)) sent[name] = text;
    else if (loginToken) sent[name] = text.replace(TOKEN_PLACEHOLDER, loginToken);
  }
  return sent;
}

/** A subscription over graphql-ws, its socket's failures turned into errors GraphiQL can show. */
function overWebsocket(params: FetcherParams, authorization: string | undefined): AsyncIterable<ExecutionResult> {
  // src/websocket.ts reads the token from connectionParams.authorization. A client per run, since the
  // headers may change between runs; being lazy, it closes its socket when the subscription ends.
  // Not retried: a closed socket is shown at once instead of after five reconnections.
  const client = createClient({ url: wsUrl, retryAttempts: 0, connectionParams: authorization ? { authorization } : {} });
  // graphql-ws types results as they come over the wire (formatted errors); GraphiQL's Fetcher type
  // says ExecutionResult, but GraphiQL only prints them.
  const results = client.iterate(params) as AsyncIterableIterator<ExecutionResult>;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => results.next().catch((error: unknown) => Promise.reject(socketError(error))),
      return: async () => {
        await results.return?.();
        return { done: true, value: undefined };
      },
    }),
  };
}

/** What GraphiQL shows for a failed subscription: a message, like a GraphQL error's, without a stack. */
function socketError(error: unknown): unknown {
  if (error instanceof CloseEvent) {
    return { message: error.code === 4401 ? 'The server closed the websocket (4401): no valid token in the Authorization header, or a disabled account' : `The server closed the websocket (${error.code} ${error.reason})` };
  }
  // The socket did not open at all, e.g. behind a proxy that does not pass websocket upgrades.
  if (error instanceof Event) return { message: `Could not open a websocket to ${wsUrl}` };
  // The server's errors for the operation.
  return error;
}

const fetcher: Fetcher = async (params, opts) => {
  const headers = withToken(opts?.headers);
  if (opts?.documentAST && getOperationAST(opts.documentAST, params.operationName || undefined)?.operation === 'subscription') {
    return overWebsocket(params, Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify(params),
  });
  const result = (await response.json()) as ExecutionResult<{ login?: { token?: unknown } }>;
  if (typeof result.data?.login?.token === 'string') loginToken = result.data.login.token;
  return result;
};

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL
    fetcher={fetcher}
    defaultTabs={EXAMPLES.map((example) => ({ ...example, headers: HEADERS }))}
    defaultHeaders={HEADERS}
    defaultEditorToolsVisibility="headers"
  />,
);
