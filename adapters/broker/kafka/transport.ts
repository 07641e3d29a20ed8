import type { Kafka } from 'kafkajs';
import type {
  ConsumeSpec,
  DeliveryHandler,
  OutgoingMessage,
  Transport,
  TransportConsumer,
} from '../../../core/broker/index.js';
import { KafkaAdminClient } from './admin.js';
import { createKafkaClient } from './client.js';
import { KafkaGroupConsumer } from './consumer.js';
import { resolveKafkaOptions, type KafkaTransportOptions, type ResolvedKafkaOptions } from './options.js';
import { KafkaPublisher } from './producer.js';

/**
 * Kafka through kafkajs: an idempotent acks=all producer (publish resolves once every in-sync replica
 * has the batch), topics created with the configured partitions, one consumer-group member per
 * `consume`. See producer.ts and consumer.ts for the delivery guarantees and how they are kept.
 */
export function createKafkaTransport(options: KafkaTransportOptions): Transport {
  return new KafkaTransport(resolveKafkaOptions(options));
}

class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly admin: KafkaAdminClient;
  private readonly publisher: KafkaPublisher;
  private readonly consumers = new Set<KafkaGroupConsumer>();

  constructor(private readonly options: ResolvedKafkaOptions) {
    this.kafka = createKafkaClient(options);
    this.admin = new KafkaAdminClient(this.kafka, options);
    this.publisher = new KafkaPublisher(this.kafka, options);
  }

  /** Checks the cluster answers (admin connection); the producer connects on first publish. */
  connect(): Promise<void> {
    return this.admin.connect();
  }

  ensureTopics(topics: readonly string[]): Promise<void> {
    return this.admin.ensureTopics(topics);
  }

  /** A group without committed offsets starts from the earliest offset (fromBeginning): nothing to do. */
  async ensureSubscription(): Promise<void> {}

  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return this.publisher.publish(topic, messages);
  }

  async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer> {
    const consumer = new KafkaGroupConsumer(spec, handler, this.kafka, this.options);
    await consumer.start();
    this.consumers.add(consumer);
    return {
      stop: async (timeoutMs) => {
        try {
          await consumer.stop(timeoutMs);
        } finally {
          this.consumers.delete(consumer);
        }
      },
    };
  }

  backlog(topic: string, group: string): Promise<number | undefined> {
    return this.admin.backlog(topic, group);
  }

  async close(): Promise<void> {
    // Consumers should be stopped already; any left over are stopped without waiting for handlers.
    await Promise.all([...this.consumers].map((consumer) => consumer.stop(0)));
    this.consumers.clear();
    await Promise.all([this.publisher.close(), this.admin.close()]);
  }
}
