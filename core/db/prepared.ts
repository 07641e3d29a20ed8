/**
 * Named (prepared) statements for hot SQL on node-postgres: the server parses and plans a named
 * statement once per connection, and each later call sends only Bind/Execute with its values. PGlite
 * (in-process, no protocol round trip) runs the query as it is. The name must identify the SQL text:
 * node-postgres refuses one name for two texts on a connection.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** Marks `query` (a knex raw query) as the named statement `name` when `db` runs on node-postgres. */
export function prepared<T extends Knex.Raw>(db: Knex | Knex.Transaction, query: T, name: string): T {
  if (isNodePostgres(db)) query.options({ name });
  return query;
}

/** A statement name derived from its text, for SQL generated per shape (cached: shapes repeat). */
export function nameForText(prefix: string, sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `${prefix}_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(sql, name);
  }
  return name;
}

function isNodePostgres(db: Knex | Knex.Transaction): boolean {
  return (db.client as { config?: { client?: unknown } }).config?.client === 'pg';
}

const MAX_NAMES = 1_000;
const names = new Map<string, string>();
