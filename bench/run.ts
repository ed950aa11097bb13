/**
 * `npm run bench` runs every scenario; `npm run bench -- fanout memory` (or
 * BENCH_ONLY=fanout) only those named. BENCH_REPEAT (default 3) repetitions of
 * each measurement; the median is printed. BENCHMARKS.md says what each one
 * measures and how.
 */
import { attachmentsScenario } from './attachments';
import { auditScaleBench } from './audit-scale';
import { auditVerifyBench } from './audit-verify';
import { fanoutScenario } from './fanout';
import { idleSubscribersScenario } from './idle-subscribers';
import { inboxBench, sendBench } from './latency-pairs';
import { memoryScenario } from './memory';
import { recipientsBench } from './recipients';
import { sendRateScenario } from './send-rate';

const SCENARIOS: Record<string, () => Promise<void>> = {
  recipients: recipientsBench,
  send: sendBench,
  sendrate: sendRateScenario,
  inbox: inboxBench,
  audit: auditVerifyBench,
  'audit-scale': auditScaleBench,
  fanout: fanoutScenario,
  memory: memoryScenario,
  idle: idleSubscribersScenario,
  attachments: attachmentsScenario,
};

(async () => {
  const chosen = process.argv.slice(2).length ? process.argv.slice(2) : (process.env.BENCH_ONLY?.split(',') ?? Object.keys(SCENARIOS));
  const unknown = chosen.filter((name) => !SCENARIOS[name]);
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}: choose among ${Object.keys(SCENARIOS).join(', ')}`);
  const t0 = performance.now();
  for (const name of chosen) await SCENARIOS[name]();
  console.log(`${chosen.join(', ')}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
