import type { Knex } from 'knex';

/**
 * The webhook dispatcher's tables. webhook_deliveries: one row per merchant webhook (id = the stable
 * Standard Webhooks `webhook-id`), holding the URL and the exact body as they were when the webhook was
 * requested, so retries and back-office resends send the same bytes to the same place.
 * webhook_attempts: every HTTP attempt (automatic or manual resend) with what was sent (never the
 * signing secret) and what came back; (delivery_id, attempt_number) is unique, which is how a
 * redelivered attempt message is recognised as already done.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_deliveries', (t) => {
    /** MerchantWebhookRequested.webhookId, sent as `webhook-id` on every attempt. */
    t.text('id').primary();
    t.text('transaction_id').notNullable().references('id').inTable('transactions');
    t.text('merchant_id').notNullable().references('id').inTable('merchants');
    t.text('webhook_type').notNullable();
    /** The transaction's webhook URL at request time; null when it had none (state skipped). */
    t.text('url');
    /** The JSON body exactly as sent (text, not jsonb: the bytes must not change between attempts). */
    t.text('payload').notNullable();
    /** Sequence of the MerchantWebhookRequested event (also in the payload). */
    t.bigInteger('sequence').notNullable();
    t.text('source_event_id').notNullable();
    t.text('correlation_id').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.text('state').notNullable().defaultTo('pending');
    /** Attempts recorded so far (automatic and manual). */
    t.integer('attempts').notNullable().defaultTo(0);
    /** Highest attempt number handed out (to an automatic retry or a resend request). */
    t.integer('last_attempt_number').notNullable().defaultTo(0);
    /** The automatic attempt waiting to run, and when; null when none is scheduled. */
    t.integer('next_attempt_number');
    t.timestamp('next_attempt_at', { useTz: true });
    t.timestamp('last_attempt_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['transaction_id']);
    t.index(['merchant_id', 'created_at']);
  });
  await knex.raw(
    `alter table webhook_deliveries add constraint webhook_deliveries_state
     check (state in ('pending', 'delivered', 'exhausted', 'skipped'))`,
  );
  await knex.raw(
    `create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending'`,
  );

  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id');
    t.text('delivery_id').notNullable().references('id').inTable('webhook_deliveries').onDelete('CASCADE');
    t.integer('attempt_number').notNullable();
    t.text('trigger').notNullable();
    /** Who asked for a manual resend (back-office user); null for automatic attempts. */
    t.text('requested_by');
    t.text('url').notNullable();
    /** Headers sent (webhook-id, webhook-timestamp, webhook-signature, ...); never the secret. */
    t.jsonb('request_headers').notNullable();
    t.integer('response_status');
    t.jsonb('response_headers');
    /** The first bytes of the response body (capped). */
    t.text('response_body_excerpt');
    /** null when delivered; else http_status, redirect, timeout, connection, tls, forbidden_url, no_signing_secret. */
    t.text('error_class');
    t.text('error_message');
    t.integer('duration_ms').notNullable();
    /** The automatic retry this (failed) attempt scheduled, if any. */
    t.integer('next_attempt_number');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).notNullable();
    t.unique(['delivery_id', 'attempt_number']);
  });
  await knex.raw(
    `alter table webhook_attempts add constraint webhook_attempts_trigger
     check (trigger in ('automatic', 'manual_resend'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_attempts');
  await knex.schema.dropTableIfExists('webhook_deliveries');
}
