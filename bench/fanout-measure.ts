/**
 * Measures one fan-out, the same way for CareThread and the bare broadcast:
 * M messages sent over HTTP to N subscribed sockets. First saturated (4 sends
 * in flight): server CPU per delivery and deliveries/s; then paced at half
 * that rate: send-to-receive latency, p50 and p99.
 */
import { performance } from 'node:perf_hooks';
import type { ServerProcess } from './child-process';
import { DeliveryPhase, untilLive } from './delivery-phase';
import { quantile } from './stats';
import type { Sink } from './subscribers';

export interface FanoutTarget {
  server: ServerProcess;
  send(body: string): Promise<unknown>;
}

export type FanoutFigures = {
  cpuPerDeliveryUs: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
};

const IN_FLIGHT = 4;
const WARM_UP = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Fanout {
  private phase?: DeliveryPhase;
  /** Where the subscribers put what they receive. */
  readonly sink: Sink = (body, frame) => this.phase?.record(body, frame);

  constructor(
    private readonly target: FanoutTarget,
    private readonly subscribers: number,
  ) {}

  /** Sends a probe until one reaches every subscriber (then every subscription is live), and warms up; returns a frame as received. */
  async ready(): Promise<unknown> {
    await untilLive(this.subscribers, this.target.send, (probe) => (this.phase = probe));
    return (await this.run(WARM_UP)).sample;
  }

  async measure(messages: number): Promise<FanoutFigures> {
    const deliveries = messages * this.subscribers;
    const saturated = await this.run(messages);
    const paced = await this.run(messages, messages / saturated.seconds / 2);
    return {
      cpuPerDeliveryUs: (saturated.cpuSeconds / deliveries) * 1e6,
      deliveriesPerSecond: deliveries / saturated.seconds,
      p50Ms: quantile(paced.latencies!, 0.5),
      p99Ms: quantile(paced.latencies!, 0.99),
    };
  }

  /** Sends `messages`, IN_FLIGHT at a time, or at `perSecond` (timed) whatever is in flight; returns once all are delivered. */
  private async run(messages: number, perSecond?: number) {
    const phase = (this.phase = new DeliveryPhase(messages, this.subscribers, perSecond !== undefined));
    const send = (k: number) => ((phase.sentAt[k] = performance.now()), this.target.send(phase.body(k)));
    const cpu0 = this.target.server.cpuSeconds();
    const t0 = performance.now();
    if (perSecond) {
      const sends = [];
      for (let k = 0; k < messages; k++) {
        await sleep(t0 + (k * 1000) / perSecond - performance.now());
        sends.push(send(k));
      }
      await Promise.all(sends);
    } else {
      let next = 0;
      const worker = async () => {
        while (next < messages) await send(next++);
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }
    await phase.done();
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: this.target.server.cpuSeconds() - cpu0, latencies: phase.latencies, sample: phase.sample };
  }
}
