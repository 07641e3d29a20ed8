import type { Knex } from 'knex';

export interface OutboxBacklog {
  /** Events written but not yet acknowledged by the broker. */
  pending: number;
  /** Age of the oldest pending event, 0 when none. */
  oldestAgeSeconds: number;
}

/** How far the relay is behind: what the `outbox_backlog` metrics and alerts read. */
export async function outboxBacklog(knex: Knex): Promise<OutboxBacklog> {
  const row = await knex('outbox')
    .whereNull('published_at')
    .first(knex.raw('count(*) as pending'), knex.raw('extract(epoch from (now() - min(created_at))) as age'));
  return { pending: Number(row?.pending ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) };
}
