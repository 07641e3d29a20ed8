/**
 * Composition root: turns a Config into running services. The only place that knows every adapter.
 * Services are selected by `config.services`; `npm start` runs them all in one process on embedded
 * defaults, production runs one service per process.
 */
import Koa from 'koa';
import { createTransport } from '../adapters/broker/index.js';
import { openDatabase, type Database } from '../adapters/db/index.js';
import { EventBus } from '../core/broker/index.js';
import type { Config } from '../core/config/index.js';
import { httpMetrics } from '../core/http/metrics-middleware.js';
import { requestContext } from '../core/http/request-context.js';
import { unmatchedRequestProblems } from '../core/http/problem.js';
import { opsRoutes } from '../core/http/ops-routes.js';
import { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { FailedEventStore, deadLetterRecorder } from '../core/failed-events/index.js';
import {
  createMetrics,
  registerConsumerBacklogMetric,
  registerFailedEventMetrics,
  registerOutboxMetrics,
} from '../core/observability/metrics.js';
import { OutboxRelay, outboxBacklog } from '../core/outbox/index.js';
import { BUSINESS_EVENTS_TOPIC, CONSUMER_GROUPS } from '../core/streams.js';
import {
  createProviderRegistry,
  PROVIDER_CALLBACKS_TOPIC,
  providerCallbackMetrics,
  providerGatewayRoutes,
} from '../gateway/provider/index.js';
import { hostedPageRoutes } from '../gateway/hosted/index.js';
import { merchantApi, merchantApiMetrics } from '../gateway/merchant/index.js';
import { backofficeRoutes } from '../backoffice/index.js';
import { isDependencyUnavailable, migrate } from '../core/db/index.js';
import { startWebhookDispatcher, webhookMetrics } from '../webhook-dispatcher/index.js';
import { startProviderSimulator } from '../provider-simulator/index.js';
import { listen } from './http-server.js';
import { startProcessorService } from './processor-service.js';
import { startDemo, type DemoCredentials } from './demo/index.js';

export interface RunningPlatform {
  url: string;
  database: Database;
  broker: EventBus;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
  /** Where connectors reach the provider simulator (`{simulatorBaseUrl}` of the routing rules); null: nowhere. */
  simulatorUrl: string | null;
  /** Demo mode: the seeded demo merchant's credentials and where its webhooks arrive. */
  demo: DemoCredentials | null;
}

/**
 * `env` is only read for the provider credentials the routing rules name (their variable names come
 * from the rules file, not from loadConfig).
 */
export async function startPlatform(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningPlatform> {
  const lifecycle = new Lifecycle(logger);
  try {
    const metrics = createMetrics({
      service: config.services.length > 1 ? 'all-in-one' : config.services[0]!,
    });
    const database = await openDatabase(config.database, { logger });
    lifecycle.onStop('database', () => database.close());
    await migrate(database.knex);

    const failedEvents = new FailedEventStore(database.knex);
    const failedEventMetrics = registerFailedEventMetrics(metrics.registry, () => failedEvents.openCounts());
    const broker = new EventBus({
      onDeadLetter: deadLetterRecorder({
        store: failedEvents,
        logger: logger.child({ component: 'dead-letters' }),
        onRecorded: (record, eventType) =>
          failedEventMetrics.failed.inc({
            consumer_group: record.consumerGroup,
            topic: record.originalTopic,
            event_type: eventType ?? 'unknown',
          }),
      }),
      transport: createTransport(config.broker, { database, logger }),
      logger: logger.child({ component: 'event-bus' }),
      // A database or broker outage delays processing; it never dead-letters events.
      isTransient: isDependencyUnavailable,
      publishTimeoutMs: config.broker.publishTimeoutMs,
      delayTiersMs: config.broker.delayTiersMs,
      stopTimeoutMs: config.shutdownTimeoutMs,
      observer: metrics.brokerObserver,
    });
    await broker.start();
    registerConsumerBacklogMetric(metrics.registry, () => broker.consumerBacklog());
    lifecycle.onStop('broker', () => broker.stop(config.shutdownTimeoutMs));
    await broker.ensureTopics([BUSINESS_EVENTS_TOPIC]);

    if (config.services.includes('relay')) {
      const outboxMetrics = registerOutboxMetrics(metrics.registry, () => outboxBacklog(database.knex));
      const relay = new OutboxRelay({
        knex: database.knex,
        listen: (channel, onNotify) => database.listen(channel, onNotify),
        broker,
        logger: logger.child({ component: 'outbox-relay' }),
        onPublished: (count) => outboxMetrics.published.inc(count),
      });
      await relay.start();
      lifecycle.onStop('outbox relay', () => relay.stop());
    }

    if (config.services.includes('webhook-dispatcher')) {
      const webhooks = await startWebhookDispatcher({
        knex: database.knex,
        broker,
        logger: logger.child({ component: 'webhook-dispatcher' }),
        settings: config.webhooks,
        observer: webhookMetrics(metrics.registry),
      });
      lifecycle.onStop('webhook dispatcher', () => webhooks.stop(config.shutdownTimeoutMs));
    }

    // The provider simulator (development, demo): up before the processor, whose SUB MID accounts point at it.
    const simulator = config.services.includes('simulator')
      ? await startProviderSimulator({
          port: config.simulator.port,
          host: config.http.host,
          publicUrl: config.simulator.publicUrl,
          secrets: config.providers.secrets,
          logger: logger.child({ component: 'provider-simulator' }),
          autoCompleteAfterMs: config.simulator.autoCompleteAfterMs,
          callbackRetryDelaysMs: config.simulator.callbackRetryDelaysMs,
        })
      : null;
    if (simulator) lifecycle.onStop('provider simulator', () => simulator.close());
    const simulatorUrl = simulator?.publicUrl ?? config.simulator.publicUrl ?? null;

    if (config.services.includes('processor')) {
      const processor = await startProcessorService({
        config,
        knex: database.knex,
        broker,
        logger: logger.child({ component: 'processor' }),
        registry: metrics.registry,
        simulatorUrl,
        env,
      });
      lifecycle.onStop('processor', () => processor.stop(config.shutdownTimeoutMs));
    }

    const app = new Koa();
    app.use(httpMetrics(metrics.registry));
    app.use(requestContext());
    app.use(unmatchedRequestProblems());
    const ops = opsRoutes({
      registry: metrics.registry,
      isDraining: () => lifecycle.isDraining,
      checks: [{ name: 'database', check: async () => void (await database.knex.raw('select 1')) }],
    });
    app.use(ops.routes()).use(ops.allowedMethods());

    if (config.services.includes('gateway')) {
      await broker.ensureTopics([PROVIDER_CALLBACKS_TOPIC]);
      // On Pub/Sub a topic without a subscription drops messages: declare the processor's before accepting callbacks.
      await broker.ensureSubscription(PROVIDER_CALLBACKS_TOPIC, CONSUMER_GROUPS.processorCallbacks);
      const callbacks = providerGatewayRoutes({
        broker,
        secrets: config.providers.secrets,
        logger: logger.child({ component: 'provider-gateway' }),
        maxBodyBytes: config.providers.maxCallbackBytes,
        providers: createProviderRegistry({
          stripeSim: { toleranceSeconds: config.providers.stripeSimToleranceSeconds },
        }),
        observer: providerCallbackMetrics(metrics.registry),
      });
      app.use(callbacks.routes()).use(callbacks.allowedMethods());
      if (config.merchantApi.sessionTokenSecretIsDevDefault) {
        logger.warn(
          'SESSION_TOKEN_SECRET is not set: hosted payment links are derived from a PUBLISHED development secret, so anyone who sees a session id can open its payment page. Set SESSION_TOKEN_SECRET (32+ random characters) anywhere but local development.',
        );
      }
      const merchants = merchantApi({
        knex: database.knex,
        logger,
        publicBaseUrl: config.http.publicBaseUrl,
        sessionTokenSecrets: config.merchantApi.sessionTokenSecrets,
        sessionTtlSeconds: config.merchantApi.sessionTtlSeconds,
        maxBodyBytes: config.merchantApi.maxBodyBytes,
        allowHttpLoopbackUrls: config.merchantApi.allowHttpLoopbackUrls,
        databaseTimeoutMs: config.merchantApi.databaseTimeoutMs,
        apiKeyCacheMs: config.merchantApi.apiKeyCacheSeconds * 1000,
        observer: merchantApiMetrics(metrics.registry),
      });
      app.use(merchants.middleware);
      const hostedPage = hostedPageRoutes({
        knex: database.knex,
        logger,
        publicBaseUrl: config.http.publicBaseUrl,
      });
      app.use(hostedPage.routes()).use(hostedPage.allowedMethods());
      // Back office (merchant and platform users) shares the gateway's HTTP server; see docs/decisions/0018.
      const backoffice = backofficeRoutes({
        knex: database.knex,
        logger,
        publicBaseUrl: config.http.publicBaseUrl,
      });
      app.use(backoffice.middleware);
    }
    const server = await listen(app, config.http.host, config.http.port);
    lifecycle.onStop('http', server.close);

    let demo: DemoCredentials | null = null;
    if (config.demo.enabled && config.services.includes('gateway')) {
      const running = await startDemo({ config, knex: database.knex, logger, platformUrl: server.url });
      lifecycle.onStop('demo', () => running.close());
      demo = running.credentials;
    }

    logger.info('platform started', {
      url: server.url,
      services: config.services,
      broker: config.broker.kind,
      database: config.database.driver,
    });
    return { url: server.url, database, broker, lifecycle, stop: () => lifecycle.stop(), simulatorUrl, demo };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}
