/**
 * Rows for several tables written by ONE SQL statement: each table's INSERT becomes a data-modifying
 * CTE (`with i0 as (insert ...), i1 as (insert ...) select ...`). PostgreSQL runs every data-modifying
 * CTE exactly once, and a statement is atomic on its own, so all rows commit or none do — without a
 * BEGIN/COMMIT pair — and the whole write is one round trip instead of one per table. On a 2-core
 * machine round trips, not the rows, are what a request pays for (see docs/benchmarks.md).
 *
 * A NOTIFY can ride along (`pg_notify` in the final select): it is delivered when the statement's
 * transaction commits, like a NOTIFY sent by a separate statement.
 */
import type { Knex } from 'knex';

export interface TableRows {
  table: string;
  rows: readonly Record<string, unknown>[];
}

export interface InsertAllOptions {
  /** A channel to NOTIFY (empty payload) in the same statement. */
  notify?: string;
}

/** Runs the inserts as one statement in `db` (a pool or the caller's transaction). */
export async function insertAll(
  db: Knex | Knex.Transaction,
  inserts: readonly TableRows[],
  options: InsertAllOptions = {},
): Promise<void> {
  const statement = insertAllStatement(inserts, options);
  if (statement) await db.raw(statement.sql, statement.bindings);
}

/** The statement insertAll sends (null when there is nothing to write): exported for tests and tools. */
export function insertAllStatement(
  inserts: readonly TableRows[],
  options: InsertAllOptions = {},
): { sql: string; bindings: readonly Knex.Value[] } | null {
  const parts = inserts.filter((insert) => insert.rows.length > 0);
  if (parts.length === 0 && options.notify === undefined) return null;
  const bindings: Knex.Value[] = [];
  const ctes = parts.map((part, index) => `i${index} as (${insertSql(part, bindings)})`);
  let tail = 'select 1';
  if (options.notify !== undefined) {
    tail = "select pg_notify(?, '')";
    bindings.push(options.notify);
  }
  const sql = ctes.length > 0 ? `with ${ctes.join(', ')} ${tail}` : tail;
  return { sql, bindings };
}

/**
 * `insert into "t" ("a", "b") values (?, ?), (?, DEFAULT)`: columns are the union of the rows' keys;
 * a key a row lacks (or holds undefined) gets the column default, like knex's multi-row insert. The
 * text is cached per shape, since callers write the same shapes over and over. Pushes the bindings.
 */
function insertSql(part: TableRows, bindings: Knex.Value[]): string {
  const columns = [...new Set(part.rows.flatMap((row) => Object.keys(row)))];
  const slots = part.rows.map((row) => columns.map((column) => row[column] !== undefined));
  const shape = `${part.table}\u0000${columns.join('\u0000')}\u0000${slots.map((row) => row.map(Number).join('')).join('|')}`;
  let sql = statementCache.get(shape);
  if (sql === undefined) {
    const values = slots.map((row) => `(${row.map((bound) => (bound ? '?' : 'DEFAULT')).join(', ')})`);
    sql = `insert into ${quote(part.table)} (${columns.map(quote).join(', ')}) values ${values.join(', ')}`;
    if (statementCache.size >= STATEMENT_CACHE_SIZE) statementCache.clear();
    statementCache.set(shape, sql);
  }
  for (const row of part.rows)
    for (const column of columns) {
      const value = row[column];
      if (value === undefined) continue;
      if (typeof value === 'object' && value !== null && 'toSQL' in value)
        throw new Error(`insertAll takes plain values; ${part.table}.${column} is SQL`);
      bindings.push(value as Knex.Value);
    }
  return sql;
}

const STATEMENT_CACHE_SIZE = 500;
const statementCache = new Map<string, string>();

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
