import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  PublishCoalescer,
  type ConsumeSpec,
  type DeliveryHandler,
  type OutgoingMessage,
  type Transport,
  type TransportConsumer,
} from '../../../core/broker/index.js';
import type { Logger } from '../../../core/logger.js';
import type { Database } from '../../db/index.js';
import { EmbeddedConsumer } from './consumer.js';
import { LogStore } from './log-store.js';

export interface EmbeddedTransportOptions {
  /** Where the log lives. Owned by the caller: `close()` does not close it. */
  database: Database;
  /** Partitions of topics this transport creates (an existing topic keeps its own count). */
  partitions: number;
  logger: Logger;
  /**
   * This process's identity in consumer groups (lease owner). Default: `<hostname>-<pid>-<random>`.
   * A stable id lets a restarted process take its own partitions back at once instead of waiting for
   * its old leases to expire; two LIVE transports must never share one.
   */
  memberId?: string;
  /** A member that stops renewing loses its partitions after this long (default 10 s). */
  leaseMs?: number;
  /** Fallback poll (default 1 s); consumers normally wake on NOTIFY when a publish commits. */
  pollIntervalMs?: number;
  /**
   * Concurrent publishes to one topic are appended in one transaction (see `coalescerFor` below): at most
   * this many messages per append. A single publish with more still goes, alone. Default 1 000.
   */
  publishBatchMaxMessages?: number;
}

/** Bytes of one coalesced append (one INSERT): far below anything PostgreSQL minds. */
const PUBLISH_BATCH_MAX_BYTES = 8 * 1024 * 1024;

/** SQLSTATE class 22, "data exception": the statement's data was refused (PostgreSQL and PGlite). */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/**
 * The embedded durable log: topics are partitioned tables in the platform's own PostgreSQL or PGlite
 * (see docs/decisions/0006-embedded-broker.md).
 */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): Transport {
  const store = new LogStore(options.database.knex);
  const partitionsByTopic = new Map<string, number>();
  const consumers = new Set<EmbeddedConsumer>();
  const memberId = options.memberId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const logger = options.logger.child({ component: 'embedded-broker', member: memberId });
  if (!Number.isInteger(options.partitions) || options.partitions < 1)
    throw new Error('embedded broker: partitions must be an integer >= 1');

  const publishBatchMaxMessages = options.publishBatchMaxMessages ?? 1_000;
  const coalescers = new Map<string, PublishCoalescer>();
  /**
   * One append in flight per topic; publishes arriving meanwhile go together in the next one (one
   * transaction, one INSERT). Offsets still follow commit order (the append locks the partitions'
   * counters until it commits), and one key's messages keep publish-call order, since appends of a
   * topic run one after another in submission order. An append that failed wrote nothing (one
   * transaction); when the database refused the data itself (a key with a NUL byte, say), each publish
   * is appended again alone, so one bad message does not fail the callers it shared an append with.
   */
  const coalescerFor = (topic: string, partitions: number): PublishCoalescer => {
    let coalescer = coalescers.get(topic);
    if (!coalescer) {
      coalescer = new PublishCoalescer(
        (batch) =>
          store.append(
            topic,
            partitions,
            batch.length === 1 ? batch[0]!.messages : batch.flatMap((publish) => publish.messages),
          ),
        {
          maxMessages: publishBatchMaxMessages,
          maxBytes: PUBLISH_BATCH_MAX_BYTES,
          isolateFailure: isDataException,
        },
      );
      coalescers.set(topic, coalescer);
    }
    return coalescer;
  };

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

  /**
   * Lease owner id of a new consumer: `memberId`, or `memberId#2`, `#3`... when this transport already
   * runs a consumer of the same group and topic (each consumer is a member of its own).
   */
  const ownerFor = (spec: ConsumeSpec): string => {
    const taken = new Set(
      [...consumers].filter((c) => c.group === spec.group && c.topic === spec.topic).map((c) => c.memberId),
    );
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? memberId : `${memberId}#${n}`;
      if (!taken.has(candidate)) return candidate;
    }
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
      await coalescerFor(topic, await partitionsOf(topic)).submit(topic, messages).done;
    },
    async consume(spec: ConsumeSpec, handler: DeliveryHandler): Promise<TransportConsumer> {
      const partitions = await partitionsOf(spec.topic);
      const consumer = new EmbeddedConsumer(spec, handler, {
        database: options.database,
        store,
        partitions,
        logger,
        memberId: ownerFor(spec),
        leaseMs: options.leaseMs ?? 10_000,
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
      });
      consumers.add(consumer);
      try {
        await consumer.start();
      } catch (error) {
        await consumer.stop(0).catch(() => undefined);
        consumers.delete(consumer);
        throw error;
      }
      return {
        stop: async (timeoutMs) => {
          await consumer.stop(timeoutMs);
          consumers.delete(consumer);
        },
      };
    },
    backlog: (topic, group) => store.backlog(group, topic),
    async close() {
      // Consumers should have been stopped already; stop any left without waiting for their handlers.
      await Promise.all([...consumers].map((c) => c.stop(0)));
      consumers.clear();
    },
  };
}
