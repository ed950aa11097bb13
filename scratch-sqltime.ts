// scratch: per-SQL native time during N sends, in-process, SQLite file (WAL)
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const times = new Map<string, { n: number; ns: bigint }>();
const proto = (Database as any).prototype;
const origPrepare = proto.prepare;
proto.prepare = function (sql: string) {
  const stmt = origPrepare.call(this, sql);
  for (const m of ['run', 'all', 'get']) {
    const f = stmt[m].bind(stmt);
    stmt[m] = (...a: unknown[]) => { const t = process.hrtime.bigint(); try { return f(...a); } finally { const k = sql.replace(/\s+/g, ' ').slice(0, 110); const e = times.get(k) ?? { n: 0, ns: 0n }; e.n++; e.ns += process.hrtime.bigint() - t; times.set(k, e); } };
  }
  return stmt;
};
let prepares = 0; const p2 = proto.prepare; proto.prepare = function (sql: string) { prepares++; return p2.call(this, sql); };
import { startTestServer } from './test/support/server';
import { World, asRecipient } from './test/support/world';
(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlt-'));
  const server = await startTestServer({ DATABASE_URL: `sqlite:${join(dir, 'x.sqlite')}` });
  const world = await World.create(server);
  const a = await world.professional('A'); const b = await world.professional('B');
  const threadId = await world.thread(a, [asRecipient(b)]);
  for (let i = 0; i < 200; i++) await world.send(a, threadId, 'warm');
  times.clear(); prepares = 0;
  const N = 2000; const t0 = process.hrtime.bigint(); const cpu0 = process.cpuUsage();
  let next = 0; await Promise.all(Array.from({ length: 8 }, async () => { while (next++ < N) await world.send(a, threadId, 'hello'); }));
  const cpu = process.cpuUsage(cpu0); const el = Number(process.hrtime.bigint() - t0) / 1e6;
  let tot = 0n; for (const v of times.values()) tot += v.ns;
  console.log(`elapsed ${el.toFixed(0)} ms, cpu/send ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms (client incl), sql native/send ${(Number(tot) / 1e6 / N).toFixed(3)} ms, prepares ${prepares}`);
  for (const [k, v] of [...times].sort((x, y) => Number(y[1].ns - x[1].ns)).slice(0, 25)) console.log(`${(Number(v.ns) / 1e3 / N).toFixed(1).padStart(7)} us/send ${String(v.n).padStart(6)} ${k}`);
  await server.close();
})();
