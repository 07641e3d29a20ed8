/**
 * Turns the SQL statements some code really sent (captured from knex's `query` events) into a pgbench
 * script that sends the same statements with the same values, except the values that must be unique
 * per run (ids, unique keys), which become expressions of a per-transaction random number. So the
 * database baseline does the same-shape work by construction, not by a hand-written copy. Pure.
 */

export interface CapturedStatement {
  sql: string;
  bindings?: readonly unknown[];
}

/** A value to make unique per pgbench transaction, and the SQL expression (using `:bench_seq`) replacing it. */
export interface UniqueValue {
  value: string;
  expression: string;
}

export const SEQUENCE_VARIABLE = 'bench_seq';

export function pgbenchScript(
  statements: readonly CapturedStatement[],
  unique: readonly UniqueValue[],
): string {
  const replacements = new Map(unique.map((u) => [u.value, u.expression]));
  const lines = [`\\set ${SEQUENCE_VARIABLE} random(1, 999999999999999)`];
  for (const statement of statements) {
    const bindings = statement.bindings ?? [];
    const sql = statement.sql.replace(/\$(\d+)/g, (_match, position: string) => {
      const value = bindings[Number(position) - 1];
      if (typeof value === 'string' && replacements.has(value)) return replacements.get(value)!;
      return sqlLiteral(value);
    });
    lines.push(sql.trim().endsWith(';') ? sql.trim() : `${sql.trim()};`);
  }
  return `${lines.join('\n')}\n`;
}

export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return quote(value.toISOString());
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'::bytea`;
  if (typeof value === 'string') return quote(value);
  return quote(JSON.stringify(value));
}

/**
 * pgbench turns every `:word` in a statement into a parameter, even inside string literals, so a
 * literal with a colon (JSON, timestamps, URLs) is written as an E'' string with the colon escaped.
 */
function quote(text: string): string {
  if (!text.includes(':')) return `'${text.replace(/'/g, "''")}'`;
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/:/g, '\\x3a')}'`;
}
