/** Prometheus metrics of the webhook dispatcher, on the process registry (core/observability/metrics.ts). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptErrorClass, AttemptTrigger } from './model.js';

/** What the dispatcher reports; every hook optional so tests can pass `{}`. */
export interface WebhookObserver {
  attempt?(info: {
    outcome: 'delivered' | 'failed';
    errorClass: AttemptErrorClass | null;
    trigger: AttemptTrigger;
    durationMs: number;
  }): void;
  /** A delivery reached `delivered`; latency from the webhook request to the 2xx. */
  delivered?(info: { latencyMs: number }): void;
  exhausted?(): void;
  /** An attempt was put back on the attempts topic: its host's in-memory queue was full (or shutdown). */
  deferred?(): void;
  /** An attempt over its host's in-flight limit started waiting in memory for a free slot. */
  queued?(): void;
  /** Attempts now waiting in memory for busy hosts. */
  waiting?(count: number): void;
  /** Overdue attempts whose message was published again by the sweep (overdue-sweep.ts). */
  swept?(count: number): void;
}

export function webhookMetrics(registry: Registry): WebhookObserver {
  const attempts = new Counter({
    name: 'webhook_attempts_total',
    help: 'Merchant webhook attempts by outcome (delivered, failed), error class and trigger',
    labelNames: ['outcome', 'error_class', 'trigger'] as const,
    registers: [registry],
  });
  const attemptSeconds = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Duration of one webhook HTTP attempt',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const exhausted = new Counter({
    name: 'webhook_deliveries_exhausted_total',
    help: 'Merchant webhooks whose every scheduled attempt failed (support may resend)',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'webhook_delivery_latency_seconds',
    help: 'Time from the webhook request to the first 2xx from the merchant',
    buckets: [0.1, 0.5, 1, 5, 30, 120, 600, 3_600, 21_600, 86_400, 172_800],
    registers: [registry],
  });
  const deferred = new Counter({
    name: 'webhook_attempts_deferred_total',
    help: 'Attempts put back on the attempts topic with a delay: their busy host already had a full in-memory queue',
    registers: [registry],
  });
  const queued = new Counter({
    name: 'webhook_attempts_queued_total',
    help: 'Attempts that waited in memory because their merchant host already had the maximum in flight',
    registers: [registry],
  });
  const waiting = new Gauge({
    name: 'webhook_attempts_waiting',
    help: 'Attempts waiting in memory for a busy merchant host',
    registers: [registry],
  });
  const swept = new Counter({
    name: 'webhook_attempts_swept_total',
    help: 'Scheduled attempts found overdue in the database and published again (their message was lost or very late)',
    registers: [registry],
  });
  return {
    attempt: ({ outcome, errorClass, trigger, durationMs }) => {
      attempts.inc({ outcome, error_class: errorClass ?? 'none', trigger });
      attemptSeconds.observe({ outcome }, durationMs / 1000);
    },
    delivered: ({ latencyMs }) => latency.observe(Math.max(0, latencyMs) / 1000),
    exhausted: () => exhausted.inc(),
    deferred: () => deferred.inc(),
    queued: () => queued.inc(),
    waiting: (count) => waiting.set(count),
    swept: (count) => swept.inc(count),
  };
}
