import type { Knex } from 'knex';
import * as m0001 from './migrations/0001_embedded_broker.js';
import * as m0002 from './migrations/0002_outbox_inbox.js';
import * as m0003 from './migrations/0003_failed_events_timeline.js';
import * as m0004 from './migrations/0004_merchants_transactions.js';
import * as m0005 from './migrations/0005_processor.js';
import * as m0006 from './migrations/0006_webhook_deliveries.js';
import * as m0007 from './migrations/0007_backoffice.js';
import * as m0008 from './migrations/0008_webhook_resend_pending.js';

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> };

/**
 * Migrations listed explicitly (no directory scan), so they run the same under tsx, compiled `dist/`
 * and bundled. Append new ones at the end; never rename or edit the `up` of one that has shipped.
 * The SQL must run unchanged on PostgreSQL 15+ and PGlite.
 */
export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['0001_embedded_broker', m0001],
  ['0002_outbox_inbox', m0002],
  ['0003_failed_events_timeline', m0003],
  ['0004_merchants_transactions', m0004],
  ['0005_processor', m0005],
  ['0006_webhook_deliveries', m0006],
  ['0007_backoffice', m0007],
  ['0008_webhook_resend_pending', m0008],
];

const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

const TABLE = 'knex_migrations';

/**
 * Brings the schema up to date; the same SQL on PostgreSQL and PGlite. Idempotent. knex runs all
 * pending migrations in ONE transaction that also holds its migration lock, so a concurrent run (pods
 * starting together) waits for it and then finds nothing to do. Two first-ever runs would race creating
 * knex's bookkeeping tables; `ensureBookkeeping` makes that safe. A lock left set by a process killed
 * outside that transaction makes knex fail with "already locked": retried until `lockTimeoutMs`, then
 * reported with the fix.
 */
export async function migrate(knex: Knex, options: { lockTimeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.lockTimeoutMs ?? 60_000);
  await retryWhileConcurrent(() => ensureBookkeeping(knex), deadline);
  await retryWhileConcurrent(
    () => knex.migrate.latest({ migrationSource: source, tableName: TABLE }),
    deadline,
  );
}

async function retryWhileConcurrent(run: () => Promise<unknown>, deadline: number): Promise<void> {
  for (;;) {
    try {
      await run();
      return;
    } catch (error) {
      if (!isConcurrentMigration(error)) throw error;
      if (Date.now() > deadline) {
        throw new Error(
          `migrations are locked by another process for too long; if none is running, clear the stale lock: update ${TABLE}_lock set is_locked = 0`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 300));
    }
  }
}

/**
 * Creates knex's bookkeeping tables exactly as knex would, but race-free: knex checks-then-creates
 * them and inserts its lock row when the table looks empty, so two first-ever runs at once can leave
 * TWO lock rows — after which knex reports "already locked" forever. Here the lock row has a fixed key.
 */
async function ensureBookkeeping(knex: Knex): Promise<void> {
  await knex.raw(
    `create table if not exists ${TABLE} (id serial primary key, name varchar(255), batch integer, migration_time timestamptz)`,
  );
  await knex.raw(`create table if not exists ${TABLE}_lock ("index" serial primary key, is_locked integer)`);
  await knex.raw(
    `insert into ${TABLE}_lock ("index", is_locked) select 1, 0
     where not exists (select 1 from ${TABLE}_lock) on conflict do nothing`,
  );
}

/** Errors that only mean "another process is migrating right now". */
function isConcurrentMigration(error: unknown): boolean {
  const { name, message } = error as Error;
  if (name === 'MigrationLocked') return true;
  // CREATE TABLE IF NOT EXISTS of the bookkeeping tables racing (it checks, then creates): 42P07
  // duplicate_table, 42710 duplicate_object (its row type), or 23505 on the catalogs.
  const code = (error as { code?: string }).code ?? '';
  return (
    ['42P07', '42710', '23505'].includes(code) &&
    (message.includes(TABLE) || /pg_type|pg_class/.test(message))
  );
}
