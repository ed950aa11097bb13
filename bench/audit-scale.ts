/**
 * `npm run bench -- audit-scale`: audited throughput with instances, on
 * PostgreSQL with Redis (BENCH_PG_URL, BENCH_REDIS_URL; a schema of its own,
 * dropped after). Server processes built from dist/, measured from outside:
 * (1) sendMessage/s from WRITERS clients, each on its own thread, against one
 * instance, then spread over two on the same database; (2) reads/s of a
 * thread's messages from READERS clients, alone, then while 4 writers send,
 * then beside 4 more readers: the share of the server any 4 busy clients take,
 * which tells reads waiting for writers from reads sharing the CPU with them.
 * Each for BENCH_SECONDS, BENCH_REPEAT times, the median printed; then how long
 * the last sends took to be sealed.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ADMIN, PASSWORD, addTeamMember, createTeam, createUser, login, post, sendMessage, shareRecord, threadToTeam } from './api';
import { startCareThreadWith, type ServerProcess } from './child-process';
import { REPEAT, medians, ratio, table } from './stats';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WRITERS = 16;
const READERS = 8;
/** Writers beside the readers in the second read measurement, as the issue asks. */
const READ_WRITERS = 4;
const READ = `query($t: ID!) { thread(id: $t) { messages(first: 20) { edges { node { id body } } } } }`;

interface Sender {
  token: string;
  threadId: string;
}

/** How many times `work` completes within SECONDS, run by each of `clients` in a loop at once, per second. */
async function rate(clients: (() => Promise<unknown>)[]): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    clients.map(async (work) => {
      while (performance.now() < end) {
        await work();
        done++;
      }
    }),
  );
  return done / SECONDS;
}

/** A team of 4 professionals and `threads` patients, each with a thread to the team: a sender per thread (a professional of the team). */
async function clinic(url: string, threads: number): Promise<{ senders: Sender[]; readers: Sender[] }> {
  const admin = await login(url, ADMIN.email, ADMIN.password);
  const teamId = await createTeam(url, admin, 'Audit scale');
  const pros = [];
  for (let i = 0; i < 4; i++) {
    const email = `scale-pro${i}@bench.example`;
    await addTeamMember(url, admin, teamId, await createUser(url, admin, email, 'PROFESSIONAL', `Pro ${i}`));
    pros.push(await login(url, email, PASSWORD));
  }
  const senders: Sender[] = [];
  const readers: Sender[] = [];
  for (let i = 0; i < threads; i++) {
    const email = `scale-pat${i}@bench.example`;
    const id = await createUser(url, admin, email, 'PATIENT', `Patient ${i}`);
    const token = await login(url, email, PASSWORD);
    await shareRecord(url, { id, token }, teamId);
    const threadId = await threadToTeam(url, token, teamId, 'Readings', 'This week');
    for (let m = 0; m < 20; m++) await sendMessage(url, token, threadId, `reading ${m}`);
    senders.push({ token: pros[i % pros.length], threadId });
    readers.push({ token, threadId });
  }
  return { senders, readers };
}

/** Time from now until no audit event of the schema is left unsealed, in ms. */
async function sealingLag(pg: Client, schema: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const [{ n }] = (await pg.query(`SELECT COUNT(*)::int AS n FROM "${schema}"."audit_events" WHERE "chainSeq" IS NULL`)).rows as { n: number }[];
    if (!n) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function auditScaleBench() {
  const schema = `bench_scale_${randomBytes(4).toString('hex')}`;
  // One key for both instances, as in production.
  const key = (generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');
  const settings = (instance: string) => ({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, REDIS_URL, INSTANCE_ID: instance, AUDIT_SIGNING_KEY: key });
  const pg = new Client({ connectionString: PG_URL });
  await pg.connect();
  const servers: ServerProcess[] = [];
  try {
    // The first migrates the schema; the second starts on it.
    servers.push(await startCareThreadWith(settings('bench-one')));
    servers.push(await startCareThreadWith(settings('bench-two')));
    const [one, two] = servers;
    const { senders, readers } = await clinic(one.url, WRITERS + READERS);
    const send = (url: string, s: Sender) => () => sendMessage(url, s.token, s.threadId, 'audited send');
    const read = (s: Sender) => () => post(one.url, READ, { t: s.threadId }, s.token);
    const writerSenders = senders.slice(0, WRITERS);
    const readerThreads = readers.slice(WRITERS);

    const runs = [];
    for (let r = 0; r < REPEAT; r++) {
      const oneInstance = await rate(writerSenders.map((s) => send(one.url, s)));
      const twoInstances = await rate(writerSenders.map((s, i) => send(i % 2 ? two.url : one.url, s)));
      const lag = await sealingLag(pg, schema);
      const readsAlone = await rate(readerThreads.map(read));
      let writing = true;
      const writers = writerSenders.slice(0, READ_WRITERS).map(async (s) => {
        while (writing) await send(one.url, s)();
      });
      const readsWithWriters = await rate(readerThreads.map(read));
      writing = false;
      await Promise.all(writers);
      // The extra readers read the writers' threads (their first 20 messages: the same rows however many the writers added).
      let reading = true;
      const extraReaders = readers.slice(0, READ_WRITERS).map(async (s) => {
        while (reading) await read(s)();
      });
      const readsBesideReaders = await rate(readerThreads.map(read));
      reading = false;
      await Promise.all(extraReaders);
      runs.push({ oneInstance, twoInstances, lag, readsAlone, readsWithWriters, readsBesideReaders });
    }
    const m = medians(runs);
    console.log(
      `audit with instances (PostgreSQL + Redis, ${SECONDS} s each, median of ${REPEAT})\n` +
        table(
          ['', 'per second', 'ratio'],
          [
            [`sendMessage, ${WRITERS} writers, one instance (reference)`, m.oneInstance.toFixed(0), ''],
            [`sendMessage, ${WRITERS} writers, two instances on one database`, m.twoInstances.toFixed(0), ratio(m.twoInstances, m.oneInstance)],
            [`thread messages read, ${READERS} readers alone (reference)`, m.readsAlone.toFixed(0), ''],
            [`thread messages read, ${READERS} readers while ${READ_WRITERS} writers send`, m.readsWithWriters.toFixed(0), ratio(m.readsWithWriters, m.readsAlone)],
            [`thread messages read, ${READERS} readers beside ${READ_WRITERS} more readers (control)`, m.readsBesideReaders.toFixed(0), ratio(m.readsBesideReaders, m.readsAlone)],
          ],
        ) +
        `\n  every send sealed ${m.lag.toFixed(0)} ms after the last one returned\n`,
    );
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  }
}
