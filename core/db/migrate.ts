import type { Knex } from 'knex';
import * as m0001 from './migrations/0001_embedded_broker.js';
import * as m0002 from './migrations/0002_outbox_inbox.js';
import * as m0003 from './migrations/0003_failed_events_timeline.js';

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> };

/** Migrations listed explicitly (no directory scan), so they run the same under tsx, compiled, and bundled. */
const MIGRATIONS: ReadonlyArray<[name: string, migration: Migration]> = [
  ['0001_embedded_broker', m0001],
  ['0002_outbox_inbox', m0002],
  ['0003_failed_events_timeline', m0003],
];

const source: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

/** Brings the schema up to date; the same SQL on PostgreSQL and PGlite. Idempotent. */
export async function migrate(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource: source, tableName: 'knex_migrations' });
}
