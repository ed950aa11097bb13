/**
 * `npm run bench -- recipients`: the recipient drop-down at 1,000 and 10,000 professionals
 * (BENCH_RECIPIENT_SIZES), each directory loaded by the directory import (`npm run import`'s
 * DirectoryImport): 1,000 teams of which 300 auto-CC, every professional in one team, a tenth as many
 * patients as professionals each sharing with a team, a patient caller sharing with 50 (25 teams, 25
 * professionals) and a professional caller in an auto-CC team and a plain one. For each caller, without
 * and with a search: p50 and p99 of BENCH_ITERATIONS requests, and the SQL statements per request
 * (the caller's sign-in check included). Median of BENCH_REPEAT.
 */
import { hashPassword } from '../src/modules/auth/password';
import type { Directory } from '../src/modules/directory/directory-file';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { User } from '../src/modules/users/user.entity';
import { QueryCounter } from '../test/support/query-counter';
import { ADMIN, PASSWORD, login, post } from './api';
import { startInProcess } from './in-process-server';
import { REPEAT, median, medians, quantile, table } from './stats';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const SIZES = (process.env.BENCH_RECIPIENT_SIZES ?? '1000,10000').split(',').map(Number);
const TEAMS = 1_000;
const AUTO_CC_TEAMS = 300;

const FIRST = ['Anna', 'Zoë', 'Élodie', 'Marc', 'Jürgen', 'Li', 'Fatima', 'José', 'Ingrid', 'Tomás', 'Aoife', 'Kwame', 'Marie', 'Ömer', 'Saanvi', 'Noah'];
const LAST = ['Martin', 'Ångström', 'Dubois', 'Müller', 'Okafor', 'Nguyen', 'García', 'Kowalski', 'Smith', 'Rossi', 'Sato', 'Öztürk', 'Murphy', 'Lindqvist', 'Mbeki', 'Marchetti'];
const name = (i: number) => `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i}`;

const QUERY = `query($search: String) {
  recipients(search: $search) {
    __typename
    ... on TeamRecipient { reachCount team { id name } members { id name } }
    ... on UserRecipient { user { id name } }
  }
}`;

/** The directory of `professionals` staff, with the two callers (who sign in with PASSWORD). */
async function directory(professionals: number): Promise<Directory> {
  const hash = await hashPassword(PASSWORD, 10);
  const team = (i: number) => `${LAST[i % LAST.length]} ${i < AUTO_CC_TEAMS ? 'Unit' : 'Ward'} ${i}`;
  const pros = Array.from({ length: professionals }, (_, i) => ({ where: '', email: `pro${i}@bench.example`, name: name(i), passwordHash: null, contactable: i % 10 !== 9, isAdmin: false }));
  const patients = Array.from({ length: professionals / 10 }, (_, i) => ({ where: '', email: `patient${i}@bench.example`, name: `Patient ${name(i + 7)}`, passwordHash: null }));
  const teams = Array.from({ length: TEAMS }, (_, i) => ({ where: '', name: team(i), autoCc: i < AUTO_CC_TEAMS, members: [] as { where: string; email: string }[] }));
  pros.forEach((p, i) => teams[i % TEAMS].members.push({ where: '', email: p.email }));
  teams[0].members.push({ where: '', email: 'caller.pro@bench.example' });
  teams[AUTO_CC_TEAMS].members.push({ where: '', email: 'caller.pro@bench.example' });
  return {
    professionals: [...pros, { where: '', email: 'caller.pro@bench.example', name: 'Caller Professional', passwordHash: hash, contactable: true, isAdmin: false }],
    patients: [...patients, { where: '', email: 'caller.patient@bench.example', name: 'Caller Patient', passwordHash: hash }],
    teams,
    shares: [
      ...patients.map((p, i) => ({ where: '', patient: p.email, team: team(i % TEAMS) })),
      // The patient caller's 50: ten auto-CC teams, fifteen plain ones, and 25 professionals directly.
      ...Array.from({ length: 25 }, (_, i) => ({ where: '', patient: 'caller.patient@bench.example', team: team(i < 10 ? i * 7 : AUTO_CC_TEAMS + i * 13) })),
      ...Array.from({ length: 25 }, (_, i) => ({ where: '', patient: 'caller.patient@bench.example', professional: `pro${(i * 397) % professionals}@bench.example` })),
    ],
  };
}

interface Figures extends Record<string, number> {
  p50: number;
  p99: number;
  statements: number;
}

export async function recipientsBench() {
  const rows: string[][] = [];
  for (const size of SIZES) {
    const counter = new QueryCounter();
    const server = await startInProcess(undefined, { queryLogger: counter });
    const admin = await server.app.db.manager.findOneByOrFail(User, { email: ADMIN.email });
    const t0 = performance.now();
    await new DirectoryImport({ uow: server.app.uow }).run(admin, await directory(size));
    const importSeconds = (performance.now() - t0) / 1000;
    const callers = {
      professional: await login(server.url, 'caller.pro@bench.example', PASSWORD),
      patient: await login(server.url, 'caller.patient@bench.example', PASSWORD),
    };
    for (const [caller, token] of Object.entries(callers)) {
      for (const search of [null, 'mar']) {
        const request = () => post(server.url, QUERY, { search }, token);
        for (let i = 0; i < 20; i++) await request();
        const runs: Figures[] = [];
        for (let r = 0; r < REPEAT; r++) {
          const times: number[] = [];
          counter.reset();
          for (let i = 0; i < ITERATIONS; i++) {
            const start = performance.now();
            await request();
            times.push(performance.now() - start);
          }
          runs.push({ p50: median(times), p99: quantile(times, 0.99), statements: counter.count / ITERATIONS });
        }
        const m = medians(runs);
        rows.push([size.toLocaleString('en'), caller, search ? `"${search}"` : '-', m.p50.toFixed(2), m.p99.toFixed(2), m.statements.toFixed(1)]);
      }
    }
    console.log(`directory of ${size.toLocaleString('en')} professionals imported in ${importSeconds.toFixed(1)} s`);
    await server.close();
  }
  console.log(
    `recipients drop-down (${ITERATIONS} requests per case, median of ${REPEAT}; goals: p99 <= 10 ms at 1,000, <= 20 ms at 10,000)\n` +
      `${table(['professionals', 'caller', 'search', 'p50 ms', 'p99 ms', 'statements'], rows)}\n`,
  );
}
