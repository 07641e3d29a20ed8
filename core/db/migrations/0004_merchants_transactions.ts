import type { Knex } from 'knex';

/**
 * The payment domain's shared tables. merchants and their credentials (API keys stored as hashes only;
 * webhook signing secrets are needed to sign, so they are stored, several active during a rotation);
 * transactions (the merchant's request as accepted, the current status and the per-transaction event
 * sequence) and payment_sessions (the hosted page's state, looked up by an unguessable token).
 * Services add their own tables in later migrations (processor: attempts, callbacks; dispatcher:
 * deliveries, attempts; back office: users, audit).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('merchants', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('active');
    /** Used when a deposit names no webhook URL of its own. */
    t.text('default_webhook_url');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `alter table merchants add constraint merchants_status check (status in ('active', 'disabled'))`,
  );

  await knex.schema.createTable('merchant_api_keys', (t) => {
    /** Public key id, the part of the key before the secret (shown in logs and lists). */
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('id').inTable('merchants').onDelete('CASCADE');
    /** SHA-256 of the whole key, hex. The key itself is shown once, at creation. */
    t.text('key_hash').notNullable();
    t.text('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.index(['merchant_id']);
  });

  await knex.schema.createTable('merchant_webhook_secrets', (t) => {
    t.bigIncrements('id');
    t.text('merchant_id').notNullable().references('id').inTable('merchants').onDelete('CASCADE');
    /** Standard Webhooks secret, `whsec_` + base64. */
    t.text('secret').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** Null while active; a rotated-out secret keeps signing until it expires. */
    t.timestamp('expires_at', { useTz: true });
    t.index(['merchant_id']);
  });

  await knex.schema.createTable('transactions', (t) => {
    t.text('id').primary();
    t.text('merchant_id').notNullable().references('id').inTable('merchants');
    t.text('merchant_transaction_id').notNullable();
    /** SHA-256 of the canonical request: a repeated merchant transaction id must carry the same request. */
    t.text('request_hash').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.string('currency', 3).notNullable();
    t.text('payment_method').notNullable();
    t.string('customer_country', 2);
    /** Customer fields the merchant sent and the customer submitted (never put on the event stream). */
    t.jsonb('customer_data').notNullable().defaultTo('{}');
    /** The webhook URL of this transaction, kept for retries and back-office resends. */
    t.text('webhook_url');
    t.jsonb('return_urls').notNullable().defaultTo('{}');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.text('status').notNullable();
    t.text('status_reason');
    /** Last event sequence number allocated for this transaction (see core/transactions/journal.ts). */
    t.bigInteger('last_sequence').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['merchant_id', 'merchant_transaction_id']);
    t.index(['merchant_id', 'created_at']);
    t.index(['status', 'updated_at']);
  });

  await knex.schema.createTable('payment_sessions', (t) => {
    t.text('id').primary();
    t.text('transaction_id').notNullable().unique().references('id').inTable('transactions');
    /** SHA-256 of the unguessable token in the hosted URL; the token itself is never stored. */
    t.text('token_hash').notNullable().unique();
    /** loading | customer_data_required | redirect_ready | completed | failed | expired */
    t.text('state').notNullable().defaultTo('loading');
    /** Field specs the hosted form renders when state = customer_data_required. */
    t.jsonb('required_fields');
    t.text('redirect_url');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('customer_data_submitted_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payment_sessions');
  await knex.schema.dropTableIfExists('transactions');
  await knex.schema.dropTableIfExists('merchant_webhook_secrets');
  await knex.schema.dropTableIfExists('merchant_api_keys');
  await knex.schema.dropTableIfExists('merchants');
}
