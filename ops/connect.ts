import { createTransport } from '../adapters/broker/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus } from '../core/broker/index.js';
import { loadConfig } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';

export interface OpsConnection {
  broker?: EventBus;
  database?: Database;
  close(): Promise<void>;
}

/**
 * Connects the CLI with the services' own configuration (BROKER, DATABASE_URL, ...). PGlite data
 * belongs to the platform process that opened it, so ops commands need PostgreSQL for database work.
 */
export async function connect(needs: { broker: boolean; database: boolean }): Promise<OpsConnection> {
  const config = loadConfig(process.env);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    service: 'payments-ops',
  });
  const needsDatabase = needs.database || (needs.broker && config.broker.kind === 'embedded');
  if (needsDatabase && config.database.driver === 'pglite') {
    throw new ConfigError(
      'this command needs the platform database, and the embedded PGlite database belongs to the running platform process (one process per data dir): set DATABASE_URL to the PostgreSQL the services use',
    );
  }
  let database: Database | undefined;
  let broker: EventBus | undefined;
  try {
    if (needsDatabase) {
      database = await openDatabase(config.database, { logger });
      await database.knex.raw('select 1').catch((error: Error) => {
        throw new ConfigError(`cannot reach the database in DATABASE_URL: ${error.message}`);
      });
    }
    if (needs.broker) {
      broker = new EventBus({
        transport: createTransport(config.broker, { database: database as Database, logger }),
        logger,
        publishTimeoutMs: config.broker.publishTimeoutMs,
      });
      await broker.start();
    }
  } catch (error) {
    await database?.close();
    throw error;
  }
  return {
    ...(broker ? { broker } : {}),
    ...(database ? { database } : {}),
    async close() {
      await broker?.stop(1_000);
      await database?.close();
    },
  };
}
