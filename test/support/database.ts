/** Isolated databases for tests: a fresh schema per test file on PostgreSQL, a fresh in-memory PGlite. */
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { migrate } from '../../core/db/index.js';
import { backendEnv, requireBackend, uniqueName } from './backends.js';

export interface TestDatabase {
  database: Database;
  release(): Promise<void>;
}

export async function createTestDatabase(
  driver: 'postgres' | 'pglite',
  context: Mocha.Context,
): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
    await migrate(database.knex);
    return { database, release: () => database.close() };
  }
  requireBackend(context, 'PostgreSQL (TEST_DATABASE_URL)', !!backendEnv.postgresUrl);
  const schema = uniqueName('test').replace(/-/g, '_');
  const database = await openDatabase(
    { driver: 'postgres', url: backendEnv.postgresUrl!, poolMax: 20 },
    { schema },
  );
  await migrate(database.knex);
  return {
    database,
    release: async () => {
      await database.knex.raw('drop schema if exists ?? cascade', [schema]);
      await database.close();
    },
  };
}
