/**
 * A timestamp read as a raw value (an aggregate, raw SQL): pg gives Dates;
 * SQLite gives TypeORM's "YYYY-MM-DD HH:MM:SS.SSS", which is UTC.
 */
export function storedTime(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
