import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBusObserver } from '../broker/event-bus.js';

/** The process's Prometheus registry and the metrics shared by every service. */
export interface PlatformMetrics {
  registry: Registry;
  brokerObserver: EventBusObserver;
}

export function createMetrics(options: { service: string; defaultMetrics?: boolean }): PlatformMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const handled = new Counter({
    name: 'broker_messages_handled_total',
    help: 'Messages handled by consumers, by outcome (ok, retry, dead-lettered) and business event type (none for other messages)',
    labelNames: ['topic', 'group', 'outcome', 'event_type'] as const,
    registers: [registry],
  });
  const handlerSeconds = new Histogram({
    name: 'broker_handler_duration_seconds',
    help: 'Handler duration per attempt',
    labelNames: ['topic', 'group'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const published = new Counter({
    name: 'broker_messages_published_total',
    help: 'Messages published, by whether the broker durably acknowledged them',
    labelNames: ['topic', 'ok'] as const,
    registers: [registry],
  });
  const publishSeconds = new Histogram({
    name: 'broker_publish_duration_seconds',
    help: 'Time until the broker durably acknowledged a publish',
    labelNames: ['ok'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });

  return {
    registry,
    brokerObserver: {
      handled: ({ topic, group, durationMs, outcome, eventType }) => {
        handled.inc({ topic, group, outcome, event_type: eventType ?? 'none' });
        handlerSeconds.observe({ topic, group }, durationMs / 1000);
      },
      published: ({ topic, count, durationMs, ok }) => {
        published.inc({ topic, ok: String(ok) }, count);
        publishSeconds.observe({ ok: String(ok) }, durationMs / 1000);
      },
    },
  };
}

/** Outbox backlog gauges, read from the database at scrape time. */
export function registerOutboxMetrics(
  registry: Registry,
  read: () => Promise<{ pending: number; oldestAgeSeconds: number }>,
): { published: Counter<string> } {
  let last: Promise<{ pending: number; oldestAgeSeconds: number }> | undefined;
  // One query per scrape feeds both gauges.
  const snapshot = () => (last ??= read().finally(() => setTimeout(() => (last = undefined), 0)));
  new Gauge({
    name: 'outbox_backlog_events',
    help: 'Events committed to the outbox and not yet acknowledged by the broker',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).pending);
    },
  });
  new Gauge({
    name: 'outbox_oldest_event_age_seconds',
    help: 'Age of the oldest event waiting in the outbox (0 when empty)',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).oldestAgeSeconds);
    },
  });
  const published = new Counter({
    name: 'outbox_events_published_total',
    help: 'Events the outbox relay published to the broker',
    registers: [registry],
  });
  return { published };
}

/** Failed event processing: a counter that moves on every dead letter and the open DLQ depth. */
export function registerFailedEventMetrics(
  registry: Registry,
  openCounts: () => Promise<Array<{ consumerGroup: string; topic: string; count: number }>>,
): { failed: Counter<'consumer_group' | 'topic' | 'event_type'> } {
  new Gauge({
    name: 'dlq_open_failed_events',
    help: 'Dead-lettered messages not yet replayed or purged (failed_events with status open)',
    labelNames: ['consumer_group', 'topic'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { consumerGroup, topic, count } of await openCounts())
        this.set({ consumer_group: consumerGroup, topic }, count);
    },
  });
  const failed = new Counter({
    name: 'failed_events_total',
    help: 'Messages a consumer gave up on after its retries (dead-lettered and recorded)',
    labelNames: ['consumer_group', 'topic', 'event_type'] as const,
    registers: [registry],
  });
  return { failed };
}

/** Consumer lag per subscription, asked of the broker at scrape time. */
export function registerConsumerBacklogMetric(
  registry: Registry,
  read: () => Promise<Array<{ topic: string; group: string; backlog: number }>>,
): void {
  new Gauge({
    name: 'broker_consumer_backlog_messages',
    help: 'Messages published but not yet committed by the consumer group (Kafka and embedded)',
    labelNames: ['topic', 'group'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { topic, group, backlog } of await read()) this.set({ topic, group }, backlog);
    },
  });
}
