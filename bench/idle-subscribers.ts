/**
 * `npm run bench -- idle`: what subscribed professionals who are not in the
 * thread cost a delivery. The fan-out at N = 100, measured without and with
 * 1,000 more subscribed sockets (BENCH_IDLE_SUBSCRIBERS), one per
 * professional outside the team, alternately in each repetition.
 */
import { careClinic } from './care-clinic';
import { startCareThread } from './child-process';
import { FIGURES_HEADER, MESSAGES, figureCells, ratioCells } from './fanout';
import { Fanout, type FanoutFigures } from './fanout-measure';
import { REPEAT, medians, table } from './stats';
import { settle, subscribeToCareThread } from './subscribers';

const N = 100;
const IDLE = Number(process.env.BENCH_IDLE_SUBSCRIBERS ?? 1000);

export async function idleSubscribersScenario(): Promise<void> {
  const server = await startCareThread();
  try {
    const clinic = await careClinic(server, N + IDLE);
    const tokens = clinic.pros.map((pro) => pro.token);
    const fanout = new Fanout(await clinic.teamThread(N), N);
    const sockets = await subscribeToCareThread(server.url, tokens.slice(0, N), fanout.sink);
    await fanout.ready();
    const runs: [FanoutFigures[], FanoutFigures[]] = [[], []];
    for (let r = 0; r < REPEAT; r++) {
      runs[0].push(await fanout.measure(MESSAGES));
      const idle = await subscribeToCareThread(server.url, tokens.slice(N), () => {});
      await settle();
      runs[1].push(await fanout.measure(MESSAGES));
      await idle.close();
    }
    await sockets.close();
    const [without, withIdle] = [medians(runs[0]), medians(runs[1])];
    const rows = [
      [String(N), 'no one else subscribed', ...figureCells(without)],
      [String(N), `${IDLE} idle non-recipients`, ...figureCells(withIdle)],
      [String(N), 'ratio', ...ratioCells(withIdle, without)],
    ];
    const added = (withIdle.cpuPerDeliveryUs / without.cpuPerDeliveryUs - 1) * 100;
    console.log(
      `idle non-recipient subscribers: M = ${MESSAGES} messages to N = ${N}, median of ${REPEAT}\n${table(FIGURES_HEADER, rows)}\n` +
        `  CPU per delivery added by ${IDLE} idle subscribers: ${added.toFixed(1)}% (goal: under 5%)\n`,
    );
  } finally {
    await server.stop();
  }
}
