import { PubSub, type Topic } from '@google-cloud/pubsub';
import type {
  ConsumeSpec,
  DeliveryHandler,
  OutgoingMessage,
  Transport,
  TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';
import { PubSubConsumer } from './consumer.js';
import { resourceName, subscriptionName } from './names.js';

export interface PubSubTransportOptions {
  projectId: string;
  /** host:port of the emulator (pstest); unset in production. */
  emulatorHost?: string | undefined;
  logger: Logger;
  /** Lease before an unacknowledged message is redelivered; the client extends it while a handler runs. */
  ackDeadlineSeconds?: number;
  /** Bound on one publish RPC, so a dead endpoint fails fast instead of retrying for a minute. */
  publishTimeoutMs?: number;
}

const ALREADY_EXISTS = 6;

/**
 * Google Pub/Sub: topics with message ordering, a subscription per consumer group, ordering key =
 * message key. Retries and dead letters are the EventBus's, not Pub/Sub's native policies, so they
 * behave like every other broker (see docs/decisions/0007).
 */
export function createPubSubTransport(options: PubSubTransportOptions): Transport {
  const pubsub = new PubSub({
    projectId: options.projectId,
    // Naming the universe domain stops google-auth probing for a GCE metadata server next to the emulator.
    ...(options.emulatorHost
      ? { apiEndpoint: options.emulatorHost, emulatorMode: true, universeDomain: 'googleapis.com' }
      : {}),
  });
  const topics = new Map<string, Topic>();
  const consumers = new Set<PubSubConsumer>();
  const ackDeadlineSeconds = options.ackDeadlineSeconds ?? 10;

  const topicHandle = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      topic = pubsub.topic(resourceName(name), {
        messageOrdering: true,
        batching: { maxMessages: 500, maxMilliseconds: 2 },
        gaxOpts: { timeout: options.publishTimeoutMs ?? 10_000 },
      });
      topics.set(name, topic);
    }
    return topic;
  };

  const ignoreExists = (error: unknown) => {
    if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
  };

  return {
    kind: 'pubsub',
    async connect() {
      await pubsub.getClientConfig();
    },
    async ensureTopics(names) {
      for (const name of names) await pubsub.createTopic(resourceName(name)).catch(ignoreExists);
    },
    async ensureSubscription(topic, group) {
      await pubsub.createTopic(resourceName(topic)).catch(ignoreExists);
      await topicHandle(topic)
        .createSubscription(subscriptionName(topic, group), {
          enableMessageOrdering: true,
          ackDeadlineSeconds,
        })
        .catch(ignoreExists);
    },
    async publish(topicName: string, messages: readonly OutgoingMessage[]) {
      const topic = topicHandle(topicName);
      const results = await Promise.allSettled(
        messages.map((m) =>
          topic.publishMessage({
            data: m.value,
            attributes: { ...m.headers },
            ...(m.key ? { orderingKey: m.key } : {}),
          }),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        // A failed publish pauses its ordering key in the client; resume so later publishes can go.
        for (const m of messages) if (m.key) topic.resumePublishing(m.key);
        throw failed.reason;
      }
    },
    async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer> {
      await this.ensureSubscription(spec.topic, spec.group);
      const consumer = new PubSubConsumer(spec, handler, {
        pubsub,
        logger: options.logger,
        ackDeadlineSeconds,
      });
      consumer.start();
      consumers.add(consumer);
      return {
        stop: async (timeoutMs) => {
          await consumer.stop(timeoutMs);
          consumers.delete(consumer);
        },
      };
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.stop(0)));
      await Promise.all([...topics.values()].map((t) => t.flush().catch(() => undefined)));
      await pubsub.close();
    },
  };
}
