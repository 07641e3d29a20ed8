/**
 * The whole platform in this process (startPlatform, as `npm start` runs it) on embedded defaults or on
 * the real backends, with a merchant whose webhooks go to a real receiver verifying signatures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../core/config/index.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { createMerchant } from '../../core/merchants/index.js';
import { startPlatform, type RunningPlatform } from '../../platform/start-platform.js';
import { MerchantReceiver } from '../webhooks/merchant-receiver.js';
import { prepareBackend, type TestBackend } from './platform-backends.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestPlatform {
  platform: RunningPlatform;
  /** The configuration the platform runs with (secrets, timeouts, broker). */
  config: Config;
  backend: TestBackend;
  url: string;
  simulatorUrl: string;
  merchant: { merchantId: string; apiKey: string; webhookSecret: string };
  receiver: MerchantReceiver;
  deposit(body: Record<string, unknown>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  transaction(id: string): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stop(): Promise<void>;
}

/**
 * `options.logger`: where the platform logs (default: nowhere), e.g. a capture to search for leaks.
 * `options.backend`: embedded broker on PGlite (default), or a run-isolated PostgreSQL schema with the
 * embedded broker, Kafka or the Pub/Sub emulator (see platform-backends.ts; check availability first
 * with requireTestBackend).
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  options: { logger?: Logger; backend?: TestBackend } = {},
): Promise<TestPlatform> {
  const backend = options.backend ?? 'embedded-pglite';
  const prepared = await prepareBackend(backend);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'payments-flow-'));
  const [port, simulatorPort] = [await freePort(), await freePort()];
  env = { ...prepared.env, ...env };
  const config = loadConfig({
    DEMO: 'off',
    DATA_DIR: dataDir,
    HTTP_PORT: String(port),
    SIMULATOR_PORT: String(simulatorPort),
    LOG_LEVEL: 'silent',
    MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'true',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'loopback',
    SIMULATOR_CALLBACK_RETRY_DELAYS_MS: '100,300',
    ...env,
  });
  const platform = await startPlatform(config, options.logger ?? silentLogger, {
    ...process.env,
    ...env,
  }).catch(async (error: unknown) => {
    await prepared.release().catch(() => undefined);
    throw error;
  });
  const created = await createMerchant(platform.database.knex, { name: 'Flow Shop' });
  const receiver = await new MerchantReceiver(created.webhookSecret).start();
  const merchant = {
    merchantId: created.merchantId,
    apiKey: created.apiKey,
    webhookSecret: created.webhookSecret,
  };
  const headers = { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' };
  return {
    platform,
    config,
    backend,
    url: platform.url,
    simulatorUrl: platform.simulatorUrl!,
    merchant,
    receiver,
    async deposit(body) {
      const response = await fetch(`${platform.url}/api/v2/deposit`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ webhookUrl: receiver.url(), ...body }),
      });
      return { status: response.status, body: await response.json() };
    },
    async transaction(id) {
      const response = await fetch(`${platform.url}/api/v2/transactions/${id}`, { headers });
      return response.json();
    },
    async stop() {
      await platform.stop();
      await receiver.close();
      await rm(dataDir, { recursive: true, force: true });
      await prepared.release();
    },
  };
}
