import { createHash } from 'node:crypto';
import { AuditAction } from '../../src/modules/audit/audit-action';
import { canonical, chainHash, GENESIS_HASH, type ChainedContent } from '../../src/modules/audit/audit-chain';
import type { AuditOutcome, AuditRole } from '../../src/modules/audit/audit-event.entity';

// How one audit event is hashed onto the chain. Existing chains were hashed this
// way: a change here breaks every one of them, hence the fixed values below.
// test/audit-chain.test.ts checks the chain the server writes and verifyChain.
// (The entity's enums by value: importing the entity would load TypeORM, most of this file's time.)
const SUCCESS = 'SUCCESS' as AuditOutcome;
const DENIED = 'DENIED' as AuditOutcome;
const PROFESSIONAL = 'PROFESSIONAL' as AuditRole;
const ADMIN = 'ADMIN' as AuditRole;

const content = (over: Partial<ChainedContent> = {}): ChainedContent => ({
  at: new Date('2026-03-02T10:00:00.123Z'),
  action: AuditAction.MessageSent,
  outcome: SUCCESS,
  reason: null,
  actorId: 'doc-1',
  actorRole: PROFESSIONAL,
  actorTeamId: 'team-1',
  threadId: 'thread-1',
  messageId: 'msg-1',
  subjectUserId: null,
  patientId: null,
  teamId: null,
  patientIds: ['pat-2', 'pat-1'],
  organisationIds: [],
  channel: null,
  recipients: null,
  requestId: 'req-1',
  clientIp: '203.0.113.7',
  userAgent: 'curl/8',
  instanceId: 'host-1',
  ...over,
});

const CANONICAL =
  '["2026-03-02T10:00:00.123Z","MESSAGE_SENT","SUCCESS",null,"doc-1","PROFESSIONAL","team-1","thread-1","msg-1",null,null,null,["pat-1","pat-2"],null,"req-1","203.0.113.7","curl/8","host-1"]';

test('the canonical form: a JSON array in a fixed field order, the time in ISO 8601 UTC, patient ids sorted', () => {
  expect(canonical(content())).toBe(CANONICAL);
  expect(canonical(content({ at: new Date('2026-03-02T11:00:00.123+01:00') }))).toBe(CANONICAL);
});

test("the patients' order does not matter, and sorting them leaves the event's own list as it was", () => {
  const event = content({ patientIds: ['pat-2', 'pat-1'] });
  expect(canonical(event)).toBe(canonical(content({ patientIds: ['pat-1', 'pat-2'] })));
  expect(event.patientIds).toEqual(['pat-2', 'pat-1']);
});

test('the id and the stored hashes are not part of the content', () => {
  const stored = { ...content(), id: 7, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) };
  expect(canonical(stored)).toBe(CANONICAL);
});

test('chainHash: SHA-256 (hex) of the previous hash, a newline and the canonical content', () => {
  const expected = createHash('sha256').update(`${GENESIS_HASH}\n${CANONICAL}`).digest('hex');
  expect(chainHash(GENESIS_HASH, content())).toBe(expected);
  expect(chainHash(GENESIS_HASH, content())).toBe('c44a11b6e7f7b36f6045acf9ff909ab37fcd86385c461501da8273c3ab0d7931');
  expect(GENESIS_HASH).toBe('0'.repeat(64));
});

test('every field of the content, and the previous hash, changes the hash', () => {
  const hash = chainHash(GENESIS_HASH, content());
  const changes: Partial<ChainedContent>[] = [
    { at: new Date('2026-03-02T10:00:00.124Z') },
    { action: AuditAction.ThreadRead },
    { outcome: DENIED },
    { reason: 'NOT_FOUND: Thread not found' },
    { actorId: 'doc-2' },
    { actorRole: ADMIN },
    { actorTeamId: null },
    { threadId: 'thread-2' },
    { messageId: null },
    { subjectUserId: 'doc-3' },
    { patientId: 'pat-1' },
    { teamId: 'team-2' },
    { patientIds: ['pat-1'] },
    { recipients: '[]' },
    { requestId: null },
    { clientIp: '203.0.113.8' },
    { userAgent: null },
    { instanceId: 'host-2' },
    { organisationIds: ['org-1'] },
    { channel: 'EMAIL' },
  ];
  for (const change of changes) expect([change, chainHash(GENESIS_HASH, content(change))]).not.toEqual([change, hash]);
  expect(chainHash('f'.repeat(64), content())).not.toBe(hash);
});

test('organisations: none (an event from before them) hashes as before; any are sorted, and each counts', () => {
  expect(canonical(content({ organisationIds: [] }))).toBe(CANONICAL);
  const two = canonical(content({ organisationIds: ['org-2', 'org-1'] }));
  expect(two).toBe(`${CANONICAL.slice(0, -1)},["org-1","org-2"]]`);
  expect(canonical(content({ organisationIds: ['org-1', 'org-2'] }))).toBe(two);
  expect(canonical(content({ organisationIds: ['org-1'] }))).not.toBe(two);
});

test('channel: none (every event but a notification) hashes as before; one is an object, never read as the organisations', () => {
  expect(canonical(content({ channel: null }))).toBe(CANONICAL);
  expect(canonical(content({ channel: 'PUSH' }))).toBe(`${CANONICAL.slice(0, -1)},{"channel":"PUSH"}]`);
  expect(canonical(content({ channel: 'PUSH', organisationIds: ['org-1'] }))).toBe(`${CANONICAL.slice(0, -1)},["org-1"],{"channel":"PUSH"}]`);
});
