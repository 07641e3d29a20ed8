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
import { migrate } from '../core/db/index.js';
import { listen } from './http-server.js';

export interface RunningPlatform {
  url: string;
  database: Database;
  broker: EventBus;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

export async function startPlatform(config: Config, logger: Logger): Promise<RunningPlatform> {
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

    const app = new Koa();
    app.use(httpMetrics(metrics.registry));
    const ops = opsRoutes({
      registry: metrics.registry,
      isDraining: () => lifecycle.isDraining,
      checks: [{ name: 'database', check: async () => void (await database.knex.raw('select 1')) }],
    });
    app.use(ops.routes()).use(ops.allowedMethods());

    if (config.services.includes('gateway')) {
      await broker.ensureTopics([PROVIDER_CALLBACKS_TOPIC]);
      // On Pub/Sub a topic without a subscription drops messages: declare the processor's before accepting callbacks.
      await broker.ensureSubscription(PROVIDER_CALLBACKS_TOPIC, CONSUMER_GROUPS.processor);
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
    }
    const server = await listen(app, config.http.host, config.http.port);
    lifecycle.onStop('http', server.close);

    logger.info('platform started', {
      url: server.url,
      services: config.services,
      broker: config.broker.kind,
      database: config.database.driver,
    });
    return { url: server.url, database, broker, lifecycle, stop: () => lifecycle.stop() };
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}
