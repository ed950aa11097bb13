/**
 * `npm run bench -- fanout`: CareThread's live delivery against the bare
 * broadcast (bench/bare-broadcast.ts) at N = 10, 100, 1000 subscribers
 * (BENCH_FANOUT_SIZES), M = 200 messages (BENCH_MESSAGES), each repetition
 * measuring one then the other.
 */
import { randomUUID } from 'node:crypto';
import { careClinic } from './care-clinic';
import { startBareBroadcast, startCareThread } from './child-process';
import { Fanout, type FanoutFigures, type FanoutTarget } from './fanout-measure';
import { REPEAT, medians, ratio, table } from './stats';
import { subscribeToBare, subscribeToCareThread } from './subscribers';

export const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '10,100,1000').split(',').map(Number);

export const FIGURES_HEADER = ['N', 'server', 'CPU/delivery', 'deliveries/s', 'p50', 'p99'];

export const figureCells = (f: FanoutFigures) => [
  `${f.cpuPerDeliveryUs.toFixed(1)} us`,
  f.deliveriesPerSecond.toFixed(0),
  `${f.p50Ms.toFixed(1)} ms`,
  `${f.p99Ms.toFixed(1)} ms`,
];

export const ratioCells = (f: FanoutFigures, reference: FanoutFigures) => (Object.keys(f) as (keyof FanoutFigures)[]).map((k) => ratio(f[k], reference[k]));

export async function fanoutScenario(): Promise<void> {
  const server = await startCareThread();
  try {
    const clinic = await careClinic(server, Math.max(...SIZES));
    const rows: string[][] = [];
    for (const n of SIZES) {
      const [care, bare] = await againstBare(await clinic.teamThread(n), clinic.pros.slice(0, n).map((pro) => pro.token));
      rows.push(
        [String(n), 'CareThread', ...figureCells(care)],
        [String(n), 'bare broadcast', ...figureCells(bare)],
        [String(n), 'ratio', ...ratioCells(care, bare)],
      );
    }
    console.log(`fan-out: M = ${MESSAGES} messages to N subscribers, median of ${REPEAT}\n${table(FIGURES_HEADER, rows)}\n`);
  } finally {
    await server.stop();
  }
}

/** CareThread's figures and the bare broadcast's for the same N, frame size and load. */
async function againstBare(care: FanoutTarget, tokens: string[]): Promise<[FanoutFigures, FanoutFigures]> {
  const careFanout = new Fanout(care, tokens.length);
  const careSockets = await subscribeToCareThread(care.server.url, tokens, careFanout.sink);
  const frame = await careFanout.ready();
  const bareServer = await startBareBroadcast(Buffer.byteLength(JSON.stringify({ id: randomUUID(), type: 'next', payload: frame })));
  const bareFanout = new Fanout({ server: bareServer, send: (body) => fetch(bareServer.url, { method: 'POST', body }).then((res) => res.text()) }, tokens.length);
  const bareSockets = await subscribeToBare(bareServer.url, tokens.length, bareFanout.sink);
  await bareFanout.ready();
  const runs: [FanoutFigures[], FanoutFigures[]] = [[], []];
  for (let r = 0; r < REPEAT; r++) {
    runs[0].push(await careFanout.measure(MESSAGES));
    runs[1].push(await bareFanout.measure(MESSAGES));
  }
  await Promise.all([careSockets.close(), bareSockets.close()]);
  await bareServer.stop();
  return [medians(runs[0]), medians(runs[1])];
}
