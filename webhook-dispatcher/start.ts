/**
 * Starts the webhook dispatcher service: consumes the business topic (MerchantWebhookRequested) and its
 * own attempts topic (retries through the broker's delay tiers, deferred attempts, manual resends).
 */
import type { Knex } from 'knex';
import type { Broker, Subscription } from '../core/broker/index.js';
import type { Logger } from '../core/logger.js';
import { BUSINESS_EVENTS_TOPIC, CONSUMER_GROUPS, EVENT_HEADERS } from '../core/streams.js';
import { WEBHOOK_ATTEMPTS_GROUP, WEBHOOK_ATTEMPTS_TOPIC } from './attempt-messages.js';
import {
  DEFAULT_MAX_QUEUED,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookDispatcherSettings,
} from './dispatcher.js';
import type { WebhookObserver } from './metrics.js';
import { OverdueSweeper } from './overdue-sweep.js';
import { withLogContext } from '../core/log-context.js';

export interface StartWebhookDispatcherOptions {
  knex: Knex;
  broker: Broker;
  logger: Logger;
  settings: WebhookDispatcherSettings;
  observer?: WebhookObserver;
  /** Topic and group names (tests use unique ones on a shared broker). */
  eventsTopic?: string;
  eventsGroup?: string;
  attemptsTopic?: string;
  attemptsGroup?: string;
  lookup?: WebhookDispatcherOptions['lookup'];
  random?: () => number;
}

export interface RunningWebhookDispatcher {
  dispatcher: WebhookDispatcher;
  /** Stops consuming (business topic first), draining in-flight attempts. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startWebhookDispatcher(
  options: StartWebhookDispatcherOptions,
): Promise<RunningWebhookDispatcher> {
  const eventsTopic = options.eventsTopic ?? BUSINESS_EVENTS_TOPIC;
  const eventsGroup = options.eventsGroup ?? CONSUMER_GROUPS.webhookDispatcher;
  const attemptsTopic = options.attemptsTopic ?? WEBHOOK_ATTEMPTS_TOPIC;
  const attemptsGroup = options.attemptsGroup ?? WEBHOOK_ATTEMPTS_GROUP;
  const { broker, settings } = options;
  const dispatcher = new WebhookDispatcher({
    knex: options.knex,
    broker,
    logger: options.logger,
    settings,
    attemptsTopic,
    inboxConsumer: eventsGroup,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  await broker.ensureTopics([eventsTopic, attemptsTopic]);
  // Declared before anything can publish resend requests or retries (Pub/Sub drops messages otherwise).
  await broker.ensureSubscription(attemptsTopic, attemptsGroup);
  // Attempts waiting in memory for a busy host hold their message (it is acknowledged once recorded):
  // they get slots of their own on top of the working concurrency, so waiting never takes a slot
  // from a healthy host (host-gate.ts).
  const concurrency = settings.concurrency + (settings.maxQueued ?? DEFAULT_MAX_QUEUED);
  const subscriptions: Subscription[] = [];
  subscriptions.push(
    await broker.subscribe(
      { topic: attemptsTopic, group: attemptsGroup, concurrency },
      // Attempts and business events are keyed by transaction id: every line logged carries it.
      (message) =>
        withLogContext({ transactionId: message.key }, () => dispatcher.handleAttemptMessage(message)),
    ),
  );
  subscriptions.push(
    await broker.subscribe({ topic: eventsTopic, group: eventsGroup, concurrency }, (message) =>
      // Most business events are not webhook requests: skipped before any per-message work.
      message.headers[EVENT_HEADERS.eventType] !== 'MerchantWebhookRequested'
        ? Promise.resolve()
        : withLogContext(
            { transactionId: message.key, eventId: message.headers[EVENT_HEADERS.eventId] },
            () => dispatcher.handleBusinessEvent(message),
          ),
    ),
  );
  const sweeper = new OverdueSweeper({
    knex: options.knex,
    broker,
    attemptsTopic,
    logger: options.logger,
    settings: settings.overdueSweep ?? { intervalMs: 0, graceMs: 0 },
    ...(options.observer?.swept ? { onSwept: options.observer.swept } : {}),
  });
  sweeper.start();
  let stopped: Promise<void> | undefined;
  return {
    dispatcher,
    stop: (timeoutMs) => {
      stopped ??= (async () => {
        await sweeper.stop();
        // Attempts waiting for a busy host go back on the attempts topic instead of holding up the stop.
        dispatcher.close();
        for (const subscription of [...subscriptions].reverse()) await subscription.stop(timeoutMs);
        dispatcher.closeConnections();
      })();
      return stopped;
    },
  };
}
