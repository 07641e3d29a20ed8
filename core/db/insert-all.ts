/**
 * Rows for several tables written by ONE SQL statement: each table's INSERT becomes a data-modifying
 * CTE (`with i0 as (insert ...), i1 as (insert ...) select ...`). PostgreSQL runs every data-modifying
 * CTE exactly once, and a statement is atomic on its own, so all rows commit or none do — without a
 * BEGIN/COMMIT pair — and the whole write is one round trip instead of one per table. On a 2-core
 * machine round trips, not the rows, are what a request pays for (see docs/benchmarks.md).
 *
 * A NOTIFY can ride along (`pg_notify` in the final select): it is delivered when the statement's
 * transaction commits, like a NOTIFY sent by a separate statement.
 *
 * UPDATEs of single rows can ride along too (`options.updates`, CTEs `u0`, `u1`, ...): the statement
 * answers how many rows each changed, so a caller can refuse (throw, rolling back its transaction) when
 * a guarded row did not match. All parts see the same snapshot and run in an unspecified order, so no two
 * parts may touch the same row, and no part may depend on another's effect.
 */
import type { Knex } from 'knex';
import { nameForText, prepared } from './prepared.js';

export interface TableRows {
  table: string;
  rows: readonly Record<string, unknown>[];
}

/** `update table set ... where ...`: `where` is a conjunction of equalities (null: IS NULL). */
export interface RowUpdate {
  table: string;
  /** Plain values, or SQL made by knex (`knex.fn.now()`, `knex.raw('x + ?', [1])`). */
  set: Record<string, unknown>;
  where: Record<string, Knex.Value>;
}

export interface InsertAllOptions {
  /** A channel to NOTIFY (empty payload) in the same statement. */
  notify?: string;
  /** Updates to run in the same statement; the result tells how many rows each changed. */
  updates?: readonly RowUpdate[];
}

export interface InsertAllResult {
  /** Rows changed by each of `options.updates`, in order. */
  updated: number[];
}

/** Runs the inserts (and updates) as one statement in `db` (a pool or the caller's transaction). */
export async function insertAll(
  db: Knex | Knex.Transaction,
  inserts: readonly TableRows[],
  options: InsertAllOptions = {},
): Promise<InsertAllResult> {
  const statement = insertAllStatement(inserts, options);
  if (!statement) return { updated: [] };
  // A named statement per shape (core/db/prepared.ts): parsed once per connection, then values only.
  const query = prepared(
    db,
    db.raw(statement.sql, statement.bindings),
    nameForText('insert_all', statement.sql),
  );
  const result = (await query) as { rows: Record<string, unknown>[] };
  const row = result.rows[0] ?? {};
  return { updated: (options.updates ?? []).map((_, index) => Number(row[`u${index}`] ?? 0)) };
}

/** The statement insertAll sends (null when there is nothing to write): exported for tests and tools. */
export function insertAllStatement(
  inserts: readonly TableRows[],
  options: InsertAllOptions = {},
): { sql: string; bindings: readonly Knex.Value[] } | null {
  const parts = inserts.filter((insert) => insert.rows.length > 0);
  const updates = options.updates ?? [];
  if (parts.length === 0 && updates.length === 0 && options.notify === undefined) return null;
  const bindings: Knex.Value[] = [];
  const ctes = [
    ...updates.map((update, index) => `u${index} as (${updateSql(update, bindings)})`),
    ...parts.map((part, index) => `i${index} as (${insertSql(part, bindings)})`),
  ];
  const columns = updates.map((_, index) => `(select count(*) from u${index})::int as u${index}`);
  if (options.notify !== undefined) {
    columns.push("pg_notify(?, '') as notified");
    bindings.push(options.notify);
  }
  const tail = `select ${columns.length > 0 ? columns.join(', ') : '1'}`;
  const sql = ctes.length > 0 ? `with ${ctes.join(', ')} ${tail}` : tail;
  return { sql, bindings };
}

/** `update "t" set "a" = ?, "b" = CURRENT_TIMESTAMP where "k" = ? returning 1`. Pushes the bindings. */
function updateSql(update: RowUpdate, bindings: Knex.Value[]): string {
  const set = Object.entries(update.set).filter(([, value]) => value !== undefined);
  const where = Object.entries(update.where);
  if (set.length === 0 || where.length === 0)
    throw new Error(`insertAll: an update of ${update.table} needs columns to set and a condition`);
  const assignments = set.map(([column, value]) => {
    if (isSql(value)) {
      const { sql, bindings: own } = value.toSQL();
      if (sql.includes('??')) throw new Error(`insertAll: ${update.table}.${column}: no identifier bindings`);
      bindings.push(...(own as Knex.Value[]));
      return `${quote(column)} = ${sql}`;
    }
    bindings.push(value as Knex.Value);
    return `${quote(column)} = ?`;
  });
  const conditions = where.map(([column, value]) => {
    if (value === null) return `${quote(column)} is null`;
    bindings.push(value);
    return `${quote(column)} = ?`;
  });
  return `update ${quote(update.table)} set ${assignments.join(', ')} where ${conditions.join(' and ')} returning 1`;
}

function isSql(value: unknown): value is { toSQL(): { sql: string; bindings: readonly unknown[] } } {
  return typeof value === 'object' && value !== null && 'toSQL' in value;
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
      if (isSql(value)) throw new Error(`insertAll takes plain values; ${part.table}.${column} is SQL`);
      bindings.push(value as Knex.Value);
    }
  return sql;
}

const STATEMENT_CACHE_SIZE = 500;
const statementCache = new Map<string, string>();

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
