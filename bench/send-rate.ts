/**
 * `npm run bench -- sendrate` (issue 16, 6a): sendMessage/s through the API,
 * a professional writing to another, with BENCH_SEND_CONCURRENCY requests in
 * flight, next to the bare server of bench/bare-send.ts running the same SQL in
 * one transaction per POST on a copy of the same database; the two take turns
 * in each repetition. Both are child processes, so their CPU per send is theirs.
 * Then what CareThread spends on a request before any send: the same number
 * of `{ __typename }` (HTTP, GraphQL over HTTP, the pipeline; no sign-in) and of
 * `{ me { id } }` (the token and the session's statement as well). And the same
 * sends to a CareThread with notifications on (SMTP_URL=log): what scheduling
 * them costs a send (the reader's notification is due only after the run).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ADMIN, PASSWORD, createUser, login, post, sendMessage } from './api';
import { startBareSend, startCareThread, type ServerProcess } from './child-process';
import { REPEAT, medians, ratio, table } from './stats';

const SENDS = Number(process.env.BENCH_SENDS ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_SEND_CONCURRENCY ?? 8);

interface SendFigures extends Record<string, number> {
  sendsPerSecond: number;
  cpuMsPerSend: number;
}

/** SENDS requests made by `request(i)`, CONCURRENCY at a time: the rate and the server's CPU per request. */
async function measure(server: ServerProcess, request: (i: number) => Promise<unknown>): Promise<SendFigures> {
  let next = 0;
  const cpu0 = server.cpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SENDS) await request(next++);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { sendsPerSecond: SENDS / seconds, cpuMsPerSend: ((server.cpuSeconds() - cpu0) * 1000) / SENDS };
}

/** A professional's thread with another on `server`: the sender's token and the thread. */
async function senderThread(server: ServerProcess): Promise<{ token: string; threadId: string }> {
  const admin = await login(server.url, ADMIN.email, ADMIN.password);
  await createUser(server.url, admin, 'sender@bench.example', 'PROFESSIONAL', 'Sender');
  const to = await createUser(server.url, admin, 'reader@bench.example', 'PROFESSIONAL', 'Reader');
  const token = await login(server.url, 'sender@bench.example', PASSWORD);
  const { createThread } = await post(server.url, `mutation($to: ID!) { createThread(subject: "Rate", body: "first", recipients: [{ userId: $to }]) { id } }`, { to }, token);
  return { token, threadId: createThread.id };
}

export async function sendRateScenario(): Promise<void> {
  const careThread = await startCareThread();
  const notifying = await startCareThread({ SMTP_URL: 'log' });
  const { token, threadId } = await senderThread(careThread);
  const notified = await senderThread(notifying);
  // The same rows (and the sender's session) for the bare server: an online backup of the live file.
  const copy = join(mkdtempSync(join(tmpdir(), 'carethread-bare-send-')), 'bare.sqlite');
  const source = new Database(careThread.databasePath, { fileMustExist: true });
  await source.backup(copy);
  source.close();
  const bare = await startBareSend(copy);

  const send = (server: ServerProcess, to = { token, threadId }) => (i: number) => sendMessage(server.url, to.token, to.threadId, `Message ${i}`);
  const runs: Record<'bare' | 'careThread' | 'notifying' | 'typename' | 'me', SendFigures>[] = [];
  for (let r = 0; r < REPEAT; r++) {
    runs.push({
      bare: await measure(bare, send(bare)),
      careThread: await measure(careThread, send(careThread)),
      notifying: await measure(notifying, send(notifying, notified)),
      typename: await measure(careThread, () => post(careThread.url, '{ __typename }')),
      me: await measure(careThread, () => post(careThread.url, '{ me { id } }', {}, token)),
    });
  }
  const figuresOf = (key: keyof (typeof runs)[number]) => medians(runs.map((run) => run[key]));
  const figures = { careThread: figuresOf('careThread'), bare: figuresOf('bare'), notifying: figuresOf('notifying') };
  const cells = (f: SendFigures) => [f.sendsPerSecond.toFixed(0), f.cpuMsPerSend.toFixed(2)];
  console.log(`sendMessage/s (${SENDS} sends, ${CONCURRENCY} in flight), median of ${REPEAT}`);
  console.log(
    table(
      ['server', 'sends/s', 'CPU ms/send'],
      [
        ['bare node:http + better-sqlite3 (reference)', ...cells(figures.bare)],
        ['CareThread', ...cells(figures.careThread)],
        ['ratio', ratio(figures.careThread.sendsPerSecond, figures.bare.sendsPerSecond), ratio(figures.careThread.cpuMsPerSend, figures.bare.cpuMsPerSend)],
        ['CareThread, notifications on (SMTP_URL=log)', ...cells(figures.notifying)],
        ['ratio', ratio(figures.notifying.sendsPerSecond, figures.bare.sendsPerSecond), ratio(figures.notifying.cpuMsPerSend, figures.bare.cpuMsPerSend)],
      ],
    ),
  );
  console.log(
    table(
      ['CareThread, before any send', 'requests/s', 'CPU ms/request'],
      [
        ['{ __typename }: HTTP and the pipeline', ...cells(figuresOf('typename'))],
        ['{ me { id } }: and the token and session', ...cells(figuresOf('me'))],
      ],
    ),
  );
  console.log();
  await Promise.all([careThread.stop(), notifying.stop(), bare.stop()]);
}
