import { awayUntil } from '../../src/modules/absences/away-until';

// awayUntil: when a professional with these absences (sorted by start) is back.

const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00.000Z`);
const absence = (from: string, to: string) => ({ startsAt: at(from), endsAt: at(to) });
const until = (absences: ReturnType<typeof absence>[], now: string) => awayUntil(absences, at(now))?.toISOString().slice(11, 16) ?? null;

test('no absences, or none covering now: not away', () => {
  expect(until([], '10:00')).toBeNull();
  expect(until([absence('08:00', '09:00')], '10:00')).toBeNull();
  expect(until([absence('11:00', '12:00')], '10:00')).toBeNull();
});

test('away from the start of an absence until its end: the start counts, the end does not', () => {
  const one = [absence('10:00', '12:00')];
  expect(until(one, '10:00')).toBe('12:00');
  expect(until(one, '11:59')).toBe('12:00');
  expect(until(one, '12:00')).toBeNull();
});

test('absences that touch or overlap the current one are one stretch: away until its end', () => {
  expect(until([absence('10:00', '12:00'), absence('12:00', '14:00')], '11:00')).toBe('14:00');
  expect(until([absence('10:00', '12:00'), absence('11:00', '13:00'), absence('13:00', '15:00')], '10:30')).toBe('15:00');
});

test('an absence after a gap is not carried on', () => {
  expect(until([absence('10:00', '12:00'), absence('12:01', '14:00')], '11:00')).toBe('12:00');
});

test('a shorter absence inside a longer one does not cut it short; past absences do not count', () => {
  expect(until([absence('07:00', '08:00'), absence('10:00', '16:00'), absence('11:00', '12:00')], '11:30')).toBe('16:00');
  expect(until([absence('07:00', '08:00'), absence('10:00', '16:00'), absence('11:00', '12:00')], '13:00')).toBe('16:00');
});

test('two absences covering now: the later end', () => {
  expect(until([absence('09:00', '13:00'), absence('10:00', '11:00')], '10:30')).toBe('13:00');
});
