import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attachment } from '../src/modules/attachments/attachment.entity';
import { AttachmentContent } from '../src/modules/attachments/attachment-content.entity';
import { tooManyRequests } from '../src/errors';
import { User } from '../src/modules/users/user.entity';
import { HOUR, TestClock } from './support/clock';
import { startTestServer } from './support/server';
import { attachmentsUrl, consultation as consultationOf, gif, letter, photoWithLocation, png, upload } from './support/uploads';
import { useWorld, World } from './support/world';

// Uploads the server refuses, over real HTTP: each answers a coded error,
// as early as it can (before reading the body when the headers say enough),
// and leaves nothing stored and no temporary file behind.

const MAX_BYTES = 300_000;
const env = useWorld({ ATTACHMENT_MAX_BYTES: String(MAX_BYTES) });
const consultation = (label: string) => consultationOf(env.world, label);

const rows = () => env.server.app.db.manager.count(Attachment);
const contents = () => env.server.app.db.manager.count(AttachmentContent);
const BOUNDARY = 'carethread-test-boundary';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const partHead = (name = 'a.png') => Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`);

/** Sends the headers and `body` of a POST /attachments, and no more: `answer` is the server's, or 'gone' once `req` is destroyed. */
function post(token: string | null, headers: Record<string, string | number>, body: Buffer) {
  const req = request(attachmentsUrl(env.server.url), { method: 'POST', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  const written = new Promise<void>((resolve) => req.write(body, () => resolve()));
  return { req, answer, written };
}

async function refused(answer: Promise<{ status: number; body: any }>, status: number, code: string) {
  const before = [await rows(), await contents()];
  const { status: got, body } = await answer;
  expect([got, body.errors[0].extensions.code]).toEqual([status, code]);
  expect(body.errors[0].message).not.toMatch(/\bat .*\.ts:\d+/);
  expect([await rows(), await contents()]).toEqual(before);
}

test('too large, a type outside the allowlist, a file lying about its type, a PDF with a script, no sign-in', async () => {
  const { patient } = await consultation('Refused');
  await refused(upload(env.server.url, patient.token, randomBytes(MAX_BYTES + 1), { name: 'big.png', type: 'image/png' }), 413, 'ATTACHMENT_TOO_LARGE');
  await refused(upload(env.server.url, patient.token, await gif(), { name: 'anim.gif' }), 415, 'ATTACHMENT_TYPE_NOT_ALLOWED');
  await refused(upload(env.server.url, patient.token, Buffer.from('<html><script>alert(1)</script></html>'), { name: 'page.html' }), 415, 'ATTACHMENT_TYPE_NOT_ALLOWED');
  await refused(upload(env.server.url, patient.token, await png(), { name: 'scan.pdf', type: 'application/pdf' }), 415, 'ATTACHMENT_TYPE_MISMATCH');
  await refused(upload(env.server.url, patient.token, await letter('Open me', true), { name: 'letter.pdf' }), 422, 'ATTACHMENT_UNSAFE');
  await refused(upload(env.server.url, patient.token, (await photoWithLocation()).subarray(0, 400), { name: 'cut.jpg' }), 422, 'ATTACHMENT_UNREADABLE');
  await refused(upload(env.server.url, null, await png(), { name: 'a.png' }), 401, 'UNAUTHENTICATED');
  const plain = fetch(attachmentsUrl(env.server.url), { method: 'POST', body: await png(), headers: { authorization: `Bearer ${patient.token}`, 'content-type': 'image/png' } }).then(async (r) => ({ status: r.status, body: await r.json() }));
  await refused(plain, 415, 'UPLOAD_NOT_MULTIPART');
});


test('a request announcing more than the limit is refused before a byte of it is read (413)', async () => {
  const { patient } = await consultation('Announced');
  const { req, answer } = post(patient.token, { 'content-type': MULTIPART, 'content-length': MAX_BYTES + 65 * 1024 + 1 }, Buffer.alloc(0));
  await refused(answer, 413, 'ATTACHMENT_TOO_LARGE');
  req.destroy();
});

test('the whole request counts, not only the file: a long preamble before the file part is refused (413)', async () => {
  const { patient } = await consultation('Preamble');
  const body = Buffer.concat([Buffer.alloc(MAX_BYTES + 70 * 1024, 'x'), Buffer.from('\r\n'), partHead(), await png(), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
  // A stream: no Content-Length announced.
  const sent = fetch(attachmentsUrl(env.server.url), {
    method: 'POST',
    body: new Blob([body]).stream(),
    duplex: 'half',
    headers: { authorization: `Bearer ${patient.token}`, 'content-type': MULTIPART },
  } as RequestInit).then(async (res) => ({ status: res.status, body: await res.json() }));
  await refused(sent, 413, 'ATTACHMENT_TOO_LARGE');
});

test('no bearer token, or an account past its allowance, is answered before the file is read', async () => {
  const { patient } = await consultation('Early');
  const headers = { 'content-type': MULTIPART, 'content-length': 200_000 };
  const anonymous = post(null, headers, partHead());
  await refused(anonymous.answer, 401, 'UNAUTHENTICATED');
  anonymous.req.destroy();
  const spy = jest.spyOn(env.server.app.attachments, 'checkAllowance').mockRejectedValue(tooManyRequests('wait'));
  try {
    const waiting = post(patient.token, headers, partHead());
    await refused(waiting.answer, 429, 'TOO_MANY_REQUESTS');
    waiting.req.destroy();
  } finally {
    spy.mockRestore();
  }
});

test('an upload whose body ends before the file does is refused as incomplete; one whose client goes away stores nothing and leaves no temporary file', async () => {
  const { patient } = await consultation('Cut');
  const file = await png(37, 23);
  // The part's closing boundary never comes.
  const cut = Buffer.concat([partHead(), file]);
  const ended = post(patient.token, { 'content-type': MULTIPART, 'content-length': cut.length }, cut);
  ended.req.end();
  await refused(ended.answer, 400, 'UPLOAD_INCOMPLETE');

  const before = [await rows(), await contents()];
  const uploading = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('carethread-upload-'));
  const earlier = new Set(await uploading());
  const left = post(patient.token, { 'content-type': MULTIPART, 'content-length': cut.length + 1000 }, cut);
  left.answer.catch(() => undefined);
  await left.written;
  // Other runs on this machine upload too: ours is the folder receiving these bytes.
  const received = async (name: string) => readFile(join(tmpdir(), name, 'received')).catch(() => Buffer.alloc(0));
  let ours: string[] = [];
  for (let i = 0; i < 80 && ours.length !== 1; i++) {
    ours = [];
    for (const name of (await uploading()).filter((n) => !earlier.has(n))) if ((await received(name)).equals(file)) ours.push(name);
    if (ours.length !== 1) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(ours).toHaveLength(1);
  left.req.destroy();
  for (let i = 0; i < 80 && existsSync(join(tmpdir(), ours[0])); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(existsSync(join(tmpdir(), ours[0]))).toBe(false);
  expect([await rows(), await contents()]).toEqual(before);
});

test('ATTACHMENT_DAILY_BYTES: exactly the allowance may be uploaded in 24 hours, then 429 for that account only, until a day has passed', async () => {
  const clock = new TestClock();
  const server = await startTestServer({ ATTACHMENT_DAILY_BYTES: '4096' }, { clock });
  try {
    const world = await World.create(server);
    const [busy, other] = [await world.patient('Busy Uploader'), await world.patient('Other Uploader')];
    const bytes = await letter('A letter uploaded again and again');
    const first = await upload(server.url, busy.token, bytes, { name: 'first.pdf' });
    const sizes: number[] = [];
    let answer = first;
    for (; answer.status === 201; answer = await upload(server.url, busy.token, bytes, { name: 'again.pdf' })) sizes.push(answer.body.size);
    expect([answer.status, answer.body.errors[0].extensions.code]).toEqual([429, 'TOO_MANY_REQUESTS']);
    expect(sizes.length).toBe(Math.floor(4096 / bytes.length));
    expect((await upload(server.url, other.token, bytes, { name: 'mine.pdf' })).status).toBe(201);

    // At the boundary: what is left is allowed, one byte more is not.
    const account = await server.app.db.manager.findOneByOrFail(User, { id: busy.id });
    const left = 4096 - sizes.reduce((sum, size) => sum + size, 0);
    await expect(server.app.attachments.checkAllowance(server.app.db.manager, account, left)).resolves.toBeUndefined();
    await expect(server.app.attachments.checkAllowance(server.app.db.manager, account, left + 1)).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_REQUESTS' } });

    clock.advance(23 * HOUR);
    expect((await upload(server.url, busy.token, bytes, { name: 'later.pdf' })).status).toBe(429);
    clock.advance(HOUR + 60_000);
    expect((await upload(server.url, busy.token, bytes, { name: 'next-day.pdf' })).status).toBe(201);
  } finally {
    await server.close();
  }
});
