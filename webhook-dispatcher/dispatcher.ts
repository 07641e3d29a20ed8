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
 * Cost: concurrent handlers share their database work (core/batching/batcher.ts): one statement reads the request
 * contexts of many webhooks, one creates their deliveries, one transaction of five statements records
 * many attempts (attempt-recorder.ts).
 *
 * Isolation: handlers of different transactions run concurrently; at most `maxInFlightPerHost`
 * attempts run at once to one merchant host, and attempts over that limit wait in memory, in arrival
 * order, for the host's next free slot (host-gate.ts); only when a host's queue is full are they put
 * back on the attempts topic with a delay.
 */
import type { Knex } from 'knex';
import type { Broker, DeliveredMessage } from '../core/broker/index.js';
import type { Logger } from '../core/logger.js';
import { EVENT_HEADERS } from '../core/streams.js';
import { decodeEvent, isEventOf } from '../schemas/index.js';
import { attemptMessage, parseAttemptMessage } from './attempt-messages.js';
import { planAttempt } from './attempt-plan.js';
import {
  recordAttempts,
  type AttemptRecord,
  type RecordOutcome,
  type RecordPolicy,
} from './attempt-recorder.js';
import { sendAttempt, type SenderOptions } from './attempt-sender.js';
import { Batcher } from '../core/batching/batcher.js';
import {
  draftDelivery,
  insertDeliveries,
  readAttemptContexts,
  readRequestContexts,
  type AttemptContext,
  type AttemptKey,
  type CreationOutcome,
  type DeliveryDraft,
  type RequestContext,
} from './delivery-store.js';
import { deferDelay, HostGate, hostKey, type Release } from './host-gate.js';
import type { WebhookObserver } from './metrics.js';
import type { AttemptCommand, Delivery } from './model.js';
import { MerchantConnections } from './merchant-connections.js';
import type { OverdueSweepSettings } from './overdue-sweep.js';
import type { AddressClass } from './ssrf-guard.js';

/** The dispatcher's tunables (config.webhooks). */
export interface WebhookDispatcherSettings {
  /** Delays after the 1st, 2nd, ... failed automatic attempt; its length + 1 is the number of attempts. */
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  maxInFlightPerHost: number;
  /**
   * Handler slots per subscription (different transactions only). Each subscription gets `maxQueued`
   * slots more, for attempts waiting in memory for a busy host, so waiters never take these.
   */
  concurrency: number;
  allowHttp: boolean;
  allowAddresses: readonly AddressClass[];
  /** Attempts waiting in memory for one busy host before more are deferred through the broker (default 64). */
  maxQueuedPerHost?: number;
  /** Attempts waiting in memory for busy hosts in all (default 256). */
  maxQueued?: number;
  /** Largest Retry-After honoured (default 1 h). */
  maxRetryAfterMs?: number;
  /** Response body bytes kept per attempt (default 4 KiB). */
  maxResponseBytes?: number;
  /** First delay for an attempt deferred through the broker (host queue full; default 1 s, doubling). */
  deferBaseMs?: number;
  /**
   * Re-publishing of attempts overdue by `graceMs` (their message lost; overdue-sweep.ts) every
   * `intervalMs`; absent or 0 = off.
   */
  overdueSweep?: OverdueSweepSettings;
  /** Idle connections to merchant hosts are kept this long for the next delivery (default 4 s; 0 = none; merchant-connections.ts). */
  keepAliveMs?: number;
}

export const DEFAULT_MAX_QUEUED_PER_HOST = 64;
export const DEFAULT_MAX_QUEUED = 256;

/** Most handlers whose database work shares one statement (reads, creations) or transaction (records). */
const MAX_READ_BATCH = 128;
const MAX_RECORD_BATCH = 64;

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

const REQUESTED = 'MerchantWebhookRequested';

export class WebhookDispatcher {
  private readonly gate: HostGate;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly observer: WebhookObserver;
  private readonly sender: SenderOptions;
  private readonly connections: MerchantConnections | undefined;
  private readonly policy: RecordPolicy;
  private readonly requestContexts: Batcher<string, RequestContext | undefined>;
  private readonly creations: Batcher<DeliveryDraft, CreationOutcome>;
  private readonly attemptContexts: Batcher<AttemptKey, AttemptContext | undefined>;
  private readonly records: Batcher<AttemptRecord, RecordOutcome>;

  constructor(private readonly options: WebhookDispatcherOptions) {
    const { settings, knex } = options;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.observer = options.observer ?? {};
    this.gate = new HostGate(
      {
        maxInFlightPerHost: settings.maxInFlightPerHost,
        maxQueuedPerHost: settings.maxQueuedPerHost ?? DEFAULT_MAX_QUEUED_PER_HOST,
        maxQueued: settings.maxQueued ?? DEFAULT_MAX_QUEUED,
      },
      (waiting) => this.observer.waiting?.(waiting),
    );
    this.connections = MerchantConnections.forSettings(settings);
    this.sender = {
      policy: { allowHttp: settings.allowHttp, allowAddresses: settings.allowAddresses },
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxResponseBytes ?? 4_096,
      now: this.now,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(this.connections ? { connections: this.connections } : {}),
    };
    this.policy = {
      schedule: settings.retryScheduleMs,
      maxRetryAfterMs: settings.maxRetryAfterMs ?? 3_600_000,
      random: this.random,
    };
    this.requestContexts = new Batcher({
      maxBatch: MAX_READ_BATCH,
      run: async (ids) => {
        const found = await readRequestContexts(knex, ids);
        return ids.map((id) => found.get(id));
      },
    });
    this.creations = new Batcher({
      maxBatch: MAX_READ_BATCH,
      exclusiveKey: (draft) => draft.delivery.id,
      run: (drafts) => insertDeliveries(knex, options.inboxConsumer, drafts),
    });
    this.attemptContexts = new Batcher({
      maxBatch: MAX_READ_BATCH,
      run: (keys) => readAttemptContexts(knex, keys),
    });
    this.records = new Batcher({
      maxBatch: MAX_RECORD_BATCH,
      exclusiveKey: (record) => record.command.deliveryId,
      run: (records) => recordAttempts(knex, records, this.policy),
    });
  }

  /** Business topic handler. */
  async handleBusinessEvent(message: DeliveredMessage): Promise<void> {
    if (message.headers[EVENT_HEADERS.eventType] !== REQUESTED) return;
    const event = decodeEvent(message.value);
    if (!isEventOf(event, REQUESTED)) return;
    const { envelope, payload } = event;
    const context = await this.requestContexts.submit(envelope.transactionId);
    const draft = draftDelivery(event, context, this.now());
    const outcome = await this.creations.submit(draft);
    if (outcome === 'reused') {
      this.options.logger.warn('webhook id already used by another request; the existing delivery stands', {
        webhookId: payload.webhookId,
        eventId: envelope.eventId,
        transactionId: envelope.transactionId,
        merchantId: envelope.merchantId,
      });
    }
    const command: AttemptCommand = {
      deliveryId: payload.webhookId,
      attemptNumber: 1,
      trigger: 'automatic',
      requestedBy: null,
      correlationId: envelope.correlationId,
      causationId: envelope.eventId,
      deferrals: 0,
    };
    // A new delivery is known as drafted: nothing can have recorded its first attempt yet. Otherwise
    // (a redelivered event: the process may have died after creating the delivery and before recording
    // attempt 1) read it; if attempt 1 is recorded this is a no-op.
    await this.attempt(
      command,
      outcome === 'created'
        ? { delivery: draft.delivery, recorded: undefined, secrets: context!.secrets }
        : undefined,
    );
  }

  /** Attempts topic handler. */
  async handleAttemptMessage(message: DeliveredMessage): Promise<void> {
    await this.attempt(parseAttemptMessage(message.value));
  }

  /**
   * Shutdown: attempts waiting for a busy host are put back on the attempts topic (then acknowledged);
   * no attempt waits from now on. Call before stopping the subscriptions.
   */
  close(): void {
    this.gate.close();
  }

  /** Closes the kept merchant connections. Call once the subscriptions have stopped (nothing in flight). */
  closeConnections(): void {
    this.connections?.close();
  }

  /** Makes (at most) the one attempt a command names, records it and schedules what follows. */
  async attempt(command: AttemptCommand, known?: AttemptContext): Promise<void> {
    const planned = await this.sendable(command, known);
    if (!planned) return;
    const slot = await this.hostSlot(command, planned);
    if (!slot) return;
    const { context, release } = slot;
    const { delivery } = context;
    const url = delivery.url!;
    let result;
    try {
      result = await sendAttempt(
        { webhookId: delivery.id, url, body: delivery.payload, secrets: context.secrets },
        this.sender,
      );
    } finally {
      release();
    }
    const outcome = await this.records.submit({ command, url, result, now: this.now() });
    const fields = {
      webhookId: delivery.id,
      transactionId: delivery.transactionId,
      merchantId: delivery.merchantId,
      attemptNumber: command.attemptNumber,
      trigger: command.trigger,
    };
    if (!outcome.recorded) {
      this.options.logger.info(
        'webhook attempt was recorded by another delivery of the same message; result dropped',
        {
          ...fields,
          delivered: result.delivered,
        },
      );
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
      ...fields,
      delivered: result.delivered,
      httpStatus: result.status,
      errorClass: result.errorClass,
      durationMs: result.durationMs,
      state: decision.state,
    };
    const { logger } = this.options;
    if (result.delivered) logger.info('webhook delivered', details);
    else if (decision.exhausted) logger.warn('webhook retries exhausted', details);
    else logger.info('webhook attempt failed', { ...details, nextAttemptAt: decision.nextAttempt?.at });
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

  /**
   * A slot of the delivery's host: at once, or after waiting in the host's queue — then with the
   * delivery read again, since it may have moved on meanwhile (a resend delivered it, a redelivered
   * message recorded it, the secrets rotated). Undefined when the attempt was deferred through the
   * broker (queue full, shutdown) or is no longer to be sent.
   */
  private async hostSlot(
    command: AttemptCommand,
    context: AttemptContext,
  ): Promise<{ context: AttemptContext; release: Release } | undefined> {
    const admission = this.gate.admit(hostKey(context.delivery.url!));
    if (admission.kind === 'granted') return { context, release: admission.release };
    if (admission.kind === 'refused') {
      await this.defer(context.delivery, command);
      return undefined;
    }
    this.observer.queued?.();
    const release = await admission.granted;
    if (!release) {
      await this.defer(context.delivery, command);
      return undefined;
    }
    try {
      const current = await this.sendable(command);
      if (current) return { context: current, release };
    } catch (error) {
      release();
      throw error;
    }
    release();
    return undefined;
  }

  /**
   * The context of an attempt that should be sent now; undefined when there is nothing to send (after
   * re-publishing the retry a recorded attempt scheduled, or an early message, when that is the plan).
   */
  private async sendable(
    command: AttemptCommand,
    known?: AttemptContext,
  ): Promise<AttemptContext | undefined> {
    const context =
      known ??
      (await this.attemptContexts.submit({
        deliveryId: command.deliveryId,
        attemptNumber: command.attemptNumber,
      }));
    if (!context) {
      this.options.logger.warn('attempt for an unknown webhook ignored', { webhookId: command.deliveryId });
      return undefined;
    }
    const { delivery } = context;
    const plan = planAttempt(delivery, context.recorded, command, this.now());
    if (plan.kind === 'send') return context;
    if (plan.kind === 'skip') {
      this.options.logger.debug('webhook attempt skipped', {
        webhookId: delivery.id,
        attemptNumber: command.attemptNumber,
        reason: plan.reason,
      });
      return undefined;
    }
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
    return undefined;
  }

  /** Puts an attempt its host cannot take now back on the attempts topic, with a doubling delay. */
  private async defer(delivery: Delivery, command: AttemptCommand): Promise<void> {
    this.observer.deferred?.();
    const delayMs = deferDelay(this.options.settings.deferBaseMs ?? 1_000, command.deferrals, this.random);
    this.options.logger.debug('merchant host busy; attempt deferred', {
      webhookId: delivery.id,
      attemptNumber: command.attemptNumber,
      delayMs,
    });
    await this.publishAttempt(delivery, { ...command, deferrals: command.deferrals + 1 }, delayMs);
  }

  private async publishAttempt(delivery: Delivery, command: AttemptCommand, delayMs: number): Promise<void> {
    await this.options.broker.publish(
      this.options.attemptsTopic,
      [attemptMessage(delivery.transactionId, command)],
      delayMs > 0 ? { delayMs } : {},
    );
  }
}
