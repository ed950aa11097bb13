/**
 * `npm run bench -- memory`: server memory per idle subscribed socket. 2,000
 * sockets (BENCH_IDLE_SOCKETS), one per professional (MAX_SOCKETS_PER_USER is
 * 20 by default), each subscribed to messageAdded, opened on CareThread and
 * then on the bare broadcast; RSS and V8 heap after a full GC are read
 * before and after, and the difference divided by the sockets.
 */
import { careClinic } from './care-clinic';
import { startBareBroadcast, startCareThread, type ServerProcess } from './child-process';
import { REPEAT, medians, ratio, table } from './stats';
import { settle, subscribeToBare, subscribeToCareThread, type Subscribers } from './subscribers';

const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 2000);
const GOAL_KB = 15;

async function perSocket(server: ServerProcess, open: () => Promise<Subscribers>) {
  const before = await server.memoryAfterGc();
  const sockets = await open();
  await settle();
  const after = await server.memoryAfterGc();
  await sockets.close();
  return { rssKb: (after.rss - before.rss) / SOCKETS / 1024, heapKb: (after.heapUsed - before.heapUsed) / SOCKETS / 1024 };
}

export async function memoryScenario(): Promise<void> {
  const [server, bare] = await Promise.all([startCareThread(), startBareBroadcast(0)]);
  try {
    const tokens = (await careClinic(server, SOCKETS)).pros.map((pro) => pro.token);
    const runs: [{ rssKb: number; heapKb: number }[], { rssKb: number; heapKb: number }[]] = [[], []];
    // A first round unmeasured: what the setup left for the GC to return, and what the first sockets allocate once, is not counted.
    for (let r = -1; r < REPEAT; r++) {
      runs[0].push(await perSocket(server, () => subscribeToCareThread(server.url, tokens, () => {})));
      runs[1].push(await perSocket(bare, () => subscribeToBare(bare.url, SOCKETS, () => {})));
    }
    const [care, reference] = [medians(runs[0].slice(1)), medians(runs[1].slice(1))];
    const kb = (x: number) => `${x.toFixed(1)} KB`;
    const rows = [
      ['CareThread', kb(care.rssKb), kb(care.heapKb), ratio(care.rssKb, GOAL_KB)],
      ['bare broadcast', kb(reference.rssKb), kb(reference.heapKb), ''],
      ['ratio', ratio(care.rssKb, reference.rssKb), ratio(care.heapKb, reference.heapKb), ''],
    ];
    console.log(`memory per idle subscribed socket, ${SOCKETS} sockets, after GC, median of ${REPEAT}\n${table(['server', 'RSS', 'heap', `RSS / goal ${GOAL_KB} KB`], rows)}\n`);
  } finally {
    await Promise.all([server.stop(), bare.stop()]);
  }
}
