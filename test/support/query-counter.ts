import type { Logger } from 'typeorm';

/**
 * A TypeORM logger that keeps every SQL statement run since the last `reset`,
 * for tests that count statements. Pass it as `queryLogger` to startTestServer.
 */
export class QueryCounter implements Logger {
  statements: string[] = [];

  get count(): number {
    return this.statements.length;
  }

  reset(): void {
    this.statements = [];
  }

  logQuery(query: string): void {
    this.statements.push(query);
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
