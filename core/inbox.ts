import type { Knex } from 'knex';

export type InboxResult<T> = { duplicate: true } | { duplicate: false; result: T };

/**
 * Applies an event's effects at most once per consumer: the "seen" row and the effects commit in one
 * transaction, so a redelivered or replayed event is a no-op. Two concurrent deliveries of one event
 * serialise on the inbox primary key; the second sees the first's row and does nothing.
 */
export async function processOnce<T>(
  knex: Knex,
  consumer: string,
  eventId: string,
  apply: (trx: Knex.Transaction) => Promise<T>,
): Promise<InboxResult<T>> {
  return knex.transaction(async (trx) => {
    const inserted = await trx('inbox')
      .insert({ consumer, event_id: eventId })
      .onConflict(['consumer', 'event_id'])
      .ignore()
      .returning('event_id');
    if (inserted.length === 0) return { duplicate: true } as const;
    return { duplicate: false, result: await apply(trx) } as const;
  });
}
