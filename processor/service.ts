/**
 * The orchestrator service: consumes the business topic (DepositRequested, ProviderRequestStarted,
 * CustomerDataSubmitted) as consumer group `processor` and the Provider Gateway's callback topic as
 * `processor-callbacks` (one group per topic: see CONSUMER_GROUPS), and sweeps parked callbacks. Every handler is idempotent; retries and dead letters come from the
 * EventBus (a poison message ends in the DLQ + failed_events, never spins forever).
 */
import { CONSUMER_GROUPS, BUSINESS_EVENTS_TOPIC, EVENT_HEADERS } from '../core/streams.js';
import type { Subscription } from '../core/broker/types.js';
import { withLogContext } from '../core/log-context.js';
import { decodeEvent, isEventOf, type PlatformEvent } from '../schemas/index.js';
import { PROVIDER_CALLBACKS_TOPIC } from '../gateway/provider/envelope.js';
import type { ProcessorDeps } from './ports.js';
import { onDepositRequested } from './handlers/deposit-requested.js';
import { onCustomerDataSubmitted, onProviderRequestStarted } from './handlers/provider-request.js';
import { onProviderCallback, sweepParkedCallbacks } from './handlers/provider-callback.js';
import { expireSessions } from './handlers/session-expiry.js';

const HANDLED_TYPES = new Set(['DepositRequested', 'ProviderRequestStarted', 'CustomerDataSubmitted']);

export interface ProcessorOptions {
  /** Handlers running at once per subscription (different transactions only). */
  concurrency?: number;
  /** How often parked callbacks are retried and expired sessions closed; when parked ones are given up. */
  sweepIntervalMs?: number;
  parkedMaxAgeMs?: number;
}

export interface RunningProcessor {
  stop(timeoutMs?: number): Promise<void>;
}

export async function startProcessor(
  deps: ProcessorDeps,
  options: ProcessorOptions = {},
): Promise<RunningProcessor> {
  const group = CONSUMER_GROUPS.processor;
  const concurrency = options.concurrency ?? 16;
  await deps.broker.ensureTopics([BUSINESS_EVENTS_TOPIC, PROVIDER_CALLBACKS_TOPIC]);
  const subscriptions: Subscription[] = [];
  subscriptions.push(
    await deps.broker.subscribe({ topic: BUSINESS_EVENTS_TOPIC, group, concurrency }, async (message) => {
      const type = message.headers[EVENT_HEADERS.eventType];
      if (type !== undefined && !HANDLED_TYPES.has(type)) return;
      const event = decodeEvent(message.value);
      const { envelope } = event;
      await withLogContext(
        {
          transactionId: envelope.transactionId,
          merchantId: envelope.merchantId,
          eventId: envelope.eventId,
          eventType: envelope.type,
          correlationId: envelope.correlationId,
        },
        () => handleEvent(deps, event),
      );
    }),
    await deps.broker.subscribe(
      { topic: PROVIDER_CALLBACKS_TOPIC, group: CONSUMER_GROUPS.processorCallbacks, concurrency },
      (message) =>
        withLogContext({ callbackId: message.headers['callback-id'] }, () =>
          onProviderCallback(deps, message),
        ),
    ),
  );
  const sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
  const parkedMaxAgeMs = options.parkedMaxAgeMs ?? 24 * 3600_000;
  let sweeping: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweeping
      .then(() => sweepParkedCallbacks(deps, parkedMaxAgeMs))
      .then(() => expireSessions(deps))
      .then(() => undefined)
      .catch((error: unknown) => deps.logger.warn('processor sweep failed', { error }));
  }, sweepIntervalMs);
  timer.unref();
  return {
    async stop(timeoutMs) {
      clearInterval(timer);
      await Promise.all(subscriptions.map((s) => s.stop(timeoutMs)));
      await sweeping;
    },
  };
}

async function handleEvent(deps: ProcessorDeps, event: PlatformEvent): Promise<void> {
  if (isEventOf(event, 'DepositRequested')) return onDepositRequested(deps, event);
  if (isEventOf(event, 'ProviderRequestStarted')) return onProviderRequestStarted(deps, event);
  if (isEventOf(event, 'CustomerDataSubmitted')) return onCustomerDataSubmitted(deps, event);
}
