import type { Absence } from './absence.entity';

/**
 * When a professional with these absences is back: the end of the absence
 * they are in at `now`, carried on through every absence that overlaps or
 * touches it. Null when they are not away at `now`. `absences` must be sorted
 * by start.
 */
export function awayUntil(absences: readonly Pick<Absence, 'startsAt' | 'endsAt'>[], now: Date): Date | null {
  let until: number | null = null;
  const at = now.getTime();
  for (const { startsAt, endsAt } of absences) {
    const start = startsAt.getTime();
    const end = endsAt.getTime();
    if (start <= at && end > at) until = Math.max(until ?? end, end);
    else if (until !== null && start <= until) until = Math.max(until, end);
    else if (start > at) break;
  }
  return until === null ? null : new Date(until);
}
