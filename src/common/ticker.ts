/**
 * Runs `round` every `ms` once started. A round still running when the next
 * tick comes is not queued behind (a slow database): that tick is skipped. A
 * round that fails goes to `failed`; the next tick tries again. The timer
 * never keeps the process alive.
 */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ms: number,
    private readonly round: () => Promise<unknown>,
    private readonly failed: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.round()
        .then(() => undefined, this.failed)
        .finally(() => (this.running = null));
    }, this.ms);
    this.timer.unref();
  }

  /** Stops ticking and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
