import type { Knex } from 'knex';

/** The embedded broker's log (topics, offset counters, messages, group offsets) and partition leases. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('broker_topics', (t) => {
    t.text('name').primary();
    t.integer('partitions').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('broker_partitions', (t) => {
    t.text('topic').notNullable().references('name').inTable('broker_topics').onDelete('CASCADE');
    t.integer('partition').notNullable();
    // Offsets are handed out by updating this counter inside the publishing transaction, which
    // serialises publishers per partition and makes offsets follow commit order with no gaps.
    t.bigInteger('next_offset').notNullable().defaultTo(0);
    t.primary(['topic', 'partition']);
  });
  await knex.schema.createTable('broker_messages', (t) => {
    t.text('topic').notNullable();
    t.integer('partition').notNullable();
    t.bigInteger('offset').notNullable();
    t.text('key').notNullable();
    t.binary('value').notNullable();
    t.jsonb('headers').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['topic', 'partition', 'offset']);
  });
  await knex.schema.createTable('broker_group_offsets', (t) => {
    t.text('group_name').notNullable();
    t.text('topic').notNullable();
    t.integer('partition').notNullable();
    t.bigInteger('committed').notNullable();
    t.primary(['group_name', 'topic', 'partition']);
  });
  // Partition leases, shared by the embedded broker's consumer groups and the outbox relays: members
  // of a group split a scope's partitions, and a member that stops renewing loses them on expiry.
  await knex.schema.createTable('lease_members', (t) => {
    t.text('group_name').notNullable();
    t.text('scope').notNullable();
    t.text('member_id').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['group_name', 'scope', 'member_id']);
  });
  await knex.schema.createTable('partition_leases', (t) => {
    t.text('group_name').notNullable();
    t.text('scope').notNullable();
    t.integer('partition').notNullable();
    t.text('owner').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['group_name', 'scope', 'partition']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'partition_leases',
    'lease_members',
    'broker_group_offsets',
    'broker_messages',
    'broker_partitions',
    'broker_topics',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
