import { Duration, type Message, type PubSub, type Subscription } from '@google-cloud/pubsub';
import {
  KeyedExecutor,
  type ConsumeSpec,
  type DeliveryHandler,
  type TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';
import { subscriptionName } from './names.js';

/**
 * A streaming-pull member of a subscription. The client emits every message of an ordering key in
 * order but does not wait for acks, so messages go through a KeyedExecutor. Once a message of a key is
 * nacked, the later in-flight messages of that key are nacked too: the server then redelivers them in
 * order after the failed one, so no later message of a key is acknowledged before it.
 */
export class PubSubConsumer implements TransportConsumer {
  private readonly executor: KeyedExecutor;
  private readonly failedKeys = new Set<string>();
  private readonly pendingPerKey = new Map<string, number>();
  private subscription: Subscription | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly spec: ConsumeSpec,
    private readonly handler: DeliveryHandler,
    private readonly options: { pubsub: PubSub; logger: Logger; ackDeadlineSeconds: number },
  ) {
    this.executor = new KeyedExecutor(spec.concurrency);
  }

  start(): void {
    const subscription = this.options.pubsub.subscription(
      subscriptionName(this.spec.topic, this.spec.group),
      {
        flowControl: { maxMessages: Math.max(10, this.spec.concurrency * 4), allowExcessMessages: false },
        minAckDeadline: Duration.from({ seconds: this.options.ackDeadlineSeconds }),
        maxExtensionTime: Duration.from({ minutes: 65 }),
        // On close, messages the client still holds are nacked so they are redelivered at once.
        closeOptions: { behavior: 'NACK' },
      },
    );
    subscription.on('message', (message: Message) => this.onMessage(message));
    subscription.on('error', (error: Error) =>
      this.options.logger.warn('pubsub subscription error', {
        topic: this.spec.topic,
        group: this.spec.group,
        error: error.message,
      }),
    );
    this.subscription = subscription;
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      const subscription = this.subscription;
      if (!subscription) return;
      subscription.removeAllListeners('message');
      // Waits for handlers still running (their acks are flushed), then nacks whatever is left.
      await Promise.race([this.executor.idle(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      await subscription
        .close()
        .catch((error: Error) =>
          this.options.logger.warn('pubsub subscription close failed', { error: error.message }),
        );
    })();
    return this.stopped;
  }

  private onMessage(message: Message): void {
    if (this.stopping) {
      message.nack();
      return;
    }
    const key = message.orderingKey || message.id;
    this.pendingPerKey.set(key, (this.pendingPerKey.get(key) ?? 0) + 1);
    void this.executor
      .submit(key, async () => {
        if (this.stopping || this.failedKeys.has(key)) {
          message.nack();
          return;
        }
        try {
          await this.handler({
            topic: this.spec.topic,
            key: message.orderingKey ?? '',
            value: message.data,
            headers: { ...message.attributes },
            messageId: message.id,
            partition: null,
            offset: null,
            publishedAt: message.publishTime,
          });
          message.ack();
        } catch {
          this.failedKeys.add(key);
          message.nack();
        }
      })
      .finally(() => {
        const left = (this.pendingPerKey.get(key) ?? 1) - 1;
        if (left > 0) return void this.pendingPerKey.set(key, left);
        // Nothing of this key is in our hands any more: its redelivery starts with the failed message.
        this.pendingPerKey.delete(key);
        this.failedKeys.delete(key);
      });
  }
}
