import type { Knex } from 'knex';

/**
 * The back office's tables. backoffice_users: people who read transactions — merchant users (bound to
 * one merchant) and platform users (support, ops) — with their roles (permissions are data in
 * backoffice/permissions.ts, not stored). backoffice_access_tokens: bearer tokens, SHA-256 only (the
 * token is shown once), each with an optional expiry and a revocation time. backoffice_audit_log: every
 * privileged action and internal read — who, what, which target, when, with what outcome; append-only
 * (a trigger refuses updates and deletes, so a compromised back office cannot rewrite its own trail).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backoffice_users', (t) => {
    t.text('id').primary();
    t.text('email').notNullable();
    t.text('kind').notNullable();
    /** The one merchant a merchant user belongs to; null for platform users. */
    t.text('merchant_id').references('id').inTable('merchants');
    /** Role names (strings); unknown names grant nothing. */
    t.jsonb('roles').notNullable().defaultTo('[]');
    /** A disabled user's tokens are refused. Users are never deleted (the audit log names them). */
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['merchant_id']);
  });
  await knex.raw(`create unique index backoffice_users_email on backoffice_users (lower(email))`);
  await knex.raw(
    `alter table backoffice_users add constraint backoffice_users_kind
     check ((kind = 'merchant' and merchant_id is not null) or (kind = 'platform' and merchant_id is null))`,
  );

  await knex.schema.createTable('backoffice_access_tokens', (t) => {
    /** Public token id, the part before the secret (safe in logs and lists). */
    t.text('id').primary();
    t.text('user_id').notNullable().references('id').inTable('backoffice_users').onDelete('CASCADE');
    /** SHA-256 of the whole token, hex. */
    t.text('token_hash').notNullable();
    t.text('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('backoffice_audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** No foreign key: the trail outlives any change to the users table. */
    t.text('actor_user_id').notNullable();
    t.text('actor_email').notNullable();
    t.text('actor_kind').notNullable();
    /** e.g. webhook.resend, timeline.read_internal. */
    t.text('action').notNullable();
    t.text('target_type').notNullable();
    t.text('target_id').notNullable();
    t.text('transaction_id');
    t.text('merchant_id');
    /** succeeded | denied | not_found | rejected */
    t.text('outcome').notNullable();
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.text('request_id');
    t.text('client_ip');
    t.index(['transaction_id', 'occurred_at']);
    t.index(['actor_user_id', 'occurred_at']);
    t.index(['occurred_at']);
  });
  await knex.raw(
    `alter table backoffice_audit_log add constraint backoffice_audit_log_outcome
     check (outcome in ('succeeded', 'denied', 'not_found', 'rejected'))`,
  );
  await knex.raw(`
    create function backoffice_audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'backoffice_audit_log is append-only';
    end
    $$`);
  await knex.raw(`
    create trigger backoffice_audit_log_append_only before update or delete on backoffice_audit_log
    for each row execute function backoffice_audit_log_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('backoffice_audit_log');
  await knex.raw('drop function if exists backoffice_audit_log_append_only()');
  await knex.schema.dropTableIfExists('backoffice_access_tokens');
  await knex.schema.dropTableIfExists('backoffice_users');
}
