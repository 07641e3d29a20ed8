import { Kafka, type Admin, type Producer } from 'kafkajs';
import type {
  ConsumeSpec,
  DeliveryHandler,
  OutgoingMessage,
  Transport,
  TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';
import { KafkaGroupConsumer } from './consumer.js';
import { kafkaLogCreator } from './log-creator.js';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Partitions for topics this transport creates. */
  partitions: number;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/**
 * Kafka through kafkajs: an idempotent producer with acks=all (the publish resolves once every in-sync
 * replica has the batch), topics created with the configured partitions, one group member per consume.
 */
export function createKafkaTransport(options: KafkaTransportOptions): Transport {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    logCreator: kafkaLogCreator(options.logger),
  });
  let producer: Producer | undefined;
  let producerConnecting: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  const consumers = new Set<KafkaGroupConsumer>();
  const knownTopics = new Set<string>();

  const getProducer = (): Promise<Producer> => {
    producerConnecting ??= (async () => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      p.on(p.events.DISCONNECT, () => {
        if (producer === p) {
          producer = undefined;
          producerConnecting = undefined;
        }
      });
      await p.connect();
      producer = p;
      return p;
    })().catch((error: unknown) => {
      producerConnecting = undefined;
      throw error;
    });
    return producerConnecting;
  };

  const getAdmin = async (): Promise<Admin> => {
    if (!admin) {
      const a = kafka.admin();
      await a.connect();
      admin = a;
    }
    return admin;
  };

  return {
    kind: 'kafka',
    async connect() {
      await getAdmin();
    },
    async ensureTopics(topics) {
      const missing = topics.filter((t) => !knownTopics.has(t));
      if (missing.length === 0) return;
      const a = await getAdmin();
      const existing = new Set(await a.listTopics());
      const toCreate = missing.filter((t) => !existing.has(t));
      if (toCreate.length > 0) {
        try {
          await a.createTopics({
            topics: toCreate.map((topic) => ({
              topic,
              numPartitions: options.partitions,
              replicationFactor: -1,
            })),
            waitForLeaders: true,
          });
        } catch (error) {
          // Another process may have created it between listTopics and createTopics.
          if (!/already exists/i.test((error as Error).message)) throw error;
        }
      }
      for (const t of missing) knownTopics.add(t);
    },
    async ensureSubscription() {
      // Groups without committed offsets start from the earliest offset (fromBeginning).
    },
    async publish(topic: string, messages: readonly OutgoingMessage[]) {
      const p = await getProducer();
      try {
        await p.send({
          topic,
          acks: -1,
          messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} })),
        });
      } catch (error) {
        // Reconnect from scratch on the next publish rather than reusing a producer in an unknown state.
        if (producer === p) {
          producer = undefined;
          producerConnecting = undefined;
          void p.disconnect().catch(() => undefined);
        }
        throw error;
      }
    },
    async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer> {
      const consumer = new KafkaGroupConsumer(spec, handler, {
        kafka,
        logger: options.logger,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
      });
      await consumer.start();
      consumers.add(consumer);
      return {
        stop: async (timeoutMs) => {
          await consumer.stop(timeoutMs);
          consumers.delete(consumer);
        },
      };
    },
    async backlog(topic, group) {
      const a = await getAdmin();
      const [ends, committed] = await Promise.all([
        a.fetchTopicOffsets(topic),
        a.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      const committedByPartition = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
      );
      return ends.reduce((sum, end) => {
        const position = committedByPartition.get(end.partition) ?? -1;
        return sum + Number(end.high) - (position >= 0 ? position : Number(end.low));
      }, 0);
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.stop(0)));
      await producer?.disconnect().catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
      producer = undefined;
      producerConnecting = undefined;
      admin = undefined;
    },
  };
}
