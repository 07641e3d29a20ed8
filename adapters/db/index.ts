import type { DatabaseConfig } from '../../core/config/index.js';
import type { Logger } from '../../core/logger.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Database } from './types.js';

export type { Database } from './types.js';
export { isInMemory } from './pglite.js';

/**
 * Opens the configured database: PostgreSQL (`DATABASE_URL`; `schema` sets the search_path of every
 * connection, creating the schema if missing) or embedded PGlite (`DATA_DIR`; `memory://` keeps it in
 * memory). `schema` is PostgreSQL-only: a PGlite database belongs to one process anyway.
 *
 * On PGlite there is ONE connection: inside `knex.transaction(trx => ...)` use only `trx`, never the root
 * `knex` (it would wait for the connection the transaction holds — a deadlock). See `Database`.
 */
export function openDatabase(
  config: DatabaseConfig,
  options: { schema?: string; logger?: Logger } = {},
): Promise<Database> {
  if (config.driver === 'postgres') return openPostgres(config.url, { poolMax: config.poolMax, ...options });
  if (options.schema) throw new Error('openDatabase: `schema` is only supported on PostgreSQL');
  return openPglite(config.dataDir, { logger: options.logger });
}
