import type { DataSource } from 'typeorm';

/** A table's name for raw SQL: schema-qualified on PostgreSQL, where each test server has its own schema. */
export function table(db: DataSource, name: string): string {
  const schema = db.options.type === 'postgres' ? db.options.schema : undefined;
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

/** Raw SQL with `?` placeholders on both databases. */
export function sql<T = any>(db: DataSource, text: string, params: unknown[] = []): Promise<T> {
  let n = 0;
  return db.query(db.options.type === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text, params);
}

/** Every append-only audit table: what a tampering test frees of its triggers. */
export const AUDIT_TABLES = ['audit_events', 'audit_event_patients', 'audit_event_organisations', 'audit_organisation_links', 'audit_checkpoints'];

/** Drops the append-only triggers of the audit tables, in this server's own database (schema on PostgreSQL) only, as whoever tampers would. */
export async function dropAppendOnlyTriggers(db: DataSource): Promise<void> {
  const tables = AUDIT_TABLES.map((t) => `'${t}'`).join(', ');
  if (db.options.type === 'postgres') {
    const triggers: { name: string; table: string }[] = await sql(
      db,
      `SELECT t.tgname AS name, c.relname AS "table" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE NOT t.tgisinternal AND n.nspname = ? AND c.relname IN (${tables})`,
      [db.options.schema],
    );
    expect(triggers.length).toBeGreaterThanOrEqual(AUDIT_TABLES.length * 2);
    for (const t of triggers) await db.query(`DROP TRIGGER "${t.name}" ON ${table(db, t.table)}`);
  } else {
    const triggers: { name: string }[] = await db.query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${tables})`);
    expect(triggers.length).toBeGreaterThanOrEqual(AUDIT_TABLES.length * 2);
    for (const t of triggers) await db.query(`DROP TRIGGER "${t.name}"`);
  }
}
