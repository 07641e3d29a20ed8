import type { Knex } from 'knex';

/**
 * An open database: knex for queries plus LISTEN for wake-ups.
 *
 * PGlite has exactly one connection: inside `knex.transaction(trx => ...)` use only `trx`; a query on
 * the root `knex` there waits for the connection the transaction holds, forever.
 */
export interface Database {
  readonly knex: Knex;
  readonly driver: 'postgres' | 'pglite';
  /** Subscribes to NOTIFY on `channel`; resolves with an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
