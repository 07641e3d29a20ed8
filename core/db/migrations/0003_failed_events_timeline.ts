import type { Knex } from 'knex';

/**
 * failed_events: every message a consumer gave up on (it is also on the dead-letter topic), with
 * replay/purge status and an audit trail. transaction_timeline: business moments of a transaction, each
 * with an internal view and an optional merchant-safe view (null = never shown to merchants).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('failed_events', (t) => {
    t.bigIncrements('id');
    t.text('consumer_group').notNullable();
    t.text('topic').notNullable();
    t.text('dead_letter_topic').notNullable();
    t.text('message_id').notNullable();
    t.text('message_key').notNullable();
    t.text('event_id');
    t.text('event_type');
    t.text('transaction_id');
    t.text('merchant_id');
    t.text('error_class').notNullable();
    t.text('error_code');
    t.text('error_message').notNullable();
    t.text('error_stack');
    t.integer('attempts').notNullable();
    t.timestamp('first_failure_at', { useTz: true }).notNullable();
    t.timestamp('last_failure_at', { useTz: true }).notNullable();
    t.binary('payload').notNullable();
    t.jsonb('headers').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.integer('replay_count').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The same message dead-lettered twice (a redelivery after a crash) is one record.
    t.unique(['consumer_group', 'topic', 'message_id']);
    t.index(['status', 'created_at']);
    t.index(['transaction_id']);
  });
  await knex.raw(
    `alter table failed_events add constraint failed_events_status check (status in ('open', 'replayed', 'purged'))`,
  );
  await knex.schema.createTable('failed_event_actions', (t) => {
    t.bigIncrements('id');
    t.bigInteger('failed_event_id')
      .notNullable()
      .references('id')
      .inTable('failed_events')
      .onDelete('CASCADE');
    t.text('action').notNullable();
    t.text('actor').notNullable();
    t.jsonb('detail');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('transaction_timeline', (t) => {
    t.bigIncrements('id');
    t.text('transaction_id').notNullable();
    t.text('merchant_id');
    t.text('entry_type').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.text('source_event_id');
    t.jsonb('merchant_view');
    t.jsonb('internal').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['transaction_id', 'occurred_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('transaction_timeline');
  await knex.schema.dropTableIfExists('failed_event_actions');
  await knex.schema.dropTableIfExists('failed_events');
}
