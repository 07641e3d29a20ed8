/**
 * The platform as four processes (gateway, processor, webhook-dispatcher, relay) on a run-isolated
 * backend, with the provider simulator and the merchant's webhook endpoint in the test process so they
 * outlive every kill. Ports stay fixed across restarts: providers keep calling back to the same URL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../adapters/db/index.js';
import { loadConfig, type Config } from '../../../core/config/index.js';
import { migrate } from '../../../core/db/index.js';
import { silentLogger } from '../../../core/logger.js';
import { createMerchant } from '../../../core/merchants/index.js';
import type { ProviderSimulatorOptions, RunningSimulator } from '../../../provider-simulator/index.js';
import { freePort } from '../../support/platform.js';
import { prepareBackend, type PreparedBackend, type TestBackend } from '../../support/platform-backends.js';
import { freshSecrets, startTestSimulator } from '../../support/simulator.js';
import { FlakyMerchant, type FlakyMerchantOptions } from './flaky-merchant.js';
import { ServiceProcess } from './service-process.js';

export const SERVICE_NAMES = ['gateway', 'processor', 'webhook-dispatcher', 'relay'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ClusterOptions {
  backend: Exclude<TestBackend, 'embedded-pglite'>;
  /** Extra platform environment (retry schedules, timeouts). */
  env?: Record<string, string>;
  /** Rewrites the backend environment the services get (e.g. point them at a cuttable proxy). */
  routeServices?: (env: Record<string, string>) => Record<string, string>;
  /** Pauses before the simulator re-sends a callback that was not answered 2xx. */
  callbackRetryDelaysMs?: number[];
  merchant?: FlakyMerchantOptions;
  /** Provider simulator settings (e.g. `autoCompleteAfterMs` for benchmarks without a browser). */
  simulator?: Partial<ProviderSimulatorOptions>;
  /**
   * Processes per service (default 1). Several processors, dispatchers or relays share the work
   * (consumer groups, outbox leases), so a kill also hands work over to a live peer. The gateway
   * stays one process: providers and customers keep calling one fixed URL.
   */
  replicas?: Partial<Record<Exclude<ServiceName, 'gateway'>, number>>;
}

export interface Cluster {
  /** Every service process (`processor`, `processor-2`, ...). */
  services: ServiceProcess[];
  gatewayUrl: string;
  simulator: RunningSimulator;
  merchant: FlakyMerchant;
  merchantId: string;
  apiKey: string;
  /** The test's own connection to the run's database (never through a proxy). */
  database: Database;
  /** The configuration as the services load it (same broker namespace, same database). */
  config: Config;
  /** The backend environment of the run, direct (no proxy): for the test's own broker clients. */
  backendEnv: Record<string, string>;
  logDir: string;
  /** Every service's log tail, for a failure report. */
  tails(lines?: number): string;
  unexpectedExits(): string[];
  /** Stops everything; keeps the logs when `keepLogs` (or CHAOS_KEEP_LOGS=1). */
  close(keepLogs: boolean): Promise<void>;
}

export const SESSION_TOKEN_SECRET = 'chaos-session-token-secret-0123456789abcdef';

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const logDir = await mkdtemp(path.join(tmpdir(), `chaos-${options.backend}-`));
  const prepared: PreparedBackend = await prepareBackend(options.backend);
  const secrets = freshSecrets();
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const { sim } = await startTestSimulator({
      secrets,
      callbackRetryDelaysMs: options.callbackRetryDelaysMs ?? [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000],
      callbackTimeoutMs: 10_000,
      ...options.simulator,
    });
    cleanups.push(() => sim.close());
    const platformEnv: Record<string, string> = {
      DEMO: 'off',
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      PUBLIC_BASE_URL: gatewayUrl,
      SIMULATOR_PUBLIC_URL: sim.url,
      SESSION_TOKEN_SECRET,
      PROVIDER_STRIPESIM_WEBHOOK_SECRET: secrets['stripe-sim'].join(','),
      PROVIDER_ADYENSIM_HMAC_KEY: secrets['adyen-sim'].join(','),
      MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_ADDRESS_CLASSES: 'loopback',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_RETRY_SCHEDULE_MS: '250,500,1000,2000,4000',
      BROKER_DELAY_TIERS_MS: '250,1000,5000',
      EMBEDDED_BROKER_PARTITIONS: '4',
      PROVIDER_TIMEOUT_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '3000',
      ...prepared.env,
      ...options.env,
    };
    const config = loadConfig(platformEnv);
    const database = await openDatabase(config.database, { logger: silentLogger });
    cleanups.push(() => database.close());
    await migrate(database.knex);
    const created = await createMerchant(database.knex, { name: 'Chaos Shop' });
    const merchant = await new FlakyMerchant(created.webhookSecret, options.merchant).start();
    cleanups.push(() => merchant.close());

    const serviceEnv = options.routeServices?.(platformEnv) ?? platformEnv;
    const services: ServiceProcess[] = [];
    for (const service of SERVICE_NAMES) {
      const count = service === 'gateway' ? 1 : (options.replicas?.[service] ?? 1);
      for (let i = 1; i <= count; i++) {
        const port = service === 'gateway' ? gatewayPort : await freePort();
        services.push(
          new ServiceProcess({
            name: i === 1 ? service : `${service}-${i}`,
            env: { ...serviceEnv, SERVICES: service, HTTP_PORT: String(port) },
            port,
            logDir,
          }),
        );
      }
    }
    cleanups.push(() => Promise.all(services.map((s) => s.close())));
    await Promise.all(services.map((s) => s.start()));

    let closed: Promise<void> | undefined;
    return {
      services,
      gatewayUrl,
      simulator: sim,
      merchant,
      merchantId: created.merchantId,
      apiKey: created.apiKey,
      database,
      config,
      backendEnv: platformEnv,
      logDir,
      tails: (lines = 40) => services.map((s) => s.tail(lines)).join('\n\n'),
      unexpectedExits: () => services.flatMap((s) => s.unexpectedExits),
      close: (keepLogs) =>
        (closed ??= (async () => {
          await runCleanups(cleanups);
          await prepared.release().catch(() => undefined);
          if (keepLogs || process.env.CHAOS_KEEP_LOGS === '1')
            process.stdout.write(`chaos logs kept in ${logDir}\n`);
          else await rm(logDir, { recursive: true, force: true });
        })()),
    };
  } catch (error) {
    const tails = await readTails(logDir);
    await runCleanups(cleanups);
    await prepared.release().catch(() => undefined);
    throw new Error(`${(error as Error).message}\nlogs kept in ${logDir}\n${tails}`, { cause: error });
  }
}

async function runCleanups(cleanups: Array<() => Promise<unknown>>): Promise<void> {
  // Reverse order of opening: services, merchant, database, simulator.
  for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
}

async function readTails(logDir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const files = await readdir(logDir).catch(() => [] as string[]);
  const parts = await Promise.all(
    files.map(async (file) => {
      const lines = (await readFile(path.join(logDir, file), 'utf8')).trimEnd().split('\n');
      return [`--- ${file} ---`, ...lines.slice(-30)].join('\n');
    }),
  );
  return parts.join('\n\n');
}
