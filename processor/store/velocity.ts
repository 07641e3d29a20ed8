/**
 * Velocity usage for routing: attempts and amounts per (SUB MID, window), read once per decision so
 * routing stays a pure function. Every attempt counts (a provider counts requests, not successes)
 * except ones refused before reaching it. Usage is a snapshot either way (attempts of other
 * transactions are not locked), so it can ride along with another read: lockForRouting reads it in the
 * statement that locks the transaction.
 */
import type { Knex } from 'knex';
import type { VelocityLookup, VelocityUsage } from '../routing/types.js';
import { toTransactionRow, type TransactionRow } from './transactions.js';

type Windows = ReadonlyArray<{ subMidId: string; windowSeconds: number }>;
type UsageRow = { sub_mid_id: string; window_seconds: number; count: number; amount: string | number };

/** Usage of every configured (SUB MID, window) pair, in one round trip. */
export async function loadVelocity(knex: Knex, windows: Windows, now: Date): Promise<VelocityLookup> {
  if (windows.length === 0) return lookup([]);
  const { sql, bindings } = usageSql(windows, now);
  const { rows } = (await knex.raw(sql, bindings)) as { rows: UsageRow[] };
  return lookup(rows);
}

/**
 * The transaction under its row lock (as lockTransaction) and velocity usage, in one statement. The
 * usage is as of the statement's start, like a read just before the lock.
 */
export async function lockForRouting(
  trx: Knex.Transaction,
  id: string,
  windows: Windows,
  now: Date,
): Promise<{ transaction: TransactionRow; velocity: VelocityLookup } | null> {
  const usage = windows.length > 0 ? usageSql(windows, now) : { sql: 'select 1 where false', bindings: [] };
  const { rows } = (await trx.raw(
    `select t.*, s.id as session_id,
            (select coalesce(json_agg(u), '[]'::json) from (${usage.sql}) u) as velocity
       from transactions t
       left join payment_sessions s on s.transaction_id = t.id
      where t.id = ?
        for update of t`,
    [...usage.bindings, id],
  )) as { rows: Array<Record<string, unknown>> };
  const row = rows[0];
  if (!row) return null;
  const usageRows = (
    typeof row.velocity === 'string' ? JSON.parse(row.velocity) : row.velocity
  ) as UsageRow[];
  return { transaction: toTransactionRow(row), velocity: lookup(usageRows) };
}

function usageSql(windows: Windows, now: Date): { sql: string; bindings: Knex.Value[] } {
  const pairs = windows.map(() => '(?::text, ?::int)').join(', ');
  return {
    sql: `select w.sub_mid_id, w.window_seconds,
                 count(a.id)::int as count, coalesce(sum(a.amount_minor), 0)::bigint as amount
            from (values ${pairs}) as w(sub_mid_id, window_seconds)
            left join payment_attempts a
              on a.sub_mid_id = w.sub_mid_id
             and a.started_at > ?::timestamptz - make_interval(secs => w.window_seconds)
             and (a.failure_kind is null or a.failure_kind not in ('velocity_limited', 'inactive_config'))
           group by w.sub_mid_id, w.window_seconds`,
    bindings: [...windows.flatMap((w) => [w.subMidId, w.windowSeconds]), now],
  };
}

function lookup(rows: readonly UsageRow[]): VelocityLookup {
  const usage = new Map<string, VelocityUsage>();
  for (const row of rows)
    usage.set(`${row.sub_mid_id}/${row.window_seconds}`, {
      count: Number(row.count),
      amountMinor: Number(row.amount),
    });
  return (subMidId, windowSeconds) =>
    usage.get(`${subMidId}/${windowSeconds}`) ?? { count: 0, amountMinor: 0 };
}
