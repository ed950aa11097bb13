/**
 * A child process of the bench seen from outside, through /proc: its resident
 * memory now and at its peak, none of it the bench's own.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface ProcessWatch {
  /** VmRSS, bytes. */
  rss(): number;
  /** VmHWM, bytes: the largest RSS since the process started or since resetPeak. */
  peak(): number;
  /** Sets the peak to the RSS now (writes 5 to /proc/<pid>/clear_refs; Linux 4.0 and later). */
  resetPeak(): void;
}

export function watchProcess(pid: number): ProcessWatch {
  const status = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  return {
    rss: () => status('VmRSS'),
    peak: () => status('VmHWM'),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
  };
}
