/** `npm run bench -- audit`: how long the audit chain's verification takes. */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { withOrigin } from '../src/common/request-origin';
import { AuditAction } from '../src/modules/audit/audit-action';
import type { AuditEntry } from '../src/modules/audit/audit-entry';
import { verifyChain } from '../src/modules/audit/audit-verify';
import { User } from '../src/modules/users/user.entity';
import { ADMIN, PASSWORD, addTeamMember, createTeam, createUser, login, shareRecord, threadToTeam } from './api';
import { startInProcess } from './in-process-server';

const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 100_000);
const AUDIT_BATCH = 1_000;

/**
 * How long `npm run audit:verify` takes on AUDIT_EVENTS events: written through
 * AuditService.record (so shaped like the server's, and sealed by its sealer), 1,000 per
 * transaction, into a SQLite file (or BENCH_AUDIT_DATABASE_URL=postgres://...,
 * in a schema dropped after). A clinic of 40 professionals and 20 patients in
 * 20 threads; the events are mostly reads, sends and live deliveries, as in use.
 */
export async function auditVerifyBench() {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-bench-'));
  const pgUrl = process.env.BENCH_AUDIT_DATABASE_URL;
  const schema = pgUrl ? `bench_audit_${randomBytes(4).toString('hex')}` : null;
  const file = join(dir, 'audit.sqlite');
  const server = await startInProcess(pgUrl ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema! } : { DATABASE_URL: `sqlite:${file}` });
  try {
    const url = server.url;
    const admin = await login(url, ADMIN.email, ADMIN.password);
    const person = async (i: number, kind: 'PROFESSIONAL' | 'PATIENT') => {
      const email = `${kind.toLowerCase()}${i}@audit.bench.example`;
      const id = await createUser(url, admin, email, kind, `${kind} ${i}`);
      return { id, token: kind === 'PATIENT' ? await login(url, email, PASSWORD) : '' };
    };
    const pros = [];
    for (let i = 0; i < 40; i++) pros.push(await person(i, 'PROFESSIONAL'));
    const teamId = await createTeam(url, admin, 'Audit bench');
    for (const pro of pros.slice(0, 5)) await addTeamMember(url, admin, teamId, pro.id);
    const threads: string[] = [];
    for (let i = 0; i < 20; i++) {
      const pat = await person(i, 'PATIENT');
      await shareRecord(url, pat, teamId);
      threads.push(await threadToTeam(url, pat.token, teamId, 'Readings', 'This week'));
    }
    const users = await server.app.db.manager.find(User);
    const staff = users.filter((u) => u.kind === 'PROFESSIONAL').slice(0, 6);
    const patients = users.filter((u) => u.kind === 'PATIENT');
    const entry = (n: number): AuditEntry => {
      const t = n % threads.length;
      const [threadId, patient, pro] = [threads[t], patients[t], staff[n % staff.length]];
      switch (n % 8) {
        case 0:
          return { actor: n % 16 ? pro : patient, action: AuditAction.MessageSent, threadId, messageId: randomUUID() };
        case 1:
          return { actor: pro, action: AuditAction.MessageDelivered, threadId, messageId: randomUUID(), recipientIds: [patient.id, ...staff.slice(0, 4).map((u) => u.id)] };
        case 2:
          return { actor: patient, action: AuditAction.ThreadRead, threadId };
        case 3:
          return { actor: pro, action: AuditAction.ThreadMarkedRead, threadId };
        case 4:
          return { actor: staff[(n + 1) % staff.length], action: AuditAction.ThreadRead, threadId, ...(n % 40 === 4 ? { denied: 'NOT_FOUND: Thread not found' } : {}) };
        default:
          return { actor: pro, action: AuditAction.ThreadRead, threadId };
      }
    };
    const { publicKey } = server.app.auditSealer;
    await server.app.auditSealer.sealAll(true);
    const before = (await verifyChain(server.app.db, { publicKey })).events;
    const t0 = performance.now();
    for (let n = 0; n < AUDIT_EVENTS; n += AUDIT_BATCH) {
      const batch = Array.from({ length: Math.min(AUDIT_BATCH, AUDIT_EVENTS - n) }, (_, k) => entry(n + k));
      const origin = { requestId: randomUUID(), ip: `10.0.${(n / AUDIT_BATCH) % 256}.7`, userAgent: 'Mozilla/5.0 (CareThread bench)' };
      await withOrigin(origin, () => server.app.uow.run((tx) => tx.audit(...batch)));
    }
    const written = performance.now() - t0;
    const t2 = performance.now();
    // The sealer seals as they are written; this seals what it has not reached yet.
    await server.app.auditSealer.sealAll(true);
    const sealed = performance.now() - t2;

    const t1 = performance.now();
    const report = await verifyChain(server.app.db, { publicKey });
    const verified = performance.now() - t1;
    if (report.broken || report.checkpointProblem || report.events !== before + AUDIT_EVENTS) throw new Error(`unexpected report ${JSON.stringify(report)}`);
    const where = pgUrl ? 'PostgreSQL' : `SQLite file, ${(statSync(file).size / 1e6).toFixed(0)} MB`;
    console.log(
      `audit chain verification (${report.events.toLocaleString('en')} events, ${where})\n` +
        `  verifyChain: ${(verified / 1000).toFixed(2)} s, ${Math.round(report.events / (verified / 1000)).toLocaleString('en')} events/s\n` +
        `  writing them through AuditService.record, ${AUDIT_BATCH} per transaction: ${(written / 1000).toFixed(2)} s, ` +
        `then sealing those the sealer had not reached: ${(sealed / 1000).toFixed(2)} s\n`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    if (schema) {
      const client = new Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}
