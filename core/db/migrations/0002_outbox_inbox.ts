import type { Knex } from 'knex';

/** Transactional outbox (events waiting for the relay) and inbox (event ids a consumer has applied). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.text('topic').notNullable();
    t.text('key').notNullable();
    // Relays split the outbox by bucket = hash(key); one bucket is relayed in id order by one relay.
    t.integer('bucket').notNullable();
    t.text('event_id').notNullable();
    t.text('event_type').notNullable();
    t.binary('payload').notNullable();
    t.jsonb('headers').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('published_at', { useTz: true });
  });
  await knex.raw('create index outbox_pending on outbox (bucket, id) where published_at is null');
  await knex.raw('create index outbox_published on outbox (published_at) where published_at is not null');
  await knex.schema.createTable('inbox', (t) => {
    t.text('consumer').notNullable();
    t.text('event_id').notNullable();
    t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['consumer', 'event_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbox');
  await knex.schema.dropTableIfExists('outbox');
}
