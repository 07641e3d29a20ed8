import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
    help: 'Messages handled by consumers, by outcome (ok, retry, dead-lettered)',
    labelNames: ['topic', 'group', 'outcome'] as const,
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
      handled: ({ topic, group, durationMs, outcome }) => {
        handled.inc({ topic, group, outcome });
        handlerSeconds.observe({ topic, group }, durationMs / 1000);
      },
      published: ({ topic, count, durationMs, ok }) => {
        published.inc({ topic, ok: String(ok) }, count);
        publishSeconds.observe({ ok: String(ok) }, durationMs / 1000);
      },
    },
  };
}
