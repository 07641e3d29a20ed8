import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Logger } from '../../core/logger.js';
import { assertChannel, type Database } from './types.js';

/** `dataDir` values that keep the database in memory (tests). */
export function isInMemory(dataDir: string): boolean {
  return dataDir.startsWith('memory://');
}

/**
 * Embedded PostgreSQL (WASM) with its data in `dataDir` (created with its parents), or in memory for
 * `memory://...`.
 *
 * ONE connection (knex-pglite forces the pool to 1): inside `knex.transaction(trx => ...)` use only
 * `trx` — a query on the root `knex` waits for the connection the transaction holds, i.e. deadlocks until
 * `acquireConnectionTimeout`. Keep transactions short; never hold one while a handler or a network call
 * runs. Durability: PGlite writes its WAL through Node's `fs.writeSync` at commit, so a committed
 * transaction survives a process crash (SIGKILL); Emscripten's Node filesystem does not forward
 * `fsync`, so an OS crash or power loss can lose the last commits (see decision 0005).
 */
export async function openPglite(dataDir: string, options: { logger?: Logger } = {}): Promise<Database> {
  const memory = isInMemory(dataDir);
  if (!memory) await mkdir(path.resolve(dataDir), { recursive: true });
  const pglite = memory ? new PGlite() : new PGlite(path.resolve(dataDir));
  await pglite.waitReady;
  options.logger?.debug('PGlite open', { dataDir: memory ? 'memory' : path.resolve(dataDir) });
  const knex: Knex = knexFactory({
    client: ClientPgLite as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: () => ({ pglite }) as object,
    // Fail loudly (instead of hanging forever) if someone breaks the one-connection rule above.
    acquireConnectionTimeout: 60_000,
  });
  let closed = false;

  /**
   * Runs `fn` while holding knex's only connection. PGlite's own `listen` runs `LISTEN` on that same
   * connection behind knex's back; without this it could land inside a knex transaction and be undone
   * by its rollback.
   */
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const connection: unknown = await knex.client.acquireConnection();
    try {
      return await fn();
    } finally {
      await knex.client.releaseConnection(connection);
    }
  };

  return {
    knex,
    driver: 'pglite',
    async listen(channel, onNotify) {
      assertChannel(channel);
      const unsubscribe = await exclusive(() => pglite.listen(channel, onNotify));
      let done = false;
      return async () => {
        if (done || closed) return;
        done = true;
        await exclusive(() => unsubscribe());
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await knex.destroy(); // knex-pglite closes the PGlite instance with its connection
      if (!pglite.closed) await pglite.close();
    },
  };
}
