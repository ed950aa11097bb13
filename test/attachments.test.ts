import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { In } from 'typeorm';
import type { MessageAddedEvent } from '../src/events/event-bus';
import { BlobMissingError } from '../src/modules/attachments/blob-store';
import { DatabaseBlobStore } from '../src/modules/attachments/database-blob-store';
import { Attachment } from '../src/modules/attachments/attachment.entity';
import { AttachmentContent } from '../src/modules/attachments/attachment-content.entity';
import { Message } from '../src/modules/messages/message.entity';
import { tablePath } from '../src/database/table-path';
import { HOUR, TestClock } from './support/clock';
import { codes, failure, gql, ok } from './support/graphql';
import { listen, until, untilSubscribed } from './support/live';
import { startTestServer } from './support/server';
import { consultation as consultationOf, download, letter, photoWithLocation, png, uploaded } from './support/uploads';
import { asRecipient, useLiveWorld, World, type Person } from './support/world';

// Files on messages through a real server: multipart uploads over HTTP, the
// sends that attach them, downloads with the bearer token or a signed link,
// and live delivery of their descriptions.

const MAX_BYTES = 300_000;
const clock = new TestClock();
const env = useLiveWorld({ ATTACHMENT_MAX_BYTES: String(MAX_BYTES) }, { clock });
beforeEach(() => clock.reset());

const FIELDS = `id name contentType size width height thumbnail url`;
const SEND = `mutation($t: ID!, $b: String!, $a: [ID!], $s: Boolean) { sendMessage(threadId: $t, body: $b, attachmentIds: $a, staffOnly: $s) { id body attachments { ${FIELDS} } } }`;
const LINK = `query($id: ID!) { attachmentLink(id: $id) { url expiresAt } }`;
const ACCESS_LOG = `query { myAccessLog(first: 100) { edges { node { action who { id } messageId } } } }`;

const contents = () => env.server.app.db.manager.count(AttachmentContent);

const consultation = (label: string) => consultationOf(env.world, label);

const send = (who: Person, threadId: string, attachmentIds: string[], body = 'See attached', staffOnly = false) =>
  ok(env.server.url, SEND, { t: threadId, b: body, a: attachmentIds, s: staffOnly }, who.token);

describe('upload, send, download', () => {
  test('a photo is stored without its location and camera, sent with a message, and downloaded by the other participant as an attachment', async () => {
    const { doctor, patient, threadId } = await consultation('Photo');
    const photo = await photoWithLocation(64, 48);
    expect(photo.includes('AcmeCamCorp')).toBe(true);

    const attachment = await uploaded(env.server.url, patient.token, photo, { name: 'C:\\Users\\me\\rash.jpg', type: 'image/jpeg' });
    expect(attachment).toMatchObject({ name: 'rash.jpg', contentType: 'image/jpeg', width: 64, height: 48, url: `/attachments/${attachment.id}` });
    expect(attachment.thumbnail).toMatch(/^data:image\/webp;base64,/);

    const { sendMessage } = await send(patient, threadId, [attachment.id]);
    expect(sendMessage.attachments).toEqual([attachment]);

    const got = await download(env.server.url, attachment.url, doctor.token);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('content-disposition')).toBe('attachment; filename=rash.jpg');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    expect(got.headers.get('cache-control')).toBe('private, no-store');
    expect(got.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(got.headers.get('referrer-policy')).toBe('no-referrer');
    expect(got.bytes.length).toBe(attachment.size);
    expect(got.bytes.includes('AcmeCamCorp')).toBe(false);
    // From a file: the server in this process lets sharp load images from files only.
    const file = join(await mkdtemp(join(tmpdir(), 'attachment-')), 'stored.jpg');
    await writeFile(file, got.bytes);
    const stored = await sharp(file).metadata();
    expect([stored.format, stored.width, stored.height, stored.exif]).toEqual(['jpeg', 64, 48, undefined]);

    // The thread's messages carry it too, for both of them.
    const { thread } = await ok(env.server.url, `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { attachments { id name } } } } } }`, { t: threadId }, doctor.token);
    expect(thread.messages.edges.map((e: any) => e.node.attachments)).toEqual([[], [{ id: attachment.id, name: 'rash.jpg' }]]);
  });

  test('a letter (PDF) starts a thread; the body may be blank with files, never without', async () => {
    const doctor = await env.world.professional('Dr Letter');
    const patient = await env.world.patient('Patient Letter');
    await env.world.share(patient, doctor);
    const pdf = await letter();
    const attachment = await uploaded(env.server.url, doctor.token, pdf, { name: 'results.pdf', type: 'application/pdf' });
    expect(attachment).toMatchObject({ contentType: 'application/pdf', size: pdf.length, width: null, height: null, thumbnail: null });
    const { createThread } = await ok(
      env.server.url,
      `mutation($r: [RecipientInput!]!, $a: [ID!]) { createThread(subject: "Your results", body: "  ", recipients: $r, attachmentIds: $a) { id lastMessage { body attachments { id } } } }`,
      { r: [asRecipient(patient)], a: [attachment.id] },
      doctor.token,
    );
    expect(createThread.lastMessage).toEqual({ body: '', attachments: [{ id: attachment.id }] });
    const got = await download(env.server.url, attachment.url, patient.token);
    expect(Buffer.compare(got.bytes, Buffer.from(pdf))).toBe(0);
    expect(await codes(env.server.url, SEND, { t: createThread.id, b: ' ', a: [] }, patient.token)).toEqual(['BAD_USER_INPUT']);
  });

  test('messageAdded carries the attachments’ descriptions live to the other participants', async () => {
    const { doctor, patient, threadId } = await consultation('Live');
    const feed = listen(env.server.url.replace('http', 'ws'), doctor.token, `subscription { messageAdded { id attachments { ${FIELDS} } } }`, env.clients);
    await untilSubscribed(env.server, 1);
    const first = await uploaded(env.server.url, patient.token, await png(30, 10), { name: 'one.png' });
    const second = await uploaded(env.server.url, patient.token, await letter(), { name: 'two.pdf' });
    const { sendMessage } = await send(patient, threadId, [second.id, first.id]);
    const [event] = await feed.waitFor(1);
    expect(event.messageAdded).toEqual({ id: sendMessage.id, attachments: [second, first] });
  });

  test('files keep the order they were sent in, live, read back, and in the event every instance delivers', async () => {
    const { doctor, patient, threadId } = await consultation('Order');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await uploaded(env.server.url, patient.token, await png(10 + i, 10), { name: `${i}.png` })).id);
    const order = [ids[2], ids[0], ids[3], ids[1]];
    const events: MessageAddedEvent[] = [];
    const stop = env.server.app.messages.inOrder((event) => events.push(event));
    try {
      const { sendMessage } = await send(patient, threadId, order);
      expect(sendMessage.attachments.map((a: { id: string }) => a.id)).toEqual(order);
      // The event itself carries them: no recipient reads them again.
      await until(() => events.some((event) => event.message.id === sendMessage.id));
      expect(events.find((event) => event.message.id === sendMessage.id)!.message.attachments?.map((a) => a.id)).toEqual(order);
    } finally {
      stop();
    }
    const { thread } = await ok(env.server.url, `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { attachments { id } } } } } }`, { t: threadId }, doctor.token);
    expect(thread.messages.edges.at(-1).node.attachments.map((a: { id: string }) => a.id)).toEqual(order);
    // Whatever order the database returns ties in: the positions are stored.
    const stored = await env.server.app.db.manager.findBy(Attachment, { id: In(order) });
    expect(order.map((id) => stored.find((a) => a.id === id)!.position)).toEqual([0, 1, 2, 3]);
  });

  test('the same file uploaded twice is stored once, and each upload is its own', async () => {
    const { patient } = await consultation('Twice');
    const before = await contents();
    const bytes = await letter('Twice the same letter');
    const a = await uploaded(env.server.url, patient.token, bytes, { name: 'a.pdf' });
    const b = await uploaded(env.server.url, patient.token, bytes, { name: 'b.pdf' });
    expect(a.id).not.toBe(b.id);
    expect(await contents()).toBe(before + 1);
  });
});

describe('who may download', () => {
  test('only current participants: a leaver loses access at once; others get NOT_FOUND, as for no such file; each download is audited and in the patient’s access log', async () => {
    const { doctor, patient, threadId } = await consultation('Access');
    const colleague = await env.world.professional('Dr Access Colleague');
    const outsider = await env.world.professional('Dr Access Outsider');
    await env.world.addParticipants(doctor, threadId, [colleague]);
    const attachment = await uploaded(env.server.url, patient.token, await png(), { name: 'scan.png' });
    const { sendMessage } = await send(patient, threadId, [attachment.id]);

    expect((await download(env.server.url, attachment.url, colleague.token)).status).toBe(200);
    await env.world.leave(colleague, threadId);
    const leaver = await download(env.server.url, attachment.url, colleague.token);
    expect([leaver.status, leaver.json.errors[0].extensions.code]).toEqual([404, 'NOT_FOUND']);
    expect((await download(env.server.url, attachment.url, outsider.token)).status).toBe(404);
    expect((await download(env.server.url, `/attachments/${randomBytes(8).toString('hex')}`, doctor.token)).status).toBe(404);
    const unsigned = await download(env.server.url, attachment.url, null);
    expect([unsigned.status, unsigned.json.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await download(env.server.url, attachment.url, doctor.token)).status).toBe(200);

    const { myAccessLog } = await ok(env.server.url, ACCESS_LOG, {}, patient.token);
    const reads = myAccessLog.edges.map((e: any) => e.node).filter((n: any) => n.action === 'ATTACHMENT_READ');
    expect(reads).toEqual(
      expect.arrayContaining([
        { action: 'ATTACHMENT_READ', who: { id: doctor.id }, messageId: sendMessage.id },
        { action: 'ATTACHMENT_READ', who: { id: colleague.id }, messageId: sendMessage.id },
      ]),
    );
    const outcomes = await ok(env.server.url, `query($t: ID) { auditEvents(filter: { action: "ATTACHMENT_READ", threadId: $t }, first: 20) { edges { node { actor { id } outcome } } } }`, { t: threadId }, env.world.admin.token);
    expect(outcomes.auditEvents.edges.map((e: any) => [e.node.actor.id, e.node.outcome])).toEqual(
      expect.arrayContaining([
        [colleague.id, 'SUCCESS'],
        [colleague.id, 'DENIED'],
        [doctor.id, 'SUCCESS'],
      ]),
    );
  });

  test('whoever sent a file loses it too when they leave the thread', async () => {
    const { doctor, threadId } = await consultation('Sender leaves');
    const colleague = await env.world.professional('Dr Sender Leaves Colleague');
    await env.world.addParticipants(doctor, threadId, [colleague]);
    const attachment = await uploaded(env.server.url, colleague.token, await png(), { name: 'mine.png' });
    await send(colleague, threadId, [attachment.id]);
    expect((await download(env.server.url, attachment.url, colleague.token)).status).toBe(200);
    await env.world.leave(colleague, threadId);
    expect((await download(env.server.url, attachment.url, colleague.token)).status).toBe(404);
  });

  test('the read is in the audit trail before a byte is sent: when it cannot be written, nothing is sent', async () => {
    const { doctor, patient, threadId } = await consultation('Audit first');
    const attachment = await uploaded(env.server.url, patient.token, await png(), { name: 'a.png' });
    await send(patient, threadId, [attachment.id]);
    const failing = jest.spyOn(env.server.app.uow, 'run').mockRejectedValueOnce(new Error('the audit trail is unavailable'));
    try {
      const got = await download(env.server.url, attachment.url, doctor.token);
      expect([got.status, got.json?.errors[0].extensions.code]).toEqual([500, 'INTERNAL_SERVER_ERROR']);
      // Masked, naming the request for the log's line with the cause.
      expect(got.json.errors[0]).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: got.headers.get('x-request-id') } });
      expect(got.bytes.includes('PNG')).toBe(false);
    } finally {
      failing.mockRestore();
    }
  });

  test('a download that meets a busy database answers 503 DATABASE_BUSY, as the API does, and sends nothing', async () => {
    const { doctor, patient, threadId } = await consultation('Busy');
    const attachment = await uploaded(env.server.url, patient.token, await png(), { name: 'a.png' });
    await send(patient, threadId, [attachment.id]);
    const busy = jest.spyOn(env.server.app.uow, 'run').mockRejectedValueOnce(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
    try {
      const got = await download(env.server.url, attachment.url, doctor.token);
      expect([got.status, got.json?.errors[0].extensions.code]).toEqual([503, 'DATABASE_BUSY']);
    } finally {
      busy.mockRestore();
    }
  });

  test('a patient never gets a staff-only note’s attachment', async () => {
    const { doctor, patient, threadId } = await consultation('Note');
    const attachment = await uploaded(env.server.url, doctor.token, await png(), { name: 'note.png' });
    await send(doctor, threadId, [attachment.id], 'For the team', true);
    expect((await download(env.server.url, attachment.url, patient.token)).status).toBe(404);
    expect(await codes(env.server.url, LINK, { id: attachment.id }, patient.token)).toEqual(['NOT_FOUND']);
    expect((await download(env.server.url, attachment.url, doctor.token)).status).toBe(200);
  });

  test('a signed link works without the token for 5 minutes, for that attachment only, and ends with its session', async () => {
    const { doctor, patient, threadId } = await consultation('Link');
    const [a, b] = [await uploaded(env.server.url, patient.token, await png(), { name: 'a.png' }), await uploaded(env.server.url, patient.token, await letter(), { name: 'b.pdf' })];
    await send(patient, threadId, [a.id, b.id]);
    const { attachmentLink } = await ok(env.server.url, LINK, { id: a.id }, doctor.token);
    const lifetime = new Date(attachmentLink.expiresAt).getTime() - clock.now().getTime();
    expect(lifetime > 4 * 60 * 1000 && lifetime <= 5 * 60 * 1000).toBe(true);
    expect((await download(env.server.url, attachmentLink.url, null)).status).toBe(200);

    const other = await download(env.server.url, attachmentLink.url.replace(a.id, b.id), null);
    expect([other.status, other.json.errors[0].extensions.code]).toEqual([400, 'INVALID_ATTACHMENT_LINK']);
    const forged = await download(env.server.url, `${attachmentLink.url.slice(0, -4)}AAAA`, null);
    expect(forged.json.errors[0].extensions.code).toBe('INVALID_ATTACHMENT_LINK');

    await ok(env.server.url, `mutation { signOut }`, {}, doctor.token);
    expect((await download(env.server.url, attachmentLink.url, null)).status).toBe(401);
  });
});

describe('sending and keeping', () => {
  test('a send naming someone else’s upload, one already sent, or more than five is refused whole', async () => {
    const { doctor, patient, threadId } = await consultation('Ids');
    const mine = await uploaded(env.server.url, patient.token, await png(), { name: 'mine.png' });
    const theirs = await uploaded(env.server.url, doctor.token, await png(), { name: 'theirs.png' });
    const lastSeq = async () => (await env.server.app.db.manager.findBy(Message, { threadId })).length;
    const before = await lastSeq();

    const error = await failure(env.server.url, SEND, { t: threadId, b: 'Both', a: [mine.id, theirs.id] }, patient.token);
    expect([error.extensions?.code, error.message]).toEqual(['BAD_USER_INPUT', `Attachment ${theirs.id} is not an upload of yours waiting to be sent`]);
    expect(await lastSeq()).toBe(before);
    // Nothing half-done: the patient's own upload can still be sent.
    await send(patient, threadId, [mine.id]);
    expect(await codes(env.server.url, SEND, { t: threadId, b: 'Again', a: [mine.id] }, patient.token)).toEqual(['BAD_USER_INPUT']);
    expect(await codes(env.server.url, SEND, { t: threadId, b: 'Twice', a: [theirs.id, theirs.id] }, doctor.token)).toEqual(['BAD_USER_INPUT']);
    const six = Array.from({ length: 6 }, () => theirs.id);
    expect((await failure(env.server.url, SEND, { t: threadId, b: 'Six', a: six }, doctor.token)).message).toBe('A message carries at most 5 attachments');
    expect(await codes(env.server.url, SEND, { t: threadId, b: 'Not an id', a: ['x'] }, doctor.token)).toEqual(['BAD_USER_INPUT']);
    expect(await lastSeq()).toBe(before + 1);
  });

  test('two sends racing for one upload, in two threads: exactly one gets it', async () => {
    const { doctor, patient, threadId } = await consultation('Race');
    const other = await env.world.thread(patient, [asRecipient(doctor)]);
    for (let round = 0; round < 5; round++) {
      const { id } = await uploaded(env.server.url, patient.token, await png(), { name: 'race.png' });
      const sends = await Promise.all([threadId, other].map((t) => gql(env.server.url, SEND, { t, b: 'Race', a: [id] }, patient.token)));
      expect(sends.filter((answer) => answer.data?.sendMessage).length).toBe(1);
      expect(sends.flatMap((answer) => answer.errors ?? []).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });

  test('an upload never sent is removed after a day, and the contents with it once nothing names them', async () => {
    const { patient, threadId } = await consultation('Sweep');
    const kept = await uploaded(env.server.url, patient.token, await png(41, 41), { name: 'kept.png' });
    await send(patient, threadId, [kept.id]);
    const forgotten = await uploaded(env.server.url, patient.token, await png(42, 42), { name: 'forgotten.png' });
    expect((await download(env.server.url, forgotten.url, patient.token)).status).toBe(200);

    clock.advance(23 * HOUR);
    await env.server.app.attachments.sweep();
    expect((await download(env.server.url, forgotten.url, patient.token)).status).toBe(200);
    clock.advance(2 * HOUR);
    await env.server.app.attachments.sweep();
    expect((await download(env.server.url, forgotten.url, patient.token)).status).toBe(404);
    expect(await codes(env.server.url, SEND, { t: threadId, b: 'Late', a: [forgotten.id] }, patient.token)).toEqual(['BAD_USER_INPUT']);
    expect((await download(env.server.url, kept.url, patient.token)).status).toBe(200);
    const m = env.server.app.db.manager;
    expect(await m.countBy(Attachment, { id: forgotten.id })).toBe(0);
    expect(await m.countBy(AttachmentContent, { sha256: (await m.findOneByOrFail(Attachment, { id: kept.id })).sha256 })).toBe(1);
  });

  test('contents an upload claimed within the hour are kept though nothing names them yet; once swept, their bytes are gone too', async () => {
    const app = env.server.app;
    const m = app.db.manager;
    const store = new DatabaseBlobStore({ db: app.db, uow: app.uow });
    // An upload in flight: its contents claimed and stored, the upload not yet recorded.
    const bytes = randomBytes(1000);
    const file = join(await mkdtemp(join(tmpdir(), 'attachment-')), 'in-flight');
    await writeFile(file, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await m.upsert(AttachmentContent, { sha256, size: bytes.length, touchedAt: clock.now() }, ['sha256']);
    await store.put(sha256, file, bytes.length);
    clock.advance(30 * 60 * 1000);
    await app.attachments.sweep();
    expect(await m.countBy(AttachmentContent, { sha256 })).toBe(1);
    clock.advance(HOUR);
    await app.attachments.sweep();
    expect(await m.countBy(AttachmentContent, { sha256 })).toBe(0);
    await expect(store.get(sha256)).rejects.toBeInstanceOf(BlobMissingError);
  });
});

test('with ATTACHMENTS_DIR the bytes are files there, named by their SHA-256, and nothing of them is in the database', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attachments-dir-'));
  const server = await startTestServer({ ATTACHMENTS_DIR: dir });
  try {
    const world = await World.create(server);
    const doctor = await world.professional('Dr Directory');
    const patient = await world.patient('Patient Directory');
    await world.share(patient, doctor);
    const threadId = await world.thread(patient, [asRecipient(doctor)]);
    const pdf = await letter('Kept in a directory');
    const attachment = await uploaded(server.url, patient.token, pdf, { name: 'letter.pdf' });
    await ok(server.url, SEND, { t: threadId, b: 'Letter', a: [attachment.id] }, patient.token);
    const { sha256 } = await server.app.db.manager.findOneByOrFail(Attachment, { id: attachment.id });
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(sha256);
    expect(Buffer.compare(await readFile(join(dir, sha256.slice(0, 2), sha256)), Buffer.from(pdf))).toBe(0);
    expect(Buffer.compare((await download(server.url, attachment.url, doctor.token)).bytes, Buffer.from(pdf))).toBe(0);
    const [{ n }] = await server.app.db.query(`SELECT COUNT(*) AS "n" FROM ${tablePath(server.app.db.manager, 'attachment_chunks')}`);
    expect(Number(n)).toBe(0);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
