/**
 * The webhook dispatcher's message handlers.
 *
 * - Business topic: a MerchantWebhookRequested event creates its delivery (once, via the inbox) and
 *   the first attempt is made right away from the consumer. Other event types are skipped by their
 *   `event-type` header without decoding.
 * - Attempts topic: each message asks for one numbered attempt (a scheduled retry, a deferred attempt
 *   or a manual resend).
 *
 * Crash safety: the attempt row, the delivery's new state and the facts commit together before the
 * next retry is published and before the message is acknowledged. A redelivered message whose attempt
 * is already recorded sends nothing (it only re-publishes the retry that attempt scheduled, in case the
 * process died before publishing it). A request that reached the merchant but whose record was lost
 * is sent again: delivery is at-least-once and merchants deduplicate by `webhook-id`.
 *
 * Isolation: handlers of different transactions run concurrently; the per-host limiter keeps one
 * slow merchant from taking more than `maxInFlightPerHost` handler slots (see host-limiter.ts).
 */
import type { Knex } from 'knex';
import type { Broker, DeliveredMessage } from '../core/broker/index.js';
import { processOnce } from '../core/inbox.js';
import type { Logger } from '../core/logger.js';
import { EVENT_HEADERS } from '../core/streams.js';
import { decodeEvent, isEventOf } from '../schemas/index.js';
import { attemptMessage, parseAttemptMessage } from './attempt-messages.js';
import { planAttempt } from './attempt-plan.js';
import { sendAttempt, type SenderOptions } from './attempt-sender.js';
import {
  activeSecrets,
  createDelivery,
  loadDelivery,
  recordAttempt,
  recordedAttempt,
} from './delivery-store.js';
import { deferDelay, HostLimiter, hostKey } from './host-limiter.js';
import type { WebhookObserver } from './metrics.js';
import type { AttemptCommand, Delivery } from './model.js';
import type { AddressClass } from './ssrf-guard.js';

/** The dispatcher's tunables (config.webhooks). */
export interface WebhookDispatcherSettings {
  /** Delays after the 1st, 2nd, ... failed automatic attempt; its length + 1 is the number of attempts. */
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  maxInFlightPerHost: number;
  /** Handlers running at once per subscription (different transactions only). */
  concurrency: number;
  allowHttp: boolean;
  allowAddresses: readonly AddressClass[];
  /** Largest Retry-After honoured (default 1 h). */
  maxRetryAfterMs?: number;
  /** Response body bytes kept per attempt (default 4 KiB). */
  maxResponseBytes?: number;
  /** First delay for an attempt deferred by the per-host limit (default 1 s, doubling). */
  deferBaseMs?: number;
}

export interface WebhookDispatcherOptions {
  knex: Knex;
  broker: Broker;
  logger: Logger;
  settings: WebhookDispatcherSettings;
  attemptsTopic: string;
  /** Inbox consumer name for business events (the business-topic group). */
  inboxConsumer: string;
  observer?: WebhookObserver;
  lookup?: SenderOptions['lookup'];
  now?: () => Date;
  random?: () => number;
}

export class WebhookDispatcher {
  private readonly limiter: HostLimiter;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly observer: WebhookObserver;
  private readonly sender: SenderOptions;

  constructor(private readonly options: WebhookDispatcherOptions) {
    const { settings } = options;
    this.limiter = new HostLimiter(settings.maxInFlightPerHost);
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.observer = options.observer ?? {};
    this.sender = {
      policy: { allowHttp: settings.allowHttp, allowAddresses: settings.allowAddresses },
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxResponseBytes ?? 4_096,
      now: this.now,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    };
  }

  /** Business topic handler. */
  async handleBusinessEvent(message: DeliveredMessage): Promise<void> {
    if (message.headers[EVENT_HEADERS.eventType] !== 'MerchantWebhookRequested') return;
    const event = decodeEvent(message.value);
    if (!isEventOf(event, 'MerchantWebhookRequested')) return;
    const { envelope, payload } = event;
    const result = await processOnce(this.options.knex, this.options.inboxConsumer, envelope.eventId, (trx) =>
      createDelivery(trx, event, this.now()),
    );
    if (!result.duplicate && !result.result.created) {
      this.options.logger.warn('webhook id already used by another request; the existing delivery stands', {
        webhookId: payload.webhookId,
        eventId: envelope.eventId,
        transactionId: envelope.transactionId,
        merchantId: envelope.merchantId,
      });
    }
    // Also on a duplicate: the process may have died after creating the delivery and before recording
    // attempt 1. If attempt 1 is recorded this is a no-op.
    await this.attempt({
      deliveryId: payload.webhookId,
      attemptNumber: 1,
      trigger: 'automatic',
      requestedBy: null,
      correlationId: envelope.correlationId,
      causationId: envelope.eventId,
      deferrals: 0,
    });
  }

  /** Attempts topic handler. */
  async handleAttemptMessage(message: DeliveredMessage): Promise<void> {
    await this.attempt(parseAttemptMessage(message.value));
  }

  /** Makes (at most) the one attempt a command names, records it and schedules what follows. */
  async attempt(command: AttemptCommand): Promise<void> {
    const { knex } = this.options;
    const delivery = await loadDelivery(knex, command.deliveryId);
    if (!delivery) {
      this.options.logger.warn('attempt for an unknown webhook ignored', { webhookId: command.deliveryId });
      return;
    }
    const log = this.options.logger.child({
      webhookId: delivery.id,
      transactionId: delivery.transactionId,
      merchantId: delivery.merchantId,
      attemptNumber: command.attemptNumber,
      trigger: command.trigger,
    });
    const recorded = await recordedAttempt(knex, delivery.id, command.attemptNumber);
    const plan = planAttempt(delivery, recorded, command, this.now());
    if (plan.kind === 'skip') {
      log.debug('webhook attempt skipped', { reason: plan.reason });
      return;
    }
    if (plan.kind === 'republish') {
      await this.publishAttempt(
        delivery,
        {
          ...command,
          attemptNumber: plan.attemptNumber,
          trigger: 'automatic',
          requestedBy: null,
          deferrals: 0,
        },
        plan.dueAt.getTime() - this.now().getTime(),
      );
      return;
    }
    const url = delivery.url!;
    const release = this.limiter.tryAcquire(hostKey(url));
    if (!release) {
      this.observer.deferred?.();
      const delayMs = deferDelay(this.options.settings.deferBaseMs ?? 1_000, command.deferrals, this.random);
      log.debug('merchant host busy; attempt deferred', { delayMs });
      await this.publishAttempt(delivery, { ...command, deferrals: command.deferrals + 1 }, delayMs);
      return;
    }
    let result;
    try {
      const secrets = await activeSecrets(knex, delivery.merchantId);
      result = await sendAttempt(
        { webhookId: delivery.id, url, body: delivery.payload, secrets },
        this.sender,
      );
    } finally {
      release();
    }
    const outcome = await recordAttempt(knex, {
      command,
      url,
      result,
      now: this.now(),
      policy: {
        schedule: this.options.settings.retryScheduleMs,
        maxRetryAfterMs: this.options.settings.maxRetryAfterMs ?? 3_600_000,
        random: this.random,
      },
    });
    if (!outcome.recorded) {
      log.info('webhook attempt was recorded by another delivery of the same message; result dropped', {
        delivered: result.delivered,
      });
      return;
    }
    const { decision } = outcome;
    this.observer.attempt?.({
      outcome: result.delivered ? 'delivered' : 'failed',
      errorClass: result.errorClass,
      trigger: command.trigger,
      durationMs: result.durationMs,
    });
    if (decision.newlyDelivered) {
      this.observer.delivered?.({ latencyMs: result.finishedAt.getTime() - delivery.requestedAt.getTime() });
    }
    if (decision.exhausted) this.observer.exhausted?.();
    const details = {
      delivered: result.delivered,
      httpStatus: result.status,
      errorClass: result.errorClass,
      durationMs: result.durationMs,
      state: decision.state,
    };
    if (result.delivered) log.info('webhook delivered', details);
    else if (decision.exhausted) log.warn('webhook retries exhausted', details);
    else log.info('webhook attempt failed', { ...details, nextAttemptAt: decision.nextAttempt?.at });
    if (decision.nextAttempt) {
      await this.publishAttempt(
        delivery,
        {
          ...command,
          attemptNumber: decision.nextAttempt.number,
          trigger: 'automatic',
          requestedBy: null,
          deferrals: 0,
        },
        decision.nextAttempt.at.getTime() - this.now().getTime(),
      );
    }
  }

  private async publishAttempt(delivery: Delivery, command: AttemptCommand, delayMs: number): Promise<void> {
    await this.options.broker.publish(
      this.options.attemptsTopic,
      [attemptMessage(delivery.transactionId, command)],
      delayMs > 0 ? { delayMs } : {},
    );
  }
}
