function driverCode(error: unknown): unknown {
  return (error as { driverError?: { code?: unknown } } | null)?.driverError?.code ?? (error as { code?: unknown } | null)?.code;
}

/** True when a statement broke a unique constraint, whichever database said so. */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * True when a statement gave up waiting for a lock, or lost a deadlock or
 * serialisation conflict: nothing was written and the same request may succeed
 * if sent again.
 */
export function isRetryableContention(error: unknown): boolean {
  const code = driverCode(error);
  return (
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_LOCKED' ||
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' // lock_not_available
  );
}
