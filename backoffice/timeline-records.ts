/** A transaction's stored timeline entries, as core/timeline/views.ts expects them (it decides who sees what). */
import type { Knex } from 'knex';
import type { StoredTimelineEntry } from '../core/timeline/views.js';

/** Far above any real transaction's entry count; a runaway writer cannot make one response unbounded. */
export const MAX_TIMELINE_ENTRIES = 2_000;

export async function loadTimeline(knex: Knex, transactionId: string): Promise<StoredTimelineEntry[]> {
  const rows = await knex('transaction_timeline')
    .where({ transaction_id: transactionId })
    .orderBy([{ column: 'occurred_at' }, { column: 'id' }])
    .limit(MAX_TIMELINE_ENTRIES)
    .select('id', 'entry_type', 'occurred_at', 'merchant_view', 'internal');
  return rows.map((row) => ({
    id: String(row.id),
    entryType: row.entry_type as string,
    occurredAt: new Date(row.occurred_at as string | Date),
    merchantView: (row.merchant_view as Record<string, unknown> | null) ?? null,
    internal: (row.internal as Record<string, unknown>) ?? {},
  }));
}
