import { setMaxListeners } from 'node:events';

/** Same name as EVENT_HEADERS.eventType in core/streams.ts (the broker runtime does not depend on it). */
const EVENT_TYPE_HEADER = 'event-type';
import { BrokerUnavailableError, coerceError, isNonRetryable, PlatformError } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelay, DEFAULT_RETRY_POLICY } from './backoff.js';
import { DLQ_ARCHIVE_GROUP, REPLAY_GROUP_HEADER, deadLetterHeaders } from './dead-letter.js';
import {
  chooseTier,
  DEFAULT_DELAY_TIERS_MS,
  HEADER_DUE_AT,
  HEADER_ENTERED_TIER_AT,
  HEADER_TARGET,
  tierWaitUntil,
} from './delay-tiers.js';
import { deadLetterTopicFor, delaySchedulerGroup, delayTierTopic } from './topics.js';
import type {
  Broker,
  DeadLetterRecord,
  DeliveredMessage,
  DeliveryHandler,
  MessageHandler,
  OutgoingMessage,
  PublishOptions,
  RetryPolicy,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportConsumer,
} from './types.js';

/** Hooks for metrics; every field optional. */
export interface EventBusObserver {
  handled?(info: {
    topic: string;
    group: string;
    durationMs: number;
    outcome: 'ok' | 'retry' | 'dead-lettered';
    /** The business event type (`event-type` header) when the message carries one. */
    eventType: string | null;
  }): void;
  published?(info: { topic: string; count: number; durationMs: number; ok: boolean }): void;
}

export interface EventBusOptions {
  transport: Transport;
  logger: Logger;
  /** A publish that the broker has not durably acknowledged by then rejects with BrokerUnavailableError. */
  publishTimeoutMs?: number;
  delayTiersMs?: readonly number[];
  defaultRetry?: RetryPolicy;
  defaultConcurrency?: number;
  /** How long `stop()` waits for in-flight handlers. */
  stopTimeoutMs?: number;
  observer?: EventBusObserver;
  /** Default for subscriptions that set none: e.g. record a failed_events row (see SubscribeOptions). */
  onDeadLetter?: (record: DeadLetterRecord) => Promise<void>;
  /**
   * Errors that say a dependency (the database, the broker) is unreachable rather than that the
   * message is bad. They do not use up the retry policy: the message is retried with the policy's
   * (capped) backoff for as long as they last and is never dead-lettered for them, so an outage
   * delays processing instead of filling the DLQ. Default: none.
   */
  isTransient?: (error: Error) => boolean;
  clock?: () => number;
  random?: () => number;
}

class ConsumerStoppingError extends PlatformError {
  constructor() {
    super('CONSUMER_STOPPING', 'consumer is stopping; message left unacknowledged for redelivery');
  }
}

/**
 * The one implementation of `Broker`: retries, dead letters, delayed delivery and lifecycle, over any
 * Transport. Keeping these here (not in adapters) is what makes them behave the same on every broker.
 */
export class EventBus implements Broker {
  readonly kind;
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly publishTimeoutMs: number;
  private readonly tiers: readonly number[];
  private readonly defaultRetry: RetryPolicy;
  private readonly defaultConcurrency: number;
  private readonly stopTimeoutMs: number;
  private readonly observer: EventBusObserver;
  private readonly onDeadLetter: ((record: DeadLetterRecord) => Promise<void>) | undefined;
  private readonly isTransient: (error: Error) => boolean;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly consumers = new Set<TransportConsumer>();
  private readonly subscriptions = new Set<{ topic: string; group: string }>();
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly schedulers = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: EventBusOptions) {
    this.transport = options.transport;
    this.kind = options.transport.kind;
    this.logger = options.logger;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.tiers = [...(options.delayTiersMs ?? DEFAULT_DELAY_TIERS_MS)].sort((a, b) => a - b);
    this.defaultRetry = options.defaultRetry ?? DEFAULT_RETRY_POLICY;
    this.defaultConcurrency = options.defaultConcurrency ?? 16;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    this.observer = options.observer ?? {};
    this.onDeadLetter = options.onDeadLetter;
    this.isTransient = options.isTransient ?? (() => false);
    this.now = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    // Every retry backoff in flight waits on this one signal: a burst of poison messages is not a leak.
    setMaxListeners(0, this.abort.signal);
  }

  start(): Promise<void> {
    this.starting ??= this.transport.connect();
    return this.starting;
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    await Promise.all(
      topics.map((topic) => this.ensureOnce(`topic:${topic}`, () => this.transport.ensureTopics([topic]))),
    );
  }

  async publish(
    topic: string,
    messages: readonly OutgoingMessage[],
    options: PublishOptions = {},
  ): Promise<void> {
    if (messages.length === 0) return;
    this.assertRunning();
    const delayMs = options.delayMs ?? 0;
    if (delayMs > 0) {
      const dueAt = this.now() + delayMs;
      await this.publishToTier(topic, messages, dueAt);
      return;
    }
    await this.publishDurably(topic, messages);
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    this.assertRunning();
    await this.start();
    const group = options.group;
    const deadLetterTopic = options.deadLetterTopic ?? deadLetterTopicFor(options.topic, group);
    await this.ensureSubscription(options.topic, group);
    await this.ensureSubscription(deadLetterTopic, DLQ_ARCHIVE_GROUP);
    if (options.runDelayScheduler !== false) await this.startDelayScheduler(options.topic);
    const deliver = this.retryingHandler(options, deadLetterTopic, handler);
    const consumer = await this.transport.consume(
      { topic: options.topic, group, concurrency: options.concurrency ?? this.defaultConcurrency },
      deliver,
    );
    return this.track(options.topic, group, consumer);
  }

  /** Backlog of every subscription this bus runs, for the consumer-lag metric. */
  async consumerBacklog(): Promise<Array<{ topic: string; group: string; backlog: number }>> {
    if (!this.transport.backlog) return [];
    const results = [];
    for (const { topic, group } of this.subscriptions) {
      const backlog = await this.transport.backlog(topic, group).catch(() => undefined);
      if (backlog !== undefined) results.push({ topic, group, backlog });
    }
    return results;
  }

  stop(timeoutMs: number = this.stopTimeoutMs): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await Promise.all([...this.consumers].map((consumer) => consumer.stop(timeoutMs)));
      this.consumers.clear();
      await this.transport.close();
    })();
    return this.stopping;
  }

  private track(topic: string, group: string, consumer: TransportConsumer): Subscription {
    this.consumers.add(consumer);
    const entry = { topic, group };
    this.subscriptions.add(entry);
    let stopped: Promise<void> | undefined;
    return {
      topic,
      group,
      stop: (timeoutMs = this.stopTimeoutMs) => {
        stopped ??= consumer.stop(timeoutMs).finally(() => {
          this.consumers.delete(consumer);
          this.subscriptions.delete(entry);
        });
        return stopped;
      },
    };
  }

  private retryingHandler(
    options: SubscribeOptions,
    deadLetterTopic: string,
    handler: MessageHandler,
  ): DeliveryHandler {
    const policy = options.retry ?? this.defaultRetry;
    const signal = this.abort.signal;
    return async (message) => {
      const labels = {
        topic: options.topic,
        group: options.group,
        eventType: message.headers[EVENT_TYPE_HEADER] ?? null,
      };
      // A replay from the dead-letter topic is meant for the group that failed; other groups on the
      // topic already handled the original.
      const replayFor = message.headers[REPLAY_GROUP_HEADER];
      if (replayFor !== undefined && replayFor !== options.group) return;
      let firstFailureAt: Date | undefined;
      // Failures that count against the policy: not those of an unreachable dependency.
      let counted = 0;
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) throw new ConsumerStoppingError();
        const started = this.now();
        try {
          await handler(message, { attempt, signal });
          this.observer.handled?.({ ...labels, durationMs: this.now() - started, outcome: 'ok' });
          return;
        } catch (thrown) {
          const error = coerceError(thrown);
          const failedAt = new Date(this.now());
          firstFailureAt ??= failedAt;
          if (signal.aborted) throw new ConsumerStoppingError();
          const log = this.logger.child({
            ...labels,
            messageId: message.messageId,
            key: message.key,
            attempt,
          });
          const transient = !isNonRetryable(error) && this.isTransient(error);
          if (!transient) counted++;
          if (isNonRetryable(error) || counted >= policy.maxAttempts) {
            await this.deadLetter(
              {
                consumerGroup: options.group,
                originalTopic: options.topic,
                deadLetterTopic,
                message,
                attempts: attempt,
                errorClass: error.name,
                errorCode: error instanceof PlatformError ? error.code : null,
                errorMessage: error.message,
                errorStack: error.stack ?? null,
                firstFailureAt,
                lastFailureAt: failedAt,
              },
              options,
            );
            this.observer.handled?.({
              ...labels,
              durationMs: this.now() - started,
              outcome: 'dead-lettered',
            });
            log.error('message dead-lettered', {
              error: error.message,
              errorClass: error.name,
              deadLetterTopic,
            });
            return;
          }
          this.observer.handled?.({ ...labels, durationMs: this.now() - started, outcome: 'retry' });
          const delay = backoffDelay(policy.backoff, attempt + 1, this.random);
          log.warn(
            transient ? 'dependency unavailable; retrying until it is back' : 'handler failed; retrying',
            {
              error: error.message,
              errorClass: error.name,
              delayMs: delay,
            },
          );
          await sleep(delay, signal);
        }
      }
    };
  }

  private async deadLetter(record: DeadLetterRecord, options: SubscribeOptions): Promise<void> {
    await this.publishDurably(record.deadLetterTopic, [
      { key: record.message.key, value: record.message.value, headers: deadLetterHeaders(record) },
    ]);
    await (options.onDeadLetter ?? this.onDeadLetter)?.(record);
  }

  private async publishDurably(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const started = this.now();
    let ok = false;
    try {
      await withTimeout(
        this.ensureTopics([topic]).then(() => this.transport.publish(topic, messages)),
        this.publishTimeoutMs,
        () =>
          new BrokerUnavailableError(
            `publish to ${topic} not acknowledged within ${this.publishTimeoutMs} ms`,
          ),
      );
      ok = true;
    } catch (thrown) {
      const error = coerceError(thrown);
      if (error instanceof BrokerUnavailableError) throw error;
      throw new BrokerUnavailableError(`publish to ${topic} failed: ${error.message}`, { cause: error });
    } finally {
      this.observer.published?.({ topic, count: messages.length, durationMs: this.now() - started, ok });
    }
  }

  private async publishToTier(
    target: string,
    messages: readonly OutgoingMessage[],
    dueAt: number,
  ): Promise<void> {
    const enteredAt = this.now();
    const tier = chooseTier(this.tiers, dueAt - enteredAt);
    const tierTopic = delayTierTopic(target, tier);
    await this.ensureSubscription(tierTopic, delaySchedulerGroup(tierTopic));
    await this.publishDurably(
      tierTopic,
      messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: {
          ...m.headers,
          [HEADER_TARGET]: target,
          [HEADER_DUE_AT]: String(dueAt),
          [HEADER_ENTERED_TIER_AT]: String(enteredAt),
        },
      })),
    );
  }

  /** Moves due messages from `topic`'s tiers to `topic`; one scheduler per topic per process. */
  private startDelayScheduler(topic: string): Promise<void> {
    let started = this.schedulers.get(topic);
    if (!started) {
      started = (async () => {
        for (const tier of this.tiers) {
          const tierTopic = delayTierTopic(topic, tier);
          // One group per tier topic: Kafka groups whose members subscribe different topics get
          // partitions of topics they do not read.
          const group = delaySchedulerGroup(tierTopic);
          await this.ensureSubscription(tierTopic, group);
          const consumer = await this.transport.consume(
            { topic: tierTopic, group, concurrency: 256 },
            (message) => this.forwardWhenDue(tier, message),
          );
          this.track(tierTopic, group, consumer);
        }
      })();
      this.schedulers.set(topic, started);
    }
    return started;
  }

  private async forwardWhenDue(tier: number, message: DeliveredMessage): Promise<void> {
    const target = message.headers[HEADER_TARGET];
    const dueAt = Number(message.headers[HEADER_DUE_AT]);
    const enteredAt = Number(message.headers[HEADER_ENTERED_TIER_AT] ?? message.publishedAt.getTime());
    if (!target || !Number.isFinite(dueAt)) {
      this.logger.error('delay tier message without target or due time; dropped to its dead-letter topic', {
        topic: message.topic,
        messageId: message.messageId,
      });
      await this.publishDurably(deadLetterTopicFor(message.topic, 'scheduler'), [message]);
      return;
    }
    const waitMs = tierWaitUntil(tier, enteredAt, dueAt) - this.now();
    if (waitMs > 0) await sleep(waitMs, this.abort.signal);
    if (this.abort.signal.aborted) throw new ConsumerStoppingError();
    const {
      [HEADER_TARGET]: _t,
      [HEADER_DUE_AT]: _d,
      [HEADER_ENTERED_TIER_AT]: _e,
      ...headers
    } = message.headers;
    if (this.now() >= dueAt) {
      await this.publishDurably(target, [{ key: message.key, value: message.value, headers }]);
    } else {
      await this.publishToTier(target, [{ key: message.key, value: message.value, headers }], dueAt);
    }
  }

  ensureSubscription(topic: string, group: string): Promise<void> {
    return this.ensureOnce(`sub:${topic}\u0000${group}`, async () => {
      await this.ensureTopics([topic]);
      await this.transport.ensureSubscription(topic, group);
    });
  }

  private ensureOnce(key: string, create: () => Promise<void>): Promise<void> {
    let pending = this.ensured.get(key);
    if (!pending) {
      pending = create().catch((error: unknown) => {
        this.ensured.delete(key);
        throw error;
      });
      this.ensured.set(key, pending);
    }
    return pending;
  }

  private assertRunning(): void {
    if (this.stopping) throw new BrokerUnavailableError('broker is stopping');
  }
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ConsumerStoppingError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConsumerStoppingError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
