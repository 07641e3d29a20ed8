import { DEFAULT_DELAY_TIERS_MS } from '../broker/delay-tiers.js';
import { NAMESPACE_PATTERN } from '../broker/namespaced-transport.js';
import type { LogLevel } from '../logger.js';
import { ConfigError } from '../errors.js';
import { bool, hostPort, int, intList, list, oneOf, optionalStr, str, url, type Env } from './parsers.js';

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
  /** Prefix of every topic and consumer group (several platforms on one broker); undefined: none. */
  namespace?: string | undefined;
}

/** Development-only provider callback secrets (published: never valid in production). */
export const DEV_STRIPESIM_WEBHOOK_SECRET = 'whsec_development_only_stripe_sim_secret';
export const DEV_ADYENSIM_HMAC_KEY = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';

function devOnly(env: Env, values: string[]): string[] {
  return optionalStr(env, 'NODE_ENV') === 'production' ? [] : values;
}

/** Provider callback verification: secrets stay in configuration so the Provider Gateway needs no database. */
export interface ProvidersConfig {
  secrets: Record<string, string[]>;
  stripeSimToleranceSeconds: number;
  maxCallbackBytes: number;
}

/** Merchant API (`/api/v2`): hosted-session links, request limits, URL policy. */
export interface MerchantApiConfig {
  /** HMAC secrets that derive hosted-session tokens, newest first (several while rotating). */
  sessionTokenSecrets: string[];
  /** True when SESSION_TOKEN_SECRET is unset outside production and a published development secret is used. */
  sessionTokenSecretIsDevDefault: boolean;
  sessionTtlSeconds: number;
  maxBodyBytes: number;
  /** Accept http:// webhook and return URLs on loopback hosts (local development only). */
  allowHttpLoopbackUrls: boolean;
  /** Database work of one request answers 503 after this long. */
  databaseTimeoutMs: number;
  /** How long an accepted API key is trusted from memory (0 = ask the database every time). */
  apiKeyCacheSeconds: number;
}

/** Used when SESSION_TOKEN_SECRET is unset outside production; start-up warns loudly about it. */
export const DEV_SESSION_TOKEN_SECRET = 'dev-only-session-token-secret-never-use-in-production';

/** Routing rules (providers, SUB MIDs, rules) come from a validated file; see processor/routing. */
export interface RoutingConfig {
  rulesFile: string;
  /** Provider credentials may fall back to the file's development defaults (never in production). */
  allowDevCredentials: boolean;
  /** A provider call not answered by then is a failed attempt with an unknown outcome (fallback follows). */
  providerTimeoutMs: number;
}

/** Merchant webhook dispatcher: retry schedule, timeouts, isolation and the SSRF policy. */
export interface WebhooksConfig {
  /** Delay after the 1st, 2nd, ... failed attempt; one more attempt than entries. */
  retryScheduleMs: number[];
  timeoutMs: number;
  maxInFlightPerHost: number;
  /** Attempts waiting in memory for one busy host / for busy hosts in all, before deferring via the broker. */
  maxQueuedPerHost: number;
  maxQueued: number;
  concurrency: number;
  allowHttp: boolean;
  /** Non-public address classes webhook URLs may resolve to (tests, local demo). */
  allowAddresses: Array<'loopback' | 'private' | 'link-local'>;
  /** Re-publishing of scheduled attempts whose message was lost (webhook-dispatcher/overdue-sweep.ts). */
  overdueSweep: { intervalMs: number; graceMs: number };
  /** Idle keep-alive of merchant connections (0 = a new connection per attempt). */
  keepAliveMs: number;
}

/** Same as webhook-dispatcher's DEFAULT_WEBHOOK_SCHEDULE_MS (a unit test keeps them equal): 5 s ... 24 h. */
const DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The provider simulator (development, demo, tests): where it listens and its defaults. */
export interface SimulatorConfig {
  /** 0 = any free port. */
  port: number;
  /** Base URL customers and connectors reach it at; undefined: its bound address. */
  publicUrl: string | undefined;
  /** Redirect payments complete by themselves after this long; undefined: only when the customer pays. */
  autoCompleteAfterMs: number | undefined;
  /** Pauses before re-sending a callback the platform did not answer 2xx. */
  callbackRetryDelaysMs: number[];
}

/** Same as provider-simulator's DEFAULT_CALLBACK_RETRY_DELAYS_MS (a test keeps them equal). */
const DEFAULT_SIMULATOR_CALLBACK_RETRY_DELAYS_MS = [1_000, 5_000, 30_000];

export interface Config {
  services: ServiceName[];
  logLevel: LogLevel;
  http: { host: string; port: number; publicBaseUrl: string };
  database: DatabaseConfig;
  broker: BrokerConfig;
  providers: ProvidersConfig;
  merchantApi: MerchantApiConfig;
  routing: RoutingConfig;
  webhooks: WebhooksConfig;
  simulator: SimulatorConfig;
  demo: DemoConfig;
  shutdownTimeoutMs: number;
}

/**
 * The demo of `npm start`: a seeded demo merchant whose webhooks go to a receiver in the same process.
 * On by default only on the embedded database (a laptop); it also makes loopback http:// URLs the
 * default-allowed webhook and return URLs, which production keeps refused.
 */
export interface DemoConfig {
  enabled: boolean;
  webhookPort: number;
  /** Where the demo credentials are kept (DATA_DIR: development data, never a production path). */
  credentialsDir: string;
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
    name: 'BROKER_NAMESPACE',
    default: '(unset: plain names)',
    description:
      'Prefix of every topic and consumer group (lower-case letters, digits, dashes), so several platforms or test runs share one Kafka or Pub/Sub',
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
  {
    name: 'PROVIDER_STRIPESIM_WEBHOOK_SECRET',
    default: '(a published development secret; unset in production: stripe-sim callbacks answer 503)',
    description: 'Comma list of stripe-sim webhook signing secrets (several while rotating)',
  },
  {
    name: 'PROVIDER_ADYENSIM_HMAC_KEY',
    default: '(a published development key; unset in production: adyen-sim callbacks answer 503)',
    description: 'Comma list of adyen-sim HMAC keys, hex (several while rotating)',
  },
  {
    name: 'PROVIDER_STRIPESIM_TOLERANCE_SECONDS',
    default: '300',
    description: 'Maximum age of a stripe-sim signature timestamp',
  },
  {
    name: 'PROVIDER_CALLBACK_MAX_BYTES',
    default: '262144',
    description: 'Largest provider callback body the gateway accepts',
  },
  {
    name: 'NODE_ENV',
    default: '(unset)',
    description:
      'production (set by the Dockerfile) makes SESSION_TOKEN_SECRET mandatory for the gateway and turns off the development defaults of provider credentials in the routing rules',
  },
  {
    name: 'SESSION_TOKEN_SECRET',
    default: '(required in production; a published dev secret otherwise)',
    description:
      'Comma list (newest first) of 32+ character secrets deriving hosted payment links; keep old ones while links are live',
  },
  {
    name: 'PAYMENT_SESSION_TTL_SECONDS',
    default: '1800',
    description: 'How long a hosted payment link stays usable',
  },
  {
    name: 'MERCHANT_API_MAX_BODY_BYTES',
    default: '65536',
    description: 'Largest merchant API request body (larger answers 413)',
  },
  {
    name: 'MERCHANT_API_ALLOW_HTTP_LOOPBACK',
    default: 'false (true in demo mode)',
    description: 'Accept http:// webhook and return URLs on localhost/127.0.0.1/[::1] (development only)',
  },
  {
    name: 'MERCHANT_API_DB_TIMEOUT_MS',
    default: '5000',
    description: 'Merchant API requests whose database work takes longer answer 503',
  },
  {
    name: 'MERCHANT_API_KEY_CACHE_SECONDS',
    default: '5',
    description:
      'How long an accepted API key is trusted without asking the database (a revocation takes effect within it); 0 = always ask',
  },
  {
    name: 'DEMO',
    default: 'auto',
    description:
      'auto, on or off: seed the demo merchant and run its webhook receiver (auto: on with the embedded database); also makes loopback http:// webhook and return URLs allowed by default',
  },
  {
    name: 'DEMO_WEBHOOK_PORT',
    default: '<HTTP_PORT>+2',
    description: 'Port of the demo merchant webhook receiver',
  },
  {
    name: 'ROUTING_RULES_FILE',
    default: 'config/routing-rules.json',
    description:
      'JSON file of providers, SUB MIDs and routing rules, validated at start; provider secrets come from the environment variables it names',
  },
  {
    name: 'PROVIDER_TIMEOUT_MS',
    default: '10000',
    description:
      'A provider payment request not answered by then counts as failed with an unknown outcome; routing falls back',
  },

  {
    name: 'WEBHOOK_RETRY_SCHEDULE_MS',
    default: DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS.join(','),
    description:
      'Delays (ms, ±20 % jitter) after each failed merchant webhook attempt; when used up the webhook is exhausted',
  },
  {
    name: 'WEBHOOK_TIMEOUT_MS',
    default: '10000',
    description: 'A merchant endpoint that has not answered by then is a failed attempt (timeout)',
  },
  {
    name: 'WEBHOOK_MAX_IN_FLIGHT_PER_HOST',
    default: '4',
    description:
      'Webhook attempts one dispatcher process runs at once to one merchant host; more wait in memory (WEBHOOK_MAX_QUEUED_PER_HOST)',
  },
  {
    name: 'WEBHOOK_MAX_QUEUED_PER_HOST',
    default: '64',
    description:
      'Webhook attempts waiting in memory for one merchant host at its in-flight limit; beyond it they are deferred via the attempts topic',
  },
  {
    name: 'WEBHOOK_MAX_QUEUED',
    default: '256',
    description:
      'Webhook attempts waiting in memory for busy merchant hosts in all (each subscription gets this many extra message slots)',
  },
  {
    name: 'WEBHOOK_CONCURRENCY',
    default: '32',
    description: 'Webhook handlers running at once per dispatcher subscription (different transactions)',
  },
  {
    name: 'WEBHOOK_KEEP_ALIVE_MS',
    default: '4000',
    description:
      'How long an idle connection to a merchant host is kept for the next webhook (shorter if the merchant announces less); 0 = a new connection per attempt',
  },
  {
    name: 'WEBHOOK_SWEEP_INTERVAL_MS',
    default: '60000',
    description:
      'How often the dispatcher looks for scheduled webhook attempts overdue by WEBHOOK_SWEEP_GRACE_MS (their message lost) and publishes them again; 0 = never',
  },
  {
    name: 'WEBHOOK_SWEEP_GRACE_MS',
    default: '900000',
    description:
      'How late a scheduled webhook attempt must be before the sweep publishes it again; at least twice WEBHOOK_TIMEOUT_MS and 1 minute, so attempts still in flight or waiting for a busy host are not sent twice',
  },
  {
    name: 'WEBHOOK_ALLOW_HTTP',
    default: 'false (true in demo mode)',
    description: 'Send webhooks to http:// URLs (otherwise https only); for local development',
  },
  {
    name: 'WEBHOOK_ALLOWED_ADDRESS_CLASSES',
    default: '(none: public addresses only; loopback in demo mode)',
    description:
      'Comma list of non-public address classes webhook URLs may reach: loopback, private, link-local',
  },
  {
    name: 'SIMULATOR_PORT',
    default: '<HTTP_PORT>+1 (0 when HTTP_PORT is 0)',
    description:
      'Port of the provider simulator (service simulator; development and demo only); 0 = any free port',
  },
  {
    name: 'SIMULATOR_PUBLIC_URL',
    default: 'http://<HTTP_HOST>:<SIMULATOR_PORT>',
    description:
      'Base URL customers (its checkout pages) and connectors (`{simulatorBaseUrl}`) reach the simulator at',
  },
  {
    name: 'SIMULATOR_AUTO_COMPLETE_MS',
    default: '0 (off)',
    description:
      'When > 0, simulated redirect payments complete by themselves after this long (no customer needed)',
  },
  {
    name: 'SIMULATOR_CALLBACK_RETRY_DELAYS_MS',
    default: DEFAULT_SIMULATOR_CALLBACK_RETRY_DELAYS_MS.join(','),
    description: 'Pauses before the simulator re-sends a callback not answered 2xx; then it gives up',
  },
];

/**
 * Marks the values of deployment templates (k8s/secret.template.yaml): a process refuses to start
 * with one, so an unedited template can never act as a real secret.
 */
export const CONFIG_PLACEHOLDER = 'REPLACE_ME';

/** Reads and validates the configuration; throws ConfigError naming the variable to fix. Pure. */
export function loadConfig(env: Env): Config {
  rejectPlaceholders(env);
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
  const database = databaseConfig(env);
  const demoMode = oneOf(env, 'DEMO', ['auto', 'on', 'off'] as const, 'auto');
  const demo: DemoConfig = {
    enabled: demoMode === 'on' || (demoMode === 'auto' && database.driver === 'pglite'),
    credentialsDir: str(env, 'DATA_DIR', '.data'),
    webhookPort: int(env, 'DEMO_WEBHOOK_PORT', port === 0 || port >= 65534 ? 0 : port + 2, {
      min: 0,
      max: 65535,
    }),
  };

  const common: BrokerCommon = {
    publishTimeoutMs: int(env, 'BROKER_PUBLISH_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    delayTiersMs: intList(env, 'BROKER_DELAY_TIERS_MS', DEFAULT_DELAY_TIERS_MS),
    namespace: optionalStr(env, 'BROKER_NAMESPACE'),
  };
  if (common.namespace !== undefined && !NAMESPACE_PATTERN.test(common.namespace))
    throw new ConfigError(
      `BROKER_NAMESPACE must be lower-case letters, digits and dashes starting with a letter (at most 63), got "${common.namespace}"`,
    );
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
        // Outside production the simulator and the gateway share published development secrets, so
        // `npm start` works with no setup; in production an unset secret makes callbacks answer 503.
        'stripe-sim': list(
          env,
          'PROVIDER_STRIPESIM_WEBHOOK_SECRET',
          devOnly(env, [DEV_STRIPESIM_WEBHOOK_SECRET]),
        ),
        'adyen-sim': adyenKeys(
          list(env, 'PROVIDER_ADYENSIM_HMAC_KEY', devOnly(env, [DEV_ADYENSIM_HMAC_KEY])),
        ),
      },
      stripeSimToleranceSeconds: int(env, 'PROVIDER_STRIPESIM_TOLERANCE_SECONDS', 300, { min: 1, max: 3600 }),
      maxCallbackBytes: int(env, 'PROVIDER_CALLBACK_MAX_BYTES', 262_144, { min: 1024, max: 10_485_760 }),
    },
    merchantApi: merchantApi(env, services, demo.enabled),
    routing: {
      rulesFile: str(env, 'ROUTING_RULES_FILE', 'config/routing-rules.json'),
      allowDevCredentials: optionalStr(env, 'NODE_ENV') !== 'production',
      providerTimeoutMs: int(env, 'PROVIDER_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    },
    webhooks: webhooks(env, demo.enabled),
    simulator: simulator(env, host, port),
    demo,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, { min: 0, max: 600_000 }),
  };
}

/**
 * Only the database settings: what `bin/migrate.ts` needs. It runs no service, so no service's
 * requirements (e.g. the gateway's SESSION_TOKEN_SECRET in production) may stop a migration.
 */
export function loadDatabaseConfig(env: Env): DatabaseConfig {
  rejectPlaceholders(env);
  return databaseConfig(env);
}

function databaseConfig(env: Env): DatabaseConfig {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  return databaseUrl
    ? {
        driver: 'postgres',
        url: databaseUrl,
        poolMax: int(env, 'DATABASE_POOL_MAX', 10, { min: 1, max: 500 }),
      }
    : { driver: 'pglite', dataDir: `${str(env, 'DATA_DIR', '.data')}/pglite` };
}

function rejectPlaceholders(env: Env): void {
  const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
  for (const [name, value] of Object.entries(env)) {
    if (known.has(name) && value?.includes(CONFIG_PLACEHOLDER))
      throw new ConfigError(
        `${name} still holds the template placeholder ${CONFIG_PLACEHOLDER}; set the real value`,
      );
  }
}

function merchantApi(env: Env, services: readonly ServiceName[], demo: boolean): MerchantApiConfig {
  const production = optionalStr(env, 'NODE_ENV') === 'production';
  const secrets = list(env, 'SESSION_TOKEN_SECRET', []);
  if (secrets.some((secret) => secret.length < 32))
    throw new ConfigError('SESSION_TOKEN_SECRET must list secrets of at least 32 characters each');
  if (production && services.includes('gateway')) {
    if (secrets.length === 0)
      throw new ConfigError(
        'SESSION_TOKEN_SECRET must be set in production (NODE_ENV=production): 32+ random characters, e.g. openssl rand -hex 32',
      );
    if (secrets.includes(DEV_SESSION_TOKEN_SECRET))
      throw new ConfigError(
        'SESSION_TOKEN_SECRET must not be the published development secret in production',
      );
  }
  return {
    sessionTokenSecrets: secrets.length > 0 ? secrets : [DEV_SESSION_TOKEN_SECRET],
    sessionTokenSecretIsDevDefault: secrets.length === 0,
    sessionTtlSeconds: int(env, 'PAYMENT_SESSION_TTL_SECONDS', 1800, { min: 60, max: 7 * 24 * 3600 }),
    maxBodyBytes: int(env, 'MERCHANT_API_MAX_BODY_BYTES', 65_536, { min: 1024, max: 1_048_576 }),
    allowHttpLoopbackUrls: bool(env, 'MERCHANT_API_ALLOW_HTTP_LOOPBACK', demo),
    databaseTimeoutMs: int(env, 'MERCHANT_API_DB_TIMEOUT_MS', 5_000, { min: 100, max: 60_000 }),
    apiKeyCacheSeconds: int(env, 'MERCHANT_API_KEY_CACHE_SECONDS', 5, { min: 0, max: 300 }),
  };
}

function adyenKeys(keys: string[]): string[] {
  for (const key of keys) {
    if (!/^([0-9a-fA-F]{2})+$/.test(key))
      throw new ConfigError('PROVIDER_ADYENSIM_HMAC_KEY must be a comma list of hex keys');
  }
  return keys;
}

function webhooks(env: Env, demo: boolean): WebhooksConfig {
  const retryScheduleMs = intList(env, 'WEBHOOK_RETRY_SCHEDULE_MS', DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS);
  if (retryScheduleMs.some((delay) => delay < 1 || delay > 7 * 86_400_000))
    throw new ConfigError('WEBHOOK_RETRY_SCHEDULE_MS delays must be between 1 ms and 7 days');
  const classes = ['loopback', 'private', 'link-local'] as const;
  const allowAddresses = list(env, 'WEBHOOK_ALLOWED_ADDRESS_CLASSES', demo ? ['loopback'] : []).map(
    (name) => {
      if (!(classes as readonly string[]).includes(name))
        throw new ConfigError(
          `WEBHOOK_ALLOWED_ADDRESS_CLASSES may list ${classes.join(', ')}; got "${name}"`,
        );
      return name as (typeof classes)[number];
    },
  );
  const timeoutMs = int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 });
  const overdueSweep = {
    intervalMs: int(env, 'WEBHOOK_SWEEP_INTERVAL_MS', 60_000, { min: 0, max: 86_400_000 }),
    graceMs: int(env, 'WEBHOOK_SWEEP_GRACE_MS', 900_000, { min: 60_000, max: 7 * 86_400_000 }),
  };
  if (overdueSweep.graceMs < 2 * timeoutMs)
    throw new ConfigError('WEBHOOK_SWEEP_GRACE_MS must be at least twice WEBHOOK_TIMEOUT_MS');
  return {
    retryScheduleMs,
    timeoutMs,
    maxInFlightPerHost: int(env, 'WEBHOOK_MAX_IN_FLIGHT_PER_HOST', 4, { min: 1, max: 1000 }),
    maxQueuedPerHost: int(env, 'WEBHOOK_MAX_QUEUED_PER_HOST', 64, { min: 0, max: 100_000 }),
    maxQueued: int(env, 'WEBHOOK_MAX_QUEUED', 256, { min: 0, max: 100_000 }),
    concurrency: int(env, 'WEBHOOK_CONCURRENCY', 32, { min: 1, max: 1000 }),
    allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', demo),
    allowAddresses,
    overdueSweep,
    keepAliveMs: int(env, 'WEBHOOK_KEEP_ALIVE_MS', 4_000, { min: 0, max: 300_000 }),
  };
}

function simulator(env: Env, host: string, httpPort: number): SimulatorConfig {
  const fallbackPort = httpPort === 0 || httpPort >= 65535 ? 0 : httpPort + 1;
  const port = int(env, 'SIMULATOR_PORT', fallbackPort, { min: 0, max: 65535 });
  const autoComplete = int(env, 'SIMULATOR_AUTO_COMPLETE_MS', 0, { min: 0, max: 3_600_000 });
  const callbackRetryDelaysMs = intList(
    env,
    'SIMULATOR_CALLBACK_RETRY_DELAYS_MS',
    DEFAULT_SIMULATOR_CALLBACK_RETRY_DELAYS_MS,
  );
  if (callbackRetryDelaysMs.some((delay) => delay > 86_400_000))
    throw new ConfigError('SIMULATOR_CALLBACK_RETRY_DELAYS_MS delays must be at most one day');
  return {
    port,
    publicUrl:
      url(env, 'SIMULATOR_PUBLIC_URL', ['http:', 'https:']) ??
      (port === 0 ? undefined : `http://${host}:${port}`),
    autoCompleteAfterMs: autoComplete > 0 ? autoComplete : undefined,
    callbackRetryDelaysMs,
  };
}
