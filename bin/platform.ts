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
import type { DemoCredentials } from '../platform/demo/index.js';

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
      ...(config.services.includes('simulator') && platform.simulatorUrl
        ? [
            `  simulator   ${platform.simulatorUrl}   (provider simulator; cases: ${platform.simulatorUrl}/_sim/magic-amounts)`,
          ]
        : []),
      ...(platform.demo ? tryIt(platform.url, platform.demo) : []),
      '  Stop with Ctrl+C (drains in-flight work).',
      '',
    ].join('\n'),
  );
}

/** The "try it" block of demo mode: a deposit to copy, where to look next. */
function tryIt(url: string, demo: DemoCredentials): string[] {
  return [
    '',
    'Try it (demo merchant seeded; its API key is kept in DATA_DIR/demo-credentials.json):',
    `  curl -s ${url}/api/v2/deposit -H 'authorization: Bearer ${demo.apiKey}' -H 'content-type: application/json' \\`,
    `    -d '{"merchantTransactionId":"order-'$RANDOM'","amount":{"value":1999,"currency":"EUR"},"paymentMethod":"card","returnUrls":{"success":"https://shop.example/ok","failure":"https://shop.example/ko"}}'`,
    '  then open the hostedPaymentUrl of the answer in a browser (amounts ending 01..12 pick other provider behaviours).',
    `  webhooks    the demo merchant prints every signed webhook here; received list: ${demo.webhookReceiverUrl}`,
    `  back office ${url}/backoffice  (support token: ${demo.supportToken})`,
    '  npm run demo drives a whole payment and prints its timeline.',
    '',
  ];
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
