import type { Knex } from 'knex';

/**
 * The back-office resend waiting to be attempted, per webhook delivery: its reserved attempt number
 * and when it was asked for. A second resend request while one is pending answers the pending one
 * instead of queueing another (a double click, or two support agents at once); the dispatcher clears
 * it when it records that attempt.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.integer('resend_pending_number');
    t.timestamp('resend_requested_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('resend_pending_number');
    t.dropColumn('resend_requested_at');
  });
}
