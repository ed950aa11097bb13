import type { Clock } from '../../src/common/clock';

/**
 * The time a test server's escalation schedule reads, which a test moves
 * forward instead of waiting: real time plus an offset (`offsetMs`, 0 unless
 * told). Message times stay real, so "the patient has waited four hours" is
 * `advance(4 * HOUR)` after the message.
 *
 * `reads` counts calls of now(). Each escalation round of a server reads its
 * clock once per batch, and a server's rounds run one after another, so once
 * `reads` has grown by n + 1 from some moment, at least n whole rounds began
 * after it and have finished (see `roundsPassed`).
 */
export class TestClock implements Clock {
  reads = 0;

  constructor(private offsetMs = 0) {}

  now(): Date {
    this.reads++;
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Back to real time plus `offsetMs`: each test of a file that shares one server can start from real time. */
  reset(offsetMs = 0): void {
    this.offsetMs = offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** A function that tells whether `rounds` whole rounds of polling began after this call and have finished. */
  roundsPassed(rounds: number): () => boolean {
    const start = this.reads;
    return () => this.reads >= start + rounds + 1;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
