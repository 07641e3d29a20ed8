import { DEFAULT_DELAY_TIERS_MS } from '../broker/delay-tiers.js';
import type { LogLevel } from '../logger.js';
import { ConfigError } from '../errors.js';
import { hostPort, int, intList, list, oneOf, optionalStr, str, url, type Env } from './parsers.js';

export const SERVICES = ['gateway', 'processor', 'webhook-dispatcher', 'relay', 'simulator'] as const;
export type ServiceName = (typeof SERVICES)[number];

export type DatabaseConfig =
  { driver: 'postgres'; url: string; poolMax: number } | { driver: 'pglite'; dataDir: string };

export type BrokerConfig =
  | ({ kind: 'embedded'; partitions: number } & BrokerCommon)
  | ({ kind: 'kafka'; brokers: string[]; clientId: string; partitions: number } & BrokerCommon)
  | ({ kind: 'pubsub'; projectId: string; emulatorHost: string | undefined } & BrokerCommon);

interface BrokerCommon {
  publishTimeoutMs: number;
  delayTiersMs: number[];
}

/** Provider callback verification: secrets stay in configuration so the Provider Gateway needs no database. */
export interface ProvidersConfig {
  secrets: Record<string, string[]>;
  stripeSimToleranceSeconds: number;
  maxCallbackBytes: number;
}

export interface Config {
  services: ServiceName[];
  logLevel: LogLevel;
  http: { host: string; port: number; publicBaseUrl: string };
  database: DatabaseConfig;
  broker: BrokerConfig;
  providers: ProvidersConfig;
  shutdownTimeoutMs: number;
}

/**
 * Every environment variable the platform reads, with its default and meaning. The README's
 * configuration table and the deployment manifests are checked against this list.
 */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  {
    name: 'SERVICES',
    default: 'all',
    description: `Comma list of services this process runs: all, or any of ${SERVICES.join(', ')}`,
  },
  { name: 'LOG_LEVEL', default: 'info', description: 'error, warn, info, debug or silent' },
  {
    name: 'HTTP_HOST',
    default: '127.0.0.1',
    description: 'Interface the HTTP servers bind to (0.0.0.0 in containers)',
  },
  { name: 'HTTP_PORT', default: '8080', description: 'Port of the gateway HTTP server' },
  {
    name: 'PUBLIC_BASE_URL',
    default: 'http://<HTTP_HOST>:<HTTP_PORT>',
    description: 'Base URL customers and providers use to reach the gateway',
  },
  {
    name: 'DATABASE_URL',
    default: '(unset: embedded PGlite)',
    description: 'postgres:// URL; when unset the embedded PGlite database is used',
  },
  { name: 'DATABASE_POOL_MAX', default: '10', description: 'Maximum PostgreSQL connections per process' },
  { name: 'DATA_DIR', default: '.data', description: 'Where the embedded database keeps its files' },
  { name: 'BROKER', default: 'embedded', description: 'embedded, kafka or pubsub' },
  {
    name: 'BROKER_PUBLISH_TIMEOUT_MS',
    default: '10000',
    description: 'A publish not durably acknowledged by then fails (callers answer 503)',
  },
  {
    name: 'BROKER_DELAY_TIERS_MS',
    default: DEFAULT_DELAY_TIERS_MS.join(','),
    description: 'Delays of the retry-tier topics used for delayed delivery',
  },
  {
    name: 'EMBEDDED_BROKER_PARTITIONS',
    default: '16',
    description: 'Partitions per topic of the embedded broker',
  },
  {
    name: 'KAFKA_BROKERS',
    default: '(required when BROKER=kafka)',
    description: 'Comma list of host:port bootstrap brokers',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'payments-platform', description: 'Kafka client id' },
  { name: 'KAFKA_PARTITIONS', default: '8', description: 'Partitions for topics the platform creates' },
  {
    name: 'PUBSUB_PROJECT_ID',
    default: '(required when BROKER=pubsub)',
    description: 'Google Cloud project of the topics',
  },
  {
    name: 'PUBSUB_EMULATOR_HOST',
    default: '(unset)',
    description: 'host:port of a Pub/Sub emulator (development and tests)',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '15000',
    description: 'How long SIGTERM waits for in-flight work before closing',
  },
];

/** Reads and validates the configuration; throws ConfigError naming the variable to fix. Pure. */
export function loadConfig(env: Env): Config {
  const rawServices = list(env, 'SERVICES', ['all']);
  const services = rawServices.includes('all')
    ? [...SERVICES]
    : rawServices.map((name) => {
        if (!(SERVICES as readonly string[]).includes(name)) {
          throw new ConfigError(
            `SERVICES contains unknown service "${name}"; use all or ${SERVICES.join(', ')}`,
          );
        }
        return name as ServiceName;
      });
  const host = str(env, 'HTTP_HOST', '127.0.0.1');
  const port = int(env, 'HTTP_PORT', 8080, { min: 0, max: 65535 });
  const publicBaseUrl = url(env, 'PUBLIC_BASE_URL', ['http:', 'https:']) ?? `http://${host}:${port}`;

  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const database: DatabaseConfig = databaseUrl
    ? {
        driver: 'postgres',
        url: databaseUrl,
        poolMax: int(env, 'DATABASE_POOL_MAX', 10, { min: 1, max: 500 }),
      }
    : { driver: 'pglite', dataDir: `${str(env, 'DATA_DIR', '.data')}/pglite` };

  const common: BrokerCommon = {
    publishTimeoutMs: int(env, 'BROKER_PUBLISH_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    delayTiersMs: intList(env, 'BROKER_DELAY_TIERS_MS', DEFAULT_DELAY_TIERS_MS),
  };
  if (common.delayTiersMs.length === 0)
    throw new ConfigError('BROKER_DELAY_TIERS_MS must list at least one delay');
  const kind = oneOf(env, 'BROKER', ['embedded', 'kafka', 'pubsub'] as const, 'embedded');
  let broker: BrokerConfig;
  switch (kind) {
    case 'embedded':
      broker = {
        kind,
        partitions: int(env, 'EMBEDDED_BROKER_PARTITIONS', 16, { min: 1, max: 256 }),
        ...common,
      };
      break;
    case 'kafka': {
      const brokers = list(env, 'KAFKA_BROKERS', []);
      if (brokers.length === 0)
        throw new ConfigError('KAFKA_BROKERS must be set when BROKER=kafka (e.g. 127.0.0.1:9092)');
      brokers.forEach((b) => hostPort(b, 'KAFKA_BROKERS'));
      broker = {
        kind,
        brokers,
        clientId: str(env, 'KAFKA_CLIENT_ID', 'payments-platform'),
        partitions: int(env, 'KAFKA_PARTITIONS', 8, { min: 1, max: 1000 }),
        ...common,
      };
      break;
    }
    case 'pubsub': {
      const projectId = optionalStr(env, 'PUBSUB_PROJECT_ID');
      if (!projectId) throw new ConfigError('PUBSUB_PROJECT_ID must be set when BROKER=pubsub');
      const emulatorHost = optionalStr(env, 'PUBSUB_EMULATOR_HOST');
      if (emulatorHost) hostPort(emulatorHost, 'PUBSUB_EMULATOR_HOST');
      broker = { kind, projectId, emulatorHost, ...common };
      break;
    }
  }
  return {
    services,
    logLevel: oneOf(env, 'LOG_LEVEL', ['error', 'warn', 'info', 'debug', 'silent'] as const, 'info'),
    http: { host, port, publicBaseUrl },
    database,
    broker,
    providers: {
      secrets: {
        'stripe-sim': list(env, 'PROVIDER_STRIPESIM_WEBHOOK_SECRET', []),
        'adyen-sim': adyenKeys(list(env, 'PROVIDER_ADYENSIM_HMAC_KEY', [])),
      },
      stripeSimToleranceSeconds: int(env, 'PROVIDER_STRIPESIM_TOLERANCE_SECONDS', 300, { min: 1, max: 3600 }),
      maxCallbackBytes: int(env, 'PROVIDER_CALLBACK_MAX_BYTES', 262_144, { min: 1024, max: 10_485_760 }),
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, { min: 0, max: 600_000 }),
  };
}

function adyenKeys(keys: string[]): string[] {
  for (const key of keys) {
    if (!/^([0-9a-fA-F]{2})+$/.test(key))
      throw new ConfigError('PROVIDER_ADYENSIM_HMAC_KEY must be a comma list of hex keys');
  }
  return keys;
}
