import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import knexFactory from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Database } from './types.js';

/** Embedded PostgreSQL (WASM) with its data on disk, or in memory for `memory://`. */
export async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const pglite = dataDir.startsWith('memory://') ? new PGlite() : new PGlite(dataDir);
  await pglite.waitReady;
  const knex = knexFactory({
    client: ClientPgLite as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: () => ({ pglite }) as object,
  });
  let closed = false;
  return {
    knex,
    driver: 'pglite',
    async listen(channel, onNotify) {
      const unsubscribe = await pglite.listen(channel, onNotify);
      return async () => {
        if (!closed) await unsubscribe();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await knex.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}
