import type { Knex } from 'knex';

/**
 * An open database: knex for queries plus LISTEN for wake-ups. Same SQL on both drivers.
 *
 * Rules for callers (they follow from PGlite, which has exactly ONE connection, and keep code portable):
 * - Inside `knex.transaction(trx => ...)` use only `trx`. A query on the root `knex` there waits for the
 *   connection the transaction holds: a deadlock on PGlite until `acquireConnectionTimeout`.
 * - Never hold a transaction open while waiting for something else that needs the database (a broker
 *   publish, a handler, another request): on PGlite every other query of the process waits behind it.
 * - Never open one PGlite data dir from two processes (PGlite has no cross-process lock).
 */
export interface Database {
  readonly knex: Knex;
  readonly driver: 'postgres' | 'pglite';
  /**
   * Subscribes to NOTIFY on `channel` (a plain lower-case SQL identifier); resolves with an unsubscribe
   * function. Notifications are a wake-up hint only: one sent while the listening connection is down
   * (PostgreSQL reconnects by itself) is lost, so callers also poll.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** Rejects channel names that would need quoting (PGlite sends `LISTEN <name>` verbatim). */
export function assertChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`invalid LISTEN channel name: ${JSON.stringify(channel)}`);
}
