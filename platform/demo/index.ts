/**
 * Demo mode of `npm start` (config.demo): the demo merchant's webhook receiver and the seeded demo
 * merchant and support user. Loaded only in demo mode (the receiver uses a development dependency).
 */
import type { Knex } from 'knex';
import type { Config } from '../../core/config/index.js';
import { activeWebhookSecrets } from '../../core/merchants/index.js';
import type { Logger } from '../../core/logger.js';
import { DEMO_MERCHANT_ID, ensureDemo, type DemoCredentials } from './seed.js';

export interface RunningDemo {
  credentials: DemoCredentials;
  close(): Promise<void>;
}

export async function startDemo(options: {
  config: Config;
  knex: Knex;
  logger: Logger;
  platformUrl: string;
}): Promise<RunningDemo> {
  const { startDemoWebhookReceiver } = await import('./webhook-receiver.js');
  const receiver = await startDemoWebhookReceiver({
    host: options.config.http.host,
    port: options.config.demo.webhookPort,
    secrets: () => activeWebhookSecrets(options.knex, DEMO_MERCHANT_ID),
    logger: options.logger,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  try {
    const credentials = await ensureDemo(options.knex, {
      dir: options.config.demo.credentialsDir,
      webhookUrl: receiver.url,
      platformUrl: options.platformUrl,
    });
    return { credentials, close: () => receiver.close() };
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

export type { DemoCredentials } from './seed.js';
