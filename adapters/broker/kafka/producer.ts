import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { PublishCoalescer, type OutgoingMessage, type QueuedPublish } from '../../../core/broker/index.js';
import { BrokerUnavailableError } from '../../../core/errors.js';
import { errorMessage, noop, withDeadline } from './deadline.js';
import { toKafkaMessage } from './messages.js';
import type { ResolvedKafkaOptions } from './options.js';

/** One kafkajs producer and its connection; replaced as a whole after any failed send. */
interface Incarnation {
  producer: Producer;
  connected: Promise<void>;
  /** The send currently running on it, if any. */
  sending: Promise<unknown> | undefined;
  discarded: boolean;
}

/**
 * Durable publishing: an idempotent producer (acks=all, one request in flight per broker) whose
 * `publish` resolves only once every in-sync replica has the batch carrying its messages.
 *
 * Concurrent publishes are coalesced (core/broker/publish-coalescer.ts): while one produce request is
 * in flight, later publishes queue, and the next request carries all of them (every topic in one
 * `sendBatch`, up to `publishBatchMaxMessages` / `publishBatchMaxBytes`). Each caller resolves when
 * that request is acknowledged; a failed request rejects every caller in it. Messages keep call order
 * within a request, so one key's messages keep publish order.
 *
 * Sends run one at a time, and a producer whose send failed or timed out is thrown away before the next
 * send starts. Both matter for correctness, not just tidiness: when a produce request fails, kafkajs
 * rolls its sequence numbers back, so the next batch reuses them; if the failed request had in fact been
 * written (timeout, connection lost after the append), the broker takes a next batch of the same size
 * for a retry of it and acknowledges it without writing it. A fresh producer gets a fresh producer id
 * and cannot collide. kafkajs already serialises an idempotent producer's requests per broker, so
 * one send at a time costs no throughput on a single broker.
 *
 * Failures are bounded: kafkajs' retries are capped (`publishRetries`, connection/request timeouts) and a
 * publish that is not acknowledged within `publishTimeoutMs` rejects with BrokerUnavailableError (one
 * still queued then is never sent). A request is given up (and its producer discarded) once its oldest
 * caller's `publishTimeoutMs` has passed. The next publish connects again, so the producer recovers on
 * its own once the broker is back.
 */
export class KafkaPublisher {
  private current: Incarnation | undefined;
  private readonly coalescer: PublishCoalescer;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ResolvedKafkaOptions,
  ) {
    this.coalescer = new PublishCoalescer((batch) => this.send(batch), {
      maxMessages: options.publishBatchMaxMessages,
      maxBytes: options.publishBatchMaxBytes,
    });
  }

  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('kafka transport is closed'));
    if (messages.length === 0) return Promise.resolve();
    const submission = this.coalescer.submit(topic, messages);
    return withDeadline(submission.done, this.options.publishTimeoutMs, () => {
      // Still queued: never send it late. Already in flight: its request is bounded by send().
      submission.withdraw();
      return new BrokerUnavailableError(
        `kafka publish to ${topic} not acknowledged within ${this.options.publishTimeoutMs} ms`,
      );
    }).catch((error: unknown) => {
      if (error instanceof BrokerUnavailableError) throw error;
      throw new BrokerUnavailableError(`kafka publish to ${topic} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    });
  }

  /** Waits for queued publishes (each bounded by its timeout), then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.coalescer.idle();
    const current = this.current;
    this.current = undefined;
    if (current) await this.discard(current);
  }

  /** One produce request for the whole batch, given up when its oldest caller's timeout has passed. */
  private async send(batch: readonly QueuedPublish[]): Promise<void> {
    const deadline = Math.min(...batch.map((p) => p.submittedAt)) + this.options.publishTimeoutMs;
    const incarnation = (this.current ??= this.create());
    const attempt = incarnation.connected.then(() =>
      incarnation.producer.sendBatch({
        acks: -1,
        // Broker-side wait for the in-sync replicas; below the client's request timeout.
        timeout: Math.max(1_000, this.options.requestTimeoutMs - 1_000),
        topicMessages: byTopic(batch),
      }),
    );
    incarnation.sending = attempt;
    try {
      await withDeadline(
        attempt,
        deadline - Date.now(),
        () => new Error(`not acknowledged within ${this.options.publishTimeoutMs} ms`),
      );
    } catch (error) {
      void this.discard(incarnation);
      throw error;
    } finally {
      if (incarnation.sending === attempt) incarnation.sending = undefined;
    }
  }

  private create(): Incarnation {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      metadataMaxAge: this.options.metadataMaxAgeMs,
      // Java-compatible murmur2 on the key: the same key lands on the same partition as with Java clients.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: this.options.publishRetries, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    const incarnation: Incarnation = {
      producer,
      connected: producer.connect(),
      sending: undefined,
      discarded: false,
    };
    incarnation.connected.catch(noop);
    return incarnation;
  }

  /**
   * Disconnects now, and once more after a connect or send still running on it settles: kafkajs'
   * retry loop reconnects a disconnected cluster, which would otherwise leak its sockets.
   */
  private async discard(incarnation: Incarnation): Promise<void> {
    if (this.current === incarnation) this.current = undefined;
    if (incarnation.discarded) return;
    incarnation.discarded = true;
    const disconnect = () => incarnation.producer.disconnect().catch(noop);
    await disconnect();
    void Promise.allSettled([incarnation.connected, incarnation.sending]).then(disconnect);
  }
}

/** The batch's messages per topic, each topic's in call order (which keeps every key's order). */
function byTopic(batch: readonly QueuedPublish[]): Array<{ topic: string; messages: Message[] }> {
  const topics = new Map<string, Message[]>();
  for (const publish of batch) {
    let list = topics.get(publish.topic);
    if (!list) topics.set(publish.topic, (list = []));
    for (const message of publish.messages) list.push(toKafkaMessage(message));
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
