/**
 * The reference for the `sendrate` scenario, run as its own process: the
 * least a server can do for a sendMessage. Each POST checks its bearer token
 * (HS256, as CareThread's), then runs with better-sqlite3 directly the SQL a
 * professional's message costs CareThread (its statements, in one
 * transaction), on a copy of CareThread's own database (BARE_DATABASE), and
 * answers the message as JSON. Prints {"url": ...} once listening.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const db = new Database(process.env.BARE_DATABASE!);
// As CareThread opens a SQLite file (TypeORM's enableWAL; synchronous left at its default).
db.pragma('journal_mode = WAL');
const secret = process.env.JWT_SECRET!;
const stored = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

const statements = {
  viewer: db.prepare('SELECT u.* FROM "users" u INNER JOIN "sessions" s ON s."userId" = u."id" WHERE u."id" = ? AND s."id" = ?'),
  advance: db.prepare(
    `UPDATE "threads" SET "lastSeq" = "lastSeq" + 1, "lastMessageAt" = MAX(COALESCE("lastMessageAt", "lastActivityAt"), ?),
     "lastActivityAt" = MAX(COALESCE("lastMessageAt", "lastActivityAt"), ?), "waitingSince" = NULL
     WHERE "id" = ? AND EXISTS (SELECT 1 FROM "participants" p WHERE p."threadId" = ? AND p."userId" = ?) RETURNING "lastSeq", "lastMessageAt"`,
  ),
  message: db.prepare(
    'INSERT INTO "messages" ("id", "threadId", "seq", "authorId", "body", "createdAt", "staffOnly", "readByCareTeamAt", "clientMessageId") VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL)',
  ),
  unschedule: db.prepare('UPDATE "thread_teams" SET "escalationDueAt" = NULL WHERE "threadId" = ? AND "escalationDueAt" IS NOT NULL'),
  participants: db.prepare('SELECT p."userId", p."viaTeamId", u."kind", u."isAdmin" FROM "participants" p INNER JOIN "users" u ON u."id" = p."userId" WHERE p."threadId" = ?'),
  outbox: db.prepare('INSERT INTO "outbox_events" ("id", "topic", "payload", "createdAt", "publishedAt") VALUES (?, ?, ?, ?, NULL)'),
  audit: db.prepare(
    `INSERT INTO "audit_events" ("at", "actorId", "actorRole", "action", "outcome", "threadId", "messageId", "instanceId")
     VALUES (?, ?, 'PROFESSIONAL', 'MESSAGE_SENT', 'SUCCESS', ?, ?, 'bare')`,
  ),
};

/** The user and session of a well-signed HS256 token; null otherwise. */
function claims(authorization: string | undefined): { sub: string; sid: string } | null {
  const [header, payload, signature] = (authorization?.replace(/^Bearer /, '') ?? '').split('.');
  if (!signature) return null;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return JSON.parse(Buffer.from(payload, 'base64url').toString());
}

const send = db.transaction((author: { id: string }, threadId: string, body: string) => {
  const now = stored(new Date());
  const next = statements.advance.get(now, now, threadId, threadId, author.id) as { lastSeq: number; lastMessageAt: string } | undefined;
  if (!next) return null;
  const message = { id: randomUUID(), threadId, seq: next.lastSeq, authorId: author.id, body, createdAt: next.lastMessageAt };
  statements.message.run(message.id, threadId, message.seq, author.id, body, message.createdAt);
  statements.unschedule.run(threadId);
  const recipientIds = (statements.participants.all(threadId) as { userId: string }[]).map((p) => p.userId);
  statements.outbox.run(randomUUID(), 'MESSAGE_ADDED', JSON.stringify({ message, recipientIds }), now);
  // Unsealed, as CareThread writes it: its sealer chains the events after the commit.
  statements.audit.run(now, author.id, threadId, message.id);
  return message;
});
// better-sqlite3's default `transaction` is DEFERRED; CareThread's writes begin IMMEDIATE.
const sendImmediate = send.immediate;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const token = claims(req.headers.authorization);
    const viewer = token && (statements.viewer.get(token.sub, token.sid) as { id: string } | undefined);
    const { variables } = JSON.parse(Buffer.concat(chunks).toString());
    const message = viewer ? sendImmediate(viewer, variables.t, variables.b) : null;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(message ? { data: { sendMessage: { id: message.id } } } : { errors: [{ message: 'Thread not found' }] }));
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/` }));
});
