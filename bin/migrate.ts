#!/usr/bin/env node
/** Runs the database migrations and exits: the Kubernetes migration Job and the compose `migrate` service. */
import { openDatabase } from '../adapters/db/index.js';
import { loadDatabaseConfig } from '../core/config/index.js';
import { migrate } from '../core/db/index.js';
import { ConfigError } from '../core/errors.js';

try {
  const database = await openDatabase(loadDatabaseConfig(process.env));
  try {
    await migrate(database.knex);
    process.stdout.write('migrations applied\n');
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? 'Configuration error' : 'Migration failed'}: ${(error as Error).message}\n`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
}
