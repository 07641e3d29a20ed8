#!/usr/bin/env node
/**
 * `npm start`: runs the platform. With no environment it runs every service in one process on
 * embedded PGlite and the embedded broker; `--reset` wipes the embedded data first.
 */
import { rm } from 'node:fs/promises';
import { loadConfig } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { startPlatform } from '../platform/start-platform.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, service: 'platform' });
  if (process.argv.includes('--reset') && config.database.driver === 'pglite') {
    await rm(config.database.dataDir, { recursive: true, force: true });
    logger.info('embedded data wiped', { dataDir: config.database.dataDir });
  }
  const platform = await startPlatform(config, logger);
  platform.lifecycle.handleSignals();
  process.stdout.write(
    [
      '',
      `Payments platform is running (${config.services.join(', ')})`,
      `  HTTP        ${platform.url}   (health: ${platform.url}/healthz, metrics: ${platform.url}/metrics)`,
      `  database    ${config.database.driver === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL'}`,
      `  broker      ${config.broker.kind}`,
      '  Stop with Ctrl+C (drains in-flight work).',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
