import type {
  ConsumeSpec,
  DeliveryHandler,
  OutgoingMessage,
  Transport,
  TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';
import type { Database } from '../../db/index.js';
import { EmbeddedConsumer } from './consumer.js';
import { LogStore } from './log-store.js';

export interface EmbeddedTransportOptions {
  database: Database;
  partitions: number;
  logger: Logger;
  /** A member that stops renewing loses its partitions after this long. */
  leaseMs?: number;
  /** Fallback poll; consumers normally wake on NOTIFY at commit. */
  pollIntervalMs?: number;
}

/** The embedded durable log: topics are partitioned tables in the platform's own Postgres/PGlite. */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): Transport {
  const store = new LogStore(options.database.knex);
  const partitionsByTopic = new Map<string, number>();
  const consumers = new Set<EmbeddedConsumer>();

  const partitionsOf = async (topic: string): Promise<number> => {
    let partitions = partitionsByTopic.get(topic);
    if (partitions === undefined) {
      partitions = await store.partitionsOf(topic);
      if (partitions === undefined) {
        await store.ensureTopic(topic, options.partitions);
        partitions = (await store.partitionsOf(topic))!;
      }
      partitionsByTopic.set(topic, partitions);
    }
    return partitions;
  };

  return {
    kind: 'embedded',
    async connect() {
      await options.database.knex.raw('select 1');
    },
    async ensureTopics(topics) {
      for (const topic of topics) await partitionsOf(topic);
    },
    async ensureSubscription() {
      // A group without committed offsets starts at offset 0: it already sees everything.
    },
    async publish(topic: string, messages: readonly OutgoingMessage[]) {
      if (messages.length === 0) return;
      await store.append(topic, await partitionsOf(topic), messages);
    },
    async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer> {
      const consumer = new EmbeddedConsumer(spec, handler, {
        database: options.database,
        store,
        partitions: await partitionsOf(spec.topic),
        logger: options.logger,
        leaseMs: options.leaseMs ?? 10_000,
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
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
    backlog: (topic, group) => store.backlog(group, topic),
    async close() {
      await Promise.all([...consumers].map((c) => c.stop(0)));
    },
  };
}
