import type { Knex } from 'knex';

/**
 * The orchestrator's tables. routing_plans: the ordered candidates chosen for a transaction.
 * payment_attempts: one row per request to one provider account, with the provider idempotency key a
 * re-driven call reuses (unique: a second charge would need a second key). provider_callbacks: every
 * callback the processor saw, parked until its attempt is known, then processed or ignored.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('routing_plans', (t) => {
    t.text('transaction_id').primary().references('id').inTable('transactions');
    t.text('rules_version').notNullable();
    t.text('rule_id').notNullable();
    t.jsonb('candidates').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('payment_attempts', (t) => {
    t.text('id').primary();
    t.text('transaction_id').notNullable().references('id').inTable('transactions');
    t.integer('attempt_number').notNullable();
    t.text('provider_id').notNullable();
    t.text('sub_mid_id').notNullable();
    t.integer('candidate_group').notNullable();
    t.text('idempotency_key').notNullable().unique();
    /** started | awaiting_customer_data | succeeded | failed */
    t.text('state').notNullable().defaultTo('started');
    /** redirect_ready | customer_data_required | pending | approved | declined (when the provider answered) */
    t.text('outcome');
    t.text('failure_kind');
    t.text('provider_error_code');
    /** A timed-out call: the provider may have processed it; a late callback is still matched. */
    t.boolean('outcome_unknown').notNullable().defaultTo(false);
    t.text('provider_reference');
    t.bigInteger('amount_minor').notNullable();
    t.string('currency', 3).notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['transaction_id', 'attempt_number']);
    t.index(['provider_id', 'provider_reference']);
    t.index(['sub_mid_id', 'started_at']);
  });

  await knex.schema.createTable('provider_callbacks', (t) => {
    /** Gateway callback id + index of the notification inside the body (Adyen batches several). */
    t.text('id').primary();
    t.text('callback_id').notNullable();
    t.text('provider_id').notNullable();
    t.text('provider_reference').notNullable();
    /** The provider's own notification id: a provider's duplicate repeats it. */
    t.text('notification_id').notNullable();
    t.text('outcome').notNullable();
    t.text('provider_status').notNullable();
    t.text('transaction_id');
    t.text('attempt_id');
    /** parked | processed | ignored */
    t.text('state').notNullable();
    t.text('ignored_reason');
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('processed_at', { useTz: true });
    t.index(['provider_id', 'provider_reference']);
    t.index(['state', 'created_at']);
    t.index(['provider_id', 'notification_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('provider_callbacks');
  await knex.schema.dropTableIfExists('payment_attempts');
  await knex.schema.dropTableIfExists('routing_plans');
}
