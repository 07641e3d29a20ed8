/** Isolated databases for tests: a fresh schema per test file on PostgreSQL, a fresh in-memory PGlite. */
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { migrate } from '../../core/db/index.js';
import { backendEnv, requireBackend, uniqueName } from './backends.js';

export interface TestDatabase {
  database: Database;
  /** PostgreSQL: the schema this database lives in (dropped by `release`); PGlite: undefined. */
  schema: string | undefined;
  /** Drops the schema (PostgreSQL) and closes the database. */
  release(): Promise<void>;
}

/**
 * A migrated database nobody else uses. PostgreSQL (TEST_DATABASE_URL): a new schema with a unique name
 * as the search_path of every connection, dropped with everything in it by `release`; skips the suite
 * (or fails it under REQUIRE_REAL_BACKENDS=1) when TEST_DATABASE_URL is unset. PGlite: a new in-memory
 * instance. Call it in `before` with the hook's `this`.
 */
export async function createTestDatabase(
  driver: 'postgres' | 'pglite',
  context: Mocha.Context,
): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
    await migrate(database.knex);
    return { database, schema: undefined, release: () => database.close() };
  }
  requireBackend(context, 'PostgreSQL (TEST_DATABASE_URL)', !!backendEnv.postgresUrl);
  const schema = uniqueName('test').replace(/-/g, '_');
  const database = await openDatabase(
    { driver: 'postgres', url: backendEnv.postgresUrl!, poolMax: 20 },
    { schema },
  );
  try {
    await migrate(database.knex);
  } catch (error) {
    await database.knex.raw('drop schema if exists ?? cascade', [schema]).catch(() => undefined);
    await database.close();
    throw error;
  }
  let released = false;
  return {
    database,
    schema,
    release: async () => {
      if (released) return;
      released = true;
      try {
        await database.knex.raw('drop schema if exists ?? cascade', [schema]);
      } finally {
        await database.close();
      }
    },
  };
}
