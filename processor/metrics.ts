/** The orchestrator's metrics: transitions, provider attempts, callbacks, parked callbacks, charge alerts. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProcessorMetrics {
  transition(from: string, to: string): void;
  attempt(providerId: string, result: string, seconds: number): void;
  callback(providerId: string, result: string): void;
  chargeAlert(kind: string): void;
}

export interface ParkedCallbacks {
  count: number;
  oldestAgeSeconds: number;
}

export function processorMetrics(
  registry: Registry,
  readParked: () => Promise<ParkedCallbacks>,
): ProcessorMetrics {
  const transitions = new Counter({
    name: 'transaction_status_transitions_total',
    help: 'Transaction status changes, by from and to status',
    labelNames: ['from', 'to'] as const,
    registers: [registry],
  });
  const attempts = new Histogram({
    name: 'provider_request_duration_seconds',
    help: 'Provider payment requests, by provider and result (redirect_ready, declined, timeout, ...)',
    labelNames: ['provider', 'result'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const callbacks = new Counter({
    name: 'provider_callbacks_handled_total',
    help: 'Provider callbacks handled by the processor: processed, parked, or ignored_<reason>',
    labelNames: ['provider', 'result'] as const,
    registers: [registry],
  });
  const alerts = new Counter({
    name: 'payment_charge_alerts_total',
    help: 'Suspected double charges and late successes that need a refund or review',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  let parked: Promise<ParkedCallbacks> | null = null;
  // Both gauges come from one query per scrape.
  const read = () => (parked ??= readParked().finally(() => setTimeout(() => (parked = null), 0)));
  new Gauge({
    name: 'provider_callbacks_parked',
    help: 'Callbacks waiting for their payment attempt to be known',
    registers: [registry],
    async collect() {
      this.set((await read()).count);
    },
  });
  new Gauge({
    name: 'provider_callbacks_parked_oldest_age_seconds',
    help: 'Age of the oldest parked callback (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestAgeSeconds);
    },
  });
  return {
    transition: (from, to) => transitions.inc({ from, to }),
    attempt: (provider, result, seconds) => attempts.observe({ provider, result }, seconds),
    callback: (provider, result) => callbacks.inc({ provider, result }),
    chargeAlert: (kind) => alerts.inc({ kind }),
  };
}
