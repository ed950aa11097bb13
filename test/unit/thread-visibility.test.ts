import { DataSource, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { Message } from '../../src/modules/messages/message.entity';
import { seesEveryMessage, visibleMessages, visibleThreads, withoutHiddenNotes, type Viewer } from '../../src/modules/threads/thread-visibility';
import { Thread } from '../../src/modules/threads/thread.entity';
import { UserKind } from '../../src/modules/users/user-kind';
import { entities } from '../../src/tables';

// The visibility scope in its query form (docs/architecture.md, "Visibility and read audit"): the SQL every list
// and batch read of threads and messages is restricted by, rendered by TypeORM and never run. That the rows it
// lets through are the right ones is tested against real databases (test/thread-visibility.test.ts).

/** The entities' metadata without a connection: enough for TypeORM to build and render a query. */
class Offline extends DataSource {
  static async open(): Promise<Offline> {
    const db = new Offline({ type: 'better-sqlite3', database: ':memory:', entities });
    await db.buildMetadatas();
    return db;
  }
}

let db: Offline;
beforeAll(async () => {
  db = await Offline.open();
});

const professional: Viewer = { id: 'pro-1', kind: UserKind.PROFESSIONAL };
const patient: Viewer = { id: 'pat-1', kind: UserKind.PATIENT };

/** The query from its FROM on, and its parameters in order. */
function rendered(q: SelectQueryBuilder<ObjectLiteral>): { sql: string; parameters: unknown[] } {
  const [sql, parameters] = q.getQueryAndParameters();
  return { sql: sql.slice(sql.indexOf(' FROM ') + 1), parameters };
}

const VIEWER_JOIN = (threadId: string) =>
  `INNER JOIN "participants" "viewer_participation" ON "viewer_participation"."threadId" = ${threadId} AND "viewer_participation"."userId" = ?`;

describe('visibleThreads: threads the viewer is a current participant of', () => {
  test.each([professional, patient])('joins the viewer\'s own participation on the thread named, staff or patient alike (%o)', (viewer) => {
    const q = visibleThreads(db.createQueryBuilder(Thread, 't'), viewer, 't.id');
    expect(rendered(q)).toEqual({ sql: `FROM "threads" "t" ${VIEWER_JOIN('"t"."id"')}`, parameters: [viewer.id] });
  });

  test('a where added afterwards narrows the scope, never replaces it', () => {
    const q = visibleThreads(db.createQueryBuilder(Thread, 't'), patient, 't.id').where('t.id = :id', { id: 'thread-1' });
    expect(rendered(q)).toEqual({ sql: `FROM "threads" "t" ${VIEWER_JOIN('"t"."id"')} WHERE "t"."id" = ?`, parameters: [patient.id, 'thread-1'] });
  });
});

describe('visibleMessages: messages of those threads, without staff-only notes for a patient', () => {
  test('a professional sees every message of their threads', () => {
    const q = visibleMessages(db.createQueryBuilder(Message, 'msg'), professional, 'msg');
    expect(rendered(q)).toEqual({ sql: `FROM "messages" "msg" ${VIEWER_JOIN('"msg"."threadId"')}`, parameters: [professional.id] });
  });

  test('a patient sees no staff-only note, in the same join', () => {
    const q = visibleMessages(db.createQueryBuilder(Message, 'msg'), patient, 'msg');
    expect(rendered(q)).toEqual({ sql: `FROM "messages" "msg" ${VIEWER_JOIN('"msg"."threadId"')} AND "msg"."staffOnly" = ?`, parameters: [patient.id, 0] });
  });
});

describe('withoutHiddenNotes: the message half alone, for a subquery of threads already scoped', () => {
  test('leaves out staff-only notes for a patient', () => {
    const q = withoutHiddenNotes(db.createQueryBuilder(Message, 'msg').where('msg.threadId = :t', { t: 'thread-1' }), patient, 'msg');
    expect(rendered(q)).toEqual({ sql: `FROM "messages" "msg" WHERE "msg"."threadId" = ? AND "msg"."staffOnly" = ?`, parameters: ['thread-1', 0] });
  });

  test('leaves a professional\'s query as it was', () => {
    const q = withoutHiddenNotes(db.createQueryBuilder(Message, 'msg').where('msg.threadId = :t', { t: 'thread-1' }), professional, 'msg');
    expect(rendered(q)).toEqual({ sql: `FROM "messages" "msg" WHERE "msg"."threadId" = ?`, parameters: ['thread-1'] });
  });
});

test('seesEveryMessage: staff see every message of their threads, patients not', () => {
  expect(seesEveryMessage(professional)).toBe(true);
  expect(seesEveryMessage(patient)).toBe(false);
});
