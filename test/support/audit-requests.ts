import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AuditEvent } from '../../src/modules/audit/audit-event.entity';
import { TEST_POSTGRES_URL, type TestServer } from './server';

// Helpers for the audit tests (audit-complete, access-log): requests with the
// headers an audit event records, the admin's view of the trail, and a way to
// make the audit store refuse writes.

/** Where a request from this process comes from, as the server sees it. */
export const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1', '::1'];

/** A GraphQL answer over HTTP, with the request id the server echoed and when the request ran. */
export interface Answer<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
  /** The X-Request-Id response header. */
  requestId: string | null;
  /** Epoch ms just before sending, and just after the whole answer arrived. */
  start: number;
  end: number;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  /** Sent as X-Request-Id. */
  requestId?: string;
  /** Sent as User-Agent (otherwise fetch's own). */
  userAgent?: string;
}

/** One GraphQL request over real HTTP, with the headers an audit event records. */
export async function call<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
  if (options.userAgent !== undefined) headers['user-agent'] = options.userAgent;
  const start = Date.now();
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  const end = Date.now();
  let body: { data?: T | null; errors?: GraphQLFormattedError[] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: res.status, ...body, requestId: res.headers.get('x-request-id'), start, end, text };
}

/** The error codes of an answer. */
export const codesOf = (answer: Pick<Answer, 'errors'>) => (answer.errors ?? []).map((e) => String(e.extensions?.code));

/** An audit event as an admin reads it: every field. */
export interface AuditEventView {
  id: string;
  at: string;
  action: string;
  outcome: 'SUCCESS' | 'DENIED';
  reason: string | null;
  threadId: string | null;
  messageId: string | null;
  hash: string;
  actorRole: 'PATIENT' | 'PROFESSIONAL' | 'ADMIN';
  actor: { id: string; name: string; kind: string };
  actorTeam: { id: string } | null;
  team: { id: string } | null;
  subject: { id: string } | null;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  instanceId: string | null;
}

export const EVENT_FIELDS = `id at action outcome reason threadId messageId hash actorRole actor { id name kind } actorTeam { id } team { id } subject { id }
  requestId clientIp userAgent instanceId`;

export const AUDIT_EVENTS = `query($f: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) { edges { cursor node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;

export interface AuditFilter {
  actorId?: string;
  patientId?: string;
  threadId?: string;
  action?: string;
  outcome?: 'SUCCESS' | 'DENIED';
  from?: string;
  to?: string;
}

/**
 * Every event matching `filter`, newest first, read as `token` (an admin)
 * page by page. Each page is itself an AUDIT_SEARCHED event; those written by
 * this walk are left out unless `keepOwnSearches`.
 */
export async function auditEvents(
  url: string,
  token: string,
  filter: AuditFilter = {},
  options: { pageSize?: number; requestOptions?: Omit<CallOptions, 'token'>; keepOwnSearches?: boolean } = {},
): Promise<AuditEventView[]> {
  const events: AuditEventView[] = [];
  const ownSearches = new Set<string>();
  let after: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const requestId = `walk-${Math.random().toString(36).slice(2)}`;
    const answer: Answer = await call(url, AUDIT_EVENTS, { f: filter, first: options.pageSize ?? 100, after }, { ...options.requestOptions, requestId, token });
    if (answer.errors?.length || !answer.data) throw new Error(`auditEvents failed: ${answer.text}`);
    ownSearches.add(requestId);
    const { edges, pageInfo } = answer.data.auditEvents;
    events.push(...edges.map((e: { node: AuditEventView }) => e.node));
    if (!pageInfo.hasNextPage) break;
    after = pageInfo.endCursor;
  }
  return options.keepOwnSearches ? events : events.filter((e) => !(e.action === 'AUDIT_SEARCHED' && e.requestId && ownSearches.has(e.requestId)));
}

/** A WebSocket class whose upgrade request carries `headers` (e.g. a User-Agent). */
export function webSocketWithHeaders(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  } as typeof WebSocket;
}

/** A graphql-ws client whose upgrade request carries `headers`. */
export function wsClient(wsUrl: string, token: string | null, headers: Record<string, string> = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: webSocketWithHeaders(headers),
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** One query or mutation over graphql-ws: its data and errors. */
export function wsRun<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T | null; errors: GraphQLFormattedError[] }> {
  return new Promise((resolve, reject) => {
    let data: T | null | undefined;
    const errors: GraphQLFormattedError[] = [];
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          data = value.data;
          errors.push(...((value.errors ?? []) as GraphQLFormattedError[]));
        },
        error: (error) => (Array.isArray(error) ? resolve({ data, errors: [...errors, ...error] }) : reject(error)),
        complete: () => resolve({ data, errors }),
      },
    );
  });
}

/**
 * From now on the audit store refuses to insert events with `action` (a
 * SQLite trigger, or a PostgreSQL trigger in the server's own schema), as a
 * full disk or a lost connection would. Returns the undo.
 */
export async function failAuditInserts(server: TestServer, action: string): Promise<() => Promise<void>> {
  const db = server.app.db;
  const name = `test_refuse_${action.toLowerCase()}`;
  if (db.options.type === 'postgres') {
    const schema = (db.options as { schema?: string }).schema;
    if (!schema || !TEST_POSTGRES_URL) throw new Error('expected a test schema on PostgreSQL');
    const q = (n: string) => `"${schema}"."${n}"`;
    await db.query(
      `CREATE FUNCTION ${q(name)}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW."action" = '${action}' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`,
    );
    await db.query(`CREATE TRIGGER "${name}" BEFORE INSERT ON ${q('audit_events')} FOR EACH ROW EXECUTE FUNCTION ${q(name)}()`);
    return async () => {
      await db.query(`DROP TRIGGER "${name}" ON ${q('audit_events')}`);
      await db.query(`DROP FUNCTION ${q(name)}()`);
    };
  }
  await db.query(`CREATE TRIGGER "${name}" BEFORE INSERT ON "audit_events" WHEN NEW."action" = '${action}' BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END`);
  return async () => {
    await db.query(`DROP TRIGGER "${name}"`);
  };
}

/**
 * Live deliveries are recorded in the background, once pushed (a subscriber
 * never waits for the audit chain). Resolves once the MESSAGE_DELIVERED
 * events of `messageId` list at least `recipients` people and nothing more
 * is being recorded; rejects after `timeoutMs`.
 */
export async function deliveriesRecorded(server: TestServer, messageId: string, recipients: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await server.app.db.getRepository(AuditEvent).find({ where: { action: 'MESSAGE_DELIVERED' as AuditEvent['action'], messageId } });
    const listed = new Set(rows.flatMap((row) => (JSON.parse(row.recipients ?? '[]') as { id: string }[]).map((r) => r.id)));
    if (listed.size >= recipients) break;
    if (Date.now() > deadline) throw new Error(`the delivery of ${messageId} was recorded for ${listed.size} of ${recipients} recipients`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Anything of the same moment still on its way (a second event for the same message would be a bug to see).
  await new Promise((resolve) => setTimeout(resolve, 50));
  await server.app.audit.settled();
}
