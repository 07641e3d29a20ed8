/**
 * Which real backends this run can reach. On a laptop without them the real-backend suites skip; with
 * REQUIRE_REAL_BACKENDS=1 (set by .ci/run) a missing backend fails the suite instead of skipping it.
 */
import { randomBytes } from 'node:crypto';

export const REQUIRE_REAL_BACKENDS = process.env.REQUIRE_REAL_BACKENDS === '1';

export const backendEnv = {
  postgresUrl: process.env.TEST_DATABASE_URL,
  kafkaBrokers: process.env.TEST_KAFKA_BROKERS?.split(',').filter(Boolean),
  pubsubEmulatorHost: process.env.TEST_PUBSUB_EMULATOR_HOST,
};

/** Skips the current suite when `available` is false, or fails it when real backends are required. */
export function requireBackend(context: Mocha.Context, name: string, available: boolean): void {
  if (available) return;
  if (REQUIRE_REAL_BACKENDS) {
    throw new Error(
      `${name} is required (REQUIRE_REAL_BACKENDS=1) but not configured: run npm run services:up and source scripts/services/env.sh`,
    );
  }
  context.skip();
}

/** A name no other test file or run uses: for topics, groups, schemas. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
