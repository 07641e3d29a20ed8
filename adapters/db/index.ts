import type { DatabaseConfig } from '../../core/config/index.js';
import type { Logger } from '../../core/logger.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Database } from './types.js';

export type { Database } from './types.js';

/** Opens the configured database: PostgreSQL (`DATABASE_URL`) or embedded PGlite (`DATA_DIR`). */
export function openDatabase(
  config: DatabaseConfig,
  options: { schema?: string; logger?: Logger } = {},
): Promise<Database> {
  return config.driver === 'postgres'
    ? openPostgres(config.url, { poolMax: config.poolMax, ...options })
    : openPglite(config.dataDir);
}
