/**
 * One phase of a fan-out: messages 0..M-1 sent, each to be received by every
 * one of N subscribers. Bodies carry the phase's tag and the message number, so
 * a receiver times its delivery against the send without any lookup, and a
 * late frame of an earlier phase is not counted.
 */
import { performance } from 'node:perf_hooks';

let phases = 0;
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 120_000);

export class DeliveryPhase {
  readonly sentAt: Float64Array;
  /** Send-to-receive times in ms, when asked for. */
  readonly latencies: Float64Array | null;
  /** One frame as received, to size the bare server's frames by. */
  sample: unknown;
  private received = 0;
  private readonly expected: number;
  private readonly prefix = `bench-${++phases} `;
  private finish = () => {};
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(messages: number, subscribers: number, timed: boolean) {
    this.expected = messages * subscribers;
    this.sentAt = new Float64Array(messages);
    this.latencies = timed ? new Float64Array(this.expected) : null;
  }

  body(k: number): string {
    return this.prefix + k;
  }

  readonly record = (body: string, frame: unknown): void => {
    if (!body.startsWith(this.prefix)) return;
    if (this.latencies) this.latencies[this.received] = performance.now() - this.sentAt[Number(body.slice(this.prefix.length))];
    this.sample = frame;
    if (++this.received === this.expected) this.finish();
  };

  /** Whether every delivery arrived within `ms`. */
  async within(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    return Promise.race([this.finished.then(() => true), late]).finally(() => clearTimeout(timer));
  }

  /** Resolves once every delivery arrived; fails after BENCH_STALL_MS (default 2 min) without all of them. */
  async done(): Promise<void> {
    if (!(await this.within(STALL_MS))) throw new Error(`${this.received} of ${this.expected} deliveries after ${STALL_MS} ms`);
  }
}

/** Sends probes, each a phase of one message that `listen` hands to the subscribers, until one reaches all of them: from then on every subscription is live. */
export async function untilLive(subscribers: number, send: (body: string) => Promise<unknown>, listen: (probe: DeliveryPhase) => void): Promise<void> {
  for (;;) {
    const probe = new DeliveryPhase(1, subscribers, false);
    listen(probe);
    await send(probe.body(0));
    if (await probe.within(500)) return;
  }
}
