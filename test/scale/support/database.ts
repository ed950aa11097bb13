import type { Client } from 'pg';
import { pgClient, RUN_ENV } from './services';

/** Reads the run's database directly, to check what the servers stored. */
export class RunDatabase {
  private constructor(private readonly client: Client) {}

  static async open(): Promise<RunDatabase> {
    const url = process.env[RUN_ENV.database];
    if (!url) throw new Error('the scale global setup did not create a database');
    return new RunDatabase(await pgClient(url));
  }

  query<T extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.client.query<T>(sql, params).then((r) => r.rows);
  }

  /** The stored messages of a thread, by sequence number. */
  messages(schema: string, threadId: string): Promise<{ id: string; seq: number }[]> {
    return this.query(`SELECT id, seq FROM "${schema}".messages WHERE "threadId" = $1 ORDER BY seq`, [threadId]);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
