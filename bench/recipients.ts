/**
 * `npm run bench -- recipients`: the recipient drop-down at 1,000 and 10,000 professionals
 * (BENCH_RECIPIENT_SIZES) in one organisation, then with 10 organisations of 1,000 professionals
 * each (BENCH_RECIPIENT_ORGANISATIONS), the callers in one of them. Each organisation's directory is
 * loaded by the directory import (`npm run import`'s DirectoryImport), as its own admin: 1,000 teams
 * of which 300 auto-CC, every professional in one team, a tenth as many patients as professionals
 * each sharing with a team, a patient caller sharing with 50 (25 teams, 25 professionals) and a
 * professional caller in an auto-CC team and a plain one. For each caller, without and with a search:
 * p50 and p99 of BENCH_ITERATIONS requests, and the SQL statements per request (the caller's sign-in
 * check included). Median of BENCH_REPEAT.
 */
import { hashPassword } from '../src/modules/auth/password';
import type { Directory } from '../src/modules/directory/directory-file';
import type { App } from '../src/app';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { User } from '../src/modules/users/user.entity';
import { QueryCounter } from '../test/support/query-counter';
import { ADMIN, PASSWORD, login, post } from './api';
import { startInProcess } from './in-process-server';
import { REPEAT, median, medians, quantile, table } from './stats';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const SIZES = (process.env.BENCH_RECIPIENT_SIZES ?? '1000,10000').split(',').map(Number);
const ORGANISATIONS = Number(process.env.BENCH_RECIPIENT_ORGANISATIONS ?? 10);
/** One organisation of each size, then ORGANISATIONS of 1,000 (none when it is 0 or 1). */
const CASES = [...SIZES.map((size) => ({ organisations: 1, size })), ...(ORGANISATIONS > 1 ? [{ organisations: ORGANISATIONS, size: 1_000 }] : [])];
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

/** An organisation's directory of `professionals` staff (`domain` in their e-mails), with the two callers (who sign in with PASSWORD) if `callers`. */
async function directory(professionals: number, domain: string, callers: boolean): Promise<Directory> {
  const hash = await hashPassword(PASSWORD, 10);
  const team = (i: number) => `${LAST[i % LAST.length]} ${i < AUTO_CC_TEAMS ? 'Unit' : 'Ward'} ${i}`;
  const pros = Array.from({ length: professionals }, (_, i) => ({ where: '', email: `pro${i}@${domain}`, name: name(i), passwordHash: null, contactable: i % 10 !== 9, isAdmin: false }));
  const patients = Array.from({ length: professionals / 10 }, (_, i) => ({ where: '', email: `patient${i}@${domain}`, name: `Patient ${name(i + 7)}`, passwordHash: null }));
  const teams = Array.from({ length: TEAMS }, (_, i) => ({ where: '', name: team(i), autoCc: i < AUTO_CC_TEAMS, members: [] as { where: string; email: string }[] }));
  pros.forEach((p, i) => teams[i % TEAMS].members.push({ where: '', email: p.email }));
  const shares = patients.map((p, i) => ({ where: '', patient: p.email, team: team(i % TEAMS) }));
  if (!callers) return { professionals: pros, patients, teams, shares };
  teams[0].members.push({ where: '', email: 'caller.pro@bench.example' });
  teams[AUTO_CC_TEAMS].members.push({ where: '', email: 'caller.pro@bench.example' });
  return {
    professionals: [...pros, { where: '', email: 'caller.pro@bench.example', name: 'Caller Professional', passwordHash: hash, contactable: true, isAdmin: false }],
    patients: [...patients, { where: '', email: 'caller.patient@bench.example', name: 'Caller Patient', passwordHash: hash }],
    teams,
    shares: [
      ...shares,
      // The patient caller's 50: ten auto-CC teams, fifteen plain ones, and 25 professionals directly.
      ...Array.from({ length: 25 }, (_, i) => ({ where: '', patient: 'caller.patient@bench.example', team: team(i < 10 ? i * 7 : AUTO_CC_TEAMS + i * 13) })),
      ...Array.from({ length: 25 }, (_, i) => ({ where: '', patient: 'caller.patient@bench.example', professional: `pro${(i * 397) % professionals}@${domain}` })),
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
  for (const { organisations, size } of CASES) {
    const counter = new QueryCounter();
    const server = await startInProcess(undefined, { queryLogger: counter });
    const t0 = performance.now();
    await importOrganisations(server.url, server.app, organisations, size);
    const importSeconds = (performance.now() - t0) / 1000;
    const label = organisations > 1 ? `${organisations} x ${size.toLocaleString('en')}` : size.toLocaleString('en');
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
        rows.push([label, caller, search ? `"${search}"` : '-', m.p50.toFixed(2), m.p99.toFixed(2), m.statements.toFixed(1)]);
      }
    }
    console.log(`directory of ${label} professionals imported in ${importSeconds.toFixed(1)} s`);
    await server.close();
  }
  console.log(
    `recipients drop-down (${ITERATIONS} requests per case, median of ${REPEAT}; goals: p99 <= 10 ms at 1,000, <= 20 ms at 10,000)\n` +
      `${table(['professionals (organisations x each)', 'caller', 'search', 'p50 ms', 'p99 ms', 'statements'], rows)}\n`,
  );
}

/**
 * `organisations` directories of `size` professionals: the first in the start-up admin's
 * organisation, with the callers when it is the only one; each other in an organisation of its
 * own, made by the platform admin and imported by its first admin, the callers in the last.
 */
async function importOrganisations(url: string, app: App, organisations: number, size: number): Promise<void> {
  const platformAdmin = await login(url, ADMIN.email, ADMIN.password);
  for (let k = 0; k < organisations; k++) {
    let admin = await app.db.manager.findOneByOrFail(User, { email: ADMIN.email });
    if (k > 0) {
      const firstAdmin = { email: `admin@org${k}.bench.example`, name: `Admin ${k}`, password: PASSWORD };
      await post(url, `mutation($n: String!, $a: FirstAdminInput!) { createOrganisation(name: $n, autoCcAllowed: true, firstAdmin: $a) { id } }`, { n: `Organisation ${k}`, a: firstAdmin }, platformAdmin);
      admin = await app.db.manager.findOneByOrFail(User, { email: firstAdmin.email });
    }
    await new DirectoryImport({ uow: app.uow }).run(admin, await directory(size, `org${k}.bench.example`, k === organisations - 1));
  }
}
