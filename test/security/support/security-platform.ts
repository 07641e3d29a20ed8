/**
 * The whole platform in this process for the security suites, on either database: embedded PGlite, or
 * PostgreSQL (TEST_DATABASE_URL) in a schema of its own with the embedded broker's log in it. Demo mode
 * is off (no demo merchant, no extra receiver), and the network tripwire is on for the suite's life.
 */
import type { Logger } from '../../../core/logger.js';
import { backendEnv } from '../../support/backends.js';
import { databaseUrlForSchema } from '../../support/cli.js';
import { createTestDatabase } from '../../support/database.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { installNetworkTripwire, type Tripwire } from './network-tripwire.js';

export type DatabaseDriver = 'pglite' | 'postgres';
export const DRIVERS: readonly DatabaseDriver[] = ['pglite', 'postgres'];

export interface SecurityPlatform extends TestPlatform {
  driver: DatabaseDriver;
  tripwire: Tripwire;
}

/**
 * Starts the platform; call from a `before` hook with its `this` (PostgreSQL skips the suite, or fails it
 * under REQUIRE_REAL_BACKENDS=1, when TEST_DATABASE_URL is unset). `stop()` also drops the schema.
 */
export async function startSecurityPlatform(
  context: Mocha.Context,
  driver: DatabaseDriver,
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<SecurityPlatform> {
  let releaseDatabase = async () => undefined as void;
  const databaseEnv: Record<string, string> = {};
  if (driver === 'postgres') {
    // A migrated schema of its own; the platform opens its own pool on it, `release` drops it.
    const test = await createTestDatabase('postgres', context);
    databaseEnv.DATABASE_URL = databaseUrlForSchema(backendEnv.postgresUrl!, test.schema!);
    releaseDatabase = test.release;
  }
  const tripwire = installNetworkTripwire();
  try {
    const platform = await startTestPlatform({ DEMO: 'off', ...databaseEnv, ...env }, options);
    return {
      ...platform,
      driver,
      tripwire,
      async stop() {
        try {
          await platform.stop();
        } finally {
          tripwire.uninstall();
          await releaseDatabase();
        }
      },
    };
  } catch (error) {
    tripwire.uninstall();
    await releaseDatabase();
    throw error;
  }
}

/**
 * fast-check runs per property: the full count on PGlite; half on PostgreSQL, where the same
 * application code meets a second database (what differs there is storage, not input handling).
 */
export function runsFor(driver: DatabaseDriver, runs: number): number {
  return driver === 'postgres' ? Math.ceil(runs / 2) : runs;
}
