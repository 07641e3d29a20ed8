/**
 * The broker contract the whole platform codes against.
 *
 * Two layers:
 * - `Transport` is what an adapter in `adapters/broker/*` implements: durable publish, per-key ordered
 *   at-least-once consumption in consumer groups. Nothing else.
 * - `Broker` (implemented once, in `event-bus.ts`, over any Transport) adds the semantics that must be
 *   identical on every broker: bounded retries with backoff, dead-letter topics with metadata, delayed
 *   delivery through retry-tier topics, publish timeouts and graceful stop.
 */

export type BrokerKind = 'kafka' | 'pubsub' | 'embedded';

/** Message headers: string values only, so every broker can carry them (Pub/Sub attributes). */
export type Headers = Record<string, string>;

/** A message to publish. `key` is the ordering key (the transaction id for business events). */
export interface OutgoingMessage {
  key: string;
  value: Buffer;
  headers?: Headers;
}

/** A message as a consumer receives it. */
export interface DeliveredMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Headers;
  /** Broker-native identity: Kafka/embedded `partition:offset`, Pub/Sub message id. */
  messageId: string;
  /** Kafka/embedded partition; null on Pub/Sub. */
  partition: number | null;
  /** Kafka/embedded offset as a decimal string; null on Pub/Sub. */
  offset: string | null;
  publishedAt: Date;
}

/** What a Transport calls per message. Resolving acknowledges; rejecting means "deliver again later". */
export type DeliveryHandler = (message: DeliveredMessage) => Promise<void>;

export interface ConsumeSpec {
  topic: string;
  group: string;
  /** Maximum handlers running at once in this consumer (different keys only). */
  concurrency: number;
}

export interface TransportConsumer {
  /** Stop fetching, wait for in-flight handlers up to `timeoutMs`, commit what completed, detach. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * What each broker adapter implements.
 *
 * Consumption contract (the conformance suite checks it on every adapter):
 * - messages with the same key reach the handler one at a time, in publish order;
 * - messages with different keys may be handled concurrently, up to `concurrency`;
 * - a message is acknowledged only after its handler resolved (commits never run ahead of a
 *   not-yet-resolved message of the same partition);
 * - a rejected or unfinished (crash, stop timeout) message is delivered again, and no later message of
 *   its key is acknowledged before it;
 * - members of one group share the topic's keys; different groups each get every message.
 */
export interface Transport {
  readonly kind: BrokerKind;
  connect(): Promise<void>;
  /** Creates topics that do not exist yet (idempotent). */
  ensureTopics(topics: readonly string[]): Promise<void>;
  /**
   * Makes sure `group` will see every message published to `topic` from now on, even before any
   * member consumes (Pub/Sub: creates the subscription; Kafka and embedded: a group without committed
   * offsets starts from the earliest message, so nothing to do). Idempotent.
   */
  ensureSubscription(topic: string, group: string): Promise<void>;
  /** Resolves only once the broker durably accepted every message; keeps order per key. */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer>;
  /** Releases connections. Consumers must have been stopped first. */
  close(): Promise<void>;
  /**
   * Messages published to `topic` that `group` has not committed yet, when the broker can tell
   * (undefined on Pub/Sub: use Cloud Monitoring's num_undelivered_messages there).
   */
  backlog?(topic: string, group: string): Promise<number | undefined>;
}

/** Exponential backoff with jitter; see `backoff.ts`. */
export interface BackoffPolicy {
  initialMs: number;
  multiplier: number;
  maxMs: number;
  jitter: 'full' | 'equal' | 'none';
}

/** How a consumer retries a failing message before dead-lettering it. `maxAttempts` counts the first. */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: BackoffPolicy;
}

/** Everything ops need to understand and replay a dead-lettered message. */
export interface DeadLetterRecord {
  consumerGroup: string;
  originalTopic: string;
  deadLetterTopic: string;
  message: DeliveredMessage;
  attempts: number;
  errorClass: string;
  errorCode: string | null;
  errorMessage: string;
  errorStack: string | null;
  firstFailureAt: Date;
  lastFailureAt: Date;
}

export interface HandlerContext {
  /** 1 for the first attempt in this process. */
  attempt: number;
  /** Aborted when the consumer is stopping; long handlers should give up early. */
  signal: AbortSignal;
}

export type MessageHandler = (message: DeliveredMessage, context: HandlerContext) => Promise<void>;

export interface SubscribeOptions {
  topic: string;
  group: string;
  concurrency?: number;
  retry?: RetryPolicy;
  /** Defaults to `deadLetterTopicFor(topic, group)`. */
  deadLetterTopic?: string;
  /**
   * Called after the message is on the dead-letter topic and before it is acknowledged (e.g. to write
   * a failed_events row). If it throws, the message is not acknowledged and will be handled again.
   */
  onDeadLetter?: (record: DeadLetterRecord) => Promise<void>;
  /** Start the delay scheduler for this topic's retry tiers in this process (default true). */
  runDelayScheduler?: boolean;
}

export interface PublishOptions {
  /** Deliver no earlier than this many milliseconds from now, via the topic's retry-tier topics. */
  delayMs?: number;
}

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  stop(timeoutMs?: number): Promise<void>;
}

/** The broker as domain code sees it. */
export interface Broker {
  readonly kind: BrokerKind;
  start(): Promise<void>;
  ensureTopics(topics: readonly string[]): Promise<void>;
  /** Declares a consumer group up front so it misses nothing published before its first consumer starts. */
  ensureSubscription(topic: string, group: string): Promise<void>;
  publish(topic: string, messages: readonly OutgoingMessage[], options?: PublishOptions): Promise<void>;
  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription>;
  /** Stops every subscription (draining in-flight work up to the timeout), then closes the transport. */
  stop(timeoutMs?: number): Promise<void>;
}
